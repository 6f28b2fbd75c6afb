/**
 * Exploration on a pool of workers: one controlled exploration (strategy,
 * seed, schedule budget) split over N workers by schedule index — worker i
 * runs indices i, i + N, i + 2N, ... — with no per-step messages. Progress
 * comes back in batches.
 *
 * Determinism rule: the result is the failure with the LOWEST schedule index
 * in the budget, whatever N is. A worker that finds a failure at index f
 * publishes f in a shared word; the others stop starting schedules above f
 * but finish every index below it, so a lower failure, if any, is still
 * found. Totals (schedules, steps) are then counted over indices ≤ f only, so
 * they match a single-worker run too. The failing schedule replays on a single
 * engine (`racebox replay`): it encodes the choices of that one execution.
 *
 * DFS explores a tree whose shape it discovers as it goes: it runs on one
 * worker (N is ignored). Random and PCT schedules depend only on (seed,
 * index) — PCT's run-length estimate k is fixed per exploration — so they
 * split freely.
 *
 * Cancellation: word 0 of the shared array stops every worker between two
 * schedules; workers still running one second later are terminated.
 *
 * Containment: each worker has two heartbeat words, one bumped per schedule
 * and one every 256 steps. A worker whose words have not moved for `stallMs`
 * — counted from the start, so loading its scenario, PCT's calibration run
 * and the first schedule are watched too — is terminated. A stall inside a
 * schedule ends it as a hang at that index; a stall in PCT's first run, a
 * worker that dies, and a run over its memory limit end the whole run at once
 * (no schedule to blame); a stall while the scenario loads rejects, as a
 * scenario that fails to load does.
 */
import { proxy } from 'comlink';
import { atomicMinBound, CANCEL_WORD, FAILURE_BOUND_WORD, heartbeatWord, poolControlWords, type ExploreRequest, type PoolExploreWorkerApi, type Progress } from './worker-contract.ts';
import type { RunSummary } from './outcome.ts';

export interface PoolWorker {
  api: Pick<PoolExploreWorkerApi, 'explore' | 'shareBelow'>;
  terminate(): void;
  /**
   * Where the environment can tell (Node): `listener` hears, in words, that the
   * worker ended without being terminated (it died, or ran out of its heap
   * limit: `fatal`), or that scenario code called something that would have
   * ended it (process.exit, kill, abort: not fatal, the call throws and ends
   * that schedule as error).
   */
  onFault?(listener: (reason: string, fatal: boolean) => void): void;
}

/** Browser: a Comlink-wrapped module Worker of src/workers/explore.worker.ts; Node: see src/workers/node-entry.ts. */
export type PoolWorkerFactory = (index: number) => PoolWorker;

export interface PoolProgress extends Progress {
  /** Failures found so far (the lowest index among them wins). */
  failures: number;
  workers: number;
}

export interface PoolOptions {
  workers: number;
  factory: PoolWorkerFactory;
  onProgress?: (p: PoolProgress) => void;
  /** Set word 0 (or call the returned cancel of startPool) to stop. */
  cancel?: Int32Array;
  /** How long cancelled workers get before they are terminated. Default 1000 ms. */
  cancelGraceMs?: number;
  /**
   * A worker whose current schedule has not returned to the scheduler for this
   * long (a routine that loops without yielding) is terminated, and that
   * schedule ends as a hang. Default 10 s.
   */
  stallMs?: number;
  /** Sampled a few times a second: a reason when the run is over its memory limit (the run then ends as error). */
  memoryOver?: () => string | undefined;
}

