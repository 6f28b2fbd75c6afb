/**
 * The hostile-scenario suite: every scenario in this folder runs through the
 * CLI (`racebox run <file> --rig dual-opteron-240 --json`, with --workers 2
 * and --workers 1) and must end with the outcome and exit code cases.json
 * gives it, within its bound on time to containment. Time to containment is
 * the elapsed time less the watchdog limit the case waits for and less the
 * CLI's own start-up (the fastest case that ends at once in the same mode);
 * on a host much slower than a quiet one the bounds scale (see slowdown).
 * Cases run one after another: each starts Node, the TypeScript loader and
 * worker threads, and several wait for a watchdog.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/racebox.mjs');
const HERE = import.meta.dirname;

interface Case {
  file: string;
  rig?: string;
  args?: string[];
  env?: Record<string, string>;
  outcome: 'pass' | 'error' | 'hang' | 'refused';
  exit: number;
  message?: string;
  longerThanStall?: boolean;
  limitMs: number;
  /** limitMs is the time allowed to reach a memory limit (it scales with the host's slowdown), not a watchdog's. */
  memory?: boolean;
  boundMs: number;
}

/** The median run that ends at once takes about this long on a quiet 2-core host (Node, the TypeScript loader, workers). */
const QUIET_STARTUP_MS = 4000;

const table = JSON.parse(readFileSync(join(HERE, 'cases.json'), 'utf8')) as { env: Record<string, string>; cases: Case[] };

interface Measured {
  c: Case;
  workers: number;
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function run(c: Case, workers: number): Promise<Measured> {
  const rig = c.rig ? join(HERE, c.rig) : 'dual-opteron-240';
  const args = [BIN, 'run', join(HERE, c.file), '--rig', rig, '--workers', String(workers), '--json', ...(c.args ?? [])];
  const t0 = performance.now();
  return new Promise((done) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...table.env, ...c.env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ c, workers, code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

function check(m: Measured): void {
  const { c } = m;
  const what = `${c.file} --workers ${m.workers}: ${m.stderr.slice(0, 400)} ${m.stdout.slice(0, 400)}`;
  expect(m.code, what).toBe(c.exit);
  if (c.outcome === 'refused') {
    expect(m.stdout, what).toBe('');
    const lines = m.stderr.trim().split('\n');
    expect(lines, what).toHaveLength(1);
    expect(lines[0], what).toMatch(/^racebox: /);
    if (c.message) expect(lines[0], what).toMatch(new RegExp(c.message));
    return;
  }
  const j = JSON.parse(m.stdout) as { outcome: string; elapsedMs: number; failure?: { message: string } };
  expect(j.outcome, what).toBe(c.outcome);
  if (c.message) expect(j.failure?.message, what).toMatch(new RegExp(c.message));
  if (c.longerThanStall) {
    // The point of the case: one schedule ran longer than the wall-time limit and still passed.
    const stall = Number(c.env?.RACEBOX_STALL_MS ?? table.env.RACEBOX_STALL_MS);
    expect(j.elapsedMs, what).toBeGreaterThan(stall);
  }
}

describe('hostile scenarios through the CLI', () => {
  it('each ends with its expected outcome and exit code, within its bound on time to containment', async () => {
    const measured: Measured[] = [];
    // HOSTILE_WORKERS=2 (or 1) runs one mode only, to look at one quickly.
    const modes = process.env.HOSTILE_WORKERS ? [Number(process.env.HOSTILE_WORKERS)] : [2, 1];
    // HOSTILE_ONLY=<regular expression> runs the cases whose file matches it.
    const only = process.env.HOSTILE_ONLY ? new RegExp(process.env.HOSTILE_ONLY) : undefined;
    for (const workers of modes) {
      for (const c of table.cases.filter((x) => !only || only.test(x.file))) {
        const m = await run(c, workers);
        measured.push(m);
        process.stderr.write(`hostile: ${c.file} --workers ${workers}: exit ${m.code} after ${(m.ms / 1000).toFixed(1)} s\n`);
      }
    }
    // Start-up: the fastest case that ends at once, per mode. Slowdown: how much slower than on a quiet
    // 2-core host (QUIET_STARTUP_MS) the median such case ran; bounds and memory allowances scale with it,
    // so a host busy with other work does not fail the suite, and a quiet one gets the bounds as written.
    const startup = new Map<number, number>();
    const immediate: number[] = [];
    for (const m of measured) {
      // A forgotten yield* is refused by the syntax-tree check on the main thread, before any worker starts:
      // it says nothing about how long a worker takes to start.
      if (m.c.limitMs !== 0 || m.c.outcome === 'pass' || m.c.file.startsWith('forgotten-yield')) continue;
      startup.set(m.workers, Math.min(startup.get(m.workers) ?? Infinity, m.ms));
      immediate.push(m.ms);
    }
    immediate.sort((a, b) => a - b);
    const slowdown = Math.max(1, immediate[Math.floor(immediate.length / 2)]! / QUIET_STARTUP_MS);
    const allowance = (c: Case): number => (c.memory ? c.limitMs * slowdown : c.limitMs);
    const containment = (m: Measured): number => Math.max(0, m.ms - allowance(m.c) - startup.get(m.workers)!);
    const rows = measured.map(
      (m) =>
        `${`${m.c.file}${m.c.args ? ` ${m.c.args.join(' ')}` : ''}`.padEnd(52)} w${m.workers}  exit ${m.code}  ${(m.ms / 1000).toFixed(1).padStart(5)} s  ` +
        (m.c.outcome === 'pass'
          ? 'a valid run: not stopped'
          : `limit ${(allowance(m.c) / 1000).toFixed(0).padStart(2)} s  containment ${(containment(m) / 1000).toFixed(1).padStart(4)} s (bound ${m.c.boundMs / 1000} s)`),
    );
    console.log(
      `hostile scenarios (start-up: ${[...startup].map(([w, ms]) => `w${w} ${(ms / 1000).toFixed(1)} s`).join(', ')}; ` +
        `host slowdown ×${slowdown.toFixed(1)} applied to the bounds)\n${rows.join('\n')}`,
    );
    // The same as the table of docs/limits.md ("Time to containment, measured"): paste these rows there.
    const limitOf = (c: Case): string =>
      c.outcome === 'pass' ? 'none (a valid run)' : c.memory ? `memory, ${(allowance(c) / 1000).toFixed(0)} s allowed to reach it` : c.limitMs > 0 ? `wall time without a step (${c.limitMs / 1000} s)` : 'none (ends at once)';
    console.log(
      measured
        .map((m) => `| CLI ${m.c.file}${m.c.args ? ` ${m.c.args.join(' ')}` : ''} (--workers ${m.workers}) | ${m.c.outcome} (exit ${m.code}) | ${limitOf(m.c)} | ` +
          `${m.c.outcome === 'pass' ? '—' : `${(containment(m) / 1000).toFixed(1)} s`} | ${(m.ms / 1000).toFixed(1)} s |`)
        .join('\n'),
    );
    for (const m of measured) {
      check(m);
      // A valid run (outcome pass) has nothing to contain: its case checks that it was not stopped.
      if (m.c.outcome !== 'pass') {
        expect(containment(m), `${m.c.file} --workers ${m.workers} took ${Math.round(m.ms)} ms`).toBeLessThanOrEqual(m.c.boundMs * slowdown);
      }
    }
    // HOSTILE_TIMEOUT_MS: a host far busier than CI (each case's start-up alone can take a minute) needs longer.
  }, Number(process.env.HOSTILE_TIMEOUT_MS ?? 600_000));
});
