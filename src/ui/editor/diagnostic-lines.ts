/**
 * Marking the editor's lines that have a diagnostic (a syntax error, a kernel routine called
 * without yield*, a defineScenario error, a trial run's error): each such line gets the
 * cm-rb-error-line class and the messages as its title.
 */
import { RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import { Decoration, EditorView, type DecorationSet } from '@codemirror/view';
import type { Diagnostic } from '../../scenario/load-source.ts';

/** The lines to mark (1-based, ascending, each once), clamped to the document. */
export function markedLines(diagnostics: readonly Diagnostic[], docLines: number): number[] {
  return [...new Set(diagnostics.map((d) => Math.min(Math.max(1, d.line), docLines)))].sort((a, c) => a - c);
}

export const setDiagnostics = StateEffect.define<Diagnostic[]>();

export const diagnosticField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setDiagnostics)) continue;
      const b = new RangeSetBuilder<Decoration>();
      const lines = markedLines(e.value, tr.state.doc.lines);
      for (const ln of lines) {
        const line = tr.state.doc.line(ln);
        b.add(line.from, line.from, Decoration.line({ class: 'cm-rb-error-line', attributes: { title: e.value.filter((d) => d.line === ln).map((d) => d.message).join('\n') } }));
      }
      deco = b.finish();
    }
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

