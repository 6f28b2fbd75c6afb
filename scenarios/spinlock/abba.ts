import { defineScenario, DRIVER_VERIFIER_LOCK_HIERARCHY } from 'racebox';

export default defineScenario({
  id: 'spinlock/abba',
  title: 'Two spin locks taken in opposite orders',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  description:
    'The dispatch path takes the queue lock, then the device lock. The completion DPC, running on another processor, ' +
    'takes the device lock, then the queue lock. When each gets its first lock at the same time, both spin forever at ' +
    'DISPATCH_LEVEL waiting for the other. Driver Verifier keeps a graph of lock order and stops a checked build with ' +
    '0xC4/0x1001 the first time both orders have been seen — on any schedule, before the deadlock actually happens.',
  setup: (k) => ({ queueLock: k.KeInitializeSpinLock(), deviceLock: k.KeInitializeSpinLock() }),
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeAcquireSpinLock(s.queueLock);
        yield* k.KeAcquireSpinLockAtDpcLevel(s.deviceLock);
        yield* k.KeReleaseSpinLockFromDpcLevel(s.deviceLock);
        yield* k.KeReleaseSpinLock(s.queueLock, oldIrql);
      },
    },
    completionDpc: {
      kind: 'dpc',
      cpu: 1,
      *run(k, s) {
        yield* k.KeAcquireSpinLockAtDpcLevel(s.deviceLock);
        yield* k.KeAcquireSpinLockAtDpcLevel(s.queueLock);
        yield* k.KeReleaseSpinLockFromDpcLevel(s.queueLock);
        yield* k.KeReleaseSpinLockFromDpcLevel(s.deviceLock);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: DRIVER_VERIFIER_LOCK_HIERARCHY } },
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { outcome: 'deadlock' },
  ],
});
