/**
 * A scenario cannot silently mis-test: each way of calling a kernel routine (or a function* helper)
 * without yield*, a yield of a value and an async actor end as `error` — found by the syntax-tree
 * check when the scenario loads (with its line), by the CLI before it runs the file, and, for the
 * routine forms, by the engine at run time when the static check is bypassed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explore } from '../../src/engine/explore.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { defineScenario, type ScenarioDefinition } from '../../src/scenario/define.ts';
import { checkScenarioSource } from '../../src/scenario/load-source.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(import.meta.dirname, 'fixtures/forgotten-yield');

/** Each fixture, the text of the line the error must point at, and what its message must say. */
const FORMS: { file: string; at: string; says: RegExp }[] = [
  { file: 'if-condition.ts', at: 'if (k.KeTryToAcquireSpinLockAtDpcLevel', says: /KeTryToAcquireSpinLockAtDpcLevel.*condition.*write if \(yield\* k\.KeTryToAcquireSpinLockAtDpcLevel/ },
  { file: 'while-loop.ts', at: 'while (!k.InterlockedCompareExchange', says: /InterlockedCompareExchange.*write !\(yield\* k\.InterlockedCompareExchange/ },
  { file: 'return.ts', at: 'return k.ReadNoFence', says: /ReadNoFence.*write return yield\* k\.ReadNoFence/ },
  { file: 'operand.ts', at: '1 + (k.ReadNoFence', says: /ReadNoFence.*operand of \+.*write \(yield\* k\.ReadNoFence/ },
  { file: 'helper.ts', at: 'UpdateCount(k, s);', says: /UpdateCount is a function\* helper.*write yield\* UpdateCount/ },
  { file: 'computed-name.ts', at: '[acquire]', says: /k\[acquire\] cannot be checked.*yield\* k\.KeAcquireSpinLock/ },
  { file: 'yield-value.ts', at: 'yield 42', says: /yields only through kernel routines.*write yield\* k\./ },
  { file: 'async-actor.ts', at: 'async run', says: /async.*write a generator/ },
];

function lineOf(text: string, needle: string): { line: number; column: number } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`fixture has no line with ${needle}`);
  return { line: i + 1, column: lines[i]!.indexOf(needle) + 1 };
}

describe('the syntax-tree check at load time', () => {
  for (const f of FORMS) {
    it(`refuses ${f.file.replace('.ts', '')} at its line, saying what to write`, () => {
      const text = readFileSync(join(FIXTURES, f.file), 'utf8');
      const d = checkScenarioSource(text, f.file);
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ severity: 'error', source: 'check', line: lineOf(text, f.at).line });
      expect(d[0]!.message).toMatch(f.says);
    });
  }

  it('points at the column of the call in the TypeScript source, not in the transpiled text', () => {
    const text = readFileSync(join(FIXTURES, 'operand.ts'), 'utf8');
    expect(checkScenarioSource(text, 'operand.ts')[0]!.column).toBe(lineOf(text, 'k.ReadNoFence').column);
  });

  it('accepts yield* through parentheses and both branches of ?:, and callbacks that hand a routine on', () => {
    const src = `import { defineScenario } from 'racebox';
function* Helper(k, p) { return yield* k.ReadNoFence(p); }
export default defineScenario({
  id: 'x/y', title: 't', description: '', family: 'x',
  setup: (k) => ({ p: k.ExAllocatePool2(0, 4, 'P'), lock: k.KeInitializeSpinLock(), go: (kk, irp) => Helper(kk, irp) }),
  actors: { a: { *run(k, s) {
    const v = yield* (s.p ? k.ReadNoFence(s.p) : k.InterlockedIncrement(s.p));
    if ((yield* k.KeTryToAcquireSpinLockAtDpcLevel(s.lock)) && v === 0) yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
    while (!(yield* k.InterlockedCompareExchange(s.p, 1, 0))) yield* k.YieldProcessor();
    yield* k.KeSynchronizeExecution(s.p, function* (k2, c) { return (yield* Helper(k2, c)) + 1; });
    k.NT_ASSERT(k.peek(s.p) === 1, 'set');
  } } },
  invariants: { one: (s, k) => k.peek(s.p) === 1 },
  expect: 'pass',
});`;
    expect(checkScenarioSource(src, 'ok.js')).toEqual([]);
  });

  it('refuses a routine in setup or an invariant, and yield k.X() without the star', () => {
    const src = `export default {
  setup: (k) => { const l = k.KeInitializeSpinLock(); k.KeAcquireSpinLock(l); return { l }; },
  actors: { a: { *run(k, s) { yield k.KeReleaseSpinLock(s.l, 0); } } },
  invariants: { free: (s, k) => k.KeTestSpinLock(s.l) },
};`;
    const d = checkScenarioSource(src, 'bad.js');
    expect(d.map((x) => x.line)).toEqual([2, 3, 4]);
    expect(d[0]!.message).toMatch(/KeAcquireSpinLock.*setup/);
    expect(d[1]!.message).toMatch(/yield k\.KeReleaseSpinLock\(…\) hands the generator to the engine.*write yield\* k\.KeReleaseSpinLock/);
    expect(d[2]!.message).toMatch(/KeTestSpinLock.*invariant/);
  });

  it('follows the kernel into helpers that receive it under another name', () => {
    const src = `function* Inner(kernel, p) { kernel['Interlocked' + 'Increment'](p); yield* kernel.YieldProcessor(); }
export default { actors: { a: { *run(k, s) { yield* Inner(k, s.p); } } } };`;
    const d = checkScenarioSource(src, 'h.js');
    expect(d).toHaveLength(1);
    expect(d[0]!.message).toMatch(/kernel\[.*cannot be checked/);
  });

  it('accepts every scenario of the library', async () => {
    const { scenarioFiles } = await import('../../src/workers/node-load.ts');
    const files = scenarioFiles();
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) expect(checkScenarioSource(readFileSync(file, 'utf8'), file), file).toEqual([]);
  });
});

