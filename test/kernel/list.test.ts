import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import { LIST_BLINK, LIST_FLINK } from '../../src/kernel/list.ts';
import { CHECKED_MP, FREE_MP, preset, runOnce, scn } from '../helpers.ts';

interface L {
  head: number;
  a: number;
  b: number;
  c: number;
}

const setup = (k: import('../../src/kernel/kernel.ts').Kernel): L => ({
  head: k.InitializeListHead(),
  a: k.ExAllocatePool2(0, 8, 'EntA'),
  b: k.ExAllocatePool2(0, 8, 'EntB'),
  c: k.ExAllocatePool2(0, 8, 'EntC'),
});

describe('LIST_ENTRY', () => {
  it('insert head/tail, remove head/tail/entry and IsListEmpty keep Flink/Blink consistent', () => {
    const x = runOnce(CHECKED_MP, scn<L>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            k.NT_ASSERT(yield* k.IsListEmpty(s.head), 'new list is empty');
            k.NT_ASSERT(k.peek(s.head + LIST_FLINK) === s.head * 4 && k.peek(s.head + LIST_BLINK) === s.head * 4, 'empty head points at itself');
            yield* k.InsertTailList(s.head, s.a);
            yield* k.InsertTailList(s.head, s.b);
            yield* k.InsertHeadList(s.head, s.c);
            k.NT_ASSERT(JSON.stringify(k.ListEntries(s.head)) === JSON.stringify([s.c, s.a, s.b]), 'order c a b');
            k.NT_ASSERT(!(yield* k.IsListEmpty(s.head)));
            k.NT_ASSERT((yield* k.RemoveHeadList(s.head)) === s.c, 'RemoveHeadList returns the first');
            k.NT_ASSERT((yield* k.RemoveTailList(s.head)) === s.b, 'RemoveTailList returns the last');
            k.NT_ASSERT((yield* k.RemoveEntryList(s.a)) === true, 'RemoveEntryList reports the list is now empty');
            k.NT_ASSERT(yield* k.IsListEmpty(s.head));
            yield* k.InsertTailList(s.head, s.a);
            yield* k.InsertTailList(s.head, s.b);
            k.NT_ASSERT((yield* k.RemoveEntryList(s.a)) === false, 'not empty after removing one of two');
            k.NT_ASSERT(JSON.stringify(k.ListEntries(s.head)) === JSON.stringify([s.b]));
            k.NT_ASSERT((yield* k.RemoveHeadList(s.head)) === s.b);
            k.NT_ASSERT((yield* k.RemoveHeadList(s.head)) === s.head, 'RemoveHeadList on an empty list returns the head');
          },
        },
      },
    }));
    expect(x.failure?.message).toBeUndefined();
    expect(x.outcome).toBe('pass');
  });

  for (const r of [CHECKED_MP, FREE_MP]) {
    it(`a double RemoveEntryList fast-fails with 0x139/3 on a ${r.build} build`, () => {
      const x = runOnce(r, scn<L>({
        setup,
        actors: {
          t: {
            *run(k, s) {
              yield* k.InsertTailList(s.head, s.a);
              yield* k.InsertTailList(s.head, s.b);
              yield* k.RemoveEntryList(s.a);
              yield* k.RemoveEntryList(s.a);
            },
          },
        },
      }));
      expect(x.failure?.bugcheck?.name).toBe('KERNEL_SECURITY_CHECK_FAILURE');
      expect(x.failure?.bugcheck?.params[0]).toBe(3);
    });
  }

  it('inserting behind a corrupted head fast-fails (ListHead->Blink->Flink != ListHead)', () => {
    const x = runOnce(FREE_MP, scn<L>({
      setup,
      actors: {
        t: {
          *run(k, s) {
            yield* k.InsertTailList(s.head, s.a);
            k.poke(s.a + LIST_FLINK, s.b * 4); // a stray write corrupts the last entry
            yield* k.InsertTailList(s.head, s.c);
          },
        },
      },
    }));
    expect(x.failure?.bugcheck?.name).toBe('KERNEL_SECURITY_CHECK_FAILURE');
  });

  it('unsynchronized inserts from two processors corrupt the list, and every link access is a scheduling point', () => {
    const r = explore(preset('dual-opteron-240'), scn<L>({
      setup,
      actors: {
        p0: { cpu: 0, *run(k, s) { yield* k.InsertTailList(s.head, s.a); } },
        p1: { cpu: 1, *run(k, s) { yield* k.InsertTailList(s.head, s.b); } },
      },
      invariants: { 'both linked': (s, k) => k.ListEntries(s.head).length === 2 },
    }), { schedules: 500 });
    expect(r.outcome).not.toBe('pass');
  });

  it('the same inserts under a spin lock never corrupt it', () => {
    interface LL extends L { lock: number }
    const r = explore(preset('dual-opteron-240'), scn<LL>({
      setup: (k) => ({ ...setup(k), lock: k.KeInitializeSpinLock() }),
      actors: {
        p0: { cpu: 0, *run(k, s) { const i = yield* k.KeAcquireSpinLock(s.lock); yield* k.InsertTailList(s.head, s.a); yield* k.KeReleaseSpinLock(s.lock, i); } },
        p1: { cpu: 1, *run(k, s) { const i = yield* k.KeAcquireSpinLock(s.lock); yield* k.InsertHeadList(s.head, s.b); yield* k.KeReleaseSpinLock(s.lock, i); } },
      },
      invariants: { 'both linked': (s, k) => k.ListEntries(s.head).length === 2 },
    }), { schedules: 500 });
    expect(r.outcome).toBe('pass');
  });
});
