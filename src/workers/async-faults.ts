/**
 * Errors a scenario raises outside any schedule: `setTimeout(() => { throw … })`
 * or a promise it rejects and never handles. Explorations are synchronous, so
 * such an error surfaces only after the engine has returned — and by default
 * it would kill the worker (Node) or vanish into the console (browser) while
 * the run reports `pass`. Each worker installs the handlers below once; a job
 * lets the event loop turn once after the engine returns (settle) and ends as
 * outcome `error` naming what was thrown. An error that surfaces later (a
 * timer of several seconds) is reported by the next job of that worker.
 */
import { asError } from '../engine/explore.ts';
import type { RunSummary } from '../engine/outcome.ts';

const pending: string[] = [];
/** A limit the scenario crossed (memory-meter.ts): the job's outcome is error with this message as it stands. */
let limitFault: string | undefined;

function describe(kind: string, reason: unknown): string {
  const text = reason instanceof Error ? `${reason.name}: ${reason.message}` : (() => {
    try {
      return String(reason);
    } catch {
      return typeof reason;
    }
  })();
  return `${kind} ${text.length > 200 ? `${text.slice(0, 199)}…` : text}`;
}

/** Records that the scenario crossed a limit of the worker (the first such message is kept until reported). */
export function noteLimitFault(message: string): void {
  limitFault ??= message;
}

/** Records an error thrown outside any schedule (the handlers call this; tests may too). */
export function noteAsyncFault(kind: 'an uncaught exception' | 'an unhandled promise rejection', reason: unknown): void {
  if (pending.length < 5) pending.push(describe(kind, reason));
}

/** Node worker threads: 'uncaughtException' and 'unhandledRejection' are recorded, and no longer end the thread. */
export function installNodeFaultHandlers(proc: NodeJS.Process): void {
  proc.on('uncaughtException', (e) => noteAsyncFault('an uncaught exception', e));
  proc.on('unhandledRejection', (reason) => noteAsyncFault('an unhandled promise rejection', reason));
}

interface FaultTarget {
  addEventListener(type: 'error', f: (e: ErrorEvent) => void): void;
  addEventListener(type: 'unhandledrejection', f: (e: PromiseRejectionEvent) => void): void;
}

/** Browser workers: 'error' and 'unhandledrejection' events are recorded (and kept from the console as unhandled). */
export function installBrowserFaultHandlers(scope: FaultTarget): void {
  scope.addEventListener('error', (e) => {
    noteAsyncFault('an uncaught exception', e.error ?? e.message);
    e.preventDefault();
  });
  scope.addEventListener('unhandledrejection', (e) => {
    noteAsyncFault('an unhandled promise rejection', e.reason);
    e.preventDefault();
  });
}

/** Lets timers of 0 ms and rejected promises from the job just run surface. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * The summary, or outcome 'error' naming what the scenario threw outside the schedules; clears what it reports.
 * `first` is the first schedule index of this worker's share (which schedule left the error is not known).
 */
export function withAsyncFaults(summary: RunSummary, first = 0): RunSummary {
  if (limitFault !== undefined) {
    const message = limitFault;
    limitFault = undefined;
    pending.length = 0;
    return { ...summary, ...asError(message, summary.failure), failingSchedule: summary.failingSchedule ?? first };
  }
  if (pending.length === 0) return summary;
  const faults = pending.splice(0);
  return {
    ...summary,
    ...asError(
      `the scenario threw outside the schedule (from a timer, callback or promise, which the box cannot interleave): ${faults.join('; ')}`,
      summary.failure,
    ),
    failingSchedule: Math.min(summary.failingSchedule ?? first, first),
  };
}