// The CLI reads and checks the file before Node imports it: exit 2 (bad input), and with --json a run whose outcome is 'error'.
// Two processes at a time (each starts Node with the TypeScript loader), with room for a busy machine.
let running = 0;
const waiting: (() => void)[] = [];
async function racebox(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (running >= 2) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await new Promise((done) => {
      execFile(process.execPath, [join(ROOT, 'bin/racebox.mjs'), ...args], { cwd: ROOT, timeout: 100_000 }, (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

describe.concurrent('racebox run on each form', { timeout: 400_000 }, () => {
  for (const f of FORMS) {
    it(`${f.file}: outcome error, exit 2, naming file:line`, async () => {
      const file = join(FIXTURES, f.file);
      const r = await racebox(['run', file, '--rig', 'dual-opteron-240', '--json']);
      expect(r.code, r.stderr).toBe(2);
      const { line } = lineOf(readFileSync(file, 'utf8'), f.at);
      const j = JSON.parse(r.stdout) as { outcome: string; failure: { message: string; source: { line: number } } };
      expect(j.outcome).toBe('error');
      expect(j.failure.source.line).toBe(line);
      expect(j.failure.message).toMatch(f.says);
      expect(r.stderr.trim()).toMatch(new RegExp(`^racebox: .*${f.file.replace('.', '\\.')}:${line}:\\d+: `));
    });
  }
});

// defineScenario directly: no syntax-tree check, only the engine's.
describe('the run-time check alone', () => {
  const rig = presetRig('dual-opteron-240')!;
  type S = { lock: number; p: number };
  const setup = (k: Kernel): S => ({ lock: k.KeInitializeSpinLock(), p: k.ExAllocatePool2(0, 4, 'Cntr') });
  function outcome(actors: ScenarioDefinition<S>['actors'], s: (k: Kernel) => S = setup) {
    const scenario = defineScenario<S>({ id: 'runtime/forgotten-yield', title: 't', description: '', family: 'runtime', setup: s, actors, expect: 'pass' });
    return explore(rig, scenario, { strategy: 'random', seed: 1, schedules: 20 });
  }
  const notStarted = (routine: string) => new RegExp(`^${routine} was called without yield\\*.*never ran.*Write yield\\* k\\.${routine}\\(…\\)`);
  const gen = (x: unknown): number => x as number;

  it('a routine tested in an if: error naming it and the line after, where the context went on', () => {
    const r = outcome({
      dpc: {
        kind: 'dpc',
        *run(k, s) {
          if (k.KeTryToAcquireSpinLockAtDpcLevel(s.lock)) {
            yield* k.InterlockedIncrement(s.p);
            yield* k.KeReleaseSpinLockFromDpcLevel(s.lock);
          }
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(notStarted('KeTryToAcquireSpinLockAtDpcLevel'));
    expect(r.failure!.source?.file).toMatch(/forgotten-yield\.test\.ts$/);
  });

  it('a routine in a while condition', () => {
    const r = outcome({
      a: {
        *run(k, s) {
          while (!k.InterlockedCompareExchange(s.p, 1, 0)) yield* k.YieldProcessor();
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(notStarted('InterlockedCompareExchange'));
  });

  it('a routine returned from a helper generator', () => {
    function* ReadCount(k: Kernel, p: number) {
      return k.ReadNoFence(p);
    }
    const r = outcome({
      a: {
        *run(k, s) {
          yield* ReadCount(k, s.p);
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(notStarted('ReadNoFence'));
  });

  it('a routine as an operand', () => {
    const r = outcome({
      a: {
        *run(k, s) {
          const v = 1 + gen(k.ReadNoFence(s.p));
          yield* k.WriteNoFence(s.p, v);
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(notStarted('ReadNoFence'));
  });

  it('a routine reached by a computed name', () => {
    const r = outcome({
      a: {
        *run(k, s) {
          (k as unknown as Record<string, (l: number) => unknown>)['KeAcquire' + 'SpinLock']!(s.lock);
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(notStarted('KeAcquireSpinLock'));
  });

  it('a routine passed as an argument to another routine', () => {
    const r = outcome({
      a: {
        *run(k, s) {
          yield* k.WriteNoFence(s.p, gen(k.ReadNoFence(s.p)));
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(notStarted('ReadNoFence'));
  });

  it('a routine called in setup', () => {
    const r = outcome({ a: { *run(k) { yield* k.YieldProcessor(); } } }, (k) => {
      const lock = k.KeInitializeSpinLock();
      k.KeAcquireSpinLock(lock);
      return { lock, p: 0 };
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(/setup calls k\.KeAcquireSpinLock\(…\).*never ran/);
  });

  it('yield of a number', () => {
    const r = outcome({
      a: {
        *run(k, s) {
          yield* k.InterlockedIncrement(s.p);
          yield 42;
        },
      },
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(/thread 'a' yielded 42, which is not a kernel operation.*Write yield\* k\.Routine/);
  });

  it('an async actor', () => {
    const r = outcome({
      a: {
        async run(k: Kernel, s: S) {
          await Promise.resolve();
          k.poke(s.p, 1);
        },
      } as unknown as ScenarioDefinition<S>['actors'][string],
    });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(/actor 'a' is async.*Write \*run\(k, s\)/);
  });

  it('leaves correct code alone: yield*, a routine picked by ?:, nested helpers, routines in expressions', () => {
    function* Bump(k: Kernel, p: number) {
      return yield* (p > 0 ? k.InterlockedIncrement(p) : k.InterlockedDecrement(p));
    }
    const r = outcome({
      a: {
        *run(k, s) {
          const old = yield* k.KeAcquireSpinLock(s.lock);
          yield* Bump(k, s.p);
          yield* k.KeReleaseSpinLock(s.lock, old);
        },
      },
      b: {
        cpu: 1,
        *run(k, s) {
          const n = (yield* k.ReadNoFence(s.p)) + (yield* k.ReadNoFence(s.p));
          k.NT_ASSERT(n >= 0);
        },
      },
    });
    expect(r.failure?.message).toBeUndefined();
    expect(r.outcome).toBe('pass');
  });
});
