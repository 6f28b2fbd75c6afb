import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Runner } from '../services/runner.ts';

/**
 * Owns the worker pool for the app's lifetime: creates the runner when the
 * host connects (its module loads in a separate chunk, off the first paint)
 * and terminates every worker when the host disconnects.
 */
export class PoolController implements ReactiveController {
  runner?: Runner;
  error?: string;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly onReady: (r: Runner | undefined) => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    // After the first paint: the runner's chunk and its workers are not needed to show the page.
    void new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))
      .then(() => import('../services/worker-runner.ts'))
      .then(
      (m) => {
        this.runner = m.createWorkerRunner();
        this.onReady(this.runner);
        this.host.requestUpdate();
      },
      (e: unknown) => {
        this.error = (e as Error)?.message ?? String(e);
        this.host.requestUpdate();
      },
    );
  }

  hostDisconnected(): void {
    this.runner?.dispose();
    this.runner = undefined;
    this.onReady(undefined);
  }
}
