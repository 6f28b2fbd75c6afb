import './helpers.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import {
  addRun,
  countRuns,
  deleteRun,
  deleteTrace,
  getRun,
  getTrace,
  HistoryError,
  HistoryValidationError,
  listRuns,
  putTrace,
  runFromSummary,
  type History,
  type OutcomeKind,
  type RunFilter,
  type StoredRun,
} from '../../src/history/index.ts';
import naive from '../../scenarios/spinlock/naive-tas.ts';
import { fresh, rigA, rigB, sampleRun, seed, traceSteps } from './helpers.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('runs', () => {
  it('stores a real exploration result and reads it back unchanged', async () => {
    const h = await fresh();
    const summary = explore(rigA, naive, { schedules: 200 });
    expect(summary.outcome).toBe('deadlock');
    const run = runFromSummary(summary, {
      rig: rigA,
      scenario: { id: naive.id, version: naive.version, title: naive.title },
      engine: 'controlled',
      budget: 200,
      depth: 3,
      createdAt: 1_700_000_000_000,
    });
    const id = await addRun(h, run);
    expect(id).toBe(1);
    const got = await getRun(h, id);
    expect(got).toEqual({ ...run, id });
    expect(got!.failure!.schedule).toBe(summary.failure!.schedule);
    expect(await addRun(h, run)).toBe(2);
  });

  it('fills createdAt with now and normalizes the stored copy (no undefined fields, rig defaults)', async () => {
    const h = await fresh();
    const before = Date.now();
    const run = { ...sampleRun({ outcome: 'pass' }), failure: undefined, rig: { id: 'mine', title: 'Mine', cores: 2, hal: 'mp', build: 'free' } as never };
    const id = await addRun(h, run);
    const got = (await getRun(h, id))!;
    expect(got.createdAt).toBeGreaterThanOrEqual(before);
    expect('failure' in got).toBe(false);
    expect(got.rig.quantum).toBe(30);
    expect(got.rig.threadsPerCore).toBe(1);
  });

  it.each([
    ['outcome outside the set', { outcome: 'crash' }, 'outcome'],
    ['a pass with a failure', { outcome: 'pass' }, 'failure'],
    ['a failure of another kind', { outcome: 'hang' }, 'failure.kind'],
    ['an invalid rig', { rig: { ...rigA, cores: 0 } }, 'rig.cores'],
    ['an unknown field', { color: 'red' }, 'color'],
    ['a fractional seed', { seed: 1.5 }, 'seed'],
    ['a bad schedule string', { failure: { ...sampleRun().failure!, schedule: 'has spaces' } }, 'failure.schedule'],
    ['a CPU snapshot with a bad IRQL', { failure: { ...sampleRun().failure!, cpus: [{ ...sampleRun().failure!.cpus[0]!, irql: -1 }] } }, 'failure.cpus[0].irql'],
  ] as const)('refuses %s, naming the field', async (_what, patch, field) => {
    const h = await fresh();
    const run = { ...sampleRun(), ...patch } as never;
    const err = await addRun(h, run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryValidationError);
    expect((err as HistoryValidationError).errors.map((e) => e.field)).toContain(field);
    expect(await countRuns(h)).toBe(0);
  });

  it('deleteRun removes the run and its trace, and only them', async () => {
    const h = await fresh();
    const a = await addRun(h, sampleRun(), { trace: traceSteps(5) });
    const b = await addRun(h, sampleRun(), { trace: traceSteps(3) });
    expect(await deleteRun(h, a)).toBe(true);
    expect(await getRun(h, a)).toBeUndefined();
    expect(await getTrace(h, a)).toBeUndefined();
    expect(await getTrace(h, b)).toHaveLength(3);
    expect(await deleteRun(h, a)).toBe(false);
    expect(await countRuns(h)).toBe(1);
  });
});

describe('traces', () => {
  it('putTrace / getTrace / deleteTrace', async () => {
    const h = await fresh();
    const id = await addRun(h, sampleRun());
    expect(await getTrace(h, id)).toBeUndefined();
    const steps = traceSteps(1000);
    await putTrace(h, id, steps);
    expect(await getTrace(h, id)).toEqual(steps);
    await putTrace(h, id, steps.slice(0, 2));
    expect(await getTrace(h, id)).toHaveLength(2);
    expect(await deleteTrace(h, id)).toBe(true);
    expect(await getTrace(h, id)).toBeUndefined();
    expect(await getRun(h, id)).toBeDefined();
  });

  it('refuses a trace for a run that is not stored, and a malformed step', async () => {
    const h = await fresh();
    await expect(putTrace(h, 99, traceSteps(2))).rejects.toThrow(/no run 99/);
    const id = await addRun(h, sampleRun());
    const bad = traceSteps(3);
    (bad[2] as { what: string }).what = 'jump';
    const err = await putTrace(h, id, bad).catch((e: unknown) => e);
    expect((err as HistoryValidationError).errors[0]!.field).toBe('trace[2].what');
    expect(await getTrace(h, id)).toBeUndefined();
  });

  it('a run added with a bad trace is not stored either', async () => {
    const h = await fresh();
    const bad = traceSteps(2);
    (bad[1] as { irql: unknown }).irql = 'high';
    await expect(addRun(h, sampleRun(), { trace: bad })).rejects.toBeInstanceOf(HistoryValidationError);
    expect(await countRuns(h)).toBe(0);
  });
});

