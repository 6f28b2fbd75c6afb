import { describe, expect, it } from 'vitest';
import { ControlledRun, type Execution } from '../../src/engine/controlled.ts';
import { explore } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import type { Strategy } from '../../src/engine/strategy.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import {
  NotificationEvent, STATUS_MUTANT_NOT_OWNED, STATUS_SEMAPHORE_LIMIT_EXCEEDED, STATUS_SUCCESS, STATUS_TIMEOUT,
  STATUS_WAIT_0, SynchronizationEvent, WaitAll, WaitAny,
} from '../../src/kernel/status.ts';
import { RaisedException } from '../../src/machine/bugcheck.ts';
import { DISPATCH_LEVEL, HIGH_LEVEL } from '../../src/machine/irql.ts';
import { presetRig } from '../../src/machine/presets.ts';
import type { Rig } from '../../src/machine/rig.ts';
import { defineScenario, type Actor } from '../../src/scenario/define.ts';

const DUAL = presetRig('dual-opteron-240')!;
const UP = presetRig('uniprocessor')!;
const FREE = presetRig('quad-free')!;

let serial = 0;
type Actors<S> = Record<string, Actor<S>>;

/** One execution with the engine's default choices (run the current CPU on; else the lowest): returns it and the state. */
function run<S>(rig: Rig, setup: (k: Kernel) => S, actors: Actors<S>): { x: Execution; s: S } {
  let state: S | undefined;
  const scenario = defineScenario<S>({
    id: `test/dispatcher-${serial++}`, title: 't', description: '', family: 'test', expect: 'pass',
    setup: (k) => (state = setup(k)),
    actors,
  });
  const strategy: Strategy = new DfsStrategy(0);
  strategy.newExecution(0);
  const x = new ControlledRun(rig, scenario).execute(strategy);
  return { x, s: state! };
}


describe('KEVENT', () => {
  it('notification event: KeSetEvent wakes every waiter, stays signalled, and returns the previous state', () => {
    const { x, s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), log: [] as string[] }), {
      w1: { cpu: 0, *run(k, s) { s.log.push(`w1:${yield* k.KeWaitForSingleObject(s.ev)}`); } },
      w2: { cpu: 0, *run(k, s) { s.log.push(`w2:${yield* k.KeWaitForSingleObject(s.ev)}`); } },
      setter: { cpu: 1, *run(k, s) {
        s.log.push(`waiters:${k.dispatcherWaiterCount(s.ev)}`);
        s.log.push(`set:${yield* k.KeSetEvent(s.ev, 0, false)}`);
        s.log.push(`set:${yield* k.KeSetEvent(s.ev, 0, false)}`);
        s.log.push(`state:${yield* k.KeReadStateEvent(s.ev)}`);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log.slice(0, 4)).toEqual(['waiters:2', 'set:0', 'set:1', 'state:1']);
    expect(s.log.slice(4).sort()).toEqual(['w1:0', 'w2:0']);
  });

  it('synchronization event: one KeSetEvent releases exactly one waiter, in FIFO order, and is consumed', () => {
    const { x, s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(SynchronizationEvent, false), log: [] as string[] }), {
      first: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.ev); s.log.push('first'); } },
      second: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.ev); s.log.push('second'); } },
      setter: { cpu: 1, *run(k, s) {
        yield* k.KeSetEvent(s.ev, 0, false);
        s.log.push(`after one set: ${k.dispatcherWaiterCount(s.ev)} waiting, state ${yield* k.KeReadStateEvent(s.ev)}`);
        yield* k.KeSetEvent(s.ev, 0, false);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log[0]).toBe('after one set: 1 waiting, state 0');
    expect(s.log.slice(1)).toEqual(['first', 'second']);
  });

  it('synchronization event with no waiter stays set until one wait consumes it', () => {
    const { x, s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(SynchronizationEvent, false), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) {
        yield* k.KeSetEvent(s.ev, 0, false);
        s.log.push(yield* k.KeReadStateEvent(s.ev));
        s.log.push(yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, 0));
        s.log.push(yield* k.KeReadStateEvent(s.ev));
        s.log.push(yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, 0));
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([1, STATUS_SUCCESS, 0, STATUS_TIMEOUT]);
  });

  it('KePulseEvent wakes the current waiters and leaves the event not signalled; with no waiter it signals nothing', () => {
    const { x, s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), log: [] as string[] }), {
      waiter: { cpu: 0, *run(k, s) { s.log.push(`woken:${yield* k.KeWaitForSingleObject(s.ev)}`); } },
      pulser: { cpu: 1, *run(k, s) {
        s.log.push(`pulse:${yield* k.KePulseEvent(s.ev, 0, false)}`);
        s.log.push(`state:${yield* k.KeReadStateEvent(s.ev)}`);
        yield* k.KePulseEvent(s.ev, 0, false);
        s.log.push(`poll:${yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, 0)}`);
        yield* k.KeSetEvent(s.ev, 0, false);
        s.log.push(`pulse-when-set:${yield* k.KePulseEvent(s.ev, 0, false)}`);
        s.log.push(`state:${yield* k.KeReadStateEvent(s.ev)}`);
      } },
    });
    expect(x.outcome).toBe('pass');
    // When the woken waiter logs depends on the schedule (the poll is a yield, which lets it go first).
    expect(s.log.filter((l) => !l.startsWith('woken'))).toEqual(['pulse:0', 'state:0', `poll:${STATUS_TIMEOUT}`, 'pulse-when-set:1', 'state:0']);
    expect(s.log.filter((l) => l.startsWith('woken'))).toEqual(['woken:0']);
  });

  it('KeResetEvent returns the previous state; KeClearEvent clears', () => {
    const { s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, true), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) {
        s.log.push(yield* k.KeResetEvent(s.ev));
        s.log.push(yield* k.KeResetEvent(s.ev));
        yield* k.KeSetEvent(s.ev, 0, false);
        yield* k.KeClearEvent(s.ev);
        s.log.push(yield* k.KeReadStateEvent(s.ev));
      } },
    });
    expect(s.log).toEqual([1, 0, 0]);
  });

  it('re-initializing an event that still has waiters corrupts its wait list: 0x139/3', () => {
    const { x } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false) }), {
      waiter: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.ev); } },
      reinit: { cpu: 1, *run(k, s) { yield* k.KeDelayExecutionThread(0, false, 0); k.KeInitializeEvent(NotificationEvent, false, s.ev); } },
    });
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.name).toBe('KERNEL_SECURITY_CHECK_FAILURE');
    expect(x.failure!.bugcheck!.params[0]).toBe(3);
  });
});

