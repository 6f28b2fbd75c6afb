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
import type { ExecContext } from '../machine/cpu.ts';
import type { Machine } from '../machine/machine.ts';
import { dpcApi, type DpcApi, DpcTable } from './dpc.ts';
import { interlockedApi, type InterlockedApi } from './interlocked.ts';
import { irqlApi, type IrqlApi } from './irql.ts';
import { poolApi, type PoolApi } from './pool.ts';
import { queuedSpinLockApi, type QueuedSpinLockApi, QueuedLockState } from './queued-spinlock.ts';
import { spinLockApi, type SpinLockApi, InterruptTable } from './spinlock.ts';
import { Verifier } from './verifier.ts';
import { dispatcherApi, type DispatcherApi } from './dispatcher.ts';
import { apcKick, regionsApi, type RegionsApi } from './regions.ts';
import { fastMutexApi, type FastMutexApi } from './fast-mutex.ts';
import { eresourceApi, type EresourceApi } from './eresource.ts';
import { rundownApi, type RundownApi } from './rundown.ts';
import { listApi, type ListApi } from './list.ts';
import { irpApi, type IrpApi, registerCancelRoutine, type DRIVER_CANCEL } from './irp.ts';
import { csqApi, type CsqApi } from './csq.ts';
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
    DispatcherApi, RegionsApi, FastMutexApi, EresourceApi, RundownApi, ListApi, IrpApi, CsqApi {}

/** Families added by later modules register here so the class stays one flat API. */
export function installKernelApi(api: object): void {
  Object.assign(Kernel.prototype, api);
}

installKernelApi(irqlApi);
installKernelApi(spinLockApi);
installKernelApi(queuedSpinLockApi);
installKernelApi(dpcApi);
installKernelApi(interlockedApi);
installKernelApi(poolApi);
installKernelApi(dispatcherApi);
installKernelApi(regionsApi);
installKernelApi(fastMutexApi);
installKernelApi(eresourceApi);
installKernelApi(rundownApi);
installKernelApi(listApi);
installKernelApi(irpApi);
installKernelApi(csqApi);
