/**
 * Imported runs are stored in chunks (schema v2, src/history/chunks.ts) and read back by the same API as runs
 * added one at a time: list pages merged by (createdAt, id) under every filter, get by id, delete, count,
 * traces, export. Ids stay unique across both.
 */
import './helpers.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  addRun, countRuns, deleteRun, exportHistory, getRun, getTrace, importHistory, listRuns, putTrace,
  type History, type HistoryDocument, type OutcomeKind, type RunFilter, type StoredRun,
} from '../../src/history/index.ts';
import { CHUNK_RUNS } from '../../src/history/chunks.ts';
import { fresh, rigA, rigB, sampleRun, traceSteps } from './helpers.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

const T = 1_700_000_000_000;
const now = new Date('2026-12-06T00:00:00.000Z');

function file(runs: StoredRun[]): string {
  const d: HistoryDocument = { format: 'racebox-history', version: 1, exportedAt: now.toISOString(), runs, userRigs: [], userScenarios: [] };
  return JSON.stringify(d);
}

/** `n` runs with ids from `first`, varied in scenario, rig and outcome, createdAt every `step` ms from `t0` (some shared). */
function imported(n: number, first: number, t0: number, step: number): StoredRun[] {
  const outcomes: OutcomeKind[] = ['pass', 'pass', 'deadlock', 'bugcheck'];
  return Array.from({ length: n }, (_, i) => ({
    ...sampleRun({
      createdAt: t0 + Math.floor(i / 3) * step,
      scenario: i % 5 === 0 ? 'a/two' : 'a/one',
      rig: i % 7 === 0 ? rigB : rigA,
      outcome: outcomes[i % 4],
      seed: first + i,
    }),
    id: first + i,
  }) as StoredRun);
}

async function pageAll(h: History, filter: RunFilter, limit: number): Promise<number[]> {
  const ids: number[] = [];
  let after: string | undefined;
  do {
    const page = await listRuns(h, { ...filter, limit, ...(after ? { after } : {}) });
    expect(page.runs.length).toBeLessThanOrEqual(limit);
    ids.push(...page.runs.map((r) => r.id));
    after = page.next;
  } while (after);
  return ids;
}

const FILTERS: RunFilter[] = [];
for (const scenario of [undefined, 'a/two'])
  for (const rig of [undefined, rigB.id])
    for (const outcome of [undefined, 'bugcheck' as const]) FILTERS.push({ ...(scenario ? { scenario } : {}), ...(rig ? { rig } : {}), ...(outcome ? { outcome } : {}) });

const matches = (r: StoredRun, f: RunFilter): boolean =>
  (!f.scenario || r.scenario.id === f.scenario) && (!f.rig || r.rig.id === f.rig) && (!f.outcome || r.outcome === f.outcome);
const newestFirst = (a: StoredRun, b: StoredRun): number => b.createdAt - a.createdAt || b.id - a.id;

