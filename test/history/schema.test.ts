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
    closeHistory(h);
  });

  it('upgrade steps are cumulative: a v2 step runs once on a v1 database, which keeps its data', async () => {
    const name = dbName();
    const h1 = await openHistory({ name });
    const id = await addRun(h1, sampleRun({ createdAt: 1_700_000_000_123 }));
    closeHistory(h1);

    const v1 = vi.fn(UPGRADES[0]!);
    const v2 = vi.fn<UpgradeStep>(async (_db, tx) => {
      // A schema change and a data migration through the upgrade transaction.
      tx.objectStore('runs').createIndex('byStrategy' as never, ['strategy', 'createdAt', 'id']);
      let c = await tx.objectStore('userScenarios').openCursor();
      while (c) {
        await c.update({ ...c.value, title: c.value.title.toUpperCase() });
        c = await c.continue();
      }
    });
    const h2 = await openHistory({ name, upgrades: [v1, v2] });
    expect(v1).not.toHaveBeenCalled();
    expect(v2).toHaveBeenCalledTimes(1);
    expect(h2.db.version).toBe(2);
    expect((await getRun(h2, id))!.createdAt).toBe(1_700_000_000_123);
    expect(h2.db.transaction('runs').store.indexNames.contains('byStrategy' as never)).toBe(true);
    closeHistory(h2);

    const h3 = await openHistory({ name, upgrades: [v1, v2] });
    expect(v2).toHaveBeenCalledTimes(1);
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

  it('a failing upgrade step changes nothing: the database stays at v1 with its runs', async () => {
    const name = dbName();
    const h1 = await openHistory({ name });
    await addRun(h1, sampleRun());
    closeHistory(h1);
    const bad: UpgradeStep = async (_db, tx) => {
      await tx.objectStore('runs').clear();
      throw new Error('migration bug');
    };
    await expect(openHistory({ name, upgrades: [UPGRADES[0]!, bad] })).rejects.toThrow(/upgrading the history failed; nothing was changed: migration bug/);
    const h2 = await openHistory({ name });
    expect(h2.db.version).toBe(1);
    expect((await listRuns(h2, { limit: 5 })).runs).toHaveLength(1);
    closeHistory(h2);
  });

  it('a database from a newer Racebox is refused with HistoryVersionError', async () => {
    const name = dbName();
    closeHistory(await openHistory({ name, upgrades: [UPGRADES[0]!, () => {}] }));
    const err = await openHistory({ name }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryVersionError);
    expect(err).toBeInstanceOf(HistoryError);
    expect((err as Error).message).toMatch(/newer Racebox/);
  });
});
