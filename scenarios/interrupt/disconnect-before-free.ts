import { CONNECT_FULLY_SPECIFIED, defineScenario, POOL_FLAG_NON_PAGED, STATUS_SUCCESS, type Kernel } from 'racebox';

// WDK IoDisconnectInterrupt: once it returns no ISR of the object runs, so the remove path frees the ISR's context after it.

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
  /** The interrupt count the remove path read after the disconnect. */
  counted: number;
}

/** InterruptService: acknowledge the device and count the interrupt in the ISR context. */
function* InterruptService(k: Kernel, s: DeviceState) {
  const signature = yield* k.ReadNoFence(s.isrContext + ISRCTX_SIGNATURE);
  yield* k.WriteNoFence(s.seen, signature);
  const n = yield* k.ReadNoFence(s.isrContext + ISRCTX_INTERRUPTS);
  yield* k.WriteNoFence(s.isrContext + ISRCTX_INTERRUPTS, n + 1);
}

export default defineScenario<DeviceState>({
  id: 'interrupt/disconnect-before-free',
  title: 'IRP_MN_REMOVE_DEVICE disconnects the interrupt, then frees the ISR context',
  family: 'interrupt',
  variant: 'correct',
  pairedWith: 'interrupt/disconnect-race',
  description:
    'The driver connects its ISR in IRP_MN_START_DEVICE with IoConnectInterruptEx (CONNECT_FULLY_SPECIFIED) and gives ' +
    'it a context block from non-paged pool. Before the connect the device\'s interrupt finds no ISR; after it the ISR ' +
    'may run on any processor. The remove path calls IoDisconnectInterrupt first: it takes the interrupt spin lock at ' +
    'the interrupt\'s SynchronizeIrql, so an ISR running on another CPU finishes before it returns, and no ISR runs ' +
    'afterwards. Only then does it read the final interrupt count and free the context. No ISR ever touches freed ' +
    'pool, on any rig.',
  setup: (k) => {
    const isrContext = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, ISRCTX_BYTES, 'IsrC');
    k.poke(isrContext + ISRCTX_SIGNATURE, CONTEXT_SIGNATURE);
    return {
      interrupt: k.KeInitializeInterrupt({ irql: 7, name: 'DeviceInterrupt' }),
      isrContext,
      seen: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Seen'),
      counted: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Cnt'),
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
        yield* k.IoDisconnectInterrupt(s.interrupt);
        yield* k.WriteNoFence(s.counted, yield* k.ReadNoFence(s.isrContext + ISRCTX_INTERRUPTS));
        yield* k.ExFreePool(s.isrContext);
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
    'no interrupt after the disconnect': (s, k) => k.peek(s.counted) <= 4 || `the remove path counted ${k.peek(s.counted)} interrupts`,
  },
  expect: 'pass',
});
