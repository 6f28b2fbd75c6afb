/**
 * `racebox regress` on a team's own folder outside the repository (config, rig file, scenarios,
 * helpers that import values from 'racebox'), its reports, `racebox init`, `run`'s expect
 * verdict and the exit codes of every command.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { descendants, parseXml } from './xml.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/racebox.mjs');
const TMP = mkdtempSync(join(tmpdir(), 'racebox-regress-test-'));
const TEAM = join(TMP, 'team');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function racebox(args: string[], cwd = TEAM): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 240_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** The CLI in this process, for cases that need no scenario run (usage and bad input). */
async function inProcess(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, (s) => (stdout += `${s}\n`), (s) => (stderr += `${s}\n`));
  return { code, stdout, stderr };
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function expectInputError(r: Result, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^racebox: /);
  expect(lines[0]).toMatch(pattern);
}

/** Two CPUs add one to a shared counter; `locked` decides whether a spin lock guards it. */
function counterScenario(id: string, locked: boolean, expectRules: string, imports = ''): string {
  const body = locked
    ? 'const o = yield* k.KeAcquireSpinLock(s.lock); yield* k.WriteNoFence(s.n, (yield* k.ReadNoFence(s.n)) + 1); yield* k.KeReleaseSpinLock(s.lock, o);'
    : 'const v = yield* k.ReadNoFence(s.n); yield* k.WriteNoFence(s.n, v + 1);';
  return `import { defineScenario } from 'racebox';
${imports}
export default defineScenario({
  id: '${id}', title: '${id}', description: 'a counter', family: '${id.split('/')[0]}',
  setup: (k) => ({ lock: k.KeInitializeSpinLock(), n: k.ExAllocatePool2(0, 4, 'Cnt') }),
  actors: {
    a: { cpu: 0, *run(k, s) { ${body} } },
    b: { cpu: 1, *run(k, s) { ${body} } },
  },
  invariants: { 'both land': (s, k) => k.peek(s.n) === 2 },
  expect: ${expectRules},
});
`;
}

beforeAll(() => {
  write(join(TEAM, 'racebox.config.ts'), `import { defineConfig, type RaceboxConfig } from 'racebox';
const config: RaceboxConfig = defineConfig({
  scenarios: ['race/**/*.ts'],
  rigs: ['machines/team-box.json'],
  passBudget: 300,
  findBudget: 3000,
  overrides: { 'team/counter': { passBudget: 200 } },
});
export default config;
`);
  write(join(TEAM, 'machines/team-box.json'), JSON.stringify({ id: 'team-box', title: 'Our 2-CPU box', cores: 2, threadsPerCore: 1, hal: 'mp', build: 'checked' }));
  // Helpers as .ts, .mts and .js, each importing a value (not only a type) from 'racebox'.
  write(join(TEAM, 'race/lib/status.ts'), "import { STATUS_SUCCESS, type Kernel } from 'racebox';\nexport const OK: number = STATUS_SUCCESS;\nexport type K = Kernel;\n");
  write(join(TEAM, 'race/lib/irql.mts'), "import { DISPATCH_LEVEL } from 'racebox';\nexport const DISPATCH = DISPATCH_LEVEL;\n");
  write(join(TEAM, 'race/lib/pool.js'), "import { NonPagedPool } from 'racebox';\nexport const POOL = NonPagedPool;\n");
  write(
    join(TEAM, 'race/counter.ts'),
    counterScenario(
      'team/counter',
      true,
      "[{ when: { maxCpus: 1 }, outcome: 'pass' }, { when: { rig: 'team-box' }, outcome: 'pass' }]",
      "import { OK } from './lib/status.ts';\nimport { DISPATCH } from './lib/irql.mts';\nimport { POOL } from './lib/pool.js';\nif (OK !== 0 || DISPATCH !== 2 || POOL !== 0) throw new Error('helper values');",
    ),
  );
  // It used to hold; the lock was dropped, so it no longer does.
  write(join(TEAM, 'race/stale.ts'), counterScenario('team/stale', false, "[{ when: { rig: ['team-box', 'dual-opteron-240'] }, outcome: 'pass' }]"));
  write(join(TEAM, 'more/broken.ts'), 'export default {{{ ;\n');
  write(join(TEAM, 'more/odd-rig.ts'), counterScenario('team/odd-rig', true, "[{ when: { rig: 'no-such-rig' }, outcome: 'pass' }]"));
  write(
    join(TEAM, 'more/throws.ts'),
    `import { defineScenario } from 'racebox';
export default defineScenario({
  id: 'team/throws', title: 'Throws', description: '', family: 'team', setup: () => ({}),
  actors: { t: { *run(k) { yield* k.YieldProcessor(); throw new Error('driver bug in the test itself'); } } },
  expect: [{ when: { rig: 'team-box' }, outcome: 'pass' }],
});
`,
  );
});

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

