/**
 * Litmus conformance: every execution of each litmus test (depth-first search with no preemption
 * bound, over interleavings and the memory model's choices: buffered stores, flushes, older
 * values), the outcomes they end in, compared with what the architecture's published model says.
 */
import { OP_START } from '../../machine/ops.ts';
import { validateRig, type Rig } from '../../machine/rig.ts';
import { defineScenario, type Scenario, type ThreadActor } from '../../scenario/define.ts';
import { ControlledRun } from '../controlled.ts';
import { pendingOps } from '../explore.ts';
import { DfsStrategy } from '../strategies/dfs.ts';
import type { PendingOps, Strategy } from '../strategy.ts';
import { LITMUS_TESTS, type Arch, type Expectation, type LitmusKernel, type LitmusTest } from './catalogue.ts';

/**
 * Executions one test may take before the search is called off: the tests have 1–4 threads of
 * 1–3 accesses. The largest tree, IRIW+fences on arm64, was 125,254 executions with the models of
 * December 2026 (36,400 on x64); a model that offers more choices says so here, not by hanging.
 */
export const LITMUS_MAX_EXECUTIONS = 500_000;

export interface LitmusRow {
  outcome: string;
  /** 'unlisted': an outcome the table does not know (the test itself is wrong, or the model is). */
  expected: Expectation | 'unlisted';
  observed: boolean;
  /** Executions that ended in this outcome. */
  count: number;
  ok: boolean;
}

export interface LitmusResult {
  name: string;
  shape: string[];
  /** Executions explored. */
  executions: number;
  /** The search went through the whole tree. */
  complete: boolean;
  /** Why the search did not give a full answer (a run that failed, a tree too large). */
  error?: string;
  rows: LitmusRow[];
  sources: Record<Arch, string>;
  conformant: boolean;
}

export interface LitmusReport {
  arch: Arch;
  rig: Rig;
  conformant: boolean;
  tests: LitmusResult[];
  elapsedMs: number;
}

/** The box the tests run on: one processor per thread (4), the architecture under test. */
export function litmusRig(arch: Arch): Rig {
  const r = validateRig({
    id: `litmus-${arch}`,
    title: `Litmus box (${arch})`,
    description: 'Four processors, one per litmus thread.',
    cores: 4,
    threadsPerCore: 1,
    arch,
    hal: 'mp',
    build: 'free',
  });
  if (!r.ok) throw new Error(`litmus rig: ${JSON.stringify(r.errors)}`);
  return r.rig;
}

const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/**
 * The test as a scenario: setup allocates its shared words (named after them in traces), thread i
 * runs on processor i, and an invariant that always holds records the outcome of each execution.
 */
export function litmusScenario(t: LitmusTest, seen: Map<string, number>): Scenario {
  type State = Record<string, number>;
  // Registers are the threads' own: kept beside the state, renewed by every execution's setup.
  let registers: number[] = [];
  const actors: Record<string, ThreadActor<State>> = {};
  t.threads.forEach((thread, i) => {
    actors[`P${i}`] = {
      cpu: i,
      run: function* (k, s) {
        yield* thread(k as LitmusKernel, s, registers);
        // A context's end is a full barrier here (machine.ts, finish): a thread that leaves stores
        // buffered exits in a step of its own, so others may act before they become visible — as on
        // hardware, where a litmus thread's exit is not part of its last access (SB, R, 2+2W). A
        // thread whose one access is that store needs none: delaying its step is the same as
        // delaying the store (and IRIW's tree stays small).
        const m = k.m;
        if (m.cur.steps > 2 && m.weak.buffered(m.cpu.index) !== 0) yield* (k as LitmusKernel).KeMemoryBarrierWithoutFence();
      },
    };
  });
  return defineScenario<State>({
    id: `litmus/${slug(t.name)}`,
    title: `Litmus ${t.name}`,
    description: t.shape.map((line, i) => `P${i}: ${line}`).join('\n'),
    family: 'litmus',
    expect: 'pass',
    setup: (k) => {
      const vars: State = {};
      for (const name of t.vars) vars[name] = k.ExAllocatePool2(0, 4, 'Litm');
      for (const [word, target] of Object.entries(t.pointers ?? {})) k.poke(vars[word]!, vars[target]!);
      registers = new Array<number>(t.registers).fill(-1);
      return vars;
    },
    actors,
    invariants: {
      outcome: (s, k) => {
        const label = t.outcome({ r: registers, mem: (name) => k.peek(s[name]!) });
        seen.set(label, (seen.get(label) ?? 0) + 1);
        return true;
      },
    },
  });
}

