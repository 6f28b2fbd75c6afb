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

/** IRP lifecycle records. */
export const KS_IRPS = KS_RESOURCE_ENTRIES + MAX_RESOURCE_ENTRIES * RESOURCE_ENTRY_WORDS;
export const IRP_RECORD_WORDS = 4;
export const MAX_SHARED_IRPS = 256;

export const KERNEL_SHARED_END = KS_IRPS + MAX_SHARED_IRPS * IRP_RECORD_WORDS;
