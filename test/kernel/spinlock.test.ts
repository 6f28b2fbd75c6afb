import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, SYNCH_LEVEL } from '../../src/machine/irql.ts';
import abba from '../../scenarios/spinlock/abba.ts';
import keSpinlock from '../../scenarios/spinlock/ke-spinlock.ts';
import recursive from '../../scenarios/spinlock/recursive-acquire.ts';
import { allExecutions, CHECKED_MP, CHECKED_UP, FREE_MP, FREE_UP, PickStrategy, preset, rig, runOnce, scn } from '../helpers.ts';

describe('KeAcquireSpinLock / KeReleaseSpinLock', () => {
  it('raises to DISPATCH_LEVEL, returns the old IRQL, and the release lowers back to it', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        passive: {
          *run(k, s) {
            const old = yield* k.KeAcquireSpinLock(s.lock);
            seen.push(old, k.KeGetCurrentIrql());
            yield* k.KeReleaseSpinLock(s.lock, old);
            seen.push(k.KeGetCurrentIrql());
          },
        },
        apc: {
          cpu: 1,
          irql: APC_LEVEL,
          *run(k, s) {
            const old = yield* k.KeAcquireSpinLockRaiseToDpc(s.lock);
            seen.push(10 + old);
            yield* k.KeReleaseSpinLock(s.lock, old);
            seen.push(10 + k.KeGetCurrentIrql());
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([PASSIVE_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, 10 + APC_LEVEL, 10 + APC_LEVEL]);
  });

  it('MP checked build: the word holds KTHREAD|1 while held and 0 after; free build: 1', () => {
    for (const r of [CHECKED_MP, FREE_MP]) {
      const words: number[] = [];
      let kthread = -1;
      const x = runOnce(r, scn({
        setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
        actors: {
          t: {
            *run(k, s) {
              kthread = k.ctx.thread!.kthread;
              const old = yield* k.KeAcquireSpinLock(s.lock);
              words.push(k.peek(s.lock));
              yield* k.KeReleaseSpinLock(s.lock, old);
              words.push(k.peek(s.lock));
            },
          },
        },
      }));
      expect(x.outcome).toBe('pass');
      expect(words).toEqual([r.build === 'checked' ? (kthread * 4) | 1 : 1, 0]);
    }
  });

  it('UP HAL: acquire only raises IRQL; the lock word is never written', () => {
    for (const r of [CHECKED_UP, FREE_UP, rig({ id: 'up-mix', cores: 2, hal: 'up', upHalOnAllCpus: true, build: 'free' })]) {
      const words: number[] = [];
      const x = runOnce(r, scn({
        setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
        actors: {
          t: {
            *run(k, s) {
              const old = yield* k.KeAcquireSpinLock(s.lock);
              words.push(k.peek(s.lock), k.KeGetCurrentIrql());
              yield* k.KeAcquireSpinLockAtDpcLevel(s.lock + 0); // recursion: silent on UP free, caught on UP checked
              words.push(k.peek(s.lock));
              yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
              yield* k.KeReleaseSpinLock(s.lock, old);
            },
          },
        },
      }));
      if (r.build === 'checked') {
        expect(x.failure?.bugcheck?.name).toBe('SPIN_LOCK_ALREADY_OWNED');
        expect(words).toEqual([0, DISPATCH_LEVEL]);
      } else {
        expect(x.outcome).toBe('pass');
        expect(words).toEqual([0, DISPATCH_LEVEL, 0]);
      }
    }
  });

  it('UP HAL on an MP rig (the unsafe mix) lets two CPUs into the critical section', () => {
    const r = rig({ id: 'up-mix', cores: 2, hal: 'up', upHalOnAllCpus: true, build: 'free' });
    const res = explore(r, keSpinlock, { strategy: 'random', seed: 1, schedules: 500 });
    expect(res.outcome).toBe('invariant');
    expect(res.failure!.invariant).toBe('no lost update');
    // while on the same machine with an MP HAL it is correct
    expect(explore(FREE_MP, keSpinlock, { strategy: 'random', seed: 1, schedules: 300 }).outcome).toBe('pass');
  });

  it('gives mutual exclusion between CPUs on every DFS schedule (bound 2)', () => {
    const { executions, exhausted } = allExecutions(CHECKED_MP, keSpinlock, new DfsStrategy(2), 5000);
    expect(exhausted).toBe(true);
    expect(executions.length).toBeGreaterThan(10);
    for (const x of executions) expect(x.outcome).toBe('pass');
  });

  it('a waiter spins while another CPU holds the lock', () => {
    const log: string[] = [];
    const s = scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        a: { cpu: 0, *run(k, st) { const o = yield* k.KeAcquireSpinLock(st.lock); log.push('a in'); yield* k.YieldProcessor(); yield* k.YieldProcessor(); log.push('a out'); yield* k.KeReleaseSpinLock(st.lock, o); } },
        b: { cpu: 1, *run(k, st) { const o = yield* k.KeAcquireSpinLock(st.lock); log.push('b in'); yield* k.KeReleaseSpinLock(st.lock, o); } },
      },
    });
    // run a until it holds the lock, then b as long as it can
    const x = runOnce(CHECKED_MP, s, new PickStrategy((c) => (log.includes('a in') ? 1 : 0)));
    expect(x.outcome).toBe('pass');
    expect(log).toEqual(['a in', 'a out', 'b in']);
  });

  it('recursive acquire: checked → SPIN_LOCK_ALREADY_OWNED (0x0F) with the lock address; MP free → hang', () => {
    const checked = explore(preset('dual-opteron-240'), recursive, { schedules: 5 });
    expect(checked.outcome).toBe('bugcheck');
    const b = checked.failure!.bugcheck!;
    expect(b.code).toBe(0x0f);
    expect(b.name).toBe('SPIN_LOCK_ALREADY_OWNED');
    expect(b.params[0]).toBeGreaterThan(0);
    expect(b.params[0]! % 4).toBe(0);
    expect(checked.failure!.message).toMatch(/statsLock is already held on CPU 0/);

    const free = explore(preset('quad-free'), recursive, { schedules: 5 });
    expect(free.outcome).toBe('hang');
    expect(free.failure!.waits!.some((w) => w.context === 'receive' && /spins on statsLock, held by itself/.test(w.state))).toBe(true);

    expect(explore(FREE_UP, recursive, { strategy: 'dfs', schedules: 1000 }).outcome).toBe('pass');
  });

  it('lowering IRQL while holding the lock lets a DPC on that CPU take it: checked 0x0F, free deadlock', () => {
    const s = scn({
      setup: (k) => {
        const lock = k.KeInitializeSpinLock();
        const dpc = k.KeInitializeDpc(function* (kk: Kernel, _d, l) {
          yield* kk.KeAcquireSpinLockAtDpcLevel(l);
          yield* kk.KeReleaseSpinLockFromDpcLevel(l);
        }, lock);
        return { lock, dpc };
      },
      actors: {
        t: {
          *run(k, st) {
            const old = yield* k.KeAcquireSpinLock(st.lock);
            yield* k.KeInsertQueueDpc(st.dpc);
            yield* k.KeLowerIrql(PASSIVE_LEVEL); // the bug: the lock is still held
            yield* k.YieldProcessor();
            yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.KeReleaseSpinLock(st.lock, old);
          },
        },
      },
    });
    const checked = runOnce(CHECKED_MP, s);
    expect(checked.failure?.bugcheck?.name).toBe('SPIN_LOCK_ALREADY_OWNED');
    expect(checked.failure!.routine).toMatch(/KeAcquireSpinLockAtDpcLevel/);
    const free = runOnce(FREE_MP, s);
    expect(free.outcome).toBe('deadlock');
  });

  it('release of a lock nobody holds is SPIN_LOCK_NOT_OWNED (0x10)', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: { t: { *run(k, s) { yield* k.KeRaiseIrql(DISPATCH_LEVEL); yield* k.KeReleaseSpinLock(s.lock, PASSIVE_LEVEL); } } },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.code).toBe(0x10);
    expect(x.failure!.bugcheck!.name).toBe('SPIN_LOCK_NOT_OWNED');
    expect(x.failure!.message).toMatch(/is not held/);
  });

  it('release by a CPU that does not hold the lock is SPIN_LOCK_NOT_OWNED (0x10)', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock(), flag: k.ExAllocatePool2(0, 4, 'Flag') }),
      actors: {
        owner: {
          cpu: 0,
          *run(k, s) {
            const o = yield* k.KeAcquireSpinLock(s.lock);
            while ((yield* k.ReadNoFence(s.flag)) === 0);
            yield* k.KeReleaseSpinLock(s.lock, o);
          },
        },
        thief: {
          cpu: 1,
          *run(k, s) {
            yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            while ((yield* k.ReadNoFence(s.lock)) === 0);
            yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
          },
        },
      },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.code).toBe(0x10);
    expect(x.failure!.cpu).toBe(1);
    expect(x.failure!.message).toMatch(/held by CPU 0, not CPU 1/);
  });

  it('double release is 0xC4/0x32 (released below DISPATCH_LEVEL)', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            const o = yield* k.KeAcquireSpinLock(s.lock);
            yield* k.KeReleaseSpinLock(s.lock, o);
            yield* k.KeReleaseSpinLock(s.lock, o);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.code).toBe(0xc4);
    expect(x.failure!.bugcheck!.params[0]).toBe(0x32);
    expect(x.failure!.bugcheck!.params[2]).toBe(PASSIVE_LEVEL);
  });

  it('KeAcquireSpinLock above DISPATCH_LEVEL is 0xC4/0x42', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: { t: { *run(k, s) { yield* k.KeRaiseIrql(SYNCH_LEVEL); yield* k.KeAcquireSpinLock(s.lock); } } },
    }));
    expect(x.failure?.bugcheck?.params[0]).toBe(0x42);
    expect(x.failure!.bugcheck!.params[2]).toBe(SYNCH_LEVEL);
  });
});

