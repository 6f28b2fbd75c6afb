import { defineScenario, Executive, KernelMode, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A network adapter's send ring in a DMA common buffer, paused and restarted while two send paths fill it and
// the completion DPC reaps it. Pause waits for the DPCs in flight before it marks the adapter paused.

/** Sends each send path makes. */
export const SENDS = 5;
/** Pause/restart cycles (NDIS MiniportPause, then MiniportRestart). */
export const PAUSES = 2;
/** Times the adapter interrupts for completed sends. */
export const INTERRUPTS = 4;
const SLOTS = 4;
/** Ring layout (words): the producer index, the hardware's completion index, then SLOTS descriptors. */
const RING_WORDS = 2 + SLOTS;
const DESCRIPTOR = 0x53440000;
const RUNNING = 1;
const PAUSED = 2;

export interface AdapterState {
  /** The adapter's spin lock: guards the state word and the producer index. */
  lock: number;
  /** RUNNING or PAUSED. */
  state: number;
  /** Sends between "the adapter is running" and "the descriptor is in the ring". */
  pendingSends: number;
  /** Completion DPCs between their state check and the end of their use of the ring. */
  dpcActive: number;
  /** The address of the ring's common buffer: freed at pause, allocated anew at restart. */
  ring: number;
  /** Signalled while the adapter runs; senders that find it paused wait on it. */
  running: number;
  interrupt: number;
  dpc: number;
  /**
   * Test bookkeeping: word 0 non-zero once the DPC read descriptors through a ring that is not the live one
   * (freed, or replaced); word 1 is 1 while the published ring is live (0 from the free to the new publish).
   */
  stale: number;
}

function* ReapDpc(k: Kernel, _dpc: number, context: number) {
  const s = stateOf.get(context)!;
  // Count this DPC in flight first, then check the state: pause sees the one or the DPC sees the other.
  yield* k.InterlockedIncrement(s.dpcActive);
  yield* k.KeAcquireSpinLockAtDpcLevel(s.lock);
  const state = yield* k.ReadNoFence(s.state);
  yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
  if (state === RUNNING) {
    const ring = yield* k.ReadNoFence(s.ring);
    const done = yield* k.ReadNoFence(ring + 1);
    for (let i = 0; i < 2; i++) {
      yield* k.ReadNoFence(ring + 2 + ((done + i) & (SLOTS - 1)));
      // Bookkeeping of the test, not driver code: no scheduling point.
      if (k.peek(s.stale + 1) !== 1 || k.peek(s.ring) !== ring) k.poke(s.stale, 1);
    }
    yield* k.WriteNoFence(ring + 1, done + 1);
  } // paused: restart reaps whatever is left
  yield* k.InterlockedDecrement(s.dpcActive);
}

/** DPC routines get a context number; the scenario state is found through it. */
const stateOf = new Map<number, AdapterState>();

export function setUpAdapter(k: Kernel): AdapterState {
  const ring = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * RING_WORDS, 'Ring');
  for (let i = 0; i < SLOTS; i++) k.poke(ring + 2 + i, DESCRIPTOR);
  const ringPtr = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'RngP');
  k.poke(ringPtr, ring);
  const state = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Stat');
  k.poke(state, RUNNING);
  const context = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Ctx');
  const s: AdapterState = {
    lock: k.KeInitializeSpinLock(),
    state,
    pendingSends: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Pend'),
    dpcActive: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'DpcA'),
    ring: ringPtr,
    running: k.KeInitializeEvent(NotificationEvent, true),
    interrupt: k.IoConnectInterrupt({ irql: 5, name: 'AdapterInterrupt' }),
    dpc: k.KeInitializeDpc(ReapDpc, context, 'ReapDpc'),
    stale: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Stal'),
  };
  k.poke(s.stale + 1, 1);
  stateOf.set(context, s);
  return s;
}

/** A send path (MiniportSendNetBufferLists): count the send pending, check the adapter runs, fill a descriptor. */
export function* Send(k: Kernel, s: AdapterState) {
  for (let n = 1; n <= SENDS; ) {
    yield* k.InterlockedIncrement(s.pendingSends);
    if ((yield* k.ReadNoFence(s.state)) !== RUNNING) {
      yield* k.InterlockedDecrement(s.pendingSends);
      yield* k.KeWaitForSingleObject(s.running, Executive, KernelMode, false, null);
      continue;
    }
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    const ring = yield* k.ReadNoFence(s.ring);
    const head = yield* k.ReadNoFence(ring);
    yield* k.WriteNoFence(ring + 2 + (head % SLOTS), DESCRIPTOR | n);
    yield* k.WriteNoFence(ring, head + 1);
    yield* k.KeReleaseSpinLock(s.lock, irql);
    yield* k.InterlockedDecrement(s.pendingSends);
    n++;
  }
}

