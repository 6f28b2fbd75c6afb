/**
 * Runs user scenarios (editor, imported, linked) in the scenario sandbox (src/workers/sandbox-host.ts,
 * docs/sandbox.md): an opaque-origin frame whose workers reach neither the app's history nor its network.
 * The sandbox opens once, lazily, with the first user scenario.
 *
 * Explorations run in a coordinator worker inside the frame (the pool and its stall watchdog, with the shared
 * cancel flag made there); free-run too (the machine's memory made there). Cancel asks the coordinator to stop
 * and terminates it if it does not within a grace period. Replays use one long-lived sandbox worker under the
 * same watchdog as the app's own replays; so do the picks of a manual run ("be the scheduler").
 */
import { proxy } from 'comlink';
import type { FreeProgress } from '../../engine/free/run.ts';
import type { RunSummary } from '../../engine/outcome.ts';
import type { FenceReport } from '../../engine/fences.ts';
import type { ManualState } from '../../engine/manual.ts';
import type { FencesRequest, ManualRequest, Progress, ReplayRequest, ReplayResponse } from '../../engine/worker-contract.ts';
import type { Rig } from '../../machine/rig.ts';
import { openSandbox, type Sandbox, type SandboxWorker } from '../../workers/sandbox-host.ts';
import type { ExploreJob } from './runner.ts';

export const SANDBOX_NO_SHARED_MEMORY =
  'Free-run of your own scenarios needs shared memory in the scenario sandbox (the frame they run in, cut off from ' +
  'the history and the network), which this browser does not give it. Run them with the controlled engine; ' +
  'free-run still runs library scenarios.';

/** How long a cancelled sandbox run may take to stop by itself before its coordinator is terminated. */
const CANCEL_GRACE_MS = 2000;

/**
 * Wall time a replay may take: it runs one schedule of at most rig.watchdog.maxSteps steps, so the limit is a
 * base (loading the scenario) plus 10 µs per allowed step, far slower than the engine ever steps. A replay that
 * outlasts it has a routine that loops without calling the kernel (which the step watchdog cannot see).
 */
export function replayLimitMs(rig: Rig): number {
  return 5_000 + Math.ceil(rig.watchdog.maxSteps / 100);
}

export const abortError = (): Error => Object.assign(new Error('cancelled'), { name: 'AbortError' });

/**
 * `work` under a wall-time limit and an abort signal: past the limit it rejects with a message saying what hung,
 * on abort with an AbortError; both call `kill` (the caller ends the worker, whose call would never settle).
 */
