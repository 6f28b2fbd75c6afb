import { defineScenario, Executive, KernelMode, NotificationEvent } from 'racebox';

export default defineScenario({
  id: 'dispatcher/wait-at-dispatch',
  title: 'Waiting for an event while holding a spin lock',
  family: 'dispatcher',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'dispatcher/wait-after-release',
  description:
    'The dispatch routine takes the device spin lock, starts the hardware, and waits for the completion event before ' +
    'releasing the lock. Holding a spin lock means running at DISPATCH_LEVEL, where a thread must not block (only a ' +
    'zero-timeout poll is allowed). The completion DPC, on another processor, needs the same spin lock to record the ' +
    'status before it sets the event. A checked build stops the wait at once with 0xC4/0x121 (an infinite wait at ' +
    'DISPATCH_LEVEL). A free build lets the thread sleep with the lock held; the completion DPC, queued by the device on another processor, spins at ' +
    'DISPATCH_LEVEL on the lock forever and the event is never set: a deadlock (DPC_WATCHDOG_VIOLATION in the field).',
  setup: (k) => {
    const s = {
      deviceLock: k.KeInitializeSpinLock(),
      done: k.KeInitializeEvent(NotificationEvent, false),
      status: k.ExAllocatePool2(0, 4, 'Stat'),
      completionDpc: 0,
    };
    // The device interrupts when the operation finishes; its DPC runs on processor 1.
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
        yield* k.KeWaitForSingleObject(s.done, Executive, KernelMode, false, null); // BUG: at DISPATCH_LEVEL
        yield* k.KeReleaseSpinLock(s.deviceLock, oldIrql);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x121 } },
    { outcome: 'deadlock' },
  ],
});
