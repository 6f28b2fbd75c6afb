/**
 * Issue 14: a scenario that throws outside the schedule (a timer, an unhandled
 * rejection) or changes JavaScript built-ins ends as outcome 'error' naming it.
 * Before: the late throw killed the worker or was lost and the run read 'pass';
 * Object.prototype / Array.prototype changes leaked into the engine's results
 * and into every later run of the worker.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ControlledRun } from '../../src/engine/controlled.ts';
import { explore, replay } from '../../src/engine/explore.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import { explorePool } from '../../src/engine/pool.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { liveNodeWorkers, nodeExploreWorker } from '../../src/workers/node-entry.ts';
import keSpinlock from '../../scenarios/spinlock/ke-spinlock.ts';
import { scn } from '../helpers.ts';

const rig = presetRig('dual-opteron-240')!;

/** A user scenario (source text) whose actor runs `body` once, then takes a lock. */
function userScenario(body: string): string {
  return `import { defineScenario } from 'racebox';
export default defineScenario({
  id: 'hostile/late-throw', title: 'late throw', description: '', family: 'hostile', expect: 'pass',
  setup: (k) => ({ lock: k.KeInitializeSpinLock(), once: { done: false } }),
  actors: {
    a: { cpu: 0, *run(k, s) {
      if (!s.once.done) { s.once.done = true; ${body} }
      const old = yield* k.KeAcquireSpinLock(s.lock);
      yield* k.KeReleaseSpinLock(s.lock, old);
    } },
  },
});
`;
}

describe('an actor that throws outside the schedule ends as error (pool workers)', () => {
  for (const [what, body, expected] of [
    ['a timer that throws', "setTimeout(() => { throw new Error('late boom'); }, 0);", /uncaught exception Error: late boom/],
    ['an unhandled promise rejection', "Promise.reject(new Error('rejected boom'));", /unhandled promise rejection Error: rejected boom/],
  ] as const) {
    it(what, async () => {
      const req = { scenario: { source: userScenario(body), filename: 'late.ts' }, rig, strategy: 'random' as const, seed: 1, schedules: 50 };
      const r = await explorePool(req, { workers: 1, factory: () => nodeExploreWorker() });
      expect(r.outcome).toBe('error');
      expect(r.failure!.message).toMatch(/^the scenario threw outside the schedule/);
      expect(r.failure!.message).toMatch(expected);
      const t0 = Date.now();
      while (liveNodeWorkers.size > 0 && Date.now() - t0 < 3000) await new Promise((res) => setTimeout(res, 20));
      expect(liveNodeWorkers.size).toBe(0);
    }, 60_000);
  }
});

describe('a scenario that changes built-ins ends as error, and the built-ins are put back', () => {
  const polluting = (name: string, pollute: () => void) =>
    scn({
      id: `hostile/${name}`,
      setup: (k) => ({ lock: k.KeInitializeSpinLock() }),
      actors: {
        a: {
          cpu: 0,
          *run(k, s) {
            pollute();
            const old = yield* k.KeAcquireSpinLock(s.lock);
            yield* k.KeReleaseSpinLock(s.lock, old);
          },
        },
      },
    });

  it('Object.prototype gains a property', () => {
    const s = polluting('object-proto', () => {
      (Object.prototype as Record<string, unknown>).outcome = 'pass';
    });
    const r = explore(rig, s, { schedules: 20 });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(/changed JavaScript built-ins .*Object\.prototype: 'outcome' added/);
    expect('outcome' in {}).toBe(false);
  });

  it('Array.prototype.push is replaced', () => {
    const push = Array.prototype.push;
    const s = polluting('array-push', () => {
      Array.prototype.push = function (this: unknown[], ...items: unknown[]) {
        return push.apply(this, [...items, ...items]);
      };
    });
    const r = explore(rig, s, { schedules: 20 });
    expect(r.outcome).toBe('error');
    expect(r.failure!.message).toMatch(/Array\.prototype: 'push' replaced/);
    expect(Array.prototype.push).toBe(push);
    const a: number[] = [];
    a.push(1);
    expect(a).toEqual([1]);
  });

  it('a replay too; and a clean scenario is untouched by the guard', () => {
    expect(explore(rig, keSpinlock, { schedules: 200 }).outcome).toBe('pass');
    // A schedule recorded on the clean version, replayed on one that changes Function.prototype.
    const cleanRun = new ControlledRun(rig, polluting('replay', () => undefined));
    const strategy = new DfsStrategy(0);
    strategy.newExecution();
    const x = cleanRun.execute(strategy);
    expect(x.outcome).toBe('pass');
    const schedule = cleanRun.scheduleOf(x);
    expect(replay(rig, polluting('replay', () => undefined), schedule).summary.outcome).toBe('pass');
    const r = replay(rig, polluting('replay', () => {
      (Function.prototype as unknown as Record<string, unknown>).hijack = 1;
    }), schedule);
    expect(r.summary.outcome).toBe('error');
    expect(r.summary.failure!.message).toMatch(/Function\.prototype: 'hijack' added/);
    expect('hijack' in Function.prototype).toBe(false);
  });
});

describe('the CLI', () => {
  const TMP = mkdtempSync(join(tmpdir(), 'racebox-hostile-'));
  afterAll(() => rmSync(TMP, { recursive: true, force: true }));
  it('racebox run: a timer that throws is outcome error in the JSON, with what was thrown', async () => {
    const file = join(TMP, 'late.ts');
    writeFileSync(file, userScenario("setTimeout(() => { throw new Error('late boom'); }, 0);"));
    const ROOT = resolve(import.meta.dirname, '../..');
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, [join(ROOT, 'bin/racebox.mjs'), 'run', file, '--rig', 'dual-opteron-240', '--schedules', '20', '--json'], { cwd: ROOT, timeout: 90_000 }, (err, stdout, stderr) => {
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      });
    });
    expect(r.code, r.stderr).not.toBe(0);
    const summary = JSON.parse(r.stdout) as { outcome: string; failure: { message: string } };
    expect(summary.outcome).toBe('error');
    expect(summary.failure.message).toMatch(/late boom/);
  }, 100_000);
});
