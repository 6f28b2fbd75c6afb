/** Shared test helpers: small rigs, inline scenarios, one-shot runs and a scripted strategy. */
import { ControlledRun, type Execution } from '../src/engine/controlled.ts';
import { DfsStrategy } from '../src/engine/strategies/dfs.ts';
import { defaultChoice, type Strategy } from '../src/engine/strategy.ts';
import type { TraceStep } from '../src/engine/trace.ts';
import { presetRig } from '../src/machine/presets.ts';
import { validateRig, type Rig } from '../src/machine/rig.ts';
import { defineScenario, type Scenario, type ScenarioDefinition } from '../src/scenario/define.ts';

/** A rig from a few fields (2 cores, MP HAL, checked build unless overridden). */
export function rig(over: Record<string, unknown> = {}): Rig {
  const r = validateRig({ id: 'test-rig', title: 'test rig', cores: 2, threadsPerCore: 1, hal: 'mp', build: 'checked', ...over });
  if (!r.ok) throw new Error(`bad test rig: ${JSON.stringify(r.errors)}`);
  return r.rig;
}

export function preset(id: string): Rig {
  const r = presetRig(id);
  if (!r) throw new Error(`no preset ${id}`);
  return r;
}

export const CHECKED_MP = rig();
export const FREE_MP = rig({ id: 'test-free', build: 'free' });
export const CHECKED_UP = rig({ id: 'test-up', cores: 1, hal: 'up' });
export const FREE_UP = rig({ id: 'test-up-free', cores: 1, hal: 'up', build: 'free' });

let serial = 0;

type Def<S> = Omit<ScenarioDefinition<S>, 'id' | 'title' | 'description' | 'family' | 'expect'> &
  Partial<Pick<ScenarioDefinition<S>, 'id' | 'title' | 'description' | 'family' | 'expect'>>;

/** An inline scenario with boilerplate filled in. */
export function scn<S>(d: Def<S>): Scenario {
  return defineScenario<S>({ id: `test/inline-${serial++}`, title: 'inline', description: '', family: 'test', expect: 'pass', ...d });
}

/** One execution under `strategy` (default: the engine's default choices, i.e. DFS's first schedule). */
export function runOnce(r: Rig, s: Scenario, strategy: Strategy = new DfsStrategy(0), trace = false): Execution {
  const run = new ControlledRun(r, s);
  strategy.newExecution(0);
  return run.execute(strategy, { trace });
}

/** A strategy that asks `pick` at each decision; undefined (or a disabled choice) means the default. */
export class PickStrategy implements Strategy {
  readonly name = 'pick';
  constructor(private readonly pick: (choices: number[], current: number, step: number) => number | undefined) {}
  newExecution(index: number): boolean {
    return index === 0;
  }
  next(choices: Int32Array, count: number, current: number, step: number): number {
    const arr = Array.from(choices.subarray(0, count));
    const c = this.pick(arr, current, step);
    return c !== undefined && arr.includes(c) ? c : defaultChoice(choices, count, current);
  }
}

/** Runs every execution of `strategy` (up to `max`), with traces when asked (they capture a stack per step). */
export function allExecutions(r: Rig, s: Scenario, strategy: Strategy, max: number, trace = false): { executions: Execution[]; exhausted: boolean } {
  const run = new ControlledRun(r, s);
  const executions: Execution[] = [];
  for (let i = 0; i < max; i++) {
    if (!strategy.newExecution(i)) return { executions, exhausted: true };
    const x = run.execute(strategy, { trace });
    executions.push({ ...x, deviations: x.deviations.slice() });
  }
  return { executions, exhausted: false };
}

/** A compact fingerprint of a trace: which context did what, in order. */
export function traceKey(t: TraceStep[] | undefined): string {
  return (t ?? []).map((x) => `${x.cpu}:${x.context}:${x.op}`).join('|');
}
