/**
 * A CLI worker thread: loads the scenario and rig it is given and runs
 * explorations or replays, one job at a time, posting progress and results.
 */
import { parentPort } from 'node:worker_threads';
import { explore, replay, type ExploreOptions } from '../engine/explore.ts';
import type { RunSummary } from '../engine/outcome.ts';
import { ScheduleError } from '../engine/schedule.ts';
import type { TraceStep } from '../engine/trace.ts';
import type { Rig } from '../machine/rig.ts';
import { installNodeFaultHandlers, settle, withAsyncFaults } from '../workers/async-faults.ts';
import { InputError, loadScenario } from '../workers/node-load.ts';

export interface ExploreJob {
  kind: 'explore';
  scenario: string;
  rig: Rig;
  options: Omit<ExploreOptions, 'onProgress' | 'shouldStop' | 'heartbeat'>;
  heartbeat: SharedArrayBuffer;
}

export interface ReplayJob {
  kind: 'replay';
  scenario: string;
  rig: Rig;
  schedule: string;
  trace: boolean;
  heartbeat: SharedArrayBuffer;
}

export type WorkerJob = ExploreJob | ReplayJob;

export type WorkerMessage =
  | { type: 'progress'; schedulesRun: number; steps: number; elapsedMs: number }
  | { type: 'result'; summary: RunSummary; trace?: TraceStep[] }
  | { type: 'input-error'; message: string };

const port = parentPort!;
// A scenario's late throw or unhandled rejection becomes the run's 'error', not the thread's death.
installNodeFaultHandlers(process);

port.on('message', async (job: WorkerJob) => {
  const post = (m: WorkerMessage): void => port.postMessage(m);
  try {
    const scenario = await loadScenario(job.scenario);
    const heartbeat = new Int32Array(job.heartbeat);
    if (job.kind === 'explore') {
      const summary = explore(job.rig, scenario, {
        ...job.options,
        heartbeat,
        onProgress: (p) => post({ type: 'progress', ...p }),
      });
      await settle();
      post({ type: 'result', summary: withAsyncFaults(summary, job.options.first ?? 0) });
    } else {
      Atomics.add(heartbeat, 0, 1);
      const r = replay(job.rig, scenario, job.schedule, { trace: job.trace });
      await settle();
      post({ type: 'result', summary: withAsyncFaults(r.summary), ...(r.execution.trace ? { trace: r.execution.trace } : {}) });
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof ScheduleError) post({ type: 'input-error', message: e.message });
    else throw e;
  }
});
