/**
 * The free-run coordinator: starts one worker per online logical CPU of the
 * rig over shared machine memory, watches their progress, stops them on a
 * time or iteration budget, on the first failure, on a hang (no progress in
 * the shared counters) or on cancellation, and always terminates every worker
 * it started. Runs on any thread that may not block (the CLI's main thread,
 * a page): it only polls the shared counters on a timer.
 */
import { activeCpuCount, type Rig } from '../../machine/rig.ts';
import { irqlName, DISPATCH_LEVEL } from '../../machine/irql.ts';
import type { FreeCpuRequest, FreeWorkerApi, ScenarioRef } from '../worker-contract.ts';
import type { CpuSnapshot, Failure, OutcomeKind, RunSummary } from '../outcome.ts';
import { freeRunAvailability, freeRunCpuLimit, freeRunRigRefusal } from './availability.ts';
import {
  C_FAIL, C_ITER, C_MAX_ITER, C_READY, C_STOP, C_TIME_UP, controlWords, cpuWord, P_ACQUIRE, P_PROGRESS, P_SPINS, P_STEPS,
  requestStop, spinMicrosFor, STOP_NOW,
} from './control.ts';
import type { CpuCounters, CpuResult, CpuState } from './cpu.ts';

/** One CPU worker as the coordinator holds it. */
export interface FreeCpuWorker {
  api: Pick<FreeWorkerApi, 'runCpu'>;
  /** Ends the worker at once (it may be stuck in a routine that never yields). */
  terminate(): void;
}

/** Makes the worker for CPU slot `slot` (browser: a module Worker wrapped with Comlink; Node: worker_threads). */
export type FreeWorkerFactory = (slot: number) => FreeCpuWorker;

export interface FreeProgress {
  iterations: number;
  operations: number;
  acquisitions: number;
  spins: number;
  elapsedMs: number;
}

export interface FreeRunOptions {
  /** Wall-clock budget; the run stops at the next iteration boundary after it (default 5 s when no iteration count is given). */
  seconds?: number;
  /** Iteration budget (0 or absent: until the time budget). */
  iterations?: number;
  seed?: number;
  /** No progress (iterations, finished routines, lock acquisitions, memory changes) for this long is a hang. Default 2000 ms. */
  stallMs?: number;
  /** Workers must have loaded the scenario within this time. Default 60 s. */
  startupMs?: number;
  /** How long stopped workers get to report before they are terminated. Default 1000 ms. */
  graceMs?: number;
  onProgress?: (p: FreeProgress) => void;
  progressMs?: number;
  /** Word 0 non-zero cancels the run (the same convention as the exploration workers). */
  cancel?: Int32Array;
  /**
   * 'auto' (default): where the worker can load plain-function twins of the kernel and the scenario
   * (Node), a CPU with at most one thread runs them; 'generators': always step the generators.
   */
  mode?: 'auto' | 'generators';
  /** Host cores (default: navigator.hardwareConcurrency, else 1): decides whether waiting workers spin or sleep. */
  hostCpus?: number;
  /** The command that explores the same scenario with the controlled engine (printed with a failure). */
  controlledCommand?: string;
}

export type FreeStopReason = 'time' | 'iterations' | 'failure' | 'hang' | 'cancelled';

export interface FreeRunSummary extends RunSummary {
  engine: 'free';
  /** Iterations completed with their invariants checked. */
  iterations: number;
  stoppedBy: FreeStopReason;
  cpus: CpuCounters[];
  totals: { operations: number; acquisitions: number; spins: number; operationsPerSecond: number; acquisitionsPerSecond: number };
  /** What free-run does not check, for this run's output. */
  limits: string[];
  /** Reasons to distrust this particular run's result (kernel families whose shared state free-run does not share). */
  warnings: string[];
  replayable: false;
  /** The deterministic search to run instead, to get a failure that replays. */
  controlledCommand?: string;
}

export class FreeRunUnavailable extends Error {}

export const FREE_RUN_LIMITS: readonly string[] = [
  'free-run is not reproducible: a failure cannot be replayed; explore the same scenario with the controlled engine to get a schedule that replays',
  'lock ownership (SPIN_LOCK_ALREADY_OWNED, SPIN_LOCK_NOT_OWNED) is checked against the locks held on the same CPU only',
  'dispatcher objects, fast and guarded mutexes, ERESOURCEs, thread suspension and IRP completion are shared between CPU workers (machine memory and shared kernel words, under a dispatcher lock); kernel bookkeeping still kept in JS objects (queued-lock order logs) is per CPU',
  "the scenario's own JS state (arrays or counters in the object setup returns, changed by actors) is per CPU worker: an invariant or NT_ASSERT that reads what another CPU's actors recorded there sees this CPU's copy only (keep such records in machine memory)",
  'a dispatcher wait with a finite timeout (and KeDelayExecutionThread) expires after its CPU has idled for a few milliseconds, whatever the timeout value',
  "a cancel routine is called through its name: the CPU worker that calls it (IoCancelIrp) must know it — one kept in the state setup returns (as the shipped cancel scenarios do), one it set itself, or the cancel-safe queue library's; a routine made inside another CPU's actor ends the run as an error",
  'hangs are found by wall-clock watchdog (no progress in the shared counters), not by step counts; rig.watchdog step limits do not apply',
];

