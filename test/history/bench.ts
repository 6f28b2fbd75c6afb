/**
 * Run-list paging with a large history (not a test: `npx tsx test/history/bench.ts`).
 * fake-indexeddb is slower than a browser's IndexedDB, so read the ratios: a
 * page costs the same at 1,000 and at 10,000 runs, and reads limit + 1 records.
 */
import 'fake-indexeddb/auto';
import { closeHistory, countRuns, listRuns, openHistory, type NewRun, type OutcomeKind, type StoredRun } from '../../src/history/index.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { sampleRun } from './helpers.ts';

const proto = IDBCursor.prototype as unknown as { _iterate: (...a: unknown[]) => unknown };
const iterate = proto._iterate;
let reads = 0;
proto._iterate = function (this: unknown, ...a: unknown[]) {
  reads++;
  return iterate.apply(this, a);
};

const rigs = [presetRig('dual-opteron-240')!, presetRig('quad-free')!, presetRig('uniprocessor')!];
const outcomes: OutcomeKind[] = ['pass', 'pass', 'pass', 'deadlock', 'bugcheck'];

async function time<T>(f: () => Promise<T>): Promise<{ ms: number; reads: number; value: T }> {
  reads = 0;
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, reads, value };
}

for (const n of [1_000, 10_000]) {
  const h = await openHistory({ name: `bench-${n}` });
  const tSeed = performance.now();
  const tx = h.db.transaction('runs', 'readwrite');
  for (let i = 0; i < n; i++) {
    const run: NewRun = sampleRun({
      createdAt: 1_700_000_000_000 + i * 1000,
      scenario: `family${i % 10}/scenario`,
      rig: rigs[i % 3],
      // One run in 1,000 is an 'error'.
      outcome: i % 1000 === 500 ? 'error' : outcomes[i % 5],
    });
    void tx.store.add(run as StoredRun);
  }
  await tx.done;
  const seedMs = performance.now() - tSeed;
  const first = await time(() => listRuns(h, { limit: 50 }));
  let after = first.value.next;
  for (let p = 1; p < 19; p++) after = (await listRuns(h, { limit: 50, after: after! })).next;
  const deep = await time(() => listRuns(h, { limit: 50, after: after! }));
  const filtered = await time(() => listRuns(h, { scenario: 'family3/scenario', rig: rigs[0]!.id, outcome: 'deadlock', limit: 50 }));
  const rare = await time(() => listRuns(h, { outcome: 'error', limit: 50 }));
  const count = await time(() => countRuns(h, { outcome: 'error' }));
  const row = (what: string, r: { ms: number; reads: number }, rows: number): string =>
    `  ${what.padEnd(34)} ${r.ms.toFixed(1).padStart(7)} ms  ${String(r.reads).padStart(4)} records read  ${rows} rows`;
  console.log(`${n} runs (seeded in ${seedMs.toFixed(0)} ms)`);
  console.log(row('first page', first, first.value.runs.length));
  console.log(row('page 20', deep, deep.value.runs.length));
  console.log(row('scenario + rig + outcome', filtered, filtered.value.runs.length));
  console.log(row("outcome 'error' (1 in 1,000)", rare, rare.value.runs.length));
  console.log(row(`countRuns(error) = ${count.value}`, count, 0));
  closeHistory(h);
}
