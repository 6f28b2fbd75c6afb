/** The page-side containment logic around the scenario sandbox: replay watchdog, check timeout and restart, the draft. */
import { describe, expect, it } from 'vitest';
import type { CheckResult, CheckWorkerApi } from '../src/ui/editor/check.worker.ts';
import { createCheckRunner, likelyLoopLine, timeoutMessage } from '../src/ui/services/check-runner.ts';
import { clearDraft, loadDraft, saveDraft } from '../src/ui/services/draft-store.ts';
import { replayLimitMs, watchReplay } from '../src/ui/services/sandbox-runner.ts';
import type { Sandbox, SandboxWorker } from '../src/workers/sandbox-host.ts';
import { presetRig } from '../src/machine/presets.ts';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('watchReplay', () => {
  it('passes a result through', async () => {
    let killed = 0;
    await expect(watchReplay(Promise.resolve(7), 1000, undefined, () => killed++)).resolves.toBe(7);
    expect(killed).toBe(0);
  });

  it('ends a replay that outlasts its limit, saying what hung', async () => {
    let killed = 0;
    await expect(watchReplay(never(), 30, undefined, () => killed++)).rejects.toThrow(/did not finish within 0\.0 s: a routine loops without calling the kernel/);
    expect(killed).toBe(1);
  });

  it('ends a replay when it is cancelled', async () => {
    let killed = 0;
    const abort = new AbortController();
    const p = watchReplay(never(), 10_000, abort.signal, () => killed++);
    abort.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(killed).toBe(1);
  });

  it('gives a longer limit to a rig that allows more steps', () => {
    const rig = presetRig('dual-opteron-240')!;
    const big = { ...rig, watchdog: { ...rig.watchdog, maxSteps: rig.watchdog.maxSteps * 100 } };
    expect(replayLimitMs(big)).toBeGreaterThan(replayLimitMs(rig));
    expect(replayLimitMs(rig)).toBeGreaterThanOrEqual(5000);
  });
});

/** A fake sandbox whose check workers hang on sources containing 'HANG' and count how many were started. */
function fakeSandbox(): { open: () => Promise<Sandbox>; started: () => number; terminated: () => number } {
  let started = 0;
  let terminated = 0;
  const sandbox: Sandbox = {
    crossOriginIsolated: true,
    exploreWorker: () => Promise.reject(new Error('not in this test')),
    async relayWorker<T>(): Promise<SandboxWorker<T>> {
      started++;
      let end: (e: Error) => void = () => {};
      const ended = new Promise<never>((_, reject) => {
        end = reject;
      });
      ended.catch(() => undefined);
      let alive = true;
      const api: Pick<CheckWorkerApi, 'check'> = {
        check: (source: string): CheckResult => ({ diagnostics: [], meta: { id: 'user/x', title: source, family: 'user', version: 1, actors: 2 } }),
      };
      const remote = {
        check: (source: string) => (source.includes('HANG') || !alive ? never<CheckResult>() : Promise.resolve(api.check(source, 'x.ts'))),
      };
      return {
        api: remote as unknown as SandboxWorker<T>['api'],
        terminate: () => {
          alive = false;
          terminated++;
          end(Object.assign(new Error('terminated'), { name: 'AbortError' }));
        },
        ended,
      };
    },
    dispose: () => undefined,
  };
  return { open: async () => sandbox, started: () => started, terminated: () => terminated };
}

describe('check runner', () => {
  it('answers a check, and a hung one with the timeout message at the loop, then restarts its worker', async () => {
    const f = fakeSandbox();
    const runner = createCheckRunner({ timeoutMs: 50, open: f.open });
    expect((await runner.check('fine', 'x.ts')).meta?.title).toBe('fine');
    const hung = await runner.check('// HANG\nconst a = 1;\n  while (true) {}\n', 'x.ts');
    expect(hung.diagnostics).toEqual([{ line: 3, column: 1, message: timeoutMessage(50), severity: 'error', source: 'runtime' }]);
    expect(f.terminated()).toBe(1);
    expect((await runner.check('fine again', 'x.ts')).meta?.title).toBe('fine again');
    expect(f.started()).toBe(2);
    runner.dispose();
  });

  it('retries a check that was queued behind a hung one on a fresh worker', async () => {
    const f = fakeSandbox();
    const runner = createCheckRunner({ timeoutMs: 50, open: f.open });
    const hung = runner.check('HANG', 'x.ts');
    // Queued on the same worker: the fake never answers a dead worker, the runner must move it to a new one.
    await new Promise((r) => setTimeout(r, 10));
    const next = runner.check('after', 'x.ts');
    expect((await hung).diagnostics[0]?.message).toBe(timeoutMessage(50));
    expect((await next).meta?.title).toBe('after');
    runner.dispose();
  });

  it('says 2 s by default and points at a likely loop', () => {
    expect(timeoutMessage(2000)).toMatch(/^the scenario did not finish loading within 2 s — an endless loop at top level\?/);
    expect(likelyLoopLine('a\nb\nfor (;;) {}\n')).toBe(3);
    expect(likelyLoopLine('no loop here')).toBe(1);
  });
});

describe('editor draft', () => {
  function memory(): Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> {
    const m = new Map<string, string>();
    return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
  }

  it('keeps and restores the text, and forgets it when cleared', () => {
    const s = memory();
    expect(loadDraft(s)).toBeUndefined();
    expect(saveDraft('while (true) {}', s, 1234)).toBe(true);
    expect(loadDraft(s)).toEqual({ source: 'while (true) {}', savedAt: 1234 });
    clearDraft(s);
    expect(loadDraft(s)).toBeUndefined();
  });

  it('ignores a damaged draft and reports a store that refuses', () => {
    const s = memory();
    s.setItem('racebox.editor.draft', '{not json');
    expect(loadDraft(s)).toBeUndefined();
    const full = { ...memory(), setItem: () => { throw new Error('QuotaExceededError'); } };
    expect(saveDraft('x', full)).toBe(false);
  });
});
