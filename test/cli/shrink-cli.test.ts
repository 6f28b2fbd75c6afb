import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/racebox.mjs');

function racebox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

interface RunJson {
  failure: { schedule: string; preemptions?: number; originalSteps?: number; originalPreemptions?: number };
}

describe('racebox run: the smallest failing schedule', { timeout: 150_000 }, () => {
  for (const workers of ['2']) {
    it(`--json adds failure.preemptions and failure.originalSteps (${workers} worker${workers === '1' ? '' : 's'}), and the schedule replays`, async () => {
      const r = await racebox(['run', 'rundown/naive-flag-refcount', '--rig', 'dual-opteron-240', '--json', '--workers', workers]);
      expect(r.code, r.stderr).toBe(1);
      const f = (JSON.parse(r.stdout) as RunJson).failure;
      expect(f.preemptions).toBeTypeOf('number');
      expect(f.originalSteps).toBeGreaterThan(0);
      expect(f.preemptions!).toBeLessThanOrEqual(f.originalPreemptions!);
      const again = await racebox(['replay', 'rundown/naive-flag-refcount', '--rig', 'dual-opteron-240', '--schedule', f.schedule, '--json']);
      expect(again.code, again.stderr).toBe(1);
    });
  }
  it('--no-shrink reports the schedule as found', async () => {
    const r = await racebox(['run', 'rundown/naive-flag-refcount', '--rig', 'dual-opteron-240', '--json', '--no-shrink']);
    const f = (JSON.parse(r.stdout) as RunJson).failure;
    expect(f.preemptions).toBeUndefined();
    expect(f.originalSteps).toBeUndefined();
  });
  it('--help names --no-shrink', async () => {
    const r = await racebox(['run', '--help']);
    expect(r.stdout).toMatch(/--no-shrink/);
  });
  it('the text report says how small the schedule is', async () => {
    const r = await racebox(['run', 'rundown/naive-flag-refcount', '--rig', 'dual-opteron-240']);
    expect(r.stdout).toMatch(/smallest schedule: \d+ preemptions?, \d+ steps/);
  });
});