describe('imported runs in chunks', () => {
  it('two imports and runs added one at a time, interleaved in time: every filter pages them merged, counts them, gets them', async () => {
    const h = await fresh();
    // Runs added one at a time, every 10 ms.
    const loose: StoredRun[] = [];
    for (let i = 0; i < 40; i++) {
      const run = sampleRun({ createdAt: T + i * 10, scenario: i % 2 ? 'a/two' : 'a/one', rig: i % 3 ? rigA : rigB, outcome: i % 4 ? 'pass' : 'bugcheck' });
      loose.push({ ...run, id: await addRun(h, run) } as StoredRun);
    }
    // An import spanning the same time (three chunks), and a second one overlapping it.
    const first = imported(CHUNK_RUNS * 2 + 37, 100, T - 5, 1);
    const second = imported(300, 5000, T + 100, 2);
    expect((await importHistory(h, file(first))).runs).toMatchObject({ added: first.length, skipped: 0, renumbered: [] });
    expect((await importHistory(h, file(second))).runs).toMatchObject({ added: second.length, renumbered: [] });
    const all = [...loose, ...first, ...second].sort(newestFirst);
    for (const f of FILTERS) {
      const expected = all.filter((r) => matches(r, f)).map((r) => r.id);
      expect(expected.length, JSON.stringify(f)).toBeGreaterThan(0);
      expect(await pageAll(h, f, 47), JSON.stringify(f)).toEqual(expected);
      expect(await countRuns(h, f), JSON.stringify(f)).toBe(expected.length);
    }
    for (const r of [first[0]!, first[CHUNK_RUNS]!, first[first.length - 1]!, second[123]!, loose[5]!]) expect(await getRun(h, r.id)).toEqual(r);
    expect(await getRun(h, 99)).toBeUndefined();
    expect(await getRun(h, 4999)).toBeUndefined();
    // A run added afterwards gets an id above every imported one.
    expect(await addRun(h, sampleRun())).toBe(5300);
  }, 120_000);

  it('export lists every run by id and import → export is identical; importing the export again skips every run', async () => {
    const h = await fresh();
    await addRun(h, sampleRun({ createdAt: T + 3 }));
    await importHistory(h, file(imported(CHUNK_RUNS + 10, 2, T, 1)));
    const text = JSON.stringify(await exportHistory(h, { now }));
    const doc = JSON.parse(text) as HistoryDocument;
    expect(doc.runs.map((r) => r.id)).toEqual(Array.from({ length: CHUNK_RUNS + 11 }, (_, i) => i + 1));
    const copy = await fresh();
    await importHistory(copy, text);
    expect(JSON.stringify(await exportHistory(copy, { now }))).toBe(text);
    expect((await importHistory(copy, text)).runs).toMatchObject({ added: 0, skipped: CHUNK_RUNS + 11 });
    expect(await countRuns(copy)).toBe(CHUNK_RUNS + 11);
  }, 60_000);

  it('ids taken by imported runs are renumbered past every stored id, and later runs never reuse them', async () => {
    const h = await fresh();
    await importHistory(h, file(imported(10, 1, T, 1)));
    const other = imported(10, 5, T + 1000, 1).map((r) => ({ ...r, seed: r.seed + 1000 }));
    const r = await importHistory(h, file(other));
    // 5…10 are taken; 11…14 are free and kept; the six taken ones follow them.
    expect(r.runs.added).toBe(10);
    expect(r.runs.renumbered).toEqual([5, 6, 7, 8, 9, 10].map((from, i) => ({ from, to: 15 + i })));
    expect((await getRun(h, 17))!.seed).toBe(other[2]!.seed);
    expect(await addRun(h, sampleRun())).toBe(21);
    // A deleted imported id is not reused either.
    expect(await deleteRun(h, 21)).toBe(true);
    expect(await deleteRun(h, 20)).toBe(true);
    expect(await addRun(h, sampleRun())).toBe(22);
  });

  it('deleting imported runs rewrites their chunk; a chunk emptied is gone; their traces go with them', async () => {
    const h = await fresh();
    const runs = imported(CHUNK_RUNS + 2, 1, T, 1);
    const doc: HistoryDocument = { ...(JSON.parse(file(runs)) as HistoryDocument), traces: [{ runId: 3, steps: traceSteps(2) }] };
    expect((await importHistory(h, JSON.stringify(doc))).traces.added).toBe(1);
    expect(await getTrace(h, 3)).toEqual(traceSteps(2));
    expect(await deleteRun(h, 3)).toBe(true);
    expect(await deleteRun(h, 3)).toBe(false);
    expect(await getRun(h, 3)).toBeUndefined();
    expect(await getTrace(h, 3)).toBeUndefined();
    // The second chunk holds the last two runs.
    expect(await deleteRun(h, CHUNK_RUNS + 1)).toBe(true);
    expect(await deleteRun(h, CHUNK_RUNS + 2)).toBe(true);
    const entries = await h.db.getAll('runChunkIndex');
    expect(entries.map((e) => e.count)).toEqual([CHUNK_RUNS - 1]);
    expect(await h.db.count('runChunks')).toBe(1);
    expect(await countRuns(h)).toBe(CHUNK_RUNS - 1);
    expect((await pageAll(h, {}, 100)).includes(3)).toBe(false);
    // A trace can be attached to an imported run.
    await putTrace(h, 4, traceSteps(3));
    expect(await getTrace(h, 4)).toEqual(traceSteps(3));
    await expect(putTrace(h, 3, traceSteps(3))).rejects.toThrow('no run 3 to attach a trace to');
  }, 60_000);

  it('the first page of 2,000 imported runs reads the chunk index and the newest chunks only', async () => {
    const h = await fresh();
    await importHistory(h, file(imported(2000, 1, T, 1)));
    const get = vi.spyOn(IDBObjectStore.prototype, 'get');
    const page = await listRuns(h, { limit: 50 });
    expect(page.runs).toHaveLength(50);
    const chunkReads = get.mock.contexts.filter((s) => (s as IDBObjectStore).name === 'runChunks').length;
    expect(chunkReads).toBeGreaterThanOrEqual(1);
    expect(chunkReads).toBeLessThanOrEqual(2);
    get.mockClear();
    expect((await getRun(h, 1234))!.id).toBe(1234);
    expect(get.mock.contexts.filter((s) => (s as IDBObjectStore).name === 'runChunks')).toHaveLength(1);
  }, 60_000);
});