describe('waits', () => {
  it('a zero timeout polls: STATUS_TIMEOUT at once, and is allowed at DISPATCH_LEVEL on a checked build', () => {
    const { x, s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), lock: k.KeInitializeSpinLock(), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        s.log.push(yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, 0));
        yield* k.KeReleaseSpinLock(s.lock, old);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([STATUS_TIMEOUT]);
  });

  it('a finite timeout expires as an event the strategy fires: STATUS_TIMEOUT when nobody signals', () => {
    const { x, s } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) { s.log.push(yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, -10_000)); } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([STATUS_TIMEOUT]);
  });

  it('a timed wait ends either signalled or timed out depending on the schedule, and replays the same way', () => {
    const results = new Set<number>();
    let last: number[] = [];
    const scenario = defineScenario({
      id: 'test/timed-wait', title: 't', description: '', family: 'test', expect: 'pass',
      setup: (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), log: (last = [] as number[]) }),
      actors: {
        waiter: { cpu: 0, *run(k, s) { s.log.push(yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, -1)); } },
        setter: { cpu: 1, *run(k, s) { yield* k.KeDelayExecutionThread(0, false, 0); yield* k.KeSetEvent(s.ev, 0, false); } },
      },
      invariants: { recorded: (s) => { results.add(s.log[0]!); return s.log.length === 1; } },
    });
    const r = explore(DUAL, scenario, { strategy: 'random', seed: 3, schedules: 300 });
    expect(r.outcome).toBe('pass');
    expect([...results].sort()).toEqual([STATUS_SUCCESS, STATUS_TIMEOUT].sort());
    expect(last.length).toBe(1);
  });

  it('WaitAny returns the index of the first signalled object and consumes only that one', () => {
    const { x, s } = run(DUAL, (k) => ({
      a: k.KeInitializeEvent(SynchronizationEvent, false),
      b: k.KeInitializeEvent(SynchronizationEvent, true),
      c: k.KeInitializeEvent(SynchronizationEvent, true),
      log: [] as number[],
    }), {
      t: { cpu: 0, *run(k, s) {
        s.log.push(yield* k.KeWaitForMultipleObjects(3, [s.a, s.b, s.c], WaitAny));
        s.log.push(yield* k.KeReadStateEvent(s.b), yield* k.KeReadStateEvent(s.c));
        s.log.push(yield* k.KeWaitForMultipleObjects(3, [s.a, s.b, s.c], WaitAny));
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual([STATUS_WAIT_0 + 1, 0, 1, STATUS_WAIT_0 + 2]);
  });

  it('WaitAll waits until every object is signalled at once; a partial signal is not consumed', () => {
    const { x, s } = run(DUAL, (k) => ({
      a: k.KeInitializeEvent(SynchronizationEvent, false),
      b: k.KeInitializeEvent(SynchronizationEvent, false),
      log: [] as string[],
    }), {
      waiter: { cpu: 0, *run(k, s) { s.log.push(`waitall:${yield* k.KeWaitForMultipleObjects(2, [s.a, s.b], WaitAll)}`); } },
      setter: { cpu: 1, *run(k, s) {
        yield* k.KeSetEvent(s.a, 0, false);
        s.log.push(`a after set:${yield* k.KeReadStateEvent(s.a)}`);
        yield* k.KeSetEvent(s.b, 0, false);
        s.log.push(`a,b after both:${yield* k.KeReadStateEvent(s.a)},${yield* k.KeReadStateEvent(s.b)}`);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['a after set:1', 'a,b after both:0,0', 'waitall:0']);
  });

  it('more than 3 objects without a wait block array is MAXIMUM_WAIT_OBJECTS_EXCEEDED; with one, up to 64', () => {
    const four = run(DUAL, (k) => ({ evs: [0, 1, 2, 3].map(() => k.KeInitializeEvent(NotificationEvent, true)) }), {
      t: { cpu: 0, *run(k, s) { yield* k.KeWaitForMultipleObjects(4, s.evs, WaitAny); } },
    });
    expect(four.x.failure?.bugcheck?.name).toBe('MAXIMUM_WAIT_OBJECTS_EXCEEDED');
    const withArray = run(DUAL, (k) => ({ evs: [0, 1, 2, 3].map(() => k.KeInitializeEvent(NotificationEvent, true)), blocks: k.ExAllocatePool2(0, 64, 'WtBk') }), {
      t: { cpu: 0, *run(k, s) { yield* k.KeWaitForMultipleObjects(4, s.evs, WaitAll, 0, 0, false, null, s.blocks); } },
    });
    expect(withArray.x.outcome).toBe('pass');
  });

  it('KeDelayExecutionThread sleeps until its timer fires; a zero interval only yields', () => {
    const { x, s } = run(DUAL, (k) => ({ log: [] as string[] }), {
      sleeper: { cpu: 0, *run(k, s) { s.log.push('sleep'); yield* k.KeDelayExecutionThread(0, false, -10_000); s.log.push('woke'); } },
      other: { cpu: 1, *run(k, s) { yield* k.KeDelayExecutionThread(0, false, 0); s.log.push('other'); } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['sleep', 'other', 'woke']);
  });
});

describe('wait IRQL rules', () => {
  const atDispatch = (timeout: number | null) =>
    run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), lock: k.KeInitializeSpinLock() }), {
      t: { cpu: 0, *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, timeout);
        yield* k.KeReleaseSpinLock(s.lock, old);
      } },
    }).x;

  it('checked: an infinite wait at DISPATCH_LEVEL is 0xC4/0x121, a non-zero timeout 0xC4/0x122', () => {
    expect(atDispatch(null).failure?.bugcheck?.params[0]).toBe(0x121);
    expect(atDispatch(-1).failure?.bugcheck?.params[0]).toBe(0x122);
  });

  it('checked: a wait above DISPATCH_LEVEL is 0xC4/0x120, even a poll', () => {
    const { x } = run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false) }), {
      t: { cpu: 0, *run(k, s) {
        const old = yield* k.KeRaiseIrql(HIGH_LEVEL);
        yield* k.KeWaitForSingleObject(s.ev, 0, 0, false, 0);
        yield* k.KeLowerIrql(old);
      } },
    });
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure?.bugcheck?.params[0]).toBe(0x120);
  });

  it('checked: KeSetEvent above DISPATCH_LEVEL is 0xC4/0x80; with Wait = TRUE above APC_LEVEL 0xC4/0x00020016', () => {
    const setAt = (irql: number, wait: boolean) =>
      run(DUAL, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false) }), {
        t: { cpu: 0, *run(k, s) {
          const old = yield* k.KeRaiseIrql(irql);
          yield* k.KeSetEvent(s.ev, 0, wait);
          yield* k.KeLowerIrql(old);
        } },
      }).x;
    expect(setAt(HIGH_LEVEL, false).failure?.bugcheck?.params[0]).toBe(0x80);
    expect(setAt(DISPATCH_LEVEL, true).failure?.bugcheck?.params[0]).toBe(0x00020016);
    expect(setAt(DISPATCH_LEVEL, false).outcome).toBe('pass');
  });

  it('a wait from a DPC is ATTEMPTED_SWITCH_FROM_DPC on a checked build, and on a free build when it would block', () => {
    const dpcWait = (rig: Rig, initially: boolean) =>
      run(rig, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, initially) }), {
        dpc: { kind: 'dpc', cpu: 1, *run(k, s) { yield* k.KeWaitForSingleObject(s.ev); } },
      }).x;
    expect(dpcWait(DUAL, true).failure?.bugcheck?.name).toBe('ATTEMPTED_SWITCH_FROM_DPC');
    expect(dpcWait(FREE, false).failure?.bugcheck?.name).toBe('ATTEMPTED_SWITCH_FROM_DPC');
    expect(dpcWait(FREE, true).outcome).toBe('pass');
  });

  it('free build: a thread that waits holding a spin lock sleeps with it held, and the lock\'s next user deadlocks', () => {
    const { x } = run(FREE, (k) => ({ ev: k.KeInitializeEvent(NotificationEvent, false), lock: k.KeInitializeSpinLock() }), {
      holder: { cpu: 0, *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.KeWaitForSingleObject(s.ev);
        yield* k.KeReleaseSpinLock(s.lock, old);
      } },
      setter: { cpu: 1, *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.KeReleaseSpinLock(s.lock, old);
        yield* k.KeSetEvent(s.ev, 0, false);
      } },
    });
    expect(x.outcome).toBe('deadlock');
    expect(x.failure!.message).toMatch(/waits for notification event ev/);
  });
});

