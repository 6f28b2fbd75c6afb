/**
 * The scenario format (DESIGN.md section 4): a module whose default export is
 * `defineScenario({...})`. setup(k) allocates the driver's objects; actors are
 * threads, DPCs and interrupts whose routines call the kernel through `k` with
 * NT's names; invariants are checked when the run ends; `expect` says what
 * each kind of rig should see.
 */
import { bugCodeByName, ScenarioError } from '../machine/bugcheck.ts';
import type { Routine } from '../machine/ops.ts';
import type { Arch, Build, Hal } from '../machine/rig.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { VolatileSemantics } from '../kernel/ordering.ts';
import { LIVENESS_NAMES } from '../kernel/liveness.ts';
import type { InvariantKernel } from '../kernel/state-readers.ts';

export interface ThreadActor<S> {
  kind?: 'thread';
  /** Processor to run on; folded onto the rig's CPUs (cpu % count) on smaller rigs. */
  cpu?: number;
  /** PASSIVE_LEVEL (default) or APC_LEVEL. */
  irql?: number;
  /**
   * This thread is the driver's DriverUnload routine: when it returns, the driver unloads (its
   * image goes once no work item holds it) — one actor at most.
   */
  unload?: boolean;
  run(k: Kernel, s: S): Routine<unknown>;
}

/** A DPC queued on `cpu` by the outside world (a device, a timer) at a moment the strategy picks. */
export interface DpcActor<S> {
  kind: 'dpc';
  cpu?: number;
  /** How many times it is queued over the run (default 1). */
  arrivals?: number;
  run(k: Kernel, s: S): Routine<unknown>;
}

/** An interrupt that arrives on `cpu` at a moment the strategy picks; its ISR runs at the interrupt's DIRQL holding its spin lock. */
export interface InterruptActor<S> {
  kind: 'interrupt';
  cpu?: number;
  interrupt: (s: S) => number;
  arrivals?: number;
  run(k: Kernel, s: S): Routine<unknown>;
}

export type Actor<S> = ThreadActor<S> | DpcActor<S> | InterruptActor<S>;

/**
 * A check on the final state: return true (or nothing) when it holds, false or a message when it does not.
 * `k` reads state without `yield*`: k.peek, and the KeReadState* readers (KeReadStateEvent, …) as plain calls.
 */
export type Invariant<S> = (s: S, k: InvariantKernel) => boolean | string | void;

/**
 * One bug-check parameter an expectation matches: a number (the parameter's value), a function of the
 * state setup returned naming an object (`s => s.irp`: its address, compared as the pointer the bug check
 * shows, i.e. the word address × 4), or null / undefined (any value).
 */
export type BugCheckParam<S = unknown> = number | ((s: S) => number) | null | undefined;

export type ExpectedOutcome<S = unknown> =
  | 'pass'
  | 'deadlock'
  | 'hang'
  /** `subcode` is parameter 1; `params` lists parameters 1–4 in order (a shorter list leaves the rest free). */
  | { bugcheck: string; subcode?: number; params?: readonly BugCheckParam<S>[] }
  | { invariant: string }
  /** A named liveness failure (a hang or deadlock the kernel recognised): see LIVENESS_NAMES. */
  | { liveness: string };

export interface RigSelector {
  rig?: string | string[];
  /** The rig's architecture (its memory model): 'x64' (x86-TSO) or 'arm64' (ARMv8). */
  arch?: Arch;
  build?: Build;
  hal?: Hal;
  /** Logical CPUs that actually run (a UP HAL runs one). */
  minCpus?: number;
  maxCpus?: number;
}

export interface ExpectRule<S = unknown> {
  when?: RigSelector;
  outcome: ExpectedOutcome<S>;
}

