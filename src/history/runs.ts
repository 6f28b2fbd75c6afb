/** The run list: add, get, delete, and newest-first pages filtered by scenario, rig and outcome. */
import type { RunSummary } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import type { Rig } from '../machine/rig.ts';
import { check } from './check.ts';
import { chunksSpanning, compareKeys, countFromEntry, findInChunk, matchesFilter, mayMatch, newestFirst, removeFromChunk, runKey } from './chunks.ts';
import { readTx, writeTx, type History } from './db.ts';
import { HistoryError, HistoryValidationError } from './errors.ts';
import type { RunIndexName } from './schema.ts';
import {
  OUTCOMES, type EngineKind, type ListRunsOptions, type NewRun, type RunChunk, type RunChunkEntry, type RunCursor, type RunFilter, type RunKey, type RunPage,
  type RunScenario, type StoredRun,
} from './types.ts';
import { newRunCheck, traceStepsCheck } from './validate.ts';

/** Largest page listRuns returns. */
export const MAX_PAGE = 500;

/**
 * Stores a run (validated: a malformed run is refused with HistoryValidationError)
 * and, if given, its trace in the same transaction. Returns the new id.
 */
export async function addRun(h: History, run: NewRun, options: { trace?: TraceStep[] } = {}): Promise<number> {
  const r = check(newRunCheck, { ...run, createdAt: run.createdAt ?? Date.now() });
  if (!r.ok) throw new HistoryValidationError('run', r.errors);
  const steps = options.trace === undefined ? undefined : checkedSteps(options.trace);
  return writeTx(h, ['runs', 'traces'], async (tx) => {
    // The key generator fills in `id` (the store's key path) before the indexes are computed.
    const id = await tx.objectStore('runs').add(r.value as StoredRun);
    if (steps) await tx.objectStore('traces').put({ runId: id, steps });
    return id;
  });
}

export function checkedSteps(steps: TraceStep[]): TraceStep[] {
  const r = check(traceStepsCheck, steps, 'trace');
  if (!r.ok) throw new HistoryValidationError('trace', r.errors);
  return r.value;
}

/** A run by id, whether added on its own or imported (in a chunk). */
export async function getRun(h: History, id: number): Promise<StoredRun | undefined> {
  return readTx(h, ['runs', 'runChunks', 'runChunkIndex'], async (tx) => {
    const loose = await tx.objectStore('runs').get(id);
    if (loose !== undefined || !Number.isFinite(id)) return loose;
    const found = await chunkHolding(tx.objectStore('runChunks'), await tx.objectStore('runChunkIndex').getAll(), id);
    return found && found.chunk.runs[found.at];
  });
}

/** The chunk holding run `id`, and its position there. */
async function chunkHolding(
  chunks: { get(id: number): Promise<RunChunk | undefined> },
  entries: readonly RunChunkEntry[],
  id: number,
): Promise<{ chunk: RunChunk; at: number } | undefined> {
  for (const e of chunksSpanning(entries, id)) {
    const chunk = await chunks.get(e.id);
    const at = chunk ? findInChunk(chunk, id) : -1;
    if (chunk && at >= 0) return { chunk, at };
  }
  return undefined;
}

/** Whether a run with this id is stored (on its own or in a chunk). */
export async function hasRun(
  stores: { runs: { getKey(id: number): Promise<number | undefined> }; chunks: { get(id: number): Promise<RunChunk | undefined> }; index: { getAll(): Promise<RunChunkEntry[]> } },
  id: number,
): Promise<boolean> {
  if ((await stores.runs.getKey(id)) !== undefined) return true;
  return (await chunkHolding(stores.chunks, await stores.index.getAll(), id)) !== undefined;
}

/** Deletes a run and its trace; false if there was no such run. An imported run's chunk is rewritten without it. */
export async function deleteRun(h: History, id: number): Promise<boolean> {
  return writeTx(h, ['runs', 'traces', 'runChunks', 'runChunkIndex'], async (tx) => {
    const runs = tx.objectStore('runs');
    if ((await runs.getKey(id)) !== undefined) {
      await runs.delete(id);
    } else {
      const chunks = tx.objectStore('runChunks');
      const index = tx.objectStore('runChunkIndex');
      const found = await chunkHolding(chunks, await index.getAll(), id);
      if (!found) return false;
      await removeFromChunk({ chunks, index }, found.chunk, found.at);
    }
    await tx.objectStore('traces').delete(id);
    return true;
  });
}

/**
 * One page of runs, newest first, optionally filtered. Runs added one at a time: each filter combination has
 * its own index whose key ends in (createdAt, id), so their part of a page is one key range read backwards
 * (`limit + 1` records however many runs are stored). Imported runs (chunks.ts): the chunk index is read (one
 * small record per 500 runs), and the chunks that may hold matching runs before the cursor are loaded newest
 * first until no chunk left can change the page. The two are merged by (createdAt, id).
 */
