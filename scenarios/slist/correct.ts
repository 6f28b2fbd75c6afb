import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// WDK "Singly and Doubly Linked Lists": InterlockedPushEntrySList / InterlockedPopEntrySList on an SLIST_HEADER,
// whose sequence number defeats ABA.

// Buffer descriptor layout (words): the SLIST_ENTRY first.
const BUF_LINK = 0; // SLIST_ENTRY Link
const BUF_ID = 1; // ULONG Id
const BUF_BYTES = 8;
const BUFFERS = 3;

// Device extension layout (words).
const DEVEXT_FREE_LIST = 0; // SLIST_HEADER FreeList (4 words)
const DEVEXT_BYTES = 16;

interface BufferPool {
  freeList: number;
  buffers: number[];
  /** The buffer each path ended up owning (word addresses; 0: none). */
  owned: number;
}

/** Every buffer is on the free list or owned by one path, exactly once; the header's depth agrees. */
function ownership(s: BufferPool, k: Kernel): true | string {
  const count = new Map<number, number>();
  const note = (p: number) => count.set(p, (count.get(p) ?? 0) + 1);
  let p = k.peek(s.freeList) >>> 2;
  let onList = 0;
  for (let i = 0; p !== 0 && i <= BUFFERS; i++) {
    note(p);
    onList++;
    p = k.peek(p + BUF_LINK) >>> 2;
  }
  for (let i = 0; i < 2; i++) if (k.peek(s.owned + i) !== 0) note(k.peek(s.owned + i));
  for (const b of s.buffers) {
    const n = count.get(b) ?? 0;
    if (n !== 1) return `buffer ${k.peek(b + BUF_ID)} is ${n === 0 ? 'lost (neither free nor owned)' : `owned or free ${n} times at once`}`;
  }
  const depth = k.ExQueryDepthSList(s.freeList);
  return depth === onList || `ExQueryDepthSList says ${depth}, but ${onList} buffers are on the list`;
}

export default defineScenario<BufferPool>({
  id: 'slist/correct',
  title: 'Free buffers on an interlocked SList: no buffer lost or doubled',
  family: 'slist',
  variant: 'correct',
  pairedWith: 'slist/naive-aba',
  description:
    'The driver keeps its free receive buffers on an SLIST_HEADER in the device extension and takes and returns them ' +
    'with InterlockedPopEntrySList and InterlockedPushEntrySList at DISPATCH_LEVEL, from any processor. A pop that ' +
    'read the first entry A and its Next B while another processor popped A and B and pushed A back fails its ' +
    'compare-exchange — the header\'s sequence number moved even though its Next is A again — and starts over. Every ' +
    'buffer is free or owned exactly once at the end, and ExQueryDepthSList agrees with the list, on any rig.',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, DEVEXT_BYTES, 'DevX');
    const freeList = k.name(k.InitializeSListHead(devExt + DEVEXT_FREE_LIST), 'FreeList');
    const buffers: number[] = [];
    for (let i = 0; i < BUFFERS; i++) {
      const b = k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, BUF_BYTES, 'RxBf'), `buffer${i}`);
      k.poke(b + BUF_ID, i);
      buffers.push(b);
    }
    // The free list: buffer0 -> buffer1 -> buffer2, as three pushes would leave it (SLIST_HEADER: Next, Depth,
    // Sequence). Plain stores of fixed values: free-run runs setup on every CPU worker at once.
    buffers.forEach((b, i) => k.poke(b + BUF_LINK, i + 1 < BUFFERS ? buffers[i + 1]! * 4 : 0));
    k.poke(freeList, buffers[0]! * 4);
    k.poke(freeList + 1, BUFFERS);
    k.poke(freeList + 2, BUFFERS);
    return { freeList, buffers, owned: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Ownd') };
  },
  actors: {
    receive: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeRaiseIrqlToDpcLevel();
        yield* k.WriteNoFence(s.owned, yield* k.InterlockedPopEntrySList(s.freeList));
        yield* k.KeLowerIrql(oldIrql);
      },
    },
    recycle: {
      cpu: 1,
      *run(k, s) {
        const oldIrql = yield* k.KeRaiseIrqlToDpcLevel();
        const a = yield* k.InterlockedPopEntrySList(s.freeList);
        const b = yield* k.InterlockedPopEntrySList(s.freeList);
        if (a !== 0) yield* k.InterlockedPushEntrySList(s.freeList, a);
        yield* k.WriteNoFence(s.owned + 1, b);
        yield* k.KeLowerIrql(oldIrql);
      },
    },
  },
  invariants: {
    'each buffer once': ownership,
  },
  expect: 'pass',
});