function hostCpus(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function freeRun(
  rig: Rig,
  scenario: ScenarioRef,
  scenarioId: string,
  factory: FreeWorkerFactory,
  o: FreeRunOptions = {},
): Promise<FreeRunSummary> {
  const refused = freeRunRigRefusal(rig);
  if (refused !== null) throw new FreeRunUnavailable(refused);
  const avail = freeRunAvailability();
  if (!avail.ok) throw new FreeRunUnavailable(avail.reason);
  const n = activeCpuCount(rig);
  const tooMany = freeRunCpuLimit(n, o.hostCpus ?? hostCpus());
  if (tooMany !== null) throw new FreeRunUnavailable(tooMany);
  const seed = o.seed ?? 1;
  const iterationBudget = o.iterations ?? 0;
  const seconds = o.seconds ?? (iterationBudget > 0 ? Infinity : 5);
  const stallMs = o.stallMs ?? 2000;
  const startupMs = o.startupMs ?? 60_000;
  const graceMs = o.graceMs ?? 1000;
  const memory = new SharedArrayBuffer(rig.memoryWords * 4);
  const shadow = new SharedArrayBuffer(rig.memoryWords);
  const control = new SharedArrayBuffer(controlWords(n) * 4);
  const ctl = new Int32Array(control);
  Atomics.store(ctl, C_MAX_ITER, iterationBudget);
  const host = o.hostCpus ?? hostCpus();
  const spinMicros = spinMicrosFor(n, host);
  const oversubscribed = n > host;

  const workers: FreeCpuWorker[] = [];
  const results: (CpuResult | undefined)[] = new Array(n).fill(undefined);
  let rejected: unknown = undefined;
  let settled = 0;
  const t0 = now();
  let tRun = -1;
  let stopReason: FreeStopReason | null = null;
  let stopAt = 0;
  const terminated = new Set<number>();
  const terminateAll = (): void => {
    for (let i = 0; i < workers.length; i++) {
      if (terminated.has(i)) continue;
      terminated.add(i);
      try {
        workers[i]!.terminate();
      } catch {
        // already gone
      }
    }
  };

  try {
    for (let slot = 0; slot < n; slot++) workers.push(factory(slot));
  } catch (e) {
    terminateAll();
    throw e;
  }

  const done = new Promise<void>((resolve) => {
    workers.forEach((w, slot) => {
      const req: FreeCpuRequest = { scenario, rig, slot, cpus: n, memory, shadow, control, seed, spinMicros, oversubscribed, mode: o.mode ?? 'auto' };
      w.api.runCpu(req).then(
        (r) => {
          results[slot] = r;
          // A worker that ends early (an error before the first barrier) must not leave the others waiting.
          if (r.outcome) requestStop(ctl, STOP_NOW);
          if (++settled === n) resolve();
        },
        (e: unknown) => {
          if (rejected === undefined) rejected = e;
          requestStop(ctl, STOP_NOW);
          if (++settled === n) resolve();
        },
      );
    });
  });

  // The watchdog and the budget, on a timer.
  let lastProgress = -1;
  let lastChange = now();
  let lastReport = now();
  const progressMs = o.progressMs ?? 500;
  const tick = (): boolean => {
    const t = now();
    if (settled === n) return true;
    if (stopReason !== null) {
      if (t - stopAt > graceMs) return true;
      return false;
    }
    if (rejected !== undefined) {
      stopReason = 'failure';
      stopAt = t;
      return false;
    }
    if (Atomics.load(ctl, C_FAIL) !== 0 || Atomics.load(ctl, C_STOP) === STOP_NOW) {
      stopReason = 'failure';
      stopAt = t;
      requestStop(ctl, STOP_NOW);
      return false;
    }
    if (o.cancel && Atomics.load(o.cancel, 0) !== 0) {
      stopReason = 'cancelled';
      stopAt = t;
      requestStop(ctl, STOP_NOW);
      return false;
    }
    if (tRun < 0) {
      if (Atomics.load(ctl, C_READY) === n) {
        tRun = t;
        lastChange = t;
      } else if (t - t0 > startupMs) {
        rejected = new Error(`free-run: the CPU workers did not start within ${Math.round(startupMs / 1000)} s`);
        stopReason = 'failure';
        stopAt = t;
        requestStop(ctl, STOP_NOW);
      }
      return false;
    }
    if (t - tRun >= seconds * 1000) Atomics.store(ctl, C_TIME_UP, 1);
    let p = Atomics.load(ctl, C_ITER);
    for (let s = 0; s < n; s++) p = (p + Atomics.load(ctl, cpuWord(s, P_PROGRESS))) | 0;
    if (p !== lastProgress) {
      lastProgress = p;
      lastChange = t;
    } else if (t - lastChange > stallMs) {
      stopReason = 'hang';
      stopAt = t;
      requestStop(ctl, STOP_NOW);
      return false;
    }
    if (o.onProgress && t - lastReport >= progressMs) {
      lastReport = t;
      o.onProgress(snapshotProgress(ctl, n, t - tRun));
    }
    return false;
  };

  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      resolve();
    };
    const timer = setInterval(() => {
      if (tick()) finish();
    }, 20);
    void done.then(finish);
  });
  terminateAll();

  const elapsedMs = now() - (tRun >= 0 ? tRun : t0);
  if (rejected !== undefined && !results.some((r) => r?.outcome)) {
    throw rejected instanceof Error ? rejected : new Error(String(rejected));
  }
  const iterations = Atomics.load(ctl, C_ITER);
  const cpus: CpuCounters[] = results.map((r, slot) =>
    r?.counters ?? {
      cpu: slot, iterations: 0, operations: Atomics.load(ctl, cpuWord(slot, P_STEPS)), acquisitions: Atomics.load(ctl, cpuWord(slot, P_ACQUIRE)),
      spins: Atomics.load(ctl, cpuWord(slot, P_SPINS)), hostPauses: 0, dpcs: 0, interrupts: 0, contextSwitches: 0, mode: 'generators' as const,
    },
  );
  const totals = {
    operations: sum(cpus, 'operations'),
    acquisitions: sum(cpus, 'acquisitions'),
    spins: sum(cpus, 'spins'),
    operationsPerSecond: 0,
    acquisitionsPerSecond: 0,
  };
  totals.operationsPerSecond = Math.round((totals.operations * 1000) / Math.max(1, elapsedMs));
  totals.acquisitionsPerSecond = Math.round((totals.acquisitions * 1000) / Math.max(1, elapsedMs));

  let outcome: OutcomeKind = 'pass';
  let failure: Failure | undefined;
  const failed = results.find((r) => r?.outcome);
  const states = results.map((r) => r?.state);
  if (failed?.outcome && failed.failure) {
    outcome = failed.outcome;
    const others = states.filter((s): s is CpuState => s !== undefined).map((s) => s.snapshot);
    failure = { ...failed.failure, schedule: '', cpus: mergeSnapshots(failed.failure.cpus, others) };
    stopReason = 'failure';
  } else if (stopReason === 'hang') {
    const d = diagnoseHang(rig, states, n);
    outcome = d.kind;
    failure = { kind: d.kind, message: d.message, schedule: '', cpu: d.cpu, routine: d.routine, step: totals.operations, cpus: d.cpus };
  } else if (stopReason === null) {
    stopReason = iterationBudget > 0 && iterations >= iterationBudget ? 'iterations' : 'time';
  }
  return {
    scenario: scenarioId,
    rig: rig.id,
    strategy: 'free',
    seed,
    schedulesRun: iterations,
    steps: totals.operations,
    elapsedMs,
    outcome,
    ...(failure ? { failure } : {}),
    engine: 'free',
    iterations,
    stoppedBy: stopReason,
    cpus,
    totals,
    limits: [...FREE_RUN_LIMITS],
    warnings: familyWarnings(results),
    replayable: false,
    ...(o.controlledCommand ? { controlledCommand: o.controlledCommand } : {}),
  };
}