export async function listRuns(h: History, options: ListRunsOptions): Promise<RunPage> {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new RangeError(`listRuns: limit must be an integer from 1 to ${MAX_PAGE} (got ${limit})`);
  const filter: RunFilter = { scenario: options.scenario, rig: options.rig, outcome: options.outcome };
  const { index, prefix } = indexFor(filter);
  const pos = options.after === undefined ? undefined : decodeCursor(options.after);
  const upper = pos ? [...prefix, pos.createdAt, pos.id] : [...prefix, []];
  const range =
    prefix.length > 0 ? IDBKeyRange.bound(prefix, upper, false, pos !== undefined) : pos ? IDBKeyRange.upperBound(upper, true) : null;
  const want = limit + 1;
  return readTx(h, ['runs', 'runChunks', 'runChunkIndex'], async (tx) => {
    let page: StoredRun[] = [];
    let cursor = await tx.objectStore('runs').index(index).openCursor(range, 'prev');
    // `limit + 1` records: the last one only says whether there is a next page.
    while (cursor) {
      page.push(cursor.value);
      if (page.length === want) break;
      cursor = await cursor.continue();
    }
    const before: RunKey | undefined = pos && [pos.createdAt, pos.id];
    const below = (k: RunKey): boolean => before === undefined || compareKeys(k, before) < 0;
    const candidates = (await tx.objectStore('runChunkIndex').getAll())
      .filter((e) => mayMatch(e, filter) && below(e.oldest))
      .sort((a, b) => compareKeys(b.newest, a.newest));
    const chunks = tx.objectStore('runChunks');
    for (let i = 0; i < candidates.length; i++) {
      // Every run not yet read is at most this chunk's newest: once the page is full above it, it is final.
      const bound = candidates[i]!.newest;
      if (page.length >= want && compareKeys(runKey(page[want - 1]!), bound) > 0) break;
      const chunk = await chunks.get(candidates[i]!.id);
      for (const r of chunk?.runs ?? []) if (matchesFilter(r, filter) && below(runKey(r))) page.push(r);
      page = page.sort(newestFirst).slice(0, want);
    }
    if (page.length <= limit) return { runs: page };
    const runs = page.slice(0, limit);
    return { runs, next: encodeCursor(runs[limit - 1]!) };
  });
}

/** How many runs match the filter (counted by the index, without reading the runs; chunks by their entry where it can tell). */
export async function countRuns(h: History, filter: RunFilter = {}): Promise<number> {
  const { index, prefix } = indexFor(filter);
  return readTx(h, ['runs', 'runChunks', 'runChunkIndex'], async (tx) => {
    let n = await (prefix.length === 0 ? tx.objectStore('runs').count() : tx.objectStore('runs').index(index).count(IDBKeyRange.bound(prefix, [...prefix, []])));
    for (const e of await tx.objectStore('runChunkIndex').getAll()) {
      const known = countFromEntry(e, filter);
      if (known !== undefined) n += known;
      else n += ((await tx.objectStore('runChunks').get(e.id))?.runs ?? []).filter((r) => matchesFilter(r, filter)).length;
    }
    return n;
  });
}

const INDEX_BY_FILTER: Record<string, RunIndexName> = {
  '': 'byTime',
  s: 'byScenario',
  r: 'byRig',
  o: 'byOutcome',
  sr: 'byScenarioRig',
  so: 'byScenarioOutcome',
  ro: 'byRigOutcome',
  sro: 'byScenarioRigOutcome',
};

function indexFor(f: RunFilter): { index: RunIndexName; prefix: string[] } {
  let tag = '';
  const prefix: string[] = [];
  for (const [k, v] of [['s', f.scenario], ['r', f.rig], ['o', f.outcome]] as const) {
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new TypeError(`run filter: ${k === 's' ? 'scenario' : k === 'r' ? 'rig' : 'outcome'} must be a string`);
    tag += k;
    prefix.push(v);
  }
  if (f.outcome !== undefined && !OUTCOMES.includes(f.outcome)) throw new TypeError(`run filter: unknown outcome ${JSON.stringify(f.outcome)}`);
  return { index: INDEX_BY_FILTER[tag]!, prefix };
}

export function encodeCursor(run: Pick<StoredRun, 'createdAt' | 'id'>): RunCursor {
  return `${run.createdAt}.${run.id}`;
}

export function decodeCursor(c: RunCursor): { createdAt: number; id: number } {
  const m = typeof c === 'string' ? /^(\d{1,16})\.(\d{1,16})$/.exec(c) : null;
  if (!m) throw new HistoryError(`not a run-list cursor: ${JSON.stringify(c)}`);
  return { createdAt: Number(m[1]), id: Number(m[2]) };
}

/** What the app knows when an exploration ends, beyond its RunSummary. */
export interface RunContext {
  rig: Rig;
  scenario: RunScenario;
  engine: EngineKind;
  budget: number;
  depth?: number;
  preemptionBound?: number;
  createdAt?: number;
}

/** Builds the record addRun takes from an engine summary (the summary names the rig and scenario by id only). */
export function runFromSummary(s: RunSummary, c: RunContext): NewRun {
  return {
    ...(c.createdAt !== undefined ? { createdAt: c.createdAt } : {}),
    rig: c.rig,
    scenario: c.scenario,
    engine: c.engine,
    strategy: s.strategy,
    seed: s.seed,
    budget: c.budget,
    ...(c.depth !== undefined ? { depth: c.depth } : {}),
    ...(c.preemptionBound !== undefined ? { preemptionBound: c.preemptionBound } : {}),
    outcome: s.outcome,
    ...(s.failure ? { failure: s.failure } : {}),
    schedulesRun: s.schedulesRun,
    steps: s.steps,
    elapsedMs: s.elapsedMs,
    ...(s.exhausted !== undefined ? { exhausted: s.exhausted } : {}),
    ...(s.failingSchedule !== undefined ? { failingSchedule: s.failingSchedule } : {}),
  };
}
