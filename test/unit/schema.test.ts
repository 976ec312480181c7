import * as fs from 'node:fs';
import * as path from 'node:path';
import { crdFiles, LAST_APPLIED_ANNOTATION_CAP } from '../../lib/schema/crd-files';
import { customResourceDefinitions } from '../../lib/schema/crds';
import { renderTypes } from '../../lib/schema/ts-types';
import { crdProblems, dropNulls } from '../../lib/validation/crd-schema';
import { loadYaml, ROOT } from '../support/yaml';

type Json = Record<string, any>;
const crds = customResourceDefinitions() as unknown as Json[];
const crdOf = (kind: string): Json => crds.find((c) => c.spec.names.kind === kind) as Json;
const schemaOf = (kind: string): Json => crdOf(kind).spec.versions[0].schema.openAPIV3Schema;
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe('generated files are up to date (one source of truth: lib/schema)', () => {
  test.each(crdFiles().map((f) => [f.file, f]))('crds/%s matches lib/schema', (file, f) => {
    expect(fs.readFileSync(path.join(ROOT, 'crds', file), 'utf8')).toBe(f.yaml);
  });
  test('lib/schema/generated/types.ts matches lib/schema', () => {
    expect(fs.readFileSync(path.join(ROOT, 'lib/schema/generated/types.ts'), 'utf8')).toBe(renderTypes());
  });
  test('every CRD fits kubectl client-side apply (last-applied annotation cap)', () => {
    for (const f of crdFiles()) expect(f.applyBytes).toBeLessThan(LAST_APPLIED_ANNOTATION_CAP);
  });
});

describe('wire compatibility with the upstream CRDs', () => {
  test('group, version, scope, names and short names', () => {
    const names = crds.map((c) => ({ name: c.metadata.name, ...c.spec.names, scope: c.spec.scope, group: c.spec.group, versions: c.spec.versions.map((v: Json) => [v.name, v.served, v.storage]) }));
    expect(names).toEqual([
      { name: 'daskclusters.kubernetes.dask.org', kind: 'DaskCluster', plural: 'daskclusters', singular: 'daskcluster', shortNames: ['daskcluster', 'dsk'], scope: 'Namespaced', group: 'kubernetes.dask.org', versions: [['v1', true, true]] },
      { name: 'daskworkergroups.kubernetes.dask.org', kind: 'DaskWorkerGroup', plural: 'daskworkergroups', singular: 'daskworkergroup', shortNames: ['daskworkers'], scope: 'Namespaced', group: 'kubernetes.dask.org', versions: [['v1', true, true]] },
      { name: 'daskautoscalers.kubernetes.dask.org', kind: 'DaskAutoscaler', plural: 'daskautoscalers', singular: 'daskautoscaler', scope: 'Namespaced', group: 'kubernetes.dask.org', versions: [['v1', true, true]] },
      { name: 'daskjobs.kubernetes.dask.org', kind: 'DaskJob', plural: 'daskjobs', singular: 'daskjob', shortNames: ['djb'], scope: 'Namespaced', group: 'kubernetes.dask.org', versions: [['v1', true, true]] },
    ]);
  });

  test('printer columns include the upstream ones', () => {
    const cols = (kind: string) => crdOf(kind).spec.versions[0].additionalPrinterColumns.map((c: Json) => `${c.name}=${c.jsonPath}`);
    expect(cols('DaskCluster')).toEqual(expect.arrayContaining(['Workers=.spec.worker.replicas', 'Status=.status.phase', 'Age=.metadata.creationTimestamp']));
    expect(cols('DaskWorkerGroup')).toEqual(expect.arrayContaining(['Workers=.spec.worker.replicas', 'Age=.metadata.creationTimestamp']));
    expect(cols('DaskAutoscaler')).toEqual(expect.arrayContaining(['Cluster=.spec.cluster', 'Minimum=.spec.minimum', 'Maximum=.spec.maximum']));
    expect(cols('DaskJob')).toEqual(expect.arrayContaining(['Status=.status.jobStatus', 'Number Of Workers=.spec.cluster.spec.worker.replicas']));
  });

  test('status subresource on all four; scale (with label selector) on DaskCluster and DaskWorkerGroup', () => {
    for (const c of crds) expect(c.spec.versions[0].subresources.status).toEqual({});
    for (const kind of ['DaskCluster', 'DaskWorkerGroup']) {
      expect(crdOf(kind).spec.versions[0].subresources.scale).toEqual({ specReplicasPath: '.spec.worker.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' });
    }
    expect(crdOf('DaskAutoscaler').spec.versions[0].subresources.scale).toBeUndefined();
  });

  test('required fields and defaults as upstream', () => {
    const cluster = schemaOf('DaskCluster').properties.spec;
    expect(cluster.required).toEqual(['scheduler', 'worker']);
    expect(cluster.properties.idleTimeout.default).toBe(0);
    expect(cluster.properties.scheduler.required).toEqual(['spec', 'service']);
    expect(cluster.properties.worker.required).toEqual(['spec']);
    expect(cluster.properties.worker.properties.replicas.default).toBe(1);
    expect(cluster.properties.worker.properties.spec.required).toEqual(['containers']);
    const pod = cluster.properties.worker.properties.spec.properties;
    expect(pod.containers.items.properties.ports.items.properties.protocol.default).toBe('TCP');
    expect(pod.initContainers.items.properties.ports.items.properties.protocol.default).toBe('TCP');
    expect(cluster.properties.scheduler.properties.service.properties.ports.items.properties.protocol.default).toBe('TCP');
    expect(schemaOf('DaskWorkerGroup').properties.spec.required).toEqual(['cluster', 'worker']);
    expect(schemaOf('DaskAutoscaler').properties.spec.required).toEqual(['cluster', 'minimum', 'maximum']);
    const job = schemaOf('DaskJob').properties.spec;
    expect(job.required).toEqual(['cluster', 'job']);
    expect(job.properties.job.properties.spec.properties.restartPolicy.default).toBe('OnFailure');
  });

  test('embedded PodSpec is current (fields newer than upstream\'s 1.21 are kept, not pruned)', () => {
    const pod = schemaOf('DaskCluster').properties.spec.properties.worker.properties.spec.properties;
    for (const field of ['os', 'hostUsers', 'schedulingGates', 'resourceClaims']) expect(pod[field]).toBeDefined();
    expect(pod.containers.items.properties.resizePolicy).toBeDefined();
    expect(pod.initContainers.items.properties.restartPolicy).toBeDefined();
  });

  test('no x-kubernetes-preserve-unknown-fields except the ephemeralContainers escape', () => {
    const text = JSON.stringify(crds);
    const count = (text.match(/x-kubernetes-preserve-unknown-fields/g) ?? []).length;
    // one per embedded PodSpec: cluster (2), worker group (1), job (3)
    expect(count).toBe(6);
  });
});

