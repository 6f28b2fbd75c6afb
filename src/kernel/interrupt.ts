/**
 * Interrupt objects (KINTERRUPT): connecting and disconnecting an ISR, the interrupt spin lock and
 * KeSynchronizeExecution (WDK "Introduction to Interrupt Service Routines", IoConnectInterruptEx,
 * IoDisconnectInterrupt, KeSynchronizeExecution).
 *
 * A scenario's interrupt actor is the device raising its interrupt; its `run` is the
 * InterruptService routine. The actor names the KINTERRUPT it belongs to, so the object exists from
 * setup: k.IoConnectInterrupt makes one that is connected at once (the connect StartDevice made
 * before the run), k.KeInitializeInterrupt one that the driver connects later with
 * IoConnectInterruptEx. The ISR runs only while the object is connected: the controlled engine does
 * not offer the arrival before the connect or after the disconnect, and the dispatch frame looks at
 * the Connected word again under the interrupt spin lock, so an interrupt that was already pending
 * when IoDisconnectInterrupt took the lock finds no ISR (as NT's dispatch finds the vector empty).
 *
 * IoDisconnectInterrupt takes the interrupt spin lock at SynchronizeIrql before it removes the ISR:
 * an ISR running on another CPU finishes first, and none starts afterwards. That is the documented
 * guarantee a driver relies on to free what its ISR touches only after the disconnect.
 *
 * The state lives in machine memory (Connected, the IRQLs), so free-run CPU workers see one object.
 * NT frees the KINTERRUPT in IoDisconnectInterrupt; the box keeps the words (the ISR frame still
 * reads Connected), so a driver's use of the object after the disconnect is not caught here.
 */
