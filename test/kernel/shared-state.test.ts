import { describe, expect, it } from 'vitest';
import { routineFor, routineValue, CancelRoutines, knowRoutine } from '../../src/kernel/irp-records.ts';
import { Kernel } from '../../src/kernel/kernel.ts';
import { OBJ_DISPATCHER, OBJ_IRP, registeredKind, registerObject, unregisterObject } from '../../src/kernel/object-registry.ts';
import { ScenarioError } from '../../src/machine/bugcheck.ts';
import { Machine } from '../../src/machine/machine.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { KERNEL_SHARED_WORDS, SharedKernelMemory } from '../../src/machine/shared-state.ts';
import type { Routine } from '../../src/machine/ops.ts';

const DUAL = presetRig('dual-opteron-240')!;

/** Two processors as free-run has them: a machine and kernel each, one shared kernel memory. */
function twoProcessors(): [Kernel, Kernel] {
  const words = new Int32Array(KERNEL_SHARED_WORDS);
  const ks = [new Kernel(new Machine(DUAL)), new Kernel(new Machine(DUAL))] as [Kernel, Kernel];
  for (const k of ks) k.m.kernelShared.attach(words);
  return ks;
}

describe('shared kernel memory', () => {
  it('allocates regions by name: the same order gives the same offsets, the same name the same region', () => {
    const a = new SharedKernelMemory();
    const b = new SharedKernelMemory();
    const ca = a.counter('x.count');
    const ta = a.table('x.table', 3, 10);
    const cb = b.counter('x.count');
    const tb = b.table('x.table', 3, 10);
    expect(cb).toBe(ca);
    expect([tb.countAt, tb.base]).toEqual([ta.countAt, ta.base]);
    expect(a.table('x.table', 3, 10)).toBe(ta);
    expect(a.counter('x.count')).toBe(ca);
    expect(ta.base).toBeGreaterThan(ca);
    expect(() => a.table('x.table', 4, 10)).toThrow(/another shape/);
    expect(() => a.table('x.count', 1, 1)).toThrow(/another shape/);
  });

  it('clears what a run changed (entries, counts, counters), and only after use()', () => {
    const mem = new SharedKernelMemory();
    const c = mem.counter('c');
    const t = mem.table('t', 2, 4);
    const w = mem.use();
    w[c] = 7;
    const e = t.append(w);
    w[e] = 11;
    w[e + 1] = 12;
    expect(t.end(w)).toBe(t.base + 2);
    mem.clear();
    expect([w[c], w[t.countAt], w[e], w[e + 1]]).toEqual([0, 0, 0, 0]);
    // Written without use(): nothing to clear as far as the memory knows.
    mem.words[c] = 3;
    mem.clear();
    expect(mem.words[c]).toBe(3);
  });

  it('a full table appends nothing', () => {
    const mem = new SharedKernelMemory();
    const t = mem.table('t', 1, 2);
    const w = mem.use();
    expect(t.append(w)).toBeGreaterThanOrEqual(0);
    expect(t.append(w)).toBeGreaterThanOrEqual(0);
    expect(t.append(w)).toBe(-1);
  });

  it('keeps its regions where they are when attached to other words', () => {
    const mem = new SharedKernelMemory();
    const c = mem.counter('c');
    const other = new Int32Array(KERNEL_SHARED_WORDS);
    mem.attach(other);
    mem.use()[c] = 5;
    expect(other[c]).toBe(5);
    expect(() => mem.attach(new Int32Array(0))).toThrow(/regions need/);
  });
});

describe('state other processors see, whichever engine drives them', () => {
  it('an object one processor initializes while actors run is known to another; deleted, it is not', () => {
    const [k0, k1] = twoProcessors();
    // Setup (no context live): every processor runs it and knows its objects, nothing to share.
    registerObject(k0, 0x300, OBJ_IRP);
    expect(registeredKind(k1, 0x300)).toBe(0);
    k0.m.live = 1;
    registerObject(k0, 0x400, OBJ_IRP);
    registerObject(k0, 0x500, OBJ_DISPATCHER);
    expect(registeredKind(k1, 0x400)).toBe(OBJ_IRP);
    expect(registeredKind(k1, 0x500)).toBe(OBJ_DISPATCHER);
    expect(registeredKind(k1, 0x600)).toBe(0);
    unregisterObject(k1, 0x400);
    expect(registeredKind(k0, 0x400)).toBe(0);
    // A new run forgets the previous one's objects.
    k0.reset();
    expect(registeredKind(k1, 0x500)).toBe(0);
  });

  function* MyCancel(): Routine<void> {}

  it('numbers cancel routines in the order they are first set (one processor)', () => {
    const k = new Kernel(new Machine(DUAL));
    const known = new CancelRoutines<typeof MyCancel>();
    const other = function* OtherCancel(): Routine<void> {};
    const a = routineValue(k, known, MyCancel);
    const b = routineValue(k, known, other);
    expect(b - a).toBe(16);
    expect(routineValue(k, known, MyCancel)).toBe(a);
    // Two closures of one name are two routines.
    const again = function* MyCancel(): Routine<void> {};
    expect(routineValue(k, known, again)).toBe(b + 16);
    expect(routineFor(k, known, a)).toBe(MyCancel);
    expect(routineFor(k, known, b + 16)).toBe(again);
    expect(() => routineFor(k, known, b + 32)).toThrow(/not a cancel routine/);
  });

  it("resolves a cancel routine another processor set by its name, and says so when it cannot", () => {
    const [k0, k1] = twoProcessors();
    const known0 = new CancelRoutines<typeof MyCancel>();
    const known1 = new CancelRoutines<typeof MyCancel>();
    // Each processor has its own copy of the routine (free-run: each CPU worker ran setup).
    const copy1 = function* MyCancel(): Routine<void> {};
    knowRoutine(known1, copy1);
    const v = routineValue(k0, known0, MyCancel);
    expect(routineFor(k1, known1, v)).toBe(copy1);
    // The copy set on the other processor stands for the same value.
    expect(routineValue(k1, known1, copy1)).toBe(v);
    const anonymous = [function* (): Routine<void> {}][0]!;
    const w = routineValue(k0, known0, anonymous);
    expect(() => routineFor(k1, known1, w)).toThrow(ScenarioError);
    expect(() => routineFor(k1, known1, w)).toThrow(/never seen \(an unnamed routine\)/);
  });
});
