/**
 * Runs CLI jobs on worker threads, so that a scenario routine stuck in a loop
 * that never yields to the scheduler is stopped by a watchdog on the main
 * thread instead of freezing the command.
 */
import { Worker } from 'node:worker_threads';
import type { RunSummary } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import { InputError } from '../workers/node-load.ts';
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
            strategy: job.kind === 'explore' ? (job.options.strategy ?? 'portfolio') : 'replay',
            seed: job.kind === 'explore' ? (job.options.seed ?? 1) : 0,
            // The first beat is the exploration's calibration run; each schedule beats once more.
            schedulesRun: Math.max(0, b - 2),
            steps: 0,
            elapsedMs: Date.now() - t0,
            outcome: 'hang',
            failure: {
              kind: 'hang',
              message:
                `${b >= 2 ? `schedule #${b - 2}` : 'the first run'} did not return to the scheduler within ${Math.round(limit / 1000)} s: a routine loops ` +
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

// ---- free-run and the exploration pool (Comlink workers over worker_threads) ----------------------

/** Free-run of a scenario on the CLI: one worker thread per online CPU of the rig. */
export async function runFreeJob(
  job: { scenario: string; scenarioId: string; rig: import('../machine/rig.ts').Rig; seconds?: number; iterations: number; seed: number; controlledCommand: string },
  onProgress?: (p: import('../engine/free/run.ts').FreeProgress) => void,
): Promise<import('../engine/free/run.ts').FreeRunSummary> {
  const { freeRun } = await import('../engine/free/run.ts');
  const { nodeFreeWorker, nodeHostCpus } = await import('../workers/node-entry.ts');
  try {
    return await freeRun(job.rig, { id: job.scenario }, job.scenarioId, () => nodeFreeWorker(), {
      ...(job.seconds !== undefined ? { seconds: job.seconds } : {}),
      iterations: job.iterations,
      seed: job.seed,
      hostCpus: nodeHostCpus(),
      controlledCommand: job.controlledCommand,
      ...(onProgress ? { onProgress, progressMs: 1000 } : {}),
    });
  } catch (e) {
    // A scenario the workers cannot load is bad input, like an unknown id.
    throw new InputError((e as Error).message.split('\n')[0]!);
  }
}

/** An exploration spread over `workers` worker threads (src/engine/pool.ts). */
export async function runPoolJob(
  job: { scenario: string; rig: import('../machine/rig.ts').Rig; workers: number; options: Pick<import('../engine/worker-contract.ts').ExploreRequest, 'strategy' | 'seed' | 'schedules' | 'depth' | 'preemptionBound'> },
  onProgress?: (p: import('../engine/pool.ts').PoolProgress) => void,
): Promise<import('../engine/pool.ts').PoolSummary> {
  const { explorePool } = await import('../engine/pool.ts');
  const { nodeExploreWorker } = await import('../workers/node-entry.ts');
  return explorePool(
    { ...job.options, scenario: { id: job.scenario }, rig: job.rig },
    { workers: job.workers, factory: () => nodeExploreWorker(), stallMs: stallLimitMs(), ...(onProgress ? { onProgress } : {}) },
  );
}

/** The human-readable report of a free run. */
export function formatFreeSummary(r: import('../engine/free/run.ts').FreeRunSummary, rigTitle: string): string {
  const lines: string[] = [];
  const secs = (r.elapsedMs / 1000).toFixed(1);
  lines.push(`${r.scenario} on ${r.rig} (${rigTitle}) — free-run, ${r.cpus.length} CPU worker${r.cpus.length === 1 ? '' : 's'}`);
  if (r.outcome === 'pass') {
    lines.push(`✓ no failure in ${r.iterations} iterations (${secs} s, stopped by ${r.stoppedBy === 'time' ? 'the time budget' : r.stoppedBy === 'iterations' ? 'the iteration budget' : r.stoppedBy})`);
  } else {
    const f = r.failure!;
    lines.push(`✗ ${r.outcome} after ${r.iterations} completed iterations (${secs} s)`);
    if (f.bugcheck) {
      const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
      lines.push('', `  *** STOP: ${hex(f.bugcheck.code)} (${f.bugcheck.params.map(hex).join(', ')})`, `  ${f.bugcheck.name}`);
      if (f.bugcheck.meaning) lines.push(`  ${f.bugcheck.meaning}`);
    }
    lines.push('', `  ${f.message}`);
    if (f.routine) lines.push(`  on CPU ${f.cpu}, in ${f.routine}`);
    for (const c of f.cpus) {
      const stack = c.stack.length === 0 ? 'idle' : c.stack.map((x) => `${x.kind} ${x.name}${x.routineStack.length ? ` [${x.routineStack.join(' > ')}]` : ''}${x.heldLocks.length ? ` holds ${x.heldLocks.join(', ')}` : ''}${x.spinningOn ? ` spins on ${x.spinningOn}` : ''}`).join('  ▸  ');
      lines.push(`  CPU ${c.cpu}  ${c.irqlName.padEnd(15)} ${stack}`);
    }
  }
  lines.push('', '  CPU  iterations   operations  acquisitions       spins   DPCs  interrupts');
  for (const c of r.cpus) {
    lines.push(`  ${String(c.cpu).padStart(3)}  ${String(c.iterations).padStart(10)}  ${String(c.operations).padStart(11)}  ${String(c.acquisitions).padStart(12)}  ${String(c.spins).padStart(10)}  ${String(c.dpcs).padStart(5)}  ${String(c.interrupts).padStart(10)}`);
  }
  const pauses = r.cpus.reduce((a, c) => a + c.hostPauses, 0);
  if (pauses > 0) lines.push(`  more CPU workers than host cores: spinning CPUs gave their host core away ${pauses} times (pause-loop exiting)`);
  for (const w of r.warnings) lines.push('', `  ⚠ ${w}`);
  lines.push(`  total: ${r.totals.operations} operations (${r.totals.operationsPerSecond}/s), ${r.totals.acquisitions} lock acquisitions (${r.totals.acquisitionsPerSecond}/s)`);
  if (r.outcome !== 'pass') {
    lines.push('', '  A free-run failure cannot be replayed (real parallelism is not reproducible).');
    if (r.controlledCommand) lines.push(`  Find a replayable schedule for it with the controlled search:  ${r.controlledCommand}`);
  }
  lines.push('', '  Free-run does not check:', ...r.limits.slice(1).map((l) => `   - ${l}`));
  return lines.join('\n');
}
