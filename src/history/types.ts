/** The records the history stores. Everything is plain JSON data (no Dates, no classes), so export is lossless. */
import type { Failure, OutcomeKind } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import type { Rig } from '../machine/rig.ts';

export type { Failure, OutcomeKind, Rig, TraceStep };

export type EngineKind = 'controlled' | 'free';

export const OUTCOMES: readonly OutcomeKind[] = ['pass', 'bugcheck', 'deadlock', 'hang', 'invariant', 'error'];

/** Which scenario a run ran, as it was then: a later edit of the scenario does not rewrite old runs. */
export interface RunScenario {
  id: string;
  version: number;
  title: string;
}

/** One stored exploration (or replay). */
export interface StoredRun {
  /** Assigned by addRun (auto-increment, never reused within one database). */
  id: number;
  /** Milliseconds since the epoch; the list is newest first by (createdAt, id). */
  createdAt: number;
  /** The full rig, so a run on a user rig still opens after the rig is edited or deleted. */
  rig: Rig;
  scenario: RunScenario;
  engine: EngineKind;
  /** 'portfolio' | 'pct' | 'random' | 'pos' | 'dfs' | 'replay' today; any short lower-case name is accepted. */
  strategy: string;
  seed: number;
  /** Schedules the run was allowed (its budget). */
  budget: number;
  /** PCT depth d. */
  depth?: number;
  /** DFS preemption bound. */
  preemptionBound?: number;
  outcome: OutcomeKind;
  /** Present exactly when outcome is not 'pass'; carries the schedule that replays it. */
  failure?: Failure;
  schedulesRun: number;
  steps: number;
  elapsedMs: number;
  exhausted?: boolean;
  failingSchedule?: number;
  /** The user stopped the run before its budget: "no failure in schedulesRun of budget". */
  cancelled?: boolean;
}

/**
 * Imported runs, stored many to a record (src/history/chunks.ts): one write per chunk instead of one per run
 * and its eight index entries. `runs` are sorted by id. Deleting a run rewrites its chunk.
 */
export interface RunChunk {
  /** Assigned by the store; the same key as the chunk's RunChunkEntry. */
  id: number;
  runs: StoredRun[];
}

/** A run's place in the newest-first list: (createdAt, id). */
export type RunKey = [createdAt: number, id: number];

/** What a chunk holds, read without the chunk: which chunks a list page, a lookup by id or a filter needs. */
export interface RunChunkEntry {
  id: number;
  count: number;
  minId: number;
  maxId: number;
  /** The oldest and newest run by (createdAt, id). */
  oldest: RunKey;
  newest: RunKey;
  /** The distinct scenario ids, rig ids and outcomes of its runs. */
  scenarios: string[];
  rigs: string[];
  outcomes: OutcomeKind[];
}

/** What addRun takes: a run without its id (createdAt defaults to now). */
export type NewRun = Omit<StoredRun, 'id' | 'createdAt'> & { createdAt?: number };

/** The step record of one run, kept apart from the run list (it can be megabytes). */
export interface StoredTrace {
  runId: number;
  steps: TraceStep[];
}

/** A user's own scenario: TypeScript source stored as text, never evaluated by the history layer. */
export interface UserScenario {
  id: string;
  title: string;
  source: string;
  /** Milliseconds since the epoch. */
  updatedAt: number;
  /** Where it came from when it was not written here: the app asks before running such code from a link. */
  origin?: ScenarioOrigin;
}

/** A scenario that arrived in a history file (src/history/user-scenarios.ts markImported). */
export interface ScenarioOrigin {
  kind: 'imported';
  /** The imported file's name, as the browser gave it. */
  file: string;
  /** Milliseconds since the epoch. */
  importedAt: number;
}

export interface RunFilter {
  /** Scenario id. */
  scenario?: string;
  /** Rig id. */
  rig?: string;
  outcome?: OutcomeKind;
}

/** Opaque position in the newest-first run list; pass `next` back as `after`. */
export type RunCursor = string;

export interface ListRunsOptions extends RunFilter {
  /** Page size, 1 to MAX_PAGE. */
  limit: number;
  after?: RunCursor;
}

export interface RunPage {
  runs: StoredRun[];
  /** Present when there may be more runs after this page. */
  next?: RunCursor;
}
