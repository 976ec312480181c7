/**
 * FakeLeaseClient: an in-memory LeaseClient with the API server's optimistic concurrency
 * (409 Conflict on a stale resourceVersion, 409 AlreadyExists on a duplicate create).
 * Set `down = true` to make every call fail like an unreachable API server.
 */
import type { Lease, LeaseClient } from '../leader';
import { KubeHttpError } from '../rest';

/** In-memory leases. */
export class FakeLeaseClient implements LeaseClient {
  readonly leases = new Map<string, Lease>();
  down = false;
  calls = 0;
  private rv = 1;

  async get(namespace: string, name: string): Promise<Lease | undefined> {
    this.check('GET');
    const l = this.leases.get(`${namespace}/${name}`);
    return l && structuredClone(l);
  }

  async create(lease: Lease): Promise<Lease> {
    this.check('POST');
    const key = `${lease.metadata.namespace}/${lease.metadata.name}`;
    if (this.leases.has(key)) throw fail(409, 'AlreadyExists', 'POST');
    return this.store(key, lease);
  }

  async replace(lease: Lease): Promise<Lease> {
    this.check('PUT');
    const key = `${lease.metadata.namespace}/${lease.metadata.name}`;
    const cur = this.leases.get(key);
    if (!cur) throw fail(404, 'NotFound', 'PUT');
    if (lease.metadata.resourceVersion !== cur.metadata.resourceVersion) throw fail(409, 'Conflict', 'PUT');
    return this.store(key, lease);
  }

  private store(key: string, lease: Lease): Lease {
    const stored: Lease = { ...structuredClone(lease), metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } };
    this.leases.set(key, stored);
    return structuredClone(stored);
  }

  private check(method: string): void {
    this.calls++;
    if (this.down) throw new KubeHttpError(503, method, '/leases', '', { kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
  }
}

function fail(code: number, reason: string, method: string): KubeHttpError {
  return new KubeHttpError(code, method, '/leases', '', { kind: 'Status', code, reason, message: reason });
}
