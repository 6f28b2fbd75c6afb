/**
 * Hostile-input suite: history import files (parseHistoryDocument, the sliced
 * check importHistory uses, importHistory itself). A mutated file is either
 * refused with a HistoryValidationError whose every error names a field by
 * path, or accepted only if the validated document is the file's own content
 * (nothing dropped, renamed or coerced: rigs only get their defaults filled)
 * and its cross-references hold.
 */
import '../history/helpers.ts';
import { describe, expect, it } from 'vitest';
import {
  exportHistory, HistoryValidationError, importHistory, parseHistoryDocument, parseHistoryDocumentSliced, type HistoryDocument, type StoredRun,
} from '../../src/history/index.ts';
import { OUTCOMES } from '../../src/history/types.ts';
import { validateRig } from '../../src/machine/rig.ts';
import { fresh, rigA, rigB, sampleRun, traceSteps } from '../history/helpers.ts';
import { isCrash, mutateJsonText, pick, report, Rng, thrown } from './mutate.ts';

function doc(runs: StoredRun[], extra: Partial<HistoryDocument> = {}): HistoryDocument {
  return { format: 'racebox-history', version: 1, exportedAt: '2026-12-01T00:00:00.000Z', runs, userRigs: [], userScenarios: [], ...extra };
}

function validDocs(): HistoryDocument[] {
  const outcomes = ['pass', 'deadlock', 'bugcheck', 'hang', 'invariant', 'error'] as const;
  const runs = outcomes.map((outcome, i) => ({ ...sampleRun({ createdAt: 1_700_000_000_000 + (i % 2), outcome, rig: i % 2 ? rigB : rigA, seed: i }), id: i + 1 }) as StoredRun);
  return [
    doc([]),
    doc(runs),
    doc(runs.slice(0, 3), { traces: [{ runId: 2, steps: traceSteps(5) }, { runId: 3, steps: [] }] }),
    doc(runs.slice(2), {
      userRigs: [{ ...rigA, id: 'my-box', title: 'Mine' }],
      userScenarios: [{ id: 'mine/race', title: 'Mine', source: "import { defineScenario } from 'racebox';\nexport default 1;", updatedAt: 1_700_000_000_000 }],
    }),
  ];
}

/** The file's content as the validator should return it: rigs with their defaults filled in, nothing else changed. */
function expectedValue(raw: Record<string, unknown>): unknown {
  const rig = (r: unknown): unknown => {
    const v = validateRig(r);
    return v.ok ? v.rig : r;
  };
  const runs = (raw.runs as Record<string, unknown>[]).map((r) => ({ ...r, rig: rig(r.rig) }));
  return { ...raw, runs, userRigs: (raw.userRigs as unknown[]).map(rig) };
}

function crossReferencesHold(d: HistoryDocument): boolean {
  const ids = new Set(d.runs.map((r) => r.id));
  if (ids.size !== d.runs.length) return false;
  if (d.traces && (new Set(d.traces.map((t) => t.runId)).size !== d.traces.length || d.traces.some((t) => !ids.has(t.runId)))) return false;
  if (new Set(d.userRigs.map((r) => r.id)).size !== d.userRigs.length) return false;
  if (new Set(d.userScenarios.map((s) => s.id)).size !== d.userScenarios.length) return false;
  return d.runs.every((r) => OUTCOMES.includes(r.outcome) && (r.outcome === 'pass' ? r.failure === undefined : r.failure?.kind === r.outcome));
}

function expectRefusal(e: unknown, where: string): HistoryValidationError {
  expect(isCrash(e), `crashed (${String(e)}), ${where}`).toBe(false);
  expect(e, where).toBeInstanceOf(HistoryValidationError);
  const errors = (e as HistoryValidationError).errors;
  expect(errors.length, where).toBeGreaterThan(0);
  for (const f of errors) {
    expect(f.field.length, where).toBeGreaterThan(0);
    expect(f.field.length, `${where}: ${f.field.slice(0, 100)}`).toBeLessThanOrEqual(200);
    expect(f.message.length, `${where}: ${f.message.slice(0, 100)}`).toBeLessThanOrEqual(300);
  }
  return e as HistoryValidationError;
}

describe('fuzz: history import files', () => {
  it('refuses every bad file naming the field, accepts every valid one, never crashes', async () => {
    const rng = new Rng(0x4157);
    const valid = validDocs();
    // More valid files: random subsets of the runs under random distinct ids, a trace on some.
    const pool = valid[1]!.runs;
    for (let i = 0; i < 12; i++) {
      let id = 0;
      // Ascending ids, as an export writes them.
      const runs = pool.filter(() => rng.int(2) === 0).map((r) => ({ ...r, id: (id += 1 + rng.int(1000)) }));
      valid.push(doc(runs, runs.length > 0 && i % 2 ? { traces: [{ runId: runs[0]!.id, steps: traceSteps(rng.int(20)) }] } : {}));
    }
    for (const [i, d] of valid.entries()) {
      const text = JSON.stringify(d, null, i % 2 ? 2 : undefined);
      expect(parseHistoryDocument(text)).toEqual(d);
      expect(await parseHistoryDocumentSliced(text)).toEqual(d);
      // Into an empty history and out again: the same document.
      const h = await fresh();
      await importHistory(h, text);
      expect(await exportHistory(h, { now: new Date('2026-12-01T00:00:00.000Z') })).toEqual({ ...d, traces: d.traces ?? [] });
    }

    let refused = 0;
    let accepted = 0;
    let sliced = 0;
    const MUTATED = 2000;
    for (let i = 0; i < MUTATED; i++) {
      const text = mutateJsonText(rng, pick(rng, valid));
      const where = `case ${i}: ${text.slice(0, 200)}`;
      let value: HistoryDocument | undefined;
      const e = thrown(() => {
        value = parseHistoryDocument(text);
      });
      if (e === undefined) {
        const raw = JSON.parse(text) as Record<string, unknown>;
        expect(value, `accepted but changed, ${where}`).toEqual(expectedValue(raw));
        expect(crossReferencesHold(value!), `accepted with broken references, ${where}`).toBe(true);
        accepted++;
      } else {
        expectRefusal(e, where);
        refused++;
      }
      // The sliced check (what importHistory runs) decides the same.
      if (i % 8 === 0) {
        const s = await parseHistoryDocumentSliced(text).then((v) => ({ v }), (x: unknown) => ({ x }));
        if ('v' in s) expect(e, `sliced accepted what the one-pass check refused, ${where}`).toBeUndefined();
        else {
          expectRefusal(s.x, where);
          expect(e, `sliced refused what the one-pass check accepted, ${where}`).toBeDefined();
        }
        sliced++;
      }
    }
    report('history imports', { mutated: MUTATED, refused, 'accepted (content unchanged)': accepted, 'checked sliced too': sliced, valid: valid.length, crashes: 0 });
  }, 60_000);
});
