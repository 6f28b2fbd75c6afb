/**
 * Imported runs, stored many to a record (schema v2, issue 14).
 *
 * An import writes its runs sorted by id, CHUNK_RUNS to a `runChunks` record, each with a small
 * `runChunkIndex` entry saying what the chunk holds (id range, oldest and newest (createdAt, id), the distinct
 * scenarios, rigs and outcomes). Neither store has an index: Chromium spends its time on index entries (about
 * a thousand runs a second with the eight paging indexes), so a chunk of 500 runs costs two writes, not 4,500.
 * The reads (runs.ts, transfer.ts) load the whole chunk index, which is one small record per 500 imported runs,
 * and then only the chunks a page, a lookup or a filter needs. Runs added one at a time stay in `runs`.
 */
import type { OutcomeKind, RunChunk, RunChunkEntry, RunFilter, RunKey, StoredRun } from './types.ts';

/** Runs per chunk: small enough that a list page or a lookup by id reads little beyond what it shows. */
export const CHUNK_RUNS = 500;

export const runKey = (r: Pick<StoredRun, 'createdAt' | 'id'>): RunKey => [r.createdAt, r.id];

/** Orders keys as the paging indexes do: by createdAt, then id. */
export function compareKeys(a: RunKey, b: RunKey): number {
  return a[0] - b[0] || a[1] - b[1];
}

/** Newest first, as the list shows runs. */
export const newestFirst = (a: StoredRun, b: StoredRun): number => compareKeys(runKey(b), runKey(a));

export function matchesFilter(r: StoredRun, f: RunFilter): boolean {
  return (f.scenario === undefined || r.scenario.id === f.scenario) && (f.rig === undefined || r.rig.id === f.rig) && (f.outcome === undefined || r.outcome === f.outcome);
}

/** Whether a chunk can hold a run the filter matches (its facets are per dimension, so it may still hold none). */
export function mayMatch(e: RunChunkEntry, f: RunFilter): boolean {
  return (
    (f.scenario === undefined || e.scenarios.includes(f.scenario)) &&
    (f.rig === undefined || e.rigs.includes(f.rig)) &&
    (f.outcome === undefined || e.outcomes.includes(f.outcome))
  );
}

/** How many of the chunk's runs match, when its entry alone can tell (every filtered dimension has one value). */
export function countFromEntry(e: RunChunkEntry, f: RunFilter): number | undefined {
  if (!mayMatch(e, f)) return 0;
  const single = (v: string | undefined, all: readonly string[]): boolean => v === undefined || all.length === 1;
  return single(f.scenario, e.scenarios) && single(f.rig, e.rigs) && single(f.outcome, e.outcomes) ? e.count : undefined;
}

/** The entry of a chunk of runs sorted by id (at least one). */
export function chunkEntry(id: number, runs: readonly StoredRun[]): RunChunkEntry {
  let oldest = runKey(runs[0]!);
  let newest = oldest;
  const scenarios = new Set<string>();
  const rigs = new Set<string>();
  const outcomes = new Set<OutcomeKind>();
  for (const r of runs) {
    const k = runKey(r);
    if (compareKeys(k, oldest) < 0) oldest = k;
    if (compareKeys(k, newest) > 0) newest = k;
    scenarios.add(r.scenario.id);
    rigs.add(r.rig.id);
    outcomes.add(r.outcome);
  }
  return {
    id,
    count: runs.length,
    minId: runs[0]!.id,
    maxId: runs[runs.length - 1]!.id,
    oldest,
    newest,
    scenarios: [...scenarios],
    rigs: [...rigs],
    outcomes: [...outcomes],
  };
}

/** The two stores as a write transaction gives them (the part used here). */
export interface ChunkStores {
  chunks: { add(value: RunChunk): Promise<number>; put(value: RunChunk): Promise<number>; delete(key: number): Promise<void> };
  index: { put(value: RunChunkEntry): Promise<number>; delete(key: number): Promise<void> };
}

/** Chunks written before waiting for them: each add clones its chunk, so waiting now and then leaves the thread free. */
const WRITE_BATCH = 4;

/** Writes runs (ids already final and unique in the database) as chunks of CHUNK_RUNS, sorted by id. */
export async function writeChunks(stores: ChunkStores, runs: readonly StoredRun[]): Promise<void> {
  const sorted = [...runs].sort((a, b) => a.id - b.id);
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < sorted.length; i += CHUNK_RUNS) {
    if (writes.length === WRITE_BATCH) await Promise.all(writes.splice(0));
    const part = sorted.slice(i, i + CHUNK_RUNS);
    // The key generator fills in `id`.
    writes.push(stores.chunks.add({ runs: part } as unknown as RunChunk).then((id) => stores.index.put(chunkEntry(id, part))));
  }
  await Promise.all(writes);
}

/** The chunks whose id range contains `id` (usually one; ranges of different imports may interleave). */
export function chunksSpanning(entries: readonly RunChunkEntry[], id: number): RunChunkEntry[] {
  return entries.filter((e) => e.minId <= id && id <= e.maxId);
}

/** A run in a chunk by id (its runs are sorted by id): its position, or -1. */
export function findInChunk(chunk: RunChunk, id: number): number {
  let lo = 0;
  let hi = chunk.runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const x = chunk.runs[mid]!.id;
    if (x === id) return mid;
    if (x < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Removes the run at `at` from its chunk: the chunk is rewritten, or deleted with its entry when it empties. */
export async function removeFromChunk(stores: ChunkStores, chunk: RunChunk, at: number): Promise<void> {
  const runs = chunk.runs.filter((_, i) => i !== at);
  if (runs.length === 0) {
    await Promise.all([stores.chunks.delete(chunk.id), stores.index.delete(chunk.id)]);
  } else {
    await Promise.all([stores.chunks.put({ id: chunk.id, runs }), stores.index.put(chunkEntry(chunk.id, runs))]);
  }
}
