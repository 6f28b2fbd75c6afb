/** The shape of every stored record, checked on every write and on import. */
import type { Failure } from '../engine/outcome.ts';
import type { TraceStep } from '../engine/trace.ts';
import { MAX_LOGICAL_CPUS, validateRig, type Rig } from '../machine/rig.ts';
import { arr, BAD, bool, int, join, nullable, num, obj, oneOf, opt, str, type Check } from './check.ts';
import { OUTCOMES, type StoredRun, type StoredTrace, type UserScenario } from './types.ts';

/** Size limits: generous for real runs, small enough that a hostile file cannot make the tab allocate without bound. */
export const LIMITS = {
  /** Characters of an import file. */
  importChars: 256 * 1024 * 1024,
  runs: 200_000,
  userRigs: 10_000,
  userScenarios: 10_000,
  /** Steps in one trace. */
  traceSteps: 2_000_000,
  /** Names: contexts, routines, locks, ids. */
  name: 1024,
  /** Messages, titles, meanings. */
  text: 64 * 1024,
  schedule: 4 * 1024 * 1024,
  scenarioSource: 4 * 1024 * 1024,
  /** Entries of a stack, lock list or wait list. */
  list: 10_000,
} as const;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const name = str(LIMITS.name);
const text = str(LIMITS.text);
const count = int(0, MAX_SAFE);
const cpuIndex = int(0, MAX_LOGICAL_CPUS - 1);
const irql = int(0, 31);
/** Milliseconds since the epoch, 1970 to 9999. */
const time = int(0, 253_402_300_799_999);
export const runIdCheck = int(1, MAX_SAFE);
const contextKind = oneOf(['thread', 'dpc', 'isr']);

/** The scenario line a failure or a traced step points at. */
const sourceSite = obj('a source line', {
  file: str(LIMITS.name, { min: 1 }),
  line: int(1, MAX_SAFE),
  column: int(0, MAX_SAFE),
});

/** One frame of a traced step's call stack (a kernel frame has no file). */
const stackFrame = obj('a stack frame', {
  fn: name,
  file: opt(str(LIMITS.name, { min: 1 })),
  line: opt(int(1, MAX_SAFE)),
  column: opt(int(0, MAX_SAFE)),
});

const contextSnapshot = obj('a context snapshot', {
  kind: contextKind,
  name,
  routineStack: arr(name, LIMITS.list),
  heldLocks: arr(name, LIMITS.list),
  spinningOn: opt(name),
});

const cpuSnapshot = obj('a CPU snapshot', {
  cpu: cpuIndex,
  core: cpuIndex,
  irql,
  irqlName: name,
  thread: nullable(name),
  stack: arr(contextSnapshot, LIMITS.list),
  readyThreads: arr(name, LIMITS.list),
  queuedDpcs: arr(name, LIMITS.list),
  waitingThreads: opt(arr(name, LIMITS.list)),
});

const waitInfo = obj('a wait record', {
  cpu: cpuIndex,
  context: name,
  kind: contextKind,
  irql,
  state: name,
  address: opt(int(0, 0xffff_ffff)),
  owner: opt(name),
});

const bugcheck = obj('a bug check', {
  code: int(0, 0xffff_ffff),
  name: str(LIMITS.name, { min: 1 }),
  params: arr(num(-MAX_SAFE, MAX_SAFE), 4),
  meaning: text,
  subcodeMeaning: opt(text),
});

export const failureCheck: Check<Failure> = obj(
  'a failure',
  {
    kind: oneOf(['bugcheck', 'deadlock', 'hang', 'invariant', 'error']),
    bugcheck: opt(bugcheck),
    invariant: opt(name),
    message: text,
    // Empty when the run cannot be replayed: a free-run failure, or a routine that never yielded.
    // Any rbN format: a run recorded by an older Racebox stays in the history (its replay is refused with the reason).
    schedule: str(LIMITS.schedule, { pattern: /^(rb[0-9]+\.[A-Za-z0-9_-]*)?$/, what: 'a schedule string (rb<format>. and base64url; empty when not replayable)' }),
    cpu: int(-1, MAX_LOGICAL_CPUS - 1),
    routine: name,
    source: opt(sourceSite),
    step: count,
    cpus: arr(cpuSnapshot, MAX_LOGICAL_CPUS),
    waits: opt(arr(waitInfo, LIMITS.list)),
    // The portfolio member that found it (e.g. "pct d=4"); absent under a single strategy.
    foundBy: opt(str(LIMITS.name, { min: 1 })),
    // The smallest failing schedule (engine/shrink.ts): its preemptions, and the search's own schedule it replaced.
    preemptions: opt(count),
    originalSteps: opt(count),
    originalPreemptions: opt(count),
    originalSchedule: opt(str(LIMITS.schedule, { pattern: /^rb[0-9]+\.[A-Za-z0-9_-]*$/, what: 'a schedule string (rb<format>. and base64url)' })),
    // The memory reorderings the failure needed (weak memory), one sentence each.
    reorderings: opt(arr(text, LIMITS.list)),
  },
  (f, path, out) => {
    if (f.kind === 'bugcheck' && f.bugcheck === undefined) return out.add(join(path, 'bugcheck'), 'is missing (the failure is a bug check)'), false;
    return true;
  },
);