describe('objects the upstream CRDs accept are accepted', () => {
  test('the seed\'s DaskCluster and DaskAutoscaler YAML', () => {
    for (const doc of [...loadYaml('test/fixtures/seed/my-cluster.yaml'), ...loadYaml('test/fixtures/seed/autoscaler.yaml')]) {
      // the API server prunes nulls of non-nullable fields (resources: null) before validating
      expect(crdProblems(dropNulls(doc))).toEqual([]);
    }
  });
  test('int-or-string fields written as ints or strings, and other upstream-valid shapes', () => {
    const docs = loadYaml('test/fixtures/compat/int-or-string.yaml');
    expect(docs).toHaveLength(3);
    for (const doc of docs) expect(crdProblems(doc)).toEqual([]);
  });
});

describe('validation rejects what cannot work, with a readable message', () => {
  const seed = dropNulls(loadYaml('test/fixtures/seed/my-cluster.yaml')[0]) as Json;
  const autoscaler = loadYaml('test/fixtures/seed/autoscaler.yaml')[0] as Json;

  test('negative replicas', () => {
    const bad = clone(seed);
    bad.spec.worker.replicas = -1;
    expect(crdProblems(bad)).toEqual(['spec.worker.replicas: must be >= 0']);
  });
  test('minimum > maximum (CEL rule, restated)', () => {
    const bad = clone(autoscaler);
    bad.spec.minimum = 10;
    bad.spec.maximum = 2;
    expect(crdProblems(bad)).toEqual(['spec: minimum (10) must be less than or equal to maximum (2)']);
    expect(schemaOf('DaskAutoscaler').properties.spec['x-kubernetes-validations']).toEqual([{ rule: 'self.minimum <= self.maximum', message: 'minimum must be less than or equal to maximum', fieldPath: '.minimum', reason: 'FieldValueInvalid' }]);
  });
  test('every CEL rule names the field it rejects (fieldPath) and a reason, so the API server never prints <nil>', () => {
    const rules: Json[] = [];
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node as Json)) {
        if (k === 'x-kubernetes-validations') rules.push(...(v as Json[]));
        else walk(v);
      }
    };
    for (const kind of ['DaskCluster', 'DaskWorkerGroup', 'DaskAutoscaler', 'DaskJob']) walk(schemaOf(kind));
    expect(rules.length).toBeGreaterThanOrEqual(6);
    for (const r of rules) expect(r).toMatchObject({ fieldPath: expect.stringMatching(/^\./), reason: 'FieldValueInvalid' });
    // The API server checks fieldPath against the schema: metadata.name must be declared where a rule points at it.
    expect(schemaOf('DaskCluster').properties.metadata).toEqual({ type: 'object', properties: { name: { type: 'string' } } });
  });
  test('cluster name longer than 53 or not RFC 1123', () => {
    const long = clone(seed);
    long.metadata.name = 'a'.repeat(54);
    expect(crdProblems(long)[0]).toMatch(/is 54 characters long; a Dask cluster name may have at most 53/);
    const dotted = clone(seed);
    dotted.metadata.name = 'my.cluster';
    expect(crdProblems(dotted)[0]).toMatch(/not an RFC 1123 label/);
    const rules = schemaOf('DaskCluster')['x-kubernetes-validations'].map((r: Json) => r.rule);
    expect(rules).toEqual(["self.metadata.name.size() <= 53", "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')"]);
  });
  test('a typo in a pod field is reported, not silently pruned', () => {
    const bad = clone(seed);
    bad.spec.worker.spec.containers[0].imagePullPolcy = 'Always';
    expect(crdProblems(bad)).toEqual(['spec.worker.spec.containers.0: unknown field "imagePullPolcy" (the API server would drop it)']);
  });
  test('a malformed quantity', () => {
    const bad = clone(seed);
    bad.spec.worker.spec.containers[0].resources = { limits: { memory: '16 GB' } };
    expect(crdProblems(bad)[0]).toMatch(/^spec.worker.spec.containers.0.resources.limits.memory: must match pattern/);
  });
});
