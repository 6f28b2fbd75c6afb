/**
 * Scenario code in a Node worker thread runs with the user's privileges (it is
 * the user's own file), but it must not end the run behind the box's back:
 * `process.exit(0)` in a worker thread ends that thread quietly, and
 * `process.kill` / `process.abort` reach the whole CLI process. Before any
 * scenario code loads, each worker replaces them with functions that tell the
 * parent thread what was called and throw a ScenarioError, so the run ends as
 * outcome `error` naming the call.
 */
import { parentPort } from 'node:worker_threads';
import { ScenarioError } from '../machine/bugcheck.ts';

/** The message a guarded worker posts to its parent (next to Comlink's own, which carry an id). */
export interface GuardReport {
  raceboxGuard: string;
}

export function isGuardReport(m: unknown): m is GuardReport {
  return typeof m === 'object' && m !== null && typeof (m as { raceboxGuard?: unknown }).raceboxGuard === 'string';
}

let installed = false;

export function guardProcess(): void {
  if (installed) return;
  installed = true;
  const stop = (call: string): never => {
    const what = `the scenario called ${call}`;
    parentPort?.postMessage({ raceboxGuard: what } satisfies GuardReport);
    throw new ScenarioError(`${what}: a scenario may not end the run (the run ends as error)`);
  };
  const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : v === undefined ? '' : String(v));
  process.exit = ((code?: unknown) => stop(`process.exit(${show(code)})`)) as typeof process.exit;
  process.kill = ((pid: unknown, signal?: unknown) => stop(`process.kill(${show(pid)}${signal === undefined ? '' : `, ${show(signal)}`})`)) as typeof process.kill;
  process.abort = (() => stop('process.abort()')) as typeof process.abort;
  (process as { reallyExit?: unknown }).reallyExit = (code?: unknown) => stop(`process.reallyExit(${show(code)})`);
}
