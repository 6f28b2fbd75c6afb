import { describe, expect, it } from 'vitest';
import { explore, replay } from '../../src/engine/explore.ts';
import { decodeSchedule } from '../../src/engine/schedule.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { STATUS_SUCCESS, STATUS_TIMEOUT } from '../../src/kernel/status.ts';
import { MAX_EXPIRIES_PER_RUN, NotificationTimer, SynchronizationTimer, TIMER_INSERTED } from '../../src/kernel/timer.ts';
import { HIGH_LEVEL } from '../../src/machine/irql.ts';
import { timerChoiceBase } from '../../src/engine/strategy.ts';
import { CHECKED_MP, FREE_MP, PickStrategy, preset, runOnce, scn } from '../helpers.ts';

const DUAL = preset('dual-opteron-240');
const MS = -10_000;

function* LogDpc(k: Kernel, _dpc: number, log: number) {
  yield* k.InterlockedIncrement(log);
}

interface S {
  timer: number;
  dpc: number;
  log: number;
}

const oneTimer = (type = NotificationTimer) => (k: Kernel): S => {
  const log = k.ExAllocatePool2(0, 16, 'Log');
  return { timer: k.KeInitializeTimerEx(null, type, 'T'), dpc: k.KeInitializeDpc(LogDpc, log, 'LogDpc'), log };
};

