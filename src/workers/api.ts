/**
 * The contract between the app (or the CLI) and an exploration worker,
 * exposed with Comlink. One worker runs one controlled exploration or replay
 * at a time; a pool (src/engine/pool.ts) spreads one exploration over several
 * by giving each a share of the schedule indices (first, stride).
 */
import type { ExploreStrategy } from '../engine/explore.ts';
import type { RunSummary } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
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
