/**
 * Deferred procedure calls (nt-semantics section 10). KeInsertQueueDpc puts a
 * KDPC on a CPU's DPC queue (FALSE if it is already queued, arguments
 * unchanged); the machine runs it at DISPATCH_LEVEL as soon as that CPU's IRQL
 * drops below DISPATCH_LEVEL. DpcData is cleared before the routine runs, so a
 * DPC may be queued again — and on MP run on two CPUs at once.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import { AddressMap } from '../machine/address-map.ts';
import { PASSIVE_LEVEL, irqlName } from '../machine/irql.ts';
import { OP_KERNEL, OP_SPIN, type Routine } from '../machine/ops.ts';
import { BugCheck } from '../machine/bugcheck.ts';
import { STATUS_ASSERTION_FAILURE } from './status.ts';
import { checkDriverCode } from './unload.ts';
import type { LogicalCpu } from '../machine/cpu.ts';
import type { Kernel } from './kernel.ts';

/** KDPC layout (words). */
export const DPC_IMPORTANCE = 0;
/** Target processor + 1, or 0 for "the CPU that queues it". */
export const DPC_NUMBER = 1;
/** Non-zero while the DPC sits in a queue. */
export const DPC_DATA = 2;
export const DPC_DEFERRED_CONTEXT = 3;
export const DPC_ARGUMENT1 = 4;
export const DPC_ARGUMENT2 = 5;
/**
 * Non-zero from the moment a processor dequeues the DPC until its routine returns (the box's
 * stand-in for the per-processor bookkeeping KeFlushQueuedDpcs relies on).
 */
export const DPC_RUNNING = 6;
export const DPC_WORDS = 7;

export const LowImportance = 0;
export const MediumImportance = 1;
export const HighImportance = 2;

export type PKDPC = number;
export type KDEFERRED_ROUTINE = (
  k: Kernel,
  dpc: PKDPC,
  deferredContext: number,
  systemArgument1: number,
  systemArgument2: number,
) => Routine<unknown>;

export class DpcTable {
  readonly routines = new AddressMap<{ routine: KDEFERRED_ROUTINE; name: string }>();
  reset(): void {
    this.routines.clear();
  }
}

/**
 * Queues a DPC object now (no scheduling point): shared by KeInsertQueueDpc, DPC arrivals and timer
 * expiry. An untargeted DPC goes to `onCpu` (default: the CPU that queues it).
 */
export function insertQueueDpc(k: Kernel, dpc: PKDPC, arg1: number, arg2: number, onCpu?: LogicalCpu): boolean {
  const m = k.m;
  const entry = k.dpcs.routines.get(dpc);
  if (!entry) throw new ScenarioError(`${m.nameOf(dpc)} is not a DPC object (use k.KeInitializeDpc)`);
  if (m.read(dpc + DPC_DATA) !== 0) return false;
  m.write(dpc + DPC_DATA, 1);
  m.write(dpc + DPC_ARGUMENT1, arg1);
  m.write(dpc + DPC_ARGUMENT2, arg2);
  const number = m.read(dpc + DPC_NUMBER);
  const target = number > 0 ? m.cpuFor(number - 1) : (onCpu ?? m.cur.cpu);
  const ctxArg = m.read(dpc + DPC_DEFERRED_CONTEXT);
  const front = m.read(dpc + DPC_IMPORTANCE) === HighImportance;
  m.queueDpc(
    target,
    entry.name,
    dpc,
    () => {
      // DpcData is cleared before the routine runs: from here on it can be queued again.
      m.words[dpc + DPC_DATA] = 0;
      if (m.blocked.length !== 0) m.wake(dpc + DPC_DATA);
      // The driver's routine, in an image that may be gone (0xCE).
      checkDriverCode(k, entry.routine, entry.name, 'DPC');
      m.words[dpc + DPC_RUNNING] = 1;
      const r = entry.routine(k, dpc, ctxArg, arg1, arg2);
      if (typeof (r as { next?: unknown } | undefined)?.next === 'function') return runDpc(k, dpc, r);
      // A free-run plain-function twin has run the routine to its end already.
      m.words[dpc + DPC_RUNNING] = 0;
      return r;
    },
    front,
  );
  return true;
}

/**
 * A dequeued DPC's run: the kernel reads the KDPC as it starts the routine — a KDPC in freed pool
 * is touched here (checked build: 0xD5 in the DPC) — and marks it not running when the routine ends.
 */
function* runDpc(k: Kernel, dpc: PKDPC, routine: Routine<unknown>): Routine<unknown> {
  k.m.read(dpc + DPC_DEFERRED_CONTEXT);
  try {
    return yield* routine;
  } finally {
    k.m.words[dpc + DPC_RUNNING] = 0;
    if (k.m.blocked.length !== 0) k.m.wake(dpc + DPC_RUNNING);
  }
}

/** Whether a DPC is queued or running: a plain read of words that may lie in freed pool. */
function dpcBusy(k: Kernel, dpc: PKDPC): boolean {
  const w = k.m.words;
  return w[dpc + DPC_DATA] !== 0 || w[dpc + DPC_RUNNING] === 1;
}