describe('KTIMER', () => {
  it('a thread waits on a notification timer: expiry signals it (KeReadStateTimer TRUE) and queues its DPC once', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: oneTimer(),
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT(!k.KeReadStateTimer(s.timer), 'not signalled after initialization');
            k.NT_ASSERT((yield* k.KeSetTimer(s.timer, 10 * MS, s.dpc)) === false, 'was not set');
            k.NT_ASSERT((yield* k.KeWaitForSingleObject(s.timer, 0, 0, false, null)) === STATUS_SUCCESS);
            k.NT_ASSERT(k.KeReadStateTimer(s.timer), 'a notification timer stays signalled');
            k.NT_ASSERT(k.peek(s.timer + TIMER_INSERTED) === 0, 'a one-shot timer leaves the queue when it expires');
            k.NT_ASSERT((yield* k.KeCancelTimer(s.timer)) === false, 'nothing to cancel after expiry');
          },
        },
      },
      invariants: { 'DPC ran once': (s, k) => k.peek(s.log) === 1 || `ran ${k.peek(s.log)} times` },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('a synchronization timer is reset by the wait it satisfies; KeSetTimer resets a signalled timer', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: oneTimer(SynchronizationTimer),
      actors: {
        t: {
          *run(k, s) {
            yield* k.KeSetTimer(s.timer, 5 * MS);
            k.NT_ASSERT((yield* k.KeWaitForSingleObject(s.timer, 0, 0, false, null)) === STATUS_SUCCESS);
            k.NT_ASSERT(!k.KeReadStateTimer(s.timer), 'the satisfied wait reset it');
            k.NT_ASSERT((yield* k.KeWaitForSingleObject(s.timer, 0, 0, false, 0)) === STATUS_TIMEOUT, 'a poll finds it not signalled');
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('KeSetTimerEx and KeCancelTimer return whether the timer was in the queue', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: oneTimer(),
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT((yield* k.KeCancelTimer(s.timer)) === false, 'cancel of a timer never set');
            k.NT_ASSERT((yield* k.KeSetTimerEx(s.timer, 10 * MS, 0, s.dpc)) === false);
            k.NT_ASSERT((yield* k.KeSetTimerEx(s.timer, 20 * MS, 0, s.dpc)) === true, 'setting a set timer');
            k.NT_ASSERT((yield* k.KeCancelTimer(s.timer)) === true, 'cancel of a set timer');
            k.NT_ASSERT((yield* k.KeCancelTimer(s.timer)) === false, 'second cancel');
          },
        },
      },
      invariants: { 'cancelled: no DPC': (s, k) => k.peek(s.log) === 0 || `ran ${k.peek(s.log)} times` },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it('timers expire in due-time order whatever the strategy picks; each may expire at any step in between', () => {
    // (Set the other way round, the late timer may expire before the early one is even set: time may pass in between.)
    const orders = new Set<string>();
    const s = scn<{ early: number; late: number; order: number[] }>({
      setup: (k) => ({ early: k.KeInitializeTimer(null, 'Early'), late: k.KeInitializeTimer(null, 'Late'), order: [] }),
      actors: {
        setter: {
          cpu: 0,
          *run(k, s) {
            yield* k.KeSetTimer(s.early, 10 * MS);
            yield* k.KeSetTimer(s.late, 30 * MS);
            const r = yield* k.KeWaitForMultipleObjects(2, [s.early, s.late], 0 /* WaitAll */);
            k.NT_ASSERT(r === STATUS_SUCCESS);
          },
        },
        observer: {
          cpu: 1,
          *run(k, s) {
            for (let i = 0; i < 4; i++) {
              s.order.push((k.KeReadStateTimer(s.early) ? 1 : 0) + (k.KeReadStateTimer(s.late) ? 2 : 0));
              yield* k.YieldProcessor();
            }
          },
        },
      },
      invariants: {
        'late never before early': (st) => {
          orders.add(st.order.join(''));
          return !st.order.includes(2) || `late expired first: ${st.order.join(',')}`;
        },
      },
    });
    const r = explore(DUAL, s, { strategy: 'random', seed: 2, schedules: 400 });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
    // The observer saw neither, only the early one, and both at various points.
    const seen = new Set([...orders].flatMap((o) => [...o]));
    expect(seen).toEqual(new Set(['0', '1', '3']));
  });

  it(`a periodic timer re-arms and expires up to ${MAX_EXPIRIES_PER_RUN} times in a run`, () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: oneTimer(SynchronizationTimer),
      actors: {
        t: {
          *run(k, s) {
            yield* k.KeSetTimerEx(s.timer, 10 * MS, 10, s.dpc);
            for (let i = 0; i < MAX_EXPIRIES_PER_RUN; i++) k.NT_ASSERT((yield* k.KeWaitForSingleObject(s.timer, 0, 0, false, null)) === STATUS_SUCCESS);
            k.NT_ASSERT(k.peek(s.timer + TIMER_INSERTED) === 1, 'still in the queue');
            yield* k.KeCancelTimer(s.timer);
            yield* k.KeFlushQueuedDpcs();
          },
        },
      },
      invariants: { 'a DPC per expiry (or merged while queued)': (s, k) => (k.peek(s.log) >= 1 && k.peek(s.log) <= MAX_EXPIRIES_PER_RUN) || `ran ${k.peek(s.log)} times` },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  it("a failure that depends on when the timer expires is recorded with 'timer' choices and replays", () => {
    // The driver assumes its 10 ms timeout cannot fire before it has cleared Busy: it can.
    const s = scn<S>({
      setup: oneTimer(),
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            yield* k.KeSetTimer(s.timer, 10 * MS, s.dpc);
            yield* k.YieldProcessor();
            yield* k.YieldProcessor();
            yield* k.KeCancelTimer(s.timer);
          },
        },
      },
      invariants: { 'timeout never fired': (st, k) => k.peek(st.log) === 0 || 'the timeout DPC ran' },
    });
    const r = explore(DUAL, s, { strategy: 'random', seed: 1, schedules: 200 });
    expect(r.outcome).toBe('invariant');
    const rec = decodeSchedule(r.failure!.schedule);
    expect(rec.choices.some((c) => c.kind === 'timer' && c.timer === 0)).toBe(true);
    const again = replay(DUAL, s, r.failure!.schedule);
    expect(again.summary.outcome).toBe('invariant');
  });

  it('IRQL: KeSetTimerEx and KeCancelTimer above DISPATCH_LEVEL are 0xC4/0xE5 on a checked build', () => {
    const high = scn<S>({
      setup: oneTimer(),
      actors: { t: { *run(k, s) { const old = yield* k.KeRaiseIrql(HIGH_LEVEL); yield* k.KeSetTimer(s.timer, 10 * MS); yield* k.KeCancelTimer(s.timer); yield* k.KeLowerIrql(old); } } },
    });
    const c = runOnce(CHECKED_MP, high);
    expect(c.failure?.bugcheck?.code).toBe(0xc4);
    expect(c.failure?.bugcheck?.params[0]).toBe(0xe5);
    expect(c.failure?.message).toMatch(/KeSetTimerEx called at HIGH_LEVEL/);
    expect(runOnce(FREE_MP, high).outcome).toBe('pass');
  });

  it('KeCancelTimer does not take back a DPC the timer queued already: it still runs', () => {
    // Expire a timer as soon as one may: the highest choice id is a timer's.
    const eager = new PickStrategy((choices) => (choices[choices.length - 1]! >= timerChoiceBase(CHECKED_MP.cores * CHECKED_MP.threadsPerCore) ? choices[choices.length - 1] : undefined));
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: oneTimer(),
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            const old = yield* k.KeRaiseIrql(2);
            yield* k.KeSetTimer(s.timer, 1 * MS, s.dpc);
            // At DISPATCH_LEVEL the DPC cannot run here; wait until the timer has expired and queued it.
            while (!k.KeReadStateTimer(s.timer)) yield* k.YieldProcessor();
            k.NT_ASSERT((yield* k.KeCancelTimer(s.timer)) === false, 'already expired');
            yield* k.KeLowerIrql(old);
          },
        },
      },
      invariants: { 'the queued DPC ran': (s, k) => k.peek(s.log) === 1 || `ran ${k.peek(s.log)} times` },
    }), eager);
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });
});
