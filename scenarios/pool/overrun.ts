import { defineScenario, POOL_FLAG_NON_PAGED, type Kernel } from 'racebox';

// A bounded log in pool, filled from two CPUs: the bound is checked before the slot is reserved.

const MAX_RECORDS = 2;
/** LOG_RECORD: { ULONG MajorFunction; NTSTATUS Status; ULONG Length; ULONG Tag } — 16 bytes. */
const RECORD_WORDS = 4;
const NEIGHBOUR_MAGIC = 0x5a5a5a5a;

interface DeviceExtension {
  /** LONG RecordCount. */
  count: number;
  /** LOG_RECORD Records[MAX_RECORDS]: its own pool block. */
  records: number;
  /** The allocation the driver made next (its statistics block), a neighbour of Records in pool. */
  stats: number;
}

/** LogRequest: reserve a slot and fill it in. */
function* LogRequest(k: Kernel, s: DeviceExtension, major: number) {
  // BUG: the test and the reservation are two steps; both CPUs can pass the test for the last slot.
  if ((yield* k.ReadNoFence(s.count)) >= MAX_RECORDS) return;
  const slot = (yield* k.InterlockedIncrement(s.count)) - 1;
  const record = s.records + slot * RECORD_WORDS;
  yield* k.WriteNoFence(record, major);
  yield* k.WriteNoFence(record + 1, 0);
}

export default defineScenario<DeviceExtension>({
  id: 'pool/overrun',
  title: 'Bounded request log: the bound is tested before the slot is reserved',
  family: 'pool',
  variant: 'buggy',
  pairedWith: 'pool/overrun-reserve-first',
  description:
    'The driver keeps a small log of requests in a pool block of MAX_RECORDS 16-byte records, with a record count in ' +
    'the device extension. Each dispatch routine appends its request: if RecordCount < MAX_RECORDS, it reserves a slot ' +
    'with InterlockedIncrement and fills the record in. The interlocked increment makes the reservation atomic, but not ' +
    'the test before it: with one slot left, two CPUs both see room, both increment, and the second one gets index ' +
    'MAX_RECORDS — one record past the end of the block. On a checked build Driver Verifier\'s special pool puts the ' +
    'block against a guard, and the write stops the machine at once with DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION ' +
    '(0xD6), parameter 1 the address written. A free build has no guard: the record lands in the next pool block (here ' +
    'the driver\'s statistics), which is corrupt from then on. A thread preempted between its test and its increment ' +
    'does it on one CPU too. The fix reserves first and tests the index it got (pool/overrun-reserve-first).',
  setup: (k) => {
    const ext = k.ExAllocatePool2(POOL_FLAG_NON_PAGED, 16, 'DevX');
    k.poke(ext, MAX_RECORDS - 1); // one slot left
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
      k.peek(s.stats) === NEIGHBOUR_MAGIC || `the statistics block after the log reads 0x${(k.peek(s.stats) >>> 0).toString(16)}: a log record was written past the end of Records`,
  },
  expect: [
    { when: { build: 'checked' }, outcome: { bugcheck: 'DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION' } },
    { outcome: { invariant: 'statistics intact' } },
  ],
});
