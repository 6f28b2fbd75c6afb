import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/racebox.mjs');
const TMP = mkdtempSync(join(tmpdir(), 'racebox-cli-test-'));

afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function racebox(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

function expectInputError(r: Result, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^racebox: /);
  expect(lines[0]).toMatch(pattern);
}

// Two at a time: each case starts Node with the TypeScript loader and a worker thread.
describe.concurrent('racebox CLI', { timeout: 40_000 }, () => {
  it('run: exit 0 for a correct scenario', async () => {
    const r = await racebox(['run', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--schedules', '50']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no failure in 50 schedules/);
  });

  it('run --json: exit 1 for a failure, with the documented JSON shape', async () => {
    const r = await racebox(['run', 'spinlock/recursive-acquire', '--rig', 'dual-opteron-240', '--json', '--seed', '3']);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    expect(j).toMatchObject({
      scenario: 'spinlock/recursive-acquire',
      rig: 'dual-opteron-240',
      strategy: 'portfolio',
      seed: 3,
      outcome: 'bugcheck',
      failure: {
        foundBy: expect.stringMatching(/^(pct d=[1-5]|random|pos)$/),
        kind: 'bugcheck',
        bugcheck: { code: 15, name: 'SPIN_LOCK_ALREADY_OWNED' },
        cpu: 0,
        routine: expect.stringContaining('receive'),
      },
    });
    for (const k of ['schedulesRun', 'steps', 'elapsedMs']) expect(typeof j[k]).toBe('number');
    expect(j.failure.bugcheck.params).toHaveLength(4);
    expect(typeof j.failure.message).toBe('string');
    expect(j.failure.schedule).toMatch(/^rb2\.[A-Za-z0-9_-]+$/);

    // ... and that schedule replays to the same failure, with a trace
    const rep = await racebox(['replay', 'spinlock/recursive-acquire', '--rig', 'dual-opteron-240', '--schedule', j.failure.schedule, '--trace', '--json']);
    expect(rep.code, rep.stderr).toBe(1);
    const rj = JSON.parse(rep.stdout);
    expect(rj.outcome).toBe('bugcheck');
    expect(rj.failure.bugcheck).toEqual(j.failure.bugcheck);
    expect(rj.steps).toBe(j.failure.step);
    expect(rj.trace.length).toBeGreaterThan(0);
    expect(rj.trace[rj.trace.length - 1].step).toBe(j.failure.step);

    // a truncated copy of it is refused
    const trunc = await racebox(['replay', 'spinlock/recursive-acquire', '--rig', 'dual-opteron-240', '--schedule', j.failure.schedule.slice(0, -4)]);
    expectInputError(trunc, /truncated|corrupted/);
  });

  it('exit 2, one line: unknown scenario', async () => {
    expectInputError(await racebox(['run', 'spinlock/nope', '--rig', 'dual-opteron-240']), /unknown scenario 'spinlock\/nope'/);
  });

  it('exit 2, one line: unknown rig', async () => {
    expectInputError(await racebox(['run', 'spinlock/abba', '--rig', 'cray-1']), /unknown rig 'cray-1'/);
  });

  it('exit 2, one line: malformed rig file names the field', async () => {
    const file = join(TMP, 'bad-rig.json');
    writeFileSync(file, JSON.stringify({ id: 'bad', title: 'Bad', cores: 2, threadsPerCore: 3, hal: 'mp', build: 'checked' }));
    expectInputError(await racebox(['run', 'spinlock/abba', '--rig', file]), /malformed rig .*threadsPerCore: must be 1 or 2/);
  });

  it('exit 2, one line: bad flag, bad flag value, a scenario that does not compile', async () => {
    const broken = join(TMP, 'broken.ts');
    writeFileSync(broken, 'export default {{{ ;\n');
    const [flag, value, syntax] = await Promise.all([
      racebox(['run', 'spinlock/abba', '--rig', 'quad-free', '--bogus']),
      racebox(['run', 'spinlock/abba', '--rig', 'quad-free', '--strategy', 'bfs']),
      racebox(['run', broken, '--rig', 'quad-free']),
    ]);
    expectInputError(flag, /unknown option --bogus/);
    expectInputError(value, /--strategy must be one of portfolio, pct, random, pos, dfs/);
    // a scenario that does not compile: the reason and its line, not just "Transform failed"
    expectInputError(syntax, /cannot load scenario .*broken\.ts.*broken\.ts:1:\d+/);
  });

  it('runs a scenario file outside the repository that imports from racebox', async () => {
    const file = join(TMP, 'my-driver.ts');
    writeFileSync(file, `import { defineScenario, DISPATCH_LEVEL } from 'racebox';

export default defineScenario({
  id: 'mine/counter',
  title: 'My counter',
  description: 'a user scenario outside the repository',
  family: 'mine',
  setup: (k) => ({ lock: k.KeInitializeSpinLock(), n: k.ExAllocatePool2(0, 4, 'Cnt') }),
  actors: {
    a: { cpu: 0, *run(k, s) { const o = yield* k.KeAcquireSpinLock(s.lock); yield* k.WriteNoFence(s.n, (yield* k.ReadNoFence(s.n)) + 1); yield* k.KeReleaseSpinLock(s.lock, o); } },
    b: { cpu: 1, *run(k, s) { const o = yield* k.KeAcquireSpinLock(s.lock); yield* k.WriteNoFence(s.n, (yield* k.ReadNoFence(s.n)) + 1); yield* k.KeReleaseSpinLock(s.lock, o); } },
  },
  invariants: { both: (s, k) => k.peek(s.n) === 2 && DISPATCH_LEVEL === 2 },
  expect: 'pass',
});
`);
    const r = await racebox(['run', file, '--rig', 'dual-opteron-240', '--schedules', '100', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ scenario: 'mine/counter', outcome: 'pass', schedulesRun: 100 });
  });

  it('a routine that loops without yielding ends as hang instead of freezing', async () => {
    const file = join(TMP, 'stuck.ts');
    writeFileSync(file, `import { defineScenario } from 'racebox';
export default defineScenario({
  id: 'mine/stuck', title: 'Stuck', description: '', family: 'mine',
  setup: () => ({}),
  actors: { t: { *run(k) { yield* k.YieldProcessor(); for (;;) { /* never yields */ } } } },
  expect: 'pass',
});
`);
    const t0 = Date.now();
    const r = await racebox(['run', file, '--rig', 'dual-opteron-240', '--json'], { RACEBOX_STALL_MS: '1500' });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.code, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.outcome).toBe('hang');
    expect(j.failure.kind).toBe('hang');
    expect(j.failure.message).toMatch(/did not return to the scheduler/);
  });
});
