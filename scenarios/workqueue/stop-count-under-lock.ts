import { defineScenario } from 'racebox';
import { Producer, queueInvariants, setUpQueue, Stop, Worker, type QueueState } from './stop-count-after-unlock.ts';

export default defineScenario<QueueState>({
  id: 'workqueue/stop-count-under-lock',
  title: 'Work queue stop: a worker counts itself busy before dropping the queue lock',
  family: 'workqueue',
  variant: 'correct',
  pairedWith: 'workqueue/stop-count-after-unlock',
  description:
    'The work queue of workqueue/stop-count-after-unlock — a producer, two worker threads on a semaphore-counted ' +
    'ring under a spin lock, and a stop routine that sets stopping under the lock, wakes the workers, waits for ' +
    'active == 0 and frees the device context — with the one fix: the worker does InterlockedIncrement(&active) ' +
    'while it still holds the queue lock. Stop sets stopping under the same lock, so either the worker saw ' +
    'stopping and took nothing, or its increment happened before stop could read active, and stop waits for it. ' +
    'No schedule frees the context under a worker.',
  setup: setUpQueue,
  actors: {
    producer: { cpu: 0, *run(k, s) { yield* Producer(k, s); } },
    'worker-1': { cpu: 1, *run(k, s) { yield* Worker(k, s, true); } },
    'worker-2': { cpu: 2, *run(k, s) { yield* Worker(k, s, true); } },
    stop: { cpu: 3, *run(k, s) { yield* Stop(k, s); } },
  },
  invariants: queueInvariants,
  expect: 'pass',
});
