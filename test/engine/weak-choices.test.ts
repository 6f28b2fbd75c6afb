/**
 * The engine's weak-memory choices (ARM64.md, "The engine"), against a TSO test double of the
 * model (weak-double.ts): enumerated only for ordering-API accesses, performed as variants of a
 * CPU step or as flushes, recorded in schedule strings as kinds 4, 5 and 6, replayed step for
 * step, drained before a run ends or is reported stuck.
 */
import { describe, expect, it } from 'vitest';
import type { Execution } from '../../src/engine/controlled.ts';
import { decodeSchedule, deviationsFromChoices, encodeSchedule, type ChoiceKind } from '../../src/engine/schedule.ts';
import { describeManualChoice } from '../../src/engine/manual.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { PctStrategy } from '../../src/engine/strategies/pct.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import { ReplayStrategy } from '../../src/engine/strategies/replay.ts';
import { bufferedChoice, decodeWeakChoice, flushChoice, isWeakChoice, staleChoice, weakChoiceBase, type Strategy } from '../../src/engine/strategy.ts';
import type { Rig } from '../../src/machine/rig.ts';
import type { Scenario } from '../../src/scenario/define.ts';
import { CHECKED_MP, PickStrategy, runOnce, scn } from '../helpers.ts';
import { doubleRun, writeNoFence } from './weak-double.ts';
import { messagePassing, storeBuffering } from './weak-scenarios.ts';

function kindsOf(schedule: string): ChoiceKind[] {
  return decodeSchedule(schedule).choices.map((c) => c.kind);
}

/** Runs every execution of `strategy` on the double until the first failure. */
function firstFailure(r: Rig, s: Scenario, strategy: Strategy, max: number, staleReads = false): { x: Execution; schedule: string; index: number } | undefined {
  const run = doubleRun(r, s, staleReads);
  strategy.attach?.({ cpuCount: () => run.m.cpus.length, op: () => 0, addr: () => 0 });
  for (let i = 0; i < max; i++) {
    if (!strategy.newExecution(i)) return undefined;
    const x = run.execute(strategy, { trace: true });
    if (x.outcome !== 'pass') return { x: { ...x, deviations: x.deviations.slice() }, schedule: run.scheduleOf(x, { strategy: strategy.name, index: i }), index: i };
  }
  return undefined;
}

/** Replays a schedule string on the double, with a trace. */
function replayOnDouble(r: Rig, s: Scenario, schedule: string, staleReads = false): Execution {
  const rec = decodeSchedule(schedule);
  const run = doubleRun(r, s, staleReads);
  const st = new ReplayStrategy(deviationsFromChoices(rec.choices, run.m.cpus.length), rec.steps);
  st.newExecution(0);
  const x = run.execute(st, { trace: true });
  st.finish(x.steps);
  return x;
}

/** Takes `wanted` in order, each at the first decision that offers it; the default elsewhere. */
function inOrder(wanted: number[], seen?: number[][]): PickStrategy {
  let i = 0;
  const s = new PickStrategy((choices) => {
    seen?.push(choices);
    if (i < wanted.length && choices.includes(wanted[i]!)) return wanted[i++]!;
    return undefined;
  });
  s.newExecution(0);
  return s;
}

const brief = (x: Execution): string[] => (x.trace ?? []).map((t) => `${t.step}:${t.what}:${t.cpu}:${t.op}:${t.address ?? ''}:${t.read ?? ''}:${t.wrote ?? ''}:${t.buffered ? 'B' : ''}:${t.visibleAt ?? ''}:${t.storedAt ?? ''}`);

