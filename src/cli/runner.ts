/**
 * Runs CLI jobs on worker threads, so that a scenario routine stuck in a loop
 * that never yields to the scheduler is stopped by a watchdog on the main
 * thread instead of freezing the command.
 */
import { Worker } from 'node:worker_threads';
import type { RunSummary } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import { InputError } from './load.ts';
import type { WorkerJob, WorkerMessage } from './worker.ts';

const WORKER_URL = new URL('../../bin/worker.mjs', import.meta.url);

/** How long one schedule may run without returning to the scheduler. */
export function stallLimitMs(): number {
  const v = Number(process.env.RACEBOX_STALL_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

export interface JobResult {
  summary: RunSummary;
  trace?: TraceStep[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type JobInput = DistributiveOmit<WorkerJob, 'heartbeat'>;

export function runJob(job: JobInput, onProgress?: (p: { schedulesRun: number; steps: number; elapsedMs: number }) => void): Promise<JobResult> {
  const heartbeat = new SharedArrayBuffer(8);
  const beats = new Int32Array(heartbeat);
  const worker = new Worker(WORKER_URL);
  const t0 = Date.now();
  return new Promise<JobResult>((resolvePromise, reject) => {
    let last = -1;
    let lastChange = Date.now();
    const limit = stallLimitMs();
    const timer = setInterval(() => {
      const b = Atomics.load(beats, 0);
      if (b !== last) {
        last = b;
        lastChange = Date.now();
        return;
      }
      if (Date.now() - lastChange > limit && b > 0) {
        finish();
        const rigId = job.rig.id;
        resolvePromise({
          summary: {
            scenario: job.scenario,
            rig: rigId,
            strategy: job.kind === 'explore' ? (job.options.strategy ?? 'pct') : 'replay',
            seed: job.kind === 'explore' ? (job.options.seed ?? 1) : 0,
            schedulesRun: b,
            steps: 0,
            elapsedMs: Date.now() - t0,
            outcome: 'hang',
            failure: {
              kind: 'hang',
              message:
                `schedule #${b - 1} did not return to the scheduler within ${Math.round(limit / 1000)} s: a routine loops ` +
                `without calling the kernel, so the box can neither interleave nor stop it (call k.* with yield* inside every loop)`,
              schedule: '',
              cpu: -1,
              routine: '',
              step: 0,
              cpus: [],
            },
          },
        });
      }
    }, 250);
    const finish = (): void => {
      clearInterval(timer);
      void worker.terminate();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress?.(m);
      else if (m.type === 'input-error') {
        finish();
        reject(new InputError(m.message));
      } else {
        finish();
        resolvePromise({ summary: m.summary, ...(m.trace ? { trace: m.trace } : {}) });
      }
    });
    worker.on('error', (e) => {
      finish();
      reject(e);
    });
    worker.on('exit', (code) => {
      clearInterval(timer);
      if (code !== 0 && code !== 1) reject(new Error(`worker exited with code ${code}`));
    });
    worker.postMessage({ ...job, heartbeat } as WorkerJob);
  });
}
