/**
 * `racebox bench`: runs the suite in bench/ and prints a table (or one JSON object). The CLI does
 * not import benchmarks; it starts bin/bench.mjs, which runs this in a process of its own.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchModules, type BenchRow } from './index.ts';
import { parseArgs } from '../src/cli/args.ts';
import { InputError } from '../src/workers/node-load.ts';

export async function bench(argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs('bench', argv, { json: { value: false }, quick: { value: false }, only: { value: true } });
  if (p.positional.length > 0) throw new InputError(`'racebox bench' takes no arguments (got ${p.positional.join(' ')})`);
  const json = p.options.has('json');
  const only = p.options.get('only');
  const quick = p.options.has('quick');
  const results: { module: string; rows: BenchRow[] }[] = [];
  // Set by bin/v8-tuning.mjs: the flags every racebox process (each bench module's among them) runs with.
  const flags = (globalThis as { __raceboxV8Flags?: string }).__raceboxV8Flags;
  const v8Tuning = flags ? `V8 ${flags}` : 'V8 defaults';
  const host = { node: process.versions.node, cpus: (await import('node:os')).cpus().length, platform: process.platform, v8: v8Tuning };
  if (!json) out(`racebox bench — Node ${host.node}, ${host.cpus} host CPUs, ${v8Tuning}${quick ? ' (quick)' : ''}`);
  for (const entry of benchModules) {
    if (typeof only === 'string' && !entry.title.includes(only)) continue;
    if (entry.optIn && typeof only !== 'string') continue;
    // With --json, stdout is the JSON object alone: a module's progress goes to stderr.
    const rows = await runIsolated(entry.title, quick, json ? (l) => process.stderr.write(`${l}\n`) : out);
    results.push({ module: entry.title, rows });
    if (!json) {
      out(`\n${entry.title}`);
      for (const r of rows) out(formatBenchRow(r));
    }
  }
  if (json) out(JSON.stringify({ host, quick, results }));
  return 0;
}

/** One row of the bench's text output: the figure, its baseline and their ratio, and the note. */
export function formatBenchRow(r: BenchRow): string {
  // A baseline that made no progress (a convoy of more spinning workers than host cores) has no ratio.
  const ratio = r.ratio ?? (r.baseline && r.baseline.value > 0 ? r.value / r.baseline.value : undefined);
  const shown = ratio === undefined || !Number.isFinite(ratio) ? 'no ratio' : `${(100 * ratio).toFixed(0)}%`;
  const base = r.baseline ? `   vs ${r.baseline.name}: ${r.baseline.value.toLocaleString('en-US')} → ${shown}` : '';
  return `  ${r.name.padEnd(64)} ${r.value.toLocaleString('en-US').padStart(12)} ${r.unit}${base}${r.note ? `   (${r.note})` : ''}`;
}

/**
 * Runs one bench module in a process of its own (bin/bench-module.mjs): each measures next to its
 * baseline in a fresh heap and JIT, not in one shaped by the CLI and the modules before it.
 */
function runIsolated(title: string, quick: boolean, log: (s: string) => void): Promise<BenchRow[]> {
  const script = fileURLToPath(new URL('../bin/bench-module.mjs', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, title, quick ? 'quick' : ''], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const lines = stderr.split('\n');
      stderr = lines.pop() ?? '';
      for (const l of lines) log(l);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (stderr) log(stderr);
      if (code !== 0) reject(new Error(`bench module '${title}' exited with code ${code}`));
      else {
        try {
          resolve(JSON.parse(stdout) as BenchRow[]);
        } catch (e) {
          reject(new Error(`bench module '${title}' printed no result: ${String(e)}`));
        }
      }
    });
  });
}
