import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';
import { allExecutions, CHECKED_MP, preset, scn, traceKey } from '../helpers.ts';

/**
 * Two threads on two CPUs, each: start, read, write (3 steps) — an unprotected increment. The read
 * and the write are interlocked (sequentially consistent, never buffered), so these trees count
 * interleavings only; test/engine/weak-choices.test.ts counts the weak-memory choices.
 */
function racyIncrement() {
  return scn({
    setup: (k) => ({ counter: k.ExAllocatePool2(0, 4, 'Cntr') }),
    actors: {
      a: { cpu: 0, *run(k, s) { const v = yield* k.InterlockedOr(s.counter, 0); yield* k.InterlockedExchange(s.counter, v + 1); } },
      b: { cpu: 1, *run(k, s) { const v = yield* k.InterlockedOr(s.counter, 0); yield* k.InterlockedExchange(s.counter, v + 1); } },
    },
    invariants: { 'no lost update': (s, k) => k.peek(s.counter) === 2 },
  });
}

/** The same shape without the race: each thread increments its own counter (interlocked, as above). */
function independent() {
  return scn({
    setup: (k) => ({ a: k.ExAllocatePool2(0, 4, 'A'), b: k.ExAllocatePool2(0, 4, 'B') }),
    actors: {
      a: { cpu: 0, *run(k, s) { const v = yield* k.InterlockedOr(s.a, 0); yield* k.InterlockedExchange(s.a, v + 1); } },
      b: { cpu: 1, *run(k, s) { const v = yield* k.InterlockedOr(s.b, 0); yield* k.InterlockedExchange(s.b, v + 1); } },
    },
  });
}

describe('DFS with a preemption bound', () => {
  // Interleavings of two 3-step threads with at most p preemptions (a switch away from an unfinished
  // thread): p=0: 2, p=1: 6, p=2: 14, p=3: 18, p=4: all C(6,3) = 20.
  const expected = [2, 6, 14, 18, 20, 20];
  for (let bound = 0; bound < expected.length; bound++) {
    it(`bound ${bound} explores exactly ${expected[bound]} distinct schedules and then says it is exhausted`, () => {
      const { executions, exhausted } = allExecutions(CHECKED_MP, racyIncrement(), new DfsStrategy(bound), 1000, true);
      expect(exhausted).toBe(true);
      const keys = executions.map((x) => traceKey(x.trace));
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.length).toBe(expected[bound]);
    });
  }

  it('each bound explores a superset of the smaller bound', () => {
    const sets = [0, 1, 2].map((b) => new Set(allExecutions(CHECKED_MP, racyIncrement(), new DfsStrategy(b), 1000, true).executions.map((x) => traceKey(x.trace))));
    for (const k of sets[0]!) expect(sets[1]!.has(k)).toBe(true);
    for (const k of sets[1]!) expect(sets[2]!.has(k)).toBe(true);
  });

  it('bound 0 misses the lost update; bound 1 finds it (a depth-1 bug)', () => {
    const b0 = explore(CHECKED_MP, racyIncrement(), { strategy: 'dfs', preemptionBound: 0, schedules: 1000 });
    expect(b0.outcome).toBe('pass');
    expect(b0.exhausted).toBe(true);
    expect(b0.schedulesRun).toBe(2);
    const b1 = explore(CHECKED_MP, racyIncrement(), { strategy: 'dfs', preemptionBound: 1, schedules: 1000 });
    expect(b1.outcome).toBe('invariant');
    expect(b1.failure!.invariant).toBe('no lost update');
    expect(b1.schedulesRun).toBeLessThanOrEqual(6);
  });

  it('reports exhausted only when the bounded tree was fully explored', () => {
    const partial = explore(CHECKED_MP, independent(), { strategy: 'dfs', preemptionBound: 4, schedules: 5 });
    expect(partial.outcome).toBe('pass');
    expect(partial.schedulesRun).toBe(5);
    expect(partial.exhausted).toBeUndefined();
    const full = explore(CHECKED_MP, independent(), { strategy: 'dfs', preemptionBound: 4, schedules: 1000 });
    expect(full.outcome).toBe('pass');
    expect(full.schedulesRun).toBe(20);
    expect(full.exhausted).toBe(true);
  });
});

describe('PCT', () => {
  it('finds the irql-as-lock lost update within a few dozen schedules, for several seeds', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = explore(preset('dual-opteron-240'), irqlAsLock, { strategy: 'pct', seed, schedules: 300 });
      expect(r.outcome).toBe('invariant');
      expect(r.schedulesRun).toBeLessThanOrEqual(100);
    }
  });

  it('depth 1 (no change points) runs a strict priority order: no preemption inside a thread', () => {
    const r = explore(CHECKED_MP, racyIncrement(), { strategy: 'pct', depth: 1, seed: 1, schedules: 200 });
    expect(r.outcome).toBe('pass');
  });

  it('depth 2 (one change point) finds the unprotected increment', () => {
    const r = explore(CHECKED_MP, racyIncrement(), { strategy: 'pct', depth: 2, seed: 1, schedules: 200 });
    expect(r.outcome).toBe('invariant');
  });
});

describe('random', () => {
  it('is seed-dependent and index-dependent', () => {
    const s = preset('workstation-16');
    const a = allExecutions(s, irqlAsLock, new RandomStrategy(1), 5, true).executions.map((x) => traceKey(x.trace));
    const b = allExecutions(s, irqlAsLock, new RandomStrategy(2), 5, true).executions.map((x) => traceKey(x.trace));
    expect(a).not.toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(1);
  });

  it('finds the irql-as-lock lost update', () => {
    const r = explore(preset('p4-ht'), irqlAsLock, { strategy: 'random', seed: 1, schedules: 1000 });
    expect(r.outcome).toBe('invariant');
  });
});
