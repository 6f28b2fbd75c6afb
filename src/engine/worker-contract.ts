/**
 * The contract between the app (or the CLI) and an exploration worker,
 * exposed with Comlink. One worker runs one controlled exploration or replay
 * at a time; a pool (src/engine/pool.ts) spreads one exploration over several
 * by giving each a share of the schedule indices (first, stride). The engine
 * owns this contract; src/workers/ implements it.
 */
import type { ExploreStrategy } from './explore.ts';
import type { RunSummary } from './outcome.ts';
import type { TraceStep } from './trace.ts';
import type { Rig } from '../machine/rig.ts';

/** A library scenario by id, or a user's scenario as TypeScript source (transpiled inside the worker, never on the page). */
export type ScenarioRef = { id: string } | { source: string; filename: string };

export interface ExploreRequest {
  scenario: ScenarioRef;
  rig: Rig;
  strategy: ExploreStrategy;
  seed: number;
  schedules: number;
  depth?: number;
  preemptionBound?: number;
  /** This worker's share of schedule indices: first, first + stride, ... */
  first?: number;
  stride?: number;
  /** Shrink the failure's schedule before returning it (src/engine/shrink.ts), in the worker that found it. */
  shrink?: boolean;
  /** Search from here: keep the choices of `schedule` before `step` (a hand-made prefix), explore beyond it. */
  prefix?: { schedule: string; step: number };
}

export interface Progress {
  schedulesRun: number;
  steps: number;
  elapsedMs: number;
}

export interface ReplayRequest {
  scenario: ScenarioRef;
  rig: Rig;
  schedule: string;
  trace: boolean;
}

export interface ReplayResponse {
  summary: RunSummary;
  trace?: TraceStep[];
}

export interface ExploreWorkerApi {
  /**
   * Explores until the first failure or the budget. `cancel` is a shared flag:
   * the worker stops between schedules once word 0 is non-zero.
   */
  explore(req: ExploreRequest, onProgress?: (p: Progress) => void, cancel?: Int32Array): Promise<RunSummary>;
  replay(req: ReplayRequest): Promise<ReplayResponse>;
}

// ---- Extensions (compatible): the pool's shared failure bound, and the free-run CPU workers -------

/**
 * Pool convention for `ExploreWorkerApi.explore`'s `cancel` array: when it has
 * a second word, word 1 is 1 + the lowest failing schedule index any pool
 * worker has found so far (0: none). A worker does not start a schedule whose
 * index is above it, and publishes its own failure there (atomic minimum).
 */
export const CANCEL_WORD = 0;
export const FAILURE_BOUND_WORD = 1;
/**
 * Word heartbeatWord(first) (optional): bumped by the worker at every schedule it starts, so the
 * pool can tell a routine that never yields. Each worker's word has a cache line of its own, away
 * from the cancel and bound words every worker reads per schedule: sharing one line made two
 * workers trade it back and forth on every schedule. The word after it counts the worker's steps
 * (bumped once when explore() is called, then every 256 steps): a long schedule is not a stalled one.
 */
export const HEARTBEAT_BASE = 16;
export const WORDS_PER_CACHE_LINE = 16;
export function heartbeatWord(first: number): number {
  return HEARTBEAT_BASE + first * WORDS_PER_CACHE_LINE;
}
/** Size (words) of the shared control array of a pool of n workers. */
export function poolControlWords(n: number): number {
  return heartbeatWord(n);
}

/** Lowers word i of a shared array to v if v is smaller (0 means "none yet"). */
export function atomicMinBound(a: Int32Array, i: number, v: number): void {
  for (;;) {
    const cur = Atomics.load(a, i);
    if (cur !== 0 && cur <= v) return;
    if (Atomics.compareExchange(a, i, cur, v) === cur) return;
  }
}

/** Schedules and steps a worker's last exploration spent on indices below a bound (for a pool's totals). */
export interface ShareBelow {
  schedules: number;
  steps: number;
}

export interface PoolExploreWorkerApi extends ExploreWorkerApi {
  /** After explore(): how many of its schedules had an index below `index`, and their steps. */
  shareBelow(index: number): Promise<ShareBelow>;
}

/** Be the scheduler (src/engine/manual.ts): start a manual run, or take a choice in one. */
export interface ManualRequest {
  scenario: ScenarioRef;
  rig: Rig;
  /** Start from step `step` of `schedule` (no schedule, or step 0: from the start). */
  from?: { schedule?: string; step: number };
  /** Continue: the picks so far and the step the run waits at … */
  state?: { picks: number[]; step: number };
  /** … and the choice id taken there. */
  take?: number;
}

export interface ManualWorkerApi {
  manual(req: ManualRequest): Promise<import('./manual.ts').ManualState>;
}

/** The fence search (src/engine/fences.ts) of one scenario on one rig, in one worker. */
export interface FencesRequest {
  scenario: ScenarioRef;
  rig: Rig;
  /** Schedules per seed (default DEFAULT_FENCE_BUDGET). */
  budget?: number;
  maxChanges?: number;
}

export interface FencesWorkerApi {
  /** `onProgress` gets the schedules run so far (at most a few times a second). */
  fences(req: FencesRequest, onProgress?: (schedulesRun: number) => void): Promise<import('./fences.ts').FenceReport>;
}

/** One logical CPU of a free run (src/engine/free): all CPUs of a run share these buffers. */
export interface FreeCpuRequest {
  scenario: ScenarioRef;
  rig: Rig;
  /** Index of this worker's CPU among the rig's online CPUs. */
  slot: number;
  /** Online CPUs, one worker each. */
  cpus: number;
  /** Machine memory (rig.memoryWords × 4 bytes), its shadow map (rig.memoryWords bytes) and the control block. */
  memory: SharedArrayBuffer;
  shadow: SharedArrayBuffer;
  control: SharedArrayBuffer;
  seed: number;
  /** How long a worker waiting at a barrier spins before it sleeps. */
  spinMicros: number;
  /** More CPU workers than host cores: a CPU spinning on a lock gives its host core away now and then (FreeCpu.noteSpin). */
  oversubscribed?: boolean;
  /** 'auto': plain-function twins where the worker has them (Node) and the CPU runs one thread; 'generators': never. */
  mode?: 'auto' | 'generators';
}

export interface FreeWorkerApi {
  /** Runs this CPU until the coordinator stops the run (through the control block); returns its counters and any failure. */
  runCpu(req: FreeCpuRequest): Promise<import('./free/cpu.ts').CpuResult>;
}
