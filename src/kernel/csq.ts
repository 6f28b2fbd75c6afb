/**
 * Cancel-safe queues, IoCsq* (nt-semantics section 12).
 * (Being implemented: this family is filled in by its own change.)
 */
export const csqApi = {};

export type CsqApi = typeof csqApi;
