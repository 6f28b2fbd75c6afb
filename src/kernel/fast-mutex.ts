/**
 * FAST_MUTEX and guarded mutexes (nt-semantics section 5).
 * (Being implemented: this family is filled in by its own change.)
 */
export const fastMutexApi = {};

export type FastMutexApi = typeof fastMutexApi;
