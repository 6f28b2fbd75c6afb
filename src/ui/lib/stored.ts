import type { RunSummary } from '../../engine/outcome.ts';
import type { StoredRun } from '../../history/types.ts';

export function summaryOf(r: StoredRun): RunSummary {
  return {
    scenario: r.scenario.id,
    rig: r.rig.id,
    strategy: r.strategy,
    seed: r.seed,
    schedulesRun: r.schedulesRun,
    steps: r.steps,
    elapsedMs: r.elapsedMs,
    outcome: r.outcome,
    ...(r.failure ? { failure: r.failure } : {}),
    ...(r.exhausted ? { exhausted: true } : {}),
    ...(r.failingSchedule !== undefined ? { failingSchedule: r.failingSchedule } : {}),
  };
}
