import './helpers.ts';
import { describe, expect, it } from 'vitest';
import {
  addRun,
  countRuns,
  deleteRun,
  exportHistory,
  getRun,
  getTrace,
  HistoryValidationError,
  importHistory,
  listUserRigs,
  listUserScenarios,
  putUserRig,
  putUserScenario,
  type History,
  type HistoryDocument,
} from '../../src/history/index.ts';
import { fresh, rigA, rigB, sampleRun, traceSteps } from './helpers.ts';

const now = new Date('2026-11-22T12:00:00.000Z');

/** A history with gaps in its ids, traces on some runs, user rigs and scenarios. */
async function populated(): Promise<History> {
  const h = await fresh();
  const ids: number[] = [];
  for (let i = 0; i < 6; i++) {
    ids.push(
      await addRun(h, sampleRun({ createdAt: 1_700_000_000_000 + i, outcome: (['pass', 'deadlock', 'bugcheck'] as const)[i % 3], rig: i % 2 ? rigB : rigA }), {
        ...(i % 2 === 0 ? { trace: traceSteps(10 + i) } : {}),
      }),
    );
  }
  await deleteRun(h, ids[1]!);
  await putUserRig(h, { id: 'my-box', title: 'My box', cores: 4, hal: 'mp', build: 'free', cost: { pause: 3 } });
  await putUserScenario(h, { id: 'mine/race', title: 'Mine', source: 'globalThis.__pwned = true; export default 1;', updatedAt: 1_700_000_000_000 });
  return h;
}

async function refusal(h: History, text: string): Promise<HistoryValidationError> {
  const err = await importHistory(h, text).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(HistoryValidationError);
  return err as HistoryValidationError;
}

