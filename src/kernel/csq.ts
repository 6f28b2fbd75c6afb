/**
 * Cancel-safe IRP queues, IoCsq* (nt-semantics section 12; ReactOS
 * sdk/lib/drivers/csq/csq.c, Microsoft's "Cancel-Safe IRP Queues").
 *
 * The driver supplies the queue and its lock through six callbacks (generator
 * functions); the library supplies the cancel protocol: insert first, then
 * publish its cancel routine, then look at Irp->Cancel and complete only if
 * IoSetCancelRoutine(Irp, NULL) gives the routine back. Dequeuing takes
 * cancelability back the same way and skips IRPs that cancellation already
 * owns. One difference from ReactOS, as the reference asks: an IRP found
 * cancelled at insert time is completed after the queue lock is dropped.
 *
 * Irp->Tail.Overlay.DriverContext[3] holds the IO_CSQ or the
 * IO_CSQ_IRP_CONTEXT (told apart by their Type word).
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import type { KIRQL } from '../machine/irql.ts';
import { OP_READ, OP_RMW, OP_WRITE, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { IRP_DRIVER_CONTEXT, registerCancelRoutine, type PIRP } from './irp.ts';
import { STATUS_SUCCESS } from './status.ts';

/** IO_CSQ layout (words): Type, ReservePointer; the callbacks are kept beside it. */
export const CSQ_TYPE = 0;
export const CSQ_RESERVE_POINTER = 1;
export const CSQ_WORDS = 2;
export const IO_TYPE_CSQ_IRP_CONTEXT = 1;
export const IO_TYPE_CSQ = 2;
export const IO_TYPE_CSQ_EX = 3;

/** IO_CSQ_IRP_CONTEXT layout (words): Type, Irp, Csq — 12 bytes, allocate it from pool. */
export const CSQ_CONTEXT_TYPE = 0;
export const CSQ_CONTEXT_IRP = 1;
export const CSQ_CONTEXT_CSQ = 2;
export const IO_CSQ_IRP_CONTEXT_BYTES = 12;

const DRIVER_CONTEXT_3 = IRP_DRIVER_CONTEXT + 3;

export type PIO_CSQ = number;
export type PIO_CSQ_IRP_CONTEXT = number;

/** Called with the queue lock held: queue the IRP. */
export type CSQ_INSERT_IRP = (k: Kernel, csq: PIO_CSQ, irp: PIRP) => Routine<unknown>;
/** Called with the queue lock held: queue the IRP or return a failure status (then it is not queued). */
export type CSQ_INSERT_IRP_EX = (k: Kernel, csq: PIO_CSQ, irp: PIRP, insertContext: number) => Routine<number>;
/** Called with the queue lock held: unlink the IRP. */
export type CSQ_REMOVE_IRP = (k: Kernel, csq: PIO_CSQ, irp: PIRP) => Routine<unknown>;
/** Called with the queue lock held: the next IRP after `irp` (after the head when 0) matching peekContext, or 0. */
export type CSQ_PEEK_NEXT_IRP = (k: Kernel, csq: PIO_CSQ, irp: PIRP, peekContext: number) => Routine<number>;
/** Takes the queue lock; returns what CsqReleaseLock needs back (the old IRQL for a spin lock). */
export type CSQ_ACQUIRE_LOCK = (k: Kernel, csq: PIO_CSQ) => Routine<KIRQL>;
export type CSQ_RELEASE_LOCK = (k: Kernel, csq: PIO_CSQ, irql: KIRQL) => Routine<unknown>;
/** Called without the queue lock: complete the IRP as STATUS_CANCELLED. */
export type CSQ_COMPLETE_CANCELED_IRP = (k: Kernel, csq: PIO_CSQ, irp: PIRP) => Routine<unknown>;

interface CsqCallbacks {
  insert: CSQ_INSERT_IRP | CSQ_INSERT_IRP_EX;
  remove: CSQ_REMOVE_IRP;
  peek: CSQ_PEEK_NEXT_IRP;
  acquire: CSQ_ACQUIRE_LOCK;
  release: CSQ_RELEASE_LOCK;
  complete: CSQ_COMPLETE_CANCELED_IRP;
}

class CsqState {
  readonly queues = new Map<number, CsqCallbacks>();
}

function csqState(k: Kernel): CsqState {
  return k.perRun('csq', () => new CsqState());
}

function callbacks(k: Kernel, csq: PIO_CSQ): CsqCallbacks {
  const cb = csqState(k).queues.get(csq);
  if (!cb) throw new ScenarioError(`${k.m.nameOf(csq)} is not a cancel-safe queue (initialize it with k.IoCsqInitialize)`);
  return cb;
}

