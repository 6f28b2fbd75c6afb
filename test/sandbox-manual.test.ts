/**
 * Be the scheduler for a user scenario (issue 15): the sandbox runner sends each manual request to the sandbox's
 * replay worker, under the replay watchdog, and hands back the engine's state as data. The worker here is the
 * sandbox worker's real API (explore-core, no library) in-process, behind a fake frame.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manualFrom, manualPick } from '../src/engine/manual.ts';
import type { ManualRequest } from '../src/engine/worker-contract.ts';
import { presetRig } from '../src/machine/presets.ts';
import { createSandboxRunner } from '../src/ui/services/sandbox-runner.ts';
import { createExploreWorkerApi } from '../src/workers/explore-core.ts';
import { scenarioFromSource } from '../src/workers/scenario-source.ts';
import type { Sandbox, SandboxWorker } from '../src/workers/sandbox-host.ts';
import type { SandboxWorkerApi } from '../src/workers/sandbox.worker.ts';

const rig = presetRig('dual-opteron-240')!;
const source = readFileSync(new URL('../scenarios/spinlock/irql-as-lock.ts', import.meta.url), 'utf8').replace("id: 'spinlock/irql-as-lock'", "id: 'mine/irql-as-lock'");
const ref = { source, filename: 'mine_irql-as-lock.ts' };

/** A frame whose workers run the sandbox worker's manual API in-process; `hold` makes the next call never answer. */
function fakeSandbox() {
  const names: string[] = [];
  let terminated = 0;
  let hold = false;
  const sandbox: Sandbox = {
    crossOriginIsolated: true,
    async exploreWorker(name = 'racebox-sandbox'): Promise<SandboxWorker> {
      names.push(name);
      const real = createExploreWorkerApi(async (id) => {
        throw new Error(`library scenario '${id}' asked of the sandbox`);
      });
      let end: (e: Error) => void = () => {};
      const ended = new Promise<never>((_, reject) => {
        end = reject;
      });
      ended.catch(() => undefined);
      const api: Pick<SandboxWorkerApi, 'manual'> = {
        manual: (req: ManualRequest) => (hold ? new Promise(() => undefined) : real.manual(req)),
      };
      return {
        api: api as unknown as SandboxWorker['api'],
        terminate: () => {
          terminated++;
          end(Object.assign(new Error('terminated'), { name: 'AbortError' }));
        },
        ended,
      };
    },
    relayWorker: () => Promise.reject(new Error('not in this test')),
    dispose: () => undefined,
  };
  return { open: async () => sandbox, names, terminated: () => terminated, hold: (h: boolean) => { hold = h; } };
}

describe('be the scheduler in the sandbox', () => {
  it('lists the choices, takes one, and returns what the engine computes for the same source', async () => {
    const f = fakeSandbox();
    const runner = createSandboxRunner(f.open);
    const first = await runner.manual({ scenario: ref, rig, from: { step: 0 } });
    const scenario = scenarioFromSource(source, ref.filename);
    const expected = manualFrom(rig, scenario, undefined, 0);
    expect(first).toEqual(expected);
    expect(first.choices.map((c) => c.id)).toEqual([0, 1, 4]);
    const cpu1 = first.choices.find((c) => c.id === 1)!;
    expect(cpu1.label).toMatch(/^CPU 1: /);

    const next = await runner.manual({ scenario: ref, rig, state: { picks: first.picks, step: first.step! }, take: 1 });
    expect(next).toEqual(manualPick(rig, scenario, { picks: first.picks, step: first.step! }, 1));
    expect(next.picks).toEqual([first.step!, 1]);
    expect(next.schedule).toMatch(/^rb2\./);
    // From a step of a recorded schedule: the choices before it kept.
    const from = await runner.manual({ scenario: ref, rig, from: { schedule: next.schedule, step: 3 } });
    expect(from).toEqual(manualFrom(rig, scenario, next.schedule, 3));
    expect(from.picks).toEqual(next.picks);
    // Every call on the one long-lived replay worker of the sandbox.
    expect(f.names).toEqual(['racebox-sandbox-replay']);
    runner.dispose();
  });

  it('a pick that is cancelled ends the worker; the next pick gets a new one', async () => {
    const f = fakeSandbox();
    const runner = createSandboxRunner(f.open);
    f.hold(true);
    const abort = new AbortController();
    const hung = runner.manual({ scenario: ref, rig, from: { step: 0 } }, abort.signal);
    await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    expect(f.terminated()).toBe(1);
    f.hold(false);
    const again = await runner.manual({ scenario: ref, rig, from: { step: 0 } });
    expect(again.choices.length).toBeGreaterThan(1);
    expect(f.names).toEqual(['racebox-sandbox-replay', 'racebox-sandbox-replay']);
    runner.dispose();
  });
});
