/**
 * Driver Verifier's pool on a checked build (special pool guards, pool tracking at unload) and the
 * free build's reuse of freed blocks.
 */
import { describe, expect, it } from 'vitest';
import { POOL_FLAG_NON_PAGED, NonPagedPool } from '../../src/kernel/pool.ts';
import { poolLeakCheck } from '../../src/kernel/pool-leaks.ts';
import { Kernel } from '../../src/kernel/kernel.ts';
import { Machine } from '../../src/machine/machine.ts';
import { Memory, POISON, Shadow } from '../../src/machine/memory.ts';
import { CHECKED_MP, FREE_MP, runOnce, scn } from '../helpers.ts';

type S = { a: number; b: number };

/** Two 16-byte blocks side by side; the actor touches `a` at a word offset (−1 before it, 4 past it). */
function touch(offset: number, write: boolean) {
  return scn<S>({
    setup: (k) => ({ a: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf '), b: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Nxt ') }),
    actors: {
      t: {
        *run(k, s) {
          if (write) yield* k.WriteNoFence(s.a + offset, 7);
          else yield* k.ReadNoFence(s.a + offset);
        },
      },
    },
  });
}

describe('special pool (checked build)', () => {
  it('a write one word past the end stops at that access with 0xD6: address, write = 1, 0, 0', () => {
    const x = runOnce(CHECKED_MP, touch(4, true));
    expect(x.outcome).toBe('bugcheck');
    const b = x.failure!.bugcheck!;
    expect(b.name).toBe('DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION');
    expect(b.code).toBe(0xd6);
    expect(b.params[1]).toBe(1);
    expect(b.params[2]).toBe(0);
    expect(b.params[3]).toBe(0);
    expect(x.failure!.routine).toBe('t');
    expect(x.failure!.message).toMatch(/written: offset 0x10 of a at 0x[0-9a-f]+, beyond the end of its 16-byte allocation/);
  });

  it('parameter 1 names the byte address touched; a read before the start says so with read = 0', () => {
    const x = runOnce(CHECKED_MP, touch(-1, false));
    const b = x.failure!.bugcheck!;
    expect(b.name).toBe('DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION');
    expect(b.params[1]).toBe(0);
    expect(x.failure!.message).toMatch(/read: 4 bytes before the start of a/);
    // The address is that of the word before `a`.
    const m = new Machine(CHECKED_MP);
    const k = new Kernel(m);
    m.cur = { cpu: m.cpus[0] } as never;
    const a = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf ');
    expect(b.params[0]).toBe((a - 1) * 4);
  });

  it('accesses inside the block are fine, and a freed block keeps its 0xD5', () => {
    expect(runOnce(CHECKED_MP, touch(3, true)).outcome).toBe('pass');
    const uaf = scn<S>({
      setup: (k) => ({ a: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf '), b: 0 }),
      actors: { t: { *run(k, s) { yield* k.ExFreePool(s.a); yield* k.ReadNoFence(s.a); } } },
    });
    expect(runOnce(CHECKED_MP, uaf).failure?.bugcheck?.name).toBe('DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL');
  });

  it('every word between two special-pool blocks is a guard, at least one on each side', () => {
    const mem = new Memory(1024);
    const a = mem.allocPool(3, 'A', true, false);
    const b = mem.allocPool(4, 'B', true, false);
    expect(mem.shadow[a - 1]).toBe(Shadow.Guard);
    for (let i = a; i < a + 3; i++) expect(mem.shadow[i]).toBe(Shadow.Allocated);
    for (let i = a + 3; i < b; i++) expect(mem.shadow[i]).toBe(Shadow.Guard);
    expect(mem.shadow[b + 4]).toBe(Shadow.Guard);
    expect(mem.guarded(a + 3)).toMatchObject({ beyond: true, bytes: 0 });
    expect(mem.guarded(b - 1)).toMatchObject({ beyond: false, bytes: 4 });
    expect(mem.guarded(b - 1)!.block.tag).toBe('B');
  });

  it('a free build has no guards: the word past the end is the next block (no fault, the damage is silent)', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup: (k) => ({ a: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf '), b: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Nxt ') }),
      actors: { t: { *run(k, s) { yield* k.WriteNoFence(s.a + 4, 7); } } },
      invariants: { 'b untouched': (s, k) => k.peek(s.b) === 0 || `b[0] = ${k.peek(s.b)}` },
    }));
    expect(x.outcome).toBe('invariant');
    expect(x.failure?.message).toContain('b[0] = 7');
  });
});