/** A rig, through validateRig: the stored copy is the normalized rig (defaults filled in). */
export const rigCheck: Check<Rig> = (v, path, out) => {
  const r = validateRig(v);
  if (r.ok) return r.rig;
  for (const e of r.errors) out.add(e.field === '(rig)' ? path || '(rig)' : join(path, e.field), e.message);
  return BAD;
};

const runFields = {
  createdAt: time,
  rig: rigCheck,
  scenario: obj('a scenario reference', { id: str(LIMITS.name, { min: 1 }), version: int(1, MAX_SAFE), title: text }),
  engine: oneOf(['controlled', 'free']),
  strategy: str(32, { min: 1, pattern: /^[a-z][a-z0-9-]*$/, what: 'a strategy name (lower case)' }),
  seed: int(-MAX_SAFE, MAX_SAFE),
  budget: count,
  depth: opt(count),
  preemptionBound: opt(count),
  outcome: oneOf(OUTCOMES),
  failure: opt(failureCheck),
  schedulesRun: count,
  steps: count,
  elapsedMs: num(0, Number.MAX_VALUE),
  exhausted: opt(bool),
  failingSchedule: opt(count),
  cancelled: opt(bool),
};

function runConsistent(r: Omit<StoredRun, 'id'>, path: string, out: { add(f: string, m: string): void }): boolean {
  if (r.outcome === 'pass') {
    if (r.failure === undefined) return true;
    return out.add(join(path, 'failure'), 'must be absent when the outcome is "pass"'), false;
  }
  if (r.failure === undefined) return out.add(join(path, 'failure'), `is missing (every "${r.outcome}" run carries its failure and schedule)`), false;
  if (r.failure.kind !== r.outcome) return out.add(join(path, 'failure.kind'), `must equal the outcome "${r.outcome}" (got "${r.failure.kind}")`), false;
  return true;
}

/** A stored run (with its id). */
export const storedRunCheck: Check<StoredRun> = obj('a run', { id: runIdCheck, ...runFields }, runConsistent);

/** A run as addRun takes it: no id, createdAt filled in by the caller. */
export const newRunCheck: Check<Omit<StoredRun, 'id'>> = obj('a run', runFields, runConsistent);

/** A flag that is either absent or true (a buffered store). */
const onlyTrue: Check<true> = (v, path, out) => (v === true ? true : (out.add(path, `must be true when present (got a ${typeof v})`), BAD));

const traceStep: Check<TraceStep> = obj('a trace step', {
  step: count,
  cpu: cpuIndex,
  what: oneOf(['step', 'quantum', 'event', 'flush']),
  context: name,
  kind: name,
  op: name,
  address: opt(name),
  routine: name,
  irql,
  source: opt(sourceSite),
  held: opt(arr(name, 256)),
  word: opt(int(0, 0xffff_ffff)),
  block: opt(int(0, 0xffff_ffff)),
  read: opt(int(-0x8000_0000, 0x7fff_ffff)),
  wrote: opt(int(-0x8000_0000, 0x7fff_ffff)),
  fault: opt(bool),
  frames: opt(arr(stackFrame, 256)),
  buffered: opt(onlyTrue),
  visibleAt: opt(count),
  storedAt: opt(count),
  stale: opt(obj('a stale read', { newest: int(-0x8000_0000, 0x7fff_ffff), newestStep: count, newestCpu: cpuIndex })),
});

export const traceStepsCheck: Check<TraceStep[]> = arr(traceStep, LIMITS.traceSteps);

export const storedTraceCheck: Check<StoredTrace> = obj('a trace', { runId: runIdCheck, steps: traceStepsCheck });

/** User scenario ids: 1-128 printable characters (no control characters). */
export const scenarioIdCheck = str(128, { min: 1, pattern: /^[^\p{Cc}]+$/u, what: 'printable text' });

export const userScenarioCheck: Check<UserScenario> = obj('a user scenario', {
  id: scenarioIdCheck,
  title: str(LIMITS.text, { min: 1 }),
  source: str(LIMITS.scenarioSource),
  updatedAt: time,
  origin: opt(obj('a scenario origin', { kind: oneOf(['imported'] as const), file: str(LIMITS.name), importedAt: time })),
});
