/**
 * The fence that fixes it (`racebox fences`, the app's "Suggest fences"): the smallest set of
 * ordering changes to a scenario's ordering-API accesses — this WriteNoFence → WriteRelease, this
 * read → ReadAcquire, a KeMemoryBarrier right before this access — after which the failure no
 * longer appears over a budget of schedules.
 *
 * The method is VSync's (Oberhauser, Chehab, Behrens, Fu, Paolillo, Oberhauser, Bhat, Wen, Chen,
 * Kim, Vafeiadis: "VSync: push-button verification and optimization for synchronization
 * primitives on weak memory models", ASPLOS 2021), which finds minimal barriers for C11 code by
 * strengthening one access at a time and checking the result: here the check is the box's own
 * exploration instead of a model checker, so "verified" means "clean over the budget", not a proof.
 *
 * The change is applied without editing the scenario: the machine announces every ordering-API
 * access through `Machine.atOrdered`, whose `orderHook` may return a stronger order. The hook
 * recognises the access by the scenario source line it comes from (its call stack).
 */
import type { Machine } from '../machine/machine.ts';
import { logicalCpuCount, type Rig } from '../machine/rig.ts';
import { OP_READ, OP_WRITE } from '../machine/ops.ts';
import {
  ORDER_ACQUIRE, ORDER_FENCE_BEFORE, ORDER_MASK, ORDER_PLAIN, ORDER_RELEASE, type MemoryOrder,
} from '../machine/weak-memory.ts';
import type { Scenario } from '../scenario/define.ts';
import { ControlledRun } from './controlled.ts';
import { DEFAULT_STRATEGY, explore, type ExploreOptions, type ExploreStrategy } from './explore.ts';
import type { Failure, OutcomeKind } from './outcome.ts';
import { decodeSchedule, deviationsFromChoices } from './schedule.ts';
import { scenarioSite } from './source-site.ts';
import { ReplayStrategy } from './strategies/replay.ts';
import type { TraceStep } from './trace.ts';

/** What a change does to one access: the weakest that can order it first (release/acquire), then a full barrier. */
export type FenceChangeKind = 'release' | 'acquire' | 'fence';

/** One ordering-API access of the scenario, by the source line it is made from. */
export interface FenceSite {
  /** `file:line:read|write`: the key the order hook recognises the access by. */
  key: string;
  file: string;
  line: number;
  op: 'read' | 'write';
  /** The order the scenario gives it (ORDER_PLAIN, ORDER_ACQUIRE or ORDER_RELEASE). */
  order: MemoryOrder;
  /** The kernel routine the access goes through (WriteNoFence, ReadVolatile …), when the stack names it. */
  routine?: string;
  /** A reordering of the failing run involved this access (a buffered store, a stale read, a late flush). */
  involved: boolean;
}

export interface FenceChange {
  site: FenceSite;
  kind: FenceChangeKind;
}

/** What verifying one change set found. */
export interface FenceVerdict {
  clean: boolean;
  /** Schedules run (all clean when `clean`). */
  schedules: number;
  /** When not clean: what still failed. */
  failure?: Pick<Failure, 'kind' | 'message' | 'schedule'>;
}

export interface FenceSuggestion {
  changes: FenceChange[];
  /** Clean schedules that verified it. */
  verifiedSchedules: number;
}

export interface FenceSearchOptions {
  /** Largest change set tried (default DEFAULT_MAX_CHANGES). */
  maxChanges?: number;
  /** At most this many candidate sites are combined (the involved ones first). */
  maxSites?: number;
  /** Called before each change set is verified. */
  onTry?: (changes: readonly FenceChange[], tried: number) => void;
  /** Polled between change sets; true stops the search (the result says so). */
  shouldStop?: () => boolean;
}

export interface FenceSearchResult {
  suggestions: FenceSuggestion[];
  /** Change sets verified. */
  tried: number;
  /** The size of the suggestions; when none: the bound that was reached. */
  size: number;
  stopped: boolean;
}

export const DEFAULT_MAX_CHANGES = 2;
export const DEFAULT_MAX_SITES = 12;
export const DEFAULT_FENCE_BUDGET = 10_000;
/** Seeds a change set is verified with (each over the whole budget), and the failure is looked for with. */
export const FENCE_SEEDS: readonly number[] = [1, 2, 3];

