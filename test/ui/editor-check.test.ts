/**
 * The editor's check (the function its worker exposes) on the forms that would silently mis-test:
 * each comes back as an error diagnostic on the line of the mistake, and the editor marks that line.
 */
import { EditorState } from '@codemirror/state';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../../src/ui/editor/check-scenario.ts';
import { diagnosticField, markedLines, setDiagnostics } from '../../src/ui/editor/diagnostic-lines.ts';
import type { Diagnostic } from '../../src/scenario/load-source.ts';

const FIXTURES = join(import.meta.dirname, '../scenario/fixtures/forgotten-yield');
const FORMS: [string, string][] = [
  ['if-condition.ts', 'if (k.KeTryToAcquireSpinLockAtDpcLevel'],
  ['while-loop.ts', 'while (!k.InterlockedCompareExchange'],
  ['return.ts', 'return k.ReadNoFence'],
  ['operand.ts', '1 + (k.ReadNoFence'],
  ['helper.ts', 'UpdateCount(k, s);'],
  ['computed-name.ts', '[acquire]'],
  ['yield-value.ts', 'yield 42'],
  ['async-actor.ts', 'async run'],
];

const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The 1-based lines the editor's decoration field marks for these diagnostics. */
function marked(doc: string, diagnostics: Diagnostic[]): number[] {
  let state = EditorState.create({ doc, extensions: [diagnosticField] });
  state = state.update({ effects: setDiagnostics.of(diagnostics) }).state;
  const out: number[] = [];
  state.field(diagnosticField).between(0, state.doc.length, (from) => {
    out.push(state.doc.lineAt(from).number);
  });
  return out;
}

describe('the editor check', () => {
  for (const [file, at] of FORMS) {
    it(`${file}: an error on the line of the mistake, and that line is marked`, () => {
      const source = readFileSync(join(FIXTURES, file), 'utf8');
      const r = checkScenario(source, 'user-scenario.ts');
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.line).toBe(lineOf(source, at));
      expect(r.meta).toBeUndefined();
      expect(marked(source, r.diagnostics)).toEqual([lineOf(source, at)]);
    });
  }

  it('a routine the syntax tree cannot see (called through a variable) is caught by the trial run, on its actor', () => {
    const source = `import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'user/indirect',
  title: 'indirect',
  description: '',
  family: 'user',
  setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
  actors: {
    worker: {
      *run(k, s) {
        const acquire = k.KeAcquireSpinLock;
        acquire.call(k, s.lock);
      },
    },
  },
  expect: 'pass',
});
`;
    const r = checkScenario(source, 'user-scenario.ts');
    expect(r.trial).toBe('error');
    const d = r.diagnostics.find((x) => x.source === 'runtime');
    expect(d?.message).toMatch(/KeAcquireSpinLock was called without yield\* in thread 'worker'/);
    expect(d?.line).toBe(lineOf(source, 'worker: {'));
    expect(marked(source, r.diagnostics)).toEqual([d!.line]);
  });

  it('when the engine notices it at the next kernel call, the line of that call is marked', () => {
    const source = `import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'user/indirect-next',
  title: 'indirect',
  description: '',
  family: 'user',
  setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'Cntr') }),
  actors: {
    worker: {
      *run(k, s) {
        const read = k.ReadNoFence;
        read.call(k, s.p);
        yield* k.WriteNoFence(s.p, 1);
      },
    },
  },
  expect: 'pass',
});
`;
    const r = checkScenario(source, 'user-scenario.ts');
    const d = r.diagnostics.find((x) => x.source === 'runtime');
    expect(d?.message).toMatch(/^ReadNoFence was called without yield\*/);
    expect(d?.line).toBe(lineOf(source, 'yield* k.WriteNoFence'));
  });

  it('a correct scenario has no diagnostic and no marked line', () => {
    const source = readFileSync(join(import.meta.dirname, '../../scenarios/spinlock/ke-spinlock.ts'), 'utf8');
    const r = checkScenario(source, 'user-scenario.ts');
    expect(r.diagnostics).toEqual([]);
    expect(r.meta?.id).toBe('spinlock/ke-spinlock');
    expect(marked(source, r.diagnostics)).toEqual([]);
  });

  it('markedLines clamps to the document and lists each line once', () => {
    const d = (line: number): Diagnostic => ({ line, column: 1, message: 'm', severity: 'error', source: 'check' });
    expect(markedLines([d(3), d(0), d(3), d(99)], 10)).toEqual([1, 3, 10]);
  });
});
