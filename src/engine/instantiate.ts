/**
 * Building one run of a scenario on a machine — shared by the controlled and
 * the free-run engines, so both see the same objects at the same addresses:
 * power-on reset, the scenario's setup, naming its objects, and placing its
 * actors (threads, DPCs, interrupts) on CPUs.
 */
import { BugCheck, ScenarioError } from '../machine/bugcheck.ts';
import type { ExecContext, LogicalCpu } from '../machine/cpu.ts';
import { checkSetupCalls } from './actor-checks.ts';
import { pendingRoutine } from '../machine/cpu.ts';
import type { Machine } from '../machine/machine.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { KDEFERRED_ROUTINE } from '../kernel/dpc.ts';
import { poolLeakCheck } from '../kernel/pool-leaks.ts';
import { driverState } from '../kernel/unload.ts';
import { setVolatileSemantics } from '../kernel/ordering.ts';
import type { Actor, Scenario } from '../scenario/define.ts';

export interface PlannedActor {
  name: string;
  actor: Actor<unknown>;
  /** For a DPC actor: the routine its KDPC runs (the actor's own generator). */
  dpcRoutine?: KDEFERRED_ROUTINE;
  /** For a DPC actor: the name its KDPC is reported under, made on the first run and kept. */
  dpcObjectName?: string;
}

/** What each engine does with an actor once its objects exist. */
export interface ActorPlacement<P extends PlannedActor> {
  thread(plan: P, cpu: LogicalCpu, startIrql: number): void;
  dpc(plan: P, cpu: LogicalCpu, dpc: number): void;
  interrupt(plan: P, cpu: LogicalCpu, interrupt: number): void;
}

/** Resets machine and kernel, runs setup(k) in the setup context and names the objects of its state; returns the state. */
export function setUpRun(m: Machine, k: Kernel, scenario: Scenario, setupCtx: ExecContext): unknown {
  m.reset();
  k.reset();
  setVolatileSemantics(k, scenario.volatile);
  m.cur = setupCtx;
  m.cpu = setupCtx.cpu;
  // A run that ended in a failure mid-step may have left a routine call pending.
  pendingRoutine.call = null;
  let s: unknown;
  try {
    s = scenario.setup(k);
  } catch (e) {
    if (e instanceof BugCheck || e instanceof ScenarioError) throw e;
    throw new ScenarioError(`scenario '${scenario.id}': setup threw ${describeError(e)}`);
  }
  checkSetupCalls(scenario.id);
  const tags = scenario.driverTags;
  const hasUnloadActor = Object.values(scenario.actors).some((a) => (a as { unload?: boolean }).unload === true);
  if (tags !== undefined && m.checked && hasUnloadActor) {
    // The unload actor's return is the unload: the check registered in pool-leaks.ts runs then.
    driverState(k).poolTags = tags;
  } else if (tags !== undefined && m.checked) {
    // No unload actor: the run's end stands for the driver's unload, when Verifier's pool tracking looks.
    m.endOfRunChecks.push(() => {
      const leak = poolLeakCheck(k, tags);
      if (leak) throw leak;
      return null;
    });
  }
  if (typeof s === 'object' && s !== null) {
    // for-in rather than Object.entries: no arrays allocated on every run.
    const fields = s as Record<string, unknown>;
    for (const field in fields) {
      if (!Object.prototype.hasOwnProperty.call(fields, field)) continue;
      const v = fields[field];
      if (typeof v === 'number' && m.memory.blocks.has(v) && !m.names.has(v)) m.names.set(v, field);
    }
  }
  return s;
}

/** Creates each actor's kernel objects (a KDPC, the interrupt's lookup) and hands it to the engine. */
export function placeActors<P extends PlannedActor>(
  m: Machine,
  k: Kernel,
  scenario: Scenario,
  state: unknown,
  plans: readonly P[],
  place: ActorPlacement<P>,
): void {
  for (let i = 0; i < plans.length; i++) {
    const plan = plans[i]!;
    const { name, actor } = plan;
    const cpu = m.cpuFor(actor.cpu ?? 0);
    if (actor.kind === 'dpc') {
      const dpc = k.KeInitializeDpc(plan.dpcRoutine!, 0, name);
      k.KeSetTargetProcessorDpc(dpc, cpu.index);
      m.names.set(dpc, (plan.dpcObjectName ??= `KDPC(${name})`));
      place.dpc(plan, cpu, dpc);
    } else if (actor.kind === 'interrupt') {
      const intr = actor.interrupt(state);
      const info = k.interrupts.byAddr.get(intr);
      if (!info) throw new ScenarioError(`scenario '${scenario.id}': actor '${name}': interrupt(s) did not return an object from k.IoConnectInterrupt or k.KeInitializeInterrupt`);
      place.interrupt(plan, cpu, intr);
    } else {
      place.thread(plan, cpu, actor.irql ?? 0);
    }
  }
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const frame = e.stack?.split('\n').find((l) => /^\s+at /.test(l))?.trim();
    return `${e.name}: ${e.message}${frame ? ` (${frame})` : ''}`;
  }
  return String(e);
}
