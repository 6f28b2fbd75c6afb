import { defineScenario, POOL_FLAG_NON_PAGED, STATUS_PENDING, STATUS_SUCCESS, type Kernel } from 'racebox';

// The dispatch routine parks its IRP for the completion DPC, testing "already done?" without a lock.

const EXT_PENDING_IRP = 0; // PIRP PendingIrp (byte address, 0 when none)
const EXT_HARDWARE_DONE = 1; // BOOLEAN HardwareDone

interface DeviceExtension {
  ext: number;
  irp: number;
}

function* CompleteIrp(k: Kernel, irp: number) {
  yield* k.IrpSetIoStatus(irp, STATUS_SUCCESS, 0);
  yield* k.IoCompleteRequest(irp);
}

export default defineScenario<DeviceExtension>({
  id: 'irp/pending-never-completed',
  title: 'Dispatch parks a pending IRP after the completion DPC has already looked',
  family: 'irp',
  variant: 'buggy',
  pairedWith: 'irp/pending-parked-under-lock',
  description:
    'The dispatch routine starts the hardware, marks the IRP pending and returns STATUS_PENDING; the completion DPC ' +
    'completes it when the hardware is done. The hardware can finish early, so the two meet through two fields of the ' +
    'device extension: dispatch tests HardwareDone and, if it is clear, parks the IRP in PendingIrp; the DPC takes ' +
    'PendingIrp and, if none is parked yet, sets HardwareDone for dispatch to see. Without a lock, the DPC can run ' +
    'between dispatch\'s test and its store — it finds no IRP and sets the flag dispatch has already read. The IRP is ' +
    'parked after the only path that would complete it has gone: it stays pending for ever, the application\'s thread ' +
    'can never exit, and the box names it ("IRP … was marked pending by \'dispatch\' and never completed") with the ' +
    'step where it was marked. The DPC can also preempt dispatch on one CPU, so every rig shows it. The fix makes the ' +
    'test-and-park and the take-or-flag one critical section under the device lock (irp/pending-parked-under-lock).',
  setup: (k) => ({
    ext: k.name(k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'DevX'), 'DeviceExtension'),
    irp: k.name(k.IoAllocateIrp(), 'ReadIrp'),
  }),
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        // (the hardware transfer is started here)
        k.IoMarkIrpPending(s.irp);
        if (yield* k.ReadNoFence(s.ext + EXT_HARDWARE_DONE)) {
          yield* CompleteIrp(k, s.irp);
          return STATUS_PENDING;
        }
        // BUG: the completion DPC can run right here, find no IRP, and set HardwareDone too late for us to see.
        yield* k.WriteNoFence(s.ext + EXT_PENDING_IRP, s.irp * 4);
        return STATUS_PENDING;
      },
    },
    completionDpc: {
      kind: 'dpc',
      cpu: 1,
      *run(k, s) {
        const irp = (yield* k.InterlockedExchange(s.ext + EXT_PENDING_IRP, 0)) >>> 2;
        if (irp !== 0) yield* CompleteIrp(k, irp);
        else yield* k.WriteNoFence(s.ext + EXT_HARDWARE_DONE, 1);
      },
    },
  },
  expect: { liveness: 'irp-pending-never-completed' },
});
