/**
 * What a routine yields at a scheduling point: the kind of the operation it
 * will perform when it is next resumed. The address of that operation is left
 * in Machine.opAddr (no object is allocated per step). The operation itself
 * executes right after the resumption, so one step = one shared access.
 */
export const OP_START = 0;
export const OP_READ = 1;
export const OP_WRITE = 2;
/** An interlocked read-modify-write (xchg, cmpxchg, lock add/or/and, bts). */
export const OP_RMW = 3;
export const OP_IRQL = 4;
/** PAUSE in a spin loop that waits for the word at opAddr to change: the context is not runnable until someone writes it. */
export const OP_SPIN = 5;
/** PAUSE with no address: a plain scheduling point. */
export const OP_PAUSE = 6;
/** Kernel bookkeeping that another CPU could observe (a state change of a kernel object). */
export const OP_KERNEL = 7;
/** The thread blocks in a wait; the engine switches it off its CPU. */
export const OP_WAIT = 8;

export const OP_NAMES = ['start', 'read', 'write', 'rmw', 'irql', 'spin', 'pause', 'kernel', 'wait'] as const;

/** A routine: kernel primitives and scenario code alike are generators of scheduling points. */
export type Routine<T = unknown> = Generator<number, T, void>;
