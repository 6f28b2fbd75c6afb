/**
 * Windows' ordering APIs (src/kernel/ordering.ts): each load and store reaches the memory model
 * with the order it promises, the barriers reach it with the right kind (or not at all), the
 * volatile accessors follow the scenario's `volatile` setting and the rig's default, the
 * Interlocked*Acquire/Release/NoFence forms behave as the full-barrier operation, and a spin on
 * any read form is recognised as a spin.
 */
import { describe, expect, it } from 'vitest';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { KERNEL_API } from '../../src/kernel/registry.ts';
import { ORDER_ACQUIRE, ORDER_PLAIN, ORDER_RELEASE, ORDER_SC, type FenceKind, type MemoryOrder } from '../../src/machine/weak-memory.ts';
import type { Routine } from '../../src/machine/ops.ts';
import type { Rig } from '../../src/machine/rig.ts';
import type { Scenario } from '../../src/scenario/define.ts';
import { CHECKED_MP, preset, rig, runOnce, scn } from '../helpers.ts';

const ARM64 = rig({ id: 'test-arm64', arch: 'arm64' });

interface Seen {
  reads: { addr: number; order: MemoryOrder }[];
  writes: { addr: number; value: number; order: MemoryOrder }[];
  fences: FenceKind[];
  /** ctx.order of every operation the actor performed (the announced order bits). */
  ctxOrders: number[];
}

/** Runs `body` as one thread on `r`, recording what reaches the memory model (the machine's WeakMemory). */
function observe(r: Rig, body: (k: Kernel, s: { p: number }) => Routine<unknown>, extra: Partial<Pick<Scenario, 'volatile'>> = {}): Seen & { outcome: string; message?: string } {
  const seen: Seen = { reads: [], writes: [], fences: [], ctxOrders: [] };
  const s = scn({
    ...extra,
    setup: (k) => {
      const weak = k.m.weak;
      // Patched per run (setup runs on a freshly reset machine each time): the model sees each access.
      const read = weak.read.bind(weak);
      const write = weak.write.bind(weak);
      const fence = weak.fence.bind(weak);
      weak.read = (cpu, addr, order, variant) => {
        seen.reads.push({ addr, order });
        seen.ctxOrders.push(k.m.cur.order);
        return read(cpu, addr, order, variant);
      };
      weak.write = (cpu, addr, value, order, variant) => {
        seen.writes.push({ addr, value, order });
        seen.ctxOrders.push(k.m.cur.order);
        write(cpu, addr, value, order, variant);
      };
      weak.fence = (cpu, kind) => {
        seen.fences.push(kind);
        fence(cpu, kind);
      };
      return { p: k.ExAllocatePool2(0, 16, 'Test') };
    },
    actors: { t: { cpu: 0, *run(k, st) { yield* body(k, st); } } },
  });
  const x = runOnce(r, s);
  return { ...seen, outcome: x.outcome, message: x.failure?.message };
}

const READS: [string, MemoryOrder][] = [
  ['ReadNoFence', ORDER_PLAIN], ['ReadNoFence8', ORDER_PLAIN], ['ReadNoFence16', ORDER_PLAIN], ['ReadNoFence64', ORDER_PLAIN], ['ReadPointerNoFence', ORDER_PLAIN],
  ['ReadRaw', ORDER_PLAIN], ['ReadRaw8', ORDER_PLAIN], ['ReadRaw16', ORDER_PLAIN], ['ReadRaw64', ORDER_PLAIN], ['ReadPointerRaw', ORDER_PLAIN],
  ['ReadAcquire', ORDER_ACQUIRE], ['ReadAcquire8', ORDER_ACQUIRE], ['ReadAcquire16', ORDER_ACQUIRE], ['ReadAcquire64', ORDER_ACQUIRE], ['ReadPointerAcquire', ORDER_ACQUIRE],
];

const WRITES: [string, MemoryOrder][] = [
  ['WriteNoFence', ORDER_PLAIN], ['WriteNoFence8', ORDER_PLAIN], ['WriteNoFence16', ORDER_PLAIN], ['WriteNoFence64', ORDER_PLAIN], ['WritePointerNoFence', ORDER_PLAIN],
  ['WriteRaw', ORDER_PLAIN], ['WriteRaw8', ORDER_PLAIN], ['WriteRaw16', ORDER_PLAIN], ['WriteRaw64', ORDER_PLAIN], ['WritePointerRaw', ORDER_PLAIN],
  ['WriteRelease', ORDER_RELEASE], ['WriteRelease8', ORDER_RELEASE], ['WriteRelease16', ORDER_RELEASE], ['WriteRelease64', ORDER_RELEASE], ['WritePointerRelease', ORDER_RELEASE],
];

