import './helpers.ts';
import { unwrap } from 'idb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  addRun,
  countRuns,
  exportHistory,
  getRun,
  importHistory,
  putTrace,
  putUserRig,
  StorageFullError,
  type History,
} from '../../src/history/index.ts';
import { fresh, rigB, sampleRun, traceSteps } from './helpers.ts';

const now = new Date('2026-11-22T12:00:00.000Z');
const quota = (): DOMException => new DOMException('The quota has been exceeded.', 'QuotaExceededError');

/**
 * Makes fake-indexeddb's record store fail like a full disk: the write
 * request fails with QuotaExceededError and the transaction aborts with it, as
 * a browser does. `after` writes succeed first. The rollback of an abort
 * puts back what the transaction deleted through the same call (without a
 * rollback log): that is not a new write, and it does not fail.
 */
function fillDiskAfter(h: History, after: number): void {
  const raw = (unwrap(h.db.transaction('runs').store) as unknown as { _rawObjectStore: object })._rawObjectStore;
  const proto = Object.getPrototypeOf(raw) as { storeRecord: (...a: unknown[]) => unknown };
  const original = proto.storeRecord;
  let left = after;
  vi.spyOn(proto, 'storeRecord').mockImplementation(function (this: unknown, ...a: unknown[]) {
    if (a[2] !== undefined && left-- <= 0) throw quota();
    return original.apply(this, a);
  });
}

async function withRuns(n: number, seed = 7): Promise<{ h: History; ids: number[] }> {
  const h = await fresh();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(await addRun(h, sampleRun({ createdAt: 1_700_000_000_000 + i, seed }), { trace: traceSteps(3) }));
  return { h, ids };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('storage full', () => {
  it('addRun: a QuotaExceededError becomes StorageFullError with the run count; stored runs are intact', async () => {
    const { h, ids } = await withRuns(3);
    const before = JSON.stringify(await exportHistory(h, { now }));
    fillDiskAfter(h, 0);
    const err = await addRun(h, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as StorageFullError).runCount).toBe(3);
    expect((err as Error).message).toBe('storage is full: 3 runs stored; delete or export some');
    expect(((err as StorageFullError).cause as DOMException).name).toBe('QuotaExceededError');
    vi.restoreAllMocks();
    expect(JSON.stringify(await exportHistory(h, { now }))).toBe(before);
    for (const id of ids) expect(await getRun(h, id)).toBeDefined();
    // Once space is free again, writing works.
    expect(await addRun(h, sampleRun())).toBe(4);
  });

  it('a run whose trace does not fit is not stored either', async () => {
    const { h } = await withRuns(2);
    fillDiskAfter(h, 1);
    await expect(addRun(h, sampleRun(), { trace: traceSteps(100) })).rejects.toBeInstanceOf(StorageFullError);
    vi.restoreAllMocks();
    expect(await countRuns(h)).toBe(2);
  });

  it('putTrace and user rigs report it the same way', async () => {
    const { h, ids } = await withRuns(1);
    fillDiskAfter(h, 0);
    await expect(putTrace(h, ids[0]!, traceSteps(10))).rejects.toBeInstanceOf(StorageFullError);
    await expect(putUserRig(h, { ...rigB, id: 'x' })).rejects.toThrow('storage is full: 1 runs stored; delete or export some');
  });

  it('an import that runs out of space halfway is rolled back completely', async () => {
    const { h: source } = await withRuns(4, 8);
    const text = JSON.stringify(await exportHistory(source, { now }));
    const { h } = await withRuns(2);
    const before = JSON.stringify(await exportHistory(h, { now }));
    // Whichever write fails: the key generator's placeholder (0), moving the generator (1), the chunk (2), its
    // index entry (3), a trace (5).
    for (const after of [0, 1, 2, 3, 5]) {
      fillDiskAfter(h, after);
      const err = await importHistory(h, text).catch((e: unknown) => e);
      expect(err, `after ${after} writes`).toBeInstanceOf(StorageFullError);
      expect((err as StorageFullError).runCount).toBe(2);
      vi.restoreAllMocks();
      expect(JSON.stringify(await exportHistory(h, { now }))).toBe(before);
    }
    // With space again, the same file imports, and a run added after it takes an id after the imported ones.
    expect((await importHistory(h, text)).runs).toMatchObject({ added: 4, renumbered: [{ from: 1, to: 5 }, { from: 2, to: 6 }] });
    expect(await countRuns(h)).toBe(6);
    expect(await addRun(h, sampleRun())).toBe(7);
  });

  it('a QuotaExceededError thrown synchronously by a store wrapper is handled the same way', async () => {
    const { h } = await withRuns(2);
    vi.spyOn(IDBObjectStore.prototype, 'add').mockImplementation(() => {
      throw quota();
    });
    const err = await addRun(h, sampleRun()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as StorageFullError).runCount).toBe(2);
    vi.restoreAllMocks();
    expect(await countRuns(h)).toBe(2);
  });
});
