import { describe, expect, it } from 'vitest';
import type { TraceStep } from '../../src/engine/trace.ts';
import { extract } from '../../src/ui/lib/kernel-source.ts';
import { accessesOf, accessStory, describeOp, wordInFocus } from '../../src/ui/lib/step-text.ts';

const step = (cpu: number, op: string, extra: Partial<TraceStep> = {}): TraceStep => ({ step: 0, cpu, what: 'step', context: `t${cpu}`, kind: 'thread', op, routine: `t${cpu}`, irql: 0, ...extra });

describe('steps in words', () => {
  it('says what each memory operation read and wrote', () => {
    expect(describeOp(step(0, 'read', { address: 's.counter', word: 20, read: 0 }))).toBe('read 0 from s.counter');
    expect(describeOp(step(0, 'write', { address: 's.counter', word: 20, wrote: 1 }))).toBe('wrote 1 to s.counter');
    expect(describeOp(step(1, 'rmw', { address: 'Irp->CancelRoutine', word: 37, read: 0x40000010, wrote: 0 }))).toBe('interlocked Irp->CancelRoutine: old 0x40000010 → new 0');
    expect(describeOp(step(1, 'rmw', { address: 's.lock', word: 9, read: 1, wrote: 1 }))).toBe('interlocked s.lock: read 1, left it 1');
    expect(describeOp(step(1, 'read', { address: 'pool block \'Strm\' +0x8 (freed)', word: 9, fault: true }))).toMatch(/faults$/);
  });

  it('tells a lost update as the history of one word across CPUs', () => {
    const steps = [
      step(0, 'read', { word: 20, read: 0 }),
      step(1, 'read', { word: 20, read: 0 }),
      step(0, 'irql'),
      step(0, 'write', { word: 20, wrote: 1 }),
      step(1, 'write', { word: 20, wrote: 1 }),
      step(1, 'read', { word: 21, read: 5 }),
    ];
    expect(accessStory(accessesOf(steps, 20, steps.length - 1))).toBe('CPU 0 read 0 … CPU 1 read 0 … CPU 0 wrote 1 … CPU 1 wrote 1');
    expect(accessStory(accessesOf(steps, 20, 1))).toBe('CPU 0 read 0 … CPU 1 read 0');
    expect(wordInFocus(steps, 2)).toBe(20);
    expect(wordInFocus(steps, 5)).toBe(21);
  });
});

describe('kernel routine source', () => {
  it('cuts a routine out of its file with its doc comment, and finds the lines of each operation', () => {
    const lines = [
      'export const api = {',
      '  /** IRQL ≤ DISPATCH_LEVEL. Reads it. */',
      '  *Foo(this: Kernel, a: number): Routine<number> {',
      '    yield m.at(OP_READ, a);',
      '    if (x) {',
      '      yield m.at(OP_RMW, a);',
      '    }',
      '    return 1;',
      '  },',
      '  *Bar() {}',
    ];
    const r = extract('/src/kernel/foo.ts', lines, 2);
    expect(r.firstLine).toBe(2);
    expect(r.code.split('\n')).toHaveLength(8);
    expect(r.code.split('\n')[1]).toBe('*Foo(this: Kernel, a: number): Routine<number> {');
    expect(r.opLines.get('read')).toEqual([3]);
    expect(r.opLines.get('rmw')).toEqual([5]);
  });
});
