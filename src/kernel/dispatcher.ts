/**
 * Dispatcher objects (KEVENT, KMUTEX, KSEMAPHORE, timers) and waits (nt-semantics section 4).
 * (Being implemented: this family is filled in by its own change.)
 */
export const dispatcherApi = {};

export type DispatcherApi = typeof dispatcherApi;
