/**
 * The emulated NT kernel a scenario calls through `k`. Each primitive family
 * lives in its own file as an object of methods; they are mixed into this
 * class so that scenario code calls them flat (`yield* k.KeAcquireSpinLock(l)`)
 * — one generator frame per kernel call, which keeps the engine fast.
 *
 * Routines that touch shared state are generators (call them with `yield*`);
 * initializers and allocators are plain functions.
 */
import { InvariantViolation } from '../machine/bugcheck.ts';
import { pendingRoutine, routineNotStarted, type ExecContext } from '../machine/cpu.ts';
import type { Routine } from '../machine/ops.ts';
import { KERNEL_INTERNAL } from './internal-members.ts';
import type { Machine } from '../machine/machine.ts';
import { dpcApi, type DpcApi, DpcTable } from './dpc.ts';
import { interlockedApi, type InterlockedApi } from './interlocked.ts';
import { orderingApi, type OrderingApi } from './ordering.ts';
import { irqlApi, type IrqlApi } from './irql.ts';
import { poolApi, type PoolApi } from './pool.ts';
import { queuedSpinLockApi, type QueuedSpinLockApi, QueuedLockState } from './queued-spinlock.ts';
import { spinLockApi, type SpinLockApi } from './spinlock.ts';
import { interruptApi, type InterruptApi, InterruptTable } from './interrupt.ts';
import { rwSpinLockApi, type RwSpinLockApi } from './rwspinlock.ts';
import { slistApi, type SListApi } from './slist.ts';
import { Verifier } from './verifier.ts';
import { dispatcherApi, type DispatcherApi } from './dispatcher.ts';
import { apcKick, regionsApi, type RegionsApi } from './regions.ts';
import { fastMutexApi, type FastMutexApi } from './fast-mutex.ts';
import { eresourceApi, type EresourceApi } from './eresource.ts';
import { rundownApi, type RundownApi } from './rundown.ts';
import { listApi, type ListApi } from './list.ts';
import { irpApi, type IrpApi, registerCancelRoutine, type DRIVER_CANCEL } from './irp.ts';
import { csqApi, type CsqApi } from './csq.ts';
import { removeLockApi, type RemoveLockApi } from './remove-lock.ts';
import { timerApi, type TimerApi } from './timer.ts';
import { workItemApi, type WorkItemApi } from './workitem.ts';
import { KernelSharedRegions } from './shared-regions.ts';

/**
 * Families whose per-run JS state (perRun) is only a registry that setup fills alike on every
 * processor: what processors share of them lives in machine memory or in shared kernel memory.
 */
export const SHARED_STATE_FAMILIES: ReadonlySet<string> = new Set(['dispatcher', 'fast-mutex', 'eresource', 'irp', 'csq']);

export class Kernel {
  readonly verifier = new Verifier(this);
  readonly dpcs = new DpcTable();
  readonly interrupts = new InterruptTable();
  readonly queued = new QueuedLockState();
  /** Extra per-run state of primitive families added later (keyed by family). */
  readonly ext = new Map<string, unknown>();
  /** Where the state other processors must see lives in shared kernel memory. */
  readonly shared: KernelSharedRegions;

  constructor(readonly m: Machine) {
    this.shared = new KernelSharedRegions(m.kernelShared);
    // A suspend APC queued from another free-run CPU worker is delivered by the one that runs the thread.
    m.onThreadKick = (t) => apcKick(this, t);
  }

  /** Forgets every object of the previous run (the machine is reset separately). */
  reset(): void {
    this.dpcs.reset();
    this.interrupts.reset();
    this.queued.reset();
    if (this.ext.size !== 0) this.ext.clear();
    this.m.kernelShared.clear();
  }

  get checked(): boolean {
    return this.m.checked;
  }

  /** The context the calling routine runs in. */
  get ctx(): ExecContext {
    return this.m.cur;
  }

  /**
   * Per-run state of a primitive family, created on first use and dropped by
   * reset(): `k.perRun('dispatcher', () => new DispatcherState())`.
   */
  perRun<T>(family: string, make: () => T): T {
    let v = this.ext.get(family) as T | undefined;
    if (v === undefined) {
      v = make();
      this.ext.set(family, v);
    }
    return v;
  }

  /**
   * The named functions a scenario keeps in its setup state (a driver's cancel routines, bound to
   * its device extension the way DriverEntry would set them up) become known to this processor by
   * name, so that a routine another processor set in Irp->CancelRoutine can be called here (free-run:
   * every CPU worker runs setup, so each has its own copy of the same routine under the same name).
   */
  noteStateRoutines(state: unknown): void {
    if (typeof state !== 'object' || state === null) return;
    const fields = state as Record<string, unknown>;
    for (const field in fields) {
      const v = Object.prototype.hasOwnProperty.call(fields, field) ? fields[field] : undefined;
      if (typeof v === 'function' && v.name !== '') registerCancelRoutine(this, v as DRIVER_CANCEL);
    }
  }

  /** Reads a word without a scheduling point: for invariants and setup, not for driver code. */
  peek(addr: number): number {
    return this.m.words[addr]!;
  }

  /** Writes a word without a scheduling point: for setup, not for driver code. */
  poke(addr: number, value: number): void {
    this.m.words[addr] = value;
  }

