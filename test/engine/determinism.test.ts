import { describe, expect, it } from 'vitest';
import { ControlledRun } from '../../src/engine/controlled.ts';
import { explore, makeStrategy, type ExploreStrategy } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { PctStrategy } from '../../src/engine/strategies/pct.ts';
import type { Rig } from '../../src/machine/rig.ts';
import type { Scenario } from '../../src/scenario/define.ts';
import keSpinlock from '../../scenarios/spinlock/ke-spinlock.ts';
import queuedFifo from '../../scenarios/spinlock/queued-fifo.ts';
import ttas from '../../scenarios/spinlock/ttas.ts';
import { preset, traceKey } from '../helpers.ts';

/** Runs `n` executions and returns one fingerprint per execution: full trace, outcome and steps. */
function traces(r: Rig, s: Scenario, strategy: ExploreStrategy, seed: number, n: number): string[] {
  const run = new ControlledRun(r, s);
  const st = makeStrategy(strategy, seed, 3, 2);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if (!st.newExecution(i)) break;
    const x = run.execute(st, { trace: true });
    out.push(`${x.outcome}/${x.steps}/${Array.from(x.deviations).join(',')}/${JSON.stringify(x.trace)}`);
  }
  return out;
}

describe('determinism', () => {
  const cases: [string, Rig, Scenario][] = [
    ['ke-spinlock on dual-opteron-240', preset('dual-opteron-240'), keSpinlock],
    ['queued-fifo on quad-free', preset('quad-free'), queuedFifo],
    ['ttas on p4-ht', preset('p4-ht'), ttas],
  ];
  for (const strategy of ['random', 'pct', 'dfs'] as const) {
    for (const [name, r, s] of cases) {
      it(`${strategy}: ${name} — two explorations give identical step-by-step traces`, () => {
        const a = traces(r, s, strategy, 42, 12);
        const b = traces(r, s, strategy, 42, 12);
        expect(a.length).toBe(12);
        expect(b).toEqual(a);
        // and the executions are not all the same schedule
        expect(new Set(a).size).toBeGreaterThan(1);
      });
    }
  }

  for (const strategy of ['random', 'pct'] as const) {
    it(`${strategy}: different seeds differ somewhere`, () => {
      const a = traces(preset('quad-free'), queuedFifo, strategy, 1, 10);
      const b = traces(preset('quad-free'), queuedFifo, strategy, 2, 10);
      expect(b).not.toEqual(a);
    });
  }

  it('a fresh ControlledRun and a reused one produce the same execution', () => {
    const r = preset('dual-opteron-240');
    const reused = new ControlledRun(r, keSpinlock);
    const st = makeStrategy('random', 9, 3, 2);
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) {
      st.newExecution(i);
      keys.push(traceKey(reused.execute(st, { trace: true }).trace));
    }
    const st2 = makeStrategy('random', 9, 3, 2);
    st2.newExecution(4);
    expect(traceKey(new ControlledRun(r, keSpinlock).execute(st2, { trace: true }).trace)).toBe(keys[4]);
  });

  it('explore reports the same failure, schedule and step count every time', () => {
    const r = preset('dual-opteron-240');
    const a = explore(r, ttas, { strategy: 'random', seed: 5, schedules: 100 });
    const b = explore(r, ttas, { strategy: 'random', seed: 5, schedules: 100 });
    expect({ ...b, elapsedMs: 0 }).toEqual({ ...a, elapsedMs: 0 });
  });

  it('pct: schedule i depends only on (seed, i), not on the executions run before it', () => {
    // A worker pool gives each worker a stride of schedule indices; the failing index it reports must
    // replay the same run whatever else the worker (or another worker count) ran first.
    const r = preset('quad-free');
    const sequential = traces(r, queuedFifo, 'pct', 3, 8);
    const run = new ControlledRun(r, queuedFifo);
    const alone = new PctStrategy(3, 3);
    alone.newExecution(7);
    const x = run.execute(alone, { trace: true });
    const key = `${x.outcome}/${x.steps}/${Array.from(x.deviations).join(',')}`;
    expect(key, 'PCT schedule 7 run alone differs from schedule 7 run after 0..6').toBe(sequential[7]!.split('/[')[0]);
  });
});

describe('trace: held locks', () => {
  it('records, on each step where they change, the locks the stepping context holds', () => {
    const run = new ControlledRun(preset('dual-opteron-240'), keSpinlock);
    const s = new DfsStrategy(0);
    s.newExecution();
    const x = run.execute(s, { trace: true });
    expect(x.outcome).toBe('pass');
    const changes = x.trace!.filter((t) => t.held !== undefined).map((t) => `${t.context} ${t.routine} [${t.held!.join(',')}]`);
    expect(changes).toEqual([
      'worker KeAcquireSpinLock [lock]',
      'worker KeReleaseSpinLock []',
      'otherCpu KeAcquireSpinLock [lock]',
      'otherCpu KeReleaseSpinLock []',
      'completionDpc KeAcquireSpinLockAtDpcLevel [lock]',
      'completionDpc KeReleaseSpinLockFromDpcLevel []',
    ]);
  });
});
