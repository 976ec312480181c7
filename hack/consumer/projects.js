// The consumer projects (projects.json) with their Node binaries resolved; shared by warm-cache.js and
// test/integration/consumer.test.ts. Only Node built-ins, so both can load it without a build.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

/** The Node binaries: system (Node 20 on our machines) and the repo's pinned Node 24. */
function nodeBinary(which) {
  if (which === 'system') {
    const bin = process.env.CDK8S_DASK_SYSTEM_NODE || '/usr/bin/node';
    if (!fs.existsSync(bin)) throw new Error(`the system Node ${bin} does not exist; set CDK8S_DASK_SYSTEM_NODE to a Node 20 binary`);
    return bin;
  }
  const bin = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(bin)) throw new Error(`the pinned Node ${bin} does not exist; run npm ci`);
  return bin;
}

/** npm's CLI script (run with a chosen node binary, so npm itself runs on that Node). */
function npmCli() {
  const npm = execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  const cli = path.join(path.dirname(fs.realpathSync(npm)), 'npm-cli.js');
  if (!fs.existsSync(cli)) throw new Error(`cannot find npm-cli.js next to ${fs.realpathSync(npm)}`);
  return cli;
}

/** Our packages' manifests, by package name, with the directory `npm pack` runs in. */
function packageManifests() {
  const out = {};
  for (const dir of [ROOT, path.join(ROOT, 'lib')]) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    out[manifest.name] = { ...manifest, dir };
  }
  return out;
}

function consumerProjects() {
  const raw = JSON.parse(fs.readFileSync(path.join(__dirname, 'projects.json'), 'utf8'));
  return Object.entries(raw)
    .filter(([name]) => name !== '//')
    .map(([name, p]) => ({ name, node: nodeBinary(p.node), nodeKind: p.node, packages: p.packages, dependencies: p.dependencies }));
}

module.exports = { ROOT, consumerProjects, nodeBinary, npmCli, packageManifests };
