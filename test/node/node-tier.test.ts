/**
 * Smoke test of the node tier (one real node: containerd + runc, CNI bridge, kubelet, kube-proxy, CoreDNS):
 * nodes, a real Pod, kubectl logs/exec/port-forward, a Service's ClusterIP and its DNS name from inside a Pod.
 */
import { spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { eventually, kubectl, kubectlJson, testCluster, withNamespace } from '../integration/support';
import { FAKE_NODE_NAME } from '../integration/support/cluster';
import { FAKE_NODE_TAINT } from '../integration/support/node-tier';
import { NODE_IP, PAUSE_IMAGE, REAL_NODE_NAME } from '../integration/support/real-node-config';
import { describeOnNode } from './support/skip';

interface Condition {
  type: string;
  status: string;
}
interface Node {
  metadata: { name: string };
  spec?: { taints?: { key: string; value?: string; effect: string }[] };
  status: { conditions: Condition[]; addresses: { type: string; address: string }[]; nodeInfo: { containerRuntimeVersion: string; kubeletVersion: string } };
}
interface Pod {
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
    containerStatuses?: { containerID?: string; ready: boolean; state: Record<string, unknown> }[];
  };
}

/** The Dask image the node imported (hack/images/build.sh lists ghcr.io/dask/dask:<pinned version> and :latest). */
function daskImage(): string {
  const images = (testCluster().node?.images ?? []).map((i) => i.ref);
  const image = images.find((i) => i.startsWith('ghcr.io/dask/dask:') && !i.endsWith(':latest'));
  if (!image) {
    throw new Error(`the node imported no ghcr.io/dask/dask image (it has: ${images.join(', ')}); ` +
      'unset CDK8S_DASK_NODE_IMAGES or include "dask" in it');
  }
  return image;
}

function isIn24(ip: string | undefined, cidrBase: string): boolean {
  return ip !== undefined && ip.split('.').slice(0, 3).join('.') === cidrBase.split('.').slice(0, 3).join('.');
}

async function waitReady(ns: string, name: string, timeoutMs = 90_000): Promise<Pod> {
  return eventually(
    async () => {
      const pod = await kubectlJson<Pod>(['-n', ns, 'get', 'pod', name, '-o', 'json']);
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      return pod;
    },
    { describe: `pod ${ns}/${name} Ready`, timeoutMs, intervalMs: 500 },
  );
}

function podYaml(ns: string, name: string, image: string, command: string[] | undefined, extra = ''): string {
  return [
    'apiVersion: v1',
    'kind: Pod',
    `metadata: {name: ${name}, namespace: ${ns}, labels: {app: ${name}}}`,
    'spec:',
    '  terminationGracePeriodSeconds: 1',
    '  containers:',
    `  - name: main`,
    `    image: ${image}`,
    // Imported images cannot be pulled (no registry): never try.
    '    imagePullPolicy: Never',
    ...(command ? [`    command: ${JSON.stringify(command)}`] : []),
    extra,
    '',
  ].join('\n');
}

/** `kubectl port-forward` to `target` on a free local port; resolves with the port and a stop function. */
function portForward(ns: string, target: string, remotePort: number): Promise<{ port: number; stop: () => void }> {
  const c = testCluster();
  const child = spawn(path.join(c.binDir, 'kubectl'), ['--kubeconfig', c.kubeconfig, '-n', ns, 'port-forward', target, `:${remotePort}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`kubectl port-forward ${target} printed no "Forwarding from" line in 30 s:\n${output}`));
    }, 30_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), stop: () => child.kill('SIGTERM') });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ${target} exited ${code}:\n${output}`));
    });
  });
}