describe('KMUTEX', () => {
  it('is recursive for its owner, puts it in a critical region, and is released level by level', () => {
    const { x, s } = run(DUAL, (k) => ({ mtx: k.KeInitializeMutex(0), log: [] as string[] }), {
      owner: { cpu: 0, *run(k, s) {
        s.log.push(`w1:${yield* k.KeWaitForSingleObject(s.mtx)}`);
        s.log.push(`apcs off:${k.KeAreApcsDisabled()}`);
        s.log.push(`w2:${yield* k.KeWaitForSingleObject(s.mtx)}`);
        s.log.push(`state:${yield* k.KeReadStateMutex(s.mtx)}`);
        s.log.push(`rel:${yield* k.KeReleaseMutex(s.mtx, false)}`);
        s.log.push(`rel:${yield* k.KeReleaseMutex(s.mtx, false)}`);
        s.log.push(`apcs off:${k.KeAreApcsDisabled()}`);
      } },
      other: { cpu: 1, *run(k, s) {
        yield* k.KeWaitForSingleObject(s.mtx);
        s.log.push('other got it');
        yield* k.KeReleaseMutex(s.mtx, false);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['w1:0', 'apcs off:true', 'w2:0', 'state:-1', 'rel:-1', 'rel:0', 'apcs off:false', 'other got it']);
  });

  it('a release by a thread that does not own it raises STATUS_MUTANT_NOT_OWNED: catchable, else 0x1E', () => {
    const caught = run(DUAL, (k) => ({ mtx: k.KeInitializeMutex(0), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) {
        try {
          yield* k.KeReleaseMutex(s.mtx, false);
        } catch (e) {
          if (e instanceof RaisedException) s.log.push(e.status);
          else throw e;
        }
      } },
    });
    expect(caught.x.outcome).toBe('pass');
    expect(caught.s.log).toEqual([STATUS_MUTANT_NOT_OWNED]);
    const uncaught = run(DUAL, (k) => ({ mtx: k.KeInitializeMutex(0) }), {
      owner: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.mtx); yield* k.KeReleaseMutex(s.mtx, false); } },
      thief: { cpu: 0, *run(k, s) { yield* k.KeReleaseMutex(s.mtx, false); } },
    });
    expect(uncaught.x.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(uncaught.x.failure?.bugcheck?.params[0]).toBe(STATUS_MUTANT_NOT_OWNED);
  });

  it('a thread that returns still owning a mutex is APC_INDEX_MISMATCH (its critical region is unbalanced)', () => {
    const { x } = run(DUAL, (k) => ({ mtx: k.KeInitializeMutex(0) }), {
      t: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.mtx); } },
    });
    expect(x.failure?.bugcheck?.name).toBe('APC_INDEX_MISMATCH');
  });

  it('two mutexes taken in both orders: Verifier lock hierarchy 0xC4/0x1001 on a checked build', () => {
    const scenario = defineScenario({
      id: 'test/mutex-abba', title: 't', description: '', family: 'test', expect: 'pass',
      setup: (k) => ({ a: k.KeInitializeMutex(0), b: k.KeInitializeMutex(0) }),
      actors: {
        t1: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.a); yield* k.KeWaitForSingleObject(s.b); yield* k.KeReleaseMutex(s.b, false); yield* k.KeReleaseMutex(s.a, false); } },
        t2: { cpu: 1, *run(k, s) { yield* k.KeWaitForSingleObject(s.b); yield* k.KeWaitForSingleObject(s.a); yield* k.KeReleaseMutex(s.a, false); yield* k.KeReleaseMutex(s.b, false); } },
      },
    });
    const r = explore(DUAL, scenario, { schedules: 200 });
    expect(r.failure?.bugcheck?.params[0]).toBe(0x1001);
    expect(explore(FREE, scenario, { schedules: 2000 }).outcome).toBe('deadlock');
  });
});

