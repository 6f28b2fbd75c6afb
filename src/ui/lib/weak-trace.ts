/**
 * Weak memory in a trace, for the timeline and the inspector: which stores waited in a store buffer
 * (from the step that wrote them to the step they became visible) and which reads saw an older value,
 * said in words: "CPU 1 read s.ready = 1 but s.data = 0: CPU 0's write of s.data (step 13) was not
 * yet visible". Step numbers are shown 1-based, as everywhere in the app.
 */
import type { TraceStep } from '../../engine/trace.ts';
import { formatValue } from './step-text.ts';

/** A store that sat in its CPU's store buffer: trace indices of the store and of the step it became visible. */
export interface BufferedStore {
  cpu: number;
  /** Trace index of the store. */
  from: number;
  /**
   * Trace index of the step it became visible at (its flush, or the barrier or interlocked access
   * that drained the buffer); the trace length when that is past the last entry or never happened.
   */
  to: number;
  visible: boolean;
  /** The step it became visible at, when it did. */
  visibleStep: number | undefined;
  address: string;
  value: number | undefined;
}

/** A read that saw an older value than memory's newest, with the store it did not see. */
export interface StaleRead {
  /** Trace index of the read. */
  at: number;
  cpu: number;
  /** Trace index of the store whose value it did not see, when that store is in the trace. */
  store: number | undefined;
}

export interface WeakTrace {
  stores: BufferedStore[];
  stale: StaleRead[];
  /** The buffered store each flush step made visible (flush index → store), and each store's span by its index. */
  byFlush: Map<number, BufferedStore>;
  byStore: Map<number, BufferedStore>;
}

const isWrite = (s: TraceStep): boolean => s.what === 'step' && s.op === 'write';

/** The store that wrote at `step` on `cpu` (a trace index at or before `before`), or undefined. */
function storeAt(steps: readonly TraceStep[], step: number, cpu: number, before: number): number | undefined {
  for (let i = Math.min(before, steps.length - 1); i >= 0; i--) {
    const s = steps[i]!;
    if (s.step < step) break;
    if (s.step === step && s.cpu === cpu && isWrite(s)) return i;
  }
  return undefined;
}

/**
 * Pairs every buffered store with the flush that made it visible. A flush names its store by step
 * (storedAt); when that step is not found, the CPU's oldest open buffered store to the same word is
 * taken (a store buffer drains each word in program order).
 */
export function weakTrace(steps: readonly TraceStep[]): WeakTrace {
  const stores: BufferedStore[] = [];
  const stale: StaleRead[] = [];
  const byFlush = new Map<number, BufferedStore>();
  const byStore = new Map<number, BufferedStore>();
  const open: BufferedStore[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    if (s.buffered && isWrite(s)) {
      const b: BufferedStore = { cpu: s.cpu, from: i, to: steps.length, visible: false, visibleStep: undefined, address: s.address ?? 'memory', value: s.wrote };
      stores.push(b);
      byStore.set(i, b);
      open.push(b);
    } else if (s.what === 'flush') {
      let k = -1;
      if (s.storedAt !== undefined) {
        const at = storeAt(steps, s.storedAt, s.cpu, i);
        k = at === undefined ? -1 : open.findIndex((b) => b.from === at);
      }
      if (k < 0) k = open.findIndex((b) => b.cpu === s.cpu && (s.word === undefined || steps[b.from]!.word === s.word));
      if (k < 0) continue;
      const b = open[k]!;
      open.splice(k, 1);
      b.to = i;
      b.visible = true;
      b.visibleStep = s.step;
      byFlush.set(i, b);
    } else if (s.stale) {
      stale.push({ at: i, cpu: s.cpu, store: storeAt(steps, s.stale.newestStep, s.stale.newestCpu, i) });
    }
  }
  // Stores no flush made visible: a barrier, an interlocked access or the end of the run drained them (visibleAt).
  for (const b of open) {
    const at = steps[b.from]!.visibleAt;
    if (at === undefined) continue;
    b.visible = true;
    b.visibleStep = at;
    let j = b.from + 1;
    while (j < steps.length && steps[j]!.step < at) j++;
    b.to = j;
  }
  return { stores, stale, byFlush, byStore };
}

