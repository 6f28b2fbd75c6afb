import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { KERNEL_API } from '../../src/kernel/registry.ts';
import { SLIST_DEPTH, SLIST_NEXT, SLIST_SEQUENCE } from '../../src/kernel/slist.ts';
import naiveAba from '../../scenarios/slist/naive-aba.ts';
import slistCorrect from '../../scenarios/slist/correct.ts';
import { allExecutions, CHECKED_MP, FREE_MP, runOnce, scn } from '../helpers.ts';

interface S {
  head: number;
  entries: number[];
}

function setup(n: number) {
  return (k: Kernel): S => ({
    head: k.name(k.InitializeSListHead(), 'head'),
    entries: Array.from({ length: n }, (_, i) => k.name(k.ExAllocatePool2(0x40, 8, 'Entr'), `e${i}`)),
  });
}

describe('InitializeSListHead, push, pop, flush, depth', () => {
  it('is LIFO; push returns the previous first entry, pop the removed one (0 when empty); Depth follows; every change advances Sequence', () => {
    const got: unknown[] = [];
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: setup(3),
      actors: {
        t: {
          *run(k, s) {
            const [a, b, c] = s.entries as [number, number, number];
            got.push(k.ExQueryDepthSList(s.head), yield* k.InterlockedPopEntrySList(s.head));
            got.push(yield* k.InterlockedPushEntrySList(s.head, a));
            got.push((yield* k.InterlockedPushEntrySList(s.head, b)) === a);
            got.push((yield* k.InterlockedPushEntrySList(s.head, c)) === b, k.ExQueryDepthSList(s.head), k.peek(s.head + SLIST_SEQUENCE));
            got.push((yield* k.InterlockedPopEntrySList(s.head)) === c, k.ExQueryDepthSList(s.head), k.peek(s.head + SLIST_SEQUENCE));
            const chain = yield* k.InterlockedFlushSList(s.head);
            got.push(chain === b, k.peek(chain) >>> 2 === a, k.peek(a), k.ExQueryDepthSList(s.head), k.peek(s.head + SLIST_NEXT));
            got.push(k.peek(s.head + SLIST_SEQUENCE), yield* k.InterlockedFlushSList(s.head), yield* k.InterlockedPopEntrySList(s.head));
          },
        },
      },
    }));
    expect(x.outcome, x.failure?.message).toBe('pass');
    expect(got).toEqual([0, 0, 0, true, true, 3, 3, true, 2, 4, true, true, 0, 0, 0, 5, 0, 0]);
  });

  it('ExQueryDepthSList is a plain call (usable from invariants); the other routines need yield*', () => {
    const kind = new Map(KERNEL_API.map((m) => [m.name, m.kind]));
    expect(kind.get('ExQueryDepthSList')).toBe('plain');
    expect(kind.get('InitializeSListHead')).toBe('plain');
    for (const n of ['InterlockedPushEntrySList', 'InterlockedPopEntrySList', 'InterlockedFlushSList']) expect(kind.get(n)).toBe('routine');
  });
});

