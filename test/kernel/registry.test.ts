import { describe, expect, it } from 'vitest';
import { Kernel, kernelRoutineOf, ROUTINE_MAX_PARAMS } from '../../src/kernel/kernel.ts';
import { KERNEL_API, KERNEL_PLAIN, KERNEL_ROUTINES } from '../../src/kernel/registry.ts';

describe('the kernel registry', () => {
  it('reads each kind from the code: generator methods are routines, the rest plain', () => {
    for (const name of ['KeAcquireSpinLock', 'KeTryToAcquireSpinLockAtDpcLevel', 'InterlockedCompareExchange', 'ReadNoFence', 'IoCsqInsertIrp', 'KeWaitForMultipleObjects']) {
      expect(KERNEL_ROUTINES.has(name), name).toBe(true);
    }
    for (const name of ['KeInitializeSpinLock', 'ExAllocatePool2', 'peek', 'poke', 'name', 'NT_ASSERT', 'KeGetCurrentProcessorNumber', 'checked', 'fastMutexOwner', 'IrpCompleted', 'ListEntries']) {
      expect(KERNEL_PLAIN.has(name), name).toBe(true);
    }
    for (const m of KERNEL_API) {
      const member = Object.getOwnPropertyDescriptor(Kernel.prototype, m.name)!;
      expect(kernelRoutineOf(member.value) !== undefined, m.name).toBe(m.kind === 'routine');
    }
  });

  it('leaves out what belongs to the engine, not to scenarios', () => {
    for (const name of ['constructor', 'reset', 'perRun', 'ctx', 'runInterruptServiceRoutine']) {
      expect(KERNEL_API.some((m) => m.name === name), name).toBe(false);
    }
  });

  it('names each member once and gives its kernel file', () => {
    expect(new Set(KERNEL_API.map((m) => m.name)).size).toBe(KERNEL_API.length);
    expect(KERNEL_API.find((m) => m.name === 'KeAcquireSpinLock')).toMatchObject({ family: 'spinlock', params: 'lock' });
  });

  it('has no routine with more parameters than a tracked call passes through', () => {
    const tooMany = KERNEL_API.filter((m) => m.kind === 'routine' && m.params.split(',').filter((p) => p.trim() !== '').length > ROUTINE_MAX_PARAMS);
    expect(tooMany.map((m) => m.name)).toEqual([]);
  });
});
