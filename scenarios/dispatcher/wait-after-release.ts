import { defineScenario, Executive, KernelMode, NotificationEvent } from 'racebox';

export default defineScenario({
  id: 'dispatcher/wait-after-release',
  title: 'Waiting for an event after releasing the spin lock',
  family: 'dispatcher',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'dispatcher/wait-at-dispatch',
  description:
    'The same driver as dispatcher/wait-at-dispatch, fixed: the dispatch routine starts the hardware under the device ' +
    'spin lock, releases the lock (back to PASSIVE_LEVEL), and only then waits for the completion event. The DPC can ' +
    'always take the lock, record the status and set the event; a notification event stays set, so a DPC that ' +
    'finishes before the thread starts waiting is not lost.',
  setup: (k) => {
    const s = {
      deviceLock: k.KeInitializeSpinLock(),
      done: k.KeInitializeEvent(NotificationEvent, false),
      status: k.ExAllocatePool2(0, 4, 'Stat'),
      completionDpc: 0,
    };
    s.completionDpc = k.KeInitializeDpc(function* CompletionDpc(k) {
      yield* k.KeAcquireSpinLockAtDpcLevel(s.deviceLock);
      yield* k.WriteNoFence(s.status, 0);
      yield* k.KeReleaseSpinLockFromDpcLevel(s.deviceLock);
      yield* k.KeSetEvent(s.done, 0, false);
    });
    k.KeSetTargetProcessorDpc(s.completionDpc, 1);
    return s;
  },
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeAcquireSpinLock(s.deviceLock);
        yield* k.WriteNoFence(s.status, 0x103);
        yield* k.KeInsertQueueDpc(s.completionDpc, 0, 0); // the hardware is started; it will interrupt
        yield* k.KeReleaseSpinLock(s.deviceLock, oldIrql);
        yield* k.KeWaitForSingleObject(s.done, Executive, KernelMode, false, null);
        const oldIrql2 = yield* k.KeAcquireSpinLock(s.deviceLock);
        const st = yield* k.ReadNoFence(s.status);
        k.NT_ASSERT(st === 0, `woken before the DPC recorded the status (status ${st})`);
        yield* k.KeReleaseSpinLock(s.deviceLock, oldIrql2);
      },
    },
    otherWaiter: {
      cpu: 1,
      *run(k, s) {
        // A second thread (an IOCTL asking for the same result) waits on the same notification event.
        yield* k.KeWaitForSingleObject(s.done, Executive, KernelMode, false, null);
      },
    },
  },
  expect: 'pass',
});