export interface PoolSummary extends RunSummary {
  workers: number;
  /** The longest time one worker spent exploring (without worker start-up): what schedules/s of the pool is measured against. */
  busyMs: number;
  cancelled?: boolean;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function explorePool(req: Omit<ExploreRequest, 'first' | 'stride'>, o: PoolOptions): Promise<PoolSummary> {
  const n = req.strategy === 'dfs' ? 1 : Math.max(1, Math.min(o.workers, req.schedules));
  const shared = new Int32Array(new SharedArrayBuffer(4 * poolControlWords(n)));
  const external = o.cancel;
  const t0 = now();
  const workers: PoolWorker[] = [];
  const terminated = new Set<number>();
  const terminateAll = (): void => {
    workers.forEach((w, i) => {
      if (terminated.has(i)) return;
      terminated.add(i);
      try {
        w.terminate();
      } catch {
        // gone already
      }
    });
  };
  try {
    for (let i = 0; i < n; i++) workers.push(o.factory(i));
  } catch (e) {
    terminateAll();
    throw e;
  }
  const latest: Progress[] = Array.from({ length: n }, () => ({ schedulesRun: 0, steps: 0, elapsedMs: 0 }));
  let failures = 0;
  const report = (): void => {
    if (!o.onProgress) return;
    let schedulesRun = 0;
    let steps = 0;
    for (const p of latest) {
      schedulesRun += p.schedulesRun;
      steps += p.steps;
    }
    o.onProgress({ schedulesRun, steps, elapsedMs: now() - t0, failures, workers: n });
  };
  const results: (RunSummary | undefined)[] = new Array(n).fill(undefined);
  let error: unknown;
  let cancelled = false;
  let settled = 0;
  /** Workers stopped by the stall watchdog (their promise never settles): index of the schedule that hung. */
  const stuck = new Map<number, number>();
  const stallMs = o.stallMs ?? 10_000;
  const beats = new Array<number>(n).fill(0);
  const stepBeats = new Array<number>(n).fill(0);
  const beatAt = new Array<number>(n).fill(now());
  /** Ends the whole run: a stall before any schedule, a worker that died, the memory limit. */
  let fatal = undefined as { outcome: 'hang' | 'error'; message: string } | undefined;
  /** Scenario code reached process.exit/kill/abort (the call threw): the run cannot pass. */
  let exitCall = undefined as string | undefined;
  workers.forEach((w, i) =>
    w.onFault?.((reason, isFatal) => {
      if (!isFatal) exitCall ??= reason;
      else if (!terminated.has(i) && results[i] === undefined) fatal ??= { outcome: 'error', message: reason };
    }),
  );
  let memoryAt = 0;
  const runs = workers.map((w, i) =>
    w.api
      .explore(
        { ...req, first: i, stride: n },
        proxy((p: Progress) => {
          latest[i] = p;
          report();
        }),
        shared,
      )
      .then(
        (r) => {
          settled++;
          results[i] = r;
          if (r.outcome !== 'pass') {
            failures++;
            report();
          }
        },
        (e: unknown) => {
          settled++;
          error ??= e;
          Atomics.store(shared, CANCEL_WORD, 1);
        },
      ),
  );
  const all = Promise.all(runs);
  // Forward an external cancel to the workers; after the grace period, terminate whoever is still busy.
  let cancelAt = -1;
  const grace = o.cancelGraceMs ?? 1000;
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve();
    };
    const timer = setInterval(() => {
      if (external && Atomics.load(external, CANCEL_WORD) !== 0 && cancelAt < 0) {
        cancelled = true;
        cancelAt = now();
        Atomics.store(shared, CANCEL_WORD, 1);
      }
      if (cancelAt >= 0 && now() - cancelAt > grace) finish();
      const t = now();
      if (o.memoryOver && t - memoryAt >= 100 && fatal === undefined) {
        memoryAt = t;
        const over = o.memoryOver();
        if (over !== undefined) fatal = { outcome: 'error', message: over };
      }
      if (fatal !== undefined) {
        finish();
        return;
      }
      // The stall watchdog: a worker whose schedule and step beats have both stood still.
      for (let i = 0; i < n; i++) {
        if (results[i] !== undefined || stuck.has(i)) continue;
        const b = Atomics.load(shared, heartbeatWord(i));
        const s = Atomics.load(shared, heartbeatWord(i) + 1);
        if (b !== beats[i] || s !== stepBeats[i] || (b === 0 && s === 0)) {
          // (Both words still 0: the worker has not started; its own start-up is not the scenario's time.)
          beats[i] = b;
          stepBeats[i] = s;
          beatAt[i] = t;
        } else if (t - beatAt[i]! > stallMs && cancelAt < 0) {
          if (b < 2) {
            // explore() bumps once at its start (after the scenario loaded) and once per schedule.
            // A scenario that does not load is refused like one that fails to load (explore() rejects): the pool throws.
            const limit = `${Math.round(stallMs / 1000)} s`;
            if (b === 0) error ??= new Error(`the scenario did not finish loading within ${limit}: its module's top-level code loops`);
            else {
              fatal = {
                outcome: 'hang',
                message: `the first run (every choice the default, to size PCT) did not return to the scheduler within ${limit}: setup, a routine ` +
                  'or an invariant loops without calling the kernel (call k.* with yield* inside every loop)',
              };
            }
            finish();
            return;
          }
          // explore() bumps once at its start and once per schedule: schedule number b - 2 of this worker's share.
          const index = i + (b - 2) * n;
          stuck.set(i, index);
          atomicMinBound(shared, FAILURE_BOUND_WORD, index + 1);
          terminated.add(i);
          workers[i]!.terminate();
          failures++;
          report();
        }
      }
      if (settled + stuck.size === n) finish();
    }, 20);
    void all.then(finish);
  });
  if (fatal !== undefined && error === undefined) {
    terminateAll();
    const schedulesRun = latest.reduce((sum, p) => sum + p.schedulesRun, 0);
    return {
      scenario: '', rig: req.rig.id, strategy: req.strategy, seed: req.seed, schedulesRun, steps: latest.reduce((sum, p) => sum + p.steps, 0),
      elapsedMs: now() - t0, outcome: fatal.outcome, workers: n, busyMs: now() - t0,
      failure: { kind: fatal.outcome, message: fatal.message, schedule: '', cpu: -1, routine: '', step: 0, cpus: [] },
    };
  }
  if (error !== undefined) {
    terminateAll();
    throw error instanceof Error ? error : new Error(String(error));
  }
  if (cancelled && results.some((r) => r === undefined)) {
    terminateAll();
    const schedulesRun = latest.reduce((s, p) => s + p.schedulesRun, 0);
    const steps = latest.reduce((s, p) => s + p.steps, 0);
    return {
      scenario: '', rig: req.rig.id, strategy: req.strategy, seed: req.seed, schedulesRun, steps,
      elapsedMs: now() - t0, outcome: 'pass', workers: n, busyMs: now() - t0, cancelled: true,
    };
  }
  for (const [i, index] of stuck) {
    results[i] = {
      scenario: '', rig: req.rig.id, strategy: req.strategy, seed: req.seed,
      schedulesRun: latest[i]!.schedulesRun + 1, steps: latest[i]!.steps, elapsedMs: now() - t0, outcome: 'hang',
      failure: {
        kind: 'hang',
        message:
          `schedule #${index} did not return to the scheduler within ${Math.round(stallMs / 1000)} s: a routine loops ` +
          'without calling the kernel, so the box can neither interleave nor stop it (call k.* with yield* inside every loop)',
        schedule: '', cpu: -1, routine: '', step: 0, cpus: [],
      },
      failingSchedule: index,
    };
  }
  const done = results as RunSummary[];
  const busyMs = Math.max(...done.map((r) => r.elapsedMs));
  let best: RunSummary | undefined;
  for (const r of done) {
    if (r.outcome !== 'pass' && r.failingSchedule !== undefined && (best === undefined || r.failingSchedule < best.failingSchedule!)) best = r;
  }
  const base = done[0]!;
  let summary: PoolSummary;
  if (best) {
    const f = best.failingSchedule!;
    // Count only indices below f (plus f itself), as a single worker would have.
    const shares = await Promise.all(
      workers.map((w, i) => (stuck.has(i) ? Promise.resolve({ schedules: latest[i]!.schedulesRun, steps: latest[i]!.steps }) : w.api.shareBelow(f))),
    );
    const bestIdx = done.indexOf(best);
    let schedulesRun = 1;
    // best.steps covers the failing worker's schedules up to and including f.
    let steps = best.steps - shares[bestIdx]!.steps;
    for (const s of shares) {
      schedulesRun += s.schedules;
      steps += s.steps;
    }
    summary = { ...best, schedulesRun, steps, elapsedMs: now() - t0, workers: n, busyMs };
  } else {
    let schedulesRun = 0;
    let steps = 0;
    for (const r of done) {
      schedulesRun += r.schedulesRun;
      steps += r.steps;
    }
    const exhausted = done.some((r) => r.exhausted);
    summary = {
      scenario: base.scenario, rig: base.rig, strategy: base.strategy, seed: base.seed, schedulesRun, steps,
      elapsedMs: now() - t0, outcome: 'pass', ...(exhausted ? { exhausted: true } : {}), workers: n, busyMs,
      ...(cancelled ? { cancelled: true } : {}),
    };
  }
  terminateAll();
  // A run that would pass although scenario code tried to end it (and swallowed the refusal) does not pass.
  if (exitCall !== undefined && summary.outcome === 'pass') {
    const { failingSchedule: _unused, ...rest } = summary;
    return { ...rest, outcome: 'error', failure: { kind: 'error', message: `${exitCall}: a scenario may not end the run`, schedule: '', cpu: -1, routine: '', step: 0, cpus: [] } };
  }
  return summary;
}

/** A cancel flag a UI can hold: `cancel()` stops the pool within about a second. */
export function poolCancelFlag(): { flag: Int32Array; cancel(): void } {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  return { flag, cancel: () => Atomics.store(flag, CANCEL_WORD, 1) };
}

export { FAILURE_BOUND_WORD };
