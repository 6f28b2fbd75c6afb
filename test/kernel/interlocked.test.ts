import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { CHECKED_MP, runOnce, scn } from '../helpers.ts';

describe('Interlocked* and plain accesses', () => {
  it('return the documented values', () => {
    const got: number[] = [];
    const x = runOnce(CHECKED_MP, scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'P') }),
      actors: {
        t: {
          *run(k, s) {
            got.push(yield* k.InterlockedIncrement(s.p)); // 1
            got.push(yield* k.InterlockedExchangeAdd(s.p, 5)); // 1 (old), now 6
            got.push(yield* k.InterlockedDecrement(s.p)); // 5
            got.push(yield* k.InterlockedExchange(s.p, 9)); // 5, now 9
            got.push(yield* k.InterlockedCompareExchange(s.p, 1, 8)); // 9, unchanged
            got.push(yield* k.InterlockedCompareExchange(s.p, 1, 9)); // 9, now 1
            got.push(yield* k.InterlockedOr(s.p, 6)); // 1, now 7
            got.push(yield* k.InterlockedAnd(s.p, 3)); // 7, now 3
            got.push(yield* k.ReadNoFence(s.p)); // 3
            yield* k.WriteNoFence(s.p, 0xffffffff);
            got.push(yield* k.ReadNoFence(s.p)); // -1 (32-bit signed words)
          },
        },
      },
    }));
    expect(x.outcome).toBe('pass');
    expect(got).toEqual([1, 1, 5, 5, 9, 9, 1, 7, 3, -1]);
  });

  it('InterlockedIncrement never loses an update; a plain read-modify-write does', () => {
    const make = (interlocked: boolean) => scn({
      setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'P') }),
      actors: Object.fromEntries([0, 1, 2].map((cpu) => [`t${cpu}`, {
        cpu,
        *run(k: import('../../src/kernel/kernel.ts').Kernel, s: { p: number }) {
          if (interlocked) yield* k.InterlockedIncrement(s.p);
          else yield* k.WriteNoFence(s.p, (yield* k.ReadNoFence(s.p)) + 1);
        },
      }])),
      invariants: { 'three increments': (s, k) => k.peek(s.p) === 3 },
    });
    const r3 = { ...CHECKED_MP, cores: 3 };
    expect(explore(r3, make(true), { strategy: 'dfs', schedules: 5000 }).outcome).toBe('pass');
    expect(explore(r3, make(false), { strategy: 'dfs', schedules: 5000 }).outcome).toBe('invariant');
  });
});
