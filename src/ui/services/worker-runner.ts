/**
 * The Runner over Web Workers. Explorations go to the pool (src/engine/pool.ts)
 * when the page is cross-origin isolated (shared cancel flag and failure
 * bound); otherwise to one worker, cancelled by terminating it. Replays use
 * one long-lived worker, under a wall-time watchdog, ended by Cancel. Free-run
 * uses one worker per logical CPU over shared memory (src/engine/free).
 *
 * Only library scenarios run in the app's own workers. A user's scenario (editor,
 * imported, linked) runs in the scenario sandbox (sandbox-runner.ts): an
 * opaque-origin frame that reaches neither the history nor the network.
 * Nothing here runs scenario code.
 */
import { proxy, wrap, type Remote } from 'comlink';
import { freeRunAvailability } from '../../engine/free/availability.ts';
import type { RunSummary } from '../../engine/outcome.ts';
import { explorePool, poolCancelFlag, type PoolWorker } from '../../engine/pool.ts';
import type { FenceReport } from '../../engine/fences.ts';
import { CANCEL_WORD, type FencesRequest, type FencesWorkerApi, type ManualWorkerApi, type PoolExploreWorkerApi, type Progress, type ReplayRequest, type ReplayResponse } from '../../engine/worker-contract.ts';
import type { ExploreJob, Runner } from './runner.ts';
import { createSandboxRunner, replayLimitMs, watchReplay } from './sandbox-runner.ts';

type ExploreWorkerRemote = Remote<PoolExploreWorkerApi & ManualWorkerApi & FencesWorkerApi>;

function exploreWorker(name: string): { worker: Worker; api: ExploreWorkerRemote } {
  const worker = new Worker(new URL('../../workers/explore.worker.ts', import.meta.url), { type: 'module', name });
  return { worker, api: wrap<PoolExploreWorkerApi & ManualWorkerApi & FencesWorkerApi>(worker) };
}

/** Threads a run uses by default: every core but one, which stays with the page so it never stutters. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(16, (navigator.hardwareConcurrency || 2) - 1));
}

/**
 * Idle exploration workers with their modules already loaded, so Start does
 * not pay for spawning and parsing the engine. A pool terminates its workers
 * when it ends; the spares are refilled once no long job runs: spawning a
 * worker costs the page's main thread a task (measured 120–170 ms of CPU under
 * the e2e trace) and takes a core from the run.
 */
class Spares {
  private idle: ReturnType<typeof exploreWorker>[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private created = 0;
  private busy = 0;
  constructor(private readonly want: number) {
    this.refillSoon();
  }
  take(): ReturnType<typeof exploreWorker> {
    const w = this.idle.pop() ?? exploreWorker(`explore-${this.created++}`);
    this.refillSoon();
    return w;
  }
  /** Runs a long job (an exploration, a fence search); no spare is spawned until every such job has ended. */
  async during<T>(job: () => Promise<T>): Promise<T> {
    this.busy++;
    clearTimeout(this.timer);
    try {
      return await job();
    } finally {
      this.busy--;
      this.refillSoon();
    }
  }
  private refillSoon(): void {
    clearTimeout(this.timer);
    if (this.busy > 0) return;
    this.timer = setTimeout(() => {
      if (this.busy === 0 && this.idle.length < this.want) {
        this.idle.push(exploreWorker(`explore-${this.created++}`));
        this.refillSoon();
      }
    }, 400);
  }
  dispose(): void {
    clearTimeout(this.timer);
    for (const w of this.idle) w.worker.terminate();
    this.idle = [];
  }
}

const abortError = (): Error => Object.assign(new Error('cancelled'), { name: 'AbortError' });

export function createWorkerRunner(): Runner {
  const shared = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
  let replayer: ReturnType<typeof exploreWorker> | undefined;
  const live = new Set<Worker>();
  const spares = new Spares(defaultWorkerCount());
  const poolWorker = (_i: number): PoolWorker => {
    const { worker, api } = spares.take();
    return { api, terminate: () => worker.terminate() };
  };

  const single = async (job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary> => {
    const w = spares.take();
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

  const sandboxed = createSandboxRunner();

  const runner: Runner = {
    maxWorkers: Math.max(1, Math.min(16, navigator.hardwareConcurrency || 2)),

    freeRunUnavailable(scenario) {
      const a = freeRunAvailability();
      if (!a.ok) return a.reason;
      return scenario && !('id' in scenario) ? sandboxed.freeRunUnavailable() : null;
    },

    async explore(job, onProgress, signal) {
      if (signal.aborted) throw abortError();
      if (!('id' in job.scenario)) return sandboxed.explore(job, onProgress, signal);
      if (job.engine === 'free') return freeRunJob(job, onProgress, signal);
      if (!shared) return spares.during(() => single(job, onProgress, signal));
      const { flag, cancel } = poolCancelFlag();
      const onAbort = (): void => cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        const { engine: _e, workers, ...req } = job;
        return await spares.during(() => explorePool(req, { workers, factory: poolWorker, cancel: flag, onProgress }));
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },

    async manual(req, signal) {
      // A user's scenario: its picks are computed in the sandbox, which returns them as data.
      if (!('id' in req.scenario)) return sandboxed.manual(req, signal);
      const w = (replayer ??= spares.take());
      // Each pick replays the run from its start: under the replay watchdog, like a replay.
      return watchReplay(w.api.manual(req), replayLimitMs(req.rig), signal, () => {
        w.worker.terminate();
        if (replayer === w) replayer = undefined;
      });
    },

    async fences(req: FencesRequest, onProgress: (schedulesRun: number) => void, signal: AbortSignal): Promise<FenceReport> {
      if (signal.aborted) throw abortError();
      if (!('id' in req.scenario)) return sandboxed.fences(req, onProgress, signal);
      // A worker of its own: the search is long, and Cancel ends it by terminating the worker.
      const w = spares.take();
      live.add(w.worker);
      try {
        return await spares.during(() => new Promise<FenceReport>((resolve, reject) => {
          const onAbort = (): void => {
            w.worker.terminate();
            reject(abortError());
          };
          signal.addEventListener('abort', onAbort, { once: true });
          w.api.fences(req, proxy((n: number) => onProgress(n))).then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
        }));
      } finally {
        w.worker.terminate();
        live.delete(w.worker);
      }
    },

    async replay(req: ReplayRequest, signal?: AbortSignal): Promise<ReplayResponse> {
      if (!('id' in req.scenario)) return sandboxed.replay(req, signal);
      const w = (replayer ??= spares.take());
      // A replay that hangs (a routine looping without calling the kernel) or is cancelled ends its worker;
      // the next replay gets a fresh one.
      return watchReplay(w.api.replay(req), replayLimitMs(req.rig), signal, () => {
        w.worker.terminate();
        if (replayer === w) replayer = undefined;
      });
    },

    dispose() {
      sandboxed.dispose();
      spares.dispose();
      replayer?.worker.terminate();
      replayer = undefined;
      for (const w of live) w.terminate();
      live.clear();
    },
  };

  async function freeRunJob(job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary> {
    const { runFreeInBrowser } = await import('../../workers/browser.ts');
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const onAbort = (): void => {
      Atomics.store(cancel, CANCEL_WORD, 1);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const id = 'id' in job.scenario ? job.scenario.id : job.scenario.filename;
      return await runFreeInBrowser(job.rig, job.scenario, id, {
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