function init(
  k: Kernel, csq: PIO_CSQ | null | undefined, type: number, insert: CsqCallbacks['insert'], remove: CSQ_REMOVE_IRP, peek: CSQ_PEEK_NEXT_IRP,
  acquire: CSQ_ACQUIRE_LOCK, release: CSQ_RELEASE_LOCK, complete: CSQ_COMPLETE_CANCELED_IRP,
): PIO_CSQ {
  for (const [name, f] of Object.entries({ insert, remove, peek, acquire, release, complete })) {
    if (typeof f !== 'function') throw new ScenarioError(`IoCsqInitialize: the ${name} callback must be a generator function`);
  }
  const m = k.m;
  const q = csq ?? m.memory.alloc(CSQ_WORDS, 'IO_CSQ');
  m.write(q + CSQ_TYPE, type);
  m.write(q + CSQ_RESERVE_POINTER, 0);
  csqState(k).queues.set(q, { insert, remove, peek, acquire, release, complete });
  // The library's cancel routine is known by name on every processor (each runs setup).
  registerCancelRoutine(k, IoCsqCancelRoutine);
  return q;
}

const ptr = (a: number): number => (a * 4) | 0;

/**
 * The library's cancel routine (IopCsqCancelRoutine): release the cancel spin
 * lock first, find the queue through DriverContext[3] (clearing the context's
 * Irp), unlink under the queue lock, and complete outside it.
 */
export function* IoCsqCancelRoutine(k: Kernel, irp: PIRP): Routine<void> {
  const m = k.m;
  yield* k.IoReleaseCancelSpinLock(k.IrpCancelIrql(irp));
  yield m.at(OP_READ, irp + DRIVER_CONTEXT_3);
  const p = m.read(irp + DRIVER_CONTEXT_3) >>> 2;
  yield m.at(OP_READ, p + CSQ_TYPE);
  let csq = p;
  if (m.read(p + CSQ_TYPE) === IO_TYPE_CSQ_IRP_CONTEXT) {
    csq = m.read(p + CSQ_CONTEXT_CSQ) >>> 2;
    yield m.at(OP_WRITE, p + CSQ_CONTEXT_IRP);
    m.write(p + CSQ_CONTEXT_IRP, 0);
  }
  const cb = callbacks(k, csq);
  const irql = yield* cb.acquire(k, csq);
  yield* cb.remove(k, csq, irp);
  yield* cb.release(k, csq, irql);
  yield* cb.complete(k, csq, irp);
}

