#!/usr/bin/env node
// Writes lib/API.md (the constructs' API reference, as Construct Hub renders it) from lib/.jsii with jsii-docgen.
//   node scripts/gen-api-md.js [--check]     (run `npm run build -w lib` first: it writes lib/.jsii)
// jsii-docgen's CLI looks for dependency assemblies (cdk8s, constructs) in lib/node_modules; with npm workspaces
// they are hoisted to the root, so the type system is loaded from there.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Documentation, Language } = require('jsii-docgen');

async function main() {
  const root = path.join(__dirname, '..');
  const out = path.join(root, 'lib', 'API.md');
  const docs = await Documentation.forAssembly('cdk8s-dask', path.join(root, 'node_modules'));
  const md = (await docs.toMarkdown({ language: Language.TYPESCRIPT, readme: false })).render();
  if (process.argv.includes('--check')) {
    if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== md) {
      console.error('lib/API.md is out of date with lib/: run npm run gen:api');
      process.exit(1);
    }
    return;
  }
  fs.writeFileSync(out, md);
  console.log(`wrote lib/API.md (${md.length} bytes)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
