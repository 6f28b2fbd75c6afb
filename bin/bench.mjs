#!/usr/bin/env node
// `racebox bench` in a process of its own: the CLI (src/cli/bench.ts) starts this script rather
// than importing the benchmarks, which live in bench/ and are not part of the product.
import './register.mjs';

const { bench } = await import('../bench/cli.ts');
const { InputError } = await import('../src/workers/node-load.ts');
const out = (s) => process.stdout.write(`${s}\n`);
try {
  process.exitCode = await bench(process.argv.slice(2), out);
} catch (e) {
  if (!(e instanceof InputError)) throw e;
  // Bad input is reported as the racebox command reports it: one line, exit code 2.
  process.stderr.write(`racebox: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 2;
}
