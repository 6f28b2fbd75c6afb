/**
 * What the I/O manager model keeps about IRPs where every processor sees it:
 * the completion record of each completed IRP (so that a second completion on
 * any processor finds the first), and the cancel routines set in this run (so
 * that Irp->CancelRoutine names a routine any processor can call). Plumbing
 * only; the NT rules that use it are in irp.ts.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import type { Kernel } from './kernel.ts';
import { IRP_RECORD_NAME_UNITS, MAX_CANCEL_ROUTINES, MAX_SHARED_IRPS } from './shared-regions.ts';

// ---- completion records: [IRP, completed, length of the completer's name, the name (two UTF-16 units a word)]

/** The IRP's completion record (created at the first completion); -1 when none. Dispatcher lock held to create. */
function completionRecord(k: Kernel, irp: number, create: boolean): number {
  const t = k.shared.irpCompletions;
  const w = create ? k.m.kernelShared.use() : k.m.kernelShared.words;
  const end = t.end(w);
  for (let r = t.base; r < end; r += t.entryWords) if (w[r] === irp) return r;
  if (!create) return -1;
  const r = t.append(w);
  if (r < 0) throw new ScenarioError(`${k.m.nameOf(irp)}: more than ${MAX_SHARED_IRPS} IRPs completed in one run`);
  w[r] = irp;
  return r;
}

/** Records that `by` completed `irp`. Dispatcher lock held. */
export function recordCompletion(k: Kernel, irp: number, by: string): void {
  const r = completionRecord(k, irp, true);
  const w = k.m.kernelShared.words;
  w[r + 1] = 1;
  w[r + 2] = by.length;
  for (let i = 0; i < Math.min(by.length, IRP_RECORD_NAME_UNITS); i++) w[r + 3 + (i >> 1)]! |= by.charCodeAt(i) << ((i & 1) * 16);
}

/** Whether any processor completed `irp`. */
export function completionRecorded(k: Kernel, irp: number): boolean {
  const r = completionRecord(k, irp, false);
  return r >= 0 && k.m.kernelShared.words[r + 1] === 1;
}

/** Who completed `irp`, as recorded by whichever processor did ('' when none). */
export function recordedCompleter(k: Kernel, irp: number): string {
  const r = completionRecord(k, irp, false);
  if (r < 0) return '';
  const w = k.m.kernelShared.words;
  const n = w[r + 2]!;
  let name = '';
  for (let i = 0; i < Math.min(n, IRP_RECORD_NAME_UNITS); i++) name += String.fromCharCode((w[r + 3 + (i >> 1)]! >>> ((i & 1) * 16)) & 0xffff);
  return n > IRP_RECORD_NAME_UNITS ? `${name}…` : name;
}

// ---- cancel routines: [hash of the routine's name, 0 for an unnamed one]

/** A cancel routine as the kernel calls it (irp.ts's DRIVER_CANCEL). */
type CancelRoutine = (...args: never[]) => unknown;

/** Irp->CancelRoutine of the n-th routine set in a run (n from 1): a pseudo-address. */
const ROUTINE_BASE = 0x40000000;

/**
 * The cancel routines this processor knows, and the values that stand for them in
 * Irp->CancelRoutine. Each processor has its own function objects (free-run: every CPU worker
 * runs setup); a routine another processor set is found here by its name.
 */
export class CancelRoutines<R extends CancelRoutine> {
  readonly ids = new Map<R, number>();
  readonly byId = new Map<number, R>();
  /** Routines known by (the hash of) their name: the setup state's and the library's. */
  readonly byName = new Map<number, R>();
}

/** 32-bit FNV-1a of a name; 0 stands for no name. */
function nameHash(name: string): number {
  if (name === '') return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

/** Makes `routine` known by name before any processor sets it (from setup or a library's initializer). */
export function knowRoutine<R extends CancelRoutine>(known: CancelRoutines<R>, routine: R): void {
  const h = nameHash(routine.name);
  if (h !== 0) known.byName.set(h, routine);
}

/**
 * The value that stands for `routine` in Irp->CancelRoutine. A routine gets the next entry of the
 * run's table when first set, unless another processor already set its namesake (then it shares
 * that entry): with one processor, routines are numbered in the order they are first set.
 */
export function routineValue<R extends CancelRoutine>(k: Kernel, known: CancelRoutines<R>, routine: R): number {
  const id = known.ids.get(routine);
  if (id !== undefined) return id;
  const h = nameHash(routine.name);
  const m = k.m;
  const t = k.shared.cancelRoutines;
  m.lockDispatcher();
  try {
    const w = m.kernelShared.use();
    const end = t.end(w);
    let e = -1;
    if (h !== 0) {
      for (let x = t.base; x < end; x++) {
        if (w[x] === h && !known.byId.has(ROUTINE_BASE + 16 * (x - t.base + 1))) {
          e = x;
          break;
        }
      }
    }
    if (e >= 0) {
      // Another processor's copy: the same name must mean the same routine.
      const mine = known.byName.get(h);
      if (mine !== undefined && mine !== routine && mine.toString() !== routine.toString()) {
        throw new ScenarioError(`IoSetCancelRoutine: two different cancel routines are named '${routine.name}'; processors tell them apart by name only`);
      }
    } else {
      e = t.append(w);
      if (e < 0) throw new ScenarioError(`IoSetCancelRoutine: more than ${MAX_CANCEL_ROUTINES} different cancel routines set in one run`);
      w[e] = h;
    }
    const value = ROUTINE_BASE + 16 * (e - t.base + 1);
    known.ids.set(routine, value);
    known.byId.set(value, routine);
    if (h !== 0 && !known.byName.has(h)) known.byName.set(h, routine);
    return value;
  } finally {
    m.unlockDispatcher();
  }
}

/**
 * The routine `value` stands for; `null` for 0. A ScenarioError when it stands for none (a corrupt
 * or freed IRP), or for one another processor set that this one cannot find by name.
 */
export function routineFor<R extends CancelRoutine>(k: Kernel, known: CancelRoutines<R>, value: number): R | null {
  if (value === 0) return null;
  const r = known.byId.get(value);
  if (r !== undefined) return r;
  const t = k.shared.cancelRoutines;
  const w = k.m.kernelShared.words;
  const index = (value - ROUTINE_BASE) / 16 - 1;
  if (Number.isInteger(index) && index >= 0 && t.base + index < t.end(w)) {
    const h = w[t.base + index]!;
    const named = h === 0 ? undefined : known.byName.get(h);
    if (named !== undefined) {
      known.byId.set(value, named);
      if (!known.ids.has(named)) known.ids.set(named, value);
      return named;
    }
    throw new ScenarioError(
      `Irp->CancelRoutine holds a cancel routine another CPU set, which this CPU has never seen ` +
        `(${h === 0 ? 'an unnamed routine' : 'a routine made inside another CPU\'s actor'}); make it in setup, give it a name and keep it in the state — ` +
        '`cancelRoutine: (k, irp) => MyCancel(k, s, irp)` — so that every processor has it under the same name, or explore this scenario with the controlled engine',
    );
  }
  throw new ScenarioError(`Irp->CancelRoutine holds 0x${(value >>> 0).toString(16)}, which is not a cancel routine (corrupt or freed IRP)`);
}