describe('KSEMAPHORE', () => {
  it('counts: waits take units; a release satisfies waiters while the count stays positive; returns the old count', () => {
    const { x, s } = run(DUAL, (k) => ({ sem: k.KeInitializeSemaphore(0, 5), log: [] as string[] }), {
      w1: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.sem); s.log.push('w1'); } },
      w2: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.sem); s.log.push('w2'); } },
      w3: { cpu: 0, *run(k, s) { yield* k.KeWaitForSingleObject(s.sem); s.log.push('w3'); } },
      releaser: { cpu: 1, *run(k, s) {
        s.log.push(`old:${yield* k.KeReleaseSemaphore(s.sem, 0, 2, false)}`);
        s.log.push(`count:${yield* k.KeReadStateSemaphore(s.sem)} waiting:${k.dispatcherWaiterCount(s.sem)}`);
        s.log.push(`old:${yield* k.KeReleaseSemaphore(s.sem, 0, 3, false)}`);
        s.log.push(`count:${yield* k.KeReadStateSemaphore(s.sem)}`);
      } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log.slice(0, 4)).toEqual(['old:0', 'count:0 waiting:1', 'old:0', 'count:2']);
    expect(s.log.slice(4)).toEqual(['w1', 'w2', 'w3']);
  });

  it('a release past the limit raises STATUS_SEMAPHORE_LIMIT_EXCEEDED and leaves the count alone', () => {
    const { x, s } = run(DUAL, (k) => ({ sem: k.KeInitializeSemaphore(1, 2), log: [] as number[] }), {
      t: { cpu: 0, *run(k, s) {
        try {
          yield* k.KeReleaseSemaphore(s.sem, 0, 2, false);
        } catch (e) {
          if (!(e instanceof RaisedException)) throw e;
          s.log.push(e.status);
        }
        s.log.push(yield* k.KeReadStateSemaphore(s.sem));
        s.log.push(yield* k.KeReleaseSemaphore(s.sem, 0, 1, false));
        yield* k.KeReleaseSemaphore(s.sem, 0, 1, false); // past the limit, unhandled
      } },
    });
    expect(s.log).toEqual([STATUS_SEMAPHORE_LIMIT_EXCEEDED, 1, 1]);
    expect(x.failure?.bugcheck?.name).toBe('KMODE_EXCEPTION_NOT_HANDLED');
    expect(x.failure?.bugcheck?.params[0]).toBe(STATUS_SEMAPHORE_LIMIT_EXCEEDED);
  });
});

describe('dispatcher scenarios on one CPU', () => {
  it('a wait on the only CPU switches to the thread that will signal', () => {
    const { x, s } = run(UP, (k) => ({ ev: k.KeInitializeEvent(SynchronizationEvent, false), log: [] as string[] }), {
      waiter: { cpu: 0, *run(k, s) { s.log.push('wait'); yield* k.KeWaitForSingleObject(s.ev); s.log.push('woken'); } },
      setter: { cpu: 0, *run(k, s) { s.log.push('set'); yield* k.KeSetEvent(s.ev, 0, false); } },
    });
    expect(x.outcome).toBe('pass');
    expect(s.log).toEqual(['wait', 'set', 'woken']);
    expect(DISPATCH_LEVEL).toBe(2);
  });
});
