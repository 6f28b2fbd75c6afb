/**
 * Rundown protection, EX_RUNDOWN_REF and the cache-aware variant (nt-semantics section 8).
 * (Being implemented: this family is filled in by its own change.)
 */
export const rundownApi = {};

export type RundownApi = typeof rundownApi;
