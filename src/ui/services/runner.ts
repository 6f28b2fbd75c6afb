/**
 * What the app needs from the engine side: an exploration spread over N
 * workers with progress and cancel, and an exact replay (with its trace). All
 * work happens in workers; the page only sends requests and draws results.
 */
import type { RunSummary } from '../../engine/outcome.ts';
import type { ManualState } from '../../engine/manual.ts';
import type { FenceReport } from '../../engine/fences.ts';
import type { ExploreRequest, FencesRequest, ManualRequest, Progress, ReplayRequest, ReplayResponse, ScenarioRef } from '../../engine/worker-contract.ts';

export type EngineKind = 'controlled' | 'free';

export interface ExploreJob extends ExploreRequest {
  engine: EngineKind;
  workers: number;
}

export interface Runner {
  /** Workers a run may use (the host's cores). */
  readonly maxWorkers: number;
  /**
   * Free-run needs real shared memory; null when it is available, else why not. Given a user's scenario, also
   * whether the scenario sandbox has it (known once the sandbox has started; null until then).
   */
  freeRunUnavailable(scenario?: ScenarioRef): string | null;
  explore(job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary>;
  /**
   * One schedule, exactly. Rejects when it runs past its watchdog (a routine that loops without calling the
   * kernel) or when `signal` aborts (AbortError); either ends the worker, and the next replay gets a new one.
   */
  replay(req: ReplayRequest, signal?: AbortSignal): Promise<ReplayResponse>;
  /**
   * Be the scheduler: the enabled choices at a point of a run, and the run after taking one. A user's scenario
   * is run in the scenario sandbox (sandbox-runner.ts), a library scenario in the app's own workers.
   */
  manual?(req: ManualRequest, signal?: AbortSignal): Promise<ManualState>;
  /** The fence search (src/engine/fences.ts) in a worker (a user's scenario: in the sandbox); `signal` ends it (AbortError). */
  fences?(req: FencesRequest, onProgress: (schedulesRun: number) => void, signal: AbortSignal): Promise<FenceReport>;
  dispose(): void;
}
