import { defineScenario, SynchronizationEvent, Executive, KernelMode } from 'racebox';

export default defineScenario({
  id: 'eresource/release-not-owner',
  title: 'ERESOURCE released by a worker thread that never acquired it',
  family: 'eresource',
  seeds: ['003_fa836adfb241329f'],
  variant: 'buggy',
  pairedWith: 'eresource/readers-writers',
  description:
    'The dispatch routine takes the volume ERESOURCE exclusive, hands the rest of the request to a worker thread and ' +
    'returns; the worker finishes the update and calls ExReleaseResourceLite. But an ERESOURCE belongs to the thread ' +
    'that acquired it: the worker is not in the owner table, and Windows stops with RESOURCE_NOT_OWNED (0xE3) on every ' +
    'build (ReactOS only asserts). A lock that must be released by another thread needs ExSetResourceOwnerPointer and ' +
    'ExReleaseResourceForThreadLite, or a different primitive (an event or a semaphore).',
  setup: (k) => ({
    volumeLock: k.ExInitializeResourceLite(),
    workReady: k.KeInitializeEvent(SynchronizationEvent, false),
    volume: k.ExAllocatePool2(0, 4, 'Vol'),
  }),
  actors: {
    dispatch: {
      cpu: 0,
      *run(k, s) {
        yield* k.KeEnterCriticalRegion();
        yield* k.ExAcquireResourceExclusiveLite(s.volumeLock, true);
        yield* k.WriteNoFence(s.volume, 1);
        yield* k.KeSetEvent(s.workReady, 0, false); // the worker takes it from here
        yield* k.KeLeaveCriticalRegion();
      },
    },
    worker: {
      cpu: 1,
      *run(k, s) {
        yield* k.KeWaitForSingleObject(s.workReady, Executive, KernelMode, false, null);
        yield* k.KeEnterCriticalRegion();
        yield* k.WriteNoFence(s.volume, 2);
        yield* k.ExReleaseResourceLite(s.volumeLock); // BUG: not the owner
        yield* k.KeLeaveCriticalRegion();
      },
    },
  },
  expect: { bugcheck: 'RESOURCE_NOT_OWNED' },
});
