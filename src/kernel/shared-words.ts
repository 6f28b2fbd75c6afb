/**
 * Layout of Machine.kernelShared: the kernel-global words every processor shares (free-run: one
 * copy in shared control memory for all CPU workers). Families that keep cross-processor state
 * here change it only while actors run and under the dispatcher lock (Machine.lockDispatcher),
 * never during setup — every free-run worker runs setup itself.
 */

/** Counter that orders dispatcher waits (KT_WAIT_SEQUENCE). */
export const KS_WAIT_SEQUENCE = 0;
/** Counter that orders ERESOURCE owner and waiter entries (their insertion order). */
export const KS_RESOURCE_SEQUENCE = 1;
/** Dispatcher waits linked now (KT_WAIT_ACTIVE set): with none, a signal looks no further. */
export const KS_ACTIVE_WAITS = 5;
/** High-water marks of the ERESOURCE records and entries in use (scans stop there). */
export const KS_RESOURCE_RECORDS_USED = 2;
export const KS_RESOURCE_ENTRIES_USED = 3;

/** ERESOURCE records: [address, exclusive, exclusive owner KTHREAD, hand-off pending, exclusive waiters]. */
export const KS_RESOURCES = 64;
export const RESOURCE_RECORD_WORDS = 8;
export const MAX_SHARED_RESOURCES = 32;

/** ERESOURCE entries: [resource, KTHREAD, kind (owner / shared waiter), count, sequence]. */
export const KS_RESOURCE_ENTRIES = KS_RESOURCES + MAX_SHARED_RESOURCES * RESOURCE_RECORD_WORDS;
export const RESOURCE_ENTRY_WORDS = 5;
export const MAX_RESOURCE_ENTRIES = 128;

/**
 * IRP completion records: [IRP address, completed, length of the completer's name, then the name
 * (two UTF-16 units a word)] — a second completion on any processor finds the first one here.
 */
export const KS_IRPS = KS_RESOURCE_ENTRIES + MAX_RESOURCE_ENTRIES * RESOURCE_ENTRY_WORDS;
export const IRP_RECORD_WORDS = 20;
export const IRP_RECORD_NAME_UNITS = (IRP_RECORD_WORDS - 3) * 2;
export const MAX_SHARED_IRPS = 128;
/** IRP records in use (scans stop there). */
export const KS_IRPS_USED = 4;

/**
 * Driver Verifier's lock-order graph: edges [lock held, lock acquired] in the order first seen, so
 * that two CPUs taking two locks in opposite orders meet in one graph.
 */
export const KS_LOCK_ORDER = KS_IRPS + MAX_SHARED_IRPS * IRP_RECORD_WORDS;
export const LOCK_ORDER_EDGE_WORDS = 2;
export const MAX_LOCK_ORDER_EDGES = 256;
/** Edges in use. */
export const KS_LOCK_ORDER_USED = 6;

export const KERNEL_SHARED_END = KS_LOCK_ORDER + MAX_LOCK_ORDER_EDGES * LOCK_ORDER_EDGE_WORDS;

/**
 * Clears what a run used: the counters and the records below each table's high-water mark, the
 * marks last (free-run: several CPU workers may clear at once, and each clears the same words).
 */
export function clearKernelShared(w: Int32Array<ArrayBufferLike>): void {
  w.fill(0, KS_RESOURCES, KS_RESOURCES + w[KS_RESOURCE_RECORDS_USED]! * RESOURCE_RECORD_WORDS);
  w.fill(0, KS_RESOURCE_ENTRIES, KS_RESOURCE_ENTRIES + w[KS_RESOURCE_ENTRIES_USED]! * RESOURCE_ENTRY_WORDS);
  w.fill(0, KS_IRPS, KS_IRPS + w[KS_IRPS_USED]! * IRP_RECORD_WORDS);
  w.fill(0, KS_LOCK_ORDER, KS_LOCK_ORDER + w[KS_LOCK_ORDER_USED]! * LOCK_ORDER_EDGE_WORDS);
  w.fill(0, 0, KS_RESOURCES);
}
