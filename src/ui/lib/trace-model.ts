/**
 * Turns a replayed trace (TraceStep[], one entry per engine choice) into what
 * the timeline draws: per logical CPU the context it runs and its IRQL over
 * time, lock holds, DPC/interrupt activity and IRP events. The x axis is the
 * index in the trace, so quantum ends and arrivals get their own slot.
 */
import type { TraceStep } from '../../engine/trace.ts';

export interface Slice {
  cpu: number;
  from: number;
  /** Exclusive. */
  to: number;
  context: string;
  kind: string;
  routine: string;
}

export interface IrqlBand {
  cpu: number;
  from: number;
  to: number;
  irql: number;
}

export interface LockHold {
  cpu: number;
  lock: string;
  context: string;
  from: number;
  /** Exclusive; the trace length when still held at the end. */
  to: number;
  open: boolean;
}

export interface Marker {
  cpu: number;
  at: number;
  kind: 'arrival' | 'quantum' | 'irp' | 'failure' | 'flush';
  label: string;
}

export interface TimelineModel {
  steps: TraceStep[];
  cpus: number;
  slices: Slice[];
  irql: IrqlBand[];
  locks: LockHold[];
  markers: Marker[];
  /**
   * Per CPU, one byte per trace index, for drawing thousands of steps per
   * pixel: the kind of context running (0 none, 1 thread, 2 DPC, 3 ISR), the
   * IRQL, and how many locks the CPU holds.
   */
  dense: { kind: Uint8Array; irql: Uint8Array; locks: Uint8Array }[];
  /** For each trace index: the index of the latest entry of each CPU at or before it (-1 when none). */
  lastOf(cpu: number, at: number): number;
  /** Locks held by each CPU at index `at` (after the step ran). */
  locksAt(at: number): LockHold[];
}

const ACQUIRE = /Acquire|TryToAcquire|Lock$/;
const RELEASE = /Release|Unlock/;
const IRP = /^Io|Irp/;

/** CPUs a failure's snapshot shows running nothing at the end (no thread, no DPC or interrupt). */
export function idleCpusAtEnd(cpus: readonly { cpu: number; thread: string | null; stack: readonly unknown[] }[] | undefined): Set<number> {
  return new Set((cpus ?? []).filter((c) => c.thread === null && c.stack.length === 0).map((c) => c.cpu));
}

/**
 * `idleAtEnd`: CPUs the failure's snapshot shows with nothing running (their thread returned). Their last
 * slice ends at their last step; stretched to the end, it drew a finished thread still inside its routine
 * while the blue screen said the CPU was idle.
 */
