/**
 * Members of Kernel.prototype that belong to the box, not to the API a scenario calls: the engine
 * and the kernel's own families use them. They are left out of the scenario registry (registry.ts)
 * and are not tracked as routines (installKernelApi): the engine starts runInterruptServiceRoutine
 * itself, without yield*.
 */
export const KERNEL_INTERNAL: ReadonlySet<string> = new Set([
  'constructor',
  'reset',
  'sharedWords',
  'ctx',
  'perRun',
  'noteStateRoutines',
  'runInterruptServiceRoutine',
]);
