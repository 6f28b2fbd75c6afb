import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import { LOCK_QUEUE_OWNER, LOCK_QUEUE_WAIT, LQ_LOCK, LQ_OLD_IRQL, watchQueuedLock } from '../../src/kernel/queued-spinlock.ts';
import { APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, SYNCH_LEVEL } from '../../src/machine/irql.ts';
import queuedFifo from '../../scenarios/spinlock/queued-fifo.ts';
import { allExecutions, CHECKED_MP, CHECKED_UP, FREE_MP, preset, rig, runOnce, scn } from '../helpers.ts';

describe('in-stack queued spin locks', () => {
  it('raise to DISPATCH_LEVEL, keep the old IRQL in the handle, and restore it on release', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          irql: APC_LEVEL,
          *run(k, s) {
            const h = yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
            seen.push(k.KeGetCurrentIrql(), k.peek(h + LQ_OLD_IRQL), k.peek(s.lock) === h * 4 ? 1 : 0, k.peek(h + LQ_LOCK) & LOCK_QUEUE_OWNER);
            yield* k.KeReleaseInStackQueuedSpinLock(h);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([DISPATCH_LEVEL, APC_LEVEL, 1, LOCK_QUEUE_OWNER, APC_LEVEL, 0]);
  });

  it('grants the lock in request order with mutual exclusion, on every explored schedule', () => {
    for (const r of [preset('quad-free'), preset('dual-opteron-240'), preset('p4-ht')]) {
      const res = explore(r, queuedFifo, { strategy: 'random', seed: 7, schedules: 300 });
      expect(res.outcome).toBe('pass');
    }
    const dfs = explore(preset('dual-opteron-240'), queuedFifo, { strategy: 'dfs', preemptionBound: 1, schedules: 20000 });
    expect(dfs.outcome).toBe('pass');
    expect(dfs.exhausted).toBe(true);
  });

  it('a waiter queues behind the holder (WAIT flag, tail pointer) and is handed the lock in order', () => {
    const log: string[] = [];
    const s = scn({
      setup: (k) => {
        const lock = k.KeInitializeSpinLock();
        return { lock, ha: k.ExAllocatePool2(0, 12, 'HndA'), hb: k.ExAllocatePool2(0, 12, 'HndB'), order: watchQueuedLock(k, lock) };
      },
      actors: {
        a: {
          cpu: 0,
          *run(k, st) {
            yield* k.KeAcquireInStackQueuedSpinLock(st.lock, st.ha);
            log.push('a in');
            // wait until b has queued itself: the lock word then points at b's handle
            while ((yield* k.ReadNoFence(st.lock)) !== st.hb * 4);
            log.push(`b waits=${k.peek(st.hb + LQ_LOCK) & LOCK_QUEUE_WAIT} next=${k.peek(st.ha) === st.hb * 4}`);
            yield* k.KeReleaseInStackQueuedSpinLock(st.ha);
            log.push('a out');
          },
        },
        b: {
          cpu: 1,
          *run(k, st) {
            yield* k.YieldProcessor();
            yield* k.KeAcquireInStackQueuedSpinLock(st.lock, st.hb);
            log.push(`b in owner=${k.peek(st.hb + LQ_LOCK) & (LOCK_QUEUE_OWNER | LOCK_QUEUE_WAIT)}`);
            yield* k.KeReleaseInStackQueuedSpinLock(st.hb);
          },
        },
      },
      invariants: { fifo: (st) => st.order.grants.join() === 'a,b' || st.order.grants.join() },
    });
    const x = runOnce(CHECKED_MP, s);
    expect(x.outcome).toBe('pass');
    expect(log[0]).toBe('a in');
    expect(log[1]).toBe(`b waits=${LOCK_QUEUE_WAIT} next=true`);
    expect(log).toContain(`b in owner=${LOCK_QUEUE_OWNER}`);
  });

  it('recursive acquire on a checked build is 0xC4/0x1000 (self-deadlock)', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
            yield* k.KeAcquireInStackQueuedSpinLockAtDpcLevel(s.lock);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure!.bugcheck!.params[0]).toBe(0x1000);
  });

  it('recursive acquire on a free MP build hangs on its own queue', () => {
    const x = runOnce(FREE_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
            yield* k.KeAcquireInStackQueuedSpinLockAtDpcLevel(s.lock);
          },
        },
      },
    }));
    expect(x.outcome).toBe('hang');
  });

  it('release at an IRQL other than DISPATCH_LEVEL is 0xC4/0x36', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            const h = yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
            yield* k.KeRaiseIrql(SYNCH_LEVEL);
            yield* k.KeReleaseInStackQueuedSpinLock(h);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.params[0]).toBe(0x36);
    expect(x.failure!.bugcheck!.params[2]).toBe(SYNCH_LEVEL);
  });

  it('acquire above DISPATCH_LEVEL is 0xC4/0x42; AtDpcLevel below it is 0x40; FromDpcLevel below it is 0x41', () => {
    const hi = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: { t: { *run(k, s) { yield* k.KeRaiseIrql(SYNCH_LEVEL); yield* k.KeAcquireInStackQueuedSpinLock(s.lock); } } },
    }));
    expect(hi.failure?.bugcheck?.params[0]).toBe(0x42);
    const lo = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: { t: { *run(k, s) { yield* k.KeAcquireInStackQueuedSpinLockAtDpcLevel(s.lock); } } },
    }));
    expect(lo.failure?.bugcheck?.params[0]).toBe(0x40);
    const rel = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            const o = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            const h = yield* k.KeAcquireInStackQueuedSpinLockAtDpcLevel(s.lock);
            yield* k.KeLowerIrql(o);
            yield* k.KeReleaseInStackQueuedSpinLockFromDpcLevel(h);
          },
        },
      },
    }));
    expect(rel.failure?.bugcheck?.params[0]).toBe(0x41);
  });

  for (const [hal, r] of [['MP', CHECKED_MP], ['UP', CHECKED_UP]] as const) {
  it(`${hal} HAL: reusing a handle that is still in use is 0xC4/0x00040006`, () => {
    const x = runOnce(r, scn({
      setup: (k) => ({ a: k.KeInitializeSpinLock(), b: k.KeInitializeSpinLock(), h: k.ExAllocatePool2(0, 12, 'Hndl') }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.KeAcquireInStackQueuedSpinLock(s.a, s.h);
            yield* k.KeAcquireInStackQueuedSpinLockAtDpcLevel(s.b, s.h);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure!.bugcheck!.params[0]).toBe(0x00040006);
  });

  it(`${hal} HAL: releasing with a handle that does not hold the lock (double release) is 0xC4/0x00040007`, () => {
    const x = runOnce(r, scn({
      setup: (k) => ({ a: k.KeInitializeSpinLock(), h: k.ExAllocatePool2(0, 12, 'Hndl') }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.KeAcquireInStackQueuedSpinLock(s.a, s.h);
            yield* k.KeReleaseInStackQueuedSpinLock(s.h);
            yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.KeReleaseInStackQueuedSpinLockFromDpcLevel(s.h);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure!.bugcheck!.params[0]).toBe(0x00040007);
  });
  }

  it('a handle passed by the caller can be used again once released', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ a: k.KeInitializeSpinLock(), h: k.ExAllocatePool2(0, 12, 'Hndl') }),
      actors: {
        t: {
          *run(k, s) {
            for (let i = 0; i < 3; i++) {
              yield* k.KeAcquireInStackQueuedSpinLock(s.a, s.h);
              yield* k.KeReleaseInStackQueuedSpinLock(s.h);
            }
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
  });

  it('UP HAL: the lock word is never written, and IRQL still goes to DISPATCH_LEVEL and back', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_UP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            const h = yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
            seen.push(k.peek(s.lock), k.KeGetCurrentIrql());
            yield* k.KeReleaseInStackQueuedSpinLock(h);
            seen.push(k.peek(s.lock), k.KeGetCurrentIrql());
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([0, DISPATCH_LEVEL, 0, PASSIVE_LEVEL]);
  });

  it('ABBA across a queued and a plain lock is caught by Verifier (0x1001)', () => {
    const s = scn({
      setup: (k) => ({ q: k.KeInitializeSpinLock(), p: k.KeInitializeSpinLock() }),
      actors: {
        a: {
          cpu: 0,
          *run(k, st) {
            const h = yield* k.KeAcquireInStackQueuedSpinLock(st.q);
            yield* k.KeAcquireSpinLockAtDpcLevel(st.p);
            yield* k.KeReleaseSpinLockFromDpcLevel(st.p);
            yield* k.KeReleaseInStackQueuedSpinLock(h);
          },
        },
        b: {
          cpu: 1,
          *run(k, st) {
            const o = yield* k.KeAcquireSpinLock(st.p);
            const h = yield* k.KeAcquireInStackQueuedSpinLockAtDpcLevel(st.q);
            yield* k.KeReleaseInStackQueuedSpinLockFromDpcLevel(h);
            yield* k.KeReleaseSpinLock(st.p, o);
          },
        },
      },
    });
    const { executions } = allExecutions(CHECKED_MP, s, new DfsStrategy(1), 500);
    for (const x of executions) expect(x.failure?.bugcheck?.params[0]).toBe(0x1001);
    const free = explore(rig({ id: 'f4', cores: 4, build: 'free' }), s, { strategy: 'random', seed: 2, schedules: 1000 });
    expect(free.outcome).toBe('deadlock');
    expect(runOnce(FREE_MP, s, new RandomStrategy(1)).outcome).toMatch(/pass|deadlock/);
  });
});
