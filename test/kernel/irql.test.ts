import { describe, expect, it } from 'vitest';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import { APC_LEVEL, DISPATCH_LEVEL, HIGH_LEVEL, PASSIVE_LEVEL, SYNCH_LEVEL } from '../../src/machine/irql.ts';
import { CHECKED_MP, FREE_MP, rig, runOnce, scn } from '../helpers.ts';

describe('KeRaiseIrql / KeLowerIrql', () => {
  it('raise returns the previous IRQL, lower restores it', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: () => ({}),
      actors: {
        t: {
          *run(k) {
            seen.push(k.KeGetCurrentIrql());
            const a = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            seen.push(a, k.KeGetCurrentIrql());
            const b = yield* k.KeRaiseIrqlToSynchLevel();
            seen.push(b, k.KeGetCurrentIrql());
            yield* k.KeLowerIrql(b);
            seen.push(k.KeGetCurrentIrql());
            yield* k.KeLowerIrql(a);
            seen.push(k.KeGetCurrentIrql());
          },
        },
        apc: {
          cpu: 1,
          irql: APC_LEVEL,
          *run(k) {
            const old = yield* k.KeRaiseIrqlToDpcLevel();
            seen.push(100 + old);
            yield* k.KeLowerIrql(old);
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen.filter((v) => v < 100)).toEqual([PASSIVE_LEVEL, PASSIVE_LEVEL, DISPATCH_LEVEL, DISPATCH_LEVEL, SYNCH_LEVEL, DISPATCH_LEVEL, PASSIVE_LEVEL]);
    expect(seen.filter((v) => v >= 100)).toEqual([100 + APC_LEVEL]);
  });

  it('IRQL belongs to one CPU: raising on CPU 0 leaves CPU 1 at PASSIVE_LEVEL', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ flag: k.ExAllocatePool2(0, 4, 'Flag') }),
      actors: {
        raiser: {
          cpu: 0,
          *run(k, s) {
            const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
            yield* k.WriteNoFence(s.flag, 1);
            while ((yield* k.ReadNoFence(s.flag)) !== 2);
            yield* k.KeLowerIrql(old);
          },
        },
        other: {
          cpu: 1,
          *run(k, s) {
            while ((yield* k.ReadNoFence(s.flag)) !== 1);
            seen.push(k.KeGetCurrentIrql());
            yield* k.WriteNoFence(s.flag, 2);
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen).toEqual([PASSIVE_LEVEL]);
  });

  it('raising to a lower IRQL is 0xC4/0x30 on a checked build, with current and requested IRQL', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: () => ({}),
      actors: { t: { *run(k) { yield* k.KeRaiseIrql(DISPATCH_LEVEL); yield* k.KeRaiseIrql(APC_LEVEL); } } },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.code).toBe(0xc4);
    expect(x.failure!.bugcheck!.name).toBe('DRIVER_VERIFIER_DETECTED_VIOLATION');
    expect(x.failure!.bugcheck!.params).toEqual([0x30, DISPATCH_LEVEL, APC_LEVEL, 0]);
    expect(x.failure!.bugcheck!.subcodeMeaning).toMatch(/KeRaiseIrql/);
  });

  it('raising above HIGH_LEVEL is 0xC4/0x30', () => {
    const x = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { t: { *run(k) { yield* k.KeRaiseIrql(HIGH_LEVEL + 1); } } } }));
    expect(x.failure?.bugcheck?.params[0]).toBe(0x30);
  });

  it('lowering to a higher IRQL is 0xC4/0x31; parameter 4 says whether it was inside a DPC', () => {
    const thread = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { t: { *run(k) { yield* k.KeLowerIrql(DISPATCH_LEVEL); } } } }));
    expect(thread.failure!.bugcheck!.params).toEqual([0x31, PASSIVE_LEVEL, DISPATCH_LEVEL, 0]);
    const dpc = runOnce(CHECKED_MP, scn({ setup: () => ({}), actors: { d: { kind: 'dpc', *run(k) { yield* k.KeLowerIrql(SYNCH_LEVEL); } } } }));
    expect(dpc.outcome).toBe('bugcheck');
    expect(dpc.failure!.bugcheck!.params).toEqual([0x31, DISPATCH_LEVEL, SYNCH_LEVEL, 1]);
  });

  it('a free build does not check raise/lower direction', () => {
    const x = runOnce(FREE_MP, scn({
      setup: () => ({}),
      actors: { t: { *run(k) { yield* k.KeRaiseIrql(DISPATCH_LEVEL); yield* k.KeRaiseIrql(PASSIVE_LEVEL); } } },
    }));
    expect(x.outcome).toBe('pass');
  });

  it('a thread that returns at raised IRQL is IRQL_GT_ZERO_AT_SYSTEM_SERVICE (0x4A)', () => {
    for (const r of [CHECKED_MP, FREE_MP]) {
      const x = runOnce(r, scn({ setup: () => ({}), actors: { leaky: { *run(k) { yield* k.KeRaiseIrql(DISPATCH_LEVEL); } } } }));
      expect(x.outcome).toBe('bugcheck');
      expect(x.failure!.bugcheck!.code).toBe(0x4a);
      expect(x.failure!.bugcheck!.name).toBe('IRQL_GT_ZERO_AT_SYSTEM_SERVICE');
      expect(x.failure!.bugcheck!.params[1]).toBe(DISPATCH_LEVEL);
      expect(x.failure!.message).toMatch(/leaky/);
    }
  });

  it('a DPC that returns at another IRQL than DISPATCH_LEVEL is IRQL_UNEXPECTED_VALUE (0xC8)', () => {
    const x = runOnce(CHECKED_MP, scn({
      setup: () => ({}),
      actors: { d: { kind: 'dpc', *run(k) { yield* k.KeRaiseIrql(SYNCH_LEVEL); } } },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.code).toBe(0xc8);
    expect(x.failure!.bugcheck!.name).toBe('IRQL_UNEXPECTED_VALUE');
    expect(x.failure!.bugcheck!.params[0]).toBe((SYNCH_LEVEL << 16) | (DISPATCH_LEVEL << 8));
    const low = runOnce(CHECKED_MP, scn({
      setup: () => ({}),
      actors: { d: { kind: 'dpc', *run(k) { yield* k.KeLowerIrql(PASSIVE_LEVEL); } } },
    }));
    expect(low.failure?.bugcheck?.code).toBe(0xc8);
    expect(low.failure!.bugcheck!.params[0]).toBe((PASSIVE_LEVEL << 16) | (DISPATCH_LEVEL << 8));
  });
});

