import { defineScenario, Executive, KernelMode, SynchronizationEvent, type Kernel } from 'racebox';

interface State {
  dataReady: number;
  slotFree: number;
  slot: number;
  /** What the consumer received: word 0 counts, the items follow. Kept in machine memory so that every CPU sees it (free-run too). */
  received: number;
}

const ITEMS = 3;

function* Producer(k: Kernel, s: State) {
  for (let i = 1; i <= ITEMS; i++) {
    yield* k.WriteNoFence(s.slot, i);
    yield* k.KeSetEvent(s.dataReady, 0, false);
    yield* k.KeWaitForSingleObject(s.slotFree, Executive, KernelMode, false, null);
  }
}

function* Consumer(k: Kernel, s: State) {
  for (let i = 1; i <= ITEMS; i++) {
    yield* k.KeWaitForSingleObject(s.dataReady, Executive, KernelMode, false, null);
    const item = yield* k.ReadNoFence(s.slot);
    // Bookkeeping of the test, not driver code: no scheduling point.
    const n = k.peek(s.received);
    k.poke(s.received + 1 + n, item);
    k.poke(s.received, n + 1);
    yield* k.KeSetEvent(s.slotFree, 0, false);
  }
}

export default defineScenario<State>({
  id: 'dispatcher/sync-event-handoff',
  version: 2,
  title: 'One-slot hand-off with two synchronization events',
  family: 'dispatcher',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'dispatcher/wait-at-dispatch',
  description:
    'A producer thread passes items to a consumer thread through a one-item slot: it fills the slot and sets ' +
    'dataReady, then waits on slotFree before refilling; the consumer waits on dataReady, empties the slot and sets ' +
    'slotFree. Both are SynchronizationEvents: each KeSetEvent releases exactly one wait and the event resets itself ' +
    'as the waiter is woken (or stays set until the next wait if nobody waits yet), so no signal is lost and none is ' +
    'seen twice. Every item arrives once, in order, on every schedule — on one processor too, where each wait ' +
    'switches to the other thread.',
  setup: (k) => ({
    dataReady: k.KeInitializeEvent(SynchronizationEvent, false),
    slotFree: k.KeInitializeEvent(SynchronizationEvent, false),
    slot: k.ExAllocatePool2(0, 4, 'Slot'),
    received: k.ExAllocatePool2(0, 4 * (ITEMS + 1), 'Rcvd'),
  }),
  actors: {
    producer: { cpu: 0, *run(k, s) { yield* Producer(k, s); } },
    consumer: { cpu: 1, *run(k, s) { yield* Consumer(k, s); } },
  },
  invariants: {
    'every item once, in order': (s, k) => {
      const got = Array.from({ length: k.peek(s.received) }, (_, i) => k.peek(s.received + 1 + i)).join(',');
      return got === '1,2,3' || `received ${got}`;
    },
  },
  expect: 'pass',
});