function httpGetLocal(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// A web server in the Dask image: one line on stdout, then Python's http.server on port 8000.
const WEB_COMMAND = ['/bin/sh', '-c', 'echo hello-from-the-real-node; exec python -u -m http.server 8000 --directory /tmp'];
const WEB_PROBE = [
  '    ports: [{containerPort: 8000}]',
  // Python start-up on two busy cores can take seconds: a generous probe timeout.
  '    readinessProbe: {tcpSocket: {port: 8000}, periodSeconds: 1, timeoutSeconds: 5}',
].join('\n');

// Jest's default per-test timeout is 5 s; these wait on a real node.
jest.setTimeout(180_000);

describeOnNode('node tier', () => {
  const ns = withNamespace('node-tier');

  it('has two Ready nodes: the real one on containerd, and kwok\'s fake one, tainted so that Pods avoid it', async () => {
    const nodes = await kubectlJson<{ items: Node[] }>(['get', 'nodes', '-o', 'json']);
    const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
    expect([...byName.keys()].sort()).toEqual([FAKE_NODE_NAME, REAL_NODE_NAME].sort());
    for (const n of nodes.items) expect(n.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    const real = byName.get(REAL_NODE_NAME)!;
    expect(real.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    expect(real.status.nodeInfo.kubeletVersion).toBe('v1.36.3');
    expect(real.status.addresses).toContainEqual({ type: 'InternalIP', address: NODE_IP });
    expect(byName.get(FAKE_NODE_NAME)!.spec?.taints).toContainEqual(FAKE_NODE_TAINT);
  });

  it('runs a Pod on the real node, with an IP from the bridge\'s /24 and a containerd container', async () => {
    await kubectl(['apply', '-f', '-'], { input: podYaml(ns.name, 'pause', PAUSE_IMAGE, undefined) });
    const pod = await waitReady(ns.name, 'pause');
    expect(pod.spec.nodeName).toBe(REAL_NODE_NAME);
    expect(pod.status.phase).toBe('Running');
    expect(isIn24(pod.status.podIP, NODE_IP)).toBe(true);
    expect(pod.status.podIP).not.toBe(NODE_IP);
    expect(pod.status.containerStatuses?.[0].containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(pod.status.containerStatuses?.[0].state).toHaveProperty('running');
  });

  it('kubectl logs, exec and port-forward reach a real container', async () => {
    await kubectl(['apply', '-f', '-'], { input: podYaml(ns.name, 'web', daskImage(), WEB_COMMAND, WEB_PROBE) });
    await waitReady(ns.name, 'web');

    const logs = await eventually(() => kubectl(['-n', ns.name, 'logs', 'web']), {
      describe: 'the web Pod\'s first log line',
      until: (r) => r.stdout.includes('hello-from-the-real-node'),
    });
    expect(logs.stdout).toContain('hello-from-the-real-node');

    const exec = await kubectl(['-n', ns.name, 'exec', 'web', '--', 'python', '-c', 'import os; print(6 * 7, os.getpid())']);
    expect(exec.stdout.trim()).toMatch(/^42 \d+$/);

    const fwd = await portForward(ns.name, 'pod/web', 8000);
    try {
      const r = await httpGetLocal(fwd.port, '/');
      expect(r.status).toBe(200);
      expect(r.body).toContain('Directory listing');
    } finally {
      fwd.stop();
    }
  });

  it('a Pod resolves a Service through CoreDNS and reaches its ClusterIP; any other name is NXDOMAIN', async () => {
    await kubectl(['apply', '-f', '-'], {
      input: [
        'apiVersion: v1',
        'kind: Service',
        `metadata: {name: web, namespace: ${ns.name}}`,
        'spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8000}]}',
        '',
      ].join('\n'),
    });
    if ((await kubectl(['-n', ns.name, 'get', 'pod', 'web'], { allowFailure: true })).code !== 0) {
      await kubectl(['apply', '-f', '-'], { input: podYaml(ns.name, 'web', daskImage(), WEB_COMMAND, WEB_PROBE) });
    }
    await waitReady(ns.name, 'web');
    await kubectl(['apply', '-f', '-'], {
      input: podYaml(ns.name, 'client', daskImage(), ['python', '-c', 'import time; time.sleep(100000)']),
    });
    await waitReady(ns.name, 'client');
    const svc = await kubectlJson<{ spec: { clusterIP: string } }>(['-n', ns.name, 'get', 'service', 'web', '-o', 'json']);

    const script = [
      'import json, socket, urllib.request',
      'out = {"resolv": open("/etc/resolv.conf").read()}',
      `out["fqdn"] = socket.gethostbyname("web.${ns.name}.svc.cluster.local")`,
      'out["short"] = socket.gethostbyname("web")',
      'out["status"] = urllib.request.urlopen("http://web/", timeout=10).status',
      'try:',
      '    out["external"] = socket.gethostbyname("example.com")',
      'except socket.gaierror as e:',
      '    out["external"] = "gaierror %d" % e.errno',
      'out["noname"] = socket.EAI_NONAME',
      'print(json.dumps(out))',
    ].join('\n');
    // The Service's EndpointSlice and kube-proxy's rules follow the Pod's readiness within a moment.
    const result = await eventually(
      async () => {
        const r = await kubectl(['-n', ns.name, 'exec', 'client', '--', 'python', '-c', script]);
        return JSON.parse(r.stdout.trim()) as { resolv: string; fqdn: string; short: string; status: number; external: string; noname: number };
      },
      { describe: 'DNS + ClusterIP from the client Pod', timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(result.resolv).toContain(`nameserver ${NODE_IP}`);
    expect(result.resolv).toContain(`search ${ns.name}.svc.cluster.local svc.cluster.local cluster.local`);
    expect(result.fqdn).toBe(svc.spec.clusterIP);
    expect(result.short).toBe(svc.spec.clusterIP);
    expect(result.status).toBe(200);
    // NXDOMAIN (EAI_NONAME), not a timeout (EAI_AGAIN): CoreDNS answers for every other name and never forwards.
    expect(result.external).toBe(`gaierror ${result.noname}`);
  });
});
