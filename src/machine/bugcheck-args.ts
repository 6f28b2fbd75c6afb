/**
 * What each of a bug check's four parameters holds, worded as WinDbg's
 * `!analyze -v` and Microsoft's bug-check reference word them ("Arg1: Address
 * of the IRP"), for the parameters as the box fills them; and, for bug checks
 * whose cause is an earlier step of the run (the first completion of an IRP,
 * the free of a block), how to find that step in a trace.
 */

/** Labels of Arg1..Arg4; `reserved` for a parameter Windows leaves unused. */
export type ArgLabels = readonly [string, string, string, string];

const RESERVED = 'Reserved';
const R3: [string, string, string] = [RESERVED, RESERVED, RESERVED];

/** Arg2..Arg4 of Driver Verifier's 0xC4, by subcode (Arg1). */
const VERIFIER_ARGS: ReadonlyMap<number, [string, string, string]> = new Map([
  [0x00, ['Current IRQL', 'Pool type', 'Number of bytes']],
  [0x01, ['Current IRQL', 'Pool type', 'Size of allocation, in bytes']],
  [0x02, ['Current IRQL', 'Pool type', 'Size of allocation, in bytes']],
  [0x11, ['Current IRQL', 'Pool type', 'Address of pool']],
  [0x12, ['Current IRQL', 'Pool type', 'Address of pool']],
  [0x30, ['Current IRQL', 'Requested IRQL', '0']],
  [0x31, ['Current IRQL', 'Requested IRQL', '0: new IRQL is bad; 1: new IRQL is invalid inside a DPC routine']],
  [0x32, ['Address of the spin lock', 'Current IRQL', 'The old IRQL the release restores']],
  [0x33, ['Current IRQL', 'Address of the fast mutex', RESERVED]],
  [0x34, ['Current IRQL', 'Address of the fast mutex', RESERVED]],
  [0x36, ['Address of the spin lock', 'Current IRQL', RESERVED]],
  [0x37, ['Current IRQL', 'Thread APC disable count', 'Address of the resource']],
  [0x38, ['Current IRQL', 'Thread APC disable count', 'Address of the resource']],
  [0x39, ['Current IRQL', 'Address of the fast mutex', RESERVED]],
  [0x3a, ['Current IRQL', 'Address of the fast mutex', RESERVED]],
  [0x3e, ['Address of the thread', 'Thread APC disable count', RESERVED]],
  [0x40, ['Address of the spin lock', 'Current IRQL', RESERVED]],
  [0x41, ['Address of the spin lock', 'Current IRQL', RESERVED]],
  [0x42, ['Address of the spin lock', 'Current IRQL', RESERVED]],
  [0x80, ['Current IRQL', 'Address of the event object', RESERVED]],
  [0xd0, ['Address of the resource', RESERVED, RESERVED]],
  [0xd1, ['Address of the resource', RESERVED, RESERVED]],
  [0x11a, ['Current IRQL', '0: critical region; 1: guarded region', RESERVED]],
  [0x11b, ['Current IRQL', '0: critical region; 1: guarded region', RESERVED]],
  [0x120, ['Current IRQL', 'Address of the object being waited on', RESERVED]],
  [0x121, ['Address of the object being waited on', RESERVED, RESERVED]],
  [0x122, ['Address of the object being waited on', RESERVED, RESERVED]],
  [0x1000, ['Address of the lock', 'Address of the thread (if known)', RESERVED]],
  [0x1001, ['Address of the lock being acquired', 'Address of the lock already held', 'Address of the thread']],
  [0x1003, ['Address of the lock', RESERVED, RESERVED]],
  [0x1004, ['Address of the lock', 'Address of the owning thread', 'Address of the releasing thread']],
  [0x1007, ['Address of the lock', RESERVED, RESERVED]],
  [0x00020016, ['Current IRQL', 'Address of the event object', RESERVED]],
  [0x00040006, ['Address of the spin lock', 'Address of the lock queue handle', RESERVED]],
  [0x00040007, ['Address of the spin lock', 'Address of the lock queue handle', RESERVED]],
]);