/**
 * Families that keep state shared between processors in JS objects (k.perRun):
 * each CPU worker has its own copy, so their locks and wait lists are not
 * shared, and a failure (or a pass) there may be an artifact of free-run.
 */
function familyWarnings(results: (CpuResult | undefined)[]): string[] {
  const families = new Set<string>();
  for (const r of results) for (const f of r?.families ?? []) families.add(f);
  if (families.size === 0) return [];
  return [
    `this scenario uses kernel families whose cross-processor state lives in JS objects on each CPU (${[...families].join(', ')}): ` +
      'free-run does not share it between CPU workers, so this result may be an artifact — confirm it with the controlled engine',
  ];
}

function sum(cpus: CpuCounters[], key: 'operations' | 'acquisitions' | 'spins'): number {
  let s = 0;
  for (const c of cpus) s += c[key];
  return s;
}

function snapshotProgress(ctl: Int32Array, n: number, elapsedMs: number): FreeProgress {
  let operations = 0;
  let acquisitions = 0;
  let spins = 0;
  for (let s = 0; s < n; s++) {
    operations += Atomics.load(ctl, cpuWord(s, P_STEPS)) >>> 0;
    acquisitions += Atomics.load(ctl, cpuWord(s, P_ACQUIRE)) >>> 0;
    spins += Atomics.load(ctl, cpuWord(s, P_SPINS)) >>> 0;
  }
  return { iterations: Atomics.load(ctl, C_ITER), operations, acquisitions, spins, elapsedMs };
}

