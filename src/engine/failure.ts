/**
 * How a run ends, for every executor alike (the controlled engine, free-run
 * with generators, free-run with plain-function twins): what a thrown error
 * means as an outcome, the end-of-run checks, and the CPU snapshots a failure
 * carries.
 */
import { BugCheck, BUGCODES, InvariantViolation, ScenarioError, VERIFIER_SUBCODES } from '../machine/bugcheck.ts';
import type { ExecContext, LogicalCpu } from '../machine/cpu.ts';
import { irqlName } from '../machine/irql.ts';
import type { Machine, StuckReport } from '../machine/machine.ts';
import { OutOfMachineMemory } from '../machine/memory.ts';
import { invariantKernel } from '../kernel/state-readers.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Invariant } from '../scenario/define.ts';
import { describeError } from './instantiate.ts';
import type { CpuSnapshot, Failure, OutcomeKind } from './outcome.ts';
import { scenarioSite } from './source-site.ts';
import { ScheduleDivergence } from './strategies/replay.ts';

export type FailureOutcome = Exclude<OutcomeKind, 'pass'>;
export type RunFailure = Omit<Failure, 'schedule'>;

/** Where a failure happened, as the executor that saw it knows it. */
export interface FailureSite {
  cpu: number;
  /** The routine that raised it ('setup', 'end of run', ... when none did). */
  routine: string;
  step: number;
  cpus: CpuSnapshot[];
}

export function failureAt(kind: FailureOutcome, message: string, site: FailureSite): RunFailure {
  return { kind, message, cpu: site.cpu, routine: site.routine, step: site.step, cpus: site.cpus };
}

/**
 * Turns what a routine, setup or an invariant threw into an outcome: a BugCheck is `bugcheck`, an
 * InvariantViolation `invariant`, a broken scenario (ScenarioError, out of machine memory, a
 * schedule that no longer fits) or anything else it threw `error`. `ctx` is the context that ran.
 */
export function classifyFailure(
  e: unknown,
  scenarioId: string,
  ctx: ExecContext | undefined,
  site: FailureSite,
): { outcome: FailureOutcome; failure: RunFailure } {
  const r = classifyKind(e, scenarioId, ctx, site);
  const source = e instanceof Error ? scenarioSite(e.stack) : undefined;
  if (source) r.failure.source = source;
  return r;
}

function classifyKind(e: unknown, scenarioId: string, ctx: ExecContext | undefined, site: FailureSite): { outcome: FailureOutcome; failure: RunFailure } {
  if (e instanceof BugCheck) {
    const f = failureAt('bugcheck', e.message, site);
    f.bugcheck = {
      code: e.code,
      name: e.bugName,
      params: [...e.params],
      meaning: BUGCODES.get(e.code)?.meaning ?? '',
      ...(e.code === 0xc4 && VERIFIER_SUBCODES.has(e.params[0]) ? { subcodeMeaning: VERIFIER_SUBCODES.get(e.params[0]) } : {}),
    };
    return { outcome: 'bugcheck', failure: f };
  }
  if (e instanceof InvariantViolation) {
    const f = failureAt('invariant', e.message, site);
    f.invariant = e.invariant;
    return { outcome: 'invariant', failure: f };
  }
  if (e instanceof ScheduleDivergence || e instanceof ScenarioError || e instanceof OutOfMachineMemory) {
    return { outcome: 'error', failure: failureAt('error', e.message, site) };
  }
  const where = ctx ? `${ctx.kind} '${ctx.routine}'` : 'setup';
  return { outcome: 'error', failure: failureAt('error', `scenario '${scenarioId}': ${where} threw ${describeError(e)}`, site) };
}

/**
 * The checks of a run that otherwise passed: the kernel families' end-of-run checks (a report of
 * the first that fails), then the scenario's invariants (which throw InvariantViolation).
 */
export function checkEndOfRun(m: Machine, k: Kernel, scenarioId: string, invariants: [string, Invariant<unknown>][], state: unknown): StuckReport | null {
  for (const check of m.endOfRunChecks) {
    const r = check();
    if (r) return r;
  }
  checkInvariants(k, scenarioId, invariants, state);
  return null;
}

export function checkInvariants(k: Kernel, scenarioId: string, invariants: [string, Invariant<unknown>][], state: unknown): void {
  for (const [name, check] of invariants) {
    let r: boolean | string | void;
    try {
      r = check(state as never, invariantKernel(k));
    } catch (e) {
      throw new ScenarioError(`scenario '${scenarioId}': invariant '${name}' threw ${describeError(e)}`);
    }
    if (r === false) throw new InvariantViolation(name, `invariant '${name}' does not hold at the end of the run`);
    if (typeof r === 'string') throw new InvariantViolation(name, `invariant '${name}': ${r}`);
  }
}

/**
 * A CPU's IRQL, contexts, held locks and spins. A context spins where it is blocked on a word
 * (the controlled engine), or, for the top one, on `topSpin` (free-run, which never blocks a
 * context but knows the word its CPU last paused on).
 */
export function snapshotCpu(m: Machine, cpu: LogicalCpu, topSpin = -1): CpuSnapshot {
  const top = cpu.stack.length - 1;
  return {
    cpu: cpu.index,
    core: cpu.core,
    irql: cpu.irql,
    irqlName: irqlName(cpu.irql),
    thread: cpu.thread?.name ?? null,
    stack: cpu.stack.map((c, i) => {
      const spin = c.blockedOn >= 0 ? c.blockedOn : i === top ? topSpin : -1;
      return {
        kind: c.kind,
        name: c.name,
        routineStack: [...c.apiStack],
        heldLocks: c.heldLocks.map((a) => m.nameOf(a)),
        ...(spin >= 0 ? { spinningOn: m.nameOf(spin) } : {}),
      };
    }),
    readyThreads: cpu.ready.map((t) => t.name),
    queuedDpcs: cpu.dpcQueue.map((d) => d.name),
    ...waitingOn(m, cpu),
  };
}

/** Threads of `cpu` switched out in a wait: without them a CPU whose only thread waits forever looks idle. */
function waitingOn(m: Machine, cpu: LogicalCpu): { waitingThreads?: string[] } {
  const names: string[] = [];
  for (const t of m.threads) if (t.state === 'waiting' && t.cpu === cpu) names.push(t.name);
  return names.length > 0 ? { waitingThreads: names } : {};
}

/** Every online CPU of the machine. */
export function snapshotCpus(m: Machine): CpuSnapshot[] {
  return m.online.map((cpu) => snapshotCpu(m, cpu));
}
