/** What a run ends as (DESIGN.md section 5) and the JSON shape the CLI prints (section 6). */
import type { LivenessInfo, WaitInfo } from '../machine/machine.ts';
import type { BugCheckInfo, OutcomeKind } from '../scenario/outcome.ts';
import type { SourceSite } from './source-site.ts';

export type { BugCheckInfo, OutcomeKind };

export interface ContextSnapshot {
  kind: 'thread' | 'dpc' | 'isr';
  name: string;
  /** Kernel routines in progress, outermost first. */
  routineStack: string[];
  heldLocks: string[];
  /** The word a spin waits on, when it spins. */
  spinningOn?: string;
}

export interface CpuSnapshot {
  cpu: number;
  core: number;
  irql: number;
  irqlName: string;
  thread: string | null;
  /** Bottom (the thread) to top (what executes). */
  stack: ContextSnapshot[];
  readyThreads: string[];
  queuedDpcs: string[];
  /** Threads of this CPU switched out in a wait (KeWaitForSingleObject, …) that has not been satisfied. */
  waitingThreads?: string[];
}

export interface Failure {
  kind: Exclude<OutcomeKind, 'pass'>;
  bugcheck?: BugCheckInfo;
  invariant?: string;
  message: string;
  /** Replays this exact failure (`racebox replay --schedule`). */
  schedule: string;
  cpu: number;
  routine: string;
  /** The scenario source line that raised it (bug checks, invariants, errors). */
  source?: SourceSite;
  step: number;
  cpus: CpuSnapshot[];
  waits?: WaitInfo[];
  /** A named liveness failure (kind deadlock or hang): which one, and the step where it went wrong when known. */
  liveness?: LivenessInfo;
  /** The portfolio member whose schedule failed ("pct d=4", "random", "pos"); absent under a single strategy. */
  foundBy?: string;
  /** Preemptions of `schedule` (src/engine/shrink.ts): choices made while the CPU that ran the step before could have gone on. */
  preemptions?: number;
  /** Steps of the schedule the search found, before shrinking. */
  originalSteps?: number;
  /** Preemptions of the schedule the search found, before shrinking. */
  originalPreemptions?: number;
  /** The schedule the search found, when shrinking replaced it. */
  originalSchedule?: string;
  /** Each memory reordering the failing run needed, as a sentence (weak memory: a buffered store, a stale read). */
  reorderings?: string[];
}

export interface RunSummary {
  scenario: string;
  rig: string;
  strategy: string;
  seed: number;
  schedulesRun: number;
  steps: number;
  elapsedMs: number;
  outcome: OutcomeKind;
  failure?: Failure;
  /** True when a systematic strategy (dfs) explored every schedule within its bound. */
  exhausted?: boolean;
  /** Index of the failing schedule within the exploration. */
  failingSchedule?: number;
}
