import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// Dekker-style entry with two flags, each processor trying once:
//   MyFlag = 1;
//   if (OtherFlag == 0) { /* critical section */ }
// Under sequential consistency at most one gets in. With a store buffer, both stores can still be
// waiting when both loads run: both read 0 and both enter.
interface State {
  flag0: number;
  flag1: number;
  entered: number;
}

function* TryEnter(k: Kernel, s: State, mine: number, other: number) {
  yield* k.WriteNoFence(mine, 1);
  if ((yield* k.ReadNoFence(other)) === 0) {
    yield* k.InterlockedIncrement(s.entered);
  }
}

export default defineScenario<State>({
  id: 'memory/dekker-flags',
  title: 'Two flags, store then load of the other (store buffering)',
  family: 'memory',
  variant: 'buggy',
  pairedWith: 'memory/dekker-with-barrier',
  description:
    'Two processors each set their own flag and then look at the other\'s; whoever sees the other flag clear enters ' +
    'the critical section. It looks like mutual exclusion, and under sequential consistency it is. But every x86 ' +
    'processor keeps its stores in a store buffer: a load may be performed before an earlier store to another address ' +
    'is visible (the one reordering x86-TSO allows), and ARM64 allows it too. Both flags are still buffered when both ' +
    'loads run, both read 0, and both enter. A full barrier between the store and the load (KeMemoryBarrier) fixes it ' +
    '(memory/dekker-with-barrier); ReadAcquire/WriteRelease do not, since a release store followed by an acquire load ' +
    'is exactly the pair x86 may reorder.',
  setup: (k) => ({
    flag0: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Flg0'),
    flag1: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Flg1'),
    entered: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Entr'),
  }),
  actors: {
    left: { cpu: 0, *run(k, s) { yield* TryEnter(k, s, s.flag0, s.flag1); } },
    right: { cpu: 1, *run(k, s) { yield* TryEnter(k, s, s.flag1, s.flag0); } },
  },
  invariants: {
    'mutual exclusion': (s, k) => k.peek(s.entered) <= 1 ||
      `both processors entered the critical section: each read the other's flag as 0 while its own store was still in its store buffer`,
  },
  expect: [
    // One processor: a context switch empties the store buffer, so the second thread sees the first one's flag.
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: { invariant: 'mutual exclusion' } },
  ],
});
