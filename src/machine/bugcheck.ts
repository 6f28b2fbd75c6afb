/**
 * Bug checks: the codes, NT names and one-line meanings the box reports
 * (nt-semantics section 14). A BugCheck is thrown from inside a routine and
 * unwinds to the engine, which turns it into the run's outcome.
 */

export interface BugCodeInfo {
  code: number;
  name: string;
  meaning: string;
}

const TABLE: BugCodeInfo[] = [
  { code: 0x01, name: 'APC_INDEX_MISMATCH', meaning: 'Critical or guarded regions were left unbalanced, or a mutex was held across a system-service return.' },
  { code: 0x09, name: 'IRQL_NOT_GREATER_OR_EQUAL', meaning: 'IRQL was "raised" to a level below the current one.' },
  { code: 0x0a, name: 'IRQL_NOT_LESS_OR_EQUAL', meaning: 'Kernel code touched invalid or pageable memory at an IRQL too high to take a page fault.' },
  { code: 0x0c, name: 'MAXIMUM_WAIT_OBJECTS_EXCEEDED', meaning: 'A wait named more objects than allowed: over 3 without a wait block array, or over 64.' },
  { code: 0x0f, name: 'SPIN_LOCK_ALREADY_OWNED', meaning: 'A spin lock was acquired by the processor that already holds it: a recursive acquire that would spin forever.' },
  { code: 0x10, name: 'SPIN_LOCK_NOT_OWNED', meaning: 'A spin lock was released by a processor that does not hold it.' },
  { code: 0x1e, name: 'KMODE_EXCEPTION_NOT_HANDLED', meaning: 'A kernel-mode exception was raised and nothing handled it.' },
  { code: 0x44, name: 'MULTIPLE_IRP_COMPLETE_REQUESTS', meaning: 'An IRP was completed twice: two paths both believed they owned it.' },
  { code: 0x48, name: 'CANCEL_STATE_IN_COMPLETED_IRP', meaning: 'IoCancelIrp found a cancel routine set on an IRP that was already completed.' },
  { code: 0x4a, name: 'IRQL_GT_ZERO_AT_SYSTEM_SERVICE', meaning: 'A thread returned from the kernel with IRQL still raised: a lock or raise was never undone.' },
  { code: 0x50, name: 'PAGE_FAULT_IN_NONPAGED_AREA', meaning: 'Kernel code touched memory that is not allocated.' },
  { code: 0x7e, name: 'SYSTEM_THREAD_EXCEPTION_NOT_HANDLED', meaning: 'A system thread raised an exception that nothing handled.' },
  { code: 0xb8, name: 'ATTEMPTED_SWITCH_FROM_DPC', meaning: 'A DPC routine tried to wait or yield: DPCs run at DISPATCH_LEVEL and cannot block.' },
  { code: 0xc2, name: 'BAD_POOL_CALLER', meaning: 'A driver made a bad pool request, such as freeing a block twice (parameter 1 = 7).' },
  { code: 0xc4, name: 'DRIVER_VERIFIER_DETECTED_VIOLATION', meaning: 'Driver Verifier caught a driver breaking a kernel rule (parameter 1 says which).' },
  { code: 0xc7, name: 'TIMER_OR_DPC_INVALID', meaning: 'A kernel timer or DPC was found in memory where none may be: memory freed, or a driver image unloaded, while a timer was still set or a DPC still queued.' },
  { code: 0xc8, name: 'IRQL_UNEXPECTED_VALUE', meaning: 'IRQL was not what it should be: a raise or lock was not undone.' },
  { code: 0xc9, name: 'DRIVER_VERIFIER_IOMANAGER_VIOLATION', meaning: 'The I/O Verifier caught a driver breaking an IRP rule (parameter 1 says which).' },
  { code: 0xce, name: 'DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS', meaning: 'A driver unloaded while its DPCs, timers or callbacks were still queued.' },
  { code: 0xd1, name: 'DRIVER_IRQL_NOT_LESS_OR_EQUAL', meaning: 'A driver touched pageable or invalid memory at DISPATCH_LEVEL or above.' },
  { code: 0xd5, name: 'DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL', meaning: 'A driver touched memory after freeing it (Verifier special pool caught the use-after-free).' },
  { code: 0xd6, name: 'DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION', meaning: 'A driver touched memory beyond the end (or before the start) of its pool allocation (Verifier special pool caught it).' },
  { code: 0xe1, name: 'WORKER_THREAD_RETURNED_AT_BAD_IRQL', meaning: 'A work item routine returned to the system worker thread with IRQL still raised.' },
  { code: 0xe3, name: 'RESOURCE_NOT_OWNED', meaning: 'An ERESOURCE was released by a thread that does not own it.' },
  { code: 0x101, name: 'CLOCK_WATCHDOG_TIMEOUT', meaning: 'A processor stopped answering clock interrupts, for example spinning with interrupts masked.' },
  { code: 0x133, name: 'DPC_WATCHDOG_VIOLATION', meaning: 'A processor stayed at DISPATCH_LEVEL or above too long, for example spinning on a lock nobody releases.' },
  { code: 0x139, name: 'KERNEL_SECURITY_CHECK_FAILURE', meaning: 'A kernel data structure was found corrupt (parameter 1 = 3: a LIST_ENTRY).' },
];

export const BUGCODES: ReadonlyMap<number, BugCodeInfo> = new Map(TABLE.map((b) => [b.code, b]));
const BY_NAME: ReadonlyMap<string, BugCodeInfo> = new Map(TABLE.map((b) => [b.name, b]));

