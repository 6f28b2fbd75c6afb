/**
 * IRPs: completion, cancellation, the cancel spin lock (nt-semantics section 11).
 * (Being implemented: this family is filled in by its own change.)
 */
export const irpApi = {};

export type IrpApi = typeof irpApi;
