/**
 * Dispatcher objects as memory holds them (nt-semantics section 4): every
 * KEVENT, KMUTEX and KSEMAPHORE starts with a DISPATCHER_HEADER (Type,
 * SignalState), and a mutex names its owner's KTHREAD. This module knows the
 * layout and which addresses are dispatcher objects; the rules that change
 * them are in dispatcher.ts (the objects' routines) and wait.ts (waits).
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import type { Thread } from '../machine/cpu.ts';
import type { AsyncEvent } from '../machine/machine.ts';
import type { Kernel } from './kernel.ts';
import { OBJ_DISPATCHER, registeredKind, registerObject } from './object-registry.ts';

/** DISPATCHER_HEADER and object layouts (words). */
export const DH_TYPE = 0;
export const DH_SIGNAL_STATE = 1;
export const MUTANT_OWNER_THREAD = 2;
export const MUTANT_APC_DISABLE = 3;
export const SEMAPHORE_LIMIT = 2;
export const DISPATCHER_OBJECT_WORDS = 4;

/** DISPATCHER_HEADER.Type values (KOBJECTS). */
export const EventNotificationObject = 0;
export const EventSynchronizationObject = 1;
export const MutantObject = 2;
export const SemaphoreObject = 5;
export const TimerNotificationObject = 8;
export const TimerSynchronizationObject = 9;

const TYPE_NAMES: Record<number, string> = {
  0: 'notification event', 1: 'synchronization event', 2: 'mutex', 5: 'semaphore', 8: 'notification timer', 9: 'synchronization timer',
};

/** A thread's wait timer as the family's state keeps it (wait.ts makes them). */
export interface WaitTimerEvent extends AsyncEvent {
  /** KT_WAIT_SEQUENCE of the wait it times. */
  sequence: number;
}

/** The family's per-run state on this processor (a cache: memory and the registry are the truth). */
export class DispatcherState {
  /** Type of each dispatcher object this processor initialized or has met. */
  readonly objects = new Map<number, number>();
  readonly timers = new Map<Thread, WaitTimerEvent>();
}

/** This processor's dispatcher state for the run. */
export function dstate(k: Kernel): DispatcherState {
  return k.perRun('dispatcher', () => new DispatcherState());
}

/** Writes a dispatcher object's header and makes it known to every processor. */
export function writeHeader(k: Kernel, addr: number, type: number, signal: number): void {
  k.m.words[addr + DH_TYPE] = type;
  k.m.words[addr + DH_SIGNAL_STATE] = signal;
  dstate(k).objects.set(addr, type);
  registerObject(k, addr, OBJ_DISPATCHER);
}

/** Whether `addr` was initialized as a dispatcher object (by any processor). */
export function isDispatcherObject(k: Kernel, addr: number): boolean {
  return dstate(k).objects.has(addr) || registeredKind(k, addr) === OBJ_DISPATCHER;
}

/** The type of the dispatcher object at `addr`; a ScenarioError naming `api` when it is none. */
export function objectAt(k: Kernel, addr: number, api: string): number {
  const st = dstate(k);
  const type = st.objects.get(addr);
  if (type !== undefined) return type;
  // One another processor initialized while the actors ran: its header says which it is.
  if (registeredKind(k, addr) === OBJ_DISPATCHER) {
    const t = k.m.words[addr + DH_TYPE]!;
    st.objects.set(addr, t);
    return t;
  }
  throw new ScenarioError(`${api}: ${k.m.nameOf(addr)} is not a dispatcher object (initialize it with KeInitializeEvent, KeInitializeMutex, KeInitializeSemaphore or KeInitializeTimerEx)`);
}

/** "synchronization event queueLock", for reports. */
export function describeObject(k: Kernel, addr: number, type: number): string {
  return `${TYPE_NAMES[type] ?? 'object'} ${k.m.nameOf(addr)}`;
}

/** The thread whose KTHREAD is at `kthread` (every processor has every thread object). */
export function threadAt(k: Kernel, kthread: number): Thread | null {
  if (kthread === 0) return null;
  for (const t of k.m.threads) if (t.kthread === kthread) return t;
  return null;
}

/** Owner of a mutex (MUTANT_OWNER_THREAD). */
export function mutexOwner(k: Kernel, mutex: number): Thread | null {
  return threadAt(k, k.m.words[mutex + MUTANT_OWNER_THREAD]!);
}
