import { OwnWrites } from '../../../operator/dask/own-writes';

const obj = (rv: string, uid = 'u1', extra: object = {}) => ({ metadata: { resourceVersion: rv, uid, managedFields: [{ manager: 'x' }] }, ...extra });

describe('OwnWrites', () => {
  test('while the cache shows the version our write replaced, the written object is used; once it shows ours, the entry is gone', () => {
    const w = new OwnWrites();
    const written = obj('2', 'u1', { status: { phase: 'Created' } });
    w.record('k', obj('1'), written);
    expect(w.current('k', obj('1'))).toMatchObject({ metadata: { resourceVersion: '2' }, status: { phase: 'Created' } });
    expect(w.current('k', obj('2'))).toEqual(obj('2')); // the cache's own copy, not ours
    expect(w.size).toBe(0);
    expect(w.current('k', obj('1'))).toEqual(obj('1')); // dropped: a version seen later is not undone
  });

  test('a chain of our writes the cache has not caught up with: any version in it resolves to the last write', () => {
    const w = new OwnWrites();
    w.record('k', obj('1'), obj('2'));
    w.record('k', obj('2'), obj('3'));
    expect(w.current('k', obj('1')).metadata.resourceVersion).toBe('3');
    expect(w.current('k', obj('2')).metadata.resourceVersion).toBe('3');
  });

  test('a version someone else wrote is never hidden', () => {
    const w = new OwnWrites();
    w.record('k', obj('1'), obj('2'));
    expect(w.current('k', obj('7'))).toEqual(obj('7'));
    expect(w.size).toBe(0);
  });

  test('a write from a version that is not our last starts a new chain (someone else wrote in between)', () => {
    const w = new OwnWrites();
    w.record('k', obj('1'), obj('2'));
    w.record('k', obj('5'), obj('6'));
    expect(w.current('k', obj('1'))).toEqual(obj('1'));
  });

  test('an object deleted and created again under the same name is not confused with ours', () => {
    const w = new OwnWrites();
    w.record('k', obj('1', 'old'), obj('2', 'old'));
    expect(w.current('k', obj('1', 'new'))).toEqual(obj('1', 'new'));
  });

  test('entries expire and are swept by later writes; managedFields are not kept', () => {
    let now = 0;
    const w = new OwnWrites(1000, () => now);
    w.record('a', obj('1'), obj('2'));
    expect(w.current('a', obj('1')).metadata).not.toHaveProperty('managedFields');
    now = 500;
    w.record('b', obj('1'), obj('2'));
    now = 1200;
    expect(w.current('b', obj('1')).metadata.resourceVersion).toBe('2'); // 700 ms old: kept
    w.record('c', obj('1'), obj('2'));
    expect(w.size).toBe(2); // 'a' (1,200 ms old) swept
    now = 1600;
    expect(w.current('b', obj('1')).metadata.resourceVersion).toBe('1'); // expired: the cache again
  });

  test('a write that returns no new version records nothing', () => {
    const w = new OwnWrites();
    w.record('k', obj('1'), obj('1'));
    w.record('k', { metadata: {} }, obj('2'));
    expect(w.size).toBe(0);
  });
});