function routine(k: Kernel, name: string): (...args: number[]) => Routine<unknown> {
  const fn = (k as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`k.${name} is not a kernel routine`);
  return (fn as (...args: number[]) => Routine<unknown>).bind(k);
}

describe('ordered loads and stores reach the memory model with their order', () => {
  it.each(READS)('%s reads with order %i, announced on the operation', (name, order) => {
    let got = -1;
    const seen = observe(CHECKED_MP, function* (k, s) {
      k.poke(s.p + 1, 42);
      got = (yield* routine(k, name)(s.p + 1)) as number;
    });
    expect(seen.outcome, seen.message).toBe('pass');
    expect(got).toBe(42);
    expect(seen.reads).toEqual([{ addr: seen.reads[0]!.addr, order }]);
    expect(seen.ctxOrders).toEqual([order]);
    expect(seen.writes).toEqual([]);
  });

  it.each(WRITES)('%s writes with order %i, announced on the operation', (name, order) => {
    let after = -1;
    const seen = observe(CHECKED_MP, function* (k, s) {
      yield* routine(k, name)(s.p + 2, 7);
      after = k.peek(s.p + 2);
    });
    expect(seen.outcome, seen.message).toBe('pass');
    expect(after).toBe(7);
    expect(seen.writes.map((w) => [w.value, w.order])).toEqual([[7, order]]);
    expect(seen.ctxOrders).toEqual([order]);
  });

  it('the same orders on an arm64 rig (the model, not the routine, differs per architecture)', () => {
    const seen = observe(ARM64, function* (k, s) {
      yield* k.WriteRelease(s.p, 1);
      yield* k.ReadAcquire(s.p);
      yield* k.WriteNoFence(s.p, 2);
      yield* k.ReadNoFence(s.p);
    });
    expect(seen.outcome, seen.message).toBe('pass');
    expect(seen.ctxOrders).toEqual([ORDER_RELEASE, ORDER_ACQUIRE, ORDER_PLAIN, ORDER_PLAIN]);
  });

  it('every ordered load and store of the family is covered here', () => {
    const family = KERNEL_API.filter((m) => m.family === 'ordering').map((m) => m.name);
    const loadsAndStores = family.filter((n) => /^(Read|Write)/.test(n) && !/Volatile$/.test(n));
    expect(loadsAndStores.sort()).toEqual([...READS, ...WRITES].map(([n]) => n).sort());
  });
});

describe('volatile accessors follow the scenario\'s volatile setting', () => {
  const handshake = function* (k: Kernel, s: { p: number }) {
    yield* k.WriteVolatile(s.p, 1);
    yield* k.ReadVolatile(s.p);
  };

  it('default: /volatile:ms on an x64 rig (acquire / release)', () => {
    expect(observe(CHECKED_MP, handshake).ctxOrders).toEqual([ORDER_RELEASE, ORDER_ACQUIRE]);
    expect(observe(preset('quad-free'), handshake).ctxOrders).toEqual([ORDER_RELEASE, ORDER_ACQUIRE]);
  });

  it('default: /volatile:iso on an arm64 rig (no ordering), as MSVC targeting ARM64', () => {
    expect(observe(ARM64, handshake).ctxOrders).toEqual([ORDER_PLAIN, ORDER_PLAIN]);
    expect(observe(preset('arm64-quad'), handshake).ctxOrders).toEqual([ORDER_PLAIN, ORDER_PLAIN]);
  });

  it('a scenario\'s volatile setting overrides the default, on either architecture, for that run only', () => {
    expect(observe(ARM64, handshake, { volatile: 'ms' }).ctxOrders).toEqual([ORDER_RELEASE, ORDER_ACQUIRE]);
    expect(observe(CHECKED_MP, handshake, { volatile: 'iso' }).ctxOrders).toEqual([ORDER_PLAIN, ORDER_PLAIN]);
    // The next scenario on the same kind of rig is back to the default.
    expect(observe(ARM64, handshake).ctxOrders).toEqual([ORDER_PLAIN, ORDER_PLAIN]);
  });

  it('keeps the setting on every run of an exploration (the kernel forgets per-run state between runs)', () => {
    const seen: number[] = [];
    const s = scn({
      volatile: 'ms',
      setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'Test') }),
      actors: {
        a: { cpu: 0, *run(k, st) { yield* k.WriteVolatile(st.p, 1); seen.push(k.m.cur.order); } },
        b: { cpu: 1, *run(k, st) { yield* k.ReadVolatile(st.p); seen.push(k.m.cur.order); } },
      },
    });
    for (let i = 0; i < 3; i++) runOnce(ARM64, s);
    expect(seen).toHaveLength(6);
    expect(new Set(seen)).toEqual(new Set([ORDER_RELEASE, ORDER_ACQUIRE]));
  });
});

