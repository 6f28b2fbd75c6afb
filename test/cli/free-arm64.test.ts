/** Free-run on an arm64 rig is refused with the reason: the host's Atomics cannot show ARM64 reorderings. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FREE_RUN_ARM64, freeRunRigRefusal } from '../../src/engine/free/availability.ts';
import { freeRun } from '../../src/engine/free/run.ts';
import { preset } from '../helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

describe('free-run on an arm64 rig', () => {
  it('is refused for arm64 rigs only', () => {
    expect(freeRunRigRefusal(preset('arm64-quad'))).toBe(FREE_RUN_ARM64);
    expect(freeRunRigRefusal(preset('dual-opteron-240'))).toBeNull();
    expect(FREE_RUN_ARM64).toMatch(/sequentially consistent: it cannot show ARM64 reorderings; use the controlled engine/);
  });

  it('freeRun refuses before starting a worker', async () => {
    const factory = (): never => {
      throw new Error('no worker may start');
    };
    await expect(freeRun(preset('arm64-quad'), { id: 'spinlock/ke-spinlock' }, 'spinlock/ke-spinlock', factory, { iterations: 1 })).rejects.toThrow(FREE_RUN_ARM64);
  });

  it('racebox run --engine free on arm64-quad exits 2 with the reason', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((done) => {
      execFile(process.execPath, [join(ROOT, 'bin/racebox.mjs'), 'run', 'spinlock/ke-spinlock', '--rig', 'arm64-quad', '--engine', 'free'], { cwd: ROOT, timeout: 30_000 }, (err, _out, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim()).toBe(`racebox: rig 'arm64-quad' is arm64: ${FREE_RUN_ARM64}`);
  }, 40_000);
});
