/**
 * The rows `npm test` runs in the browser (tag @smoke): an expected bug check, an invariant, a
 * deadlock and passes, on 1, 2, 4 and 16 CPUs. The whole matrix runs with `npm run regress`.
 */
export const SMOKE_ROWS: readonly string[] = [
  'spinlock/abba on dual-opteron-240',
  'cancel/no-exchange-check on p4-ht',
  'cancel/no-exchange-check on uniprocessor',
  'dpc/concurrent-self on quad-free',
  'eresource/no-critical-region on quad-free',
  'fastmutex/correct on workstation-16',
];
