/** `racebox bench`: runs the suite in bench/ and prints a table (or one JSON object). */
import { benchModules, type BenchRow } from '../../bench/index.ts';
import { parseArgs } from './args.ts';
import { InputError } from './load.ts';

export async function bench(argv: string[], out: (s: string) => void): Promise<number> {
  const p = parseArgs('bench', argv, { json: { value: false }, quick: { value: false }, only: { value: true } });
  if (p.positional.length > 0) throw new InputError(`'racebox bench' takes no arguments (got ${p.positional.join(' ')})`);
  const json = p.options.has('json');
  const only = p.options.get('only');
  const quick = p.options.has('quick');
  const results: { module: string; rows: BenchRow[] }[] = [];
  const host = { node: process.versions.node, cpus: (await import('node:os')).cpus().length, platform: process.platform };
  if (!json) out(`racebox bench — Node ${host.node}, ${host.cpus} host CPUs${quick ? ' (quick)' : ''}`);
  for (const m of await benchModules()) {
    if (typeof only === 'string' && !m.title.includes(only)) continue;
    const rows = await m.run({ quick, log: json ? () => {} : out });
    results.push({ module: m.title, rows });
    if (!json) {
      out(`\n${m.title}`);
      for (const r of rows) {
        const base = r.baseline ? `   vs ${r.baseline.name}: ${r.baseline.value.toLocaleString('en-US')} → ${(100 * (r.ratio ?? r.value / r.baseline.value)).toFixed(0)}%` : '';
        out(`  ${r.name.padEnd(64)} ${r.value.toLocaleString('en-US').padStart(12)} ${r.unit}${base}${r.note ? `   (${r.note})` : ''}`);
      }
    }
  }
  if (json) out(JSON.stringify({ host, quick, results }));
  return 0;
}
