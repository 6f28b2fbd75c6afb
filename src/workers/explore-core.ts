/**
 * The exploration worker's API (ExploreWorkerApi), independent of the
 * environment it is exposed in: a share of one exploration's schedule indices
 * (first, first + stride, ...), progress in batches, the shared cancel flag
 * and the pool's failure bound (see FAILURE_BOUND_WORD in src/engine/worker-contract.ts).
 */
import { explore, replay } from '../engine/explore.ts';
import { shrinkSummary } from '../engine/shrink.ts';
import { fenceSearch, type FenceReport } from '../engine/fences.ts';
import { manualFrom, manualPick, type ManualState } from '../engine/manual.ts';
import type { RunSummary } from '../engine/outcome.ts';
import {
  atomicMinBound, CANCEL_WORD, FAILURE_BOUND_WORD, heartbeatWord, type ExploreRequest, type FencesRequest, type FencesWorkerApi, type ManualRequest, type ManualWorkerApi, type PoolExploreWorkerApi, type Progress, type ReplayRequest,
  type ReplayResponse, type ScenarioRef, type ShareBelow,
} from '../engine/worker-contract.ts';
import { settle, withAsyncFaults } from './async-faults.ts';
import { loadScenarioRef, type LibraryLoader } from './scenario-source.ts';
import type { Scenario } from '../scenario/define.ts';

/** Progress goes back at most this often (schedules are microseconds; messages are not). */
const PROGRESS_MS = 200;

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function createExploreWorkerApi(library: LibraryLoader): PoolExploreWorkerApi & ManualWorkerApi & FencesWorkerApi {
  // Cumulative steps after each passing schedule of the last exploration, in index order.
  let cumulative: number[] = [];
  let first = 0;
  let stride = 1;
  // A manual run replays from its start at every pick, often in a row: the library scenario it loads is kept.
  let kept: { id: string; scenario: Promise<Scenario> } | undefined;
  const loadKept = (ref: ScenarioRef): Promise<Scenario> => {
    if (!('id' in ref)) return loadScenarioRef(ref, library);
    if (kept?.id !== ref.id) kept = { id: ref.id, scenario: loadScenarioRef(ref, library) };
    const mine = kept;
    return mine.scenario.catch((e: unknown) => {
      if (kept === mine) kept = undefined;
      throw e;
    });
  };
  return {
    async explore(req: ExploreRequest, onProgress?: (p: Progress) => void, cancel?: Int32Array): Promise<RunSummary> {
      const started = heartbeatWord(req.first ?? 0) + 1;
      // Tells the pool's watchdog to start its clock: loading the scenario is the scenario's time.
      if (cancel !== undefined && cancel.length > started) Atomics.add(cancel, started, 1);
      const scenario = await loadScenarioRef(req.scenario, library);
      first = req.first ?? 0;
      stride = req.stride ?? 1;
      cumulative = [];
      const bound = cancel !== undefined && cancel.length > FAILURE_BOUND_WORD ? cancel : undefined;
      const beat = heartbeatWord(first);
      const heartbeat = cancel !== undefined && cancel.length > beat ? cancel.subarray(beat, beat + 1) : undefined;
      const stepBeat = cancel !== undefined && cancel.length > beat + 1 ? cancel.subarray(beat + 1, beat + 2) : undefined;
      let next = first;
      let lastSent = now();
      const explored = explore(req.rig, scenario, {
        strategy: req.strategy,
        seed: req.seed,
        schedules: req.schedules,
        ...(req.depth !== undefined ? { depth: req.depth } : {}),
        ...(req.preemptionBound !== undefined ? { preemptionBound: req.preemptionBound } : {}),
        first,
        stride,
        ...(req.prefix !== undefined ? { prefix: req.prefix } : {}),
        ...(heartbeat ? { heartbeat } : {}),
        ...(stepBeat ? { stepBeat } : {}),
        progressEvery: 1,
        onProgress: (p) => {
          cumulative.push(p.steps);
          if (onProgress && (p.schedulesRun & 63) === 0) {
            const t = now();
            if (t - lastSent >= PROGRESS_MS) {
              lastSent = t;
              void onProgress(p);
            }
          }
        },
        shouldStop: () => {
          const i = next;
          next += stride;
          if (cancel !== undefined && Atomics.load(cancel, CANCEL_WORD) !== 0) return true;
          if (bound !== undefined) {
            const b = Atomics.load(bound, FAILURE_BOUND_WORD);
            if (b !== 0 && i >= b - 1) return true;
          }
          return false;
        },
      });
      await settle();
      let summary = withAsyncFaults(explored, first);
      if (bound !== undefined && summary.outcome !== 'pass' && summary.failingSchedule !== undefined) {
        atomicMinBound(bound, FAILURE_BOUND_WORD, summary.failingSchedule + 1);
      }
      // Shrunk here, after the bound is published (the other workers stop meanwhile), unless another worker already found a lower one.
      const lower = bound !== undefined && summary.failingSchedule !== undefined && Atomics.load(bound, FAILURE_BOUND_WORD) < summary.failingSchedule + 1;
      if (req.shrink === true && !lower) summary = shrinkSummary(req.rig, scenario, summary, undefined, stepBeat);
      if (onProgress) await onProgress({ schedulesRun: summary.schedulesRun, steps: summary.steps, elapsedMs: summary.elapsedMs });
      return summary;
    },

    async shareBelow(index: number): Promise<ShareBelow> {
      let schedules = 0;
      while (schedules < cumulative.length && first + schedules * stride < index) schedules++;
      return { schedules, steps: schedules > 0 ? cumulative[schedules - 1]! : 0 };
    },

    async manual(req: ManualRequest): Promise<ManualState> {
      const scenario = await loadKept(req.scenario);
      if (req.state !== undefined && req.take !== undefined) return manualPick(req.rig, scenario, req.state, req.take);
      return manualFrom(req.rig, scenario, req.from?.schedule, req.from?.step ?? 0);
    },

    async fences(req: FencesRequest, onProgress?: (schedulesRun: number) => void): Promise<FenceReport> {
      const scenario = await loadScenarioRef(req.scenario, library);
      let lastSent = now();
      const report = fenceSearch(req.rig, scenario, {
        ...(req.budget !== undefined ? { budget: req.budget } : {}),
        ...(req.maxChanges !== undefined ? { maxChanges: req.maxChanges } : {}),
        onSchedules: (n) => {
          const t = now();
          if (onProgress && t - lastSent >= PROGRESS_MS) {
            lastSent = t;
            void onProgress(n);
          }
        },
      });
      await settle();
      return report;
    },

    async replay(req: ReplayRequest): Promise<ReplayResponse> {
      const scenario = await loadKept(req.scenario);
      const r = replay(req.rig, scenario, req.schedule, { trace: req.trace });
      await settle();
      return { summary: withAsyncFaults(r.summary), ...(r.execution.trace ? { trace: r.execution.trace } : {}) };
    },
  };
}