export const dpcApi = {
  /**
   * Any IRQL. Initializes a KDPC for `routine`. NT order — `KeInitializeDpc(dpc, routine,
   * deferredContext, name?)` — lays it out in caller storage (DPC_WORDS words, e.g. inside a device
   * extension from ExAllocatePoolWithTag), so freeing that storage while the DPC is queued is a
   * use-after-free when it runs. Without the address — `KeInitializeDpc(routine, deferredContext,
   * name?)` — the KDPC is allocated. Returns its address.
   */
  KeInitializeDpc(this: Kernel, a: PKDPC | KDEFERRED_ROUTINE, b?: KDEFERRED_ROUTINE | number, c?: number | string, d?: string): PKDPC {
    const m = this.m;
    let dpc: PKDPC;
    let routine: unknown;
    let deferredContext: number;
    let name: string | undefined;
    if (typeof a === 'number') {
      dpc = a;
      routine = b;
      deferredContext = typeof c === 'number' ? c : 0;
      name = d;
      const block = m.memory.blockAt(dpc);
      if (!block || dpc + DPC_WORDS > block.addr + block.words) {
        throw new ScenarioError(`KeInitializeDpc: ${m.describeAddress(dpc)} is not allocated storage of ${DPC_WORDS} words (a KDPC needs that many)`);
      }
    } else {
      routine = a;
      deferredContext = typeof b === 'number' ? b : 0;
      name = typeof c === 'string' ? c : undefined;
      dpc = m.memory.alloc(DPC_WORDS, 'KDPC');
    }
    if (typeof routine !== 'function') throw new ScenarioError('KeInitializeDpc: DeferredRoutine must be a generator function');
    const fn = routine as KDEFERRED_ROUTINE;
    for (let i = 0; i < DPC_WORDS; i++) m.words[dpc + i] = 0;
    m.words[dpc + DPC_IMPORTANCE] = MediumImportance;
    m.words[dpc + DPC_DEFERRED_CONTEXT] = deferredContext;
    this.dpcs.routines.set(dpc, { routine: fn, name: name ?? (fn.name || 'DeferredRoutine') });
    return dpc;
  },

  /**
   * Any IRQL. Makes the DPC run on processor `number` (folded onto the rig's CPUs) the next time it
   * is queued; a DPC already in a queue stays where it is.
   */
  KeSetTargetProcessorDpc(this: Kernel, dpc: PKDPC, number: number): void {
    this.m.words[dpc + DPC_NUMBER] = number + 1;
  },

  KeSetImportanceDpc(this: Kernel, dpc: PKDPC, importance: number): void {
    this.m.words[dpc + DPC_IMPORTANCE] = importance;
  },

  /** Any IRQL. TRUE if queued; FALSE if it was already in a queue (the new arguments are dropped). */
  *KeInsertQueueDpc(this: Kernel, dpc: PKDPC, systemArgument1 = 0, systemArgument2 = 0): Routine<boolean> {
    const m = this.m;
    m.cur.apiStack.push('KeInsertQueueDpc');
    yield m.at(OP_KERNEL, dpc + DPC_DATA);
    const queued = insertQueueDpc(this, dpc, systemArgument1, systemArgument2);
    m.cur.apiStack.pop();
    return queued;
  },

  /**
   * Any IRQL. TRUE if the DPC was in a queue and is now removed (it will not run for that insert);
   * FALSE if it was not queued. It cannot stop a DPC whose routine is already running: use
   * KeFlushQueuedDpcs to wait for that.
   */
  *KeRemoveQueueDpc(this: Kernel, dpc: PKDPC): Routine<boolean> {
    const m = this.m;
    yield m.at(OP_KERNEL, dpc + DPC_DATA);
    if (m.read(dpc + DPC_DATA) === 0) return false;
    for (const cpu of m.online) {
      const i = cpu.dpcQueue.findIndex((d) => d.dpc === dpc);
      if (i >= 0) {
        cpu.dpcQueue.splice(i, 1);
        m.live--;
        break;
      }
    }
    m.write(dpc + DPC_DATA, 0);
    return true;
  },

  /**
   * PASSIVE_LEVEL. Returns once no DPC is queued or running anywhere — every DPC queued before the
   * call has run to its end (and any queued meanwhile too: this box waits until the DPCs it knows
   * are all idle). Between checks it sleeps until the busy KDPC's state changes. Checked build: above PASSIVE_LEVEL
   * (or from a DPC) is 0x1E with STATUS_ASSERTION_FAILURE. A KDPC in freed pool is read as memory
   * holds it, without a fault (its delivery faults, not the flush).
   */
  *KeFlushQueuedDpcs(this: Kernel): Routine<void> {
    const m = this.m;
    const ctx = m.cur;
    ctx.apiStack.push('KeFlushQueuedDpcs');
    if (m.checked && (ctx.cpu.irql > PASSIVE_LEVEL || ctx.kind !== 'thread')) {
      throw new BugCheck(0x1e, STATUS_ASSERTION_FAILURE, 0, 0, 0, `assertion failed: KeFlushQueuedDpcs called from ${ctx.kind} '${ctx.name}' at ${irqlName(ctx.cpu.irql)} (PASSIVE_LEVEL only)`);
    }
    for (;;) {
      let busy = -1;
      const known = this.dpcs.routines;
      for (let i = 0; i < known.size; i++) {
        const dpc = known.keyAt(i);
        if (dpcBusy(this, dpc)) {
          busy = m.words[dpc + DPC_DATA] !== 0 ? dpc + DPC_DATA : dpc + DPC_RUNNING;
          break;
        }
      }
      if (busy < 0) break;
      // Sleeps until that word changes (the DPC is dequeued or ends), as a spin on it would.
      yield m.at(OP_SPIN, busy);
    }
    ctx.apiStack.pop();
  },

  /** TRUE when called from a DPC routine. */
  KeIsExecutingDpc(this: Kernel): boolean {
    return this.m.cur.kind === 'dpc';
  },
};

export type DpcApi = typeof dpcApi;
