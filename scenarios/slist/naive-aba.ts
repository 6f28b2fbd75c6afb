import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// WDK "Singly and Doubly Linked Lists": use the interlocked SList routines rather than a hand-made lock-free list;
// a compare-exchange of the top pointer alone cannot tell a re-pushed entry from the one it read (ABA).

// Buffer descriptor layout (words): the link first, as an SLIST_ENTRY would be.
const BUF_NEXT = 0; // struct _BUFFER *Next (×4, a pointer)
const BUF_ID = 1; // ULONG Id
const BUF_BYTES = 8;
const BUFFERS = 3;

// Device extension layout (words).
const DEVEXT_FREE_TOP = 0; // struct _BUFFER *FreeTop: the lock-free stack of free buffers
const DEVEXT_BYTES = 8;

interface BufferPool {
  devExt: number;
  buffers: number[];
  /** The buffer each path ended up owning (×4 pointers; 0: none). */
  owned: number;
}

/** PopFreeBuffer: the classic lock-free pop — read the top and its Next, compare-exchange the top. */
function* PopFreeBuffer(k: Kernel, s: BufferPool) {
  for (;;) {
    const top = yield* k.ReadNoFence(s.devExt + DEVEXT_FREE_TOP);
    if (top === 0) return 0;
    const next = yield* k.ReadNoFence((top >>> 2) + BUF_NEXT);
    // BUG: equal top pointers do not mean an unchanged stack — the buffer may have been popped and pushed back.
    if ((yield* k.InterlockedCompareExchange(s.devExt + DEVEXT_FREE_TOP, next, top)) === top) return top;
  }
}

/** PushFreeBuffer: link the buffer to the current top, compare-exchange it in. */
function* PushFreeBuffer(k: Kernel, s: BufferPool, buffer: number) {
  for (;;) {
    const top = yield* k.ReadNoFence(s.devExt + DEVEXT_FREE_TOP);
    yield* k.WriteNoFence((buffer >>> 2) + BUF_NEXT, top);
    if ((yield* k.InterlockedCompareExchange(s.devExt + DEVEXT_FREE_TOP, buffer, top)) === top) return;
  }
}

/** Every buffer is on the free stack or owned by one path, exactly once. */
function ownership(s: BufferPool, k: Kernel): true | string {
  const count = new Map<number, number>();
  const note = (p: number) => count.set(p, (count.get(p) ?? 0) + 1);
  let p = k.peek(s.devExt + DEVEXT_FREE_TOP);
  for (let i = 0; p !== 0 && i <= BUFFERS; i++) {
    note(p);
    p = k.peek((p >>> 2) + BUF_NEXT);
  }
  for (let i = 0; i < 2; i++) if (k.peek(s.owned + i) !== 0) note(k.peek(s.owned + i));
  for (const b of s.buffers) {
    const n = count.get(b * 4) ?? 0;
    if (n !== 1) return `buffer ${k.peek(b + BUF_ID)} is ${n === 0 ? 'lost (neither free nor owned)' : `owned or free ${n} times at once`}`;
  }
  return true;
}

export default defineScenario<BufferPool>({
  id: 'slist/naive-aba',
  title: 'A hand-made lock-free buffer stack loses a buffer to ABA',
  family: 'slist',
  variant: 'buggy',
  pairedWith: 'slist/correct',
  description:
    'The driver keeps its free receive buffers on a hand-made lock-free stack: a top pointer in the device extension, ' +
    'popped by reading the top and its Next and compare-exchanging the top from the one to the other, pushed by ' +
    'linking to the top and compare-exchanging it in — at DISPATCH_LEVEL, from DPCs and paths that hold spin locks. ' +
    'One path pops a buffer; it has read top = A and A->Next = B when another processor pops A, pops B and pushes A ' +
    'back. The top is A again, so the first path\'s compare-exchange succeeds and installs B — a buffer the other ' +
    'path owns — as the top: B is now free and owned at once, and the buffers behind it are lost. Nothing bug-checks; ' +
    'the "each buffer once" check finds the damage. On one processor the paths cannot interleave at DISPATCH_LEVEL. ' +
    'The fix is an SLIST_HEADER with InterlockedPopEntrySList and InterlockedPushEntrySList, whose sequence number ' +
    'makes that compare-exchange fail (slist/correct).',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, DEVEXT_BYTES, 'DevX');
    const buffers: number[] = [];
    for (let i = 0; i < BUFFERS; i++) {
      const b = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, BUF_BYTES, 'RxBf'), `buffer${i}`);
      k.poke(b + BUF_ID, i);
      buffers.push(b);
    }
    // The free stack: buffer0 -> buffer1 -> buffer2 (plain stores of fixed values: free-run runs setup on every CPU worker).
    buffers.forEach((b, i) => k.poke(b + BUF_NEXT, i + 1 < BUFFERS ? buffers[i + 1]! * 4 : 0));
    k.poke(devExt + DEVEXT_FREE_TOP, buffers[0]! * 4);
    return { devExt, buffers, owned: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Ownd') };
  },
  actors: {
    receive: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeRaiseIrqlToDpcLevel();
        yield* k.WriteNoFence(s.owned, yield* PopFreeBuffer(k, s));
        yield* k.KeLowerIrql(oldIrql);
      },
    },
    recycle: {
      cpu: 1,
      *run(k, s) {
        const oldIrql = yield* k.KeRaiseIrqlToDpcLevel();
        const a = yield* PopFreeBuffer(k, s);
        const b = yield* PopFreeBuffer(k, s);
        if (a !== 0) yield* PushFreeBuffer(k, s, a);
        yield* k.WriteNoFence(s.owned + 1, b);
        yield* k.KeLowerIrql(oldIrql);
      },
    },
  },
  invariants: {
    'each buffer once': ownership,
  },
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: { invariant: 'each buffer once' } },
  ],
});
