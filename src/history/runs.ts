/** The run list: add, get, delete, and newest-first pages filtered by scenario, rig and outcome. */
import type { RunSummary } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import type { Rig } from '../machine/rig.ts';
import { check } from './check.ts';
import { readTx, writeTx, type History } from './db.ts';
import { HistoryError, HistoryValidationError } from './errors.ts';
import type { RunIndexName } from './schema.ts';
import { OUTCOMES, type EngineKind, type ListRunsOptions, type NewRun, type RunCursor, type RunFilter, type RunPage, type RunScenario, type StoredRun } from './types.ts';
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

export async function getRun(h: History, id: number): Promise<StoredRun | undefined> {
  return readTx(h, ['runs'], (tx) => tx.objectStore('runs').get(id));
}

/** Deletes a run and its trace; false if there was no such run. */
export async function deleteRun(h: History, id: number): Promise<boolean> {
  return writeTx(h, ['runs', 'traces'], async (tx) => {
    const runs = tx.objectStore('runs');
    if ((await runs.getKey(id)) === undefined) return false;
    await runs.delete(id);
    await tx.objectStore('traces').delete(id);
    return true;
  });
}

/**
 * One page of runs, newest first, optionally filtered. Each filter
 * combination has its own index whose key ends in (createdAt, id), so a page
 * is one key range read backwards: it reads `limit + 1` records however many
 * runs are stored and however rare the filtered ones are.
 */
export async function listRuns(h: History, options: ListRunsOptions): Promise<RunPage> {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new RangeError(`listRuns: limit must be an integer from 1 to ${MAX_PAGE} (got ${limit})`);
  const { index, prefix } = indexFor(options);
  const pos = options.after === undefined ? undefined : decodeCursor(options.after);
  const upper = pos ? [...prefix, pos.createdAt, pos.id] : [...prefix, []];
  const range =
    prefix.length > 0 ? IDBKeyRange.bound(prefix, upper, false, pos !== undefined) : pos ? IDBKeyRange.upperBound(upper, true) : null;
  return readTx(h, ['runs'], async (tx) => {
    const runs: StoredRun[] = [];
    let cursor = await tx.objectStore('runs').index(index).openCursor(range, 'prev');
    while (cursor && runs.length < limit) {
      runs.push(cursor.value);
      cursor = await cursor.continue();
    }
    const last = runs[runs.length - 1];
    return cursor && last ? { runs, next: encodeCursor(last) } : { runs };
  });
}

/** How many runs match the filter (counted by the index, without reading the runs). */
export async function countRuns(h: History, filter: RunFilter = {}): Promise<number> {
  const { index, prefix } = indexFor(filter);
  return readTx(h, ['runs'], (tx) =>
    prefix.length === 0 ? tx.objectStore('runs').count() : tx.objectStore('runs').index(index).count(IDBKeyRange.bound(prefix, [...prefix, []])),
  );
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
