/**
 * Imports a history file in a worker of its own (import.worker.ts), so that reading, parsing, checking and
 * cloning 200,000 runs never holds the page's thread. Browser only; without Worker, importHistory does the
 * same on the calling thread, its check sliced.
 */
import { HistoryError, HistoryValidationError, StorageFullError } from './errors.ts';
import type { ImportReport } from './transfer.ts';
import type { ScenarioOrigin } from './types.ts';

export interface ImportWorkerRequest {
  file: Blob;
  /** The database to import into (the page's own, by name: the worker opens a connection of its own). */
  dbName: string;
  origin?: ScenarioOrigin;
}

export type ImportPhase = 'checking' | 'storing';

export type ImportWorkerReply =
  | { kind: 'phase'; phase: ImportPhase; runs?: number }
  | { kind: 'done'; report: ImportReport }
  | { kind: 'error'; error: { name: string; message: string; source?: string; errors?: { field: string; message: string }[]; runCount?: number } };

/** What the worker threw, as the class the page would have caught importing on its own thread. */
function rebuild(e: Extract<ImportWorkerReply, { kind: 'error' }>['error']): Error {
  if (e.name === 'HistoryValidationError' && e.source !== undefined && e.errors) return new HistoryValidationError(e.source, e.errors);
  if (e.name === 'StorageFullError') return new StorageFullError(e.runCount);
  const x = e.name.startsWith('History') ? new HistoryError(e.message) : new Error(e.message);
  x.name = e.name;
  return x;
}

/** Imports `file` into the database `dbName` in a worker; rejects with the import's error, having stored nothing. */
export function importInWorker(request: ImportWorkerRequest, onPhase?: (phase: ImportPhase, runs?: number) => void): Promise<ImportReport> {
  const worker = new Worker(new URL('./import.worker.ts', import.meta.url), { type: 'module', name: 'racebox-history-import' });
  return new Promise<ImportReport>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<ImportWorkerReply>) => {
      const m = e.data;
      if (m.kind === 'phase') onPhase?.(m.phase, m.runs);
      else {
        worker.terminate();
        if (m.kind === 'done') resolve(m.report);
        else reject(rebuild(m.error));
      }
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new HistoryError(`the import worker failed: ${e.message || 'it could not start'}; nothing was imported`));
    };
    worker.postMessage(request);
  });
}
