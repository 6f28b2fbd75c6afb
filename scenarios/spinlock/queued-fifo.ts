import { defineScenario, watchQueuedLock } from 'racebox';

function* Append(k: import('racebox').Kernel, s: { lock: number; count: number }) {
  const handle = yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
  const n = yield* k.ReadNoFence(s.count);
  yield* k.WriteNoFence(s.count, n + 1);
  yield* k.KeReleaseInStackQueuedSpinLock(handle);
}

export default defineScenario({
  id: 'spinlock/queued-fifo',
  title: 'In-stack queued spin lock hands over in arrival order',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  description:
    'Four processors contend for one lock taken with KeAcquireInStackQueuedSpinLock. The lock word holds the tail ' +
    'of a queue of KLOCK_QUEUE_HANDLEs; each waiter spins on its own handle and the holder hands the lock to the next ' +
    'in line, so it is granted strictly in the order it was requested — no processor starves, unlike a plain ' +
    'test-and-set lock where whichever interlocked operation wins takes it. The invariant compares grant order ' +
    'with request order and checks mutual exclusion.',
  setup: (k) => {
    const lock = k.KeInitializeSpinLock();
    return { lock, count: k.ExAllocatePool2(0, 4, 'Cnt'), log: watchQueuedLock(k, lock) };
  },
  actors: {
    cpu0: { cpu: 0, *run(k, s) { yield* Append(k, s); } },
    cpu1: { cpu: 1, *run(k, s) { yield* Append(k, s); } },
    cpu2: { cpu: 2, *run(k, s) { yield* Append(k, s); } },
    cpu3: { cpu: 3, *run(k, s) { yield* Append(k, s); } },
  },
  invariants: {
    'mutual exclusion': (s, k) => k.peek(s.count) === 4 || `count is ${k.peek(s.count)}, expected 4`,
    'granted in request order': (s) =>
      s.log.grants.join(',') === s.log.requests.join(',') ||
      `requested ${s.log.requests.join(', ')} but granted ${s.log.grants.join(', ')}`,
  },
  expect: 'pass',
});