function mergeSnapshots(own: CpuSnapshot[], others: CpuSnapshot[]): CpuSnapshot[] {
  const byCpu = new Map<number, CpuSnapshot>();
  for (const s of others) byCpu.set(s.cpu, s);
  for (const s of own) byCpu.set(s.cpu, s);
  return [...byCpu.values()].sort((a, b) => a.cpu - b.cpu);
}

/** No progress anywhere: who spins on what, and who holds it. Mirrors Machine.diagnoseStuck's hang/deadlock split. */
export function diagnoseHang(
  rig: Rig,
  states: (CpuState | undefined)[],
  n: number,
): { kind: 'hang' | 'deadlock'; message: string; cpu: number; routine: string; cpus: CpuSnapshot[] } {
  const silent: number[] = [];
  for (let s = 0; s < n; s++) if (!states[s]) silent.push(s);
  const known = states.filter((s): s is CpuState => s !== undefined);
  const cpus = known.map((s) => s.snapshot);
  if (silent.length > 0 && known.every((s) => s.idle)) {
    return {
      kind: 'hang',
      message:
        `hang: CPU ${silent.join(', ')} did not return to the scheduler — a routine loops without calling the kernel ` +
        '(call k.* with yield* inside every loop), so the box could neither interleave nor stop it',
      cpu: silent[0]!,
      routine: '',
      cpus,
    };
  }
  const holder = new Map<number, { cpu: number; context: string }>();
  for (const s of known) for (const h of s.held) holder.set(h.addr, { cpu: s.snapshot.cpu, context: h.context });
  let live = 0;
  for (const s of known) live += s.live;
  let selfOnly = live === 1;
  const lines: string[] = [];
  let first: { cpu: number; routine: string } | null = null;
  for (const s of known) {
    const snap = s.snapshot;
    const top = snap.stack[snap.stack.length - 1];
    if (s.spin) {
      const h = holder.get(s.spin.addr);
      if (h && h.cpu === snap.cpu) selfOnly = true;
      const by = h ? `, held by ${h.cpu === snap.cpu && h.context === s.spin.context ? 'itself' : `'${h.context}' on CPU ${h.cpu}`}` : '';
      lines.push(`CPU ${snap.cpu}: ${top?.kind ?? 'context'} '${s.spin.context}' at ${irqlName(s.spin.irql)} spins on ${s.spin.name}${by}`);
      first ??= { cpu: snap.cpu, routine: top ? [top.name, ...top.routineStack].join(' > ') : '' };
    } else if (top && !s.waits?.some((w) => w.thread === top.name && top.kind === 'thread')) {
      lines.push(`CPU ${snap.cpu}: ${top.kind} '${top.name}' at ${snap.irqlName} makes no progress`);
      first ??= { cpu: snap.cpu, routine: top.name };
    }
    for (const w of s.waits ?? []) {
      lines.push(`CPU ${snap.cpu}: thread '${w.thread}' waits for ${w.reason}`);
      first ??= { cpu: snap.cpu, routine: w.thread };
    }
  }
  for (const s of silent) lines.push(`CPU ${s}: did not respond (a routine that never yields)`);
  const anySpin = known.some((s) => s.spin);
  const kind: 'hang' | 'deadlock' = selfOnly || !anySpin ? 'hang' : 'deadlock';
  let message = kind === 'hang' ? `hang: ${lines.join('; ')}` : `deadlock: no processor can make progress — ${lines.join('; ')}`;
  const raised = known.find((s) => s.spin && s.snapshot.irql >= DISPATCH_LEVEL);
  if (raised && rig.build === 'free') {
    message += `. In the field: DPC_WATCHDOG_VIOLATION (0x133, parameter 1 = 1) — CPU ${raised.snapshot.cpu} never leaves ${raised.snapshot.irqlName}`;
  }
  return { kind, message, cpu: first?.cpu ?? 0, routine: first?.routine ?? '', cpus };
}
