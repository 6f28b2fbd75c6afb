import { describe, expect, it } from 'vitest';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import type { Routine } from '../../src/machine/ops.ts';
import { EX_SPIN_LOCK_EXCLUSIVE } from '../../src/kernel/rwspinlock.ts';
import { APC_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL, SYNCH_LEVEL } from '../../src/machine/irql.ts';
import { ControlledRun } from '../../src/engine/controlled.ts';
import correct from '../../scenarios/rwspinlock/correct.ts';
import { allExecutions, CHECKED_MP, CHECKED_UP, FREE_MP, preset, runOnce, scn, traceKey } from '../helpers.ts';

interface S {
  lock: number;
}

const setup = (k: Kernel): S => ({ lock: k.name(k.ExAllocatePool2(0x40, 4, 'Lock'), 'rwLock') });

describe('ExAcquireSpinLockShared / ExAcquireSpinLockExclusive', () => {
  it('raise to DISPATCH_LEVEL and return the previous IRQL; the releases lower back to it', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn<S>({
      setup,
      actors: {
        reader: {
          irql: APC_LEVEL,
          *run(k, s) {
            const old = yield* k.ExAcquireSpinLockShared(s.lock);
            seen.push(old, k.KeGetCurrentIrql(), k.peek(s.lock));
            yield* k.ExReleaseSpinLockShared(s.lock, old);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock));
            const o2 = yield* k.ExAcquireSpinLockExclusive(s.lock);
            seen.push(o2, k.KeGetCurrentIrql(), k.peek(s.lock));
            yield* k.ExReleaseSpinLockExclusive(s.lock, o2);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([APC_LEVEL, DISPATCH_LEVEL, 1, APC_LEVEL, 0, APC_LEVEL, DISPATCH_LEVEL, EX_SPIN_LOCK_EXCLUSIVE, APC_LEVEL, 0]);
  });

  /** Two readers and a writer with ghost counters of who is inside, checked at every step inside. */
  function mix(log: { readersTogether: number; violations: string[] }) {
    let readers = 0;
    let writers = 0;
    function* reader(k: Kernel, s: S) {
      const old = yield* k.ExAcquireSpinLockShared(s.lock);
      readers++;
      for (let i = 0; i < 2; i++) {
        if (writers !== 0) log.violations.push('reader with a writer inside');
        if (readers === 2) log.readersTogether++;
        yield* k.YieldProcessor();
      }
      readers--;
      yield* k.ExReleaseSpinLockShared(s.lock, old);
    }
    return scn<S>({
      setup: (k) => {
        readers = 0;
        writers = 0;
        return setup(k);
      },
      actors: {
        r1: { cpu: 0, *run(k, s) { yield* reader(k, s); } },
        r2: { cpu: 1, *run(k, s) { yield* reader(k, s); } },
        w: {
          cpu: 2,
          *run(k, s) {
            const old = yield* k.ExAcquireSpinLockExclusive(s.lock);
            writers++;
            for (let i = 0; i < 2; i++) {
              if (readers !== 0 || writers !== 1) log.violations.push('writer not alone');
              if (k.peek(s.lock) !== EX_SPIN_LOCK_EXCLUSIVE) log.violations.push(`word 0x${(k.peek(s.lock) >>> 0).toString(16)} under the writer`);
              yield* k.YieldProcessor();
            }
            writers--;
            yield* k.ExReleaseSpinLockExclusive(s.lock, old);
          },
        },
      },
    });
  }

  it('readers share the lock; a writer is alone in it (random schedules on 3 CPUs, checked and free builds)', () => {
    for (const r of [{ ...CHECKED_MP, cores: 3 }, { ...FREE_MP, cores: 3 }]) {
      const log = { readersTogether: 0, violations: [] as string[] };
      const s = mix(log);
      for (let seed = 1; seed <= 150; seed++) expect(runOnce(r, s, new RandomStrategy(seed)).outcome).toBe('pass');
      expect(log.violations).toEqual([]);
      expect(log.readersTogether).toBeGreaterThan(0);
    }
  }, 30_000);

  it('a writer that claimed the lock keeps new readers out while it waits for the old ones (writer preference)', () => {
    // r1 holds the lock shared; w claims it; r2 arrives afterwards: it must not get in before w.
    const order: string[] = [];
    const s = scn<S>({
      setup,
      actors: {
        r1: {
          cpu: 0,
          *run(k, st) {
            const old = yield* k.ExAcquireSpinLockShared(st.lock);
            order.push('r1 in');
            for (let i = 0; i < 6; i++) yield* k.YieldProcessor();
            yield* k.ExReleaseSpinLockShared(st.lock, old);
          },
        },
        w: {
          cpu: 1,
          *run(k, st) {
            const old = yield* k.ExAcquireSpinLockExclusive(st.lock);
            order.push('w in');
            yield* k.ExReleaseSpinLockExclusive(st.lock, old);
          },
        },
        r2: {
          cpu: 2,
          *run(k, st) {
            // Waits until the writer bit is set while r1 is inside (or the writer is done), then asks for the lock.
            while ((k.peek(st.lock) & EX_SPIN_LOCK_EXCLUSIVE) === 0 && !order.includes('w in')) yield* k.YieldProcessor();
            if (!order.includes('w in') && order.includes('r1 in')) order.push('r2 saw the claim');
            const old = yield* k.ExAcquireSpinLockShared(st.lock);
            order.push('r2 in');
            yield* k.ExReleaseSpinLockShared(st.lock, old);
          },
        },
      },
    });
    let checked = 0;
    for (let seed = 1; seed <= 60; seed++) {
      order.length = 0;
      expect(runOnce({ ...CHECKED_MP, cores: 3 }, s, new RandomStrategy(seed)).outcome).toBe('pass');
      if (order.includes('r2 saw the claim')) {
        expect(order.indexOf('w in')).toBeLessThan(order.indexOf('r2 in'));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('UP HAL: only the IRQL is raised; the word is never written', () => {
    const words: number[] = [];
    const x = runOnce(CHECKED_UP, scn<S>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            const a = yield* k.ExAcquireSpinLockExclusive(s.lock);
            words.push(k.peek(s.lock), k.KeGetCurrentIrql());
            yield* k.ExReleaseSpinLockExclusive(s.lock, a);
            const b = yield* k.ExAcquireSpinLockShared(s.lock);
            words.push(k.peek(s.lock));
            yield* k.ExReleaseSpinLockShared(s.lock, b);
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(words).toEqual([0, DISPATCH_LEVEL, 0]);
  });
});

describe('AtDpcLevel variants and ExTryConvertSharedSpinLockExclusive', () => {
  it('the AtDpcLevel forms leave IRQL alone', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn<S>({
      setup,
      actors: {
        d: {
          kind: 'dpc',
          *run(k, s) {
            yield* k.ExAcquireSpinLockSharedAtDpcLevel(s.lock);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock));
            yield* k.ExReleaseSpinLockSharedFromDpcLevel(s.lock);
            yield* k.ExAcquireSpinLockExclusiveAtDpcLevel(s.lock);
            seen.push(k.peek(s.lock));
            yield* k.ExReleaseSpinLockExclusiveFromDpcLevel(s.lock);
            seen.push(k.KeGetCurrentIrql(), k.peek(s.lock));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([DISPATCH_LEVEL, 1, EX_SPIN_LOCK_EXCLUSIVE, DISPATCH_LEVEL, 0]);
  });

  it('converts the sole reader to exclusive (TRUE), and refuses while another reader holds it (FALSE, still shared)', () => {
    const got: unknown[] = [];
    const x = runOnce(CHECKED_MP, scn<S & { other: number }>({
      setup: (k) => {
        const s = setup(k);
        const other = k.ExAllocatePool2(0x40, 4, 'Lck2');
        k.poke(other, 1); // another CPU holds this one shared
        return { ...s, other };
      },
      actors: {
        t: {
          *run(k, s) {
            const old = yield* k.ExAcquireSpinLockShared(s.lock);
            got.push(yield* k.ExTryConvertSharedSpinLockExclusive(s.lock), k.peek(s.lock));
            yield* k.ExReleaseSpinLockExclusive(s.lock, old);
            got.push(k.peek(s.lock), k.KeGetCurrentIrql());
            const o2 = yield* k.ExAcquireSpinLockShared(s.other);
            got.push(yield* k.ExTryConvertSharedSpinLockExclusive(s.other), k.peek(s.other));
            yield* k.ExReleaseSpinLockShared(s.other, o2);
            got.push(k.peek(s.other));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(got).toEqual([true, EX_SPIN_LOCK_EXCLUSIVE, 0, PASSIVE_LEVEL, false, 2, 1]);
  });
});

describe('checked-build checks', () => {
  function misuse(body: (k: Kernel, s: S) => Routine<void>, kind: 'thread' | 'dpc' = 'thread') {
    return scn<S>({ setup, actors: { t: kind === 'dpc' ? { kind: 'dpc', *run(k, s) { yield* body(k, s); } } : { *run(k, s) { yield* body(k, s); } } } });
  }
  const cases: [string, ReturnType<typeof misuse>, number, number?][] = [
    ['a second shared acquire on the same CPU is 0x0F', misuse(function* (k, s) {
      yield* k.ExAcquireSpinLockShared(s.lock);
      yield* k.ExAcquireSpinLockShared(s.lock);
    }), 0x0f],
    ['exclusive after shared on the same CPU is 0x0F', misuse(function* (k, s) {
      yield* k.ExAcquireSpinLockShared(s.lock);
      yield* k.ExAcquireSpinLockExclusive(s.lock);
    }), 0x0f],
    ['releasing shared what is not held is 0x10', misuse(function* (k, s) {
      yield* k.KeRaiseIrqlToDpcLevel();
      yield* k.ExReleaseSpinLockShared(s.lock, 0);
    }), 0x10],
    ['releasing exclusive what is held shared is 0x10', misuse(function* (k, s) {
      const old = yield* k.ExAcquireSpinLockShared(s.lock);
      yield* k.ExReleaseSpinLockExclusive(s.lock, old);
    }), 0x10],
    ['converting a lock not held shared is 0x10', misuse(function* (k, s) {
      yield* k.ExTryConvertSharedSpinLockExclusive(s.lock);
    }, 'dpc'), 0x10],
    ['acquiring above DISPATCH_LEVEL is 0xC4/0x42', misuse(function* (k, s) {
      yield* k.KeRaiseIrql(SYNCH_LEVEL);
      yield* k.ExAcquireSpinLockShared(s.lock);
    }), 0xc4, 0x42],
    ['the AtDpcLevel acquire below DISPATCH_LEVEL is 0xC4/0x40', misuse(function* (k, s) {
      yield* k.ExAcquireSpinLockExclusiveAtDpcLevel(s.lock);
    }), 0xc4, 0x40],
    ['the FromDpcLevel release below DISPATCH_LEVEL is 0xC4/0x41', misuse(function* (k, s) {
      yield* k.ExReleaseSpinLockSharedFromDpcLevel(s.lock);
    }), 0xc4, 0x41],
    ['a raising release at an IRQL other than DISPATCH_LEVEL is 0xC4/0x32', misuse(function* (k, s) {
      const old = yield* k.ExAcquireSpinLockExclusive(s.lock);
      yield* k.KeLowerIrql(PASSIVE_LEVEL);
      yield* k.ExReleaseSpinLockExclusive(s.lock, old);
    }), 0xc4, 0x32],
  ];
  for (const [title, s, code, sub] of cases) {
    it(title, () => {
      const x = runOnce(CHECKED_MP, s);
      expect(x.outcome, x.failure?.message).toBe('bugcheck');
      expect(x.failure?.bugcheck?.code).toBe(code);
      if (sub !== undefined) expect(x.failure?.bugcheck?.params[0]).toBe(sub);
    });
  }

  it('free build: a recursive shared acquire with no writer goes through; a recursive exclusive one spins forever', () => {
    const shared = misuse(function* (k, s) {
      const a = yield* k.ExAcquireSpinLockShared(s.lock);
      yield* k.ExAcquireSpinLockSharedAtDpcLevel(s.lock);
      yield* k.ExReleaseSpinLockSharedFromDpcLevel(s.lock);
      yield* k.ExReleaseSpinLockShared(s.lock, a);
    });
    expect(runOnce(FREE_MP, shared).outcome).toBe('pass');
    const exclusive = misuse(function* (k, s) {
      yield* k.ExAcquireSpinLockExclusive(s.lock);
      yield* k.ExAcquireSpinLockExclusiveAtDpcLevel(s.lock);
    });
    expect(['deadlock', 'hang']).toContain(runOnce(FREE_MP, exclusive).outcome);
  });

  it('every DFS schedule (bound 2) of two writers on a checked MP build passes', () => {
    const s = scn<S & { n: number }>({
      setup: (k) => ({ ...setup(k), n: k.ExAllocatePool2(0x40, 4, 'N') }),
      actors: Object.fromEntries([0, 1].map((cpu) => [`w${cpu}`, {
        cpu,
        *run(k: Kernel, st: S & { n: number }) {
          const old = yield* k.ExAcquireSpinLockExclusive(st.lock);
          yield* k.WriteNoFence(st.n, (yield* k.ReadNoFence(st.n)) + 1);
          yield* k.ExReleaseSpinLockExclusive(st.lock, old);
        },
      }])),
      invariants: { 'both counted': (st, k) => k.peek(st.n) === 2 || `n = ${k.peek(st.n)}` },
    });
    const { executions, exhausted } = allExecutions(CHECKED_MP, s, new DfsStrategy(2), 5000);
    expect(exhausted).toBe(true);
    for (const x of executions) expect(x.outcome).toBe('pass');
  });
});

describe('determinism of a run with yields (rwspinlock/correct)', () => {
  it('the first execution of a ControlledRun equals the later ones (fair-scheduling state does not leak between runs)', () => {
    const run = new ControlledRun(preset('dual-opteron-240'), correct);
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const d = new DfsStrategy(1);
      d.newExecution();
      keys.push(traceKey(run.execute(d, { trace: true }).trace));
    }
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).toBe(keys[0]);
  });
});
