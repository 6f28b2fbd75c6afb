import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { RunSummary } from '../../engine/outcome.ts';
import type { TraceStep } from '../../engine/trace.ts';
import type { Progress, ReplayRequest } from '../../engine/worker-contract.ts';
import type { ExploreJob, Runner } from '../services/runner.ts';

export type RunPhase = 'idle' | 'exploring' | 'replaying' | 'done' | 'cancelled' | 'failed';

/**
 * The lifecycle of one run in a view: start, progress (schedules/s and an
 * estimate of the time left), cancel, result. Cancels the work when the host
 * element leaves the page.
 */
export class RunController implements ReactiveController {
  phase: RunPhase = 'idle';
  progress: Progress = { schedulesRun: 0, steps: 0, elapsedMs: 0 };
  budget = 0;
  startedAt = 0;
  wallMs = 0;
  summary?: RunSummary;
  trace?: TraceStep[];
  error?: string;
  job?: ExploreJob;
  private abort?: AbortController;
  private ticker?: ReturnType<typeof setInterval>;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  get busy(): boolean {
    return this.phase === 'exploring' || this.phase === 'replaying';
  }

  /** Schedules per second over the whole run, measured on the page's clock (all workers together). */
  get rate(): number {
    const ms = this.busy ? performance.now() - this.startedAt : this.wallMs;
    return ms > 0 ? (this.progress.schedulesRun * 1000) / ms : 0;
  }

  /**
   * Whether there is exploration progress to show: a finished link replay (no budget) or an error before
   * the first schedule has none, and "0.0 %, 0 / 0 schedules" above it would read as a result.
   */
  get hasProgress(): boolean {
    if (this.phase === 'idle') return false;
    if (this.busy) return true;
    if (this.budget === 0) return false;
    return !(this.phase === 'failed' && this.progress.schedulesRun === 0);
  }

  get etaMs(): number {
    const r = this.rate;
    return r > 0 ? ((this.budget - this.progress.schedulesRun) / r) * 1000 : NaN;
  }

  reset(): void {
    this.cancel();
    this.phase = 'idle';
    this.summary = undefined;
    this.trace = undefined;
    this.error = undefined;
    this.host.requestUpdate();
  }

  /** Explores; resolves with the summary, or undefined when cancelled or failed (see `error`). */
  async explore(runner: Runner, job: ExploreJob): Promise<RunSummary | undefined> {
    this.cancel();
    const abort = (this.abort = new AbortController());
    this.job = job;
    this.phase = 'exploring';
    this.summary = undefined;
    this.trace = undefined;
    this.error = undefined;
    this.budget = job.schedules;
    this.progress = { schedulesRun: 0, steps: 0, elapsedMs: 0 };
    this.startedAt = performance.now();
    this.ticker = setInterval(() => this.host.requestUpdate(), 250);
    this.host.requestUpdate();
    try {
      const s = await runner.explore(job, (p) => {
        if (abort.signal.aborted) return;
        this.progress = p;
      }, abort.signal);
      if (abort !== this.abort) return undefined;
      this.summary = s;
      this.progress = { schedulesRun: s.schedulesRun, steps: s.steps, elapsedMs: s.elapsedMs };
      this.phase = abort.signal.aborted ? 'cancelled' : 'done';
      return s;
    } catch (e) {
      if (abort !== this.abort) return undefined;
      if (abort.signal.aborted) this.phase = 'cancelled';
      else {
        this.phase = 'failed';
        this.error = (e as Error)?.message ?? String(e);
      }
      return undefined;
    } finally {
      if (abort === this.abort) {
        this.wallMs = performance.now() - this.startedAt;
        clearInterval(this.ticker);
        this.host.requestUpdate();
      }
    }
  }

  async replay(runner: Runner, req: ReplayRequest): Promise<RunSummary | undefined> {
    this.cancel();
    const abort = (this.abort = new AbortController());
    this.phase = 'replaying';
    this.error = undefined;
    this.host.requestUpdate();
    try {
      const r = await runner.replay(req, abort.signal);
      if (abort !== this.abort) return undefined;
      this.summary = r.summary;
      this.trace = r.trace;
      this.phase = 'done';
      return r.summary;
    } catch (e) {
      if (abort !== this.abort) return undefined;
      // Cancel ends the replay's worker, which rejects the replay: that is a cancel, not a failure.
      if (abort.signal.aborted) this.phase = 'cancelled';
      else {
        this.phase = 'failed';
        this.error = (e as Error)?.message ?? String(e);
      }
      return undefined;
    } finally {
      if (abort === this.abort) this.host.requestUpdate();
    }
  }

  /** Attaches a trace fetched separately (a replay made after the exploration). */
  setTrace(trace: TraceStep[] | undefined): void {
    this.trace = trace;
    this.host.requestUpdate();
  }

  cancel(): void {
    if (this.abort && this.busy) {
      this.abort.abort();
      this.phase = 'cancelled';
    }
    clearInterval(this.ticker);
  }

  hostDisconnected(): void {
    this.cancel();
  }
}