describe('AtDpcLevel variants', () => {
  it('do not change IRQL and exclude each other', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        d: {
          kind: 'dpc',
          *run(k, s) {
            yield* k.KeAcquireSpinLockAtDpcLevel(s.lock);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock) !== 0 ? 1 : 0);
            yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([DISPATCH_LEVEL, 1, DISPATCH_LEVEL, 0]);
  });

  it('AtDpcLevel below DISPATCH_LEVEL is 0xC4/0x40; FromDpcLevel below it is 0xC4/0x41', () => {
    const acq = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: { t: { *run(k, s) { yield* k.KeAcquireSpinLockAtDpcLevel(s.lock); } } },
    }));
    expect(acq.failure?.bugcheck?.params[0]).toBe(0x40);
    const rel = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            const o = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.KeAcquireSpinLockAtDpcLevel(s.lock);
            yield* k.KeLowerIrql(o);
            yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
          },
        },
      },
    }));
    expect(rel.failure?.bugcheck?.params[0]).toBe(0x41);
  });

  it('KeTryToAcquireSpinLockAtDpcLevel: TRUE when free, FALSE when the word is set, TRUE on UP', () => {
    for (const r of [CHECKED_MP, FREE_MP, CHECKED_UP]) {
      const got: unknown[] = [];
      const x = runOnce(r, scn({
        setup: (k) => {
          const busy = k.KeInitializeSpinLock();
          k.poke(busy, 1); // held by someone else
          return { free: k.KeInitializeSpinLock(), busy };
        },
        actors: {
          d: {
            kind: 'dpc',
            *run(k, s) {
              got.push(yield* k.KeTryToAcquireSpinLockAtDpcLevel(s.free), k.peek(s.free) !== 0);
              got.push(yield* k.KeTryToAcquireSpinLockAtDpcLevel(s.busy));
              yield* k.KeReleaseSpinLockFromDpcLevel(s.free);
              if (!k.m.mpHal) yield* k.KeReleaseSpinLockFromDpcLevel(s.busy);
            },
          },
        },
      }));
      expect(x.outcome).toBe('pass');
      expect(got).toEqual(r.hal === 'up' ? [true, false, true] : [true, true, false]);
    }
  });

  it('KeTryToAcquireSpinLockAtDpcLevel below DISPATCH_LEVEL is 0xC4/0x40 on a checked build', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: { t: { *run(k, s) { yield* k.KeTryToAcquireSpinLockAtDpcLevel(s.lock); } } },
    }));
    expect(x.failure?.bugcheck?.params[0]).toBe(0x40);
  });
});

