/**
 * `racebox init [folder]`: a starting point for a team's regression runs — a commented
 * racebox.config.ts and one example scenario. It never overwrites a file.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from './args.ts';
import { CONFIG_NAMES } from './project.ts';
import { InputError } from '../workers/node-load.ts';

const CONFIG = `// racebox.config.ts — what \`npx racebox regress\` runs in this repository.
// Every field is optional; the values below are the defaults unless marked otherwise.
import { defineConfig } from 'racebox';

export default defineConfig({
  // Scenario files, as globs relative to this file. In a glob, a module without a default
  // export is a helper the scenarios import, and is skipped.
  scenarios: ['scenarios/**/*.ts'],

  // Rig files (.json) of the machines you ship on, checked besides the preset rigs
  // (uniprocessor, p4-ht, dual-opteron-240, quad-free, workstation-16). Example:
  // rigs: ['rigs/our-server.json'],
  rigs: [],

  // How hard each row searches (the command line's --strategy, --seeds, --find-budget and
  // --pass-budget win over these):
  strategy: 'portfolio', // portfolio | pct | random | pos | dfs
  seeds: 1, // an expected failure must be found by seed 1 (with N > 1: by 9 in 10 of seeds 1..N)
  findBudget: 10_000, // schedules per seed when a failure is expected
  passBudget: 2_000, // schedules when the scenario should pass (a scenario's own budget wins)

  // Settings for single scenarios, by id:
  overrides: {
    // 'example/counter': { passBudget: 20_000 },
  },
});
`;

const SCENARIO = `// An example scenario: two CPUs increment a shared counter under a spin lock.
// Run it with: npx racebox run scenarios/example/counter.ts --rig dual-opteron-240
// The scenario format is described in racebox's docs/scenario-api.md.
import { defineScenario } from 'racebox';

export default defineScenario({
  id: 'example/counter',
  title: 'A counter shared by two CPUs',
  description: 'Each CPU adds one to a pool-allocated counter while holding a spin lock; both increments must land.',
  family: 'example',
  setup: (k) => ({ lock: k.KeInitializeSpinLock(), count: k.ExAllocatePool2(0, 4, 'Exmp') }),
  actors: {
    first: {
      cpu: 0,
      *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.WriteNoFence(s.count, (yield* k.ReadNoFence(s.count)) + 1);
        yield* k.KeReleaseSpinLock(s.lock, old);
      },
    },
    second: {
      cpu: 1,
      *run(k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* k.WriteNoFence(s.count, (yield* k.ReadNoFence(s.count)) + 1);
        yield* k.KeReleaseSpinLock(s.lock, old);
      },
    },
  },
  invariants: { bothIncrementsLand: (s, k) => k.peek(s.count) === 2 || \`count is \${k.peek(s.count)}\` },
  // What each rig should see: the first rule whose \`when\` matches applies.
  expect: 'pass',
});
`;

export function init(argv: string[], out: (s: string) => void): number {
  const p = parseArgs('init', argv, { help: { value: false } });
  if (p.positional.length > 1) throw new InputError(`'racebox init' takes at most one folder (got ${p.positional.join(' ')})`);
  const dir = resolve(p.positional[0] ?? '.');
  const config = join(dir, 'racebox.config.ts');
  const scenario = join(dir, 'scenarios/example/counter.ts');
  const existing = [...CONFIG_NAMES.map((n) => join(dir, n)), scenario].filter((f) => existsSync(f));
  if (existing.length > 0) {
    throw new InputError(`racebox init does not overwrite files: ${existing.map((f) => relative(process.cwd(), f) || f).join(', ')} already exist${existing.length === 1 ? 's' : ''}`);
  }
  mkdirSync(dirname(scenario), { recursive: true });
  writeFileSync(config, CONFIG);
  writeFileSync(scenario, SCENARIO);
  const shown = (f: string): string => relative(process.cwd(), f) || f;
  out(`wrote ${shown(config)} and ${shown(scenario)}`);
  out('next: npx racebox regress   (runs every scenario the config names on every rig its expect applies to)');
  return 0;
}
