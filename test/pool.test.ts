import { describe, expect, it } from 'vitest';
import { explore, replay } from '../src/engine/explore.ts';
import { explorePool, poolCancelFlag } from '../src/engine/pool.ts';
import { presetRig } from '../src/machine/presets.ts';
import { liveNodeWorkers, nodeExploreWorker } from '../src/workers/node-entry.ts';
import irqlAsLock from '../scenarios/spinlock/irql-as-lock.ts';

const rig = presetRig('dual-opteron-240')!;

async function noWorkersLeft(): Promise<number> {
  const t0 = Date.now();
  while (liveNodeWorkers.size > 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  return liveNodeWorkers.size;
}

describe('exploration on a worker pool', () => {
  it('finds the same failing schedule with 1 and 2 workers as a single engine (lowest index wins)', async () => {
    const req = { scenario: { id: 'spinlock/irql-as-lock' }, rig, strategy: 'random' as const, seed: 7, schedules: 5000 };
    const single = explore(rig, irqlAsLock, { strategy: 'random', seed: 7, schedules: 5000 });
    const one = await explorePool(req, { workers: 1, factory: () => nodeExploreWorker() });
    const two = await explorePool(req, { workers: 2, factory: () => nodeExploreWorker() });
    expect(single.outcome).toBe('invariant');
    for (const r of [one, two]) {
      expect(r.outcome).toBe('invariant');
      expect(r.failingSchedule).toBe(single.failingSchedule);
      expect(r.failure?.schedule).toBe(single.failure?.schedule);
      expect(r.schedulesRun).toBe(single.schedulesRun);
      expect(r.steps).toBe(single.steps);
    }
    expect(two.workers).toBe(2);
    // PCT too (its estimate of run length is fixed per exploration, so schedule i depends only on seed and i).
    const pctSingle = explore(rig, irqlAsLock, { strategy: 'pct', seed: 7, schedules: 5000 });
    const pctTwo = await explorePool({ ...req, strategy: 'pct' }, { workers: 2, factory: () => nodeExploreWorker() });
    expect(pctTwo.failingSchedule).toBe(pctSingle.failingSchedule);
    expect(pctTwo.failure?.schedule).toBe(pctSingle.failure?.schedule);
    // The schedule replays on a single engine.
    const rep = replay(rig, irqlAsLock, two.failure!.schedule);
    expect(rep.summary.outcome).toBe('invariant');
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it('a passing exploration covers the whole budget, whatever the number of workers', async () => {
    const req = { scenario: { id: 'spinlock/ke-spinlock' }, rig, strategy: 'random' as const, seed: 3, schedules: 3000 };
    const single = explore(rig, (await import('../scenarios/spinlock/ke-spinlock.ts')).default, { strategy: 'random', seed: 3, schedules: 3000 });
    const progress: number[] = [];
    const two = await explorePool(req, { workers: 2, factory: () => nodeExploreWorker(), onProgress: (p) => progress.push(p.schedulesRun) });
    expect(two.outcome).toBe('pass');
    expect(two.schedulesRun).toBe(3000);
    expect(two.steps).toBe(single.steps);
    expect(progress.length).toBeGreaterThan(0);
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it("a user's scenario as TypeScript source is transpiled inside the worker API", async () => {
    const { readFileSync } = await import('node:fs');
    const { createExploreWorkerApi } = await import('../src/workers/explore-core.ts');
    const source = readFileSync(new URL('../scenarios/spinlock/irql-as-lock.ts', import.meta.url), 'utf8').replace("id: 'spinlock/irql-as-lock'", "id: 'mine/irql-as-lock'");
    const api = createExploreWorkerApi(async (id) => {
      throw new Error(`no library here (${id})`);
    });
    const r = await api.explore({ scenario: { source, filename: 'mine.ts' }, rig, strategy: 'random', seed: 7, schedules: 5000 });
    const single = explore(rig, irqlAsLock, { strategy: 'random', seed: 7, schedules: 5000 });
    expect(r.outcome).toBe('invariant');
    expect(r.failingSchedule).toBe(single.failingSchedule);
  });

  it('dfs runs on one worker', async () => {
    const r = await explorePool(
      { scenario: { id: 'spinlock/irql-as-lock' }, rig, strategy: 'dfs', seed: 1, schedules: 2000 },
      { workers: 2, factory: () => nodeExploreWorker() },
    );
    expect(r.workers).toBe(1);
    expect(r.outcome).toBe('invariant');
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it('a routine that never yields: the stall watchdog ends its schedule as a hang and terminates the workers', async () => {
    const file = new URL('./free/fixtures/never-yields.ts', import.meta.url).pathname;
    const r = await explorePool(
      { scenario: { id: file }, rig, strategy: 'random', seed: 1, schedules: 100 },
      { workers: 2, factory: () => nodeExploreWorker(), stallMs: 500 },
    );
    expect(r.outcome).toBe('hang');
    expect(r.failingSchedule).toBe(0);
    expect(r.failure?.message).toMatch(/did not return to the scheduler/);
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it('cancellation stops every worker within a second', async () => {
    const { flag, cancel } = poolCancelFlag();
    let cancelledAt = 0;
    const r = await explorePool(
      { scenario: { id: 'spinlock/ke-spinlock' }, rig, strategy: 'random', seed: 1, schedules: 100_000_000 },
      {
        workers: 2,
        factory: () => nodeExploreWorker(),
        cancel: flag,
        onProgress: (p) => {
          if (p.schedulesRun > 0 && cancelledAt === 0) {
            cancelledAt = Date.now();
            cancel();
          }
        },
      },
    );
    expect(cancelledAt).toBeGreaterThan(0);
    expect(Date.now() - cancelledAt).toBeLessThan(1500);
    expect(r.cancelled).toBe(true);
    expect(r.outcome).toBe('pass');
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);
});
