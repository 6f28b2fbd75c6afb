/**
 * History import at scale (not a test: `npx tsx test/history/import-bench.ts [runs]`).
 * 200,000 runs (the LIMITS.runs cap), a tenth of them sharing one createdAt, into an
 * empty history and then again into the full one (every run a twin: all skipped).
 * fake-indexeddb is slower than a browser's IndexedDB; what matters is that the
 * time grows linearly with the runs (the import was quadratic in runs of one second).
 */
import 'fake-indexeddb/auto';
import { closeHistory, countRuns, importHistory, openHistory, parseHistoryDocumentSliced, type StoredRun } from '../../src/history/index.ts';
import { sampleRun } from './helpers.ts';

const total = Number(process.argv[2] ?? 200_000);
for (const n of [total / 4, total / 2, total]) {
  const runs: StoredRun[] = Array.from({ length: n }, (_, i) => ({
    ...sampleRun({ createdAt: 1_700_000_000_000 + (i % 10 === 0 ? 0 : i), outcome: 'pass', seed: i }),
    id: i + 1,
  }) as StoredRun);
  const text = JSON.stringify({ format: 'racebox-history', version: 1, exportedAt: '2026-12-01T00:00:00.000Z', runs, userRigs: [], userScenarios: [] });
  const cpu0 = process.cpuUsage();
  let t0 = performance.now();
  await parseHistoryDocumentSliced(text);
  const check = performance.now() - t0;
  const h = await openHistory({ name: `import-bench-${n}` });
  t0 = performance.now();
  const first = await importHistory(h, text);
  const intoEmpty = performance.now() - t0;
  t0 = performance.now();
  const second = await importHistory(h, text);
  const again = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `${n} runs (${(text.length / 1e6).toFixed(0)} MB): parse and check ${check.toFixed(0)} ms; into an empty history ${intoEmpty.toFixed(0)} ms (${first.runs.added} added); ` +
      `the same file again ${again.toFixed(0)} ms (${second.runs.skipped} skipped); stored ${await countRuns(h)}; ` +
      `CPU time of all three ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (wall times include waiting for a busy machine)`,
  );
  closeHistory(h);
}
