/**
 * Free-run's V8 priming (see mutable-fields.ts for why): a free-run CPU runs
 * the scenario's compiled code for a long time, and a field V8 folded in as a
 * constant costs every CPU its optimized code when it first changes. The
 * machine's classes know nothing of this; the list of what to prime is here.
 */
import { ExecContext, LogicalCpu, Thread } from '../../machine/cpu.ts';
import type { Routine } from '../../machine/ops.ts';
import { markFieldsMutable } from './mutable-fields.ts';

/**
 * Machine fields that reset() and setup write again for every run (an iteration of free-run): a
 * free-run CPU marks them mutable before its first iteration. A field added to Machine that
 * changes between runs and that kernel code reads on a hot path belongs here.
 */
export const MACHINE_PER_RUN_FIELDS = ['cur', 'cpu', 'live', 'step', 'stale', 'yielded', 'nextContextId', 'contextsInRun', 'opAddr'] as const;

/**
 * Contexts and threads are recycled from run to run (reuse), and a CPU's
 * counters reset: prime their hidden classes so that neither makes V8 drop
 * optimized code. Two of each: an object field takes a second object of its
 * own class, which keeps its field type. A new class of recycled objects the
 * hot path reads gets a throwaway instance here.
 */
export function primeHiddenClasses(): void {
  const cpus = [new LogicalCpu(0, 0, true), new LogicalCpu(1, 1, true)] as const;
  const threads = [new Thread(0, 'a', cpus[0], 0, 0), new Thread(1, 'b', cpus[1], 1, 1)] as const;
  threads[0].reuse(2, 'c', cpus[1], 2, 2);
  threads[0].ctx = new ExecContext(0, 'thread', 'a', idle(), cpus[0], threads[0]).reuse(1, 'dpc', 'b', idle(), cpus[1], threads[1]);
  threads[0].waitOwner = threads[1];
  cpus[0].thread = threads[0];
  cpus[0].thread = threads[1];
  for (const o of [...cpus, ...threads, threads[0].ctx]) markFieldsMutable(o);
}

function* idle(): Routine<void> {}