// One process at a time: each starts Node with the TypeScript loader, and the host has few cores.
describe('racebox regress on a team folder', { timeout: 300_000 }, () => {
  it('with its config: every row as `scenario on rig: expected …, observed …`, exactly the stale rows fail, exit 1', async () => {
    const r = await racebox(['regress']);
    expect(r.code, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^ok {4}team\/counter on uniprocessor: expected pass, observed pass \(200 schedules\)$/m);
    expect(r.stdout).toMatch(/^ok {4}team\/counter on team-box: expected pass, observed pass \(200 schedules\)$/m);
    for (const rig of ['dual-opteron-240', 'team-box']) {
      expect(r.stdout).toMatch(new RegExp(`^FAIL  team/stale on ${rig}: expected pass, observed invariant 'both land'`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`replay: +npx racebox replay race/stale\\.ts --rig ${rig === 'team-box' ? 'machines/team-box\\.json' : rig} --schedule rb2\\.`));
    }
    expect(r.stdout.match(/^(ok|FAIL|ERROR)/gm)).toHaveLength(4);
    expect(r.stdout).toMatch(/regress: 2 of 4 rows as expected \(2 mismatches\)/);
  });

  it('--json: one object with every row; --junit: well-formed JUnit with one testcase per row', async () => {
    const junit = join(TMP, 'report.xml');
    const r = await racebox(['regress', '--json', '--junit', junit]);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j).toMatchObject({ passed: 2, failed: 2, errors: 0, config: 'racebox.config.ts' });
    expect(j.rigs).toEqual(['uniprocessor', 'p4-ht', 'dual-opteron-240', 'quad-free', 'workstation-16', 'arm64-quad', 'team-box']);
    expect(j.results.map((x: { scenario: string; rig: string; status: string }) => `${x.scenario} ${x.rig} ${x.status}`).sort()).toEqual([
      'team/counter team-box ok',
      'team/counter uniprocessor ok',
      'team/stale dual-opteron-240 mismatch',
      'team/stale team-box mismatch',
    ]);
    const stale = j.results.find((x: { scenario: string; rig: string }) => x.scenario === 'team/stale' && x.rig === 'team-box');
    expect(stale).toMatchObject({ file: 'race/stale.ts', expected: 'pass', observed: "invariant 'both land'", ok: false, strategy: 'portfolio' });
    expect(stale.schedule).toMatch(/^rb2\./);

    // The schedule in the report replays the failure.
    const rep = await racebox(['replay', 'race/stale.ts', '--rig', 'machines/team-box.json', '--schedule', stale.schedule, '--json']);
    expect(rep.code, rep.stderr).toBe(1);
    expect(JSON.parse(rep.stdout).outcome).toBe('invariant');

    const doc = parseXml(readFileSync(junit, 'utf8'));
    expect(doc.name).toBe('testsuites');
    const suites = descendants(doc, 'testsuite');
    expect(suites).toHaveLength(1);
    expect(suites[0]!.attrs).toMatchObject({ tests: '4', failures: '2', errors: '0' });
    const cases = descendants(doc, 'testcase');
    expect(cases.map((c) => c.attrs.name).sort()).toEqual(['team/counter on team-box', 'team/counter on uniprocessor', 'team/stale on dual-opteron-240', 'team/stale on team-box']);
    for (const c of cases) expect(Number(c.attrs.time)).toBeGreaterThanOrEqual(0);
    const failed = cases.filter((c) => c.children.some((x) => x.name === 'failure'));
    expect(failed.map((c) => c.attrs.name).sort()).toEqual(['team/stale on dual-opteron-240', 'team/stale on team-box']);
    const failure = failed.find((c) => c.attrs.name === 'team/stale on team-box')!.children[0]!;
    expect(failure.attrs.message).toBe("expected pass, observed invariant 'both land'");
    expect(failure.text).toContain(`schedule: ${stale.schedule}`);
    expect(failure.text).toContain(`replay: npx racebox replay race/stale.ts --rig machines/team-box.json --schedule ${stale.schedule}`);
  });

  it('a folder with broken scenarios: each is a row of its own, the others still run, exit 2', async () => {
    const r = await racebox(['regress', 'race', 'more', '--json']);
    expect(r.code, r.stderr).toBe(2);
    const j = JSON.parse(r.stdout);
    const rows = j.results.map((x: { scenario: string; rig: string; status: string }) => `${x.scenario} ${x.rig} ${x.status}`).sort();
    expect(rows).toEqual([
      'more/broken.ts - bad-input',
      'team/counter team-box ok',
      'team/counter uniprocessor ok',
      'team/odd-rig - bad-input',
      'team/stale dual-opteron-240 mismatch',
      'team/stale team-box mismatch',
      'team/throws team-box error',
    ]);
    const reasons = j.results.filter((x: { ok: boolean }) => !x.ok).map((x: { reason: string }) => x.reason).join('\n');
    expect(reasons).toMatch(/cannot load scenario more\/broken\.ts/);
    expect(reasons).toMatch(/more\/odd-rig\.ts: expect\[0\]\.when\.rig: unknown rig 'no-such-rig'/);
    expect(reasons).toMatch(/outcome error: .*driver bug in the test itself/);
  });

  it('one file on the command line, with the options: a single row per rig, exit 0', async () => {
    const r = await racebox(['regress', 'race/counter.ts', '--rig', 'uniprocessor', '--pass-budget', '50']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}team\/counter on uniprocessor: expected pass, observed pass \(50 schedules\)$/m);
    expect(r.stdout).toMatch(/regress: 1 of 1 rows as expected/);
  });

  it('exit 2, one line: malformed config, a glob that matches nothing, a missing path', async () => {
    const bad = join(TMP, 'bad-config');
    write(join(bad, 'racebox.config.json'), JSON.stringify({ scenarios: ['race/*.ts', 3] }));
    const typo = join(TMP, 'typo-config');
    write(join(typo, 'racebox.config.json'), JSON.stringify({ scenario: ['race/*.ts'] }));
    const empty = join(TMP, 'empty-glob');
    write(join(empty, 'racebox.config.json'), JSON.stringify({ scenarios: ['nowhere/**/*.ts'] }));
    // One through a process of its own (the exit code and stderr), the rest in this process.
    const malformed = await racebox(['regress'], bad);
    const unknownField = await inProcess(['regress', '--config', join(typo, 'racebox.config.json')]);
    const noMatch = await inProcess(['regress', '--config', join(empty, 'racebox.config.json')]);
    const noArgMatch = await inProcess(['regress', join(TMP, 'nothing/*.ts')]);
    const missing = await inProcess(['regress', join(TMP, 'no-such-folder')]);
    const badRigFile = await inProcess(['regress', '--config', join(bad, 'racebox.config.json'), '--pass-budget', 'x']);
    expectInputError(malformed, /racebox\.config\.json: scenarios\[1\]: must be a string glob/);
    expectInputError(unknownField, /racebox\.config\.json: scenario: unknown field/);
    expectInputError(noMatch, /racebox\.config\.json: scenarios\[0\]: 'nowhere\/\*\*\/\*\.ts' matches no file/);
    expectInputError(noArgMatch, /nothing\/\*\.ts' matches no file/);
    expectInputError(missing, /no such file or folder: .*no-such-folder/);
    expectInputError(badRigFile, /--pass-budget must be an integer/);
  });

  it('run checks the expect on its rig: --json adds expected and matched', async () => {
    const stale = await racebox(['run', 'race/stale.ts', '--rig', 'machines/team-box.json', '--json']);
    expect(stale.code, stale.stderr).toBe(1);
    expect(JSON.parse(stale.stdout)).toMatchObject({ outcome: 'invariant', expected: 'pass', matched: false });
    const counter = await racebox(['run', 'race/counter.ts', '--rig', 'uniprocessor', '--schedules', '50', '--json']);
    expect(counter.code, counter.stderr).toBe(0);
    expect(JSON.parse(counter.stdout)).toMatchObject({ outcome: 'pass', expected: 'pass', matched: true });
    const human = await racebox(['run', 'race/counter.ts', '--rig', 'quad-free', '--schedules', '20']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^expect: no rule of the scenario applies to quad-free$/m);
  });

  it('run exits 2 when the run ends as outcome error', async () => {
    const r = await racebox(['run', 'more/throws.ts', '--rig', 'dual-opteron-240', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'error', failure: { kind: 'error' } });
  });

  it('init writes a starter config and an example scenario that regress runs, and refuses to overwrite', async () => {
    const dir = join(TMP, 'fresh');
    mkdirSync(dir);
    const first = await racebox(['init'], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(join(dir, 'racebox.config.ts'))).toBe(true);
    expect(readFileSync(join(dir, 'racebox.config.ts'), 'utf8')).toMatch(/defineConfig/);
    expect(existsSync(join(dir, 'scenarios/example/counter.ts'))).toBe(true);
    const again = await inProcess(['init', dir]);
    expectInputError(again, /does not overwrite.*racebox\.config\.ts/);
    const r = await racebox(['regress', '--rig', 'dual-opteron-240', '--pass-budget', '30', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: 1, failed: 0, errors: 0, results: [{ scenario: 'example/counter', rig: 'dual-opteron-240', ok: true }] });
  });

  it('every subcommand answers --help on stdout with exit 0; bare racebox prints usage on stderr, exit 2', async () => {
    const commands = ['list', 'run', 'replay', 'regress', 'init', 'bench'];
    for (const c of commands) {
      const r = await inProcess([c, '--help']);
      expect(r.code, `${c}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: racebox ${c}\\b`));
      expect(r.stderr).toBe('');
    }
    const bare = await racebox([], TMP);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^usage:/);
    const top = await inProcess(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/racebox regress \[path \| folder \| glob \.\.\.\]/);
    const wrong = await inProcess(['frobnicate']);
    expectInputError(wrong, /unknown command 'frobnicate'/);
  });
});
