/**
 * The matrix rows `npm test` runs in the browser (tag @smoke): an expected bug check, an
 * invariant and a pass, on 1, 2 and 4 CPUs. With the project's own @smoke tests (agree: a
 * deadlock, a 16-CPU rig, more failures; fail: a stale expectation) they keep the browser path
 * covered in about a minute; `npm run regress` runs every row.
 */
export const SMOKE_ROWS: readonly string[] = [
  'spinlock/abba on dual-opteron-240',
  'cancel/no-exchange-check on uniprocessor',
  'dpc/concurrent-self on quad-free',
];
