import { defineScenario, NonPagedPool, type Kernel } from 'racebox';

// WDK "Using a CustomDpc Routine" / KeFlushQueuedDpcs: a KDPC inside a device extension must not be freed while queued.

const SIGNATURE = 0x44657658; // 'DevX'

// Device extension layout (words).
const DEVEXT_SIGNATURE = 0;
const DEVEXT_COMPLETED = 1; // requests the DPC completed
const DEVEXT_DPC = 2; // KDPC CompletionDpc (7 words)
const DEVEXT_BYTES = 64;

interface Driver {
  devExt: number;
  dpc: number;
  /** Rundown that stops new completions before the unload frees the extension. */
  rundown: number;
  /** The signature the DPC saw in the device extension (0: it never ran). */
  seen: number;
}

function* CompletionDpc(k: Kernel, _dpc: number, devExt: number) {
  const sig = yield* k.ReadNoFence(devExt + DEVEXT_SIGNATURE);
  const n = yield* k.ReadNoFence(devExt + DEVEXT_COMPLETED);
  yield* k.WriteNoFence(devExt + DEVEXT_COMPLETED, n + 1);
  return sig;
}

/** The DPC records what it saw in a word outside the extension. */
function* RecordingDpc(k: Kernel, dpc: number, devExt: number, seen: number) {
  const sig = yield* CompletionDpc(k, dpc, devExt);
  yield* k.WriteNoFence(seen, sig);
}

export default defineScenario<Driver>({
  id: 'dpc/free-extension-while-queued',
  title: 'Unload frees the device extension while the KDPC inside it is still queued',
  family: 'dpc',
  variant: 'buggy',
  pairedWith: 'dpc/flush-before-free',
  description:
    'The driver keeps its completion KDPC inside the device extension (KeInitializeDpc on &DevExt->CompletionDpc, ' +
    'targeted at processor 1 with KeSetTargetProcessorDpc). The I/O completion path queues it with KeInsertQueueDpc ' +
    'under rundown protection. At unload the driver waits for the rundown — so no new completion can queue the DPC — ' +
    'and frees the device extension. But a DPC queued just before the rundown is still waiting on processor 1, and ' +
    'waiting for the rundown does not wait for it: when processor 1 gets to it, the kernel reads a KDPC in freed pool ' +
    'and the routine touches a freed extension. Checked rigs (special pool) stop with ' +
    'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5) as the DPC starts; a free build runs the routine on freed memory, ' +
    'which the "no use after free" check catches. On one processor the DPC runs as soon as it is queued (the thread ' +
    'is at PASSIVE_LEVEL), so the bug cannot show. The fix is KeFlushQueuedDpcs before the free (dpc/flush-before-free).',
  setup: (k) => {
    const devExt = k.ExAllocatePoolWithTag(NonPagedPool, DEVEXT_BYTES, 'DevX');
    k.poke(devExt + DEVEXT_SIGNATURE, SIGNATURE);
    const seen = k.ExAllocatePoolWithTag(NonPagedPool, 4, 'Seen');
    const dpc = k.KeInitializeDpc(devExt + DEVEXT_DPC, (kk: Kernel, d: number, ctx: number) => RecordingDpc(kk, d, ctx, seen), devExt, 'CompletionDpc');
    k.KeSetTargetProcessorDpc(dpc, 1);
    return { devExt, dpc, rundown: k.ExInitializeRundownProtection(), seen };
  },
  actors: {
    ioCompletion: {
      cpu: 0,
      *run(k, s) {
        if (!(yield* k.ExAcquireRundownProtection(s.rundown))) return;
        yield* k.KeInsertQueueDpc(s.dpc, 0, 0);
        yield* k.ExReleaseRundownProtection(s.rundown);
      },
    },
    unload: {
      cpu: 0,
      *run(k, s) {
        yield* k.ExWaitForRundownProtectionRelease(s.rundown);
        // BUG: the DPC queued by the last completion may not have run yet.
        yield* k.ExFreePoolWithTag(s.devExt, 'DevX');
      },
    },
  },
  invariants: {
    'no use after free': (s, k) => {
      const v = k.peek(s.seen);
      return v === 0 || v === SIGNATURE || `the DPC read 0x${(v >>> 0).toString(16)} from the device extension after it was freed`;
    },
  },
  expect: [
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no use after free' } },
  ],
});