import { BugCheck, ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import { DIRQL_MAX, DIRQL_MIN, irqlName, PASSIVE_LEVEL, type KIRQL } from '../machine/irql.ts';
import { OP_IRQL, OP_WRITE, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { acquireWord, checkAcquire, checkRelease, noteAcquired, noteReleased, ownerTag } from './spinlock.ts';
import { STATUS_ASSERTION_FAILURE, STATUS_INVALID_PARAMETER, STATUS_SUCCESS } from './status.ts';

export type PKINTERRUPT = number;

/** KINTERRUPT layout (words). */
export const INTERRUPT_SPIN_LOCK = 0;
export const INTERRUPT_SYNCHRONIZE_IRQL = 1;
/** 1 while an ISR is connected to the object. */
export const INTERRUPT_CONNECTED = 2;
/** The DIRQL the device interrupts at (the interrupt is taken when the CPU is below it). */
export const INTERRUPT_IRQL = 3;
const KINTERRUPT_WORDS = 4;

/** IO_CONNECT_INTERRUPT_PARAMETERS.Version values. */
export const CONNECT_FULLY_SPECIFIED = 1;
export const CONNECT_LINE_BASED = 2;
export const CONNECT_MESSAGE_BASED = 3;

export type KSYNCHRONIZE_ROUTINE = (k: Kernel, context: number) => Routine<unknown>;

/** IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS, the members the box models. */
export interface IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS {
  /** The KINTERRUPT to connect (k.KeInitializeInterrupt in setup). NT returns a new object through this PKINTERRUPT*. */
  InterruptObject: PKINTERRUPT;
  /** The device IRQL (DIRQL) of the interrupt vector. */
  Irql: KIRQL;
  /** The IRQL the ISR and KeSynchronizeExecution run at: at least Irql (default Irql). */
  SynchronizeIrql?: KIRQL;
}

export interface IO_CONNECT_INTERRUPT_PARAMETERS {
  Version: number;
  FullySpecified: IO_CONNECT_INTERRUPT_FULLY_SPECIFIED_PARAMETERS;
}

export interface InterruptObject {
  addr: number;
  name: string;
}

/**
 * The interrupt objects setup made (every CPU worker runs setup, so each has the same table), and
 * the engine's hook told when an object is connected or disconnected at run time.
 */
export class InterruptTable {
  readonly byAddr = new Map<number, InterruptObject>();
  /** Set by the engine: it offers an interrupt actor's arrival only while its object is connected. */
  onConnection: ((interrupt: PKINTERRUPT, connected: boolean) => void) | null = null;
  reset(): void {
    if (this.byAddr.size !== 0) this.byAddr.clear();
  }
}

function checkDirql(api: string, what: string, irql: number): void {
  if (!Number.isInteger(irql) || irql < DIRQL_MIN || irql > DIRQL_MAX) {
    throw new ScenarioError(`${api}: ${what} must be a device IRQL from ${DIRQL_MIN} to ${DIRQL_MAX} (got ${irql})`);
  }
}

function interruptObject(k: Kernel, interrupt: PKINTERRUPT): InterruptObject {
  const o = k.interrupts.byAddr.get(interrupt);
  if (!o) throw new ScenarioError(`${k.m.nameOf(interrupt)} is not an interrupt object (use k.IoConnectInterrupt or k.KeInitializeInterrupt in setup)`);
  return o;
}

/** Checked build: IoConnectInterruptEx and IoDisconnectInterrupt are for a thread at PASSIVE_LEVEL. */
function checkPassive(k: Kernel, api: string): void {
  const ctx = k.m.cur;
  if (k.m.checked && (ctx.cpu.irql > PASSIVE_LEVEL || ctx.kind !== 'thread')) {
    throw new BugCheck(0x1e, STATUS_ASSERTION_FAILURE, 0, 0, 0, `assertion failed: ${api} called from ${ctx.kind} '${ctx.name}' at ${irqlName(ctx.cpu.irql)} (PASSIVE_LEVEL only)`);
  }
}

function setConnected(k: Kernel, interrupt: PKINTERRUPT, connected: boolean): void {
  k.m.write(interrupt + INTERRUPT_CONNECTED, connected ? 1 : 0);
  k.interrupts.onConnection?.(interrupt, connected);
}

export const interruptApi = {
  /**
   * Setup time (PASSIVE_LEVEL). Lays out a KINTERRUPT that is not connected: its interrupt actor
   * cannot arrive until IoConnectInterruptEx connects it. `irql` (a DIRQL, default 5) is the one
   * IoConnectInterruptEx usually gives again. NT's KeInitializeInterrupt takes the ISR and eleven
   * parameters; here the ISR is the `run` of an interrupt actor.
   */
  KeInitializeInterrupt(this: Kernel, options: { irql?: KIRQL; synchronizeIrql?: KIRQL; name?: string } = {}): PKINTERRUPT {
    const irql = options.irql ?? 5;
    const sync = options.synchronizeIrql ?? irql;
    checkDirql('KeInitializeInterrupt', 'irql', irql);
    checkDirql('KeInitializeInterrupt', 'synchronizeIrql', sync);
    if (sync < irql) throw new ScenarioError(`KeInitializeInterrupt: synchronizeIrql (${sync}) must be at least irql (${irql})`);
    const m = this.m;
    const addr = m.memory.alloc(KINTERRUPT_WORDS, 'KINTERRUPT');
    const w = m.words;
    w[addr + INTERRUPT_SPIN_LOCK] = 0;
    w[addr + INTERRUPT_SYNCHRONIZE_IRQL] = sync;
    w[addr + INTERRUPT_CONNECTED] = 0;
    w[addr + INTERRUPT_IRQL] = irql;
    const name = options.name ?? 'interrupt';
    this.interrupts.byAddr.set(addr, { addr, name });
    m.names.set(addr, name);
    m.names.set(addr + INTERRUPT_SPIN_LOCK, `${name}.SpinLock`);
    return addr;
  },

  /**
   * Setup time (PASSIVE_LEVEL). An interrupt object connected at once — the IoConnectInterrupt a
   * driver's StartDevice made before the run: its ISR (an interrupt actor's `run`) runs at `irql`
   * (a DIRQL, default 5) holding the interrupt spin lock, until IoDisconnectInterrupt. NT's form
   * takes eleven parameters and returns the object through a PKINTERRUPT*.
   */
  IoConnectInterrupt(this: Kernel, options: { irql?: KIRQL; synchronizeIrql?: KIRQL; name?: string } = {}): PKINTERRUPT {
    const addr = this.KeInitializeInterrupt(options);
    this.m.words[addr + INTERRUPT_CONNECTED] = 1;
    return addr;
  },

  /**
   * PASSIVE_LEVEL, a thread. IoConnectInterruptEx with Version CONNECT_FULLY_SPECIFIED: connects
   * the ISR of `FullySpecified.InterruptObject` at `Irql`, running at `SynchronizeIrql`; from then
   * on its interrupt actor can arrive. STATUS_INVALID_PARAMETER (nothing connected) when an IRQL is
   * not a DIRQL, SynchronizeIrql < Irql, or the object is already connected. The line-based and
   * message-based versions are not modelled (the run ends as `error`). Checked build: called above
   * PASSIVE_LEVEL or outside a thread → 0x1E (STATUS_ASSERTION_FAILURE).
   */
  *IoConnectInterruptEx(this: Kernel, parameters: IO_CONNECT_INTERRUPT_PARAMETERS): Routine<number> {
    const m = this.m;
    const ctx = m.cur;
    if (parameters?.Version !== CONNECT_FULLY_SPECIFIED || typeof parameters.FullySpecified !== 'object') {
      throw new ScenarioError('IoConnectInterruptEx: only Version CONNECT_FULLY_SPECIFIED with FullySpecified parameters is modelled');
    }
    const p = parameters.FullySpecified;
    interruptObject(this, p.InterruptObject);
    ctx.apiStack.push('IoConnectInterruptEx');
    checkPassive(this, 'IoConnectInterruptEx');
    const intr = p.InterruptObject;
    const irql = p.Irql;
    const sync = p.SynchronizeIrql ?? irql;
    yield m.at(OP_WRITE, intr + INTERRUPT_CONNECTED);
    const valid = (x: number): boolean => Number.isInteger(x) && x >= DIRQL_MIN && x <= DIRQL_MAX;
    if (!valid(irql) || !valid(sync) || sync < irql || m.read(intr + INTERRUPT_CONNECTED) !== 0) {
      ctx.apiStack.pop();
      return STATUS_INVALID_PARAMETER;
    }
    m.write(intr + INTERRUPT_IRQL, irql);
    m.write(intr + INTERRUPT_SYNCHRONIZE_IRQL, sync);
    setConnected(this, intr, true);
    ctx.apiStack.pop();
    return STATUS_SUCCESS;
  },

  /**
   * PASSIVE_LEVEL, a thread. Removes the ISR: it raises to SynchronizeIrql and takes the interrupt
   * spin lock, so an ISR running on another CPU finishes first; after the call no ISR of this object
   * runs, and whatever only the ISR touched may be freed. Disconnecting an object that is not
   * connected frees NT's KINTERRUPT a second time: BAD_POOL_CALLER (0xC2, parameter 1 = 7). Checked
   * build: called above PASSIVE_LEVEL or outside a thread → 0x1E (STATUS_ASSERTION_FAILURE).
   */
  *IoDisconnectInterrupt(this: Kernel, interrupt: PKINTERRUPT): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    interruptObject(this, interrupt);
    ctx.apiStack.push('IoDisconnectInterrupt');
    checkPassive(this, 'IoDisconnectInterrupt');
    const old = yield* this.KeAcquireInterruptSpinLock(interrupt);
    yield m.at(OP_WRITE, interrupt + INTERRUPT_CONNECTED);
    if (m.read(interrupt + INTERRUPT_CONNECTED) === 0) {
      throw new BugCheck(0xc2, 7, 0, interrupt * 4, 0, `${m.nameOf(interrupt)} disconnected while not connected (its KINTERRUPT would be freed twice)`);
    }
    setConnected(this, interrupt, false);
    yield* this.KeReleaseInterruptSpinLock(interrupt, old);
    ctx.apiStack.pop();
  },

  /**
   * IRQL ≤ the interrupt's SynchronizeIrql. Raises to SynchronizeIrql and takes the interrupt spin
   * lock (the one the ISR runs under); returns the previous IRQL. Checked build: called above
   * SynchronizeIrql → 0xC4/0x30; already held on this CPU → 0x0F; lock order → 0xC4/0x1001.
   */
  *KeAcquireInterruptSpinLock(this: Kernel, interrupt: PKINTERRUPT): Routine<KIRQL> {
    const m = this.m;
    const ctx = m.cur;
    interruptObject(this, interrupt);
    ctx.apiStack.push('KeAcquireInterruptSpinLock');
    yield m.at(OP_IRQL, interrupt);
    const old = ctx.cpu.irql;
    const sync = m.words[interrupt + INTERRUPT_SYNCHRONIZE_IRQL]!;
    if (old > sync && m.checked) throw verifierViolation(0x30, old, sync, 0);
    const lock = interrupt + INTERRUPT_SPIN_LOCK;
    if (m.checked) checkAcquire(this, lock, ctx);
    m.setIrql(ctx.cpu, sync);
    if (m.mpHal) yield* acquireWord(this, lock, ownerTag(this, ctx));
    noteAcquired(this, lock, ctx);
    ctx.apiStack.pop();
    return old;
  },

  /** The interrupt's SynchronizeIrql, holding its spin lock. Releases it and lowers IRQL to `oldIrql`. Checked build: not held by this CPU → 0x10. */
  *KeReleaseInterruptSpinLock(this: Kernel, interrupt: PKINTERRUPT, oldIrql: KIRQL): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    const lock = interrupt + INTERRUPT_SPIN_LOCK;
    ctx.apiStack.push('KeReleaseInterruptSpinLock');
    if (m.checked) checkRelease(this, lock, ctx);
    if (m.mpHal) {
      yield m.at(OP_WRITE, lock);
      m.write(lock, 0);
    }
    noteReleased(this, lock, ctx);
    yield m.at(OP_IRQL, interrupt);
    m.setIrql(ctx.cpu, oldIrql);
    ctx.apiStack.pop();
  },

  /**
   * IRQL ≤ SynchronizeIrql. Runs `routine` (a SynchCritSection routine) at SynchronizeIrql holding
   * the interrupt spin lock, so it never overlaps the ISR on any CPU; returns its result (NT returns
   * the routine's BOOLEAN). Checked build: as KeAcquireInterruptSpinLock.
   */
  *KeSynchronizeExecution<T>(
    this: Kernel,
    interrupt: PKINTERRUPT,
    routine: (k: Kernel, context: number) => Routine<T>,
    context = 0,
  ): Routine<T> {
    const ctx = this.m.cur;
    const old = yield* this.KeAcquireInterruptSpinLock(interrupt);
    ctx.apiStack.push('KeSynchronizeExecution');
    const result = yield* routine(this, context);
    ctx.apiStack.pop();
    yield* this.KeReleaseInterruptSpinLock(interrupt, old);
    return result;
  },

  /**
   * The dispatch frame the machine runs when an interrupt is taken (the CPU is at the interrupt's
   * IRQL): it raises to SynchronizeIrql, takes the interrupt spin lock, calls the ISR if the object
   * is still connected, and releases the lock (the machine lowers IRQL when the frame returns).
   */
  *runInterruptServiceRoutine(this: Kernel, interrupt: PKINTERRUPT, isr: () => Routine<unknown>): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    const lock = interrupt + INTERRUPT_SPIN_LOCK;
    const sync = m.words[interrupt + INTERRUPT_SYNCHRONIZE_IRQL]!;
    if (sync > ctx.cpu.irql) m.setIrql(ctx.cpu, sync);
    if (m.checked) checkAcquire(this, lock, ctx);
    if (m.mpHal) yield* acquireWord(this, lock, ownerTag(this, ctx));
    noteAcquired(this, lock, ctx);
    // Read under the lock: a disconnect that took it first has removed the ISR.
    if (m.words[interrupt + INTERRUPT_CONNECTED] !== 0) yield* isr();
    if (m.mpHal) {
      yield m.at(OP_WRITE, lock);
      m.write(lock, 0);
    }
    noteReleased(this, lock, ctx);
  },
};

export type InterruptApi = typeof interruptApi;