describe('lock order (Verifier deadlock detection)', () => {
  it('ABBA on a checked build is 0xC4/0x1001 on every schedule, before any deadlock — MP and UP', () => {
    for (const r of [preset('dual-opteron-240'), preset('uniprocessor')]) {
      const { executions, exhausted } = allExecutions(r, abba, new DfsStrategy(2), 3000);
      expect(exhausted).toBe(true);
      for (const x of executions) {
        expect(x.outcome).toBe('bugcheck');
        expect(x.failure!.bugcheck!.params[0]).toBe(0x1001);
      }
    }
  });

  it('a single thread taking two locks in both orders is 0xC4/0x1001 naming both locks', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ a: k.KeInitializeSpinLock(), b: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, s) {
            const o = yield* k.KeAcquireSpinLock(s.a);
            yield* k.KeAcquireSpinLockAtDpcLevel(s.b);
            yield* k.KeReleaseSpinLockFromDpcLevel(s.b);
            yield* k.KeReleaseSpinLock(s.a, o);
            const o2 = yield* k.KeAcquireSpinLock(s.b);
            yield* k.KeAcquireSpinLockAtDpcLevel(s.a);
            yield* k.KeReleaseSpinLockFromDpcLevel(s.a);
            yield* k.KeReleaseSpinLock(s.b, o2);
          },
        },
      },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.params[0]).toBe(0x1001);
    expect(x.failure!.message).toMatch(/a is acquired while holding b/);
  });

  it('the graph is cleared between runs: one order per run never bug-checks', () => {
    let run = 0;
    const s = scn({
      setup: (k) => ({ a: k.KeInitializeSpinLock(), b: k.KeInitializeSpinLock() }),
      actors: {
        t: {
          *run(k, st) {
            // Even runs take a then b, odd runs b then a: each run alone is consistent.
            const [x, y] = run++ % 2 === 0 ? [st.a, st.b] : [st.b, st.a];
            const o = yield* k.KeAcquireSpinLock(x);
            yield* k.KeAcquireSpinLockAtDpcLevel(y);
            yield* k.KeReleaseSpinLockFromDpcLevel(y);
            yield* k.KeReleaseSpinLock(x, o);
          },
        },
      },
    });
    const { executions } = allExecutions(CHECKED_MP, s, new RandomStrategy(1), 4);
    expect(executions.map((x) => x.outcome)).toEqual(['pass', 'pass', 'pass', 'pass']);
  });

  it('a graph with more pairs than it can hold ends the run with a clear error', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ locks: Array.from({ length: 24 }, () => k.KeInitializeSpinLock()) }),
      actors: {
        t: {
          *run(k, s) {
            // Nesting all 24 in one order records 24·23/2 = 276 pairs.
            const o = yield* k.KeAcquireSpinLock(s.locks[0]!);
            for (const l of s.locks.slice(1)) yield* k.KeAcquireSpinLockAtDpcLevel(l);
            for (const l of s.locks.slice(1).reverse()) yield* k.KeReleaseSpinLockFromDpcLevel(l);
            yield* k.KeReleaseSpinLock(s.locks[0]!, o);
          },
        },
      },
    }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.message).toMatch(/lock-order graph is full: more than 256 distinct pairs/);
  });

  it('free build: ABBA deadlocks, and the waits say who waits on what', () => {
    const r = explore(FREE_MP, abba, { strategy: 'random', seed: 3, schedules: 2000 });
    expect(r.outcome).toBe('deadlock');
    const waits = r.failure!.waits!;
    const dispatch = waits.find((w) => w.context === 'dispatch')!;
    const dpc = waits.find((w) => w.context === 'completionDpc')!;
    expect(dispatch.state).toMatch(/spins on deviceLock, held by dpc 'completionDpc'/);
    expect(dpc.state).toMatch(/spins on queueLock, held by thread 'dispatch'/);
    expect(dispatch.irql).toBe(DISPATCH_LEVEL);
    expect(r.failure!.message).toMatch(/^deadlock/);
  });

  it('random exploration on the free build never bug-checks ABBA (free builds do not run Verifier)', () => {
    const { executions } = allExecutions(FREE_MP, abba, new RandomStrategy(5), 200);
    for (const x of executions) expect(['pass', 'deadlock']).toContain(x.outcome);
  });
});

