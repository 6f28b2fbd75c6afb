import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A bounded log in pool, filled from two CPUs: reserve a slot first, then test the index reserved.

const MAX_RECORDS = 2;
/** LOG_RECORD: { ULONG MajorFunction; NTSTATUS Status; ULONG Length; ULONG Tag } — 16 bytes. */
const RECORD_WORDS = 4;
const NEIGHBOUR_MAGIC = 0x5a5a5a5a;

interface DeviceExtension {
  count: number;
  records: number;
  stats: number;
}

/** LogRequest: the index InterlockedIncrement returns is this caller's alone; past the end, the record is dropped. */
function* LogRequest(k: Kernel, s: DeviceExtension, major: number) {
  const slot = (yield* k.InterlockedIncrement(s.count)) - 1;
  if (slot >= MAX_RECORDS) return; // log full: RecordCount keeps counting the dropped ones
  const record = s.records + slot * RECORD_WORDS;
  yield* k.WriteNoFence(record, major);
  yield* k.WriteNoFence(record + 1, 0);
}

export default defineScenario<DeviceExtension>({
  id: 'pool/overrun-reserve-first',
  title: 'Bounded request log: reserve the slot, then test the index',
  family: 'pool',
  variant: 'correct',
  pairedWith: 'pool/overrun',
  description:
    'The same request log as pool/overrun, appended the other way round: each dispatch routine first reserves a slot ' +
    'with InterlockedIncrement and then tests the index it got against MAX_RECORDS, dropping the record when the log ' +
    'is full. Two CPUs can never get the same index, and an index past the end is never used, so no write leaves the ' +
    'block: special pool stays quiet on a checked build and the neighbouring statistics block stays intact on a free one.',
  setup: (k) => {
    const ext = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'DevX');
    k.poke(ext, MAX_RECORDS - 1);
    const records = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, MAX_RECORDS * RECORD_WORDS * 4, 'Log ');
    const stats = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'Stat');
    k.poke(stats, NEIGHBOUR_MAGIC);
    return { count: k.name(ext, 'RecordCount'), records, stats };
  },
  actors: {
    dispatchRead: { cpu: 0, *run(k, s) { yield* LogRequest(k, s, 3); } },
    dispatchWrite: { cpu: 1, *run(k, s) { yield* LogRequest(k, s, 4); } },
  },
  invariants: {
    'statistics intact': (s, k) =>
      k.peek(s.stats) === NEIGHBOUR_MAGIC || `the statistics block after the log reads 0x${(k.peek(s.stats) >>> 0).toString(16)}`,
  },
  expect: 'pass',
});
