import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeRunCpuLimit, FREE_RUN_WORKERS_PER_HOST_CORE } from '../../src/engine/free/availability.ts';

describe('free-run says up front how many CPU workers the host can start', () => {
  it('accepts a rig within the limit and refuses one above it, naming both numbers', () => {
    expect(freeRunCpuLimit(2 * FREE_RUN_WORKERS_PER_HOST_CORE, 2)).toBeNull();
    const why = freeRunCpuLimit(64, 2);
    expect(why).toContain('64 online CPUs');
    expect(why).toContain(`at most ${2 * FREE_RUN_WORKERS_PER_HOST_CORE}`);
    expect(why).toContain('controlled engine');
  });

  it('the CLI refuses a 64-CPU free-run at once (exit 2, one line) instead of failing after a minute', () => {
    const dir = mkdtempSync(join(tmpdir(), 'racebox-64-'));
    const rig = join(dir, 'big.json');
    writeFileSync(rig, JSON.stringify({ id: 'big-64', title: '64 cores', cores: 64, threadsPerCore: 1, hal: 'mp', build: 'free' }));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['bin/racebox.mjs', 'run', 'spinlock/ke-spinlock', '--rig', rig, '--engine', 'free', '--seconds', '1'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/this rig has 64 online CPUs/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);

  it('--workers above the host cores warns once and still runs', () => {
    const n = availableParallelism() + 1;
    const r = spawnSync(process.execPath, ['bin/racebox.mjs', 'run', 'spinlock/ke-spinlock', '--rig', 'dual-opteron-240', '--workers', String(n), '--schedules', '50', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('warning: --workers'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`--workers ${n} is more than this host's ${n - 1} cores`);
    expect(JSON.parse(r.stdout).outcome).toBe('pass');
  }, 120_000);
});
