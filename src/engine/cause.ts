/**
 * The step of a trace that caused a failure reported later: the first
 * completion of an IRP completed twice, the free of memory used after it,
 * the acquisition of the lock a deadlocked context waits for. The blue
 * screen and the wait report link to it.
 */
import { bugCheckCause } from '../machine/bugcheck-args.ts';
import type { WaitInfo } from '../machine/machine.ts';
import type { TraceStep } from './trace.ts';

export interface CauseLink {
  /** Index in the trace. */
  index: number;
  /** The engine step of that trace entry (shown 1-based, like every step number the user sees). */
  step: number;
  /** What that step is, in words ("the first completion of this IRP"). */
  label: string;
}

const inOneOf = (s: TraceStep, routines: ReadonlySet<string>): boolean =>
  routines.has(s.routine) || (s.frames?.some((f) => f.file === undefined && routines.has(f.fn)) ?? false);

/** The step that caused a bug check, when the bug check has a cause earlier in the run and the trace shows it. */
export function bugCheckCauseStep(steps: readonly TraceStep[], code: number, params: readonly number[]): CauseLink | undefined {
  const c = bugCheckCause(code, params);
  if (!c) return undefined;
  const target = Math.floor((params[c.param] ?? 0) / 4);
  if (target <= 0) return undefined;
  const routines = new Set(c.routines);
  // The object: the pool block holding the parameter's address.
  const blocks = new Set<number>([target]);
  for (const s of steps) if (s.word === target && s.block !== undefined) blocks.add(s.block);
  const touches = (s: TraceStep): boolean => s.word === target || (s.block !== undefined && blocks.has(s.block));
  // The call that raised the bug check: the failing context's trailing steps inside one of the routines.
  let last = steps.length - 1;
  while (last >= 0 && steps[last]!.what !== 'step') last--;
  if (last < 0) return undefined;
  const failing = steps[last]!;
  const sameContext = (s: TraceStep): boolean => s.cpu === failing.cpu && s.context === failing.context;
  const excluded = new Set<number>();
  for (let i = last; i >= 0; i--) {
    const s = steps[i]!;
    if (s.what !== 'step' || !sameContext(s)) continue;
    if (!inOneOf(s, routines)) break;
    excluded.add(i);
  }
  let found = -1;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.what !== 'step' || excluded.has(i) || !touches(s) || !inOneOf(s, routines)) continue;
    if (c.otherContext && sameContext(s)) continue;
    found = i;
    if (c.which === 'first') break;
  }
  if (found < 0) return undefined;
  const index = callStart(steps, found, routines);
  return { index, step: steps[index]!.step, label: c.label };
}

/** Back from a step to the first step of the same call (its context's earlier steps in the same routines). */
function callStart(steps: readonly TraceStep[], i: number, routines: ReadonlySet<string>): number {
  const s = steps[i]!;
  let start = i;
  for (let j = i - 1; j >= 0; j--) {
    const t = steps[j]!;
    if (t.what !== 'step' || t.cpu !== s.cpu || t.context !== s.context) continue;
    if (!inOneOf(t, routines) || t.routine !== s.routine) break;
    start = j;
  }
  return start;
}

/**
 * For a context that waits on a lock word: the step at which the lock's
 * current holder acquired it (a kernel lock's holder reports it held; a
 * driver's own lock word was last taken from 0 by an interlocked step), or
 * undefined when the trace does not show one.
 */
export function acquisitionStep(steps: readonly TraceStep[], wait: Pick<WaitInfo, 'address' | 'context'>): CauseLink | undefined {
  const a = wait.address;
  if (a === undefined) return undefined;
  // A kernel lock: the holder's step after which it held a lock on that word.
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.word !== a || s.held === undefined || s.held.length === 0) continue;
    return { index: i, step: s.step, label: `the acquisition by ${s.kind} '${s.context}'` };
  }
  // A driver's own lock word (InterlockedExchange and the like): the last interlocked step that took it from 0.
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.word === a && s.op === 'rmw' && s.read === 0 && s.wrote !== undefined && s.wrote !== 0) {
      return { index: i, step: s.step, label: `the acquisition by ${s.kind} '${s.context}'` };
    }
  }
  return undefined;
}
