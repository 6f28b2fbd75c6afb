/**
 * A CLI worker thread: loads the scenario and rig it is given and runs
 * explorations or replays, one job at a time, posting progress and results.
 * process.exit/kill/abort are guarded before any scenario code loads
 * (src/workers/node-guard.ts).
 */
import { parentPort } from 'node:worker_threads';
import { guardProcess } from '../workers/node-guard.ts';
import { explore, replay, type ExploreOptions } from '../engine/explore.ts';
import { shrinkSummary } from '../engine/shrink.ts';
import type { RunSummary } from '../engine/outcome.ts';
import { ScheduleError } from '../engine/schedule.ts';
import type { TraceStep } from '../engine/trace.ts';
import type { Rig } from '../machine/rig.ts';
import { plainExpect } from '../engine/setup-state.ts';
import type { Scenario } from '../scenario/define.ts';
import { fenceSearch, type FenceReport } from '../engine/fences.ts';
import { installNodeFaultHandlers, settle, withAsyncFaults } from '../workers/async-faults.ts';
import { InputError, loadScenario } from '../workers/node-load.ts';

guardProcess();

export interface ExploreJob {
  kind: 'explore';
  scenario: string;
  rig: Rig;
  options: Omit<ExploreOptions, 'onProgress' | 'shouldStop' | 'heartbeat' | 'stepBeat'>;
  /** Shrink a failure's schedule before it is reported (src/engine/shrink.ts). */
  shrink?: boolean;
  /** Two words: bumped at the exploration's start and per schedule; bumped every 256 steps. */
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

/** `racebox fences`: the fence search (src/engine/fences.ts) on this thread, under the same watchdog. */
export interface FencesJob {
  kind: 'fences';
  scenario: string;
  rig: Rig;
  budget: number;
  maxChanges: number;
  heartbeat: SharedArrayBuffer;
}

/** Loads a scenario file only, so that the main thread never runs its top-level code. */
export interface LoadJob {
  kind: 'load';
  scenario: string;
  /** The rig the scenario will run on: an expected bug-check parameter naming an object from setup is resolved on it. */
  rig?: Rig;
  heartbeat: SharedArrayBuffer;
}

/** What the main thread learns of a scenario loaded on a worker (structured-clonable). */
export interface LoadedScenario {
  id: string;
  title: string;
  version: number;
  /** Its expectations (plain data, validated by defineScenario): the CLI checks them on the main thread. */
  expect: Scenario['expect'];
  /** A reference that loads it again (a path, with its query). */
  source?: string;
}

export type WorkerJob = ExploreJob | ReplayJob | LoadJob | FencesJob;

export type WorkerMessage =
  | { type: 'progress'; schedulesRun: number; steps: number; elapsedMs: number }
  | { type: 'result'; summary: RunSummary; trace?: TraceStep[] }
  | { type: 'loaded'; scenario: LoadedScenario }
  | { type: 'input-error'; message: string }
  | { type: 'fences'; report: FenceReport };

const port = parentPort!;
// A scenario's late throw or unhandled rejection becomes the run's 'error', not the thread's death.
installNodeFaultHandlers(process);

port.on('message', async (job: WorkerJob) => {
  const post = (m: WorkerMessage): void => port.postMessage(m);
  const heartbeat = new Int32Array(job.heartbeat);
  const stepBeat = heartbeat.subarray(1, 2);
  // The watchdog's clock starts now: this thread's own start-up is not the scenario's time.
  Atomics.add(stepBeat, 0, 1);
  try {
    const scenario = await loadScenario(job.scenario);
    // Every job says what it loaded first: a run stopped later by the watchdog still names its scenario.
    post({
      type: 'loaded',
      scenario: { id: scenario.id, title: scenario.title, version: scenario.version, expect: plainExpect(scenario, job.rig), ...(scenario.source !== undefined ? { source: scenario.source } : {}) },
    });
    if (job.kind === 'load') {
      // done: the main thread has what it needs
    } else if (job.kind === 'explore') {
      const summary = explore(job.rig, scenario, {
        ...job.options,
        heartbeat,
        stepBeat,
        onProgress: (p) => post({ type: 'progress', ...p }),
      });
      await settle();
      let result = withAsyncFaults(summary, job.options.first ?? 0);
      if (job.shrink === true) result = shrinkSummary(job.rig, scenario, result, undefined, stepBeat);
      post({ type: 'result', summary: result });
    } else if (job.kind === 'fences') {
      let sent = Date.now();
      const report = fenceSearch(job.rig, scenario, {
        budget: job.budget,
        maxChanges: job.maxChanges,
        explore: { heartbeat, stepBeat },
        onSchedules: (schedulesRun) => {
          if (Date.now() - sent < 1000) return;
          sent = Date.now();
          post({ type: 'progress', schedulesRun, steps: 0, elapsedMs: 0 });
        },
      });
      await settle();
      post({ type: 'fences', report });
    } else {
      Atomics.add(heartbeat, 0, 1);
      const r = replay(job.rig, scenario, job.schedule, { trace: job.trace, stepBeat });
      await settle();
      post({ type: 'result', summary: withAsyncFaults(r.summary), ...(r.execution.trace ? { trace: r.execution.trace } : {}) });
    }
  } catch (e) {
    if (e instanceof InputError || e instanceof ScheduleError) post({ type: 'input-error', message: e.message });
    else throw e;
  }
});
