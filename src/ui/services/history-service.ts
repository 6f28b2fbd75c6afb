/**
 * The history as the UI uses it. Implemented over src/history (IndexedDB via
 * idb); the UI never opens IndexedDB itself.
 */
import * as H from '../../history/index.ts';
import type { TraceStep } from '../../engine/trace.ts';
import type { Rig } from '../../machine/rig.ts';
import type { ListRunsOptions, NewRun, RunPage, ScenarioOrigin, StoredRun, UserScenario } from '../../history/types.ts';
import { importInWorker, type ImportPhase } from '../../history/import-client.ts';

export interface ImportReport {
  runs: number;
  message: string;
}

export interface HistoryService {
  addRun(run: NewRun, trace?: TraceStep[]): Promise<StoredRun>;
  listRuns(o: ListRunsOptions): Promise<RunPage>;
  getRun(id: number): Promise<StoredRun | undefined>;
  getTrace(id: number): Promise<TraceStep[] | undefined>;
  putTrace(id: number, steps: TraceStep[]): Promise<void>;
  deleteRun(id: number): Promise<void>;
  exportJson(): Promise<string>;
  /**
   * Validates everything first; a bad file throws with the reason and changes nothing. The scenarios it adds
   * are marked as imported from `fileName` (the app asks before running their code from a link).
   */
  importJson(text: string, fileName?: string): Promise<ImportReport>;
  /**
   * importJson for a file the user picked: read, parsed, checked and stored in a worker of its own, so that a
   * large file never holds the page (the same checks and messages; nothing stored unless all of it is).
   */
  importFile(file: Blob, fileName: string, onPhase?: (phase: ImportPhase, runs?: number) => void): Promise<ImportReport>;
  listRigs(): Promise<Rig[]>;
  saveRig(rig: Rig): Promise<void>;
  deleteRig(id: string): Promise<void>;
  listScenarios(): Promise<UserScenario[]>;
  saveScenario(s: UserScenario): Promise<void>;
  deleteScenario(id: string): Promise<void>;
}


/** Opens the history database; `onClosed` is told when another tab upgraded it or the browser closed it. */
export async function openHistoryService(onClosed: (message: string) => void): Promise<HistoryService> {
  const h = await H.openHistory({
    onVersionChange: () => onClosed('The history was upgraded by a newer Racebox in another tab: reload this page to keep saving runs.'),
    onTerminated: () => onClosed('The browser closed the history database (was site data cleared?): reload this page.'),
    onBlocked: () => onClosed('Another Racebox tab is holding an older history open: close it so this one can open the history.'),
  });
  const importOnThisThread = async (text: string, fileName: string): Promise<ImportReport> =>
    summarize(await H.importHistory(h, text, { origin: importedFrom(fileName) }));
  return {
    async addRun(run, trace) {
      const id = await H.addRun(h, run, trace ? { trace } : {});
      const stored = await H.getRun(h, id);
      return stored ?? ({ ...run, id, createdAt: run.createdAt ?? Date.now() } as StoredRun);
    },
    listRuns: (o) => H.listRuns(h, o),
    getRun: (id) => H.getRun(h, id),
    getTrace: (id) => H.getTrace(h, id),
    putTrace: (id, steps) => H.putTrace(h, id, steps),
    async deleteRun(id) {
      await H.deleteRun(h, id);
    },
    async exportJson() {
      return JSON.stringify(await H.exportHistory(h), null, 1);
    },
    importJson: (text, fileName = 'a history file') => importOnThisThread(text, fileName),
    async importFile(file, fileName, onPhase) {
      if (typeof Worker !== 'function') return importOnThisThread(await file.text(), fileName);
      // The worker opens a connection of its own: a handle closed here (another tab upgraded) must not import.
      if (h.closed !== null) throw new H.HistoryClosedError(h.closed);
      return summarize(await importInWorker({ file, dbName: h.name, origin: importedFrom(fileName) }, onPhase));
    },
    listRigs: () => H.listUserRigs(h),
    async saveRig(rig) {
      await H.putUserRig(h, rig);
    },
    async deleteRig(id) {
      await H.deleteUserRig(h, id);
    },
    listScenarios: () => H.listUserScenarios(h),
    async saveScenario(s) {
      await H.putUserScenario(h, s);
    },
    async deleteScenario(id) {
      await H.deleteUserScenario(h, id);
    },
  };
}

/** The mark on the scenarios an import adds: the app asks before it runs their code. */
function importedFrom(fileName: string): ScenarioOrigin {
  return { kind: 'imported', file: fileName.slice(0, 1024), importedAt: Date.now() };
}

function summarize(r: H.ImportReport): ImportReport {
  const parts = [
    `${r.runs.added} run${r.runs.added === 1 ? '' : 's'} added`,
    r.runs.skipped ? `${r.runs.skipped} already present` : '',
    r.userRigs.added ? `${r.userRigs.added} rig${r.userRigs.added === 1 ? '' : 's'}` : '',
    r.userScenarios.added ? `${r.userScenarios.added} scenario${r.userScenarios.added === 1 ? '' : 's'}` : '',
    r.runs.renumbered.length ? `${r.runs.renumbered.length} renumbered` : '',
  ].filter(Boolean);
  return { runs: r.runs.added, message: `Imported: ${parts.join(', ')}.` };
}
