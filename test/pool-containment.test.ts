/**
 * The pool's watchdog contains every way scenario code can stop a worker
 * (docs/limits.md): loops before the first schedule (loading, PCT's
 * calibration run, setup), in an actor or an invariant; process.exit in an
 * actor; a worker that dies (its heap limit); the memory limit. A long valid
 * schedule is not a stall: the watchdog counts steps.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { explorePool } from '../src/engine/pool.ts';
import { presetRig } from '../src/machine/presets.ts';
import { parseRig } from '../src/machine/rig.ts';
import { liveNodeWorkers, nodeExploreWorker } from '../src/workers/node-entry.ts';

const rig = presetRig('dual-opteron-240')!;
const hostile = (name: string): string => new URL(`./hostile/${name}`, import.meta.url).pathname;
const STALL_MS = 1500;

async function noWorkersLeft(): Promise<number> {
  const t0 = Date.now();
  while (liveNodeWorkers.size > 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  return liveNodeWorkers.size;
}

function pool(file: string, strategy: 'pct' | 'random', extra: { memoryOver?: () => string | undefined; stallMs?: number } = {}, r = rig) {
  return explorePool(
    { scenario: { id: hostile(file) }, rig: r, strategy, seed: 1, schedules: 50 },
    { workers: 2, factory: () => nodeExploreWorker(), stallMs: STALL_MS, ...extra },
  );
}

describe('the pool contains hostile scenarios', { timeout: 60_000 }, () => {
  let heap: string | undefined;
  beforeEach(() => {
    heap = process.env.RACEBOX_HEAP_MB;
  });
  afterEach(async () => {
    if (heap === undefined) delete process.env.RACEBOX_HEAP_MB;
    else process.env.RACEBOX_HEAP_MB = heap;
    expect(await noWorkersLeft()).toBe(0);
  });

  it('a loop in the first run (PCT sizes itself on it before schedule #0) ends as a hang', async () => {
    const t0 = Date.now();
    const r = await pool('loop-actor.ts', 'pct');
    expect(r.outcome).toBe('hang');
    expect(r.failure?.message).toMatch(/the first run .* did not return to the scheduler/);
    expect(Date.now() - t0).toBeLessThan(STALL_MS + 5000 + 5000);
  });

  it('a loop in setup and a loop in an invariant end as hangs', async () => {
    for (const file of ['loop-setup.ts', 'loop-invariant.ts']) {
      const r = await pool(file, 'random');
      expect(r.outcome, file).toBe('hang');
      expect(r.failure?.message, file).toMatch(/schedule #0 did not return to the scheduler/);
    }
  });

  it('a loop in the module top level is refused like a scenario that fails to load: the pool rejects', async () => {
    await expect(pool('loop-top-level.ts', 'random')).rejects.toThrow(/the scenario did not finish loading within 2 s/);
  });

  it('process.exit(0) in an actor ends as error naming the call, also when the actor swallows the throw', async () => {
    for (const file of ['exit-actor.ts', 'exit-swallowed.ts']) {
      const r = await pool(file, 'random');
      expect(r.outcome, file).toBe('error');
      expect(r.failure?.message, file).toMatch(/the scenario called process\.exit\(0\)/);
    }
  });

  it('a worker over its heap limit ends the run as error naming the limit', async () => {
    process.env.RACEBOX_HEAP_MB = '128';
    const r = await pool('memory-heap.ts', 'random', { stallMs: 60_000 });
    expect(r.outcome).toBe('error');
    expect(r.failure?.message).toMatch(/memory limit of 128 MB of JavaScript heap/);
  });

  it('a run over the sampled memory limit ends as error with its reason', async () => {
    const r = await pool('loop-actor.ts', 'random', { stallMs: 60_000, memoryOver: () => 'over the memory limit (test)' });
    expect(r.outcome).toBe('error');
    expect(r.failure?.message).toBe('over the memory limit (test)');
  });

  it('a long valid schedule is not a stall: the watchdog counts steps', async () => {
    const long = parseRig(readFileSync(hostile('long-run-rig.json'), 'utf8'), 'long-run-rig.json');
    const r = await explorePool(
      { scenario: { id: `${hostile('long-run.ts')}?rounds=20000000` }, rig: long, strategy: 'random', seed: 1, schedules: 2 },
      // 1 s without a step counted: long enough that a worker descheduled by a busy 2-core host is not a stall.
      { workers: 2, factory: () => nodeExploreWorker(), stallMs: 1000 },
    );
    expect(r.outcome, r.failure?.message).toBe('pass');
    // A schedule ran longer than the stall limit: the watchdog counted steps, not schedules. 20 million
    // rounds take 5 s on CI's machine and more here, so the margin over 1 s does not depend on the host.
    expect(r.busyMs).toBeGreaterThan(2 * 1000);
  });
});
