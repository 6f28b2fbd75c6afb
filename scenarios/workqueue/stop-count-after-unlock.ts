import { defineScenario, Executive, KernelMode, NotificationEvent, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A device's work queue: a producer, two worker threads and a stop routine. The workers count themselves
// busy one step too late.

export const ITEMS = 8;
const SLOTS = ITEMS;
/** Words of per-device context a worker reads for every item. */
const CONTEXT_WORDS = 4;
const CONTEXT_DATA = 0x6b6b0000;

export interface QueueState {
  lock: number;
  /** Counts queued items (and, at stop, one wake-up per worker). */
  items: number;
  /** Set once the producer has queued everything: stop runs after the last request, as PnP stop does. */
  producerDone: number;
  /** The ring: word 0 head, 1 tail, 2 count, then SLOTS entries. */
  ring: number;
  stopping: number;
  /** Workers between taking an item and finishing it. */
  active: number;
  /** The device context every item is processed against; stop frees it. */
  context: number;
  /** Test bookkeeping: word 0 items processed, word 1 non-zero when a worker read a freed context. */
  tally: number;
}

export function setUpQueue(k: Kernel): QueueState {
  const context = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * CONTEXT_WORDS, 'Ctxt');
  for (let i = 0; i < CONTEXT_WORDS; i++) k.poke(context + i, CONTEXT_DATA + i);
  return {
    lock: k.KeInitializeSpinLock(),
    items: k.KeInitializeSemaphore(0, ITEMS + 2),
    producerDone: k.KeInitializeEvent(NotificationEvent, false),
    ring: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4 * (3 + SLOTS), 'Ring'),
    stopping: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Stop'),
    active: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 4, 'Actv'),
    context,
    tally: k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, 'Taly'),
  };
}

export function* Producer(k: Kernel, s: QueueState) {
  for (let i = 1; i <= ITEMS; i++) {
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    if ((yield* k.ReadNoFence(s.stopping)) !== 0) {
      yield* k.KeReleaseSpinLock(s.lock, irql);
      break;
    }
    const tail = yield* k.ReadNoFence(s.ring + 1);
    yield* k.WriteNoFence(s.ring + 3 + (tail % SLOTS), i);
    yield* k.WriteNoFence(s.ring + 1, tail + 1);
    const count = yield* k.ReadNoFence(s.ring + 2);
    yield* k.WriteNoFence(s.ring + 2, count + 1);
    yield* k.KeReleaseSpinLock(s.lock, irql);
    yield* k.KeReleaseSemaphore(s.items, 0, 1, false);
  }
  yield* k.KeSetEvent(s.producerDone, 0, false);
}

/** A worker thread: take an item under the lock, process it against the device context, repeat until stop. */
export function* Worker(k: Kernel, s: QueueState, countUnderLock: boolean) {
  for (;;) {
    yield* k.KeWaitForSingleObject(s.items, Executive, KernelMode, false, null);
    const irql = yield* k.KeAcquireSpinLock(s.lock);
    if ((yield* k.ReadNoFence(s.stopping)) !== 0) {
      yield* k.KeReleaseSpinLock(s.lock, irql);
      return;
    }
    const head = yield* k.ReadNoFence(s.ring);
    const item = yield* k.ReadNoFence(s.ring + 3 + (head % SLOTS));
    yield* k.WriteNoFence(s.ring, head + 1);
    const count = yield* k.ReadNoFence(s.ring + 2);
    yield* k.WriteNoFence(s.ring + 2, count - 1);
    if (countUnderLock) yield* k.InterlockedIncrement(s.active);
    yield* k.KeReleaseSpinLock(s.lock, irql);
    // BUG (when !countUnderLock): between the release above and this increment the worker holds an item
    // nobody knows about; a stop that runs to completion here frees the context under it.
    if (!countUnderLock) yield* k.InterlockedIncrement(s.active);
    let sum = item;
    for (let w = 0; w < CONTEXT_WORDS; w++) sum += yield* k.ReadNoFence(s.context + w);
    const expected = item + CONTEXT_WORDS * CONTEXT_DATA + (CONTEXT_WORDS * (CONTEXT_WORDS - 1)) / 2;
    // Bookkeeping of the test, not driver code: no scheduling point.
    if ((sum | 0) !== (expected | 0)) k.poke(s.tally + 1, 1);
    k.poke(s.tally, k.peek(s.tally) + 1);
    yield* k.InterlockedDecrement(s.active);
  }
}

/** The stop routine: refuse new work, wake both workers, wait until none is busy, free the context. */
export function* Stop(k: Kernel, s: QueueState) {
  yield* k.KeWaitForSingleObject(s.producerDone, Executive, KernelMode, false, null);
  const irql = yield* k.KeAcquireSpinLock(s.lock);
  yield* k.WriteNoFence(s.stopping, 1);
  yield* k.KeReleaseSpinLock(s.lock, irql);
  yield* k.KeReleaseSemaphore(s.items, 0, 2, false);
  while ((yield* k.ReadNoFence(s.active)) !== 0) yield* k.YieldProcessor();
  yield* k.ExFreePool(s.context);
}

export const queueInvariants = {
  'no use after free': (s: QueueState, k: Kernel) => k.peek(s.tally + 1) === 0 || 'a worker processed an item against the device context after stop freed it',
};

export default defineScenario<QueueState>({
  id: 'workqueue/stop-count-after-unlock',
  title: 'Work queue stop: a worker counts itself busy after dropping the queue lock',
  family: 'workqueue',
  variant: 'buggy',
  pairedWith: 'workqueue/stop-count-under-lock',
  description:
    'A device queues requests to two system worker threads through a ring guarded by a spin lock and a semaphore ' +
    'that counts queued items. A worker takes the lock, checks the stopping flag, dequeues, releases the lock and ' +
    'only then does InterlockedIncrement(&active) before it processes the item against the device context. The ' +
    'stop routine (run after the last request) sets stopping under the lock, wakes both workers, waits until ' +
    'active is zero and frees the context. A worker that dequeued the last item and is preempted between the lock ' +
    'release and the increment is invisible to stop: stop sees active == 0 and frees the context, and the worker ' +
    'then reads freed pool. It takes the worker being preempted in a one-instruction window and the stop thread ' +
    'running all the way through in that window, on a CPU it shares with the other worker. Checked builds stop ' +
    'with DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL (0xD5); a free build reads the poisoned words. Counting the ' +
    'worker busy before the lock is released closes the window (workqueue/stop-count-under-lock).',
  setup: setUpQueue,
  actors: {
    producer: { cpu: 0, *run(k, s) { yield* Producer(k, s); } },
    'worker-1': { cpu: 1, *run(k, s) { yield* Worker(k, s, false); } },
    'worker-2': { cpu: 2, *run(k, s) { yield* Worker(k, s, false); } },
    stop: { cpu: 3, *run(k, s) { yield* Stop(k, s); } },
  },
  invariants: queueInvariants,
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL' } },
    { outcome: { invariant: 'no use after free' } },
  ],
});
