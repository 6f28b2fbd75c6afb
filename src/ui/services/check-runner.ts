/**
 * The editor's check (src/ui/editor/check.worker.ts) run where user code belongs: in a worker inside the
 * scenario sandbox (src/workers/sandbox-host.ts), cut off from the history and the network. The check
 * evaluates the scenario's module and runs one schedule, so code typed half-way (`while (true) {}`, which
 * auto-closed brackets produce while typing) can hang it: each check has a time limit, after which the worker
 * is terminated and the next check starts a fresh one (the limit starts once that worker is up). A check always
 * resolves, with diagnostics.
 */
import builtCheckWorkerUrl from '../editor/check.worker.ts?worker&url';
import type { CheckResult, CheckWorkerApi } from '../editor/check.worker.ts';
import { openSandbox, type Sandbox, type SandboxWorker } from '../../workers/sandbox-host.ts';

/** The check worker's bundle: built by `vite build`; in dev, bundled by vite-plugins/sandbox-frame.ts. */
const checkWorkerUrl = import.meta.env.DEV ? '/@racebox-sandbox/check.worker.js' : builtCheckWorkerUrl;

export const CHECK_TIMEOUT_MS = 2000;
/** How long a new check worker may take to start (it loads the engine), before any user code runs in it. */
const STARTUP_MS = 30_000;

export interface CheckRunner {
  check(source: string, filename: string): Promise<CheckResult>;
  dispose(): void;
}

export function timeoutMessage(ms: number): string {
  return `the scenario did not finish loading within ${ms / 1000} s — an endless loop at top level? (The check was stopped; edit the code to check it again.)`;
}

/**
 * Where a check that timed out points: the first loop statement that starts a line (the likely culprit),
 * else line 1. A guess, said as a question in the message.
 */
export function likelyLoopLine(source: string): number {
  const lines = source.split('\n');
  const i = lines.findIndex((l) => /^\s*(while\s*\(|for\s*\(|do\s*\{)/.test(l));
  return i >= 0 ? i + 1 : 1;
}

type Worker = SandboxWorker<CheckWorkerApi>;

export function createCheckRunner(options: { timeoutMs?: number; open?: () => Promise<Sandbox> } = {}): CheckRunner {
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const open = options.open ?? (() => openSandbox());
  let sandbox: Promise<Sandbox> | undefined;
  let current: Promise<Worker> | undefined;
  let disposed = false;

  const worker = (): Promise<Worker> => {
    sandbox ??= open().catch((e: unknown) => {
      sandbox = undefined;
      throw e;
    });
    const w = (current ??= sandbox.then(async (s) => {
      const started = await s.relayWorker<CheckWorkerApi>(checkWorkerUrl, 'racebox-sandbox-check');
      // The time limit is for the user's code, not for starting the worker (loading the engine can take
      // seconds on a busy machine): a first check of an empty module, which cannot hang, says it is up.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the check worker did not start within ${STARTUP_MS / 1000} s`)), STARTUP_MS);
      });
      try {
        await Promise.race([started.api.check('', 'warm-up.ts'), started.ended, late]);
      } catch (e) {
        started.terminate();
        throw e;
      } finally {
        clearTimeout(timer);
      }
      return started;
    }));
    w.catch(() => {
      if (current === w) current = undefined;
    });
    return w;
  };

  const failed = (line: number, message: string): CheckResult => ({ diagnostics: [{ line, column: 1, message, severity: 'error', source: 'runtime' }] });

  async function attempt(source: string, filename: string, tries: number): Promise<CheckResult> {
    const pending = worker();
    let w: Worker;
    try {
      w = await pending;
    } catch (e) {
      return failed(1, `the checker could not start: ${(e as Error).message}`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    try {
      const r = await Promise.race([w.api.check(source, filename), w.ended, late]);
      if (r !== 'late') return r;
      // This check hung the worker: end it; the next check (and any queued behind this one) gets a new one.
      if (current === pending) current = undefined;
      w.terminate();
      return failed(likelyLoopLine(source), timeoutMessage(timeoutMs));
    } catch (e) {
      // Another check's timeout ended the worker this one was queued on: try again on a fresh worker.
      if (!disposed && (e as Error).name === 'AbortError' && tries > 0) return attempt(source, filename, tries - 1);
      return failed(1, `the checker failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    check: (source, filename) => attempt(source, filename, 2),
    dispose() {
      disposed = true;
      void current?.then((w) => w.terminate(), () => undefined);
      current = undefined;
      void sandbox?.then((s) => s.dispose(), () => undefined);
      sandbox = undefined;
    },
  };
}