export function watchReplay<T>(work: Promise<T>, limitMs: number, signal: AbortSignal | undefined, kill: () => void): Promise<T> {
  if (signal?.aborted) {
    kill();
    return Promise.reject(abortError());
  }
  return new Promise<T>((resolve, reject) => {
    const stop = (e: Error): void => {
      cleanup();
      kill();
      reject(e);
    };
    const timer = setTimeout(
      () =>
        stop(
          new Error(
            `the replay did not finish within ${(limitMs / 1000).toFixed(1)} s: a routine loops without calling the kernel ` +
              '(its worker was stopped; the next run or replay gets a new one)',
          ),
        ),
      limitMs,
    );
    const onAbort = (): void => stop(abortError());
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

export interface SandboxRunner {
  /** null while unknown (the sandbox has not started) or when free-run is available there. */
  freeRunUnavailable(): string | null;
  explore(job: ExploreJob, onProgress: (p: Progress) => void, signal: AbortSignal): Promise<RunSummary>;
  replay(req: ReplayRequest, signal?: AbortSignal): Promise<ReplayResponse>;
  /**
   * Be the scheduler (src/engine/manual.ts) for a user scenario: the enabled choices at a point of a run, and the
   * run after taking one, computed in the sandbox's replay worker (each pick replays the run from its start, so
   * under the replay watchdog). The page gets the state as data: labels, trace and schedule string.
   */
  manual(req: ManualRequest, signal?: AbortSignal): Promise<ManualState>;
  /** The fence search (src/engine/fences.ts) on a sandbox worker of its own; `signal` ends it (AbortError). */
  fences(req: FencesRequest, onProgress: (schedulesRun: number) => void, signal: AbortSignal): Promise<FenceReport>;
  dispose(): void;
}

export function createSandboxRunner(open: () => Promise<Sandbox> = () => openSandbox()): SandboxRunner {
  let sandbox: Promise<Sandbox> | undefined;
  let isolated: boolean | undefined;
  let replayer: Promise<SandboxWorker> | undefined;
  const live = new Set<SandboxWorker>();
  let disposed = false;

  const frame = (): Promise<Sandbox> => {
    sandbox ??= open().then(
      (s) => {
        isolated = s.crossOriginIsolated;
        if (disposed) s.dispose();
        return s;
      },
      (e: unknown) => {
        sandbox = undefined;
        throw e;
      },
    );
    return sandbox;
  };

  const worker = async (name: string): Promise<SandboxWorker> => {
    const w = await (await frame()).exploreWorker(name);
    live.add(w);
    void w.ended.catch(() => live.delete(w));
    return w;
  };

  /**
   * `call` on the long-lived replay worker, under the replay watchdog: a replay and each pick of a manual run
   * (which replays the run from its start) alike. A hang or a cancel ends the worker; the next call gets a new one.
   */
  const onReplayer = async <T>(call: (w: SandboxWorker) => Promise<T>, limitMs: number, signal: AbortSignal | undefined): Promise<T> => {
    const current = (replayer ??= worker('racebox-sandbox-replay'));
    let w: SandboxWorker;
    try {
      w = await current;
    } catch (e) {
      if (replayer === current) replayer = undefined;
      throw e;
    }
    void w.ended.catch(() => {
      if (replayer === current) replayer = undefined;
    });
    return watchReplay(Promise.race([call(w), w.ended]), limitMs, signal, () => {
      w.terminate();
      if (replayer === current) replayer = undefined;
    });
  };

  return {
    freeRunUnavailable() {
      return isolated === false ? SANDBOX_NO_SHARED_MEMORY : null;
    },

    async explore(job, onProgress, signal) {
      const sb = await frame();
      if (signal.aborted) throw abortError();
      if (job.engine === 'free' && !sb.crossOriginIsolated) throw new Error(SANDBOX_NO_SHARED_MEMORY);
      const w = await worker(job.engine === 'free' ? 'racebox-sandbox-free' : 'racebox-sandbox-explore');
      const id = 'id' in job.scenario ? job.scenario.id : job.scenario.filename;
      const t0 = performance.now();
      let last: Progress = { schedulesRun: 0, steps: 0, elapsedMs: 0 };
      const cancelled = (): RunSummary => ({
        scenario: id, rig: job.rig.id, strategy: job.strategy, seed: job.seed,
        schedulesRun: last.schedulesRun, steps: last.steps, elapsedMs: performance.now() - t0, outcome: 'pass',
      });
      const { engine, workers, ...req } = job;
      const pooled = sb.crossOriginIsolated;
      let run: Promise<RunSummary>;
      if (engine === 'free') {
        run = w.api.freeRun(job.rig, job.scenario, id, { iterations: job.schedules, seconds: 30, seed: job.seed, hostCpus: navigator.hardwareConcurrency || 1 },
          proxy((p: FreeProgress) => { last = { schedulesRun: p.iterations, steps: p.operations, elapsedMs: p.elapsedMs }; onProgress(last); }));
      } else {
        const report = proxy((p: Progress) => { last = p; onProgress(p); });
        // Without shared memory in the frame there is no pool: one worker, cancelled by terminating it.
        run = pooled ? w.api.explorePool(req, workers, report) : w.api.explore(req, report);
      }
      let grace: ReturnType<typeof setTimeout> | undefined;
      const stopped = new Promise<RunSummary>((resolve) => {
        const onAbort = (): void => {
          const end = (): void => {
            w.terminate();
            resolve(cancelled());
          };
          if (engine === 'controlled' && !pooled) end();
          else {
            void w.api.cancel();
            grace = setTimeout(end, CANCEL_GRACE_MS);
          }
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([run, w.ended, stopped]);
      } finally {
        clearTimeout(grace);
        w.terminate();
      }
    },

    async fences(req, onProgress, signal) {
      if (signal.aborted) throw abortError();
      const w = await worker('racebox-sandbox-fences');
      // Stop ends the search by ending its worker (the search is one long synchronous call there).
      let onAbort = (): void => {};
      const stopped = new Promise<never>((_, reject) => {
        onAbort = (): void => {
          w.terminate();
          reject(abortError());
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([w.api.fences(req, proxy((n: number) => onProgress(n))), w.ended, stopped]);
      } finally {
        signal.removeEventListener('abort', onAbort);
        w.terminate();
      }
    },

    replay(req, signal) {
      return onReplayer((w) => w.api.replay(req), replayLimitMs(req.rig), signal);
    },

    manual(req, signal) {
      return onReplayer((w) => w.api.manual(req), replayLimitMs(req.rig), signal);
    },

    dispose() {
      disposed = true;
      for (const w of live) w.terminate();
      live.clear();
      replayer = undefined;
      void sandbox?.then((s) => s.dispose(), () => undefined);
      sandbox = undefined;
    },
  };
}
