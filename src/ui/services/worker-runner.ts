/**
 * The Runner over Web Workers. Explorations go to the pool (src/engine/pool.ts)
 * when the page is cross-origin isolated (shared cancel flag and failure
 * bound); otherwise to one worker, cancelled by terminating it. Replays use
 * one long-lived worker. Free-run uses one worker per logical CPU over
 * shared memory (src/engine/free). Nothing here runs scenario code.
 */
import { proxy, wrap, type Remote } from 'comlink';
import { freeRunAvailability } from '../../engine/free/availability.ts';
import type { RunSummary } from '../../engine/outcome.ts';
import { explorePool, poolCancelFlag, type PoolWorker } from '../../engine/pool.ts';
import { CANCEL_WORD, type FreeWorkerApi, type PoolExploreWorkerApi, type Progress, type ReplayRequest, type ReplayResponse } from '../../workers/api.ts';
import type { ExploreJob, Runner } from './runner.ts';

function exploreWorker(name: string): { worker: Worker; api: Remote<PoolExploreWorkerApi> } {
  const worker = new Worker(new URL('../../workers/explore.worker.ts', import.meta.url), { type: 'module', name });
  return { worker, api: wrap<PoolExploreWorkerApi>(worker) };
}

function poolWorker(i: number): PoolWorker {
  const { worker, api } = exploreWorker(`explore-${i}`);
  return { api, terminate: () => worker.terminate() };
}

function freeWorker(slot: number): { api: Remote<FreeWorkerApi>; terminate(): void } {
  const worker = new Worker(new URL('../../workers/free.worker.ts', import.meta.url), { type: 'module', name: `cpu-${slot}` });
  return { api: wrap<FreeWorkerApi>(worker), terminate: () => worker.terminate() };
}

const abortError = (): Error => Object.assign(new Error('cancelled'), { name: 'AbortError' });

export function createWorkerRunner(): Runner {
  const shared = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
  let replayer: ReturnType<typeof exploreWorker> | undefined;
  const live = new Set<Worker>();

  const single = async (job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary> => {
    const w = exploreWorker('explore-0');
    live.add(w.worker);
    const t0 = performance.now();
    let last: Progress = { schedulesRun: 0, steps: 0, elapsedMs: 0 };
    try {
      return await new Promise<RunSummary>((resolve, reject) => {
        const onAbort = (): void => {
          w.worker.terminate();
          resolve({
            scenario: 'id' in job.scenario ? job.scenario.id : job.scenario.filename, rig: job.rig.id, strategy: job.strategy, seed: job.seed,
            schedulesRun: last.schedulesRun, steps: last.steps, elapsedMs: performance.now() - t0, outcome: 'pass',
          });
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const { engine: _e, workers: _w, ...req } = job;
        w.api.explore(req, proxy((p: Progress) => { last = p; onProgress(p); })).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    } finally {
      w.worker.terminate();
      live.delete(w.worker);
    }
  };

  const runner: Runner = {
    maxWorkers: Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2)),

    freeRunUnavailable() {
      const a = freeRunAvailability();
      return a.ok ? null : a.reason;
    },

    async explore(job, onProgress, signal) {
      if (signal.aborted) throw abortError();
      if (job.engine === 'free') return freeRunJob(job, onProgress, signal);
      if (!shared) return single(job, onProgress, signal);
      const { flag, cancel } = poolCancelFlag();
      const onAbort = (): void => cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const { engine: _e, workers, ...req } = job;
        return await explorePool(req, { workers, factory: poolWorker, cancel: flag, onProgress });
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },

    async replay(req: ReplayRequest): Promise<ReplayResponse> {
      replayer ??= exploreWorker('replay');
      return replayer.api.replay(req);
    },

    dispose() {
      replayer?.worker.terminate();
      replayer = undefined;
      for (const w of live) w.terminate();
      live.clear();
    },
  };

  async function freeRunJob(job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary> {
    const { freeRun } = await import('../../engine/free/run.ts');
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = (): void => {
      Atomics.store(cancel, CANCEL_WORD, 1);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const id = 'id' in job.scenario ? job.scenario.id : job.scenario.filename;
      return await freeRun(job.rig, job.scenario, id, freeWorker, {
        iterations: job.schedules,
        seconds: 30,
        seed: job.seed,
        cancel,
        onProgress: (p) => onProgress({ schedulesRun: p.iterations, steps: p.operations, elapsedMs: p.elapsedMs }),
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  return runner;
}
