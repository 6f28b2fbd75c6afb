/**
 * Deferred procedure calls (nt-semantics section 10). KeInsertQueueDpc puts a
 * KDPC on a CPU's DPC queue (FALSE if it is already queued, arguments
 * unchanged); the machine runs it at DISPATCH_LEVEL as soon as that CPU's IRQL
 * drops below DISPATCH_LEVEL. DpcData is cleared before the routine runs, so a
 * DPC may be queued again — and on MP run on two CPUs at once.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import { AddressMap } from '../machine/address-map.ts';
import { OP_KERNEL, type Routine } from '../machine/ops.ts';
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
export const DPC_WORDS = 6;

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

/** Queues a DPC object now (no scheduling point): shared by KeInsertQueueDpc and DPC arrivals. */
export function insertQueueDpc(k: Kernel, dpc: PKDPC, arg1: number, arg2: number): boolean {
  const m = k.m;
  const entry = k.dpcs.routines.get(dpc);
  if (!entry) throw new ScenarioError(`${m.nameOf(dpc)} is not a DPC object (use k.KeInitializeDpc)`);
  if (m.read(dpc + DPC_DATA) !== 0) return false;
  m.write(dpc + DPC_DATA, 1);
  m.write(dpc + DPC_ARGUMENT1, arg1);
  m.write(dpc + DPC_ARGUMENT2, arg2);
  const number = m.read(dpc + DPC_NUMBER);
  const target = number > 0 ? m.cpuFor(number - 1) : m.cur.cpu;
  const ctxArg = m.read(dpc + DPC_DEFERRED_CONTEXT);
  const front = m.read(dpc + DPC_IMPORTANCE) === HighImportance;
  m.queueDpc(
    target,
    entry.name,
    dpc,
    () => {
      // DpcData is cleared before the routine runs: from here on it can be queued again.
      m.words[dpc + DPC_DATA] = 0;
      return entry.routine(k, dpc, ctxArg, arg1, arg2);
    },
    front,
  );
  return true;
}

export const dpcApi = {
  /** Any IRQL. Allocates and initializes a KDPC for `routine`. */
  KeInitializeDpc(this: Kernel, routine: KDEFERRED_ROUTINE, deferredContext = 0, name?: string): PKDPC {
    if (typeof routine !== 'function') throw new ScenarioError('KeInitializeDpc: DeferredRoutine must be a generator function');
    const dpc = this.m.memory.alloc(DPC_WORDS, 'KDPC');
    this.m.words[dpc + DPC_IMPORTANCE] = MediumImportance;
    this.m.words[dpc + DPC_DEFERRED_CONTEXT] = deferredContext;
    this.dpcs.routines.set(dpc, { routine, name: name ?? (routine.name || 'DeferredRoutine') });
    return dpc;
  },

  /** Any IRQL. Makes the DPC run on processor `number` (folded onto the rig's CPUs). */
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

  /** Any IRQL. TRUE if the DPC was queued and is now removed; it cannot stop a DPC already running. */
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

  /** TRUE when called from a DPC routine. */
  KeIsExecutingDpc(this: Kernel): boolean {
    return this.m.cur.kind === 'dpc';
  },
};

export type DpcApi = typeof dpcApi;
