#!/usr/bin/env node
// Fills the npm cache with everything test/integration/consumer.test.ts installs, so that test can run
// `npm install --offline` inside its loopback-only network namespace. Runs outside the namespace (hack/test.sh),
// installing each consumer project's registry dependencies (and, for a project that installs one of our
// packages, that package's own dependencies) into a throwaway directory. Fast when the cache is warm.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { consumerProjects, npmCli, packageManifests } = require('./projects');

const started = Date.now();
for (const project of consumerProjects()) {
  const deps = { ...project.dependencies };
  for (const pkg of project.packages) Object.assign(deps, packageManifests()[pkg].dependencies ?? {});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cdk8s-dask-warm-${project.name}-`));
  try {
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'warm', version: '0.0.0', private: true, dependencies: deps }));
    execFileSync(project.node, [npmCli(), 'install', '--prefer-offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PATH: `${path.dirname(project.node)}:${process.env.PATH}`, NODE_OPTIONS: '' },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`    npm cache holds the consumer projects' dependencies (${((Date.now() - started) / 1000).toFixed(1)} s)`);
