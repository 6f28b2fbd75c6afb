import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// The lock from the seed article, released the way its reader said was "ok as is":
//   VOID AcquireLock(LONG *lock) { while (InterlockedExchange(lock, 1)); }
//   VOID ReleaseLock(LONG *lock) { *lock = 0; }
// True on x86, where stores become visible in program order; not on ARM64.
function* AcquireLock(k: Kernel, lock: number) {
  while (yield* k.InterlockedExchange(lock, 1));
}

function* ReleaseLock(k: Kernel, lock: number) {
  yield* k.WriteNoFence(lock, 0);
}

function* BumpCounter(k: Kernel, s: { lock: number; counter: number }) {
  yield* AcquireLock(k, s.lock);
  const v = yield* k.ReadNoFence(s.counter);
  yield* k.WriteNoFence(s.counter, v + 1);
  yield* ReleaseLock(k, s.lock);
}

export default defineScenario({
  id: 'spinlock/plain-store-release',
  title: 'Test-and-set lock released with a plain store',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'spinlock/release-with-barrier',
  description:
    'Two threads on two processors bump a counter twice each under the article\'s lock: `while (InterlockedExchange(lock, 1));` ' +
    'to acquire, `*lock = 0;` to release. The article\'s reader called the release "ok as is" — and on x64 it is: ' +
    'x86 stores become visible in program order, so the counter\'s new value is visible before the lock is seen free. ' +
    'On ARM64 a plain store is not a release: the store of the lock word may become visible before the store of the ' +
    'counter inside the critical section, the other processor takes the lock, reads the old counter, and one update ' +
    'is lost. Releasing with WriteRelease (or InterlockedExchange) fixes it (spinlock/release-with-barrier).',
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
    'no lost update': (s, k) => k.peek(s.counter) === 4 || `counter is ${k.peek(s.counter)}, expected 4: a store inside the critical section became visible after the lock's release`,
  },
  expect: [
    { when: { arch: 'arm64' }, outcome: { invariant: 'no lost update' } },
    { outcome: 'pass' },
  ],
});
