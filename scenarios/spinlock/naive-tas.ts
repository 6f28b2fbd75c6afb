import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// The lock from the seed article, exactly as written there:
//   VOID AcquireLock(LONG *lock) { while (InterlockedExchange(lock, 1)); }
//   VOID ReleaseLock(LONG *lock) { *lock = 0; }
function* AcquireLock(k: Kernel, lock: number) {
  while (yield* k.InterlockedExchange(lock, 1));
}

function* ReleaseLock(k: Kernel, lock: number) {
  yield* k.WriteNoFence(lock, 0);
}

function* BumpCounter(k: Kernel, counter: number) {
  const v = yield* k.ReadNoFence(counter);
  yield* k.WriteNoFence(counter, v + 1);
}

export default defineScenario({
  id: 'spinlock/naive-tas',
  title: 'InterlockedExchange lock shared by a thread and a DPC',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'spinlock/ke-spinlock',
  description:
    'A driver protects a counter with the test-and-set lock from the article: `while (InterlockedExchange(lock, 1));`. ' +
    'A thread at PASSIVE_LEVEL takes it, and a DPC on the same processor takes it too. Because the lock never raises IRQL, ' +
    'the DPC can interrupt the thread while the thread holds the lock; the DPC then spins at DISPATCH_LEVEL waiting for a ' +
    'thread that cannot run again until the DPC returns. The processor is wedged — on one CPU or on sixteen. ' +
    'KeAcquireSpinLock raises to DISPATCH_LEVEL first, which is exactly what prevents this (spinlock/ke-spinlock).',
  setup: (k) => ({
    lock: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Lock'),
    counter: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Cntr'),
  }),
  actors: {
    worker: {
      cpu: 0,
      *run(k, s) {
        yield* AcquireLock(k, s.lock);
        yield* BumpCounter(k, s.counter);
        yield* ReleaseLock(k, s.lock);
      },
    },
    completionDpc: {
      kind: 'dpc',
      cpu: 0,
      *run(k, s) {
        yield* AcquireLock(k, s.lock);
        yield* BumpCounter(k, s.counter);
        yield* ReleaseLock(k, s.lock);
      },
    },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.counter) === 2 || `counter is ${k.peek(s.counter)}, expected 2`,
  },
  expect: 'deadlock',
});
