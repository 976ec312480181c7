#!/usr/bin/env node
// Runs a TypeScript benchmark (bench/<name>.ts) by transpiling it in memory with the project's typescript.
'use strict';
const fs = require('node:fs');
const ts = require('typescript');
require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true },
  });
  module._compile(outputText, filename);
};
require(`./${process.argv[2] || 'scale-up'}.ts`);