/** Arg2..Arg4 of the I/O Verifier's 0xC9, by subcode (Arg1). */
const IO_VERIFIER_ARGS: ReadonlyMap<number, [string, string, string]> = new Map([
  [0x06, ['Address of the IRP', 'The status the IRP was completed with', RESERVED]],
  [0x07, ['Address of the IRP', 'The cancel routine still set', RESERVED]],
  [0x0e, ['Address of the IRP', 'Current IRQL', RESERVED]],
]);

const FIXED: ReadonlyMap<number, ArgLabels> = new Map<number, ArgLabels>([
  [0x01, ['Address of the system function (system call) or worker routine', 'Thread APC state index', "Thread's combined APC disable count (special << 16 | kernel)", 'Call type (0: system call; 1: worker routine)']],
  [0x09, ['Current IRQL', 'Requested IRQL', RESERVED, RESERVED]],
  [0x0a, ['Memory referenced', 'IRQL at the time of the reference', 'Bit 0: 0 read, 1 write; bit 3: execute', 'Address which referenced memory']],
  [0x0c, ['Number of objects in the wait (Racebox; Windows documents no parameters)', RESERVED, RESERVED, RESERVED]],
  [0x0f, ['Address of the spin lock (Racebox; Windows documents no parameters)', RESERVED, RESERVED, RESERVED]],
  [0x10, ['Address of the spin lock (Racebox; Windows documents no parameters)', RESERVED, RESERVED, RESERVED]],
  [0x1e, ['The exception code that was not handled', 'The address at which the exception occurred', 'Parameter 0 of the exception', 'Parameter 1 of the exception']],
  [0x44, ['Address of the IRP', RESERVED, RESERVED, RESERVED]],
  [0x48, ['Address of the IRP', 'The cancel routine set by the driver', RESERVED, RESERVED]],
  [0x4a, ['Address of the system function (system call routine)', 'Current IRQL', '0', '0']],
  [0x50, ['Memory address referenced', '0: read; 1: write', 'Address that referenced memory (if known)', 'Type of page fault']],
  [0x7e, ['The exception code that was not handled', 'The address where the exception occurred', 'Exception record address', 'Context record address']],
  [0xb8, ['Address of the original thread', 'Address of the new thread', 'Stack address of the original thread', RESERVED]],
  [0xc7, ['Type of object (0: timer; 1: DPC; 2: DPC routine)', 'Address of the object', 'Beginning of the memory range checked', 'End of the memory range checked']],
  [0xc8, ['(Current IRQL << 16) | (Expected IRQL << 8) | UniqueValue', '0, or the APC disable count', RESERVED, RESERVED]],
  [0xce, ['Memory referenced', '0: read; 1: write', 'Address that referenced memory', RESERVED]],
  [0xd1, ['Memory referenced', 'IRQL at the time of the reference', '0: read; 1: write; 8: execute', 'Address that referenced memory']],
  [0xd5, ['Memory address referenced', '0: read; 1: write', 'Address that referenced memory (if known)', RESERVED]],
  [0xd6, ['Memory address referenced', '0: read; 1: write', 'Address that referenced memory (if known)', RESERVED]],
  [0xe1, ['Address of the worker routine', 'IRQL the worker thread returned at', 'Work item parameter', 'Work item address']],
  [0xe3, ['Address of the resource', 'Address of the thread', 'Address of the owner table (if it exists)', RESERVED]],
  [0x101, ['Clock interrupt time-out interval, in nominal clock ticks', '0', 'Address of the PRCB of the unresponsive processor', 'Index of the hung processor']],
  [0x133, ['0: a single DPC exceeded its time allotment; 1: the system spent too long at DISPATCH_LEVEL or above', 'The DPC time count, or the watchdog period', 'The DPC time allotment, or the address of internal data', RESERVED]],
  [0x139, ['The type of corruption (3: a LIST_ENTRY was corrupted)', 'Address of the trap frame', 'Address of the exception record', RESERVED]],
]);

/** Labels of the four parameters of a bug check, as the box fills them. */
export function bugCheckArgLabels(code: number, params: readonly number[]): ArgLabels {
  const p1 = params[0] ?? 0;
  if (code === 0xc4 || code === 0xc9) {
    const rest = (code === 0xc4 ? VERIFIER_ARGS : IO_VERIFIER_ARGS).get(p1) ?? R3;
    return [`Violation code (${code === 0xc4 ? 'Driver Verifier' : 'I/O Verifier'} rule: see below)`, ...rest];
  }
  if (code === 0xc2) {
    // Subcode 7: the box puts the address of the block in Arg3 (Windows: the pool header there, the address in Arg4).
    return p1 === 7 ? ['7: attempt to free pool which was already freed', RESERVED, 'Address of the block of pool being freed', RESERVED] : ['Type of violation', RESERVED, RESERVED, RESERVED];
  }
  return FIXED.get(code) ?? ['Parameter 1', 'Parameter 2', 'Parameter 3', 'Parameter 4'];
}