describe('weak-memory choices', () => {
  it('are offered only for ordering-API accesses: interlocked accesses never get a weak choice', () => {
    const interlocked = scn({
      setup: (k) => ({ x: k.ExAllocatePool2(0, 4, 'X'), y: k.ExAllocatePool2(0, 4, 'Y') }),
      actors: {
        a: { cpu: 0, *run(k, s) { yield* k.InterlockedExchange(s.x, 1); yield* k.InterlockedOr(s.y, 0); } },
        b: { cpu: 1, *run(k, s) { yield* k.InterlockedExchange(s.y, 1); yield* k.InterlockedOr(s.x, 0); } },
      },
    });
    let weak = 0;
    for (let i = 0; i < 200; i++) {
      const s = new RandomStrategy(i);
      s.newExecution(0);
      const x = runOnce(CHECKED_MP, interlocked, s);
      expect(x.outcome).toBe('pass');
      for (let j = 1; j < x.deviations.length; j += 2) expect(x.deviations[j]!).toBeLessThan(weakChoiceBase(2));
      // The same shape through WriteNoFence/ReadNoFence does get them (the real x64 model buffers).
      const y = runOnce(CHECKED_MP, storeBuffering, (() => { const t = new RandomStrategy(i); t.newExecution(0); return t; })());
      for (let j = 1; j < y.deviations.length; j += 2) if (y.deviations[j]! >= weakChoiceBase(2)) weak++;
    }
    expect(weak).toBeGreaterThan(0);
  });

  it('offer each CPU whose pending store may be buffered a buffered step, and flushes while a store is buffered', () => {
    const seen: number[][] = [];
    const run = doubleRun(CHECKED_MP, storeBuffering);
    const x = run.execute(inOrder([bufferedChoice(2, 0)], seen), { trace: true });
    expect(x.outcome).toBe('pass');
    // The threads' first steps start them; none of them is an ordering-API access.
    expect(seen[0]).toEqual([0, 1]);
    // A CPU about to store may store buffered: the weak choices follow the others, ascending,
    // each with its CPU (fair scheduling holds a CPU's variants back with it).
    const at = seen.findIndex((c) => c.includes(bufferedChoice(2, 0)));
    expect(seen[at]).toEqual([...seen[at]!].sort((a, b) => a - b));
    expect(seen[at]).toContain(0);
    for (const c of seen) {
      for (const id of c) if (decodeWeakChoice(id, 2)?.kind === 'buffered') expect(c).toContain(decodeWeakChoice(id, 2)!.cpu);
    }
    // Both CPUs' stores are offered buffered somewhere in a run where both are about to store.
    const both: number[][] = [];
    doubleRun(CHECKED_MP, storeBuffering).execute(inOrder([1, 0], both));
    expect(both.some((c) => c.includes(bufferedChoice(2, 0)) && c.includes(bufferedChoice(2, 1)))).toBe(true);
    // Then CPU 0's store is buffered: its flush is offered (entry 0, the oldest), listed last.
    const after = seen[at + 1]!;
    expect(after[after.length - 1]).toBe(flushChoice(2, 0, 0));
    const store = x.trace!.find((t) => t.buffered)!;
    expect(store).toMatchObject({ cpu: 0, op: 'write', wrote: 1, address: 's.x' });
    // The buffered store became visible later: when CPU 0's interlocked operation drained its buffer.
    expect(store.visibleAt).toBeGreaterThan(store.step);
    const drain = x.trace!.find((t) => t.cpu === 0 && t.op === 'rmw')!;
    expect(store.visibleAt).toBe(drain.step);
  });

  it('after a buffered step the default is a plain step of the same CPU', () => {
    const currents: [number, number][] = [];
    let taken = -1;
    const pick = new PickStrategy((choices, current, step) => {
      currents.push([step, current]);
      if (taken < 0 && choices.includes(bufferedChoice(2, 1))) {
        taken = step;
        return bufferedChoice(2, 1);
      }
      return undefined;
    });
    pick.newExecution(0);
    const x = doubleRun(CHECKED_MP, storeBuffering).execute(pick, { trace: true });
    const i = x.trace!.findIndex((t) => t.step === taken);
    expect(x.trace![i]).toMatchObject({ cpu: 1, buffered: true });
    // The next decision sees CPU 1 as the running choice (not its buffered variant), and the default continues it.
    expect(currents.find(([step]) => step > taken)?.[1]).toBe(1);
    expect(x.trace![i + 1]!.cpu).toBe(1);
  });

  it('DFS finds store buffering (each weak choice costing a preemption); its schedule carries kind 5 and replays step for step', () => {
    const f = firstFailure(CHECKED_MP, storeBuffering, new DfsStrategy(2, 2), 5000);
    expect(f).toBeDefined();
    expect(f!.x.outcome).toBe('invariant');
    expect(kindsOf(f!.schedule)).toContain('store-buffered');
    const again = replayOnDouble(CHECKED_MP, storeBuffering, f!.schedule);
    expect(again.outcome).toBe('invariant');
    expect(brief(again)).toEqual(brief(f!.x));
    // Through the string and back: the same record.
    expect(encodeSchedule(decodeSchedule(f!.schedule))).toBe(f!.schedule);
    // With no preemption at all, DFS cannot buffer a store.
    expect(firstFailure(CHECKED_MP, storeBuffering, new DfsStrategy(0, 2), 5000)).toBeUndefined();
  });

  it('a flush choice (kind 4) round-trips and replays: the trace shows the flush with the step of its store', () => {
    // CPU 0 buffers both stores of data, then its first is flushed by choice before anything else runs.
    const run = doubleRun(CHECKED_MP, messagePassing);
    const x = run.execute(inOrder([bufferedChoice(2, 0), 0, flushChoice(2, 0, 0)]), { trace: true });
    const schedule = run.scheduleOf(x);
    expect(kindsOf(schedule)).toContain('store-buffered');
    expect(kindsOf(schedule)).toContain('store-flush');
    const first = x.trace!.find((t) => t.buffered)!;
    const flush = x.trace!.find((t) => t.what === 'flush')!;
    expect(flush).toMatchObject({ cpu: 0, address: 's.data', wrote: 1, storedAt: first.step });
    expect(first.visibleAt).toBe(flush.step);
    // FIFO: the second store of data, made while the first was buffered, was buffered too.
    expect(x.trace!.filter((t) => t.buffered).length).toBeGreaterThanOrEqual(2);
    const again = replayOnDouble(CHECKED_MP, messagePassing, schedule);
    expect(brief(again)).toEqual(brief({ ...x }));
  });

  it('a stale read (kind 6) is offered by the model, recorded with the value it did not see, and replays', () => {
    // The writer's stores all become visible at once (no buffering); the reader then reads an older data.
    let staleOffered = false;
    let writerDone = false;
    const pick = new PickStrategy((choices) => {
      // The writer runs to its end first (its stores visible at once); then the reader.
      if (!writerDone && choices.includes(0)) return 0;
      writerDone = true;
      if (!staleOffered && choices.includes(staleChoice(2, 1, 2)) && choices.some((c) => decodeWeakChoice(c, 2)?.kind === 'stale')) {
        // The reader's second read (data): its flag read saw 1.
        staleOffered = choices.includes(staleChoice(2, 1, 2));
        return staleChoice(2, 1, 2);
      }
      return 1;
    });
    pick.newExecution(0);
    const run = doubleRun(CHECKED_MP, messagePassing, true);
    const x = run.execute(pick, { trace: true });
    expect(staleOffered).toBe(true);
    expect(x.outcome).toBe('invariant');
    const read = x.trace!.find((t) => t.stale !== undefined)!;
    const newest = x.trace!.filter((t) => t.cpu === 0 && t.op === 'write' && t.address === 's.data').pop()!;
    expect(newest.wrote).toBe(2);
    expect(read).toMatchObject({ cpu: 1, op: 'read', address: 's.data', read: 0, stale: { newest: 2, newestStep: newest.step, newestCpu: 0 } });
    const schedule = run.scheduleOf(x);
    expect(decodeSchedule(schedule).choices).toContainEqual({ step: read.step, kind: 'stale-read', cpu: 1, k: 2 });
    expect(brief(replayOnDouble(CHECKED_MP, messagePassing, schedule, true))).toEqual(brief(x));
  });

  it('a run never ends with stores buffered, and a wait a buffered store would end is not reported', () => {
    // The writer buffers its flag store and ends; the spinning reader must see it.
    const spin = scn<{ flag: number }>({
      setup: (k) => ({ flag: k.ExAllocatePool2(0, 4, 'flag') }),
      actors: {
        writer: {
          cpu: 0,
          *run(k, s) {
            yield* writeNoFence(k, s.flag, 1);
          },
        },
      },
      invariants: { 'the flag is visible at the end': (s, k) => k.peek(s.flag) === 1 || 'the flag store never became visible' },
    });
    const x = doubleRun(CHECKED_MP, spin).execute(inOrder([bufferedChoice(2, 0)]), { trace: true });
    expect(x.outcome).toBe('pass');
    const store = x.trace!.find((t) => t.buffered)!;
    expect(store).toMatchObject({ cpu: 0, address: 's.flag', wrote: 1 });
    // The writer's end is a full barrier (machine.ts, finish): the store is visible by then at the latest.
    expect(store.visibleAt).toBeGreaterThanOrEqual(store.step);
  });

  it('random takes weak choices rarely (about 1 in 8 decisions that have one) and PCT at its few weak points', () => {
    const countWeak = (s: Strategy): { weak: number; decisions: number } => {
      let weak = 0;
      let decisions = 0;
      const run = doubleRun(CHECKED_MP, storeBuffering);
      s.attach?.({ cpuCount: () => 2, op: () => 0, addr: () => 0 });
      const inner = s;
      const counting: Strategy = {
        name: 'count',
        newExecution: (i) => inner.newExecution(i),
        next: (choices, count, current, step) => {
          const c = inner.next(choices, count, current, step);
          if (isWeakChoice(choices[count - 1]!, 2)) decisions++;
          if (isWeakChoice(c, 2)) weak++;
          return c;
        },
        yielded: (cpu) => inner.yielded?.(cpu),
      };
      for (let i = 0; i < 300; i++) {
        counting.newExecution(i);
        run.execute(counting);
      }
      return { weak, decisions };
    };
    const r = countWeak(new RandomStrategy(5, 2));
    expect(r.weak).toBeGreaterThan(0);
    expect(r.weak / r.decisions).toBeLessThan(0.25);
    const p = countWeak(new PctStrategy(5, 2, 16, 8, 2));
    expect(p.weak).toBeGreaterThan(0);
    expect(p.weak).toBeLessThanOrEqual(2 * 300);
  });

  it('random and PCT find store buffering on the double; same seed, same schedule', () => {
    const a = firstFailure(CHECKED_MP, storeBuffering, new RandomStrategy(1, 2), 3000);
    const b = firstFailure(CHECKED_MP, storeBuffering, new RandomStrategy(1, 2), 3000);
    expect(a).toBeDefined();
    expect(b!.schedule).toBe(a!.schedule);
    expect(kindsOf(a!.schedule)).toContain('store-buffered');
    const p = firstFailure(CHECKED_MP, storeBuffering, new PctStrategy(1, 2, 16, 8, 2), 3000);
    expect(p).toBeDefined();
    expect(brief(replayOnDouble(CHECKED_MP, storeBuffering, p!.schedule))).toEqual(brief(p!.x));
  });
});

