/**
 * A trace step in words, with the values it read and wrote: "CPU 0 read 0
 * from s.counter", "CPU 1 exchanged Irp->CancelRoutine: 0x40000010 → 0".
 * The inspector, the timeline's tooltips and the source pane say it the same way.
 */
import type { TraceStep } from '../../engine/trace.ts';
import { irqlName } from '../../machine/irql.ts';

/** Small values in decimal, pointer-like ones in hex. */
export function formatValue(v: number): string {
  return v >= -4096 && v <= 4096 ? String(v) : `0x${(v >>> 0).toString(16)}`;
}

/** The operation and its values, without the CPU: "read 0 from s.counter". */
export function describeOp(s: TraceStep): string {
  if (s.what === 'event') return `${s.context} arrives`;
  if (s.what === 'quantum') return `quantum end${s.context ? ` (${s.context})` : ''}`;
  const at = s.address ?? 'memory';
  if (s.what === 'flush') {
    const v = s.wrote !== undefined ? ` = ${formatValue(s.wrote)}` : '';
    return `store of ${at}${v}${s.storedAt !== undefined ? ` (step ${s.storedAt + 1})` : ''} becomes visible`;
  }
  if (s.fault) return `${s.op} ${at} — faults`;
  switch (s.op) {
    case 'read':
      if (s.read === undefined) return `read ${at}`;
      return s.stale ? `read ${formatValue(s.read)} from ${at} (stale: newest is ${formatValue(s.stale.newest)})` : `read ${formatValue(s.read)} from ${at}`;
    case 'write':
      if (s.wrote === undefined) return `write ${at}`;
      return s.buffered ? `wrote ${formatValue(s.wrote)} to ${at} (into its store buffer)` : `wrote ${formatValue(s.wrote)} to ${at}`;
    case 'rmw':
      if (s.read === undefined) return `interlocked ${at}`;
      return s.wrote === undefined || s.wrote === s.read
        ? `interlocked ${at}: read ${formatValue(s.read)}, left it ${formatValue(s.read)}`
        : `interlocked ${at}: old ${formatValue(s.read)} → new ${formatValue(s.wrote)}`;
    case 'spin':
      return `spins on ${at}${s.read !== undefined ? ` (reads ${formatValue(s.read)})` : ''}`;
    case 'irql':
      return `changes IRQL${s.address ? ` (${s.address})` : ''}`;
    case 'start':
      return 'starts';
    default:
      return `${s.op}${s.address ? ` ${s.address}` : ''}`;
  }
}

/** The whole step in one line: "CPU 0 (first, in ReadNoFence) read 0 from s.counter". */
export function describeStep(s: TraceStep): string {
  if (s.what !== 'step') return `CPU ${s.cpu}: ${describeOp(s)}`;
  const where = s.routine && s.routine !== s.context ? `${s.context}, in ${s.routine}` : s.context;
  return `CPU ${s.cpu} (${where}, ${irqlName(s.irql)}) ${describeOp(s)}`;
}

/** The memory steps up to `upTo` (a trace index) that touched `word`, with their values. */
export function accessesOf(steps: readonly TraceStep[], word: number, upTo: number): TraceStep[] {
  const out: TraceStep[] = [];
  for (let i = 0; i <= upTo && i < steps.length; i++) {
    const s = steps[i]!;
    if (s.word === word && (s.op === 'read' || s.op === 'write' || s.op === 'rmw')) out.push(s);
  }
  return out;
}

/** "CPU 0 read 0 … CPU 1 read 0 … CPU 0 wrote 1 … CPU 1 wrote 1": how a word's value came about. */
export function accessStory(accesses: readonly TraceStep[]): string {
  return accesses
    .map((s) => {
      if (s.fault) return `CPU ${s.cpu} faulted`;
      if (s.op === 'read') return `CPU ${s.cpu} read ${formatValue(s.read ?? 0)}`;
      if (s.op === 'write') return `CPU ${s.cpu} wrote ${formatValue(s.wrote ?? 0)}`;
      return `CPU ${s.cpu} exchanged ${formatValue(s.read ?? 0)} → ${formatValue(s.wrote ?? s.read ?? 0)}`;
    })
    .join(' … ');
}

/** The word the explanation at step `at` is about: that step's, else the latest one read or written before it. */
export function wordInFocus(steps: readonly TraceStep[], at: number): number | undefined {
  for (let i = Math.min(at, steps.length - 1); i >= 0; i--) {
    const s = steps[i]!;
    if (s.word !== undefined && (s.op === 'read' || s.op === 'write' || s.op === 'rmw')) return s.word;
  }
  return undefined;
}
