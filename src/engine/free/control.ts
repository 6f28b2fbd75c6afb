/**
 * The control block the free-run coordinator and its CPU workers share: one
 * Int32Array over a SharedArrayBuffer. Words below 16 are global; each CPU
 * has a 64-byte line of counters after them (so counters of two CPUs never
 * share a cache line), then a mailbox for DPCs queued to it from another CPU.
 */
import { KERNEL_SHARED_WORDS } from '../../machine/machine.ts';

/** 0 run; STOP_AT_BOUNDARY finish after the current iteration; STOP_NOW abort (failure, hang, cancel). */
export const C_STOP = 0;
export const STOP_AT_BOUNDARY = 1;
export const STOP_NOW = 2;
/** Workers arrived at the current barrier (CLOSING while the closer runs the end-of-iteration work). */
export const C_ARRIVED = 1;
/** Barrier generation: bumped when a barrier opens. */
export const C_GEN = 2;
/** 0, or 1 + slot of the CPU that claimed the first failure. */
export const C_FAIL = 3;
/** Iterations completed (invariants checked). */
export const C_ITER = 4;
/** Cross-CPU DPCs posted and not yet finished. */
export const C_INFLIGHT = 5;
/** Workers that loaded the scenario and are about to start. */
export const C_READY = 6;
/** Set by the coordinator when the time budget is spent: the closer then stops at the iteration boundary. */
export const C_TIME_UP = 7;
/** Iteration budget (0 = until told to stop). */
export const C_MAX_ITER = 8;
/** The dispatcher lock (Machine.lockDispatcher): 0 free, else 1 + slot of the holder. */
export const C_DISPATCHER_LOCK = 9;

export const CLOSING = 1 << 20;

export const CPU_BASE = 16;
export const CPU_STRIDE = 16;
/** Per-CPU words (published every few hundred steps; Int32, so they wrap — the coordinator only compares them). */
export const P_STEPS = 0;
export const P_ACQUIRE = 1;
export const P_SPINS = 2;
/** Evidence of progress: contexts finished, lock acquisitions, memory changes. */
export const P_PROGRESS = 3;
/** 1 while the CPU runs actors of an iteration. */
export const P_BUSY = 4;

export const MAILBOX_SLOTS = 64;
export const MAILBOX_ENTRY = 4;
/**
 * Mailbox words: [0] entries written, [1] entries taken, then MAILBOX_SLOTS entries (dpc + 1, arg1,
 * arg2, front) for a DPC, or (-kthread, wait status, 0, 0) for "ready this waiting thread".
 */
export const MAILBOX_STRIDE = 2 + MAILBOX_SLOTS * MAILBOX_ENTRY;

export function controlWords(cpus: number): number {
  return kernelSharedBase(cpus) + KERNEL_SHARED_WORDS;
}

/** Where Machine.kernelShared lives in the control block (after the mailboxes). */
export function kernelSharedBase(cpus: number): number {
  return CPU_BASE + cpus * CPU_STRIDE + cpus * MAILBOX_STRIDE;
}

export function cpuWord(slot: number, field: number): number {
  return CPU_BASE + slot * CPU_STRIDE + field;
}

export function mailboxBase(cpus: number, slot: number): number {
  return CPU_BASE + cpus * CPU_STRIDE + slot * MAILBOX_STRIDE;
}

/**
 * Waits until the barrier generation moves past `gen`: spins first (a
 * free-run iteration is microseconds long, and a futex wake-up costs several),
 * then sleeps in short Atomics.wait slices. Returns false when told to stop now.
 * Atomics.wait is not allowed on a browser's main thread, but workers may use it.
 */
export function waitGeneration(ctl: Int32Array, gen: number, spinMicros: number): boolean {
  let until = -1;
  for (let i = 0; ; i++) {
    if (Atomics.load(ctl, C_GEN) !== gen) return true;
    if (Atomics.load(ctl, C_STOP) === STOP_NOW) return false;
    if ((i & 63) === 63) {
      const t = clock();
      if (until < 0) until = t + spinMicros / 1000;
      else if (t > until) Atomics.wait(ctl, C_GEN, gen, 1);
    }
  }
}

const clock = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * How long a waiting worker spins before it sleeps: long when every CPU
 * worker has a host core of its own (a futex wake-up costs tens of
 * microseconds on a VM, longer than most iterations), short when the host is
 * oversubscribed (a spinning worker would take the core from the one it waits for).
 */
export function spinMicrosFor(workers: number, hostCpus: number): number {
  return workers <= hostCpus ? 200 : 20;
}

export function openBarrier(ctl: Int32Array): void {
  Atomics.store(ctl, C_ARRIVED, 0);
  Atomics.add(ctl, C_GEN, 1);
  Atomics.notify(ctl, C_GEN);
}

/** A plain barrier among `n` workers; the last to arrive opens it. False when told to stop now. */
export function barrier(ctl: Int32Array, n: number, spinMicros: number): boolean {
  const gen = Atomics.load(ctl, C_GEN);
  if (Atomics.add(ctl, C_ARRIVED, 1) === n - 1) {
    openBarrier(ctl);
    return true;
  }
  return waitGeneration(ctl, gen, spinMicros);
}

export function requestStop(ctl: Int32Array, how: number): void {
  // STOP_NOW wins over STOP_AT_BOUNDARY.
  for (;;) {
    const cur = Atomics.load(ctl, C_STOP);
    if (cur >= how) break;
    if (Atomics.compareExchange(ctl, C_STOP, cur, how) === cur) break;
  }
  Atomics.notify(ctl, C_GEN);
}