export function bugCodeByName(name: string): BugCodeInfo | undefined {
  return BY_NAME.get(name);
}

export function bugCodeName(code: number): string {
  return BUGCODES.get(code)?.name ?? `BUGCHECK_0x${code.toString(16).toUpperCase()}`;
}

/** Meanings of Driver Verifier 0xC4 subcodes (parameter 1) the box raises. */
export const VERIFIER_SUBCODES: ReadonlyMap<number, string> = new Map([
  [0x30, 'KeRaiseIrql to an IRQL lower than the current one'],
  [0x31, 'KeLowerIrql to an IRQL higher than the current one'],
  [0x00, 'zero-byte pool allocation'],
  [0x01, 'paged pool allocated above APC_LEVEL'],
  [0x02, 'non-paged pool allocated above DISPATCH_LEVEL'],
  [0x11, 'paged pool freed above APC_LEVEL'],
  [0x12, 'non-paged pool freed above DISPATCH_LEVEL'],
  [0x62, 'driver unloading without first freeing its pool allocations'],
  [0x32, 'KeReleaseSpinLock called at an IRQL other than DISPATCH_LEVEL (often a double release)'],
  [0x36, 'in-stack queued spin lock released at an IRQL other than DISPATCH_LEVEL'],
  [0x33, 'fast mutex acquired at an IRQL above APC_LEVEL'],
  [0x34, 'fast mutex released at an IRQL other than APC_LEVEL'],
  [0x37, 'ERESOURCE acquired with normal kernel APCs enabled (no critical region)'],
  [0x38, 'ERESOURCE released with normal kernel APCs enabled (no critical region)'],
  [0x39, 'ExAcquireFastMutexUnsafe called above APC_LEVEL, or below it with APCs enabled'],
  [0x3a, 'ExReleaseFastMutexUnsafe called above APC_LEVEL, or below it with APCs enabled'],
  [0x3e, 'KeLeaveCriticalRegion called by a thread that is not in a critical region'],
  [0x40, 'KeAcquireSpinLockAtDpcLevel called below DISPATCH_LEVEL'],
  [0x41, 'KeReleaseSpinLockFromDpcLevel called below DISPATCH_LEVEL'],
  [0x42, 'KeAcquireSpinLock called above DISPATCH_LEVEL'],
  [0x80, 'KeSetEvent called above DISPATCH_LEVEL'],
  [0xd0, 'an ERESOURCE initialized again while it is live'],
  [0xd1, 'an ERESOURCE deleted that was never initialized'],
  [0xe5, 'a kernel API called at an IRQL it does not allow'],
  [0x11a, 'KeEnterCriticalRegion or KeEnterGuardedRegion called above APC_LEVEL'],
  [0x11b, 'KeLeaveCriticalRegion or KeLeaveGuardedRegion called above APC_LEVEL'],
  [0x120, 'wait on a dispatcher object above DISPATCH_LEVEL'],
  [0x121, 'wait on a dispatcher object at DISPATCH_LEVEL with no timeout (an infinite wait)'],
  [0x122, 'wait on a dispatcher object at DISPATCH_LEVEL with a non-zero timeout'],
  [0x1000, 'self-deadlock: a non-recursive lock acquired again by its owner'],
  [0x1001, 'lock hierarchy violation: two locks taken in both orders (deadlock possible)'],
  [0x1003, 'locks released out of order'],
  [0x1004, 'lock released by a thread other than the one that acquired it'],
  [0x1007, 'lock released without having been acquired'],
  [0x00020016, 'IrqlKeSetEvent rule: KeSetEvent with Wait = TRUE above APC_LEVEL'],
  [0x00040006, 'QueuedSpinLock rule: an in-stack queue handle reused while still enqueued'],
  [0x00040007, 'QueuedSpinLockRelease rule: an in-stack queued spin lock released with a handle that does not hold it'],
]);

export class BugCheck extends Error {
  readonly params: [number, number, number, number];
  constructor(
    readonly code: number,
    p1 = 0,
    p2 = 0,
    p3 = 0,
    p4 = 0,
    readonly detail = '',
  ) {
    super(`${bugCodeName(code)} (0x${code.toString(16).toUpperCase()})${detail ? `: ${detail}` : ''}`);
    this.name = 'BugCheck';
    this.params = [p1, p2, p3, p4];
  }
  get bugName(): string {
    return bugCodeName(this.code);
  }
}

/** A Driver Verifier violation: 0xC4 with its subcode in parameter 1. */
export function verifierViolation(subcode: number, p2 = 0, p3 = 0, p4 = 0, detail = ''): BugCheck {
  return new BugCheck(0xc4, subcode, p2, p3, p4, detail || VERIFIER_SUBCODES.get(subcode) || '');
}

/**
 * An exception raised in kernel mode (ExRaiseStatus, e.g. STATUS_SEMAPHORE_LIMIT_EXCEEDED).
 * Driver code may catch it (`try { ... } catch`, like __try/__except); unhandled, it ends the
 * run as KMODE_EXCEPTION_NOT_HANDLED (0x1E) with the status in parameter 1.
 */
export class RaisedException extends BugCheck {
  constructor(
    readonly status: number,
    detail = '',
  ) {
    super(0x1e, status, 0, 0, 0, detail);
    this.name = 'RaisedException';
  }
}

/** A scenario's own assertion or invariant failed. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/** The scenario misused the scenario API or the box itself (not a driver bug). */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}
