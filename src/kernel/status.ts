/** NTSTATUS values scenarios use (as signed 32-bit numbers, like the machine's words). */
export const STATUS_SUCCESS = 0;
export const STATUS_WAIT_0 = 0;
export const STATUS_ALERTED = 0x101;
export const STATUS_TIMEOUT = 0x102;
export const STATUS_PENDING = 0x103;
export const STATUS_CANCELLED = 0xc0000120 | 0;
export const STATUS_UNSUCCESSFUL = 0xc0000001 | 0;
export const STATUS_INSUFFICIENT_RESOURCES = 0xc000009a | 0;
export const STATUS_DELETE_PENDING = 0xc0000056 | 0;
export const STATUS_DEVICE_REMOVED = 0xc00002b6 | 0;
export const STATUS_MUTANT_NOT_OWNED = 0xc0000046 | 0;

/** Driver Verifier (0xC4) subcodes a scenario's expectation may name. */
export const DRIVER_VERIFIER_SELF_DEADLOCK = 0x1000;
export const DRIVER_VERIFIER_LOCK_HIERARCHY = 0x1001;

// Dispatcher, fast-mutex and ERESOURCE families.
export const STATUS_ABANDONED = 0x80;
export const STATUS_USER_APC = 0xc0;
export const STATUS_KERNEL_APC = 0x100;
export const STATUS_MUTANT_LIMIT_EXCEEDED = 0xc0000191 | 0;
export const STATUS_SEMAPHORE_LIMIT_EXCEEDED = 0xc0000047 | 0;
export const STATUS_THREAD_IS_TERMINATING = 0xc000004b | 0;

/** Enumerations the dispatcher routines take (EVENT_TYPE, WAIT_TYPE, KWAIT_REASON, KPROCESSOR_MODE). */
export const NotificationEvent = 0;
export const SynchronizationEvent = 1;
export const WaitAll = 0;
export const WaitAny = 1;
export const Executive = 0;
export const WrMutex = 29;
export const WrResource = 22;
export const KernelMode = 0;
export const UserMode = 1;
export const MAXIMUM_WAIT_OBJECTS = 64;
export const THREAD_WAIT_OBJECTS = 3;

// Rundown, IRP and cancel-safe queue families.
/** NT_ASSERT failure on a checked build (parameter 1 of KMODE_EXCEPTION_NOT_HANDLED). */
export const STATUS_ASSERTION_FAILURE = 0xc0000420 | 0;
export const STATUS_NOT_FOUND = 0xc0000225 | 0;
export const STATUS_INVALID_DEVICE_REQUEST = 0xc0000010 | 0;

// Interrupt family.
export const STATUS_INVALID_PARAMETER = 0xc000000d | 0;
