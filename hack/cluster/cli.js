#!/usr/bin/env node
// Thin launcher for `npm run cluster:up|cluster:down|cluster:exec` (and, inside the node tier's namespaces, its
// internal `node-inner` start): loads the TypeScript cluster module
// (test/integration/support/cluster-cli.ts) by transpiling it in memory with the project's own
// `typescript` package, so no build step or extra dependency is needed. See docs/control-plane.md.
'use strict';
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};

require('../../test/integration/support/cluster-cli').main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[cluster] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
