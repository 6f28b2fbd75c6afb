/**
 * What the app needs from the engine side: an exploration spread over N
 * workers with progress and cancel, and an exact replay (with its trace). All
 * work happens in workers; the page only sends requests and draws results.
 */
import type { RunSummary } from '../../engine/outcome.ts';
import type { ExploreRequest, Progress, ReplayRequest, ReplayResponse } from '../../engine/worker-contract.ts';

export type EngineKind = 'controlled' | 'free';

export interface ExploreJob extends ExploreRequest {
  engine: EngineKind;
  workers: number;
}

export interface Runner {
  /** Workers a run may use (the host's cores). */
  readonly maxWorkers: number;
  /** Free-run needs real shared memory; null when it is available, else why not. */
  freeRunUnavailable(): string | null;
  explore(job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary>;
  replay(req: ReplayRequest): Promise<ReplayResponse>;
  dispose(): void;
}
