/**
 * IRPs, completion and cancellation (nt-semantics sections 11 and 15).
 *
 * An IRP lives in machine memory (one cache line, layout below), so a freed
 * IRP is caught like any other freed pool block. Next to the memory the I/O
 * manager model keeps a lifecycle per IRP (allocated → pending → completed →
 * freed) that rejects a second completion (MULTIPLE_IRP_COMPLETE_REQUESTS) —
 * the completion record is in shared kernel memory (irp-records.ts), so a
 * completion on any processor counts — and, at the end of a run, reports
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
import { formatAddress } from '../machine/memory.ts';
import { OP_KERNEL, OP_READ, OP_RMW, OP_WRITE, type Routine } from '../machine/ops.ts';
import {
  CancelRoutines, completionRecorded, knowRoutine, recordCompletion, recordedCompleter, routineFor, routineValue,
} from './irp-records.ts';
import type { Kernel } from './kernel.ts';
import { IRP_PENDING_NEVER_COMPLETED } from './liveness.ts';
import { OBJ_IRP, registeredKind, registerObject } from './object-registry.ts';
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
  /** Who marked it pending, and at which step (this processor's note; '' / -1 when another did). */
  pendingBy?: string;
  pendingStep?: number;
}

/** The I/O manager model's per-run state on this processor. */
export class IrpState {
  /** IRPs this processor allocated or has met (every processor runs setup); completion is in shared kernel memory. */
  readonly irps = new Map<number, IrpLife>();
  readonly routines = new CancelRoutines<DRIVER_CANCEL>();
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

/** End-of-run check: an IRP marked pending and never completed is a hang (its thread can never exit). */
function pendingNeverCompleted(k: Kernel, st: IrpState): StuckReport | null {
  const lost: string[] = [];
  let step: number | undefined;
  for (const life of st.irps.values()) {
    // Judged from the IRP itself (SL_PENDING_RETURNED, CurrentLocation), not from this processor's bookkeeping.
    const irp = life.irp;
    if (k.m.shadow[irp] !== 1) continue;
    if (k.peek(irp + IRP_PENDING_RETURNED) === 0 || k.peek(irp + IRP_CURRENT_LOCATION) > k.peek(irp + IRP_STACK_COUNT) + 1) continue;
    const cancelled = k.peek(irp + IRP_CANCEL) !== 0;
    const routine = k.peek(irp + IRP_CANCEL_ROUTINE);
    const name = k.m.names.get(irp);
    const by = life.pendingBy ? ` by '${life.pendingBy}'${life.pendingStep !== undefined ? ` at step ${life.pendingStep}` : ''}` : '';
    if (step === undefined && life.pendingStep !== undefined) step = life.pendingStep;
    let why = `IRP ${formatAddress(irp)}${name ? ` (${name})` : ''} was marked pending${by} and never completed`;
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
    liveness: step !== undefined ? { name: IRP_PENDING_NEVER_COMPLETED, step } : { name: IRP_PENDING_NEVER_COMPLETED },
  };
}

/** The lifecycle of an IRP any processor allocated; a ScenarioError for anything else. */
function life(k: Kernel, irp: PIRP): IrpLife {
  const st = irpState(k);
  let l = st.irps.get(irp);
  if (!l) {
    // One another processor allocated while the actors ran.
    if (registeredKind(k, irp) !== OBJ_IRP) throw new ScenarioError(`${k.m.nameOf(irp)} is not an IRP (allocate it with k.IoAllocateIrp)`);
    l = { irp, pending: false, completed: false, completedBy: '', freed: false };
    st.irps.set(irp, l);
  }
  return l;
}

/** Who completed the IRP: this processor's note, else the record of the processor that did. */
function completedBy(k: Kernel, irp: PIRP, l: IrpLife): string {
  return l.completedBy !== '' ? l.completedBy : recordedCompleter(k, irp);
}

/** The value stored in Irp->CancelRoutine for a routine (see irp-records.ts). */
function routineId(k: Kernel, routine: DRIVER_CANCEL | null): number {
  if (routine === null) return 0;
  if (typeof routine !== 'function') throw new ScenarioError('IoSetCancelRoutine: the cancel routine must be a generator function (k, irp) or null');
  return routineValue(k, irpState(k).routines, routine);
}

/** Makes a cancel routine known by name before it is set (the setup state's, a library's), so any processor can call it. */
export function registerCancelRoutine(k: Kernel, routine: DRIVER_CANCEL): void {
  knowRoutine(irpState(k).routines, routine);
}

/** The routine Irp->CancelRoutine's value stands for (null for none). */
function routineOf(k: Kernel, id: number): DRIVER_CANCEL | null {
  return routineFor(k, irpState(k).routines, id);
}

/** A cancel routine's name, for reports. */
function routineName(r: DRIVER_CANCEL): string {
  return r.name || 'CancelRoutine';
}

/** The cancel spin lock's address (allocated on first use in a run). */
export function cancelSpinLock(k: Kernel): number {
  return irpState(k).cancelLock;
}

/** Whether the IRP is completed: CurrentLocation past the stack (one read of machine memory). */
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
    // Plain stores into the new block: processors that run setup at the same time (free-run's CPU
    // workers) may clear the shadow map under a checked write with their power-on reset.
    m.words[irp + IRP_TYPE] = IO_TYPE_IRP;
    m.words[irp + IRP_STACK_COUNT] = stackSize;
    m.words[irp + IRP_CURRENT_LOCATION] = stackSize;
    irpState(this).irps.set(irp, { irp, pending: false, completed: false, completedBy: '', freed: false });
    registerObject(this, irp, OBJ_IRP);
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
    l.pendingBy = this.m.cur.name;
    l.pendingStep = this.m.step;
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
   * Any IRQL; not a scheduling point. The address of the system-wide cancel spin lock that
   * IoAcquireCancelSpinLock and IoCancelIrp take, so a scenario can check that a routine runs holding it
   * (`k.holdsLock(s.cancelLock)`) or wait behind it. Call it in setup and keep the address in the state:
   * the lock is allocated on first use in a run, and setup is where every processor agrees on it.
   */
  cancelSpinLock(this: Kernel): number {
    return cancelSpinLock(this);
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
      if (l.completed || completionRecorded(this, irp)) throw doubleCompletion(this, irp, l);
      m.write(irp + IRP_CURRENT_LOCATION, m.read(irp + IRP_STACK_COUNT) + 2);
      const by = `${ctx.kind} '${ctx.name}'`;
      recordCompletion(this, irp, by);
      l.completed = true;
      l.completedBy = by;
    } finally {
      m.unlockDispatcher();
    }
    ctx.apiStack.pop();
  },
};

/** MULTIPLE_IRP_COMPLETE_REQUESTS (0x44), naming the first completer. */
function doubleCompletion(k: Kernel, irp: PIRP, l: IrpLife): BugCheck {
  return new BugCheck(0x44, irp * 4, 0, 0, 0, `${k.m.nameOf(irp)} completed again; it was already completed by ${completedBy(k, irp, l) || 'someone'}`);
}

export type IrpApi = typeof irpApi;