export function buildTimeline(steps: TraceStep[], cpuCount: number, failed: boolean, idleAtEnd: ReadonlySet<number> = new Set()): TimelineModel {
  const n = steps.length;
  const cpus = Math.max(cpuCount, ...steps.map((s) => s.cpu + 1), 1);
  const slices: Slice[] = [];
  const irql: IrqlBand[] = [];
  const locks: LockHold[] = [];
  const markers: Marker[] = [];
  const perCpu: number[][] = Array.from({ length: cpus }, () => []);
  const openSlice: (Slice | undefined)[] = new Array(cpus);
  const openBand: (IrqlBand | undefined)[] = new Array(cpus);
  // A context's latest RMW in an acquire routine: it became a hold when the context left the routine.
  const pending = new Map<string, { lock: string; at: number; cpu: number; routine: string }>();
  const held = new Map<string, LockHold>();
  // Traces that record held locks (TraceRecorder's `held`) give exact holds: a hold opens at the step
  // after which its context holds the lock and closes after the step that let it go.
  const exact = steps.some((s) => s.held !== undefined);
  const holding = new Map<string, Map<string, LockHold>>();
  const noteHeld = (s: TraceStep, i: number): void => {
    const key = `${s.cpu}:${s.context}`;
    let mine = holding.get(key);
    if (!mine) holding.set(key, (mine = new Map()));
    const now = new Set(s.held);
    for (const [lock, h] of mine) {
      if (now.has(lock)) continue;
      h.to = i + 1;
      h.open = false;
      mine.delete(lock);
    }
    for (const lock of now) {
      if (mine.has(lock)) continue;
      const h: LockHold = { cpu: s.cpu, lock, context: s.context, from: i, to: n, open: true };
      locks.push(h);
      mine.set(lock, h);
    }
  };

  // Older traces without `held`: lock holds inferred from acquire/release routines and the address they touch.
  const inferHolds = (s: TraceStep, i: number): void => {
    const key = `${s.cpu}:${s.context}`;
    const p = pending.get(key);
    if (p && s.routine !== p.routine) {
      const h: LockHold = { cpu: p.cpu, lock: p.lock, context: s.context, from: p.at, to: n, open: true };
      locks.push(h);
      held.set(`${p.lock}`, h);
      pending.delete(key);
    }
    if (s.address && s.op === 'rmw' && ACQUIRE.test(s.routine) && !RELEASE.test(s.routine)) {
      pending.set(key, { lock: s.address, at: i, cpu: s.cpu, routine: s.routine });
    } else if (s.address && (s.op === 'write' || s.op === 'rmw') && RELEASE.test(s.routine)) {
      const h = held.get(s.address);
      if (h && h.open) {
        h.to = i + 1;
        h.open = false;
        held.delete(s.address);
      }
    }
  };

  for (let i = 0; i < n; i++) {
    const s = steps[i]!;
    perCpu[s.cpu]!.push(i);
    if (s.what === 'event') {
      markers.push({ cpu: s.cpu, at: i, kind: 'arrival', label: `${s.context} ${s.op === 'expires' ? 'expires' : 'arrives'}` });
      continue;
    }
    if (s.what === 'quantum') {
      markers.push({ cpu: s.cpu, at: i, kind: 'quantum', label: `quantum end${s.context ? ` (${s.context})` : ''}` });
      continue;
    }
    // A buffered store becoming visible is the memory's doing, not the running context's: no slice.
    if (s.what === 'flush') {
      markers.push({ cpu: s.cpu, at: i, kind: 'flush', label: `store of ${s.address ?? 'memory'} becomes visible` });
      continue;
    }
    const sl = openSlice[s.cpu];
    if (sl && sl.context === s.context && sl.routine === s.routine) sl.to = i + 1;
    else {
      if (sl) sl.to = i;
      const next: Slice = { cpu: s.cpu, from: i, to: i + 1, context: s.context, kind: s.kind, routine: s.routine };
      slices.push(next);
      openSlice[s.cpu] = next;
    }
    const b = openBand[s.cpu];
    if (b && b.irql === s.irql) b.to = i + 1;
    else {
      if (b) b.to = i;
      const nb: IrqlBand = { cpu: s.cpu, from: i, to: i + 1, irql: s.irql };
      irql.push(nb);
      openBand[s.cpu] = nb;
    }
    if (exact) {
      if (s.held) noteHeld(s, i);
    } else inferHolds(s, i);
    if (IRP.test(s.routine) && s.routine !== s.context) {
      const prev = i > 0 ? steps[i - 1] : undefined;
      if (!prev || prev.routine !== s.routine || prev.cpu !== s.cpu) markers.push({ cpu: s.cpu, at: i, kind: 'irp', label: s.routine });
    }
  }
  // An acquire still in progress when the trace ends (a spinner, or the failing call) is not a hold.
  // Slices and bands last until the CPU's next entry; stretch the final ones to the end.
  for (const sl of openSlice) if (sl && !idleAtEnd.has(sl.cpu)) sl.to = Math.max(sl.to, n);
  for (const b of openBand) if (b) b.to = Math.max(b.to, n);
  for (const list of [slices, irql]) {
    const byCpu = new Map<number, { from: number; to: number }[]>();
    for (const x of list) (byCpu.get(x.cpu) ?? byCpu.set(x.cpu, []).get(x.cpu)!).push(x);
    for (const xs of byCpu.values()) for (let j = 0; j + 1 < xs.length; j++) xs[j]!.to = xs[j + 1]!.from;
  }
  if (failed && n > 0) markers.push({ cpu: steps[n - 1]!.cpu, at: n - 1, kind: 'failure', label: 'failure' });

  const lastOf = (cpu: number, at: number): number => {
    const xs = perCpu[cpu];
    if (!xs || xs.length === 0 || xs[0]! > at) return -1;
    let lo = 0;
    let hi = xs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (xs[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return xs[lo]!;
  };
  const locksAt = (at: number): LockHold[] => locks.filter((h) => h.from <= at && at < h.to);
  const dense = Array.from({ length: cpus }, () => ({ kind: new Uint8Array(n), irql: new Uint8Array(n), locks: new Uint8Array(n) }));
  for (const s of slices) dense[s.cpu]!.kind.fill(s.kind === 'dpc' ? 2 : s.kind === 'isr' ? 3 : 1, s.from, s.to);
  for (const b of irql) dense[b.cpu]!.irql.fill(Math.min(255, b.irql), b.from, b.to);
  for (const h of locks) {
    const a = dense[h.cpu]!.locks;
    for (let i = h.from; i < h.to; i++) if (a[i]! < 255) a[i]!++;
  }
  return { steps, cpus, slices, irql, locks, markers, dense, lastOf, locksAt };
}
