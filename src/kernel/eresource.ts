/**
 * ERESOURCE reader/writer locks (nt-semantics section 6).
 * (Being implemented: this family is filled in by its own change.)
 */
export const eresourceApi = {};

export type EresourceApi = typeof eresourceApi;
