/** Failure.reorderings: the reorderings a failing schedule needed, in words, and how the CLI prints them. */
import { describe, expect, it } from 'vitest';
import { formatSummary, formatTrace } from '../../src/cli/format.ts';
import { explore } from '../../src/engine/explore.ts';
import type { Failure, RunSummary } from '../../src/engine/outcome.ts';
import { explainReorderings, hasWeakChoices, reorderingsOf } from '../../src/engine/reorderings.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { staleChoice, decodeWeakChoice } from '../../src/engine/strategy.ts';
import type { TraceStep } from '../../src/engine/trace.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import { CHECKED_MP, PickStrategy, preset } from '../helpers.ts';
import { doubleRun } from './weak-double.ts';
import { messagePassing, storeBuffering } from './weak-scenarios.ts';

function dfsFailure(): Failure {
  const run = doubleRun(CHECKED_MP, storeBuffering);
  const s = new DfsStrategy(2, 2);
  for (let i = 0; i < 5000; i++) {
    if (!s.newExecution()) break;
    const x = run.execute(s);
    if (x.outcome !== 'pass') return { ...x.failure!, schedule: run.scheduleOf(x) };
  }
  throw new Error('no failure');
}

const step = (over: Partial<TraceStep>): TraceStep => ({ step: 0, cpu: 0, what: 'step', context: 'a', kind: 'thread', op: 'write', routine: 'a', irql: 0, ...over });

describe('reorderings of a failure', () => {
  it('store buffering: names the read that missed a store still in the other CPU\'s buffer', () => {
    const f = dfsFailure();
    expect(hasWeakChoices(f.schedule)).toBe(true);
    expect(f.reorderings).toBeUndefined();
    const explained = explainReorderings(CHECKED_MP, storeBuffering, f, () => doubleRun(CHECKED_MP, storeBuffering));
    expect(explained.reorderings).toBeDefined();
    expect(explained.reorderings!.some((r) => /^CPU [01] read s\.[xy] = 0 at step \d+, but CPU [01]'s store of 1 \(step \d+\) stayed in CPU [01]'s store buffer until step \d+$/.test(r))).toBe(true);
    // The machine's own x64 model (x86-TSO) replays the double's schedule and explains it the same way.
    const real = explainReorderings(CHECKED_MP, storeBuffering, f).reorderings;
    expect(real).toBeDefined();
    expect(real!.some((r) => /^CPU [01] read s\.[xy] = 0 at step \d+, but CPU [01]'s store of 1 \(step \d+\) stayed in CPU [01]'s store buffer until step \d+$/.test(r))).toBe(true);
  });

  it('a stale read: names the store it did not see', () => {
    let writerDone = false;
    let taken = false;
    const pick = new PickStrategy((choices) => {
      if (!writerDone && choices.includes(0)) return 0;
      writerDone = true;
      if (!taken && choices.includes(staleChoice(2, 1, 2)) && choices.some((c) => decodeWeakChoice(c, 2)?.kind === 'stale')) {
        taken = true;
        return staleChoice(2, 1, 2);
      }
      return 1;
    });
    pick.newExecution(0);
    const run = doubleRun(CHECKED_MP, messagePassing, true);
    const x = run.execute(pick);
    expect(x.outcome).toBe('invariant');
    const f: Failure = { ...x.failure!, schedule: run.scheduleOf(x) };
    const r = explainReorderings(CHECKED_MP, messagePassing, f, () => doubleRun(CHECKED_MP, messagePassing, true)).reorderings!;
    expect(r).toHaveLength(1);
    expect(r[0]).toMatch(/^CPU 1 read s\.data = 0 at step \d+, but CPU 0's store of 2 \(step \d+\) was not yet visible to it$/);
  });

  it('stores of one CPU visible out of order are named, with both steps', () => {
    const trace: TraceStep[] = [
      step({ step: 11, address: 's.data', word: 100, wrote: 1, buffered: true, visibleAt: 19, routine: 'WriteNoFence' }),
      step({ step: 13, address: 's.ready', word: 104, wrote: 1, routine: 'WriteNoFence' }),
      step({ step: 16, cpu: 1, context: 'b', op: 'read', address: 's.data', word: 100, read: 0, routine: 'ReadNoFence' }),
    ];
    expect(reorderingsOf(trace)).toEqual([
      "CPU 0's store of s.ready (step 14) became visible at step 14, before its earlier store of s.data (step 12, visible at step 20)",
      "CPU 1 read s.data = 0 at step 17, but CPU 0's WriteNoFence of 1 (step 12) stayed in CPU 0's store buffer until step 20",
    ]);
    // In order, without buffering: nothing to say.
    expect(reorderingsOf(trace.map((t) => ({ ...t, buffered: undefined, visibleAt: undefined })))).toEqual([]);
  });

  it('a failure without weak choices has none (the x64 library as before)', () => {
    const s = explore(preset('dual-opteron-240'), abba, { strategy: 'random', seed: 1, schedules: 500 });
    expect(s.outcome).not.toBe('pass');
    expect(s.failure!.reorderings).toBeUndefined();
    expect(hasWeakChoices(s.failure!.schedule)).toBe(false);
  });

  it('the CLI prints them under the failure, and the trace marks buffered stores, flushes and stale reads', () => {
    const f: Failure = { kind: 'invariant', invariant: 'x', message: 'invariant broken', schedule: '', cpu: 1, routine: 'b', step: 20, cpus: [], reorderings: ['CPU 1 read s.data = 0 at step 17, but …'] };
    const summary: RunSummary = { scenario: 'a/b', rig: CHECKED_MP.id, strategy: 'random', seed: 1, schedulesRun: 3, steps: 60, elapsedMs: 1, outcome: 'invariant', failure: f };
    const text = formatSummary(summary, CHECKED_MP, (s) => s);
    expect(text).toContain('It needed a reordering of memory accesses:');
    expect(text).toContain('    - CPU 1 read s.data = 0 at step 17, but …');
    const lines = formatTrace([
      step({ step: 3, address: 's.data', wrote: 1, buffered: true, visibleAt: 5 }),
      { step: 5, cpu: 0, what: 'flush', context: '', kind: 'flush', op: 'flush', routine: '', irql: 0, address: 's.data', wrote: 1, storedAt: 3 },
      step({ step: 6, cpu: 1, op: 'read', address: 's.data', read: 0, stale: { newest: 1, newestStep: 3, newestCpu: 0 } }),
    ]).split('\n');
    expect(lines[0]).toContain('(buffered; visible at #5)');
    expect(lines[1]).toContain('flush s.data = 1 (stored at #3) becomes visible');
    expect(lines[2]).toContain('(an older value: the newest, 1, was stored at #3 by CPU 0)');
  });
});
