/** Per-run step records, stored apart from the run list and keyed by run id. */
import type { TraceStep } from '../engine/trace.ts';
import { readTx, writeTx, type History } from './db.ts';
import { HistoryError } from './errors.ts';
import { checkedSteps, hasRun } from './runs.ts';

/** Stores (or replaces) the trace of an existing run; refuses a trace for a run that is not stored. */
export async function putTrace(h: History, runId: number, steps: TraceStep[]): Promise<void> {
  const checked = checkedSteps(steps);
  await writeTx(h, ['runs', 'traces', 'runChunks', 'runChunkIndex'], async (tx) => {
    const stores = { runs: tx.objectStore('runs'), chunks: tx.objectStore('runChunks'), index: tx.objectStore('runChunkIndex') };
    if (!(await hasRun(stores, runId))) throw new HistoryError(`no run ${runId} to attach a trace to`);
    await tx.objectStore('traces').put({ runId, steps: checked });
  });
}

export async function getTrace(h: History, runId: number): Promise<TraceStep[] | undefined> {
  return readTx(h, ['traces'], async (tx) => (await tx.objectStore('traces').get(runId))?.steps);
}

/** Drops a run's trace (frees space) and keeps the run; false if it had none. */
export async function deleteTrace(h: History, runId: number): Promise<boolean> {
  return writeTx(h, ['traces'], async (tx) => {
    if ((await tx.objectStore('traces').getKey(runId)) === undefined) return false;
    await tx.objectStore('traces').delete(runId);
    return true;
  });
}
