import { defineScenario, type Kernel } from 'racebox';

interface State {
  statsLock: number;
  packets: number;
}

// A helper that is "always called without the lock held" — until someone calls it from inside.
function* UpdateStatistics(k: Kernel, s: State) {
  const oldIrql = yield* k.KeAcquireSpinLock(s.statsLock);
  const n = yield* k.ReadNoFence(s.packets);
  yield* k.WriteNoFence(s.packets, n + 1);
  yield* k.KeReleaseSpinLock(s.statsLock, oldIrql);
}

export default defineScenario<State>({
  id: 'spinlock/recursive-acquire',
  title: 'Spin lock acquired again by its holder',
  family: 'spinlock',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  description:
    'The receive path takes the statistics lock and then calls a helper that takes the same lock again. Spin locks ' +
    'are not recursive. On a multi-processor HAL the second acquire spins forever on a lock its own processor holds; ' +
    'a free build shows a hung machine (DPC_WATCHDOG_VIOLATION in the field), a checked build stops at once with ' +
    'SPIN_LOCK_ALREADY_OWNED. On a uniprocessor HAL the lock word is never touched and the bug stays silent.',
  setup: (k) => ({ statsLock: k.KeInitializeSpinLock(), packets: k.ExAllocatePool2(0, 4, 'Pkts') }),
  actors: {
    receive: {
      cpu: 0,
      *run(k, s) {
        const oldIrql = yield* k.KeAcquireSpinLock(s.statsLock);
        yield* UpdateStatistics(k, s);
        yield* k.KeReleaseSpinLock(s.statsLock, oldIrql);
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
    { when: { build: 'checked' }, outcome: { bugcheck: 'SPIN_LOCK_ALREADY_OWNED' } },
    { when: { hal: 'up' }, outcome: 'pass' },
    { outcome: 'hang' },
  ],
});