export const csqApi = {
  /**
   * Any IRQL (setup). Sets up a cancel-safe queue with the driver's six
   * callbacks; `csq` is its storage (null: allocated here). Returns the IO_CSQ
   * address (Windows returns STATUS_SUCCESS).
   */
  IoCsqInitialize(
    this: Kernel, csq: PIO_CSQ | null, insertIrp: CSQ_INSERT_IRP, removeIrp: CSQ_REMOVE_IRP, peekNextIrp: CSQ_PEEK_NEXT_IRP,
    acquireLock: CSQ_ACQUIRE_LOCK, releaseLock: CSQ_RELEASE_LOCK, completeCanceledIrp: CSQ_COMPLETE_CANCELED_IRP,
  ): PIO_CSQ {
    return init(this, csq, IO_TYPE_CSQ, insertIrp, removeIrp, peekNextIrp, acquireLock, releaseLock, completeCanceledIrp);
  },

  /** As IoCsqInitialize, with an insert callback that takes an InsertContext and may fail (IO_TYPE_CSQ_EX). */
  IoCsqInitializeEx(
    this: Kernel, csq: PIO_CSQ | null, insertIrpEx: CSQ_INSERT_IRP_EX, removeIrp: CSQ_REMOVE_IRP, peekNextIrp: CSQ_PEEK_NEXT_IRP,
    acquireLock: CSQ_ACQUIRE_LOCK, releaseLock: CSQ_RELEASE_LOCK, completeCanceledIrp: CSQ_COMPLETE_CANCELED_IRP,
  ): PIO_CSQ {
    return init(this, csq, IO_TYPE_CSQ_EX, insertIrpEx, removeIrp, peekNextIrp, acquireLock, releaseLock, completeCanceledIrp);
  },

  /**
   * ≤ DISPATCH_LEVEL. Marks the IRP pending and queues it cancel-safely. If it
   * was cancelled before the cancel routine was published, it is taken out
   * again and completed through CsqCompleteCanceledIrp (after the lock is
   * dropped). `context` (an IO_CSQ_IRP_CONTEXT, or null) lets
   * IoCsqRemoveIrp find this IRP later.
   */
  *IoCsqInsertIrp(this: Kernel, csq: PIO_CSQ, irp: PIRP, context: PIO_CSQ_IRP_CONTEXT | null = null): Routine<void> {
    yield* this.IoCsqInsertIrpEx(csq, irp, context, 0);
  },

  /**
   * ≤ DISPATCH_LEVEL. As IoCsqInsertIrp; with an IO_TYPE_CSQ_EX queue the
   * driver's CsqInsertIrpEx may refuse the IRP: its status is returned, the
   * IRP is not queued and no cancel routine is set (the caller completes it).
   */
  *IoCsqInsertIrpEx(this: Kernel, csq: PIO_CSQ, irp: PIRP, context: PIO_CSQ_IRP_CONTEXT | null, insertContext: number): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    const cb = callbacks(this, csq);
    ctx.apiStack.push('IoCsqInsertIrp');
    const irql = yield* cb.acquire(this, csq);
    this.IoMarkIrpPending(irp);
    if (context) {
      yield m.at(OP_WRITE, context + CSQ_CONTEXT_TYPE);
      m.write(context + CSQ_CONTEXT_TYPE, IO_TYPE_CSQ_IRP_CONTEXT);
      m.write(context + CSQ_CONTEXT_IRP, ptr(irp));
      m.write(context + CSQ_CONTEXT_CSQ, ptr(csq));
    }
    yield m.at(OP_WRITE, irp + DRIVER_CONTEXT_3);
    m.write(irp + DRIVER_CONTEXT_3, ptr(context || csq));
    let status = STATUS_SUCCESS;
    if (m.words[csq + CSQ_TYPE] === IO_TYPE_CSQ_EX) {
      status = yield* (cb.insert as CSQ_INSERT_IRP_EX)(this, csq, irp, insertContext);
      if (status < 0) {
        yield* cb.release(this, csq, irql);
        ctx.apiStack.pop();
        return status;
      }
    } else {
      yield* (cb.insert as CSQ_INSERT_IRP)(this, csq, irp);
    }
    // Only now that the IRP is queued may the cancel routine run.
    yield* this.IoSetCancelRoutine(irp, IoCsqCancelRoutine);
    let completeNow = false;
    if (yield* this.IrpCancelFlag(irp)) {
      if ((yield* this.IoSetCancelRoutine(irp, null)) !== null) {
        // IoCancelIrp ran before the routine was set: this call owns the cancellation.
        yield m.at(OP_WRITE, irp + DRIVER_CONTEXT_3);
        m.write(irp + DRIVER_CONTEXT_3, 0);
        yield* cb.remove(this, csq, irp);
        if (context) {
          yield m.at(OP_WRITE, context + CSQ_CONTEXT_IRP);
          m.write(context + CSQ_CONTEXT_IRP, 0);
        }
        completeNow = true;
      }
      // Otherwise IoCancelIrp claimed the routine: it will unlink and complete the IRP.
    }
    yield* cb.release(this, csq, irql);
    if (completeNow) yield* cb.complete(this, csq, irp);
    ctx.apiStack.pop();
    return status;
  },

  /**
   * ≤ DISPATCH_LEVEL. Removes the IRP `context` was inserted with, taking
   * back its cancelability; NULL (0) when it was cancelled (or its cancel
   * routine has been claimed and will complete it).
   */
  *IoCsqRemoveIrp(this: Kernel, csq: PIO_CSQ, context: PIO_CSQ_IRP_CONTEXT): Routine<PIRP> {
    const m = this.m;
    const ctx = m.cur;
    const cb = callbacks(this, csq);
    ctx.apiStack.push('IoCsqRemoveIrp');
    const irql = yield* cb.acquire(this, csq);
    yield m.at(OP_READ, context + CSQ_CONTEXT_IRP);
    let irp = m.read(context + CSQ_CONTEXT_IRP) >>> 2;
    if (irp !== 0) {
      if ((yield* this.IoSetCancelRoutine(irp, null)) === null) {
        irp = 0; // cancellation owns it: don't touch the IRP or the context
      } else {
        yield* cb.remove(this, csq, irp);
        yield m.at(OP_WRITE, context + CSQ_CONTEXT_IRP);
        m.write(context + CSQ_CONTEXT_IRP, 0);
        yield m.at(OP_RMW, irp + DRIVER_CONTEXT_3);
        m.xchg(irp + DRIVER_CONTEXT_3, 0);
      }
    }
    yield* cb.release(this, csq, irql);
    ctx.apiStack.pop();
    return irp;
  },

  /**
   * ≤ DISPATCH_LEVEL. Removes the first queued IRP matching peekContext whose
   * cancelability it can take back; IRPs whose cancel routine is already
   * claimed are skipped (left for that routine). Returns 0 when there is none.
   */
  *IoCsqRemoveNextIrp(this: Kernel, csq: PIO_CSQ, peekContext = 0): Routine<PIRP> {
    const m = this.m;
    const ctx = m.cur;
    const cb = callbacks(this, csq);
    ctx.apiStack.push('IoCsqRemoveNextIrp');
    const irql = yield* cb.acquire(this, csq);
    let irp = 0;
    for (;;) {
      irp = yield* cb.peek(this, csq, irp, peekContext);
      if (irp === 0) break;
      if ((yield* this.IoSetCancelRoutine(irp, null)) === null) continue;
      yield* cb.remove(this, csq, irp);
      yield m.at(OP_RMW, irp + DRIVER_CONTEXT_3);
      const p = m.xchg(irp + DRIVER_CONTEXT_3, 0) >>> 2;
      if (p !== 0 && m.read(p + CSQ_TYPE) === IO_TYPE_CSQ_IRP_CONTEXT) {
        yield m.at(OP_WRITE, p + CSQ_CONTEXT_IRP);
        m.write(p + CSQ_CONTEXT_IRP, 0);
      }
      break;
    }
    yield* cb.release(this, csq, irql);
    ctx.apiStack.pop();
    return irp;
  },
};

export type CsqApi = typeof csqApi;
