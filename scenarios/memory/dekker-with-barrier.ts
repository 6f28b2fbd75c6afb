import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// memory/dekker-flags with a full barrier between the store and the load:
//   MyFlag = 1;
//   KeMemoryBarrier();                 // MFENCE / locked op on x64, DMB ISH on ARM64
//   if (OtherFlag == 0) { /* critical section */ }
interface State {
  flag0: number;
  flag1: number;
  entered: number;
}

function* TryEnter(k: Kernel, s: State, mine: number, other: number) {
  yield* k.WriteNoFence(mine, 1);
  yield* k.KeMemoryBarrier();
  if ((yield* k.ReadNoFence(other)) === 0) {
    yield* k.InterlockedIncrement(s.entered);
  }
}

export default defineScenario<State>({
  id: 'memory/dekker-with-barrier',
  title: 'Two flags with KeMemoryBarrier between the store and the load',
  family: 'memory',
  variant: 'correct',
  pairedWith: 'memory/dekker-flags',
  description:
    'The flags of memory/dekker-flags with KeMemoryBarrier between setting one\'s own flag and reading the other\'s: ' +
    'the store is visible to every processor before the load is performed, so at least one processor sees the ' +
    'other\'s flag set and at most one enters. Correct on x64 and ARM64.',
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
    'mutual exclusion': (s, k) => k.peek(s.entered) <= 1 || 'both processors entered the critical section',
  },
  expect: 'pass',
});
