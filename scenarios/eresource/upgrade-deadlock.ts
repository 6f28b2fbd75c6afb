import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'eresource/upgrade-deadlock',
  title: 'ERESOURCE upgraded from shared to exclusive',
  family: 'eresource',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'eresource/readers-writers',
  description:
    'The lookup path takes the table ERESOURCE shared, misses the entry it wants, and then asks for the same resource ' +
    'exclusive to insert it — without releasing its shared hold. There is no shared-to-exclusive conversion: the ' +
    'exclusive request waits until every shared owner has left, and one of them is the requester itself, so it waits ' +
    'forever; a reader that arrives later queues behind the waiting writer and stalls too. Driver Verifier\'s deadlock ' +
    'detection does not track ERESOURCEs, so every build shows the same thing: a hung thread waiting for itself. ' +
    'Release the shared hold, take the resource exclusive, and look the entry up again.',
  setup: (k) => ({ tableLock: k.ExInitializeResourceLite(), entries: k.ExAllocatePool2(0, 4, 'Tabl') }),
  actors: {
    lookup: {
      cpu: 0,
      *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        yield* k.ExAcquireResourceSharedLite(s.tableLock, true);
        const n = yield* k.ReadNoFence(s.entries);
        if (n === 0) {
          yield* k.ExAcquireResourceExclusiveLite(s.tableLock, true); // BUG: still holds it shared
          yield* k.WriteNoFence(s.entries, 1);
          yield* k.ExReleaseResourceLite(s.tableLock);
        }
        yield* k.ExReleaseResourceLite(s.tableLock);
        yield* k.KeLeaveCriticalRegion();
      },
    },
    reader: {
      cpu: 1,
      *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        yield* k.ExAcquireResourceSharedLite(s.tableLock, true);
        yield* k.ReadNoFence(s.entries);
        yield* k.ExReleaseResourceLite(s.tableLock);
        yield* k.KeLeaveCriticalRegion();
      },
    },
  },
  expect: 'hang',
});
