/**
 * IRPs, completion and cancellation (nt-semantics sections 11 and 15).
 *
 * An IRP lives in machine memory (one cache line, layout below), so a freed
 * IRP is caught like any other freed pool block. Next to the memory the I/O
 * manager model keeps a lifecycle per IRP (allocated → pending → completed →
 * freed) that rejects a second completion (MULTIPLE_IRP_COMPLETE_REQUESTS) —
 * the completion record is in the kernel's shared words, so a completion on
 * another free-run CPU worker counts too — and, at the end of a run, reports
 * every IRP that was marked pending but never completed: the thread that
 * issued it could never exit.
 *
 * IoCancelIrp is interleavable at exactly the steps section 15 lists:
 *   C1 take the cancel spin lock, C2 Cancel = TRUE, C3 exchange CancelRoutine
 *   with NULL, C4 call the routine with the cancel lock held and
 *   Irp->CancelIrql set.
 * Cancel routines are generator functions `(k, irp)`; they are entered at
 * DISPATCH_LEVEL holding the cancel spin lock and must release it first with
 * IoReleaseCancelSpinLock(Irp->CancelIrql). Nothing rescues a routine that
 * does not: the lock stays held and the next cancel spins forever, as on
 * Windows.
 */
import { BugCheck, ScenarioError } from '../machine/bugcheck.ts';
import { DISPATCH_LEVEL, type KIRQL } from '../machine/irql.ts';
import type { StuckReport } from '../machine/machine.ts';
import { OP_KERNEL, OP_READ, OP_RMW, OP_WRITE, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { IRP_RECORD_NAME_UNITS, IRP_RECORD_WORDS, KS_IRPS, KS_IRPS_USED, MAX_SHARED_IRPS } from './shared-words.ts';
import { STATUS_PENDING } from './status.ts';

/** IRP layout (words). */
export const IRP_TYPE = 0;
export const IRP_STACK_COUNT = 1;
export const IRP_CURRENT_LOCATION = 2;
/** Irp->Cancel (BOOLEAN): set by IoCancelIrp, never cleared. */
export const IRP_CANCEL = 3;
export const IRP_CANCEL_IRQL = 4;
/** Irp->CancelRoutine: 0, or the pseudo-address of a registered cancel routine. */
export const IRP_CANCEL_ROUTINE = 5;
export const IRP_STATUS = 6;
export const IRP_INFORMATION = 7;
/** SL_PENDING_RETURNED of the current stack location (IoMarkIrpPending). */
export const IRP_PENDING_RETURNED = 8;
/** Irp->Tail.Overlay.DriverContext[0..3]; the CSQ library owns [3]. */
export const IRP_DRIVER_CONTEXT = 9;
/** Irp->Tail.Overlay.ListEntry (Flink, Blink): the driver's to use while it owns the IRP. */
export const IRP_LIST_ENTRY = 13;
export const IRP_WORDS = 16;

export const IO_TYPE_IRP = 6;
export const IO_NO_INCREMENT = 0;

export type PIRP = number;
/** PDRIVER_CANCEL: called by IoCancelIrp at DISPATCH_LEVEL with the cancel spin lock held. */
export type DRIVER_CANCEL = (k: Kernel, irp: PIRP) => Routine<unknown>;

/** Lifecycle of one IRP as the I/O manager model sees it. */
export interface IrpLife {
  irp: PIRP;
  pending: boolean;
  completed: boolean;
  completedBy: string;
  freed: boolean;
}

const ROUTINE_BASE = 0x40000000;

export class IrpState {
  /** IRPs this processor knows (setup's on every free-run CPU worker); completion is in Machine.kernelShared. */
  readonly irps = new Map<number, IrpLife>();
  readonly routineIds = new Map<DRIVER_CANCEL, number>();
  readonly routines = new Map<number, DRIVER_CANCEL>();
  /** The system-wide cancel spin lock (LockQueueIoCancelLock). */
  cancelLock = 0;
}

/** The IRP family's per-run state; creating it registers the "pending IRPs completed" end-of-run check. */
export function irpState(k: Kernel): IrpState {
  return k.perRun('irp', () => {
    const st = new IrpState();
    // Allocated with the family's state, normally during setup (the first IoAllocateIrp), so that every
    // processor — also each worker of the free-run engine — agrees on its address.
    st.cancelLock = k.m.memory.alloc(1, 'IoCancelSpinLock');
    k.m.names.set(st.cancelLock, 'IoCancelSpinLock');
    k.m.endOfRunChecks.push(() => pendingNeverCompleted(k, st));
    return st;
  });
}

function pendingNeverCompleted(k: Kernel, st: IrpState): StuckReport | null {
  const lost: string[] = [];
  for (const life of st.irps.values()) {
    // Judged from the IRP itself (SL_PENDING_RETURNED, CurrentLocation), not from this processor's bookkeeping.
    const irp = life.irp;
    if (k.m.shadow[irp] !== 1) continue;
    if (k.peek(irp + IRP_PENDING_RETURNED) === 0 || k.peek(irp + IRP_CURRENT_LOCATION) > k.peek(irp + IRP_STACK_COUNT) + 1) continue;
    const cancelled = k.peek(irp + IRP_CANCEL) !== 0;
    const routine = k.peek(irp + IRP_CANCEL_ROUTINE);
    let why = `${k.m.nameOf(irp)} was marked pending and never completed`;
    if (cancelled && routine !== 0) why += ' — it was cancelled, but its cancel routine was set only after IoCancelIrp had looked, so the cancel request was lost';
    else if (cancelled) why += ' — it was cancelled, but nobody completed it';
    lost.push(why);
  }
  if (lost.length === 0) return null;
  return {
    kind: 'hang',
    message:
      `hang: ${lost.join('; ')}. The thread that issued it can never exit (IoCancelThreadIo waits for it forever; ` +
      'Driver Verifier reports 0xC4/0x135 in the field)',
    waits: [],
  };
}

function life(k: Kernel, irp: PIRP): IrpLife {
  const st = irpState(k);
  let l = st.irps.get(irp);
  if (!l) {
    const m = k.m;
    // Free-run: an IRP another CPU allocated while the actors ran is known by its Type word.
    if (m.sharedAcrossWorkers && irp > 0 && irp < m.memory.size && m.shadow[irp] !== 0 && m.words[irp + IRP_TYPE] === IO_TYPE_IRP) {
      l = { irp, pending: false, completed: false, completedBy: '', freed: false };
      st.irps.set(irp, l);
      return l;
    }
    throw new ScenarioError(`${m.nameOf(irp)} is not an IRP (allocate it with k.IoAllocateIrp)`);
  }
  return l;
}

/** The IRP's completion record in the kernel's shared words (created at the first completion). */
function completionRecord(k: Kernel, irp: PIRP, create: boolean): number {
  const w = create ? k.sharedWords() : k.m.kernelShared;
  const used = w[KS_IRPS_USED]!;
  for (let i = 0; i < used; i++) {
    const r = KS_IRPS + i * IRP_RECORD_WORDS;
    if (w[r] === irp) return r;
  }
  if (!create) return -1;
  if (used >= MAX_SHARED_IRPS) throw new ScenarioError(`${k.m.nameOf(irp)}: more than ${MAX_SHARED_IRPS} IRPs completed in one run`);
  w[KS_IRPS_USED] = used + 1;
  const r = KS_IRPS + used * IRP_RECORD_WORDS;
  w.fill(0, r, r + IRP_RECORD_WORDS);
  w[r] = irp;
  return r;
}

/** Who completed the IRP: this processor's note, else (free-run) the one in the shared record. */
function completedBy(k: Kernel, irp: PIRP, l: IrpLife): string {
  if (l.completedBy !== '') return l.completedBy;
  const r = completionRecord(k, irp, false);
  if (r < 0) return '';
  const w = k.m.kernelShared;
  const n = w[r + 2]!;
  let name = '';
  for (let i = 0; i < Math.min(n, IRP_RECORD_NAME_UNITS); i++) name += String.fromCharCode((w[r + 3 + (i >> 1)]! >>> ((i & 1) * 16)) & 0xffff);
  return n > IRP_RECORD_NAME_UNITS ? `${name}…` : name;
}

function recordCompletion(k: Kernel, irp: PIRP, l: IrpLife, by: string): void {
  const w = k.sharedWords();
  const r = completionRecord(k, irp, true);
  w[r + 1] = 1;
  w[r + 2] = by.length;
  for (let i = 0; i < Math.min(by.length, IRP_RECORD_NAME_UNITS); i++) w[r + 3 + (i >> 1)]! |= by.charCodeAt(i) << ((i & 1) * 16);
  l.completed = true;
  l.completedBy = by;
}

function completedBefore(k: Kernel, irp: PIRP, l: IrpLife): boolean {
  if (l.completed) return true;
  const r = completionRecord(k, irp, false);
  return r >= 0 && k.m.kernelShared[r + 1] === 1;
}

/**
 * The value stored in Irp->CancelRoutine for a routine. The controlled engine numbers routines in
 * the order they are first set. Free-run workers cannot share function objects, so there the
 * value comes from the routine's name (the same on every worker) and each worker resolves it to
 * the routine it knows by that name.
 */
function routineId(k: Kernel, routine: DRIVER_CANCEL | null): number {
  if (routine === null) return 0;
  if (typeof routine !== 'function') throw new ScenarioError('IoSetCancelRoutine: the cancel routine must be a generator function (k, irp) or null');
  const st = irpState(k);
  let id = st.routineIds.get(routine);
  if (id === undefined) {
    if (k.m.sharedAcrossWorkers) {
      if (routine.name === '') throw new ScenarioError('IoSetCancelRoutine: free-run identifies a cancel routine by its name across CPU workers; give it one (a named function, or a const it is assigned to)');
      id = ROUTINE_BASE + 16 * (1 + (fnv1a(routine.name) & 0xfffff));
      const known = st.routines.get(id);
      // A closure made again (same name, same code) replaces the old one; two different routines of one name cannot be told apart.
      if (known !== undefined && known.name === routine.name && known.toString() !== routine.toString()) {
        throw new ScenarioError(`IoSetCancelRoutine: two different cancel routines are named '${routine.name}'; free-run tells them apart by name only`);
      }
    } else id = ROUTINE_BASE + 16 * (st.routineIds.size + 1);
    st.routineIds.set(routine, id);
    st.routines.set(id, routine);
  }
  return id;
}

/** Makes a cancel routine known before it is set (free-run: on every CPU worker, from setup). */
export function registerCancelRoutine(k: Kernel, routine: DRIVER_CANCEL): void {
  if (k.m.sharedAcrossWorkers) routineId(k, routine);
}

function routineOf(k: Kernel, id: number): DRIVER_CANCEL | null {
  if (id === 0) return null;
  const r = irpState(k).routines.get(id);
  if (!r) {
    if (k.m.sharedAcrossWorkers && (id - ROUTINE_BASE) % 16 === 0 && id > ROUTINE_BASE && id <= ROUTINE_BASE + 16 * 0x100000) {
      throw new ScenarioError(
        `Irp->CancelRoutine holds a cancel routine another CPU set, which CPU ${k.m.cur.cpu.index}'s free-run worker has never seen ` +
          '(a routine made inside another CPU\'s actor); make it in setup and keep it in the state — `cancelRoutine: (k, irp) => MyCancel(k, s, irp)` — ' +
          'so that every CPU worker has it under the same name, or explore this scenario with the controlled engine',
      );
    }
    throw new ScenarioError(`Irp->CancelRoutine holds 0x${(id >>> 0).toString(16)}, which is not a cancel routine (corrupt or freed IRP)`);
  }
  return r;
}

/** 32-bit FNV-1a of a string. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function routineName(r: DRIVER_CANCEL): string {
  return r.name || 'CancelRoutine';
}

/** The cancel spin lock's address (allocated on first use in a run). */
export function cancelSpinLock(k: Kernel): number {
  return irpState(k).cancelLock;
}

function completed(k: Kernel, irp: PIRP): boolean {
  return k.m.read(irp + IRP_CURRENT_LOCATION) > k.m.read(irp + IRP_STACK_COUNT) + 1;
}

export const irpApi = {
  /**
   * ≤ DISPATCH_LEVEL. Allocates and initializes an IRP (setup time), as if
   * IoCallDriver had handed it to this driver: CurrentLocation = StackSize.
   */
  IoAllocateIrp(this: Kernel, stackSize = 1, _chargeQuota = false): PIRP {
    const m = this.m;
    if (!Number.isInteger(stackSize) || stackSize < 1 || stackSize > 32) throw new ScenarioError('IoAllocateIrp: StackSize must be 1..32');
    const irp = m.memory.alloc(IRP_WORDS, 'IRP', true);
    // Plain stores into the new block: free-run workers run setup at the same time, and another
    // worker's power-on reset may clear the shadow map under a checked write.
    m.words[irp + IRP_TYPE] = IO_TYPE_IRP;
    m.words[irp + IRP_STACK_COUNT] = stackSize;
    m.words[irp + IRP_CURRENT_LOCATION] = stackSize;
    irpState(this).irps.set(irp, { irp, pending: false, completed: false, completedBy: '', freed: false });
    return irp;
  },

  /** ≤ DISPATCH_LEVEL. Frees an IRP; any later access to it is a use-after-free. */
  *IoFreeIrp(this: Kernel, irp: PIRP): Routine<void> {
    const m = this.m;
    const l = life(this, irp);
    m.cur.apiStack.push('IoFreeIrp');
    yield m.at(OP_KERNEL, irp);
    if (!m.memory.free(irp)) throw new BugCheck(0xc2, 7, 0, irp * 4, 0, `${m.nameOf(irp)} freed twice`);
    l.freed = true;
    m.cur.apiStack.pop();
  },

  /**
   * Any IRQL; the caller owns the IRP. Sets SL_PENDING_RETURNED: the dispatch
   * routine will return STATUS_PENDING and complete the IRP later. From here on
   * the IRP must be completed exactly once before the run ends.
   */
  IoMarkIrpPending(this: Kernel, irp: PIRP): void {
    const l = life(this, irp);
    this.m.write(irp + IRP_PENDING_RETURNED, 1);
    l.pending = true;
  },

  /** `&Irp->Tail.Overlay.ListEntry`: the LIST_ENTRY a driver queues the IRP by. */
  IrpListEntry(this: Kernel, irp: PIRP): number {
    return irp + IRP_LIST_ENTRY;
  },

  /** `CONTAINING_RECORD(entry, IRP, Tail.Overlay.ListEntry)`. */
  IrpFromListEntry(this: Kernel, entry: number): PIRP {
    return entry - IRP_LIST_ENTRY;
  },

  /** `Irp->Cancel`: one read. TRUE once IoCancelIrp has started on this IRP (never cleared). */
  *IrpCancelFlag(this: Kernel, irp: PIRP): Routine<boolean> {
    const m = this.m;
    yield m.at(OP_READ, irp + IRP_CANCEL);
    return m.read(irp + IRP_CANCEL) !== 0;
  },

  /** `Irp->CancelIrql`: what a cancel routine passes to IoReleaseCancelSpinLock (set by IoCancelIrp before the call). */
  IrpCancelIrql(this: Kernel, irp: PIRP): KIRQL {
    return this.m.read(irp + IRP_CANCEL_IRQL);
  },

  /** `Irp->IoStatus.Status = status; Irp->IoStatus.Information = information;` — one write step. */
  *IrpSetIoStatus(this: Kernel, irp: PIRP, status: number, information = 0): Routine<void> {
    const m = this.m;
    yield m.at(OP_WRITE, irp + IRP_STATUS);
    m.write(irp + IRP_STATUS, status | 0);
    m.write(irp + IRP_INFORMATION, information | 0);
  },

  /** `Irp->IoStatus.Status` without a scheduling point (invariants, tests). */
  IrpStatus(this: Kernel, irp: PIRP): number {
    return this.peek(irp + IRP_STATUS);
  },

  /** True once the IRP has been completed (CurrentLocation past the stack; for invariants and tests). */
  IrpCompleted(this: Kernel, irp: PIRP): boolean {
    life(this, irp);
    return this.peek(irp + IRP_CURRENT_LOCATION) > this.peek(irp + IRP_STACK_COUNT) + 1;
  },

  /**
   * Any IRQL ≤ DISPATCH_LEVEL. `InterlockedExchangePointer(&Irp->CancelRoutine, routine)`:
   * returns the previous routine — null when none was set, or when IoCancelIrp
   * has already claimed it (the cancel routine is running or about to run).
   */
  *IoSetCancelRoutine(this: Kernel, irp: PIRP, routine: DRIVER_CANCEL | null): Routine<DRIVER_CANCEL | null> {
    const m = this.m;
    const id = routineId(this, routine);
    yield m.at(OP_RMW, irp + IRP_CANCEL_ROUTINE);
    return routineOf(this, m.xchg(irp + IRP_CANCEL_ROUTINE, id));
  },

  /**
   * ≤ DISPATCH_LEVEL. Takes the system-wide cancel spin lock and raises to
   * DISPATCH_LEVEL; returns the previous IRQL. Taking it again on the same
   * processor spins forever (SPIN_LOCK_ALREADY_OWNED on a checked build).
   */
  *IoAcquireCancelSpinLock(this: Kernel): Routine<KIRQL> {
    const m = this.m;
    m.cur.apiStack.push('IoAcquireCancelSpinLock');
    const old = yield* this.KeAcquireSpinLock(cancelSpinLock(this));
    m.cur.apiStack.pop();
    return old;
  },

  /** DISPATCH_LEVEL, holding the cancel spin lock. Releases it and lowers IRQL to `irql`. */
  *IoReleaseCancelSpinLock(this: Kernel, irql: KIRQL): Routine<void> {
    const m = this.m;
    m.cur.apiStack.push('IoReleaseCancelSpinLock');
    yield* this.KeReleaseSpinLock(cancelSpinLock(this), irql);
    m.cur.apiStack.pop();
  },

  /**
   * ≤ DISPATCH_LEVEL. C1 take the cancel lock; C2 Cancel = TRUE; C3 exchange
   * CancelRoutine with NULL; C4 if there was one: bug check 0x48 if the IRP is
   * already completed, else set CancelIrql and call it with the cancel lock
   * held (it must release it) and return TRUE. Otherwise release and return
   * FALSE. TRUE only means a cancel routine was called, not that the IRP is
   * completed.
   */
  *IoCancelIrp(this: Kernel, irp: PIRP): Routine<boolean> {
    const m = this.m;
    const ctx = m.cur;
    life(this, irp);
    ctx.apiStack.push('IoCancelIrp');
    const oldIrql = yield* this.IoAcquireCancelSpinLock(); // C1
    yield m.at(OP_WRITE, irp + IRP_CANCEL); // C2
    m.write(irp + IRP_CANCEL, 1);
    yield m.at(OP_RMW, irp + IRP_CANCEL_ROUTINE); // C3
    const old = m.xchg(irp + IRP_CANCEL_ROUTINE, 0);
    if (old === 0) {
      yield* this.IoReleaseCancelSpinLock(oldIrql);
      ctx.apiStack.pop();
      return false;
    }
    yield m.at(OP_READ, irp + IRP_CURRENT_LOCATION);
    if (completed(this, irp)) {
      throw new BugCheck(
        0x48, irp * 4, old, 0, 0,
        `IoCancelIrp found cancel routine ${routineName(routineOf(this, old)!)} still set on ${m.nameOf(irp)}, which ${completedBy(this, irp, life(this, irp)) || 'someone'} already completed`,
      );
    }
    const routine = routineOf(this, old)!;
    m.write(irp + IRP_CANCEL_IRQL, oldIrql);
    ctx.apiStack.push(routineName(routine)); // C4: entered at DISPATCH_LEVEL, cancel lock held
    yield* routine(this, irp);
    ctx.apiStack.pop();
    ctx.apiStack.pop();
    return true;
  },

  /**
   * ≤ DISPATCH_LEVEL. Completes the IRP: MULTIPLE_IRP_COMPLETE_REQUESTS (0x44)
   * if it was already completed (both builds). A checked build (I/O Verifier)
   * also stops completion with a cancel routine still set (0xC9/0x07), with
   * status STATUS_PENDING or -1 (0xC9/0x06), and above DISPATCH_LEVEL
   * (0xC9/0x0E). Set the status first with IrpSetIoStatus.
   */
  *IoCompleteRequest(this: Kernel, irp: PIRP, _priorityBoost = IO_NO_INCREMENT): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    const l = life(this, irp);
    ctx.apiStack.push('IoCompleteRequest');
    if (m.checked && ctx.cpu.irql > DISPATCH_LEVEL) {
      throw new BugCheck(0xc9, 0x0e, irp * 4, ctx.cpu.irql, 0, `${m.nameOf(irp)} completed above DISPATCH_LEVEL`);
    }
    yield m.at(OP_READ, irp + IRP_CURRENT_LOCATION);
    if (completed(this, irp)) throw doubleCompletion(this, irp, l);
    yield m.at(OP_READ, irp + IRP_CANCEL_ROUTINE);
    const routine = m.read(irp + IRP_CANCEL_ROUTINE);
    if (m.checked) {
      if (routine !== 0) {
        throw new BugCheck(
          0xc9, 0x07, irp * 4, routine, 0,
          `${m.nameOf(irp)} completed with its cancel routine ${routineName(routineOf(this, routine)!)} still set (call IoSetCancelRoutine(Irp, NULL) first, and skip the IRP if that returns NULL)`,
        );
      }
      const status = m.read(irp + IRP_STATUS);
      if (status === STATUS_PENDING || status === -1) {
        throw new BugCheck(0xc9, 0x06, irp * 4, status, 0, `${m.nameOf(irp)} completed with status ${status === -1 ? '-1' : 'STATUS_PENDING'}`);
      }
    }
    yield m.at(OP_WRITE, irp + IRP_CURRENT_LOCATION);
    // The lifecycle catches a completion that raced past the check above on another processor.
    m.lockDispatcher();
    try {
      if (completedBefore(this, irp, l)) throw doubleCompletion(this, irp, l);
      m.write(irp + IRP_CURRENT_LOCATION, m.read(irp + IRP_STACK_COUNT) + 2);
      recordCompletion(this, irp, l, `${ctx.kind} '${ctx.name}'`);
    } finally {
      m.unlockDispatcher();
    }
    ctx.apiStack.pop();
  },
};

function doubleCompletion(k: Kernel, irp: PIRP, l: IrpLife): BugCheck {
  return new BugCheck(0x44, irp * 4, 0, 0, 0, `${k.m.nameOf(irp)} completed again; it was already completed by ${completedBy(k, irp, l) || 'someone'}`);
}

export type IrpApi = typeof irpApi;
