#!/usr/bin/env node
// Runs one module of `racebox bench` in this fresh process and prints its rows as JSON on stdout:
// `racebox bench` starts one such process per module, so that no module measures in a heap and JIT
// state shaped by what ran or loaded before it.
import './register.mjs';

const [title, quick] = process.argv.slice(2);
const { benchModules } = await import('../bench/index.ts');
const entry = benchModules.find((m) => m.title === title);
if (!entry) {
  process.stderr.write(`bench-module: no module '${title}'\n`);
  process.exit(2);
}
const m = await entry.load();
const rows = await m.run({ quick: quick === 'quick', log: (s) => process.stderr.write(`${s}\n`) });
process.stdout.write(JSON.stringify(rows));
