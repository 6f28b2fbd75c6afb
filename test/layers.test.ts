import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

/**
 * Runs the layer check exactly as `npm run test:deps` does (its exit code is the number of errors),
 * over `dirs` of the tree at `cwd`; returns the violations it prints as "rule: from → to".
 */
function layerCheck(cwd: string, dirs: string[]): Promise<{ code: number; violations: string[]; output: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [DEPCRUISE, ...dirs, '--config', CONFIG], { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const violations = [...stdout.matchAll(/^\s*error (\S+): (\S+) → (\S+)$/gm)].map((m) => `${m[1]}: ${m[2]} → ${m[3]}`);
      done({ code, violations, output: stdout + stderr });
    });
  });
}

describe.concurrent('layer check (.dependency-cruiser.cjs)', { timeout: 30_000 }, () => {
  it('rejects wrong-way imports, type-only ones included, and allows imports downward', async () => {
    const r = await layerCheck(join(ROOT, 'test/fixtures/layers'), ['src', 'bench']);
    expect(r.violations.sort(), r.output).toEqual([
      'cli-imports-ui: src/cli/main.ts → src/ui/view.ts',
      'kernel-imports-upward: src/kernel/spinlock.ts → src/engine/strategy.ts',
      'src-imports-bench: src/engine/timing.ts → bench/loops.ts',
    ]);
    expect(r.code).toBe(3);
  });

  it('passes on the real src/', async () => {
    const r = await layerCheck(ROOT, ['src']);
    expect(r.violations, r.output).toEqual([]);
    expect(r.output).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  });
});
