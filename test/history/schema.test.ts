import './helpers.ts';
import { describe, expect, it, vi } from 'vitest';
import {
  addRun,
  closeHistory,
  DB_VERSION,
  getRun,
  getTrace,
  getUserRig,
  getUserScenario,
  HistoryError,
  HistoryVersionError,
  importHistory,
  listRuns,
  openHistory,
  UPGRADES,
  type StoredRun,
  type UpgradeStep,
} from '../../src/history/index.ts';
import { dbName, rigB, sampleRun, traceSteps } from './helpers.ts';

/**
 * A version-1 database written with the raw IndexedDB API, exactly as v1 of the
 * schema defines it. Frozen: when v2 ships this stays, and the test below
 * keeps proving a v1 history survives the upgrade to the current version.
 */
async function writeV1Fixture(name: string): Promise<StoredRun> {
  const run = { ...sampleRun({ createdAt: 1_700_000_000_000, rig: rigB, outcome: 'bugcheck' }), id: 5 } as StoredRun;
  await new Promise<void>((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      const runs = db.createObjectStore('runs', { keyPath: 'id', autoIncrement: true });
      const t = ['createdAt', 'id'];
      runs.createIndex('byTime', t);
      runs.createIndex('byScenario', ['scenario.id', ...t]);
      runs.createIndex('byRig', ['rig.id', ...t]);
      runs.createIndex('byOutcome', ['outcome', ...t]);
      runs.createIndex('byScenarioRig', ['scenario.id', 'rig.id', ...t]);
      runs.createIndex('byScenarioOutcome', ['scenario.id', 'outcome', ...t]);
      runs.createIndex('byRigOutcome', ['rig.id', 'outcome', ...t]);
      runs.createIndex('byScenarioRigOutcome', ['scenario.id', 'rig.id', 'outcome', ...t]);
      db.createObjectStore('traces', { keyPath: 'runId' });
      db.createObjectStore('userRigs', { keyPath: 'id' });
      db.createObjectStore('userScenarios', { keyPath: 'id' });
    };
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['runs', 'traces', 'userRigs', 'userScenarios'], 'readwrite');
      tx.objectStore('runs').add(run);
      tx.objectStore('traces').add({ runId: 5, steps: traceSteps(4) });
      tx.objectStore('userRigs').add({ ...rigB, id: 'my-up' });
      tx.objectStore('userScenarios').add({ id: 'mine/x', title: 'X', source: 'src', updatedAt: 1 });
      tx.oncomplete = () => {
        db.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
  });
  return run;
}

describe('schema versions', () => {
  it('a v1 database with data opens at the current version with everything in it', async () => {
    const name = dbName();
    const run = await writeV1Fixture(name);
    const h = await openHistory({ name });
    expect(h.version).toBe(DB_VERSION);
    expect(h.db.version).toBe(DB_VERSION);
    expect(await getRun(h, 5)).toEqual(run);
    expect(await getTrace(h, 5)).toEqual(traceSteps(4));
    expect((await getUserRig(h, 'my-up'))!.hal).toBe('up');
    expect((await getUserScenario(h, 'mine/x'))!.source).toBe('src');
    expect((await listRuns(h, { rig: rigB.id, outcome: 'bugcheck', limit: 5 })).runs.map((r) => r.id)).toEqual([5]);
    expect(await addRun(h, sampleRun())).toBe(6);
    // v2 stores imports in chunks: the upgraded history takes one, and lists it with the v1 runs.
    expect([...h.db.objectStoreNames]).toEqual(expect.arrayContaining(['runChunks', 'runChunkIndex']));
    const file = {
      format: 'racebox-history', version: 1, exportedAt: '2026-12-06T00:00:00.000Z', userRigs: [], userScenarios: [],
      runs: [{ ...sampleRun({ createdAt: 1_600_000_000_000, rig: rigB, outcome: 'bugcheck', seed: 99 }), id: 5 }],
    };
    expect((await importHistory(h, JSON.stringify(file))).runs).toMatchObject({ added: 1, renumbered: [{ from: 5, to: 7 }] });
    expect((await listRuns(h, { rig: rigB.id, outcome: 'bugcheck', limit: 5 })).runs.map((r) => r.id)).toEqual([5, 7]);
    expect((await getRun(h, 7))!.seed).toBe(99);
    expect(await addRun(h, sampleRun())).toBe(8);
    closeHistory(h);
  });

  it('upgrade steps are cumulative: a next step runs once on a current database, which keeps its data', async () => {
    const name = dbName();
    const h1 = await openHistory({ name });
    const id = await addRun(h1, sampleRun({ createdAt: 1_700_000_000_123 }));
    closeHistory(h1);

    const shipped = UPGRADES.map((step) => vi.fn(step));
    const next = vi.fn<UpgradeStep>(async (_db, tx) => {
      // A schema change and a data migration through the upgrade transaction.
      tx.objectStore('runs').createIndex('byStrategy' as never, ['strategy', 'createdAt', 'id']);
      let c = await tx.objectStore('userScenarios').openCursor();
      while (c) {
        await c.update({ ...c.value, title: c.value.title.toUpperCase() });
        c = await c.continue();
      }
    });
    const h2 = await openHistory({ name, upgrades: [...shipped, next] });
    for (const step of shipped) expect(step).not.toHaveBeenCalled();
    expect(next).toHaveBeenCalledTimes(1);
    expect(h2.db.version).toBe(DB_VERSION + 1);
    expect((await getRun(h2, id))!.createdAt).toBe(1_700_000_000_123);
    expect(h2.db.transaction('runs').store.indexNames.contains('byStrategy' as never)).toBe(true);
    closeHistory(h2);

    const h3 = await openHistory({ name, upgrades: [...shipped, next] });
    expect(next).toHaveBeenCalledTimes(1);
    closeHistory(h3);
  });

  it('a new database runs every step in order', async () => {
    const order: number[] = [];
    const h = await openHistory({
      name: dbName(),
      upgrades: [(db, tx) => (order.push(1), UPGRADES[0]!(db, tx)), () => void order.push(2), () => void order.push(3)],
    });
    expect(order).toEqual([1, 2, 3]);
    expect(h.db.version).toBe(3);
    closeHistory(h);
  });

  it('a failing upgrade step changes nothing: the database stays at its version with its runs', async () => {
    const name = dbName();
    const h1 = await openHistory({ name });
    await addRun(h1, sampleRun());
    closeHistory(h1);
    const bad: UpgradeStep = async (_db, tx) => {
      await tx.objectStore('runs').clear();
      throw new Error('migration bug');
    };
    await expect(openHistory({ name, upgrades: [...UPGRADES, bad] })).rejects.toThrow(/upgrading the history failed; nothing was changed: migration bug/);
    const h2 = await openHistory({ name });
    expect(h2.db.version).toBe(DB_VERSION);
    expect((await listRuns(h2, { limit: 5 })).runs).toHaveLength(1);
    closeHistory(h2);
  });

  it('a database from a newer Racebox is refused with HistoryVersionError', async () => {
    const name = dbName();
    closeHistory(await openHistory({ name, upgrades: [...UPGRADES, () => {}] }));
    const err = await openHistory({ name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryVersionError);
    expect(err).toBeInstanceOf(HistoryError);
    expect((err as Error).message).toMatch(/newer Racebox/);
  });
});
