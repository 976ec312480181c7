/**
 * An invalid DaskCluster name. Our CRD rejects it at apply time (CEL rules on metadata.name); the upstream CRD has no
 * such rule, so the operator also handles an invalid name that got stored: phase Error, a Warning Event InvalidName,
 * and nothing created.
 *
 * To store such an object this file temporarily removes the name rules from the INSTALLED DaskCluster CRD (like the
 * upstream CRD) and restores crds/ afterwards. Concurrency with other test files (Jest may run files in parallel
 * workers on the one shared cluster):
 *  - no other integration test relies on the name rule (they use valid names only), so its absence is harmless;
 *  - another file re-applying crds/ (smoke.test.ts) may restore the rule at any moment, so the create below re-patches
 *    and retries until the invalid object is stored; once stored, the rule no longer matters to this test;
 *  - a CRD update makes the API server close watches on DaskClusters; the operators of other files must (and do)
 *    re-list and carry on.
 * The CRD is restored with `kubectl replace` from crds/ in afterAll, whatever happened.
 */
import * as path from 'node:path';
import { REPO_ROOT } from './support/cluster';
import { eventually, kubectl, kubectlJson, withNamespace } from './support';
import { condition, events, getObj, listObjs, seedCluster, withOperator } from './support/dask';

jest.setTimeout(120_000);

const ns = withNamespace('op-invalid');
const op = withOperator(ns);
const CRD = 'daskclusters.kubernetes.dask.org';
const CRD_FILE = path.join(REPO_ROOT, 'crds', 'kubernetes.dask.org_daskclusters.yaml');
const RULES_PATH = '/spec/versions/0/schema/openAPIV3Schema/x-kubernetes-validations';
const DOTTED = 'my.cluster';
const LONG = `c${'x'.repeat(58)}`; // 59 characters: a valid RFC 1123 label, too long for "<name>-scheduler"
let patched = false;

async function dropNameRules(): Promise<void> {
  const crd = await kubectlJson<{ spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } }>(['get', 'crd', CRD, '-o', 'json']);
  patched = true;
  if (!crd.spec.versions[0].schema.openAPIV3Schema['x-kubernetes-validations']) return;
  await kubectl(['patch', 'crd', CRD, '--type=json', '-p', JSON.stringify([{ op: 'remove', path: RULES_PATH }])]);
}

afterAll(async () => {
  for (const name of [DOTTED, LONG]) await kubectl(['delete', '-n', ns.name, 'daskcluster', name, '--ignore-not-found', '--wait=true'], { allowFailure: true });
  if (patched) await kubectl(['replace', '-f', CRD_FILE]);
});

describe('invalid DaskCluster names', () => {
  op.it('our CRD rejects a name that is not an RFC 1123 label, or is too long, at apply time', async () => {
    const r = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: JSON.stringify(seedCluster({ name: DOTTED })), allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("DaskCluster name must be an RFC 1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit");
    const long = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: JSON.stringify(seedCluster({ name: LONG })), allowFailure: true });
    expect(long.code).not.toBe(0);
    expect(long.stderr).toContain('DaskCluster name must be at most 53 characters');
  });

  op.it('without the CRD rule (as upstream), an invalid name ends in phase Error with a Warning Event and nothing created', async () => {
    for (const name of [DOTTED, LONG]) {
      await eventually(async () => {
        await dropNameRules();
        await kubectl(['create', '-n', ns.name, '-f', '-'], { input: JSON.stringify(seedCluster({ name })) });
      }, { describe: `DaskCluster ${name} to be stored once the name rules are gone`, timeoutMs: 30_000, intervalMs: 500 });
    }
    for (const name of [DOTTED, LONG]) {
      const c = await eventually(() => getObj(ns.name, 'daskcluster', name), {
        describe: `${name} to reach phase Error`,
        until: (o) => o?.status?.phase === 'Error',
      });
      expect(condition(c, 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidName' });
      const evs = await eventually(() => events(ns.name, name), {
        describe: `a Warning Event InvalidName on ${name}`,
        until: (e) => e.some((x) => x.type === 'Warning' && x.reason === 'InvalidName'),
      });
      expect(evs.find((x) => x.reason === 'InvalidName')?.message).toMatch(name === DOTTED ? /not an RFC 1123 label/ : /at most 53/);
    }
    // Nothing was created for either (give the operator a reconcile to get it wrong first: the status write above is
    // its last step, so anything it would create exists by now).
    const children = (await Promise.all(['pods', 'services', 'daskworkergroups'].map((k) => listObjs(ns.name, k)))).flat();
    expect(children.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });
});
