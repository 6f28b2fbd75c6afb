import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { validateRig } from '../../src/machine/rig.ts';
import { cpusRig, fixture, loop, noWorkersLeft, rig, runFree } from './helpers.ts';

// Detections stop at the first failure (usually within a second); the generous time budgets
// only matter on a loaded host, where two CPU workers rarely run at the same instant.
describe('free-run engine', () => {
  it('finds the lost update of spinlock/irql-as-lock on two CPUs', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'spinlock/irql-as-lock', { seconds: 20 });
    expect(r.outcome).toBe('invariant');
    expect(r.failure?.invariant).toBe('no lost update');
    expect(r.failure?.message).toMatch(/increment was lost/);
    expect(r.failure?.schedule).toBe('');
    expect(r.replayable).toBe(false);
    expect(r.stoppedBy).toBe('failure');
    expect(await noWorkersLeft()).toBe(0);
  }, 90_000);

  it('runs spinlock/ke-spinlock clean, with counters per CPU', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'spinlock/ke-spinlock', { seconds: 1 });
    expect(r.outcome).toBe('pass');
    expect(r.stoppedBy).toBe('time');
    expect(r.iterations).toBeGreaterThan(10);
    expect(r.cpus).toHaveLength(2);
    for (const c of r.cpus) {
      expect(c.iterations).toBeGreaterThanOrEqual(r.iterations);
      expect(c.acquisitions).toBeGreaterThan(0);
      expect(c.operations).toBeGreaterThan(0);
    }
    expect(r.cpus[0]!.dpcs).toBeGreaterThan(0);
    // One thread per CPU: both run the plain-function twins (the DPC nests at a scheduling point).
    expect(r.cpus.map((c) => c.mode)).toEqual(['twin', 'twin']);
    expect(r.limits.join(' ')).toMatch(/not reproducible/);
    expect(r.warnings).toEqual([]);
    expect(await noWorkersLeft()).toBe(0);
  }, 30_000);

  it('irql-as-lock passes on a uniprocessor (one CPU worker: raising IRQL is enough there)', async () => {
    const r = await runFree(rig('uniprocessor'), 'spinlock/irql-as-lock', { iterations: 2000 });
    expect(r.outcome).toBe('pass');
    expect(r.stoppedBy).toBe('iterations');
    expect(r.iterations).toBe(2000);
    expect(r.cpus).toHaveLength(1);
  }, 30_000);

  it('a UP HAL forced onto two CPUs (upHalOnAllCpus): KeAcquireSpinLock only raises IRQL, and the update is lost', async () => {
    const up = validateRig({ id: 'up-on-mp', title: 'UP HAL on two CPUs', cores: 2, hal: 'up', build: 'free', upHalOnAllCpus: true });
    if (!up.ok) throw new Error('rig');
    const r = await runFree(up.rig, 'spinlock/ke-spinlock', { seconds: 20 });
    expect(r.outcome).toBe('invariant');
    expect(r.cpus).toHaveLength(2);
    expect(r.totals.spins).toBe(0);
  }, 90_000);

  it('keeps mutual exclusion for the four locks (free-loop scenarios, 10,000 acquisitions each; the million-acquisition run is test/free/million.test.ts)', async () => {
    for (const kind of ['tas', 'ttas', 'ke', 'queued'] as const) {
      // Two threads per CPU (generators, multiplexed), then one per CPU (plain-function twins).
      const r = await runFree(cpusRig(2), loop(kind, 500), { iterations: 5, stallMs: 10_000 });
      expect(r.outcome, `${kind}: ${r.failure?.message}`).toBe('pass');
      expect(r.iterations).toBe(5);
      expect(r.cpus[0]!.mode).toBe('generators');
      const t = await runFree(cpusRig(2), loop(kind, 10_000, 2), { iterations: 5, stallMs: 10_000 });
      expect(t.outcome, `${kind}-2: ${t.failure?.message}`).toBe('pass');
      expect(t.cpus.map((c) => c.mode)).toEqual(['twin', 'twin']);
    }
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it('delivers a DPC queued for another CPU through that CPU', async () => {
    const r = await runFree(cpusRig(2), fixture('cross-cpu-dpc'), { iterations: 200 });
    expect(r.outcome, r.failure?.message).toBe('pass');
    expect(r.cpus[1]!.dpcs).toBe(200);
  }, 30_000);
});

