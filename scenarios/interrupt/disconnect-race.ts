import { CONNECT_FULLY_SPECIFIED, defineScenario, POOL_FLAG_NON_PAGED, STATUS_SUCCESS, type Kernel } from 'racebox';

// WDK "Introduction to Interrupt Service Routines" and IoDisconnectInterrupt: the ISR may run until IoDisconnectInterrupt
// returns, so whatever it touches is freed only after the disconnect.

const CONTEXT_SIGNATURE = 0x43525349; // 'ISRC'

// ISR context layout (words): what the InterruptService routine reaches through its ServiceContext.
const ISRCTX_SIGNATURE = 0; // ULONG Signature
const ISRCTX_INTERRUPTS = 1; // ULONG InterruptCount
const ISRCTX_BYTES = 16;

interface DeviceState {
  interrupt: number;
  isrContext: number;
  /** What each run of the ISR read as its context's signature (0: it did not run). */
  seen: number;
}

/** InterruptService: acknowledge the device and count the interrupt in the ISR context. */
function* InterruptService(k: Kernel, s: DeviceState) {
  const signature = yield* k.ReadNoFence(s.isrContext + ISRCTX_SIGNATURE);
  yield* k.WriteNoFence(s.seen, signature);
  const n = yield* k.ReadNoFence(s.isrContext + ISRCTX_INTERRUPTS);
  yield* k.WriteNoFence(s.isrContext + ISRCTX_INTERRUPTS, n + 1);
}

export default defineScenario<DeviceState>({
  id: 'interrupt/disconnect-race',
  title: 'IRP_MN_REMOVE_DEVICE frees the ISR context before IoDisconnectInterrupt',
  family: 'interrupt',
  variant: 'buggy',
  pairedWith: 'interrupt/disconnect-before-free',
  description:
    'The driver connects its ISR in IRP_MN_START_DEVICE with IoConnectInterruptEx (CONNECT_FULLY_SPECIFIED) and gives ' +
    'it a context block from non-paged pool, which the ISR reads and updates on every interrupt. The remove path tears ' +
    'down in the wrong order: it frees the ISR context first and calls IoDisconnectInterrupt second. Until the ' +
    'disconnect the device can still interrupt, on any processor, and the ISR then reads and writes the freed block — ' +
    'a uniprocessor is not safe either, since the interrupt preempts the remove thread between the two calls. On a ' +
    'checked build (special pool) the ISR stops with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5) at its first read; ' +
    'a free build reads freed pool, which the "ISR never sees freed context" check catches. The fix is to disconnect ' +
    'first: IoDisconnectInterrupt waits for an ISR running on another CPU and none runs afterwards ' +
    '(interrupt/disconnect-before-free).',
  setup: (k) => {
    const isrContext = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, ISRCTX_BYTES, 'IsrC');
    k.poke(isrContext + ISRCTX_SIGNATURE, CONTEXT_SIGNATURE);
    return {
      interrupt: k.KeInitializeInterrupt({ irql: 7, name: 'DeviceInterrupt' }),
      isrContext,
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
    };
  },
  actors: {
    pnp: {
      cpu: 0,
      *run(k, s) {
        // IRP_MN_START_DEVICE
        const status = yield* k.IoConnectInterruptEx({
          Version: CONNECT_FULLY_SPECIFIED,
          FullySpecified: { InterruptObject: s.interrupt, Irql: 7, SynchronizeIrql: 7 },
        });
        if (status !== STATUS_SUCCESS) return;
        // (the device runs; then IRP_MN_REMOVE_DEVICE)
        // BUG: the ISR can still run until IoDisconnectInterrupt returns.
        yield* k.ExFreePool(s.isrContext);
        yield* k.IoDisconnectInterrupt(s.interrupt);
      },
    },
    // The interrupt is routed to either processor: CPU 1 runs the ISR beside the PnP thread, CPU 0 preempts it.
    interruptOnCpu1: {
      kind: 'interrupt',
      cpu: 1,
      interrupt: (s) => s.interrupt,
      arrivals: 2,
      *run(k, s) {
        yield* InterruptService(k, s);
      },
    },
    interruptOnCpu0: {
      kind: 'interrupt',
      cpu: 0,
      interrupt: (s) => s.interrupt,
      arrivals: 2,
      *run(k, s) {
        yield* InterruptService(k, s);
      },
    },
  },
  invariants: {
    'ISR never sees freed context': (s, k) => {
      const v = k.peek(s.seen);
      return v === 0 || v === CONTEXT_SIGNATURE || `the ISR read 0x${(v >>> 0).toString(16)} as its context's signature: the context was already freed`;
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'ISR never sees freed context' } },
  ],
});