describe('concurrent use', () => {
  it('pushes and pops on two CPUs lose and duplicate nothing (random schedules, checked and free builds)', () => {
    const s = scn<S & { popped: number }>({
      setup: (k) => ({ ...setup(4)(k), popped: k.ExAllocatePool2(0x40, 16, 'Popd') }),
      actors: {
        p0: {
          cpu: 0,
          *run(k, st) {
            yield* k.InterlockedPushEntrySList(st.head, st.entries[0]!);
            yield* k.InterlockedPushEntrySList(st.head, st.entries[1]!);
            yield* k.WriteNoFence(st.popped, yield* k.InterlockedPopEntrySList(st.head));
          },
        },
        p1: {
          cpu: 1,
          *run(k, st) {
            yield* k.InterlockedPushEntrySList(st.head, st.entries[2]!);
            yield* k.WriteNoFence(st.popped + 1, yield* k.InterlockedPopEntrySList(st.head));
            yield* k.InterlockedPushEntrySList(st.head, st.entries[3]!);
          },
        },
      },
      invariants: {
        'each entry once': (st, k) => {
          const seen: number[] = [];
          for (let p = k.peek(st.head + SLIST_NEXT) >>> 2, i = 0; p !== 0 && i < 10; p = k.peek(p) >>> 2, i++) seen.push(p);
          if (k.ExQueryDepthSList(st.head) !== seen.length) return `depth ${k.ExQueryDepthSList(st.head)} but ${seen.length} on the list`;
          seen.push(k.peek(st.popped), k.peek(st.popped + 1));
          const sorted = seen.filter((v) => v !== 0).sort((a, b) => a - b);
          return JSON.stringify(sorted) === JSON.stringify([...st.entries].sort((a, b) => a - b)) || `entries ${sorted.join(',')}`;
        },
      },
    });
    for (const r of [CHECKED_MP, FREE_MP]) {
      for (let seed = 1; seed <= 200; seed++) {
        const x = runOnce(r, s, new RandomStrategy(seed));
        expect(x.outcome, x.failure?.message).toBe('pass');
      }
    }
  }, 30_000);

  it('the ABA interleaving: a pop that read A and A->Next = B fails its compare-exchange after A was popped and pushed back', () => {
    // slist/correct on every DFS schedule of bound 2, which includes the receive path preempted inside its pop.
    const { executions, exhausted } = allExecutions(CHECKED_MP, slistCorrect, new DfsStrategy(2), 50_000);
    expect(exhausted).toBe(true);
    for (const x of executions) expect(x.outcome, x.failure?.message).toBe('pass');
    // The same driver with a hand-made stack (no sequence) loses a buffer on some of them.
    const naive = explore(CHECKED_MP, naiveAba, { schedules: 10_000, seed: 1 });
    expect(naive.outcome).toBe('invariant');
    expect(naive.failure!.message).toMatch(/buffer/);
  });

  it('a compare-exchange on the header fails when only the sequence changed', () => {
    // Two CPUs: p0 pops A (reads A, A->Next = B) while p1 pops A, pops B and pushes A back.
    // Whatever the interleaving, p0 never returns B while p1 owns it.
    const s = scn<S & { got: number }>({
      setup: (k) => {
        const st = setup(2)(k);
        const [a, b] = st.entries as [number, number];
        k.poke(b, 0);
        k.poke(a, b * 4);
        k.poke(st.head + SLIST_NEXT, a * 4);
        k.poke(st.head + SLIST_DEPTH, 2);
        return { ...st, got: k.ExAllocatePool2(0x40, 8, 'Got') };
      },
      actors: {
        p0: { cpu: 0, *run(k, st) { yield* k.WriteNoFence(st.got, yield* k.InterlockedPopEntrySList(st.head)); } },
        p1: {
          cpu: 1,
          *run(k, st) {
            const a = yield* k.InterlockedPopEntrySList(st.head);
            const b = yield* k.InterlockedPopEntrySList(st.head);
            if (a !== 0) yield* k.InterlockedPushEntrySList(st.head, a);
            yield* k.WriteNoFence(st.got + 1, b);
          },
        },
      },
      invariants: {
        'no entry owned twice': (st, k) => {
          const held = [k.peek(st.got), k.peek(st.got + 1)];
          for (let p = k.peek(st.head + SLIST_NEXT) >>> 2, i = 0; p !== 0 && i < 4; p = k.peek(p) >>> 2, i++) held.push(p);
          const nonzero = held.filter((v) => v !== 0);
          return new Set(nonzero).size === nonzero.length || `an entry is owned twice (paths and list: ${nonzero.map((v) => `e${st.entries.indexOf(v)}`).join(', ')})`;
        },
      },
    });
    const { executions, exhausted } = allExecutions(CHECKED_MP, s, new DfsStrategy(3), 50_000);
    expect(exhausted).toBe(true);
    for (const x of executions) expect(x.outcome, x.failure?.message).toBe('pass');
  });
});

describe('entries in freed pool', () => {
  it('a pop reads the first entry\'s Next: an entry freed while on the list is 0xD5 on a checked build', () => {
    const x = runOnce(CHECKED_MP, scn<S>({
      setup: (k) => {
        const st = setup(1)(k);
        k.poke(st.head + SLIST_NEXT, st.entries[0]! * 4);
        k.poke(st.head + SLIST_DEPTH, 1);
        return st;
      },
      actors: {
        t: {
          *run(k, s) {
            yield* k.ExFreePool(s.entries[0]!);
            yield* k.InterlockedPopEntrySList(s.head);
          },
        },
      },
    }));
    expect(x.outcome).toBe('bugcheck');
    expect(x.failure?.bugcheck?.name).toBe('DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL');
  });
});