export interface ScenarioDefinition<S> {
  /** Stable, path-like: `spinlock/naive-tas`. */
  id: string;
  title: string;
  /** What the driver does, what goes wrong and why, in a driver developer's words. */
  description: string;
  family: string;
  /** Seed articles (shared/seeds file stems) the scenario reproduces. */
  seeds?: string[];
  /** Bump whenever the routines change: recorded schedules of another version are refused. */
  version?: number;
  variant?: 'buggy' | 'correct';
  /** The id of the correct (or buggy) twin. */
  pairedWith?: string;
  setup(k: Kernel): S;
  actors: Record<string, Actor<S>>;
  invariants?: Record<string, Invariant<S>>;
  /** What happens on each kind of rig; the first rule whose `when` matches applies. */
  expect: ExpectedOutcome<S> | ExpectRule<S>[];
  /**
   * The pool tags that are the driver's own (or 'all': every tag setup and the actors allocate
   * pool under). When given, a checked build ends the run as Driver Verifier ends an unload: pool
   * still allocated under these tags is DRIVER_VERIFIER_DETECTED_VIOLATION 0xC4/0x62. Without it
   * the pool is not tracked (a scenario's pool may stand for memory the system owns).
   */
  driverTags?: readonly string[] | 'all';
  /**
   * Schedules `racebox regress` explores where this scenario should pass (default 2,000);
   * where a failure is expected it searches up to 10,000 schedules (or --find-budget).
   */
  budget?: number;
  /**
   * How the driver was compiled for `volatile` (k.ReadVolatile / k.WriteVolatile): 'ms'
   * (/volatile:ms: acquire loads, release stores) or 'iso' (/volatile:iso: no ordering). Default:
   * MSVC's for the rig's architecture — 'ms' on x64, 'iso' on arm64.
   */
  volatile?: VolatileSemantics;
}

export interface Scenario<S = unknown> extends ScenarioDefinition<S> {
  readonly version: number;
  /** Where it was loaded from (set by the loader). */
  source?: string;
}

const ID_RE = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)+$/;

/** Checks the shape of a scenario and fills in defaults; every problem is reported with the scenario's id. */
export function defineScenario<S>(def: ScenarioDefinition<S>): Scenario {
  const where = typeof def?.id === 'string' ? `scenario '${def.id}'` : 'scenario';
  const fail = (msg: string): never => {
    throw new ScenarioError(`${where}: ${msg}`);
  };
  if (typeof def !== 'object' || def === null) fail('defineScenario needs an object');
  if (typeof def.id !== 'string' || !ID_RE.test(def.id)) fail(`id must look like 'family/name' (lower case, digits, '-'), got ${JSON.stringify(def.id)}`);
  if (typeof def.title !== 'string' || def.title === '') fail('title must be a non-empty string');
  if (typeof def.description !== 'string') fail('description must be a string');
  if (typeof def.family !== 'string' || def.family === '') fail('family must be a non-empty string');
  if (typeof def.setup !== 'function') fail('setup(k) must be a function returning the scenario state');
  if (typeof def.actors !== 'object' || def.actors === null || Object.keys(def.actors).length === 0) fail('actors must name at least one actor');
  for (const [name, a] of Object.entries(def.actors)) {
    if (typeof a !== 'object' || a === null) fail(`actor '${name}' must be an object`);
    if (typeof a.run !== 'function') fail(`actor '${name}' needs a generator function run(k, s)`);
    const kind = a.kind ?? 'thread';
    if (kind !== 'thread' && kind !== 'dpc' && kind !== 'interrupt') fail(`actor '${name}': kind must be 'thread', 'dpc' or 'interrupt'`);
    if (a.cpu !== undefined && (!Number.isInteger(a.cpu) || a.cpu < 0)) fail(`actor '${name}': cpu must be a processor number ≥ 0`);
    if (kind === 'interrupt' && typeof (a as InterruptActor<S>).interrupt !== 'function') {
      fail(`actor '${name}': an interrupt actor needs interrupt: (s) => s.yourInterrupt`);
    }
    if (kind === 'thread') {
      const irql = (a as ThreadActor<S>).irql ?? 0;
      if (irql !== 0 && irql !== 1) fail(`actor '${name}': a thread starts at PASSIVE_LEVEL (0) or APC_LEVEL (1)`);
    }
    const unload = (a as ThreadActor<S>).unload;
    if (unload !== undefined && typeof unload !== 'boolean') fail(`actor '${name}': unload must be true or false`);
    if (unload === true && kind !== 'thread') fail(`actor '${name}': only a thread actor can be the driver's unload routine`);
  }
  if (Object.values(def.actors).filter((a) => (a as ThreadActor<S>).unload === true).length > 1) {
    fail('only one actor can be the driver\'s unload routine (unload: true)');
  }
  if (def.version !== undefined && (!Number.isInteger(def.version) || def.version < 1)) fail('version must be an integer ≥ 1');
  validateExpect(def.expect, fail);
  if (def.volatile !== undefined && def.volatile !== 'ms' && def.volatile !== 'iso') {
    fail(`volatile must be 'ms' (/volatile:ms: acquire/release) or 'iso' (/volatile:iso: no ordering) (got ${JSON.stringify(def.volatile)})`);
  }
  const tags = def.driverTags;
  if (tags !== undefined && tags !== 'all' && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
    fail(`driverTags must be a list of pool tags or 'all' (got ${JSON.stringify(tags)})`);
  }
  // The state type matters while writing the scenario; the engine only passes it back to the same routines.
  return { ...def, version: def.version ?? 1 } as unknown as Scenario;
}

