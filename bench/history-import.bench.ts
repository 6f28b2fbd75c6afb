/**
 * History import at the cap (issue 14): 200,000 runs (LIMITS.runs), a tenth of them sharing one createdAt,
 * parsed and checked as the app's import worker does (parseHistoryDocument), stored into an empty history
 * (storeHistoryDocument), then the same file again (every run already stored: all skipped). fake-indexeddb
 * stands in for the browser's IndexedDB; what the rows show is that the whole import takes seconds and grows
 * linearly (it was quadratic in runs of one second), and what the store costs: the runs go into chunks of 500
 * (schema v2, src/history/chunks.ts), two writes per chunk instead of a record and eight index entries per
 * run. Chromium's own figures come from e2e/history-import.spec.ts (docs/limits.md). Opt-in (about a minute and
 * a gigabyte of memory): `racebox bench --only 'history import'`; `--quick` imports 20,000.
 */
import 'fake-indexeddb/auto';
import { closeHistory, countRuns, openHistory, parseHistoryDocument } from '../src/history/index.ts';
import { storeHistoryDocument } from '../src/history/transfer.ts';
import { historyFile } from './fixtures/history-file.ts';
import type { BenchModule, BenchRow } from './index.ts';

const historyImportBench: BenchModule = {
  title: 'history import',
  async run(ctx) {
    const n = ctx.quick ? 20_000 : 200_000;
    const text = historyFile(n);
    const mb = (text.length / (1024 * 1024)).toFixed(0);
    // Wall time and this process's CPU time of each phase: on a busy host the CPU time is the steadier figure.
    const timed = async <T>(f: () => Promise<T> | T): Promise<{ value: T; ms: number; cpuMs: number }> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const value = await f();
      const c = process.cpuUsage(c0);
      return { value, ms: Math.round(performance.now() - t0), cpuMs: Math.round((c.user + c.system) / 1000) };
    };
    const parse = await timed(() => parseHistoryDocument(text));
    const h = await openHistory({ name: `bench-history-import-${process.pid}` });
    const store = await timed(() => storeHistoryDocument(h, parse.value));
    const stored = await countRuns(h);
    if (store.value.runs.added !== n || stored !== n) throw new Error(`history import bench: ${store.value.runs.added} added, ${stored} stored, expected ${n}`);
    const again = await timed(async () => storeHistoryDocument(h, parseHistoryDocument(text)));
    if (again.value.runs.skipped !== n || (await countRuns(h)) !== n) throw new Error(`history import bench: the second import skipped ${again.value.runs.skipped} of ${n}`);
    closeHistory(h);
    const cpu = (t: { cpuMs: number }): string => `CPU ${t.cpuMs.toLocaleString('en-US')} ms`;
    const runs = n.toLocaleString('en-US');
    const rows: BenchRow[] = [
      { name: `parse and check ${runs} runs (${mb} MB)`, value: parse.ms, unit: 'ms', note: cpu(parse) },
      { name: `store ${runs} runs into an empty history (fake-indexeddb)`, value: store.ms, unit: 'ms', note: `${cpu(store)}; ${Math.round((n * 1000) / store.ms).toLocaleString('en-US')} runs/s` },
      { name: 'the whole import (parse, check, store)', value: parse.ms + store.ms, unit: 'ms', note: `CPU ${(parse.cpuMs + store.cpuMs).toLocaleString('en-US')} ms` },
      { name: `the same file again: parse, check, ${runs} skipped`, value: again.ms, unit: 'ms', note: cpu(again) },
    ];
    return rows;
  },
};
export default historyImportBench;
