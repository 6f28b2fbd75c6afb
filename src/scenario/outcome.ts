/**
 * The outcome vocabulary a scenario's `expect` is written in, and the part of a run's result that
 * checking an expectation reads. The engine's RunSummary (src/engine/outcome.ts) carries these and
 * more; it is defined above this layer, so the scenario layer names only what it needs.
 */

export type OutcomeKind = 'pass' | 'bugcheck' | 'deadlock' | 'hang' | 'invariant' | 'error';

export interface BugCheckInfo {
  code: number;
  name: string;
  params: number[];
  meaning: string;
  subcodeMeaning?: string;
}

/** What checkExpectation and describeFailure read of a run (RunSummary satisfies it). */
export interface ObservedOutcome {
  outcome: OutcomeKind;
  schedulesRun: number;
  failure?: { kind: Exclude<OutcomeKind, 'pass'>; bugcheck?: BugCheckInfo; invariant?: string; liveness?: { name: string } };
}
