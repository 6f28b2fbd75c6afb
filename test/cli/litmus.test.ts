import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { LITMUS_TESTS } from '../../src/engine/litmus/catalogue.ts';

async function racebox(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

interface JsonRow { outcome: string; expected: string; observed: boolean; count: number; ok: boolean }
interface JsonTest { name: string; shape: string[]; executions: number; complete: boolean; error?: string; conformant: boolean; sources: Record<string, string>; outcomes: JsonRow[] }
interface JsonArch { arch: string; model: string; rig: string; conformant: boolean; executions: number; elapsedMs: number; tests: JsonTest[] }
interface JsonReport { conformant: boolean; notExploredReason: string; architectures: JsonArch[] }

describe('racebox litmus', { timeout: 120_000 }, () => {
  it('--help prints its usage; racebox --help lists the command', async () => {
    const r = await racebox(['litmus', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: racebox litmus \[--arch x64\|arm64\] \[--json\]/);
    expect((await racebox(['--help'])).stdout).toContain('racebox litmus [--arch x64|arm64] [--json]');
  });

  it('refuses a bad architecture, an unknown option and arguments with exit 2', async () => {
    for (const argv of [['litmus', '--arch', 'mips'], ['litmus', '--seed', '3'], ['litmus', 'SB']]) {
      const r = await racebox(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^racebox: /);
    }
  });

  it('--json: one architecture, every test with every outcome of its table, the exit code following conformant', async () => {
    const r = await racebox(['litmus', '--arch', 'x64', '--json']);
    const report = JSON.parse(r.stdout) as JsonReport;
    expect(report.architectures.map((a) => a.arch)).toEqual(['x64']);
    const x64 = report.architectures[0]!;
    expect(x64).toMatchObject({ model: 'x86-TSO', rig: 'litmus-x64' });
    expect(x64.tests.map((t) => t.name)).toEqual(LITMUS_TESTS.map((t) => t.name));
    for (const t of x64.tests) {
      const spec = LITMUS_TESTS.find((s) => s.name === t.name)!;
      for (const outcome of Object.keys(spec.expected)) {
        const row = t.outcomes.find((o) => o.outcome === outcome);
        expect(row, `${t.name} ${outcome}`).toBeDefined();
        expect(row!.expected).toBe(spec.expected[outcome]!.x64);
        expect(row!.observed).toBe(row!.count > 0);
      }
      expect(t.conformant).toBe(t.complete && t.outcomes.every((o) => o.ok));
    }
    expect(report.conformant).toBe(x64.conformant);
    expect(r.code).toBe(report.conformant ? 0 : 1);
  });

  it('the table names each test on every row, with the expected and observed columns and a verdict', async () => {
    const r = await racebox(['litmus', '--arch', 'arm64']);
    expect(r.stdout).toMatch(/^arm64 \(ARMv8\) on litmus-arm64: \d+ tests, \d+ executions/);
    expect(r.stdout).toMatch(/\n {2}test +outcome +expected +observed {2}verdict\n/);
    expect(r.stdout).toMatch(/\n {2}LB +r0=1 r1=1 +allowed, not explored +no +ok \(not explored\*\)/);
    expect(r.stdout).toMatch(/\n {2}CoRR +r0=1 r1=0 +forbidden +no +ok/);
    expect(r.stdout).toContain('* allowed by the model, not explored by Racebox');
    expect(r.code).toBe(/\n✓ arm64: conformant/.test(r.stdout) ? 0 : 1);
  });
});
