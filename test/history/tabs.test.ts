import './helpers.ts';
import { forceCloseDatabase } from 'fake-indexeddb';
import { deleteDB, unwrap } from 'idb';
import { describe, expect, it, vi } from 'vitest';
import {
  addRun,
  closeHistory,
  countRuns,
  getRun,
  HistoryClosedError,
  openHistory,
  UPGRADES,
} from '../../src/history/index.ts';
import { dbName, sampleRun } from './helpers.ts';

/** The schema of a newer Racebox: one step more than this one's. */
const newer = [...UPGRADES, () => {}];

describe('two tabs', () => {
  it('an upgrade in another tab closes this handle, which reports that a reload is needed', async () => {
    const name = dbName();
    const onVersionChange = vi.fn();
    const a = await openHistory({ name, onVersionChange });
    const id = await addRun(a, sampleRun());
    const onBlocked = vi.fn();
    const b = await openHistory({ name, upgrades: newer, onBlocked });
    expect(b.db.version).toBe(UPGRADES.length + 1);
    expect(onBlocked).not.toHaveBeenCalled();
    expect(onVersionChange).toHaveBeenCalledTimes(1);
    expect(a.closed).toBe('versionchange');
    const err = await getRun(a, id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryClosedError);
    expect((err as HistoryClosedError).reason).toBe('versionchange');
    expect((err as Error).message).toMatch(/reload this page/);
    await expect(addRun(a, sampleRun())).rejects.toBeInstanceOf(HistoryClosedError);
    expect(await getRun(b, id)).toBeDefined();
    expect(await countRuns(b)).toBe(1);
    closeHistory(b);
  });

  it('an upgrade blocked by a tab that does not close reports onBlocked and completes once it closes', async () => {
    const name = dbName();
    closeHistory(await openHistory({ name }));
    // An old tab whose code ignores versionchange.
    const old = await new Promise<IDBDatabase>((resolve) => {
      const r = indexedDB.open(name, UPGRADES.length);
      r.onsuccess = () => resolve(r.result);
    });
    let blocked!: () => void;
    const wasBlocked = new Promise<void>((r) => (blocked = r));
    const opening = openHistory({ name, upgrades: newer, onBlocked: () => blocked() });
    await wasBlocked;
    old.close();
    const b = await opening;
    expect(b.db.version).toBe(UPGRADES.length + 1);
    closeHistory(b);
  });

  it('deleting the database from another tab closes this handle too', async () => {
    const name = dbName();
    const onVersionChange = vi.fn();
    const a = await openHistory({ name, onVersionChange });
    await deleteDB(name);
    expect(onVersionChange).toHaveBeenCalledTimes(1);
    await expect(countRuns(a)).rejects.toBeInstanceOf(HistoryClosedError);
  });

  it('a connection terminated by the browser is reported and refuses further calls', async () => {
    const onTerminated = vi.fn();
    const h = await openHistory({ name: dbName(), onTerminated });
    forceCloseDatabase(unwrap(h.db) as never);
    expect(onTerminated).toHaveBeenCalledTimes(1);
    expect(h.closed).toBe('terminated');
    await expect(countRuns(h)).rejects.toMatchObject({ name: 'HistoryClosedError', reason: 'terminated' });
  });

  it('closeHistory closes the handle', async () => {
    const h = await openHistory({ name: dbName() });
    closeHistory(h);
    await expect(countRuns(h)).rejects.toMatchObject({ name: 'HistoryClosedError', reason: 'closed' });
  });
});
