import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/racebox.mjs');

function racebox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe.concurrent('racebox fences', { timeout: 70_000 }, () => {
  it('exit 1 and "nothing to fix" for a scenario that does not fail', async () => {
    const r = await racebox(['fences', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--budget', '40']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/fence search: portfolio, 40 schedules per seed, seeds 1, 2, 3/);
    expect(r.stdout).toMatch(/no failure in 120 schedules: nothing to fix/);
  });

  it('exit 1 with the failure and no suggestion when no ordering change fixes it (--json)', async () => {
    // A lost update between two CPUs through ReadNoFence/WriteNoFence: an interleaving bug, not one of ordering.
    const r = await racebox(['fences', 'spinlock/irql-as-lock', '--rig', 'dual-opteron-240', '--budget', '300', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const j = JSON.parse(r.stdout) as { result: string; failure: { kind: string; schedule: string; seed: number }; suggestions: unknown[]; sites: { text: string | null; line: number }[]; budget: number; seeds: number[]; maxChanges: number };
    expect(j.result).toBe('not-fixed');
    expect(j.failure.kind).toBe('invariant');
    expect(j.failure.schedule).toMatch(/^rb2\./);
    expect(j.suggestions).toEqual([]);
    expect(j).toMatchObject({ budget: 300, seeds: [1, 2, 3], maxChanges: 2 });
    // Every candidate names its source line's text.
    for (const s of j.sites) expect(s.text, `line ${s.line}`).toMatch(/NoFence/);
  });

  it('exit 2 on bad input, with the reason', async () => {
    const noRig = await racebox(['fences', 'spinlock/ke-spinlock']);
    expect(noRig.code).toBe(2);
    expect(noRig.stderr).toMatch(/needs --rig/);
    const bound = await racebox(['fences', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--max-changes', '9']);
    expect(bound.code).toBe(2);
    expect(bound.stderr).toMatch(/--max-changes/);
    const unknown = await racebox(['fences', 'no/such-scenario', '--rig', 'dual-opteron-240']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no\/such-scenario/);
  });

  it('--help prints the usage', async () => {
    const r = await racebox(['fences', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/usage: racebox fences/);
    expect(r.stdout).toMatch(/WriteRelease/);
  });
});