  /** NT_ASSERT: a failed assertion ends the run as an invariant violation at this point. */
  NT_ASSERT(condition: unknown, message = 'assertion failed'): void {
    if (!condition) throw new InvariantViolation('NT_ASSERT', message);
  }

  /** Names an object so reports say "queueLock" rather than an address. */
  name(addr: number, name: string): number {
    this.m.names.set(addr, name);
    return addr;
  }

  /**
   * Whether the running routine holds `lock` (a spin lock, queued spin lock, the cancel spin lock or a
   * mutex: the acquisitions Driver Verifier tracks for it). Not a scheduling point: for NT_ASSERT-style
   * checks in driver code, e.g. that a cancel routine runs holding the cancel spin lock.
   */
  holdsLock(lock: number): boolean {
    return this.m.cur.heldLocks.includes(lock);
  }

  KeGetCurrentProcessorNumber(): number {
    return this.m.cur.cpu.index;
  }

  KeQueryActiveProcessorCount(): number {
    return this.m.online.length;
  }
}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Kernel
  extends IrqlApi, SpinLockApi, QueuedSpinLockApi, DpcApi, InterlockedApi, PoolApi,
    DispatcherApi, RegionsApi, FastMutexApi, EresourceApi, RundownApi, ListApi, IrpApi, CsqApi,
    RemoveLockApi, TimerApi, WorkItemApi, InterruptApi, RwSpinLockApi, SListApi, OrderingApi {}

type RoutineMethod = (this: Kernel, ...args: unknown[]) => Routine<unknown>;

/** The generator function behind each wrapped kernel routine (the registry reads kinds through it). */
const routineBehind = new WeakMap<object, RoutineMethod>();

/** The kernel routine (a generator function) a member of Kernel.prototype stands for, if it is one. */
export function kernelRoutineOf(member: unknown): ((...args: never[]) => Routine<unknown>) | undefined {
  if (typeof member !== 'function') return undefined;
  const behind = routineBehind.get(member);
  if (behind) return behind as unknown as (...args: never[]) => Routine<unknown>;
  return isGeneratorFunction(member) ? (member as (...args: never[]) => Routine<unknown>) : undefined;
}

/** By tag rather than by comparing with a `function*` literal: free-run's twin of this file has none. */
function isGeneratorFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object GeneratorFunction]';
}

/**
 * Every generator a kernel routine makes inherits this from its function's `prototype`; `yield*`
 * calls it to start delegating, which is how a routine called with yield* is told from one called
 * without it — at no cost per generator object.
 */
function startedByDelegation(this: Routine<unknown>): Routine<unknown> {
  if (pendingRoutine.call === this) pendingRoutine.call = null;
  return this;
}

/** The most parameters a kernel routine may declare: trackRoutine passes that many through. */
export const ROUTINE_MAX_PARAMS = 8;

type RoutineCall = (this: Kernel, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown) => Routine<unknown>;

/**
 * A kernel routine as scenario code calls it: it records the generator it returns until yield*
 * starts it (pendingRoutine, machine/cpu.ts); Machine.stepCpu refuses a context that yields or
 * ends with one still recorded, and so does the next routine call.
 * Fixed parameters rather than ...args and apply: measurably cheaper per kernel call, and an
 * undefined argument takes the routine's default as a missing one would.
 */
function trackRoutine(name: string, fn: RoutineMethod): RoutineMethod {
  const proto = fn.prototype as object;
  Object.defineProperty(proto, Symbol.iterator, { value: startedByDelegation, configurable: true, writable: true });
  Object.defineProperty(proto, 'routineName', { value: name, configurable: true });
  const call = fn as unknown as RoutineCall;
  const tracked = function (this: Kernel, a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown): Routine<unknown> {
    if (pendingRoutine.call !== null) throw routineNotStarted(this.m.cur);
    const gen = call.call(this, a, b, c, d, e, f, g, h);
    pendingRoutine.call = gen;
    return gen;
  };
  Object.defineProperty(tracked, 'name', { value: name });
  routineBehind.set(tracked, fn);
  return tracked as RoutineMethod;
}

/**
 * Families added by later modules register here so the class stays one flat API. Generator methods
 * are tracked (trackRoutine) unless the engine itself drives them (KERNEL_INTERNAL); a twin kernel's
 * plain functions are installed as they are.
 */
export function installKernelApi(api: object): void {
  for (const name of Object.keys(api)) {
    const fn = (api as Record<string, unknown>)[name];
    const own = isGeneratorFunction(fn) && !KERNEL_INTERNAL.has(name) ? trackRoutine(name, fn as RoutineMethod) : fn;
    Object.defineProperty(Kernel.prototype, name, { value: own, writable: true, configurable: true, enumerable: true });
  }
}

installKernelApi(irqlApi);
installKernelApi(spinLockApi);
installKernelApi(queuedSpinLockApi);
installKernelApi(dpcApi);
installKernelApi(interlockedApi);
installKernelApi(orderingApi);
installKernelApi(poolApi);
installKernelApi(dispatcherApi);
installKernelApi(regionsApi);
installKernelApi(fastMutexApi);
installKernelApi(eresourceApi);
installKernelApi(rundownApi);
installKernelApi(listApi);
installKernelApi(irpApi);
installKernelApi(csqApi);
installKernelApi(removeLockApi);
installKernelApi(timerApi);
installKernelApi(workItemApi);
installKernelApi(interruptApi);
installKernelApi(rwSpinLockApi);
installKernelApi(slistApi);
