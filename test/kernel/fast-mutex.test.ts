import { describe, expect, it } from 'vitest';
import { ControlledRun, type Execution } from '../../src/engine/controlled.ts';
import { explore } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { defaultChoice, type Strategy } from '../../src/engine/strategy.ts';
import { FM_CONTENTION, FM_COUNT, FM_LOCK_BIT } from '../../src/kernel/fast-mutex.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { APC_LEVEL, PASSIVE_LEVEL } from '../../src/machine/irql.ts';
import type { Routine } from '../../src/machine/ops.ts';
import { presetRig } from '../../src/machine/presets.ts';
import type { Rig } from '../../src/machine/rig.ts';
import { defineScenario, type Actor } from '../../src/scenario/define.ts';

const DUAL = presetRig('dual-opteron-240')!;
const FREE = presetRig('quad-free')!;
const UP = presetRig('uniprocessor')!;

let serial = 0;
function scenarioOf<S>(setup: (k: Kernel) => S, actors: Record<string, Actor<S>>, capture: (s: S) => void = () => {}) {
  return defineScenario<S>({
    id: `test/fast-mutex-${serial++}`, title: 't', description: '', family: 'test', expect: 'pass',
    setup: (k) => {
      const s = setup(k);
      capture(s);
      return s;
    },
    actors,
  });
}
/** One execution: the engine's default choices, or `pick(state, choices)` where it names one. */
function run<S>(rig: Rig, setup: (k: Kernel) => S, actors: Record<string, Actor<S>>, pick?: (s: S, choices: number[]) => number | undefined): { x: Execution; s: S } {
  let state: S | undefined;
  const scenario = scenarioOf(setup, actors, (s) => (state = s));
  const strategy: Strategy = pick
    ? {
        name: 'pick',
        newExecution: () => true,
        next: (choices, count, current) => {
          const arr = Array.from(choices.subarray(0, count));
          const c = pick(state!, arr);
          return c !== undefined && arr.includes(c) ? c : defaultChoice(choices, count, current);
        },
      }
    : new DfsStrategy(0);
  strategy.newExecution(0);
  return { x: new ControlledRun(rig, scenario).execute(strategy), s: state! };
}
function thread<S>(cpu: number, body: (k: Kernel, s: S) => Routine<unknown>, irql = 0): Actor<S> {
  return { cpu, irql, run: body };
}