/**
 * Depth-first search with no preemption bound, except that a thread's first step — which runs the
 * thread's code up to its first access and touches nothing shared — is taken as soon as it is
 * enabled instead of being interleaved: it commutes with every other step, so no outcome is lost,
 * and IRIW's tree shrinks from 25,200 interleavings to 180.
 */
class StartsFirst implements Strategy {
  readonly name = 'dfs';
  private view: PendingOps | null = null;
  constructor(private readonly inner: DfsStrategy) {}
  attach(view: PendingOps): void {
    this.view = view;
  }
  newExecution(index: number): boolean {
    return this.inner.newExecution();
  }
  next(choices: Int32Array, count: number, current: number): number {
    const n = this.view!.cpuCount();
    for (let i = 0; i < count; i++) {
      const c = choices[i]!;
      if (c < n && this.view!.op(c) === OP_START) return c;
    }
    return this.inner.next(choices, count, current);
  }
  endExecution(): void {
    this.inner.endExecution();
  }
}

/** Explores every execution of one test on `arch` and checks each outcome against the table. */
export function runLitmusTest(t: LitmusTest, arch: Arch, maxExecutions = LITMUS_MAX_EXECUTIONS): LitmusResult {
  const seen = new Map<string, number>();
  const run = new ControlledRun(litmusRig(arch), litmusScenario(t, seen));
  const strategy = new StartsFirst(new DfsStrategy(Infinity));
  strategy.attach(pendingOps(run));
  let executions = 0;
  let complete = false;
  let error: string | undefined;
  for (;;) {
    if (!strategy.newExecution(executions)) {
      complete = true;
      break;
    }
    if (executions === maxExecutions) {
      error = `the exhaustive search did not finish within ${maxExecutions} executions`;
      break;
    }
    const x = run.execute(strategy);
    executions++;
    if (x.outcome !== 'pass') {
      error = `an execution ended as ${x.outcome}: ${x.failure?.message ?? ''}`.trim();
      break;
    }
  }
  const rows: LitmusRow[] = [];
  for (const [outcome, verdicts] of Object.entries(t.expected)) {
    const expected = verdicts[arch];
    const count = seen.get(outcome) ?? 0;
    rows.push({ outcome, expected, observed: count > 0, count, ok: expected === 'allowed' ? count > 0 : count === 0 });
  }
  for (const [outcome, count] of seen) {
    if (!(outcome in t.expected)) rows.push({ outcome, expected: 'unlisted', observed: true, count, ok: false });
  }
  return {
    name: t.name,
    shape: t.shape,
    executions,
    complete,
    ...(error !== undefined ? { error } : {}),
    rows,
    sources: { ...t.sources },
    conformant: complete && rows.every((r) => r.ok),
  };
}

/** The whole catalogue on one architecture. */
export function runLitmus(arch: Arch, tests: readonly LitmusTest[] = LITMUS_TESTS): LitmusReport {
  const t0 = Date.now();
  const results = tests.map((t) => runLitmusTest(t, arch));
  return { arch, rig: litmusRig(arch), conformant: results.every((r) => r.conformant), tests: results, elapsedMs: Date.now() - t0 };
}
