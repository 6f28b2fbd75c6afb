import { defineScenario, POOL_FLAG_NON_PAGED, STATUS_PENDING, STATUS_SUCCESS, type Kernel } from 'racebox';

// Dispatch and the completion DPC meet under the device lock: the IRP is completed by exactly one of them.

const EXT_PENDING_IRP = 0;
const EXT_HARDWARE_DONE = 1;

interface DeviceExtension {
  ext: number;
  irp: number;
  lock: number;
}

function* CompleteIrp(k: Kernel, irp: number) {
  yield* k.IrpSetIoStatus(irp, STATUS_SUCCESS, 0);
  yield* k.IoCompleteRequest(irp);
}

export default defineScenario<DeviceExtension>({
  id: 'irp/pending-parked-under-lock',
  title: 'Dispatch parks a pending IRP under the device lock the completion DPC takes',
  family: 'irp',
  variant: 'correct',
  pairedWith: 'irp/pending-never-completed',
  description:
    'The same driver as irp/pending-never-completed, with dispatch\'s test of HardwareDone and its store to PendingIrp ' +
    'made under the device spin lock, and the DPC\'s take-or-flag under the same lock. Either dispatch parks the IRP ' +
    'before the DPC looks (the DPC completes it) or the DPC flags first (dispatch sees the flag and completes it ' +
    'itself): every pending IRP is completed exactly once, on every rig.',
  setup: (k) => ({
    ext: k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'DevX'), 'DeviceExtension'),
    irp: k.name(k.IoAllocateIrp(), 'ReadIrp'),
    lock: k.name(k.KeInitializeSpinLock(), 'DeviceLock'),
  }),
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        k.IoMarkIrpPending(s.irp);
        const old = yield* k.KeAcquireSpinLock(s.lock);
        const done = yield* k.ReadNoFence(s.ext + EXT_HARDWARE_DONE);
        if (!done) yield* k.WriteNoFence(s.ext + EXT_PENDING_IRP, s.irp * 4);
        yield* k.KeReleaseSpinLock(s.lock, old);
        if (done) yield* CompleteIrp(k, s.irp);
        return STATUS_PENDING;
      },
    },
    completionDpc: {
      kind: 'dpc',
      cpu: 1,
      *run(k, s) {
        yield* k.KeAcquireSpinLockAtDpcLevel(s.lock);
        const irp = (yield* k.ReadNoFence(s.ext + EXT_PENDING_IRP)) >>> 2;
        if (irp !== 0) yield* k.WriteNoFence(s.ext + EXT_PENDING_IRP, 0);
        else yield* k.WriteNoFence(s.ext + EXT_HARDWARE_DONE, 1);
        yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
        if (irp !== 0) yield* CompleteIrp(k, irp);
      },
    },
  },
  expect: 'pass',
});