describe('export / import', () => {
  it('export → import into an empty database → export gives the identical document', async () => {
    const a = await populated();
    const doc = await exportHistory(a, { now });
    expect(doc.runs.map((r) => r.id)).toEqual([1, 3, 4, 5, 6]);
    expect(doc.traces!.map((t) => t.runId)).toEqual([1, 3, 5]);
    const text = JSON.stringify(doc);
    const b = await fresh();
    const report = await importHistory(b, text);
    expect(report.runs).toEqual({ added: 5, skipped: 0, renumbered: [] });
    expect(report.traces).toEqual({ added: 3, skipped: 0 });
    expect(JSON.stringify(await exportHistory(b, { now }))).toBe(text);
    expect(await getRun(b, 3)).toEqual(await getRun(a, 3));
    // The key generator continues after the imported ids.
    expect(await addRun(b, sampleRun())).toBe(7);
  });

  it('a named liveness failure survives export and import', async () => {
    const a = await fresh();
    const run = sampleRun({ outcome: 'hang' });
    const id = await addRun(a, { ...run, failure: { ...run.failure!, liveness: { name: 'irp-pending-never-completed', step: 3 } } });
    const b = await fresh();
    await importHistory(b, JSON.stringify(await exportHistory(a, { now })));
    expect((await getRun(b, id))?.failure?.liveness).toEqual({ name: 'irp-pending-never-completed', step: 3 });
  });

  it('exports without traces on request', async () => {
    const doc = await exportHistory(await populated(), { traces: false, now });
    expect('traces' in doc).toBe(false);
  });

  it('scenario sources are stored as text and never run', async () => {
    const b = await fresh();
    await importHistory(b, JSON.stringify(await exportHistory(await populated(), { now })));
    expect((globalThis as { __pwned?: boolean }).__pwned).toBeUndefined();
    expect((await listUserScenarios(b))[0]!.source).toContain('__pwned');
  });

  it('importing the same file twice adds nothing the second time', async () => {
    const text = JSON.stringify(await exportHistory(await populated(), { now }));
    const b = await fresh();
    await importHistory(b, text);
    const again = await importHistory(b, text);
    expect(again.runs).toEqual({ added: 0, skipped: 5, renumbered: [] });
    expect(again.traces).toEqual({ added: 0, skipped: 3 });
    expect(again.userRigs).toEqual({ added: 0, skipped: 1, renamed: [] });
    expect(again.userScenarios).toEqual({ added: 0, skipped: 1, renamed: [] });
    expect(await countRuns(b)).toBe(5);
  });

  it('on id collisions keeps both: runs renumbered (trace follows), rigs and scenarios renamed', async () => {
    const doc = await exportHistory(await populated(), { now });
    const b = await fresh();
    // b already has different runs 1 and 2, its own 'my-box' and 'mine/race'.
    await addRun(b, sampleRun({ createdAt: 1_600_000_000_000, seed: 99 }));
    await addRun(b, sampleRun({ createdAt: 1_600_000_000_001, seed: 98 }));
    await putUserRig(b, { id: 'my-box', title: 'Other box', cores: 2, hal: 'up', build: 'checked' });
    await putUserRig(b, { id: 'my-box-imported', title: 'Taken too', cores: 2, hal: 'up', build: 'checked' });
    await putUserScenario(b, { id: 'mine/race', title: 'Other', source: 'x' });
    const report = await importHistory(b, JSON.stringify(doc));
    expect(report.runs.added).toBe(5);
    expect(report.runs.renumbered).toEqual([{ from: 1, to: 7 }]);
    expect(await getTrace(b, 7)).toEqual(doc.traces![0]!.steps);
    expect(await getTrace(b, 1)).toBeUndefined();
    expect((await getRun(b, 1))!.seed).toBe(99);
    expect(report.userRigs.renamed).toEqual([{ from: 'my-box', to: 'my-box-imported-2' }]);
    expect((await listUserRigs(b)).map((r) => r.id)).toEqual(['my-box', 'my-box-imported', 'my-box-imported-2']);
    expect(report.userScenarios.renamed).toEqual([{ from: 'mine/race', to: 'mine/race-imported' }]);
    expect((await listUserScenarios(b)).find((s) => s.id === 'mine/race')!.source).toBe('x');
  });

  it('a run already stored under another id is recognized and skipped; its trace is added if it had none', async () => {
    const a = await populated();
    const doc = await exportHistory(a, { now });
    const b = await fresh();
    await addRun(b, sampleRun({ createdAt: 1_500_000_000_000 }));
    const { id: _id, ...first } = doc.runs[0]!;
    const storedAs = await addRun(b, first);
    expect(storedAs).toBe(2);
    const report = await importHistory(b, JSON.stringify(doc));
    expect(report.runs.skipped).toBe(1);
    expect(await countRuns(b)).toBe(6);
    expect(await getTrace(b, 2)).toEqual(doc.traces![0]!.steps);
  });

  it('keeps equal runs that appear twice in one file (only runs stored before the import count as the same run)', async () => {
    const doc = await exportHistory(await populated(), { now });
    doc.runs.push({ ...doc.runs[1]!, id: 40 });
    const b = await fresh();
    const report = await importHistory(b, JSON.stringify(doc));
    expect(report.runs).toEqual({ added: 6, skipped: 0, renumbered: [] });
    expect(JSON.stringify(await exportHistory(b, { now }))).toBe(JSON.stringify(doc));
  });

  describe('refuses a bad file with a specific reason, touching nothing', () => {
    const cases: [string, (d: HistoryDocument & Record<string, unknown>) => unknown, RegExp][] = [
      ['not JSON', () => '{"format": ', /\(file\): is not JSON/],
      ['another format', (d) => ({ ...d, format: 'something-else' }), /^import: format: must be "racebox-history"/],
      ['a newer version', (d) => ({ ...d, version: 2 }), /version: is 2: the file was written by a newer Racebox/],
      ['a bad rig inside a run', (d) => (d.runs[2]!.rig.cores = 0, d), /runs\[2\]\.rig\.cores: must be an integer from 1 to 64/],
      ['an outcome outside the set', (d) => ((d.runs[0] as { outcome: string }).outcome = 'oops', d), /runs\[0\]\.outcome: must be one of/],
      ['a string where a number belongs', (d) => ((d.runs[1] as { steps: unknown }).steps = '12', d), /runs\[1\]\.steps: must be an integer/],
      ['a run id that is not a positive integer', (d) => ((d.runs[1] as { id: unknown }).id = -3, d), /runs\[1\]\.id: must be an integer from 1/],
      ['a duplicated run id', (d) => (d.runs[3]!.id = d.runs[0]!.id, d), /runs\[3\]\.id: duplicates runs\[0\]\.id/],
      ['a trace of a run not in the file', (d) => (d.traces![1]!.runId = 999, d), /traces\[1\]\.runId: names run 999/],
      ['a bad trace step', (d) => ((d.traces![0]!.steps[4] as { cpu: unknown }).cpu = 'zero', d), /traces\[0\]\.steps\[4\]\.cpu: must be an integer/],
      ['an invalid user rig', (d) => ((d.userRigs[0] as { hal: string }).hal = 'smp', d), /userRigs\[0\]\.hal: must be "mp" or "up"/],
      ['a scenario source that is not text', (d) => ((d.userScenarios[0] as { source: unknown }).source = { code: 1 }, d), /userScenarios\[0\]\.source: must be a string/],
      ['an unknown top-level field', (d) => ({ ...d, extra: 1 }), /extra: is not a field/],
      ['an unknown field in a failure', (d) => ((d.runs[1]!.failure as unknown as Record<string, unknown>).eval = 'x', d), /runs\[1\]\.failure\.eval: is not a field of a failure/],
      ['a __proto__ key', () => null, /__proto__: is not a field/],
      ['an oversized string', (d) => (d.runs[1]!.failure!.message = 'x'.repeat(70_000), d), /runs\[1\]\.failure\.message: must be at most 65536 characters/],
      ['a bad exportedAt', (d) => ({ ...d, exportedAt: 'yesterday' }), /exportedAt: must be an ISO 8601 date/],
      ['a missing array', (d) => { delete (d as Partial<HistoryDocument>).userScenarios; return d; }, /userScenarios: is missing/],
    ];
    it.each(cases)('%s', async (what, mutate, reason) => {
      const source = await exportHistory(await populated(), { now });
      const b = await populated();
      const before = JSON.stringify(await exportHistory(b, { now }));
      const d = structuredClone(source) as HistoryDocument & Record<string, unknown>;
      let text: string;
      if (what === 'a __proto__ key') text = JSON.stringify(d).replace('"runs":', '"__proto__": {"polluted": true}, "runs":');
      else {
        const m = mutate(d);
        text = typeof m === 'string' ? m : JSON.stringify(m);
      }
      const err = await refusal(b, text);
      expect(err.message).toMatch(reason);
      expect(JSON.stringify(await exportHistory(b, { now }))).toBe(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});