/**
 * Pause then restart, PAUSES times: wait for completion DPCs in flight, mark the adapter paused and wait for
 * pending sends, free the ring's common buffer; then allocate a new one, set it up, publish it and mark the
 * adapter running. The buggy form waits for the DPCs before it marks the adapter paused; the fixed form
 * marks it paused first (an interlocked exchange: a full barrier, as the DPC's increment is).
 */
export function* PauseRestart(k: Kernel, s: AdapterState, pauseFirst: boolean) {
  for (let c = 0; c < PAUSES; c++) {
    yield* k.KeClearEvent(s.running);
    // BUG (when !pauseFirst): a DPC that counts itself after this wait still sees RUNNING and uses the ring.
    if (!pauseFirst) while ((yield* k.ReadNoFence(s.dpcActive)) !== 0) yield* k.YieldProcessor();
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    yield* k.InterlockedExchange(s.state, PAUSED);
    yield* k.KeReleaseSpinLock(s.lock, irql);
    if (pauseFirst) while ((yield* k.ReadNoFence(s.dpcActive)) !== 0) yield* k.YieldProcessor();
    while ((yield* k.ReadNoFence(s.pendingSends)) !== 0) yield* k.YieldProcessor();
    const old = yield* k.ReadNoFence(s.ring);
    yield* k.ExFreePool(old);
    k.poke(s.stale + 1, 0); // bookkeeping: no live ring from the free until the new one is published
    const ring = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * RING_WORDS, 'Ring');
    for (let i = 0; i < SLOTS; i++) yield* k.WriteNoFence(ring + 2 + i, DESCRIPTOR);
    yield* k.WriteNoFence(s.ring, ring);
    k.poke(s.stale + 1, 1);
    const irql2 = yield* k.KeAcquireSpinLock(s.lock);
    yield* k.InterlockedExchange(s.state, RUNNING);
    yield* k.KeReleaseSpinLock(s.lock, irql2);
    yield* k.KeSetEvent(s.running, 0, false);
  }
}

export const adapterInvariants = {
  'no stale ring': (s: AdapterState, k: Kernel) =>
    k.peek(s.stale) === 0 || 'the completion DPC read send descriptors through a ring common buffer that pause had freed',
};

export default defineScenario<AdapterState>({
  id: 'sendring/drain-dpc-before-pause',
  title: 'Send ring pause waits for the completion DPC before it marks the adapter paused',
  family: 'sendring',
  variant: 'buggy',
  pairedWith: 'sendring/pause-then-drain',
  description:
    'A network adapter keeps its send descriptors in a ring in a DMA common buffer. Two send paths count ' +
    'themselves pending (InterlockedIncrement), check that the adapter is running and write a descriptor under ' +
    'the adapter lock. The adapter interrupts four times; its ISR queues a completion DPC that counts itself ' +
    'in flight, checks under the lock that the adapter is running, and reaps completed descriptors from the ' +
    'ring. Pause (twice: MiniportPause, then MiniportRestart) first waits until no completion DPC is in ' +
    'flight, then marks the adapter paused and waits for the pending sends, frees the common buffer, and on ' +
    'restart allocates a new ring, sets it up and publishes it before marking the adapter running. The wait ' +
    'for the DPCs comes one step too early: a DPC that counts itself after it still sees "running" and reaps ' +
    'while pause frees the buffer under it. It takes two preemptions: pause must stop between its wait for ' +
    'the DPCs and marking the adapter paused, and the DPC must then stop inside its use of the ring while ' +
    'pause frees it (a DPC that runs to its end in that gap does no harm). Checked builds stop with ' +
    'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5) at the descriptor read; a free build reaps garbage. ' +
    'Marking the adapter paused first and then waiting for the DPCs in flight closes the window ' +
    '(sendring/pause-then-drain).',
  setup: setUpAdapter,
  actors: {
    'send-1': { cpu: 0, *run(k, s) { yield* Send(k, s); } },
    'send-2': { cpu: 1, *run(k, s) { yield* Send(k, s); } },
    isr: {
      kind: 'interrupt',
      cpu: 2,
      interrupt: (s) => s.interrupt,
      arrivals: INTERRUPTS,
      *run(k, s) { yield* k.KeInsertQueueDpc(s.dpc, 0, 0); },
    },
    pause: { cpu: 3, *run(k, s) { yield* PauseRestart(k, s, false); } },
  },
  invariants: adapterInvariants,
  expect: [
    // One CPU: the DPC runs at DISPATCH_LEVEL to its end; pause (at PASSIVE_LEVEL) cannot run inside it.
    { when: { maxCpus: 1 }, outcome: 'pass' },
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no stale ring' } },
  ],
});