describe('quantum end', () => {
  const QUANTUM = rig({ id: 'q', cores: 1, quantum: 2 });

  function twoThreads(raise: boolean) {
    const log: string[] = [];
    const s = scn({
      setup: () => ({}),
      actors: {
        a: {
          *run(k) {
            const old = raise ? yield* k.KeRaiseIrql(DISPATCH_LEVEL) : 0;
            log.push('a:start');
            for (let i = 0; i < 8; i++) yield* k.YieldProcessor();
            log.push('a:end');
            if (raise) yield* k.KeLowerIrql(old);
          },
        },
        b: { *run(k) { log.push('b'); yield* k.YieldProcessor(); } },
      },
    });
    return { s, log };
  }

  it('switches threads on one CPU once the quantum expires below DISPATCH_LEVEL', () => {
    const { s, log } = twoThreads(false);
    expect(runOnce(QUANTUM, s).outcome).toBe('pass');
    expect(log).toEqual(['a:start', 'b', 'a:end']);
  });

  it('never switches while the thread is at DISPATCH_LEVEL, whatever the strategy', () => {
    let sawAFirst = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { s, log } = twoThreads(true);
      const x = runOnce(QUANTUM, s, new RandomStrategy(seed));
      expect(x.outcome).toBe('pass');
      const i = log.indexOf('a:start');
      if (i >= 0 && i < log.indexOf('b')) {
        sawAFirst++;
        expect(log).toEqual(['a:start', 'a:end', 'b']);
      }
    }
    expect(sawAFirst).toBeGreaterThan(0);
  });
});