/** The changes that may strengthen a site, weakest first. */
export function changeKindsFor(site: Pick<FenceSite, 'op' | 'order'>): FenceChangeKind[] {
  if (site.order === ORDER_PLAIN) return [site.op === 'write' ? 'release' : 'acquire', 'fence'];
  return ['fence'];
}

/** The order the hook gives an access that `kind` changes. */
export function changedOrder(kind: FenceChangeKind, order: MemoryOrder, op: 'read' | 'write'): number {
  if (kind === 'fence') return (order & ORDER_MASK) | ORDER_FENCE_BEFORE;
  return op === 'write' ? ORDER_RELEASE : ORDER_ACQUIRE;
}

function opName(op: number): 'read' | 'write' | undefined {
  return op === OP_READ ? 'read' : op === OP_WRITE ? 'write' : undefined;
}

/** `file:line:op` of the scenario line a captured stack comes from. */
export function siteKey(file: string, line: number, op: 'read' | 'write'): string {
  return `${file}:${line}:${op}`;
}

const ROUTINE_FRAME = /^\s*(?:at\s+)?(?:async\s+)?(?:[\w$]+\.)*([\w$]+)(?:\s+\[as [^\]]+\])?\s*[(@]/;

/** The routine whose frame is just below atOrdered's in a captured stack (V8 and SpiderMonkey formats). */
export function routineOf(stack: string): string | undefined {
  const lines = stack.split('\n');
  const at = lines.findIndex((l) => l.includes('atOrdered'));
  if (at < 0) return undefined;
  const m = ROUTINE_FRAME.exec(lines[at + 1] ?? '');
  return m?.[1] !== undefined && /^[A-Z]/.test(m[1]) ? m[1] : undefined;
}

interface CallSiteLike {
  getFileName(): string | null | undefined;
  getLineNumber(): number | null;
  getColumnNumber(): number | null;
}
type V8Error = ErrorConstructor & { captureStackTrace?: (o: object) => void; prepareStackTrace?: unknown };

/**
 * The raw positions of the current call stack, where the engine offers them (V8: Node, Chrome):
 * no text is formatted and no source map is consulted, which makes it many times cheaper than
 * `new Error().stack` — the fence search asks at every ordering-API access of every schedule.
 */
function rawStackKey(): string | undefined {
  const E = Error as V8Error;
  if (typeof E.captureStackTrace !== 'function') return undefined;
  const prev = E.prepareStackTrace;
  E.prepareStackTrace = (_e: unknown, sites: CallSiteLike[]) => sites;
  try {
    const o: { stack?: unknown } = {};
    E.captureStackTrace(o);
    const sites = o.stack;
    if (!Array.isArray(sites)) return undefined;
    let key = '';
    for (const c of sites as CallSiteLike[]) key += `${c.getFileName()}:${c.getLineNumber()}:${c.getColumnNumber()}|`;
    return key;
  } catch {
    return undefined;
  } finally {
    E.prepareStackTrace = prev;
  }
}

type Where = { file: string; line: number; routine?: string } | null;

/** Where the access being announced comes from: parsed once per distinct stack. */
class SiteReader {
  private readonly cache = new Map<string, Where>();
  private readonly byRaw = new Map<string, Where>();

  read(): Where {
    const raw = rawStackKey();
    if (raw === undefined) return this.fromText();
    let r = this.byRaw.get(raw);
    if (r === undefined) {
      r = this.fromText();
      this.byRaw.set(raw, r);
    }
    return r;
  }

  /** From the stack's text, which names the scenario's own lines (source-mapped, or as evaluated). */
  private fromText(): Where {
    const stack = new Error().stack ?? '';
    let r = this.cache.get(stack);
    if (r === undefined) {
      // The hook's own frames are the engine's, which scenarioSite takes for the driver: read from atOrdered on.
      const at = stack.indexOf('atOrdered');
      const from = at < 0 ? stack : stack.slice(stack.indexOf('\n', at) + 1);
      const s = scenarioSite(from);
      const routine = routineOf(stack);
      r = s ? { file: s.file, line: s.line, ...(routine !== undefined ? { routine } : {}) } : null;
      this.cache.set(stack, r);
    }
    return r;
  }
}

/**
 * The machine's order hook for a change set: an access from a changed line gets the changed
 * order; every other access keeps its own.
 */
export function orderHookFor(changes: readonly FenceChange[]): (op: number, order: MemoryOrder) => number {
  if (changes.length === 0) return (_op, order) => order;
  const byKey = new Map<string, FenceChange>();
  for (const c of changes) byKey.set(c.site.key, c);
  const reader = new SiteReader();
  return (op, order) => {
    const name = opName(op);
    if (name === undefined) return order;
    const s = reader.read();
    if (s === null) return order;
    const c = byKey.get(siteKey(s.file, s.line, name));
    return c === undefined ? order : changedOrder(c.kind, order, name);
  };
}

/** A hook that changes nothing and notes every ordering-API access's site, in first-seen order. */
export function siteRecorder(): { hook: (op: number, order: MemoryOrder) => number; sites: Map<string, FenceSite> } {
  const sites = new Map<string, FenceSite>();
  const reader = new SiteReader();
  const hook = (op: number, order: MemoryOrder): number => {
    const name = opName(op);
    if (name === undefined) return order;
    const s = reader.read();
    if (s === null) return order;
    const key = siteKey(s.file, s.line, name);
    if (!sites.has(key)) sites.set(key, { key, file: s.file, line: s.line, op: name, order: (order & ORDER_MASK) as MemoryOrder, ...(s.routine !== undefined ? { routine: s.routine } : {}), involved: false });
    return order;
  };
  return { hook, sites };
}

/** Trace fields the weak-memory engine adds (ARM64.md, "Trace"): read here without depending on their arrival. */
type WeakTraceStep = TraceStep & { buffered?: boolean; stale?: { newest: number; newestStep: number; newestCpu: number }; storedAt?: number };

/**
 * `file:line` of the steps a reordering of the run involved. A buffered store was reordered with
 * the later accesses of its CPU up to its flush (the store that overtook it is among them); a
 * stale read with the accesses of its CPU and of the writer it missed, from that write to the read
 * (the newer pointer it followed, the writer's later stores).
 */
export function involvedLines(trace: readonly TraceStep[]): Set<string> {
  const out = new Set<string>();
  const flushedAt = new Map<number, number>();
  for (const raw of trace) {
    const s = raw as WeakTraceStep;
    if ((s.what as string) === 'flush' && s.storedAt !== undefined) flushedAt.set(s.storedAt, s.step);
  }
  const end = trace.length > 0 ? trace[trace.length - 1]!.step : 0;
  const windows: { cpus: number[]; from: number; to: number }[] = [];
  for (const raw of trace) {
    const s = raw as WeakTraceStep;
    if (s.buffered === true) windows.push({ cpus: [s.cpu], from: s.step, to: flushedAt.get(s.step) ?? end });
    if (s.stale !== undefined) windows.push({ cpus: [s.cpu, s.stale.newestCpu], from: s.stale.newestStep, to: s.step });
  }
  for (const s of trace) {
    if (s.what !== 'step' || !s.source) continue;
    if (windows.some((w) => s.step >= w.from && s.step <= w.to && w.cpus.includes(s.cpu))) out.add(`${s.source.file}:${s.source.line}`);
  }
  return out;
}

/** Involved sites first (they are the likeliest fixes), then the rest in the order the failing run made them. */
export function rankSites(sites: Iterable<FenceSite>): FenceSite[] {
  const all = [...sites];
  return [...all.filter((s) => s.involved), ...all.filter((s) => !s.involved)];
}

function* combinations<T>(items: readonly T[], k: number, from = 0): Generator<T[]> {
  if (k === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= items.length - k; i++) {
    for (const rest of combinations(items, k - 1, i + 1)) yield [items[i]!, ...rest];
  }
}

const fenceCount = (cs: readonly FenceChange[]): number => cs.filter((c) => c.kind === 'fence').length;

/** Every way of choosing one change kind per site, fewest full barriers first. */
function assignments(sites: readonly FenceSite[]): FenceChange[][] {
  let out: FenceChange[][] = [[]];
  for (const site of sites) out = out.flatMap((partial) => changeKindsFor(site).map((kind) => [...partial, { site, kind }]));
  return out.sort((a, b) => fenceCount(a) - fenceCount(b));
}

/**
 * The search: change sets of size 1, then 2, … up to the bound; within a size, fewer full
 * barriers first (release/acquire is cheaper on ARM64 than DMB ISH); a set is kept when `verify`
 * finds it clean, and no set containing the sites of a kept one is tried (it would not be minimal).
 * Stops after the first size that has a clean set: every suggestion is as small as possible.
 */
export function searchFences(candidates: readonly FenceSite[], verify: (changes: FenceChange[]) => FenceVerdict, o: FenceSearchOptions = {}): FenceSearchResult {
  const maxChanges = o.maxChanges ?? DEFAULT_MAX_CHANGES;
  const sites = candidates.slice(0, o.maxSites ?? DEFAULT_MAX_SITES);
  const suggestions: FenceSuggestion[] = [];
  let tried = 0;
  const fixedSites: Set<string>[] = [];
  for (let size = 1; size <= Math.min(maxChanges, sites.length); size++) {
    for (const group of combinations(sites, size)) {
      if (fixedSites.some((f) => [...f].every((k) => group.some((s) => s.key === k)))) continue;
      for (const changes of assignments(group)) {
        if (o.shouldStop?.()) return { suggestions, tried, size, stopped: true };
        tried++;
        o.onTry?.(changes, tried);
        const v = verify(changes);
        if (v.clean) {
          suggestions.push({ changes, verifiedSchedules: v.schedules });
          fixedSites.push(new Set(group.map((s) => s.key)));
          break;
        }
      }
    }
    // Weakest first across site sets too: release/acquire-only suggestions before those needing a barrier.
    if (suggestions.length > 0) return { suggestions: suggestions.sort((x, y) => fenceCount(x.changes) - fenceCount(y.changes)), tried, size, stopped: false };
  }
  return { suggestions, tried, size: Math.min(maxChanges, sites.length), stopped: false };
}

// ---- on a real scenario and rig --------------------------------------------------------------

export interface FenceRequestOptions extends FenceSearchOptions {
  /** Schedules per seed (default DEFAULT_FENCE_BUDGET). */
  budget?: number;
  strategy?: ExploreStrategy;
  seeds?: readonly number[];
  /** Passed to every exploration (watchdog beats, cancel, progress). */
  explore?: Pick<ExploreOptions, 'heartbeat' | 'stepBeat' | 'shouldStop'>;
  /** After each exploration: schedules run so far in the whole search. */
  onSchedules?: (total: number) => void;
}

export interface FenceReport {
  scenario: string;
  rig: string;
  /**
   * fixed: suggestions found; not-failing: no seed found a failure (nothing to fix);
   * not-fixed: no change set within the bound removes it; error: the scenario is broken;
   * stopped: cancelled before the search ended.
   */
  result: 'fixed' | 'not-failing' | 'not-fixed' | 'error' | 'stopped';
  strategy: ExploreStrategy;
  budget: number;
  seeds: number[];
  maxChanges: number;
  /** The failure the search removes (its seed and schedule). */
  failure?: { kind: OutcomeKind; message: string; schedule: string; seed: number };
  /** Every ordering-API access of the failing run, candidates in the order tried. */
  sites: FenceSite[];
  suggestions: FenceSuggestion[];
  tried: number;
  /** Schedules run by the whole search. */
  schedulesRun: number;
  elapsedMs: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The ordering-API accesses of a failing schedule, and which of them its reorderings involved. */
export function sitesOfFailure(rig: Rig, scenario: Scenario, schedule: string): FenceSite[] {
  const rec = decodeSchedule(schedule);
  const run = new ControlledRun(rig, scenario);
  const { hook, sites } = siteRecorder();
  withHook(run.m, hook, () => {
    const strategy = new ReplayStrategy(deviationsFromChoices(rec.choices, logicalCpuCount(rig)), rec.steps);
    strategy.newExecution(0);
    const x = run.execute(strategy, { trace: true });
    const involved = involvedLines(x.trace ?? []);
    for (const s of sites.values()) s.involved = involved.has(`${s.file}:${s.line}`);
  });
  return rankSites(sites.values());
}

function withHook<T>(m: Machine, hook: (op: number, order: MemoryOrder) => number, f: () => T): T {
  m.orderHook = hook;
  try {
    return f();
  } finally {
    m.orderHook = null;
  }
}

/** Enough frames for the scenario's line to be in every captured stack (deep yield* chains). */
const STACK_FRAMES = 32;

/** Finds the failure, its ordering-API accesses, and the smallest change sets that remove it. */
export function fenceSearch(rig: Rig, scenario: Scenario, o: FenceRequestOptions = {}): FenceReport {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(limit, STACK_FRAMES);
  try {
    return search(rig, scenario, o);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function search(rig: Rig, scenario: Scenario, o: FenceRequestOptions): FenceReport {
  const t0 = now();
  const strategy = o.strategy ?? DEFAULT_STRATEGY;
  const budget = o.budget ?? DEFAULT_FENCE_BUDGET;
  const seeds = [...(o.seeds ?? FENCE_SEEDS)];
  const maxChanges = o.maxChanges ?? DEFAULT_MAX_CHANGES;
  let schedulesRun = 0;
  const report = (rest: Pick<FenceReport, 'result'> & Partial<FenceReport>): FenceReport => ({
    scenario: scenario.id, rig: rig.id, strategy, budget, seeds, maxChanges, sites: [], suggestions: [], tried: 0, schedulesRun, elapsedMs: now() - t0, ...rest,
  });
  const stopped = (): boolean => o.explore?.shouldStop?.() === true || o.shouldStop?.() === true;
  const runSeed = (seed: number, hook: ((op: number, order: MemoryOrder) => number) | undefined) => {
    const s = explore(rig, scenario, { ...o.explore, strategy, seed, schedules: budget, ...(hook ? { orderHook: hook } : {}) });
    schedulesRun += s.schedulesRun;
    o.onSchedules?.(schedulesRun);
    return s;
  };

  let failure: FenceReport['failure'];
  for (const seed of seeds) {
    if (stopped()) return report({ result: 'stopped' });
    const s = runSeed(seed, undefined);
    if (s.outcome !== 'pass' && s.failure) {
      failure = { kind: s.outcome, message: s.failure.message, schedule: s.failure.schedule, seed };
      break;
    }
  }
  if (failure === undefined) return report({ result: stopped() ? 'stopped' : 'not-failing' });
  if (failure.kind === 'error' || failure.schedule === '') return report({ result: 'error', failure });

  const sites = sitesOfFailure(rig, scenario, failure.schedule);
  const verify = (changes: FenceChange[]): FenceVerdict => {
    const hook = orderHookFor(changes);
    let schedules = 0;
    // The seed that found the failure first: a set that does not fix it usually fails there at once.
    for (const seed of [failure.seed, ...seeds.filter((x) => x !== failure.seed)]) {
      const s = runSeed(seed, hook);
      schedules += s.schedulesRun;
      if (s.outcome !== 'pass') return { clean: false, schedules, ...(s.failure ? { failure: { kind: s.failure.kind, message: s.failure.message, schedule: s.failure.schedule } } : {}) };
      // Cancelled midway: not verified over the budget, so not clean.
      if (stopped()) return { clean: false, schedules };
    }
    return { clean: true, schedules };
  };
  const r = searchFences(sites, verify, { ...o, maxChanges, shouldStop: stopped });
  const result = r.stopped ? 'stopped' : r.suggestions.length > 0 ? 'fixed' : 'not-fixed';
  return report({ result, failure, sites, suggestions: r.suggestions, tried: r.tried });
}

// ---- words -------------------------------------------------------------------------------------

/** The API the access becomes: WriteNoFence64 → WriteRelease64, ReadPointerNoFence → ReadPointerAcquire. */
export function strengthenedApi(site: Pick<FenceSite, 'op' | 'routine'>, kind: Exclude<FenceChangeKind, 'fence'>): string {
  const to = kind === 'release' ? 'Release' : 'Acquire';
  const r = site.routine;
  if (r !== undefined && /NoFence|Raw/.test(r)) return r.replace(/NoFence|Raw/, to);
  return site.op === 'write' ? 'WriteRelease' : 'ReadAcquire';
}

/** "→ WriteRelease", "KeMemoryBarrier() right before it". */
export function describeChange(c: FenceChange): string {
  if (c.kind === 'fence') return 'KeMemoryBarrier() right before it';
  return `→ ${strengthenedApi(c.site, c.kind)}`;
}

/** "WriteRelease (release store)": what the change costs, in words. */
export function changeKindText(kind: FenceChangeKind): string {
  return kind === 'release' ? 'release store' : kind === 'acquire' ? 'acquire load' : 'full barrier';
}