describe('FAST_MUTEX', () => {
  it('raises to APC_LEVEL while held and restores the caller\'s IRQL (PASSIVE or APC) on release', () => {
    const { x, s } = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex(), log: [] as string[] }), {
      passive: { cpu: 0, *run(k, s) {
        yield* k.ExAcquireFastMutex(s.fm);
        s.log.push(`held at ${k.KeGetCurrentIrql()} by ${k.fastMutexOwner(s.fm)}`);
        yield* k.ExReleaseFastMutex(s.fm);
        s.log.push(`after ${k.KeGetCurrentIrql()}`);
      } },
      apc: { cpu: 1, irql: APC_LEVEL, *run(k, s) {
        yield* k.ExAcquireFastMutex(s.fm);
        yield* k.ExReleaseFastMutex(s.fm);
        s.log.push(`apc thread after ${k.KeGetCurrentIrql()}`);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([`held at ${APC_LEVEL} by passive`, `after ${PASSIVE_LEVEL}`, `apc thread after ${APC_LEVEL}`]);
  });

  it('mutual exclusion under contention on every explored schedule; the Count word ends free', () => {
    let contended = 0;
    const scenario = defineScenario({
      id: 'test/fm-contention', title: 't', description: '', family: 'test', expect: 'pass',
      setup: (k) => ({ fm: k.ExInitializeFastMutex(), c: k.ExAllocatePool2(0, 4, 'C'), inside: { n: 0 } }),
      actors: Object.fromEntries([0, 1, 0, 1].map((cpu, i) => [`t${i}`, {
        cpu,
        *run(k: Kernel, s: { fm: number; c: number; inside: { n: number } }) {
          yield* k.ExAcquireFastMutex(s.fm);
          k.NT_ASSERT(++s.inside.n === 1, 'two owners');
          const v = yield* k.ReadNoFence(s.c);
          yield* k.WriteNoFence(s.c, v + 1);
          s.inside.n--;
          yield* k.ExReleaseFastMutex(s.fm);
        },
      }])),
      invariants: {
        counted: (s, k) => k.peek(s.c) === 4,
        free: (s, k) => {
          if (k.peek(s.fm + FM_CONTENTION) > 0) contended++;
          return k.peek(s.fm + FM_COUNT) === FM_LOCK_BIT || `Count is ${k.peek(s.fm + FM_COUNT)}`;
        },
      },
    });
    for (const rig of [DUAL, FREE, UP]) expect(explore(rig, scenario, { schedules: 1500 }).outcome).toBe('pass');
    expect(contended).toBeGreaterThan(100);
  });

  it('is not recursive: checked build 0xC4/0x1000 (self-deadlock); free build the thread waits on itself (hang)', () => {
    const recurse = thread<{ fm: number }>(0, function* (k, s) {
      yield* k.ExAcquireFastMutex(s.fm);
      yield* k.ExAcquireFastMutex(s.fm);
    });
    const checked = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex() }), { t: recurse }).x;
    expect(checked.failure?.bugcheck?.params[0]).toBe(0x1000);
    const free = run(FREE, (k) => ({ fm: k.ExInitializeFastMutex() }), { t: recurse }).x;
    expect(free.outcome).toBe('hang');
    expect(free.failure!.message).toMatch(/FAST_MUTEX fm.*held by itself/);
  });

  it('checked: acquire above APC_LEVEL is 0xC4/0x33; release at an IRQL other than APC_LEVEL is 0xC4/0x34', () => {
    const above = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex(), lock: k.KeInitializeSpinLock() }), {
      t: { cpu: 0, *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.ExAcquireFastMutex(s.fm);
        yield* k.KeReleaseSpinLock(s.lock, old);
      } },
    }).x;
    expect(above.failure?.bugcheck?.params[0]).toBe(0x33);
    const lowered = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex() }), {
      t: { cpu: 0, *run(k, s) {
        yield* k.ExAcquireFastMutex(s.fm);
        yield* k.KeLowerIrql(PASSIVE_LEVEL);
        yield* k.ExReleaseFastMutex(s.fm);
      } },
    }).x;
    expect(lowered.failure?.bugcheck?.params[0]).toBe(0x34);
  });

  it('checked: a release by a thread that does not own it is 0xC4/0x1004; of a free mutex 0xC4/0x1007', () => {
    const notOwner = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex() }), {
      owner: { cpu: 0, *run(k, s) { yield* k.ExAcquireFastMutex(s.fm); yield* k.KeDelayExecutionThread(0, false, -1); yield* k.ExReleaseFastMutex(s.fm); } },
      other: { cpu: 1, *run(k, s) { const old = yield* k.KeRaiseIrql(APC_LEVEL); yield* k.ExReleaseFastMutex(s.fm); yield* k.KeLowerIrql(old); } },
    }).x;
    expect(notOwner.failure?.bugcheck?.params[0]).toBe(0x1004);
    const free = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex() }), {
      t: { cpu: 0, *run(k, s) { const old = yield* k.KeRaiseIrql(APC_LEVEL); yield* k.ExReleaseFastMutex(s.fm); yield* k.KeLowerIrql(old); } },
    }).x;
    expect(free.failure?.bugcheck?.params[0]).toBe(0x1007);
  });

  it('ExTryToAcquireFastMutex: TRUE at APC_LEVEL when free; FALSE with IRQL unchanged when owned', () => {
    const { x, s } = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex(), log: [] as string[] }), {
      owner: { cpu: 0, *run(k, s) {
        s.log.push(`try:${yield* k.ExTryToAcquireFastMutex(s.fm)}@${k.KeGetCurrentIrql()}`);
        yield* k.KeDelayExecutionThread(0, false, -1); // sleep holding it, until the strategy fires the timer
        yield* k.ExReleaseFastMutex(s.fm);
      } },
      other: { cpu: 1, *run(k, s) {
        s.log.push(`try:${yield* k.ExTryToAcquireFastMutex(s.fm)}@${k.KeGetCurrentIrql()}`);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([`try:true@${APC_LEVEL}`, `try:false@${PASSIVE_LEVEL}`]);
  });

  it('Unsafe variants: fine inside a critical region; checked 0xC4/0x39 at PASSIVE_LEVEL with APCs enabled, 0xC4/0x3A on release', () => {
    const ok = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex(), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) {
        yield* k.ExEnterCriticalRegionAndAcquireFastMutexUnsafe(s.fm);
        s.log.push(k.KeGetCurrentIrql());
        yield* k.ExReleaseFastMutexUnsafeAndLeaveCriticalRegion(s.fm);
      } },
    });
    expect(ok.x.outcome).toBe('pass');
    expect(ok.s.log).toEqual([PASSIVE_LEVEL]);
    const bare = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex() }), {
      t: { cpu: 0, *run(k, s) { yield* k.ExAcquireFastMutexUnsafe(s.fm); yield* k.ExReleaseFastMutexUnsafe(s.fm); } },
    }).x;
    expect(bare.failure?.bugcheck?.params[0]).toBe(0x39);
    const release = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex() }), {
      t: { cpu: 0, *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        yield* k.ExAcquireFastMutexUnsafe(s.fm);
        yield* k.KeLeaveCriticalRegion();
        yield* k.ExReleaseFastMutexUnsafe(s.fm);
      } },
    }).x;
    expect(release.failure?.bugcheck?.params[0]).toBe(0x3a);
  });

  it('takes part in Verifier\'s lock-order graph: two fast mutexes in both orders is 0xC4/0x1001', () => {
    const scenario = scenarioOf((k) => ({ a: k.ExInitializeFastMutex(), b: k.ExInitializeFastMutex() }), {
      t1: { cpu: 0, *run(k, s) { yield* k.ExAcquireFastMutex(s.a); yield* k.ExAcquireFastMutex(s.b); yield* k.ExReleaseFastMutex(s.b); yield* k.ExReleaseFastMutex(s.a); } },
      t2: { cpu: 1, *run(k, s) { yield* k.ExAcquireFastMutex(s.b); yield* k.ExAcquireFastMutex(s.a); yield* k.ExReleaseFastMutex(s.a); yield* k.ExReleaseFastMutex(s.b); } },
    });
    expect(explore(DUAL, scenario, { schedules: 500 }).failure?.bugcheck?.params[0]).toBe(0x1001);
    expect(explore(FREE, scenario, { schedules: 2000 }).outcome).toBe('deadlock');
  });

  it('a waiter is woken by the release; a newcomer may barge in before it (not FIFO)', () => {
    // owner holds; waiter blocks; owner releases and immediately re-acquires before the waiter runs.
    const { x, s } = run(DUAL, (k) => ({ fm: k.ExInitializeFastMutex(), log: [] as string[] }), {
      owner: { cpu: 0, *run(k, s) {
        yield* k.ExAcquireFastMutex(s.fm);
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.KeDelayExecutionThread(0, false, 0);
        yield* k.ExReleaseFastMutex(s.fm);
        yield* k.ExAcquireFastMutex(s.fm);
        s.log.push('owner again');
        yield* k.ExReleaseFastMutex(s.fm);
      } },
      waiter: { cpu: 1, *run(k, s) {
        yield* k.ExAcquireFastMutex(s.fm);
        s.log.push('waiter');
        yield* k.ExReleaseFastMutex(s.fm);
      } },
    }, (s, choices) => (choices.includes(0) ? 0 : undefined)); // CPU 0 whenever it can
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['owner again', 'waiter']);
  });

  it('free build: a DPC that finds the mutex owned tries to wait: ATTEMPTED_SWITCH_FROM_DPC', () => {
    const scenario = scenarioOf((k) => ({ fm: k.ExInitializeFastMutex() }), {
      t: { cpu: 0, *run(k, s) { yield* k.ExAcquireFastMutex(s.fm); yield* k.KeDelayExecutionThread(0, false, -1); yield* k.ExReleaseFastMutex(s.fm); } },
      dpc: { kind: 'dpc', cpu: 1, *run(k, s) { yield* k.ExAcquireFastMutex(s.fm); yield* k.ExReleaseFastMutex(s.fm); } },
    });
    expect(explore(FREE, scenario, { schedules: 200 }).failure?.bugcheck?.name).toBe('ATTEMPTED_SWITCH_FROM_DPC');
  });
});