/**
 * How to find the step that caused a bug check: the earlier call, to one of
 * `routines`, that touched the object whose address is parameter `param`
 * (0-based). `which` picks the first or the last such call; `otherContext`
 * skips the calls of the context that bug-checked (a release by another
 * thread). The call that raised the bug check is never its own cause.
 */
export interface BugCheckCause {
  param: 0 | 1 | 2 | 3;
  routines: readonly string[];
  which: 'first' | 'last';
  otherContext?: boolean;
  /** What the cause is, for the link: "the first completion of this IRP". */
  label: string;
}

const FREES = ['ExFreePoolWithTag', 'ExFreePool', 'IoFreeIrp', 'ExFreeToNPagedLookasideList'];
const RELEASES = ['KeReleaseSpinLock', 'KeReleaseSpinLockFromDpcLevel', 'KeReleaseInStackQueuedSpinLock', 'KeReleaseInStackQueuedSpinLockFromDpcLevel', 'KeReleaseInterruptSpinLock'];
const ACQUIRES = ['KeAcquireSpinLock', 'KeAcquireSpinLockAtDpcLevel', 'KeAcquireSpinLockRaiseToDpc', 'KeTryToAcquireSpinLockAtDpcLevel', 'KeAcquireInStackQueuedSpinLock', 'KeAcquireInStackQueuedSpinLockAtDpcLevel', 'KeAcquireInterruptSpinLock'];
const MUTEX_ACQUIRES = ['ExAcquireFastMutex', 'ExAcquireFastMutexUnsafe', 'ExTryToAcquireFastMutex', 'KeAcquireGuardedMutex', 'KeAcquireGuardedMutexUnsafe', 'KeTryToAcquireGuardedMutex'];
const RESOURCE_CALLS = ['ExAcquireResourceExclusiveLite', 'ExAcquireResourceSharedLite', 'ExAcquireSharedStarveExclusive', 'ExAcquireSharedWaitForExclusive', 'ExReleaseResourceLite', 'ExReleaseResourceForThreadLite'];

export function bugCheckCause(code: number, params: readonly number[]): BugCheckCause | undefined {
  const p1 = params[0] ?? 0;
  switch (code) {
    case 0x44:
      return { param: 0, routines: ['IoCompleteRequest'], which: 'first', label: 'the first completion of this IRP' };
    case 0x48:
      return { param: 0, routines: ['IoCompleteRequest'], which: 'first', label: 'the completion of this IRP' };
    case 0xd5:
      return { param: 0, routines: FREES, which: 'last', label: 'the free of this memory' };
    case 0xc2:
      return p1 === 7 ? { param: 2, routines: FREES, which: 'first', label: 'the first free of this block' } : undefined;
    case 0x10:
      return { param: 0, routines: [...RELEASES, ...ACQUIRES], which: 'last', otherContext: true, label: 'the last acquire or release of this lock by another context' };
    case 0x0f:
      return { param: 0, routines: ACQUIRES, which: 'last', label: 'the acquisition that already holds this lock' };
    case 0xe3:
      return { param: 0, routines: RESOURCE_CALLS, which: 'last', otherContext: true, label: 'the last acquire or release of this resource by another thread' };
    case 0xc4:
      if (p1 === 0x32) return { param: 1, routines: [...RELEASES, ...ACQUIRES], which: 'last', label: 'the earlier acquire or release of this lock' };
      if (p1 === 0x1004) return { param: 1, routines: MUTEX_ACQUIRES, which: 'last', otherContext: true, label: 'the acquisition by the owning thread' };
      if (p1 === 0x1000) return { param: 1, routines: [...ACQUIRES, ...MUTEX_ACQUIRES], which: 'last', label: 'the acquisition that already holds this lock' };
      return undefined;
    default:
      return undefined;
  }
}