describe('free build: freed pool is reused', () => {
  it('the next allocation that fits gets the most recently freed block, deterministically', () => {
    const run = () => {
      const mem = new Memory(1024);
      const a = mem.allocPool(4, 'A', false, true);
      const b = mem.allocPool(8, 'B', false, true);
      mem.free(a);
      mem.free(b);
      const big = mem.allocPool(6, 'C', false, true); // only b has room
      const small = mem.allocPool(2, 'D', false, true); // a is left
      const fresh = mem.allocPool(4, 'E', false, true); // nothing left: bump
      return { a, b, big, small, fresh };
    };
    const r = run();
    expect(r.big).toBe(r.b);
    expect(r.small).toBe(r.a);
    expect(r.fresh).toBeGreaterThan(r.b);
    expect(run()).toEqual(r);
  });

  it('a reused block is live again (its tag counts) and its unused tail stays freed', () => {
    const mem = new Memory(1024);
    const a = mem.allocPool(8, 'A', false, true);
    mem.free(a);
    expect(mem.allocPool(2, 'D', false, true)).toBe(a);
    expect(mem.shadow[a + 1]).toBe(Shadow.Allocated);
    expect(mem.shadow[a + 2]).toBe(Shadow.Freed);
    expect(mem.outstanding('D')).toBe(1);
    expect(mem.outstanding('A')).toBe(0);
  });

  it('kernel objects and checked builds never reuse; ExAllocatePool2 zeroes a reused block, ExAllocatePoolWithTag does not', () => {
    const mem = new Memory(1024);
    const a = mem.allocPool(4, 'A', true, false);
    mem.free(a);
    expect(mem.allocPool(4, 'B', true, false)).not.toBe(a);
    const o = mem.alloc(4, 'OBJ');
    mem.free(o);
    expect(mem.allocPool(4, 'C', false, true)).not.toBe(o);

    const m = new Machine(FREE_MP);
    const k = new Kernel(m);
    m.cur = { cpu: m.cpus[0] } as never;
    const p = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Old ');
    m.words[p] = 42;
    m.memory.free(p);
    const q = k.ExAllocatePoolWithTag(NonPagedPool, 16, 'New ');
    expect(q).toBe(p);
    expect(m.words[q]).toBe(POISON);
    m.memory.free(q);
    const z = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Zro ');
    expect(z).toBe(p);
    expect(m.words[z]).toBe(0);
  });

  it('a use-after-free on a free build writes into the block that took its place', () => {
    type U = { old: number; fresh: number };
    const x = runOnce(FREE_MP, scn<U>({
      setup: (k) => ({ old: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Req '), fresh: 0 }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.ExFreePool(s.old);
            s.fresh = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Ctx ');
            yield* k.WriteNoFence(s.old, 0x666); // stale pointer
          },
        },
      },
      invariants: { 'context intact': (s, k) => k.peek(s.fresh) === 0 || `context[0] = 0x${k.peek(s.fresh).toString(16)}` },
    }));
    expect(x.outcome).toBe('invariant');
    expect(x.failure?.message).toContain('context[0] = 0x666');
  });
});

describe('pool tracking at unload (0xC4/0x62)', () => {
  const leaky = (driverTags?: readonly string[] | 'all') => scn<S>({
    setup: (k) => ({ a: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf '), b: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Sys ') }),
    actors: {
      t: {
        *run(k, s) {
          k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Buf ');
          k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Tmp ');
          yield* k.ExFreePool(s.a);
        },
      },
    },
    ...(driverTags !== undefined ? { driverTags } : {}),
  });

  it('pool left under the driver\'s tags at the end of the run is 0xC4/0x62 with the count in parameter 4, naming tags and counts', () => {
    const x = runOnce(CHECKED_MP, leaky(['Buf ', 'Tmp ']));
    expect(x.outcome).toBe('bugcheck');
    const b = x.failure!.bugcheck!;
    expect(b.name).toBe('DRIVER_VERIFIER_DETECTED_VIOLATION');
    expect(b.params).toEqual([0x62, 0, 0, 2]);
    expect(x.failure!.message).toContain("'Buf ' × 1, 'Tmp ' × 1");
    expect(x.failure!.bugcheck!.subcodeMeaning).toMatch(/without first freeing its pool/);
  });

  it('with an unload actor the check runs when the driver unloads, naming the leak there', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: (k) => ({ a: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf '), b: 0 }),
      actors: {
        unload: {
          unload: true,
          *run(k, s) {
            yield* k.ReadNoFence(s.a);
          },
        },
      },
      driverTags: ['Buf '],
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.params).toEqual([0x62, 0, 0, 1]);
    expect(x.failure!.message).toContain("'Buf ' × 1");
  });

  it("'all' counts every tag; no driverTags means no tracking; a free build never checks", () => {
    expect(runOnce(CHECKED_MP, leaky('all')).failure?.bugcheck?.params[3]).toBe(3);
    expect(runOnce(CHECKED_MP, leaky()).outcome).toBe('pass');
    expect(runOnce(CHECKED_MP, leaky(['Nope'])).outcome).toBe('pass');
    expect(runOnce(FREE_MP, leaky('all')).outcome).toBe('pass');
  });

  it('k.poolOutstanding is a plain call usable from an invariant; poolLeakCheck is a function of the pool now', () => {
    const x = runOnce(FREE_MP, scn<S>({
      setup: (k) => ({ a: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf '), b: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf ') }),
      actors: { t: { *run(k, s) { yield* k.ExFreePool(s.a); } } },
      invariants: { 'one left': (_s, k) => k.poolOutstanding('Buf ') === 1 || `${k.poolOutstanding('Buf ')} left` },
    }));
    expect(x.outcome).toBe('pass');
    const m = new Machine(CHECKED_MP);
    const k = new Kernel(m);
    m.cur = { cpu: m.cpus[0] } as never;
    const p = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Buf ');
    expect(poolLeakCheck(k, ['Buf '])?.params[3]).toBe(1);
    m.memory.free(p);
    expect(poolLeakCheck(k, ['Buf '])).toBeUndefined();
  });
});
