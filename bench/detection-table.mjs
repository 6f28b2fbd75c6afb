#!/usr/bin/env node
// Renders the raw output of `racebox bench --only detection --json` as the Markdown tables of docs/detection.md:
//   node bench/detection-table.mjs bench/detection-<date>.json [more.json ...]
// Rows of a later file replace the rows of the same scenario and strategy in an earlier one (a re-measured family).
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node bench/detection-table.mjs <detection.json> [more.json ...]\n');
  process.exit(2);
}
const byName = new Map();
let speedRow;
for (const file of files) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const own = doc.results.find((m) => m.module === 'detection')?.rows ?? [];
  for (const r of own) {
    if (r.name.startsWith('portfolio schedules/s')) { if (r.value > 0) speedRow ??= r; }
    else byName.set(r.name, r);
  }
}
const rows = [...byName.values()];
const parse = (name) => /^(found|clean) (\S+) @ (\S+) — (.+)$/.exec(name);
const found = new Map();
const clean = new Map();
const columns = [];
for (const r of rows) {
  const m = parse(r.name);
  if (!m) continue;
  const [, what, scenario, rig, strategy] = m;
  if (!columns.includes(strategy)) columns.push(strategy);
  const table = what === 'found' ? found : clean;
  const key = `${scenario} @ ${rig}`;
  if (!table.has(key)) table.set(key, new Map());
  const median = /median (\d+(?:\.\d+)?)/.exec(r.note ?? '')?.[1];
  const cell = what === 'found' ? `${r.value}/10${median ? ` (${Math.round(Number(median))})` : ''}` : r.value > 0 ? '✓' : `✗ ${r.note}`;
  table.get(key).set(strategy, cell);
}
const head = (first) => `| ${first} | ${columns.join(' | ')} |\n|---|${columns.map(() => '---').join('|')}|`;
const body = (t) => [...t].map(([k, cells]) => `| ${k} | ${columns.map((c) => cells.get(c) ?? '—').join(' | ')} |`).join('\n');
console.log(head('buggy scenario @ rig: seeds found (median schedules)'));
console.log(body(found));
console.log('');
console.log(head('correct scenario @ rig: clean'));
console.log(body(clean));
const speed = speedRow;
if (speed) console.log(`\nportfolio ${speed.value} schedules/s vs ${speed.baseline.name} ${speed.baseline.value} (${Math.round(100 * speed.ratio)}%) on the correct scenarios.`);
