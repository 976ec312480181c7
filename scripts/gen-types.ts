/**
 * Writes lib/schema/generated/types.ts: wire-format TypeScript types for the four kinds (spec and status) and the
 * embedded Kubernetes definitions, generated from lib/schema so the operator's and client's view of an object cannot
 * drift from the CRDs.   npm run gen:types [-- --check]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTypes } from '../lib/schema/ts-types';

const OUT = path.join(__dirname, '..', '..', 'lib', 'schema', 'generated', 'types.ts');
const text = renderTypes();
if (process.argv.includes('--check')) {
  const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  if (current !== text) {
    console.error('lib/schema/generated/types.ts is out of date with lib/schema: run npm run gen');
    process.exit(1);
  }
} else {
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, text);
  console.log(`wrote lib/schema/generated/types.ts (${text.length} bytes)`);
}
