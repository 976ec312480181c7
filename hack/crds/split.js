// node split.js FILE OUTDIR [CRD-NAME]: writes each CustomResourceDefinition of FILE (or only CRD-NAME) to
// OUTDIR/<group>_<plural>.yaml, unchanged apart from the document split. Used by hack/crds/fetch.sh.
const fs = require('node:fs');
const path = require('node:path');
const { parseAllDocuments } = require('yaml');

const [file, outdir, only] = process.argv.slice(2);
let written = 0;
for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
  const crd = doc.toJS();
  if (!crd || crd.kind !== 'CustomResourceDefinition') continue;
  if (only && crd.metadata.name !== only) continue;
  const out = path.join(outdir, `${crd.spec.group}_${crd.spec.names.plural}.yaml`);
  fs.writeFileSync(out, doc.toString());
  written++;
}
if (written === 0) {
  console.error(`no CustomResourceDefinition${only ? ` ${only}` : ''} in ${file}`);
  process.exit(1);
}
