/**
 * The kernel's regions of shared kernel memory (SharedKernelMemory): the
 * kernel-global state every processor must see. Each Kernel asks for them
 * once, by name and in this order, so every processor (free-run: every CPU
 * worker) finds each region at the same offset.
 *
 * Families change their regions only under the dispatcher lock, and only
 * through SharedKernelMemory.use() (which has the next run clear them).
 */
import type { SharedKernelMemory, SharedTable } from '../machine/shared-state.ts';

/** ERESOURCE records: [address, exclusive, exclusive owner KTHREAD, hand-off pending, exclusive waiters]. */
export const RESOURCE_RECORD_WORDS = 5;
export const MAX_SHARED_RESOURCES = 32;
/** ERESOURCE entries: [resource, KTHREAD, kind (owner / shared waiter), count, sequence]. */
export const RESOURCE_ENTRY_WORDS = 5;
export const MAX_RESOURCE_ENTRIES = 128;
/**
 * IRP completion records: [IRP address, completed, length of the completer's name, then the name
 * (two UTF-16 units a word)] — a second completion on any processor finds the first one here.
 */
export const IRP_RECORD_WORDS = 20;
export const IRP_RECORD_NAME_UNITS = (IRP_RECORD_WORDS - 3) * 2;
export const MAX_SHARED_IRPS = 128;
/** Cancel routines set in this run: [hash of the routine's name]; Irp->CancelRoutine names an entry. */
export const MAX_CANCEL_ROUTINES = 64;
/** Driver Verifier's lock-order graph: edges [lock held, lock acquired], in the order first seen. */
export const MAX_LOCK_ORDER_EDGES = 256;
/** Kernel objects initialized in this run: [address, kind] (see object-registry.ts). */
export const MAX_REGISTERED_OBJECTS = 512;

export class KernelSharedRegions {
  /** Counter that orders dispatcher waits (KT_WAIT_SEQUENCE). */
  readonly waitSequence: number;
  /** Dispatcher waits linked now (KT_WAIT_ACTIVE set): with none, a signal looks no further. */
  readonly activeWaits: number;
  /** Counter that orders ERESOURCE owner and waiter entries (their insertion order). */
  readonly resourceSequence: number;
  readonly resources: SharedTable;
  readonly resourceEntries: SharedTable;
  readonly irpCompletions: SharedTable;
  readonly cancelRoutines: SharedTable;
  readonly lockOrder: SharedTable;
  readonly objects: SharedTable;

  constructor(readonly memory: SharedKernelMemory) {
    this.waitSequence = memory.counter('wait.sequence');
    this.activeWaits = memory.counter('wait.active');
    this.resourceSequence = memory.counter('eresource.sequence');
    this.resources = memory.table('eresource.records', RESOURCE_RECORD_WORDS, MAX_SHARED_RESOURCES);
    this.resourceEntries = memory.table('eresource.entries', RESOURCE_ENTRY_WORDS, MAX_RESOURCE_ENTRIES);
    this.irpCompletions = memory.table('irp.completions', IRP_RECORD_WORDS, MAX_SHARED_IRPS);
    this.cancelRoutines = memory.table('irp.cancel-routines', 1, MAX_CANCEL_ROUTINES);
    this.lockOrder = memory.table('verifier.lock-order', 2, MAX_LOCK_ORDER_EDGES);
    this.objects = memory.table('kernel.objects', 2, MAX_REGISTERED_OBJECTS);
  }
}
