import { defineScenario, POOL_FLAG_NON_PAGED, STATUS_SUCCESS, type Kernel } from 'racebox';

// WDK "Using Remove Locks": acquire in every dispatch routine; IRP_MN_REMOVE_DEVICE waits, then frees.

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

function* DispatchIo(k: Kernel, s: DeviceExtension, slot: number) {
  if ((yield* k.IoAcquireRemoveLock(s.removeLock)) !== STATUS_SUCCESS) return; // complete with STATUS_DELETE_PENDING
  const buffer = (yield* k.ReadNoFence(s.devExt + DEVEXT_TRANSFER_BUFFER)) >>> 2;
  const v = yield* k.ReadNoFence(buffer);
  yield* k.WriteNoFence(s.seen + slot, v);
  yield* k.IoReleaseRemoveLock(s.removeLock);
}

export default defineScenario<DeviceExtension>({
  id: 'removelock/correct',
  title: 'IRP_MN_REMOVE_DEVICE waits with IoReleaseRemoveLockAndWait, then frees',
  family: 'removelock',
  variant: 'correct',
  pairedWith: 'removelock/release-before-wait',
  description:
    'Every dispatch routine brackets its work with IoAcquireRemoveLock / IoReleaseRemoveLock and completes the IRP ' +
    'with STATUS_DELETE_PENDING when the acquire fails. The IRP_MN_REMOVE_DEVICE handler acquires the lock, forwards ' +
    'the IRP, and calls IoReleaseRemoveLockAndWait: from that moment every new acquire fails, and the call sleeps ' +
    'until the reads and IOCTLs already inside have released. Only then does it free the transfer buffer. No I/O ' +
    'path ever sees freed memory, on any rig, and the remove never waits forever.',
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
        yield* k.IoReleaseRemoveLockAndWait(s.removeLock);
        const buffer = (yield* k.ReadNoFence(s.devExt + DEVEXT_TRANSFER_BUFFER)) >>> 2;
        yield* k.WriteNoFence(s.devExt + DEVEXT_TRANSFER_BUFFER, 0);
        yield* k.ExFreePool(buffer);
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
    'lock drained': (s, k) => k.peek(s.removeLock + 1) === 0 || `IoCount is ${k.peek(s.removeLock + 1)} after the remove, not 0`,
  },
  expect: 'pass',
});