describe('free-run with generators stepped per yield (mode: generators)', () => {
  it('finds the lost update and the naive-tas deadlock the same way', async () => {
    const lost = await runFree(rig('dual-opteron-240'), 'spinlock/irql-as-lock', { seconds: 20, mode: 'generators' });
    expect(lost.outcome).toBe('invariant');
    expect(lost.cpus.map((c) => c.mode)).toEqual(['generators', 'generators']);
    const dead = await runFree(rig('dual-opteron-240'), 'spinlock/naive-tas', { seconds: 20, stallMs: 500, mode: 'generators' });
    expect(dead.outcome).toBe('deadlock');
    const twin = await runFree(rig('dual-opteron-240'), 'spinlock/naive-tas', { seconds: 20, stallMs: 500 });
    expect(twin.outcome).toBe('deadlock');
    expect(twin.failure?.message).toMatch(/completionDpc.*spins on lock/);
    expect(await noWorkersLeft()).toBe(0);
  }, 90_000);

  it('a CPU with two threads multiplexes them as generators even in auto mode', async () => {
    const r = await runFree(cpusRig(1), loop('ke', 500), { iterations: 3 });
    expect(r.outcome).toBe('pass');
    expect(r.cpus[0]!.mode).toBe('generators');
    expect(r.cpus[0]!.contextSwitches).toBeGreaterThan(0);
  }, 30_000);
});

