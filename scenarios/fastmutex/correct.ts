import { defineScenario, type Kernel } from 'racebox';

interface State {
  statsMutex: number;
  packets: number;
  bytes: number;
  inside: { holders: number };
}

// Caller must hold statsMutex (the lock is taken once, by the caller).
function* UpdateStatisticsLocked(k: Kernel, s: State, size: number) {
  const n = yield* k.ReadNoFence(s.packets);
  yield* k.WriteNoFence(s.packets, n + 1);
  const b = yield* k.ReadNoFence(s.bytes);
  yield* k.WriteNoFence(s.bytes, b + size);
}

function* Path(k: Kernel, s: State, size: number) {
  yield* k.ExAcquireFastMutex(s.statsMutex);
  s.inside.holders++;
  k.NT_ASSERT(s.inside.holders === 1, 'two threads inside the statistics mutex at once');
  yield* UpdateStatisticsLocked(k, s, size);
  s.inside.holders--;
  yield* k.ExReleaseFastMutex(s.statsMutex);
}

export default defineScenario<State>({
  id: 'fastmutex/correct',
  title: 'FAST_MUTEX held once around the statistics update',
  family: 'fastmutex',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'fastmutex/recursive',
  description:
    'The same driver as fastmutex/recursive, restructured: the helper is UpdateStatisticsLocked and expects its caller ' +
    'to hold the statistics FAST_MUTEX, so every path takes the mutex exactly once, at PASSIVE_LEVEL, and releases it ' +
    'at APC_LEVEL. Three paths (receive, transmit, and a second receive queue on the same processor, which can be ' +
    'preempted while it holds the mutex: APC_LEVEL does not stop the scheduler) contend for it; waiters sleep on the ' +
    'gate and may be overtaken by a newcomer (fast mutexes are not FIFO). Nobody is ever inside twice, no update is ' +
    'lost, nothing hangs.',
  setup: (k) => ({
    statsMutex: k.ExInitializeFastMutex(),
    packets: k.ExAllocatePool2(0, 4, 'Pkts'),
    bytes: k.ExAllocatePool2(0, 4, 'Byts'),
    inside: { holders: 0 },
  }),
  actors: {
    receive: { cpu: 0, *run(k, s) { yield* Path(k, s, 100); } },
    transmit: { cpu: 1, *run(k, s) { yield* Path(k, s, 20); } },
    receive2: { cpu: 0, *run(k, s) { yield* Path(k, s, 3); } },
  },
  invariants: {
    'no lost update': (s, k) =>
      (k.peek(s.packets) === 3 && k.peek(s.bytes) === 123) || `packets ${k.peek(s.packets)}, bytes ${k.peek(s.bytes)}; expected 3 and 123`,
    'mutex free at the end': (s, k) => k.fastMutexOwner(s.statsMutex) === null || `still owned by ${k.fastMutexOwner(s.statsMutex)}`,
  },
  expect: 'pass',
});
