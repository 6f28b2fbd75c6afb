import { defineScenario, Executive, KernelMode, SynchronizationEvent, type Kernel } from 'racebox';

interface State {
  dataReady: number;
  slotFree: number;
  slot: number;
  received: number[];
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
    s.received.push(yield* k.ReadNoFence(s.slot));
    yield* k.KeSetEvent(s.slotFree, 0, false);
  }
}

export default defineScenario<State>({
  id: 'dispatcher/sync-event-handoff',
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
    received: [],
  }),
  actors: {
    producer: { cpu: 0, *run(k, s) { yield* Producer(k, s); } },
    consumer: { cpu: 1, *run(k, s) { yield* Consumer(k, s); } },
  },
  invariants: {
    'every item once, in order': (s) => s.received.join(',') === '1,2,3' || `received ${s.received.join(',')}`,
  },
  expect: 'pass',
});
