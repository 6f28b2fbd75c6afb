/**
 * Critical and guarded regions, APC disable counts (nt-semantics section 9).
 * (Being implemented: this family is filled in by its own change.)
 */
export const regionsApi = {};

export type RegionsApi = typeof regionsApi;
