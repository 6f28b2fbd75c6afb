import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// spinlock/plain-store-release with a release that orders the critical section before it:
//   VOID ReleaseLock(LONG *lock) { WriteRelease(lock, 0); }
// (InterlockedExchange(lock, 0), a full barrier, works too; WriteRelease is the weakest that does.)
function* AcquireLock(k: Kernel, lock: number) {
  while (yield* k.InterlockedExchange(lock, 1));
}

function* ReleaseLock(k: Kernel, lock: number) {
  yield* k.WriteRelease(lock, 0);
}

function* BumpCounter(k: Kernel, s: { lock: number; counter: number }) {
  yield* AcquireLock(k, s.lock);
  const v = yield* k.ReadNoFence(s.counter);
  yield* k.WriteNoFence(s.counter, v + 1);
  yield* ReleaseLock(k, s.lock);
}

export default defineScenario({
  id: 'spinlock/release-with-barrier',
  title: 'Test-and-set lock released with WriteRelease',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'spinlock/plain-store-release',
  description:
    'The lock of spinlock/plain-store-release, released with WriteRelease(lock, 0): every store of the critical ' +
    'section is visible before the lock word is seen free (a plain store on x64, STLR on ARM64). The acquire is an ' +
    'InterlockedExchange, a full barrier, so the next holder reads the counter the last one wrote. Correct on both ' +
    'architectures.',
  setup: (k) => ({
    lock: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Lock'),
    counter: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Cntr'),
  }),
  actors: {
    // Each thread takes the lock twice: a thread that ends right after its release would empty its store buffer.
    first: { cpu: 0, *run(k, s) { for (let i = 0; i < 2; i++) yield* BumpCounter(k, s); } },
    second: { cpu: 1, *run(k, s) { for (let i = 0; i < 2; i++) yield* BumpCounter(k, s); } },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.counter) === 4 || `counter is ${k.peek(s.counter)}, expected 4`,
  },
  expect: 'pass',
});
