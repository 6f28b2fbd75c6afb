/// <reference lib="webworker" />
/**
 * The app's history import, off the page's thread (issue 14): reading the file, JSON.parse, the check of every
 * record and the structured clone each write makes all happen here, on a connection of this worker's own. A
 * 256 MB file (200,000 runs) never blocks the page; the page only waits for the report. A bad file is refused
 * before the transaction opens, and the writes are one transaction, so an import is stored whole or not at all.
 */
import { closeHistory, openHistory } from './db.ts';
import { checkImportSize, parseHistoryDocument, storeHistoryDocument } from './transfer.ts';
import type { ImportWorkerReply, ImportWorkerRequest } from './import-client.ts';

const post = (m: ImportWorkerReply): void => self.postMessage(m);

self.onmessage = async (e: MessageEvent<ImportWorkerRequest>) => {
  const { file, dbName, origin } = e.data;
  try {
    checkImportSize(file.size);
    post({ kind: 'phase', phase: 'checking' });
    const doc = parseHistoryDocument(await file.text());
    post({ kind: 'phase', phase: 'storing', runs: doc.runs.length });
    // Another tab's upgrade closes this connection like the page's (the import then fails and stores nothing).
    const h = await openHistory({ name: dbName });
    try {
      post({ kind: 'done', report: await storeHistoryDocument(h, doc, origin ? { origin } : {}) });
    } finally {
      closeHistory(h);
    }
  } catch (err) {
    const x = err as { name?: unknown; message?: unknown; source?: unknown; errors?: unknown; runCount?: unknown };
    post({
      kind: 'error',
      error: {
        name: typeof x?.name === 'string' ? x.name : 'Error',
        message: typeof x?.message === 'string' ? x.message : String(err),
        ...(typeof x?.source === 'string' && Array.isArray(x.errors) ? { source: x.source, errors: x.errors as { field: string; message: string }[] } : {}),
        ...(typeof x?.runCount === 'number' ? { runCount: x.runCount } : {}),
      },
    });
  }
};
