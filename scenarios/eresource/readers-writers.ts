import { defineScenario, type Kernel } from 'racebox';

/**
 * The test's own observations (not driver state: reading and writing them is no scheduling point).
 * What only writers change, always inside the exclusive section, is kept in machine memory so that
 * every CPU sees it under free-run too; the readers' own counts stay per processor.
 */
interface Observed {
  readers: number;
  maxReaders: number;
  /** writerEntries at the moment a reader last saw a writer waiting (-1: never). */
  waitingSeenAt: number;
}

/** Words of State.writerLog. */
const WRITER_ENTRIES = 0; // exclusive entries so far
const WRITERS_INSIDE = 1;

interface State {
  volumeLock: number;
  /** Two words a writer updates one after the other: a reader must never see them differ. */
  data: number;
  obs: Observed;
  writerLog: number;
}

function* Reader(k: Kernel, s: State, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    // A writer seen waiting (and not in yet) must get in before this reader does: writer preference.
    const writerPending = s.obs.waitingSeenAt === k.peek(s.writerLog + WRITER_ENTRIES);
    const entriesBefore = k.peek(s.writerLog + WRITER_ENTRIES);
    yield* k.KeEnterCriticalRegion();
    yield* k.ExAcquireResourceSharedLite(s.volumeLock, true);
    k.NT_ASSERT(!writerPending || k.peek(s.writerLog + WRITER_ENTRIES) > entriesBefore, 'a new reader overtook a waiting writer (writer starvation)');
    s.obs.readers++;
    s.obs.maxReaders = Math.max(s.obs.maxReaders, s.obs.readers);
    k.NT_ASSERT(k.peek(s.writerLog + WRITERS_INSIDE) === 0, 'a reader is inside while a writer is');
    const a = yield* k.ReadNoFence(s.data);
    const b = yield* k.ReadNoFence(s.data + 1);
    k.NT_ASSERT(a === b, `torn read: ${a} and ${b}`);
    if ((yield* k.ExGetExclusiveWaiterCount(s.volumeLock)) > 0) s.obs.waitingSeenAt = k.peek(s.writerLog + WRITER_ENTRIES);
    s.obs.readers--;
    yield* k.ExReleaseResourceLite(s.volumeLock);
    yield* k.KeLeaveCriticalRegion();
  }
}

function* Writer(k: Kernel, s: State) {
  yield* k.KeEnterCriticalRegion();
  yield* k.ExAcquireResourceExclusiveLite(s.volumeLock, true);
  k.poke(s.writerLog + WRITER_ENTRIES, k.peek(s.writerLog + WRITER_ENTRIES) + 1);
  const writers = k.peek(s.writerLog + WRITERS_INSIDE) + 1;
  k.poke(s.writerLog + WRITERS_INSIDE, writers);
  k.NT_ASSERT(writers === 1 && s.obs.readers === 0, `writer inside with ${writers - 1} other writer(s) and ${s.obs.readers} reader(s)`);
  const v = yield* k.ReadNoFence(s.data);
  yield* k.WriteNoFence(s.data, v + 1);
  yield* k.WriteNoFence(s.data + 1, v + 1);
  k.poke(s.writerLog + WRITERS_INSIDE, k.peek(s.writerLog + WRITERS_INSIDE) - 1);
  yield* k.ExReleaseResourceLite(s.volumeLock);
  yield* k.KeLeaveCriticalRegion();
}

export default defineScenario<State>({
  id: 'eresource/readers-writers',
  version: 2,
  title: 'ERESOURCE shared by readers, exclusive for writers',
  family: 'eresource',
  seeds: ['003_fa836adfb241329f'],
  variant: 'correct',
  pairedWith: 'eresource/upgrade-deadlock',
  description:
    'Two lookup threads read the volume table under ExAcquireResourceSharedLite, two update threads change it under ' +
    'ExAcquireResourceExclusiveLite, all inside critical regions. Readers overlap with each other; a writer is alone; ' +
    'a reader never sees a half-written update. ExAcquireResourceSharedLite prefers writers: once an update thread ' +
    'waits, a lookup thread that does not already hold the resource queues behind it, so a steady stream of readers ' +
    'cannot starve the writers (ExAcquireSharedStarveExclusive would let it). Each reader checks that it never ' +
    'overtakes a writer it saw waiting.',
  setup: (k) => ({
    volumeLock: k.ExInitializeResourceLite(),
    data: k.ExAllocatePool2(0, 8, 'Vol'),
    obs: { readers: 0, maxReaders: 0, waitingSeenAt: -1 },
    writerLog: k.ExAllocatePool2(0, 8, 'WLog'),
  }),
  actors: {
    lookup1: { cpu: 0, *run(k, s) { yield* Reader(k, s, 2); } },
    lookup2: { cpu: 1, *run(k, s) { yield* Reader(k, s, 2); } },
    update1: { cpu: 2, *run(k, s) { yield* Writer(k, s); } },
    update2: { cpu: 1, *run(k, s) { yield* Writer(k, s); } },
  },
  invariants: {
    'every update applied': (s, k) => (k.peek(s.data) === 2 && k.peek(s.data + 1) === 2) || `volume words ${k.peek(s.data)}, ${k.peek(s.data + 1)}; expected 2, 2`,
  },
  expect: 'pass',
});