describe('guarded mutex', () => {
  it('holds the owner in a guarded region at its IRQL; not recursive', () => {
    const { x, s } = run(DUAL, (k) => ({ gm: k.KeInitializeGuardedMutex(), log: [] as string[] }), {
      t: { cpu: 0, *run(k, s) {
        yield* k.KeAcquireGuardedMutex(s.gm);
        s.log.push(`irql ${k.KeGetCurrentIrql()} all apcs off ${k.KeAreAllApcsDisabled()}`);
        yield* k.KeReleaseGuardedMutex(s.gm);
        s.log.push(`all apcs off ${k.KeAreAllApcsDisabled()}`);
        s.log.push(`try ${yield* k.KeTryToAcquireGuardedMutex(s.gm)}`);
        yield* k.KeReleaseGuardedMutex(s.gm);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([`irql ${PASSIVE_LEVEL} all apcs off true`, 'all apcs off false', 'try true']);
    const recursive = run(DUAL, (k) => ({ gm: k.KeInitializeGuardedMutex() }), {
      t: { cpu: 0, *run(k, s) { yield* k.KeAcquireGuardedMutex(s.gm); yield* k.KeAcquireGuardedMutex(s.gm); } },
    }).x;
    expect(recursive.failure?.bugcheck?.params[0]).toBe(0x1000);
  });
});
