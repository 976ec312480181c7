/**
 * Writes crds/kubernetes.dask.org_<plural>.yaml from lib/schema (the single source of truth).
 *   npm run gen:crds            write the files
 *   npm run gen:crds -- --check fail (exit 1) if the committed files differ from what lib/schema produces
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crdFiles } from '../lib/schema/crd-files';

const CRDS_DIR = path.join(__dirname, '..', '..', 'crds');
const check = process.argv.includes('--check');
let drift = 0;
for (const { file, yaml, applyBytes } of crdFiles()) {
  const target = path.join(CRDS_DIR, file);
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
  if (check) {
    if (current !== yaml) {
      console.error(`crds/${file} is out of date with lib/schema: run npm run gen`);
      drift++;
    }
  } else {
    fs.mkdirSync(CRDS_DIR, { recursive: true });
    fs.writeFileSync(target, yaml);
    console.log(`crds/${file}: ${yaml.length} bytes of YAML, ${applyBytes} bytes as kubectl's last-applied annotation (cap 262144)`);
  }
}
process.exit(drift > 0 ? 1 : 0);
