import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'fastmutex/in-dpc',
  title: 'FAST_MUTEX acquired in a DPC',
  family: 'fastmutex',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'fastmutex/correct',
  description:
    'The request list is protected by a FAST_MUTEX, which works for the dispatch thread at PASSIVE_LEVEL; then the ' +
    'completion DPC takes the same mutex to unlink the finished request. DPCs run at DISPATCH_LEVEL and cannot block, so ' +
    'they can only synchronize with spin locks ("If you are synchronizing DPCs against each other, you\'re going to need ' +
    'spinlocks"). A checked build stops the DPC at the acquire with 0xC4/0x33. A free build gets away with it while the ' +
    'mutex happens to be free; when the DPC arrives while the dispatch thread holds it, the DPC tries to wait: ' +
    'ATTEMPTED_SWITCH_FROM_DPC (0xB8).',
  setup: (k) => ({ listMutex: k.ExInitializeFastMutex(), pending: k.ExAllocatePool2(0, 4, 'Pend') }),
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        yield* k.ExAcquireFastMutex(s.listMutex);
        const n = yield* k.ReadNoFence(s.pending);
        yield* k.WriteNoFence(s.pending, n + 1);
        const again = yield* k.ReadNoFence(s.pending);
        yield* k.WriteNoFence(s.pending, again);
        yield* k.ExReleaseFastMutex(s.listMutex);
      },
    },
    completionDpc: {
      kind: 'dpc',
      cpu: 1,
      *run(k, s) {
        yield* k.ExAcquireFastMutex(s.listMutex); // BUG: at DISPATCH_LEVEL, in a DPC
        const n = yield* k.ReadNoFence(s.pending);
        yield* k.WriteNoFence(s.pending, n - 1);
        yield* k.ExReleaseFastMutex(s.listMutex);
      },
    },
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_VERIFIER_DETECTED_VIOLATION', subcode: 0x33 } },
    { outcome: { bugcheck: 'ATTEMPTED_SWITCH_FROM_DPC' } },
  ],
});
