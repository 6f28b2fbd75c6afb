import { describe, expect, it } from 'vitest';
import { Memory, OutOfMachineMemory, POISON, Shadow, WORDS_PER_LINE } from '../../src/machine/memory.ts';
import { DISPATCH_LEVEL } from '../../src/machine/irql.ts';
import { CHECKED_MP, FREE_MP, rig, runOnce, scn } from '../helpers.ts';

describe('Memory allocator', () => {
  it('never hands out NULL or the first cache line', () => {
    const m = new Memory(4096);
    const a = m.alloc(1, 'A');
    expect(a).toBeGreaterThanOrEqual(WORDS_PER_LINE);
    expect(m.alloc(0, 'zero')).toBeGreaterThan(0);
    for (let i = 0; i < WORDS_PER_LINE; i++) expect(m.shadow[i]).toBe(Shadow.Unallocated);
  });

  it('aligns blocks to 16 bytes, and line-aligned blocks to 64 bytes', () => {
    const m = new Memory(4096);
    const addrs: number[] = [];
    for (const n of [1, 3, 5, 2, 7]) addrs.push(m.alloc(n, 'x'));
    for (const a of addrs) expect(a % 4).toBe(0);
    const line = m.alloc(2, 'line', true);
    expect(line % WORDS_PER_LINE).toBe(0);
    // blocks never overlap
    const blocks = [...m.blocks.values()].sort((x, y) => x.addr - y.addr);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.addr).toBeGreaterThanOrEqual(blocks[i - 1]!.addr + blocks[i - 1]!.words);
  });

  it('hands out zeroed, allocated words', () => {
    const m = new Memory(4096);
    const a = m.alloc(4, 'x');
    for (let i = 0; i < 4; i++) {
      expect(m.words[a + i]).toBe(0);
      expect(m.shadow[a + i]).toBe(Shadow.Allocated);
    }
  });

  it('free poisons the block and never reuses it; a second free is refused', () => {
    const m = new Memory(4096);
    const a = m.alloc(3, 'x');
    m.words[a] = 5;
    expect(m.free(a)).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(m.words[a + i]).toBe(POISON);
      expect(m.shadow[a + i]).toBe(Shadow.Freed);
    }
    expect(m.free(a)).toBe(false);
    expect(m.free(a + 1)).toBe(false); // not the start of a block
    expect(m.alloc(3, 'y')).not.toBe(a);
  });

  it('reset clears words, shadow and blocks, and starts over', () => {
    const m = new Memory(4096);
    const first = m.alloc(8, 'x');
    m.words[first] = 99;
    m.free(m.alloc(2, 'y'));
    m.reset();
    expect(m.blocks.size).toBe(0);
    expect(m.words.every((w) => w === 0)).toBe(true);
    expect(m.shadow.every((s) => s === Shadow.Unallocated)).toBe(true);
    expect(m.alloc(8, 'x')).toBe(first);
  });

  it('running out of memory is a clear error, not a wrap-around', () => {
    const m = new Memory(1024);
    expect(() => m.alloc(2000, 'big')).toThrow(OutOfMachineMemory);
    expect(() => m.alloc(2000, 'big')).toThrow(/memoryWords/);
  });

  it('exhausting memory in setup ends the run as an error', () => {
    const x = runOnce(rig({ memoryWords: 1024 }), scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 8192, 'Huge') }),
      actors: { t: { *run() {} } },
    }));
    expect(x.outcome).toBe('error');
    expect(x.failure!.message).toMatch(/memory exhausted/);
  });
});

describe('pool and access checks through the kernel', () => {
  it('ExAllocatePool2 returns distinct zeroed blocks', () => {
    const seen: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ a: k.ExAllocatePool2(0, 4, 'A'), b: k.ExAllocatePool2(0, 12, 'B') }),
      actors: {
        t: {
          *run(k, s) {
            seen.push(s.a, s.b, yield* k.ReadNoFence(s.b + 2));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen[0]! % 4).toBe(0);
    expect(seen[2]).toBe(0);
  });

  it('a double free is BAD_POOL_CALLER (0xC2, parameter 1 = 7) with the address', () => {
    let addr = 0;
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ p: (addr = k.ExAllocatePool2(0, 8, 'Buf')) }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.ExFreePoolWithTag(s.p, 'Buf');
            yield* k.ExFreePoolWithTag(s.p, 'Buf');
          },
        },
      },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.code).toBe(0xc2);
    expect(x.failure!.bugcheck!.name).toBe('BAD_POOL_CALLER');
    expect(x.failure!.bugcheck!.params).toEqual([7, 0, addr * 4, 0]);
    expect(x.failure!.message).toMatch(/freed twice/);
  });

  it('checked build: touching a freed block is 0xD5 with the byte address in parameter 1', () => {
    let addr = 0;
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ p: (addr = k.ExAllocatePool2(0, 16, 'Buf')) }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.ExFreePool(s.p);
            yield* k.WriteNoFence(s.p + 2, 1);
          },
        },
      },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure!.bugcheck!.code).toBe(0xd5);
    expect(x.failure!.bugcheck!.params[0]).toBe((addr + 2) * 4);
    expect(x.failure!.bugcheck!.params[1]).toBe(1); // a write
    expect(x.failure!.message).toMatch(/after it was freed/);
  });

  it('free build: the access goes through to the poison', () => {
    const got: number[] = [];
    const x = runOnce(FREE_MP, scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 16, 'Buf') }),
      actors: {
        t: {
          *run(k, s) {
            yield* k.ExFreePool(s.p);
            got.push(yield* k.ReadNoFence(s.p + 1));
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(got).toEqual([POISON]);
  });

  for (const build of ['checked', 'free'] as const) {
    it(`${build} build: an unallocated address is 0x50 at PASSIVE_LEVEL and 0xD1 at DISPATCH_LEVEL`, () => {
      const r = build === 'checked' ? CHECKED_MP : FREE_MP;
      const low = runOnce(r, scn({ setup: () => ({}), actors: { t: { *run(k) { yield* k.ReadNoFence(5); } } } }));
      expect(low.outcome).toBe('bugcheck');
      expect(low.failure!.bugcheck!.code).toBe(0x50);
      expect(low.failure!.bugcheck!.params.slice(0, 2)).toEqual([20, 0]);
      const high = runOnce(r, scn({
        setup: () => ({}),
        actors: {
          t: {
            *run(k) {
              yield* k.KeRaiseIrql(DISPATCH_LEVEL);
              yield* k.WriteNoFence(1_000_000, 1);
            },
          },
        },
      }));
      expect(high.outcome).toBe('bugcheck');
      expect(high.failure!.bugcheck!.code).toBe(0xd1);
      expect(high.failure!.bugcheck!.name).toBe('DRIVER_IRQL_NOT_LESS_OR_EQUAL');
      expect(high.failure!.bugcheck!.params.slice(0, 3)).toEqual([4_000_000, DISPATCH_LEVEL, 1]);
    });
  }

  it('each run starts from fresh memory', () => {
    const addrs: number[] = [];
    const s = scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'P') }),
      actors: {
        t: {
          *run(k, st) {
            addrs.push(st.p, yield* k.ReadNoFence(st.p));
            yield* k.WriteNoFence(st.p, 77);
            yield* k.ExFreePool(st.p);
          },
        },
      },
    });
    expect(runOnce(CHECKED_MP, s).outcome).toBe('pass');
    expect(runOnce(CHECKED_MP, s).outcome).toBe('pass');
    expect(addrs[0]).toBe(addrs[2]);
    expect(addrs[1]).toBe(0);
    expect(addrs[3]).toBe(0);
  });
});