/** Whether a trace shows any weak-memory behaviour (the timeline adds its legend entries only then). */
export function hasWeakSteps(steps: readonly TraceStep[]): boolean {
  return steps.some((s) => s.buffered === true || s.what === 'flush' || s.stale !== undefined);
}

/** The step number users see (1-based) of a trace entry's step. */
const shown = (step: number): number => step + 1;

/**
 * An earlier read by the same CPU, of another word, that saw a store its writer made after the one
 * the stale read missed: the flag the reader went on ("s.ready = 1"), which makes the stale read a
 * contradiction. A value the writer stored before the missed store explains nothing and is not named.
 */
function flagRead(steps: readonly TraceStep[], at: number, missed: number | undefined): TraceStep | undefined {
  const r = steps[at]!;
  const writer = r.stale!.newestCpu;
  for (let i = at - 1; i >= 0; i--) {
    const s = steps[i]!;
    if (s.cpu !== r.cpu || s.what !== 'step' || s.context !== r.context) continue;
    if ((s.op !== 'read' && s.op !== 'spin') || s.read === undefined || s.word === r.word || s.stale) continue;
    for (let j = i - 1; j >= 0 && (missed === undefined || j > missed); j--) {
      const w = steps[j]!;
      if (w.cpu === writer && w.word === s.word && (isWrite(w) || (w.what === 'step' && w.op === 'rmw')) && w.wrote === s.read) return s;
    }
  }
  return undefined;
}

/**
 * A stale read in words: "CPU 1 read s.ready = 1 but s.data = 0: CPU 0's write of s.data (step 13)
 * was not yet visible" when the CPU had read a flag that CPU 0 set, else "CPU 1 read s.data = 0:
 * CPU 0's write of 1 to s.data (step 13) was not yet visible to it".
 */
export function describeStaleRead(steps: readonly TraceStep[], at: number): string | undefined {
  const r = steps[at];
  if (!r?.stale) return undefined;
  const addr = r.address ?? 'memory';
  const seen = formatValue(r.read ?? 0);
  const { newest, newestStep, newestCpu } = r.stale;
  const flag = flagRead(steps, at, storeAt(steps, newestStep, newestCpu, at));
  if (flag) {
    return `CPU ${r.cpu} read ${flag.address ?? 'memory'} = ${formatValue(flag.read!)} but ${addr} = ${seen}: CPU ${newestCpu}'s write of ${addr} (step ${shown(newestStep)}) was not yet visible`;
  }
  return `CPU ${r.cpu} read ${addr} = ${seen}: CPU ${newestCpu}'s write of ${formatValue(newest)} to ${addr} (step ${shown(newestStep)}) was not yet visible to it`;
}

/** A buffered store in words, from its store step to the step it became visible. */
export function describeBufferedStore(steps: readonly TraceStep[], b: BufferedStore): string {
  const v = b.value === undefined ? '' : ` = ${formatValue(b.value)}`;
  const from = shown(steps[b.from]!.step);
  return b.visibleStep !== undefined
    ? `CPU ${b.cpu}'s store of ${b.address}${v} (step ${from}) waited in its store buffer: the other CPUs could see it only from step ${shown(b.visibleStep)}`
    : `CPU ${b.cpu}'s store of ${b.address}${v} (step ${from}) was still in its store buffer when the trace ended: no other CPU could see it`;
}

/**
 * What the weak-memory model did at trace index `at`, in words, or undefined when nothing weak
 * happened there: a stale read, a store going into the buffer, or a buffered store becoming visible.
 */
export function weakNote(steps: readonly TraceStep[], weak: WeakTrace, at: number): string | undefined {
  const s = steps[at];
  if (!s) return undefined;
  if (s.stale) return describeStaleRead(steps, at);
  const flushed = weak.byFlush.get(at);
  if (flushed) {
    const v = flushed.value === undefined ? '' : ` = ${formatValue(flushed.value)}`;
    return `CPU ${flushed.cpu}'s store of ${flushed.address}${v} (step ${shown(steps[flushed.from]!.step)}) becomes visible to the other CPUs`;
  }
  const stored = weak.byStore.get(at);
  return stored ? describeBufferedStore(steps, stored) : undefined;
}