describe('be the scheduler: weak-memory choices in words', () => {
  /** Runs on the double until the first decision where `stop` holds, then leaves the run paused there. */
  function pausedAt(stop: (choices: number[]) => boolean, picks: number[] = [], staleReads = false): { run: ReturnType<typeof doubleRun>; choices: number[] } {
    const run = doubleRun(CHECKED_MP, staleReads ? messagePassing : storeBuffering, staleReads);
    let choices: number[] = [];
    const strategy = inOrder(picks);
    const pausing: Strategy = {
      name: 'pause',
      newExecution: () => true,
      next: (c, count, current, step) => {
        const arr = Array.from(c.subarray(0, count));
        if (stop(arr)) {
          choices = arr;
          throw new Error('paused');
        }
        return strategy.next(c, count, current, step);
      },
    };
    run.execute(pausing);
    return { run, choices };
  }

  it('labels a buffered step, a flush and a stale read', () => {
    const b = pausedAt((c) => c.includes(bufferedChoice(2, 0)));
    expect(describeManualChoice(b.run, bufferedChoice(2, 0), false)).toMatchObject({ kind: 'buffered', cpu: 0 });
    expect(describeManualChoice(b.run, bufferedChoice(2, 0), false).label).toMatch(/^CPU 0: store (s\.)?x buffered \(the other CPUs do not see it yet\) — thread 'a'/);
    const f = pausedAt((c) => c.includes(flushChoice(2, 0, 0)), [bufferedChoice(2, 0)]);
    expect(describeManualChoice(f.run, flushChoice(2, 0, 0), false)).toMatchObject({ kind: 'flush', cpu: 0 });
    expect(describeManualChoice(f.run, flushChoice(2, 0, 0), false).label).toMatch(/^flush CPU 0's store of (s\.)?x \(= 1, stored at step \d+\): the other CPUs see it$/);
    const s = pausedAt((c) => c.includes(staleChoice(2, 1, 1)), [0, 0, 0, 0, 0], true);
    expect(s.choices).toContain(staleChoice(2, 1, 1));
    expect(describeManualChoice(s.run, staleChoice(2, 1, 1), false)).toMatchObject({ kind: 'stale', cpu: 1 });
    expect(describeManualChoice(s.run, staleChoice(2, 1, 1), false).label).toMatch(/^CPU 1 reads an older (s\.)?(flag|data) \(the value before the newest\) — thread 'reader'/);
  });
});
