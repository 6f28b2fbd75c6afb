import { defineScenario, POOL_FLAG_NON_PAGED, STATUS_SUCCESS, type Kernel } from 'racebox';

// WDK "Using Remove Locks": IRP_MN_REMOVE_DEVICE must call IoReleaseRemoveLockAndWait before it frees anything
// an I/O path reaches under the remove lock.

const BUFFER_DATA = 0x0b0b0b0b;

// Device extension layout (words).
const DEVEXT_TRANSFER_BUFFER = 0; // PVOID TransferBuffer
const DEVEXT_REMOVE_LOCK = 1; // IO_REMOVE_LOCK RemoveLock
const DEVEXT_BYTES = 64;

interface DeviceExtension {
  devExt: number;
  removeLock: number;
  /** What each I/O request read from the transfer buffer (0: it was refused with STATUS_DELETE_PENDING). */
  seen: number;
}

/** DispatchRead / DispatchDeviceControl: the usual remove-lock bracket around the device's buffer. */
function* DispatchIo(k: Kernel, s: DeviceExtension, slot: number) {
  if ((yield* k.IoAcquireRemoveLock(s.removeLock)) !== STATUS_SUCCESS) return; // complete with STATUS_DELETE_PENDING
  const buffer = (yield* k.ReadNoFence(s.devExt + DEVEXT_TRANSFER_BUFFER)) >>> 2;
  const v = yield* k.ReadNoFence(buffer);
  yield* k.WriteNoFence(s.seen + slot, v);
  yield* k.IoReleaseRemoveLock(s.removeLock);
}

export default defineScenario<DeviceExtension>({
  id: 'removelock/release-before-wait',
  title: 'IRP_MN_REMOVE_DEVICE frees the transfer buffer before IoReleaseRemoveLockAndWait',
  family: 'removelock',
  variant: 'buggy',
  pairedWith: 'removelock/correct',
  description:
    'Every dispatch routine brackets its work with IoAcquireRemoveLock / IoReleaseRemoveLock on the remove lock in ' +
    'the device extension, and uses the transfer buffer the extension points to. The IRP_MN_REMOVE_DEVICE handler ' +
    'acquires the lock too, but tears down in the wrong order: it frees the transfer buffer first and only then calls ' +
    'IoReleaseRemoveLockAndWait. A read or an IOCTL that acquired the lock before the remove started is still using ' +
    'the buffer when it is freed — the wait that would have kept it alive comes too late. On a checked build (special ' +
    'pool) the I/O path stops with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5) at the read; a free build reads ' +
    'freed pool, which the "no use after free" check catches. The fix is to wait first and free afterwards ' +
    '(removelock/correct).',
  setup: (k) => {
    const devExt = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, DEVEXT_BYTES, 'DevX');
    const buffer = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'Xfer');
    k.poke(buffer, BUFFER_DATA);
    k.poke(devExt + DEVEXT_TRANSFER_BUFFER, buffer * 4);
    const removeLock = k.name(k.IoInitializeRemoveLock(devExt + DEVEXT_REMOVE_LOCK), 'RemoveLock');
    return { devExt, removeLock, seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Seen') };
  },
  actors: {
    dispatchRead: { cpu: 0, *run(k, s) { yield* DispatchIo(k, s, 0); } },
    dispatchIoctl: { cpu: 2, *run(k, s) { yield* DispatchIo(k, s, 1); } },
    removeDevice: {
      cpu: 1,
      *run(k, s) {
        if ((yield* k.IoAcquireRemoveLock(s.removeLock)) !== STATUS_SUCCESS) return;
        // (the remove IRP is forwarded to the lower driver here)
        // BUG: the buffer is freed while I/O that holds the remove lock may still be using it.
        const buffer = (yield* k.ReadNoFence(s.devExt + DEVEXT_TRANSFER_BUFFER)) >>> 2;
        yield* k.ExFreePool(buffer);
        yield* k.IoReleaseRemoveLockAndWait(s.removeLock);
      },
    },
  },
  invariants: {
    'no use after free': (s, k) => {
      for (let i = 0; i < 2; i++) {
        const v = k.peek(s.seen + i);
        if (v !== 0 && v !== BUFFER_DATA) return `I/O request ${i} read 0x${(v >>> 0).toString(16)} from the transfer buffer after it was freed`;
      }
      return true;
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no use after free' } },
  ],
});
