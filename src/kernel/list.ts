/**
 * LIST_ENTRY helpers with integrity checks on unlink (KERNEL_SECURITY_CHECK_FAILURE 0x139/3).
 * (Being implemented: this family is filled in by its own change.)
 */
export const listApi = {};

export type ListApi = typeof listApi;
