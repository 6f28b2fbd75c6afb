import { defineScenario, DRIVER_VERIFIER_SELF_DEADLOCK, type Kernel } from 'racebox';

interface State {
  statsMutex: number;
  packets: number;
}

// A helper documented as "takes the statistics mutex itself" — called once too often from inside it.
function* UpdateStatistics(k: Kernel, s: State) {
  yield* k.ExAcquireFastMutex(s.statsMutex);
  const n = yield* k.ReadNoFence(s.packets);
  yield* k.WriteNoFence(s.packets, n + 1);
  yield* k.ExReleaseFastMutex(s.statsMutex);
}

export default defineScenario<State>({
  id: 'fastmutex/recursive',
  title: 'FAST_MUTEX acquired again by its owner',
  family: 'fastmutex',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'fastmutex/correct',
  description:
    'The receive path takes the statistics FAST_MUTEX and, while holding it, calls UpdateStatistics, which takes the ' +
    'same mutex again. Fast mutexes are not reentrant ("You will deadlock if you try to acquire a fast mutex that you ' +
    'already own"): the second ExAcquireFastMutex finds the mutex owned and waits on its gate for a release that only ' +
    'this thread could do. A free build hangs for good, and the transmit thread queues up behind it; a checked build ' +
    'with Driver Verifier deadlock detection stops at the second acquire with 0xC4/0x1000 (self-deadlock). If ' +
    'recursion is needed, use a KMUTEX; otherwise restructure so the helper runs with the lock already held.',
  setup: (k) => ({ statsMutex: k.ExInitializeFastMutex(), packets: k.ExAllocatePool2(0, 4, 'Pkts') }),
  actors: {
    receive: {
      cpu: 0,
      *run(k, s) {
        yield* k.ExAcquireFastMutex(s.statsMutex);
        yield* UpdateStatistics(k, s);
        yield* k.ExReleaseFastMutex(s.statsMutex);
      },
    },
    transmit: {
      cpu: 1,
      *run(k, s) {
        yield* UpdateStatistics(k, s);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: DRIVER_VERIFIER_SELF_DEADLOCK } },
    { outcome: 'hang' },
  ],
});