const SELECTOR_KEYS = new Set(['rig', 'arch', 'build', 'hal', 'minCpus', 'maxCpus']);

/** A typo in a selector would make its rule match every rig (or none), so each field is checked. */
function validateSelector(w: unknown, fail: (m: string) => never): void {
  if (w === undefined) return;
  if (typeof w !== 'object' || w === null || Array.isArray(w)) fail('expect: when must be an object');
  const sel = w as Record<string, unknown>;
  for (const key of Object.keys(sel)) {
    if (!SELECTOR_KEYS.has(key)) fail(`expect: when: '${key}' is not a rig selector (${[...SELECTOR_KEYS].join(', ')})`);
  }
  const rig = sel.rig;
  if (rig !== undefined && typeof rig !== 'string' && !(Array.isArray(rig) && rig.every((r) => typeof r === 'string'))) {
    fail('expect: when.rig must be a rig id or a list of them');
  }
  if (sel.arch !== undefined && sel.arch !== 'x64' && sel.arch !== 'arm64') fail(`expect: when.arch must be 'x64' or 'arm64' (got ${JSON.stringify(sel.arch)})`);
  if (sel.build !== undefined && sel.build !== 'checked' && sel.build !== 'free') fail(`expect: when.build must be 'checked' or 'free' (got ${JSON.stringify(sel.build)})`);
  if (sel.hal !== undefined && sel.hal !== 'mp' && sel.hal !== 'up') fail(`expect: when.hal must be 'mp' or 'up' (got ${JSON.stringify(sel.hal)})`);
  for (const key of ['minCpus', 'maxCpus']) {
    const v = sel[key];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) fail(`expect: when.${key} must be an integer ≥ 1 (got ${JSON.stringify(v)})`);
  }
}

function validateExpect(e: unknown, fail: (m: string) => never): void {
  const rules = Array.isArray(e) ? e : [{ outcome: e }];
  if (rules.length === 0) fail('expect needs at least one rule');
  for (const r of rules as ExpectRule[]) {
    if (typeof r !== 'object' || r === null) fail(`expect: ${JSON.stringify(r)} is not a rule ({ when?, outcome })`);
    validateSelector(r.when, fail);
    const o = r.outcome;
    const ok =
      o === 'pass' || o === 'deadlock' || o === 'hang' ||
      (typeof o === 'object' && o !== null && (typeof (o as { bugcheck?: unknown }).bugcheck === 'string' || typeof (o as { invariant?: unknown }).invariant === 'string' ||
        typeof (o as { liveness?: unknown }).liveness === 'string'));
    if (!ok) fail(`expect: ${JSON.stringify(o)} is not an outcome ('pass', 'deadlock', 'hang', { bugcheck: 'NAME' }, { invariant: 'name' } or { liveness: 'name' })`);
    if (typeof o === 'object' && 'liveness' in o && !LIVENESS_NAMES.includes(o.liveness)) {
      fail(`expect: unknown liveness failure '${o.liveness}' (one of ${LIVENESS_NAMES.join(', ')})`);
    }
    if (typeof o === 'object' && 'bugcheck' in o) {
      if (!bugCodeByName(o.bugcheck)) fail(`expect: unknown bug check '${o.bugcheck}' (use the NT name, e.g. 'SPIN_LOCK_ALREADY_OWNED')`);
      if (o.subcode !== undefined && !Number.isInteger(o.subcode)) fail(`expect: subcode must be a number (got ${JSON.stringify(o.subcode)})`);
      const params: unknown = o.params;
      if (params !== undefined) {
        if (!Array.isArray(params) || params.length > 4) fail('expect: params must be a list of at most 4 bug-check parameters');
        (params as unknown[]).forEach((p, i) => {
          if (p !== null && p !== undefined && typeof p !== 'function' && !Number.isInteger(p)) {
            fail(`expect: params[${i}] (parameter ${i + 1}) must be a number, a function of the setup state (s => s.irp) or null (got ${JSON.stringify(p)})`);
          }
        });
        const p1 = (params as unknown[])[0];
        if (o.subcode !== undefined && typeof p1 === 'number' && p1 !== o.subcode) fail(`expect: subcode 0x${o.subcode.toString(16)} and params[0] 0x${p1.toString(16)} are both parameter 1 and differ`);
      }
    }
  }
}