describe('listRuns', () => {
  const scenarios = ['a/one', 'a/two', 'b/three'];
  const rigs = [rigA, rigB];
  const outcomes: OutcomeKind[] = ['pass', 'deadlock', 'bugcheck'];

  /** 300 runs over 100 distinct times (ties on createdAt are ordered by id). */
  async function fixture(): Promise<{ h: History; all: StoredRun[] }> {
    const h = await fresh();
    const all = await seed(
      h,
      Array.from({ length: 300 }, (_, i) =>
        sampleRun({ createdAt: 1_700_000_000_000 + ((i * 37) % 100), scenario: scenarios[i % 3], rig: rigs[i % 2], outcome: outcomes[Math.floor(i / 6) % 3] }),
      ),
    );
    return { h, all };
  }

  async function pageAll(h: History, filter: RunFilter, limit: number): Promise<{ ids: number[]; pages: number }> {
    const ids: number[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await listRuns(h, { ...filter, limit, ...(after ? { after } : {}) });
      pages++;
      expect(page.runs.length).toBeLessThanOrEqual(limit);
      ids.push(...page.runs.map((r) => r.id));
      after = page.next;
    } while (after);
    return { ids, pages };
  }

  it('pages newest first with no gaps or repeats, for every filter combination', async () => {
    const { h, all } = await fixture();
    const filters: RunFilter[] = [{}];
    for (const scenario of [undefined, 'a/two'])
      for (const rig of [undefined, rigB.id])
        for (const outcome of [undefined, 'bugcheck' as const]) {
          const f: RunFilter = { ...(scenario ? { scenario } : {}), ...(rig ? { rig } : {}), ...(outcome ? { outcome } : {}) };
          if (Object.keys(f).length > 0) filters.push(f);
        }
    expect(filters).toHaveLength(8);
    for (const f of filters) {
      const expected = all
        .filter((r) => (!f.scenario || r.scenario.id === f.scenario) && (!f.rig || r.rig.id === f.rig) && (!f.outcome || r.outcome === f.outcome))
        .map((r) => r.id);
      expect(expected.length).toBeGreaterThan(0);
      const { ids } = await pageAll(h, f, 7);
      expect(ids, JSON.stringify(f)).toEqual(expected);
      expect(await countRuns(h, f)).toBe(expected.length);
    }
  });

  it('an exact last page has no next cursor; an empty filter result is one empty page', async () => {
    const { h } = await fixture();
    const { pages } = await pageAll(h, {}, 100);
    expect(pages).toBe(3);
    expect(await listRuns(h, { scenario: 'zzz/none', limit: 10 })).toEqual({ runs: [] });
    expect(await countRuns(h, { scenario: 'zzz/none' })).toBe(0);
  });

  it('a page started from a cursor is unaffected by runs added since', async () => {
    const { h, all } = await fixture();
    const first = await listRuns(h, { limit: 10 });
    await addRun(h, sampleRun({ createdAt: 1_800_000_000_000 }));
    const second = await listRuns(h, { limit: 10, after: first.next! });
    expect(second.runs.map((r) => r.id)).toEqual(all.slice(10, 20).map((r) => r.id));
  });

  it('refuses a bad limit, cursor or outcome', async () => {
    const h = await fresh();
    await expect(listRuns(h, { limit: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(listRuns(h, { limit: 10_000 })).rejects.toBeInstanceOf(RangeError);
    await expect(listRuns(h, { limit: 5, after: 'nonsense' })).rejects.toBeInstanceOf(HistoryError);
    await expect(listRuns(h, { limit: 5, outcome: 'crash' as never })).rejects.toBeInstanceOf(TypeError);
  });

  it('reads limit + 1 records per page whatever the history size and however rare the match', async () => {
    const h = await fresh();
    // 2,000 runs; one in 400 is a bug check on the uniprocessor rig.
    await seed(
      h,
      Array.from({ length: 2000 }, (_, i) =>
        sampleRun({ createdAt: 1_700_000_000_000 + i, rig: i % 400 === 0 ? rigB : rigA, outcome: i % 400 === 0 ? 'bugcheck' : 'pass' }),
      ),
    );
    // Every record a cursor visits (the first positioning and each continue) goes through
    // fake-indexeddb's cursor step; spying on the public continue() would defeat idb's wrapper.
    const step = vi.spyOn(IDBCursor.prototype as unknown as { _iterate: () => unknown }, '_iterate');
    const getAll = vi.spyOn(IDBIndex.prototype, 'getAll');
    const storeGetAll = vi.spyOn(IDBObjectStore.prototype, 'getAll');
    const reads = async (f: RunFilter & { limit: number; after?: string }): Promise<{ reads: number; next?: string; n: number }> => {
      step.mockClear();
      const page = await listRuns(h, f);
      return { reads: step.mock.calls.length, n: page.runs.length, ...(page.next ? { next: page.next } : {}) };
    };
    // Deep in the list: page 30 of 50.
    let after: string | undefined;
    for (let p = 0; p < 30; p++) after = (await listRuns(h, { limit: 50, ...(after ? { after } : {}) })).next;
    const deep = await reads({ limit: 50, after: after! });
    expect(deep).toMatchObject({ n: 50, reads: 51 });
    // The rare filter: 5 matches among 2,000, read without scanning the others.
    const rare = await reads({ rig: rigB.id, outcome: 'bugcheck', limit: 3 });
    expect(rare).toMatchObject({ n: 3, reads: 4 });
    const rest = await reads({ rig: rigB.id, outcome: 'bugcheck', limit: 3, after: rare.next! });
    expect(rest.n).toBe(2);
    expect(rest.reads).toBeLessThanOrEqual(3);
    expect(rest.next).toBeUndefined();
    expect(getAll).not.toHaveBeenCalled();
    // The only whole-store read is the chunk index (one small record per 500 imported runs; none here).
    expect(storeGetAll.mock.contexts.map((store) => (store as IDBObjectStore).name)).toEqual(Array(storeGetAll.mock.calls.length).fill('runChunkIndex'));
  });
});
