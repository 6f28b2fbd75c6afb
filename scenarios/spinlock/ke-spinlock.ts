import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'spinlock/ke-spinlock',
  title: 'KeAcquireSpinLock shared by threads and a DPC',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'spinlock/naive-tas',
  description:
    'The same driver as spinlock/naive-tas, written with a KSPIN_LOCK. KeAcquireSpinLock raises the processor to ' +
    'DISPATCH_LEVEL before it spins, so the DPC cannot run on that processor while the lock is held; the DPC itself ' +
    'uses KeAcquireSpinLockAtDpcLevel since it already runs at DISPATCH_LEVEL. A second thread on another processor ' +
    'contends for the lock for real on multi-processor rigs. The counter is never updated twice at once and nothing hangs.',
  setup: (k) => ({
    lock: k.KeInitializeSpinLock(),
    counter: k.ExAllocatePool2(0, 4, 'Cntr'),
  }),
  actors: {
    worker: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeAcquireSpinLock(s.lock);
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
        yield* k.KeReleaseSpinLock(s.lock, oldIrql);
      },
    },
    completionDpc: {
      kind: 'dpc',
      cpu: 0,
      *run(k, s) {
        yield* k.KeAcquireSpinLockAtDpcLevel(s.lock);
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
        yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
      },
    },
    otherCpu: {
      cpu: 1,
      *run(k, s) {
        const oldIrql = yield* k.KeAcquireSpinLock(s.lock);
        const v = yield* k.ReadNoFence(s.counter);
        yield* k.WriteNoFence(s.counter, v + 1);
        yield* k.KeReleaseSpinLock(s.lock, oldIrql);
      },
    },
  },
  invariants: {
    'no lost update': (s, k) => k.peek(s.counter) === 3 || `counter is ${k.peek(s.counter)}, expected 3`,
  },
  expect: 'pass',
});