describe('free-run outcomes and the worker lifecycle', () => {
  it('a checked build stops at a recursive acquire (bug check), and every worker ends', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'spinlock/recursive-acquire', { seconds: 5 });
    expect(r.outcome).toBe('bugcheck');
    expect(r.failure?.bugcheck?.name).toBe('SPIN_LOCK_ALREADY_OWNED');
    expect(await noWorkersLeft()).toBe(0);
  }, 30_000);

  it('a free build hangs on it: the watchdog sees no progress and names the spin', async () => {
    const r = await runFree(rig('quad-free'), 'spinlock/recursive-acquire', { seconds: 30, stallMs: 500 });
    expect(r.outcome).toBe('hang');
    expect(r.failure?.message).toMatch(/spins on statsLock, held by itself/);
    expect(r.failure?.message).toMatch(/DPC_WATCHDOG_VIOLATION/);
    expect(await noWorkersLeft()).toBe(0);
  }, 90_000);

  it('two locks in opposite orders on two CPUs deadlock on a free build', async () => {
    const r = await runFree(rig('quad-free'), 'spinlock/abba', { seconds: 30, stallMs: 500 });
    expect(r.outcome).toBe('deadlock');
    expect(r.failure?.message).toMatch(/held by/);
    expect(await noWorkersLeft()).toBe(0);
  }, 90_000);

  it('a checked build stops the same two orders at 0xC4/0x1001 before they deadlock: one lock-order graph for all CPUs', async () => {
    const r = await runFree(rig('dual-opteron-240'), 'spinlock/abba', { seconds: 30, stallMs: 2000 });
    expect(r.outcome).toBe('bugcheck');
    expect(r.failure?.bugcheck?.code).toBe(0xc4);
    expect(r.failure?.bugcheck?.params[0]).toBe(0x1001);
    expect(r.failure?.message).toMatch(/lock hierarchy violation/);
    expect(r.limits.join('\n')).not.toMatch(/lock-order graph/);
    expect(await noWorkersLeft()).toBe(0);
  }, 90_000);

  it('pause-loop exiting: with more CPU workers than host cores a long spin gives the host core away, otherwise never', async () => {
    const over = await runFree(cpusRig(2), fixture('long-hold'), { iterations: 5, hostCpus: 1 });
    expect(over.outcome, over.failure?.message).toBe('pass');
    expect(over.cpus[1]!.hostPauses).toBeGreaterThan(0);
    const fits = await runFree(cpusRig(2), fixture('long-hold'), { iterations: 5, hostCpus: 2 });
    expect(fits.outcome, fits.failure?.message).toBe('pass');
    expect(fits.cpus.map((c) => c.hostPauses)).toEqual([0, 0]);
    expect(await noWorkersLeft()).toBe(0);
  }, 60_000);

  it('a routine that never yields: the worker is terminated after the grace period', async () => {
    const t0 = Date.now();
    const r = await runFree(cpusRig(2), fixture('never-yields'), { seconds: 10, stallMs: 300, graceMs: 300 });
    expect(r.outcome).toBe('hang');
    expect(r.failure?.message).toMatch(/did not return to the scheduler/);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(await noWorkersLeft()).toBe(0);
  }, 30_000);

  it('cancellation stops the run within a second', async () => {
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    let cancelledAt = 0;
    const p = runFree(rig('dual-opteron-240'), 'spinlock/ke-spinlock', {
      seconds: 60,
      cancel,
      progressMs: 50,
      onProgress: (pr) => {
        if (pr.iterations > 0 && cancelledAt === 0) {
          cancelledAt = Date.now();
          Atomics.store(cancel, 0, 1);
        }
      },
    });
    const r = await p;
    expect(r.stoppedBy).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeLessThan(1500);
    expect(await noWorkersLeft()).toBe(0);
  }, 30_000);

  it('a scenario the workers cannot load is an error and leaves no worker', async () => {
    await expect(runFree(rig('dual-opteron-240'), 'spinlock/no-such-scenario', { seconds: 1 })).rejects.toThrow(/unknown scenario/);
    expect(await noWorkersLeft()).toBe(0);
  }, 30_000);
});

describe('racebox run --engine free', () => {
  it('reports the lost update, says it cannot be replayed and prints the controlled search', async () => {
    const out: string[] = [];
    const code = await main(['run', 'spinlock/irql-as-lock', '--rig', 'dual-opteron-240', '--engine', 'free', '--seconds', '5'], (s) => out.push(s), () => {});
    const text = out.join('\n');
    expect(code).toBe(1);
    expect(text).toMatch(/invariant/);
    expect(text).toMatch(/an increment was lost/);
    expect(text).toMatch(/cannot be replayed/);
    expect(text).toMatch(/racebox run spinlock\/irql-as-lock --rig dual-opteron-240 --engine controlled/);
    expect(text).toMatch(/CPU\s+iterations\s+operations\s+acquisitions/);
  }, 30_000);

  it('--json for ke-spinlock: pass, with per-CPU counters', async () => {
    const out: string[] = [];
    const code = await main(['run', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--engine', 'free', '--seconds', '1', '--json'], (s) => out.push(s), () => {});
    const r = JSON.parse(out.join('')) as { outcome: string; engine: string; cpus: unknown[]; limits: string[] };
    expect(code).toBe(0);
    expect(r.outcome).toBe('pass');
    expect(r.engine).toBe('free');
    expect(r.cpus).toHaveLength(2);
  }, 30_000);

  it('refuses options of the other engine', async () => {
    const err: string[] = [];
    expect(await main(['run', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--engine', 'free', '--workers', '2'], () => {}, (s) => err.push(s))).toBe(2);
    expect(await main(['run', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--seconds', '2'], () => {}, (s) => err.push(s))).toBe(2);
    expect(err.join('\n')).toMatch(/--workers applies to the controlled engine/);
    expect(err.join('\n')).toMatch(/--seconds applies to --engine free/);
  });
});
