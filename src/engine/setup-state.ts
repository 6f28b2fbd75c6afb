/** The state a scenario's setup returns on a rig, for expectations that name objects from setup. */
import type { Rig } from '../machine/rig.ts';
import type { ExpectedOutcome, Scenario } from '../scenario/define.ts';
import { objectPointer } from '../scenario/expect.ts';
import { ControlledRun } from './controlled.ts';

/** A lazy, memoized setup state: built on the first call only (most expectations never ask for it). */
export function setupStateOf(rig: Rig, scenario: Scenario): () => unknown {
  let state: { value: unknown } | undefined;
  return () => (state ??= { value: new ControlledRun(rig, scenario).setupState() }).value;
}

/**
 * An expected outcome as plain data, to send to another thread or process: a bug-check parameter that
 * names an object from setup becomes that object's pointer (without a setup state: any value).
 */
export function resolveOutcome(o: ExpectedOutcome, setupState: (() => unknown) | undefined): ExpectedOutcome {
  if (typeof o !== 'object' || !('bugcheck' in o) || !o.params?.some((p) => typeof p === 'function')) return o;
  return { ...o, params: o.params.map((p) => (typeof p !== 'function' ? p : setupState ? objectPointer(p(setupState())) : null)) };
}

/** The scenario's expect as plain data, its setup objects resolved on `rig` (see resolveOutcome). */
export function plainExpect(scenario: Scenario, rig?: Rig): Scenario['expect'] {
  const state = rig ? setupStateOf(rig, scenario) : undefined;
  const e = scenario.expect;
  return Array.isArray(e) ? e.map((r) => ({ ...r, outcome: resolveOutcome(r.outcome, state) })) : resolveOutcome(e, state);
}