describe('interrupt spin lock and KeSynchronizeExecution', () => {
  it('runs the routine at the interrupt IRQL with the interrupt lock held and returns its result', () => {
    const seen: unknown[] = [];
    let result: unknown;
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ intr: k.IoConnectInterrupt({ irql: 7, name: 'dev' }) }),
      actors: {
        t: {
          *run(k, s) {
            result = yield* k.KeSynchronizeExecution(s.intr, function* (kk, ctx) {
              seen.push(kk.KeGetCurrentIrql(), kk.peek(s.intr) !== 0, kk.ctx.heldLocks.includes(s.intr), ctx);
              yield* kk.YieldProcessor();
              return ctx * 2;
            }, 21);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.intr));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(result).toBe(42);
    expect(seen).toEqual([7, true, true, 21, PASSIVE_LEVEL, 0]);
  });

  it('IoConnectInterrupt refuses a non-device IRQL', () => {
    const x = runOnce(CHECKED_MP, scn({ setup: (k) => ({ i: k.IoConnectInterrupt({ irql: DISPATCH_LEVEL }) }), actors: { t: { *run() {} } } }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.message).toMatch(/device IRQL/);
  });

  function isrScenario(isrCpu: number, log: string[]) {
    return scn({
      setup: (k) => ({ intr: k.IoConnectInterrupt({ irql: 6, name: 'dev' }) }),
      actors: {
        t: {
          cpu: 0,
          *run(k, s) {
            yield* k.YieldProcessor();
            yield* k.KeSynchronizeExecution(s.intr, function* (kk) {
              log.push('sync in');
              for (let i = 0; i < 3; i++) yield* kk.YieldProcessor();
              log.push('sync out');
              return true;
            });
            yield* k.YieldProcessor();
          },
        },
        isr: {
          kind: 'interrupt',
          cpu: isrCpu,
          interrupt: (s) => s.intr,
          *run(k, s) {
            log.push(`isr irql=${k.KeGetCurrentIrql()} held=${k.ctx.heldLocks.includes(s.intr)} kind=${k.ctx.kind}`);
            yield* k.YieldProcessor();
            log.push('isr out');
          },
        },
      },
    });
  }

  it('an interrupt actor runs its ISR at DIRQL holding the interrupt lock, and never inside KeSynchronizeExecution', () => {
    for (const cpu of [0, 1]) {
      for (let seed = 1; seed <= 40; seed++) {
        const log: string[] = [];
        const x = runOnce(CHECKED_MP, isrScenario(cpu, log), new RandomStrategy(seed));
        expect(x.outcome).toBe('pass');
        expect(log).toContain('isr irql=6 held=true kind=isr');
        const i = log.indexOf('sync in');
        const j = log.findIndex((l) => l.startsWith('isr irql'));
        if (j > i) expect(j).toBeGreaterThan(log.indexOf('sync out'));
        else expect(log.indexOf('isr out')).toBeLessThan(i);
      }
    }
  });

  it('an interrupt arriving on the CPU inside KeSynchronizeExecution waits until IRQL drops', () => {
    const log: string[] = [];
    const s = isrScenario(0, log);
    // fire the interrupt (the only event: choice 2n) as soon as the routine is inside the critical section
    const x = runOnce(CHECKED_MP, s, new PickStrategy((c) => (log.includes('sync in') && c.includes(4) ? 4 : undefined)));
    expect(x.outcome).toBe('pass');
    expect(log).toEqual(['sync in', 'sync out', 'isr irql=6 held=true kind=isr', 'isr out']);
  });
});
