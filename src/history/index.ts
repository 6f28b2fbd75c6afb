/** The run-history layer (DESIGN.md section 7): IndexedDB through idb. See docs/history.md. */
export { openHistory, closeHistory, type History, type OpenHistoryOptions } from './db.ts';
export { DB_NAME, DB_VERSION, UPGRADES, type RaceboxDB, type UpgradeStep } from './schema.ts';
export { addRun, getRun, deleteRun, listRuns, countRuns, runFromSummary, MAX_PAGE, type RunContext } from './runs.ts';
export { putTrace, getTrace, deleteTrace } from './traces.ts';
export { putUserRig, getUserRig, listUserRigs, deleteUserRig } from './user-rigs.ts';
export { putUserScenario, getUserScenario, listUserScenarios, deleteUserScenario, markImported } from './user-scenarios.ts';
export {
  exportHistory,
  importHistory,
  checkImportSize,
  IMPORT_MAX_BYTES,
  parseHistoryDocument,
  parseHistoryDocumentSliced,
  HISTORY_FORMAT,
  HISTORY_FORMAT_VERSION,
  type ExportOptions,
  type HistoryDocument,
  type ImportCounts,
  type ImportReport,
} from './transfer.ts';
export { LIMITS } from './validate.ts';
export {
  HistoryError,
  HistoryClosedError,
  HistoryValidationError,
  HistoryVersionError,
  StorageFullError,
  type ClosedReason,
} from './errors.ts';
export * from './types.ts';