describe('barriers', () => {
  it.each([['KeMemoryBarrier'], ['MemoryBarrier']])('%s is a full hardware barrier', (name) => {
    const seen = observe(CHECKED_MP, function* (k) {
      yield* routine(k, name)();
    });
    expect(seen.outcome, seen.message).toBe('pass');
    expect(seen.fences).toEqual(['full']);
  });

  it.each([['KeMemoryBarrierWithoutFence'], ['_ReadWriteBarrier']])('%s is compiler-only: a scheduling point with no hardware barrier', (name) => {
    const seen = observe(ARM64, function* (k) {
      yield* routine(k, name)();
    });
    expect(seen.outcome, seen.message).toBe('pass');
    expect(seen.fences).toEqual([]);
  });
});

describe('Interlocked*Acquire / *Release / *NoFence', () => {
  const FORMS = ['Acquire', 'Release', 'NoFence'];
  const CASES: [string, number, number[], number, number][] = [
    // base name, initial value, arguments after p, expected return, expected memory after
    ['InterlockedIncrement', 5, [], 6, 6],
    ['InterlockedDecrement', 5, [], 4, 4],
    ['InterlockedExchange', 5, [9], 5, 9],
    ['InterlockedCompareExchange', 5, [9, 5], 5, 9],
    ['InterlockedExchangeAdd', 5, [3], 5, 8],
    ['InterlockedOr', 5, [2], 5, 7],
    ['InterlockedAnd', 5, [4], 5, 4],
  ];

  for (const [base, init, args, ret, mem] of CASES) {
    it.each(FORMS)(`${base}%s behaves as ${base}: atomic, sequentially consistent (not an ordered access)`, (form) => {
      let got = -1;
      let after = -1;
      let order = -1;
      const seen = observe(ARM64, function* (k, s) {
        k.poke(s.p, init);
        got = (yield* routine(k, base + form)(s.p, ...args)) as number;
        order = k.m.cur.order;
        after = k.peek(s.p);
      });
      expect(seen.outcome, seen.message).toBe('pass');
      expect([got, after]).toEqual([ret, mem]);
      expect(order).toBe(ORDER_SC);
      expect(seen.reads).toEqual([]);
      expect(seen.writes).toEqual([]);
    });
  }

  it('a failed compare-exchange leaves memory alone', () => {
    let got = -1;
    const seen = observe(CHECKED_MP, function* (k, s) {
      k.poke(s.p, 5);
      got = yield* k.InterlockedCompareExchangeAcquire(s.p, 9, 4);
    });
    expect(seen.outcome, seen.message).toBe('pass');
    expect(got).toBe(5);
  });
});

describe('a spin on any read form is recognised', () => {
  const SPINNERS = ['ReadNoFence', 'ReadAcquire', 'ReadRaw', 'ReadPointerNoFence', 'ReadAcquire64', 'ReadVolatile'];

  it.each(SPINNERS)('a lone spin on %s nobody will end is a hang, not a step-limit run', (name) => {
    const s = scn({
      setup: (k) => ({ flag: k.ExAllocatePool2(0, 4, 'Flag') }),
      actors: { waiter: { cpu: 0, *run(k, st) { while ((yield* routine(k, name)(st.flag)) === 0); } } },
    });
    const x = runOnce(CHECKED_MP, s);
    expect(x.outcome, x.failure?.message).toBe('hang');
  });

  it.each(SPINNERS)('a spin on %s ends when another processor writes the flag', (name) => {
    const s = scn({
      setup: (k) => ({ flag: k.ExAllocatePool2(0, 4, 'Flag') }),
      actors: {
        waiter: { cpu: 0, *run(k, st) { while ((yield* routine(k, name)(st.flag)) === 0); } },
        setter: { cpu: 1, *run(k, st) { for (let i = 0; i < 6; i++) yield* k.YieldProcessor(); yield* k.WriteRelease(st.flag, 1); } },
      },
    });
    const x = runOnce(CHECKED_MP, s);
    expect(x.outcome, x.failure?.message).toBe('pass');
  });
});
