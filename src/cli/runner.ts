/**
 * Runs CLI jobs on worker threads, so that scenario code that loops without
 * yielding to the scheduler, ends its thread, or grows without bound is
 * stopped by a watchdog on the main thread instead of freezing or quietly
 * ending the command (docs/limits.md).
 */
import { Worker } from 'node:worker_threads';
import type { Failure, RunSummary } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import { isGuardReport } from '../workers/node-guard.ts';
import { describeWorkerError, processMemoryOver, stallLimitMs, workerResourceLimits } from '../workers/node-limits.ts';
import { InputError, looksLikePath, splitScenarioQuery } from '../workers/node-load.ts';
import type { LoadedScenario, WorkerJob, WorkerMessage } from './worker.ts';

export { stallLimitMs };

const WORKER_URL = new URL('../../bin/worker.mjs', import.meta.url);

export interface JobResult {
  summary: RunSummary;
  trace?: TraceStep[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type JobInput = DistributiveOmit<Exclude<WorkerJob, { kind: 'load' }>, 'heartbeat'>;

/** How often the watchdog looks: well inside the 5 s the issue allows between a limit and its containment. */
const WATCH_MS = 100;

function ended(kind: 'hang' | 'error', message: string): Omit<Failure, 'schedule'> & { schedule: string } {
  return { kind, message, schedule: '', cpu: -1, routine: '', step: 0, cpus: [] };
}

/**
 * One job on a fresh worker thread under the watchdog. `onStop` turns what
 * stopped it (a stall, a death, the memory limit) into the job's result.
 */
export function watched<R>(
  job: WorkerJob,
  onMessage: (m: WorkerMessage, done: (r: R) => void, fail: (e: Error) => void) => void,
  onStop: (why: { kind: 'hang' | 'error'; message: string; beats: number }) => R,
): Promise<R> {
  const beats = new Int32Array(job.heartbeat);
  const worker = new Worker(WORKER_URL, { resourceLimits: workerResourceLimits() });
  return new Promise<R>((resolvePromise, reject) => {
    let settled = false;
    let last = -1;
    let lastSteps = -1;
    let lastChange = Date.now();
    let died: string | undefined;
    let exitCall: string | undefined;
    const limit = stallLimitMs();
    const finish = (): void => {
      settled = true;
      clearInterval(timer);
      void worker.terminate();
    };
    const done = (r: R): void => {
      if (settled) return;
      finish();
      resolvePromise(r);
    };
    const fail = (e: Error): void => {
      if (settled) return;
      finish();
      reject(e);
    };
    const stop = (kind: 'hang' | 'error', message: string): void => {
      try {
        done(onStop({ kind, message, beats: Atomics.load(beats, 0) }));
      } catch (e) {
        fail(e as Error);
      }
    };
    const timer = setInterval(() => {
      const over = processMemoryOver();
      if (over !== undefined) return stop('error', over);
      const b = Atomics.load(beats, 0);
      const st = Atomics.load(beats, 1);
      if (b === 0 && st === 0) {
        // Not started yet: the watchdog times scenario code, not the worker's own start-up.
        lastChange = Date.now();
        return;
      }
      if (b !== last || st !== lastSteps) {
        last = b;
        lastSteps = st;
        lastChange = Date.now();
        return;
      }
      if (Date.now() - lastChange <= limit) return;
      const secs = `${Math.round(limit / 1000)} s`;
      if (exitCall !== undefined) return stop('error', `${exitCall}: a scenario may not end the run`);
      if (b === 0) return stop('error', `the scenario did not finish loading within ${secs}: its module's top-level code loops`);
      stop(
        'hang',
        `${b >= 2 ? `schedule #${b - 2}` : 'the first run (every choice the default, to size PCT)'} did not return to the scheduler within ${secs}: ` +
          'setup, a routine or an invariant loops without calling the kernel, so the box can neither interleave nor stop it ' +
          '(call k.* with yield* inside every loop)',
      );
    }, WATCH_MS);
    worker.on('message', (m: WorkerMessage | unknown) => {
      if (isGuardReport(m)) {
        exitCall ??= m.raceboxGuard;
        return;
      }
      const msg = m as WorkerMessage;
      if (msg.type === 'input-error') fail(new InputError(msg.message));
      else if (exitCall !== undefined && msg.type === 'result' && msg.summary.outcome === 'pass') {
        stop('error', `${exitCall}: a scenario may not end the run`);
      } else onMessage(msg, done, fail);
    });
    worker.on('error', (e) => {
      died ??= describeWorkerError(e);
    });
    worker.on('exit', (code) => {
      if (settled) return;
      stop('error', exitCall !== undefined ? `${exitCall}: a scenario may not end the run` : (died ?? `the worker thread ended (exit code ${code}) before its run finished`));
    });
    worker.postMessage(job);
  });
}

export function runJob(job: JobInput, onProgress?: (p: { schedulesRun: number; steps: number; elapsedMs: number }) => void): Promise<JobResult> {
  const heartbeat = new SharedArrayBuffer(8);
  const t0 = Date.now();
  let scenarioId = job.scenario;
  return watched<JobResult>(
    { ...job, heartbeat } as WorkerJob,
    (m, done) => {
      if (m.type === 'loaded') scenarioId = m.scenario.id;
      else if (m.type === 'progress') onProgress?.(m);
      else if (m.type === 'result') done({ summary: m.summary, ...(m.trace ? { trace: m.trace } : {}) });
    },
    (why) => {
      // Stopped before the scenario finished loading: the file is refused, as it is when loaded on its own.
      if (why.beats === 0) throw new InputError(`cannot load scenario ${job.scenario}: ${why.message}`);
      return {
        summary: {
          scenario: scenarioId,
          rig: job.rig.id,
          strategy: job.kind === 'explore' ? (job.options.strategy ?? 'pct') : 'replay',
          seed: job.kind === 'explore' ? (job.options.seed ?? 1) : 0,
          // The first beat is the exploration's start (PCT's calibration run follows it); each schedule beats once more.
          schedulesRun: Math.max(0, why.beats - 2),
          steps: 0,
          elapsedMs: Date.now() - t0,
          outcome: why.kind,
          failure: ended(why.kind, why.message),
        },
      };
    },
  );
}

/**
 * Loads a scenario file on a worker thread under the watchdog, so that its
 * top-level code cannot hang the command, end it, or exhaust its memory; the
 * main thread gets what it needs to know about it.
 */
export function loadScenarioContained(ref: string, rig?: import('../machine/rig.ts').Rig): Promise<LoadedScenario> {
  return watched<LoadedScenario>(
    { kind: 'load', scenario: ref, ...(rig ? { rig } : {}), heartbeat: new SharedArrayBuffer(8) },
    (m, done) => {
      if (m.type === 'loaded') done(m.scenario);
    },
    (why) => {
      throw new InputError(`cannot load scenario ${ref}: ${why.message}`);
    },
  );
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
  job: { scenario: string; rig: import('../machine/rig.ts').Rig; workers: number; options: Pick<import('../engine/worker-contract.ts').ExploreRequest, 'strategy' | 'seed' | 'schedules' | 'depth' | 'preemptionBound' | 'shrink'> },
  onProgress?: (p: import('../engine/pool.ts').PoolProgress) => void,
): Promise<import('../engine/pool.ts').PoolSummary> {
  const { explorePool } = await import('../engine/pool.ts');
  const { nodeExploreWorker } = await import('../workers/node-entry.ts');
  let summary: import('../engine/pool.ts').PoolSummary;
  try {
    summary = await explorePool(
      { ...job.options, scenario: { id: job.scenario }, rig: job.rig },
      { workers: job.workers, factory: () => nodeExploreWorker(), stallMs: stallLimitMs(), memoryOver: processMemoryOver, ...(onProgress ? { onProgress } : {}) },
    );
  } catch (e) {
    // A scenario the workers cannot load is bad input, like an unknown id.
    const reason = (e as Error).message.split('\n')[0]!;
    throw new InputError(reason.startsWith('the scenario did not finish loading') ? `cannot load scenario ${job.scenario}: ${reason}` : reason);
  }
  // A run ended before any worker's result (a stall in the first run, a worker that died, the memory limit)
  // names no scenario yet: a file is loaded once more, on a worker under the watchdog, for its id.
  if (summary.scenario === '') {
    summary.scenario = looksLikePath(splitScenarioQuery(job.scenario).path) ? await loadScenarioContained(job.scenario).then((s) => s.id, () => job.scenario) : job.scenario;
  }
  return summary;
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
