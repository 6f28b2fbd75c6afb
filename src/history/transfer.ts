/**
 * Export and import of the whole history as one JSON document.
 *
 * Import validates the entire file first (every field of every record, every
 * rig through validateRig, cross-references and sizes) and refuses a bad file
 * with the path of the first problems (`runs[3].failure.cpus[0].irql: ...`)
 * before touching the database; the writes then happen in one transaction, so
 * an import is stored completely or not at all. Scenario sources are text and
 * are never evaluated.
 *
 * Id collisions (the file's ids meet what is already stored):
 * - a run equal to an already stored one in every field but the id (same
 *   createdAt, same everything) is the same run: skipped. Its trace is added
 *   only if the stored run has none. (Equal runs within one file are all kept.)
 * - a different run whose id is taken is added under a new id (reported in
 *   `renumbered`); its trace follows it. Runs are never overwritten.
 * - a user rig or scenario whose id is taken: identical (a scenario ignoring
 *   updatedAt) → skipped; different → added under `<id>-imported`
 *   (`-imported-2`, ...), reported in `renamed`. The stored one is kept.
 * Into an empty database every id is kept, so export → import → export gives
 * the identical document.
 */
import type { Rig } from '../machine/rig.ts';
import { clip } from '../machine/text.ts';
import { arr, BAD, canonicalJson, check, isRecord, Issues, literal, obj, opt, show, str, type Check } from './check.ts';
import { readTx, writeTx, type History } from './db.ts';
import { HistoryValidationError } from './errors.ts';
import { writeChunks } from './chunks.ts';
import type { RunChunk, RunChunkEntry, ScenarioOrigin, StoredRun, StoredTrace, UserScenario } from './types.ts';
import { LIMITS, rigCheck, storedRunCheck, storedTraceCheck, userScenarioCheck } from './validate.ts';

export const HISTORY_FORMAT = 'racebox-history';
export const HISTORY_FORMAT_VERSION = 1;

export interface HistoryDocument {
  format: typeof HISTORY_FORMAT;
  version: typeof HISTORY_FORMAT_VERSION;
  /** ISO 8601. */
  exportedAt: string;
  /** By id. */
  runs: StoredRun[];
  /** By run id; absent when exported without traces. */
  traces?: StoredTrace[];
  userRigs: Rig[];
  userScenarios: UserScenario[];
}

export interface ExportOptions {
  /** Include the traces (default true). */
  traces?: boolean;
  /** The export time to record (default now). */
  now?: Date;
}

/** The whole history, read in one transaction (a consistent snapshot). JSON.stringify it to save. */
export async function exportHistory(h: History, options: ExportOptions = {}): Promise<HistoryDocument> {
  const withTraces = options.traces ?? true;
  const exportedAt = (options.now ?? new Date()).toISOString();
  return readTx(h, ['runs', 'runChunks', 'traces', 'userRigs', 'userScenarios'], async (tx) => {
    const [loose, chunks, traces, userRigs, userScenarios] = await Promise.all([
      tx.objectStore('runs').getAll(),
      tx.objectStore('runChunks').getAll(),
      withTraces ? tx.objectStore('traces').getAll() : undefined,
      tx.objectStore('userRigs').getAll(),
      tx.objectStore('userScenarios').getAll(),
    ]);
    return {
      format: HISTORY_FORMAT,
      version: HISTORY_FORMAT_VERSION,
      exportedAt,
      // The key generator appends `id` to a new run; put it first, as import does. Imported runs (in chunks) and
      // runs added one at a time are one list, by id.
      runs: (chunks.length === 0 ? loose : [...loose, ...chunks.flatMap((c) => c.runs)].sort((a, b) => a.id - b.id)).map((r) => Object.assign({ id: r.id }, r)),
      ...(traces ? { traces } : {}),
      userRigs,
      userScenarios,
    };
  });
}

export interface ImportCounts {
  added: number;
  skipped: number;
}

export interface ImportReport {
  runs: ImportCounts & { renumbered: { from: number; to: number }[] };
  traces: ImportCounts;
  userRigs: ImportCounts & { renamed: { from: string; to: string }[] };
  userScenarios: ImportCounts & { renamed: { from: string; to: string }[] };
}

const isoDate = str(64, { min: 1, pattern: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, what: 'an ISO 8601 date' });

const documentCheck: Check<HistoryDocument> = obj('a Racebox history document', {
  format: literal(HISTORY_FORMAT),
  version: literal(HISTORY_FORMAT_VERSION),
  exportedAt: isoDate,
  runs: arr(storedRunCheck, LIMITS.runs),
  traces: opt(arr(storedTraceCheck, LIMITS.runs)),
  userRigs: arr(rigCheck, LIMITS.userRigs),
  userScenarios: arr(userScenarioCheck, LIMITS.userScenarios),
});

/** The largest import file: bigger is refused before it is read (a browser reads a file whole). */
export const IMPORT_MAX_BYTES = LIMITS.importChars;

const megabytes = (n: number): string => `${Math.round(n / (1024 * 1024))} MB`;

/** Refuses a file by its size alone, before reading it; throws HistoryValidationError('import', ...) naming the cap. */
export function checkImportSize(bytes: number): void {
  if (bytes > IMPORT_MAX_BYTES) {
    throw new HistoryValidationError('import', [{
      field: '(file)',
      message: `is too large (${megabytes(bytes)}; a history import is at most ${megabytes(IMPORT_MAX_BYTES)} and ${LIMITS.runs.toLocaleString('en-US')} runs)`,
    }]);
  }
}

const refuse = (field: string, message: string): never => {
  throw new HistoryValidationError('import', [{ field, message }]);
};

/** The checks before the field-by-field one: size, JSON, format and version. */
function readDocument(text: string): Record<string, unknown> {
  if (typeof text !== 'string') refuse('(file)', 'must be text');
  // A UTF-16 code unit is at least one byte of the file: a text this long came from a file above the cap.
  checkImportSize(text.length);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    refuse('(file)', `is not JSON: ${clip((e as Error).message, 200)}`);
  }
  if (!isRecord(doc) || doc.format !== HISTORY_FORMAT) refuse('format', `must be "${HISTORY_FORMAT}" (this is not a Racebox history export)`);
  const d = doc as Record<string, unknown>;
  if (typeof d.version === 'number' && d.version > HISTORY_FORMAT_VERSION) {
    refuse('version', `is ${d.version}: the file was written by a newer Racebox; this one reads version ${HISTORY_FORMAT_VERSION}`);
  }
  return d;
}

/** Parses and validates an export file without storing anything; throws HistoryValidationError('import', ...). */
export function parseHistoryDocument(text: string): HistoryDocument {
  const doc = readDocument(text);
  const r = check(documentCheck, doc);
  if (!r.ok) throw new HistoryValidationError('import', r.errors);
  const errors = crossCheck(r.value);
  if (errors.length > 0) throw new HistoryValidationError('import', errors);
  return r.value;
}

/** Runs (and traces) checked per slice, the event loop served between slices: a large file does not freeze the page. */
const SLICE = 2_000;

const pass: Check<unknown> = (v) => v;

/** The document with its runs and traces left for checkSliced. */
const shellCheck = obj('a Racebox history document', {
  format: literal(HISTORY_FORMAT),
  version: literal(HISTORY_FORMAT_VERSION),
  exportedAt: isoDate,
  runs: pass,
  traces: opt(pass),
  userRigs: arr(rigCheck, LIMITS.userRigs),
  userScenarios: arr(userScenarioCheck, LIMITS.userScenarios),
});

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function checkSliced<T>(item: Check<T>, v: unknown, path: string, max: number, out: Issues): Promise<T[] | typeof BAD> {
  if (!Array.isArray(v)) return out.add(path, `must be an array (got ${show(v)})`), BAD;
  if (v.length > max) return out.add(path, `must have at most ${max} entries (got ${v.length})`), BAD;
  const r = new Array<T>(v.length);
  let ok = true;
  for (let i = 0; i < v.length; i++) {
    if (i > 0 && i % SLICE === 0) await nextTask();
    const x = item(v[i], `${path}[${i}]`, out);
    if (x === BAD) {
      ok = false;
      if (out.full) break;
    } else r[i] = x;
  }
  return ok ? r : BAD;
}

/**
 * parseHistoryDocument for the import itself: the same checks, with the runs and
 * traces checked a slice at a time, so that validating 200,000 runs never blocks
 * the page for long, and before any transaction is open.
 */
export async function parseHistoryDocumentSliced(text: string): Promise<HistoryDocument> {
  const doc = readDocument(text);
  const out = new Issues(20);
  const shell = shellCheck(doc, '', out);
  const runs = out.full || doc.runs === undefined ? BAD : await checkSliced(storedRunCheck, doc.runs, 'runs', LIMITS.runs, out);
  const traces = doc.traces === undefined || out.full ? undefined : await checkSliced(storedTraceCheck, doc.traces, 'traces', LIMITS.runs, out);
  if (shell === BAD || runs === BAD || traces === BAD || !out.ok) {
    throw new HistoryValidationError('import', out.errors.length > 0 ? out.errors : [{ field: '(root)', message: 'is invalid' }]);
  }
  const value: HistoryDocument = {
    format: shell.format,
    version: shell.version,
    exportedAt: shell.exportedAt,
    runs,
    ...(traces !== undefined ? { traces } : {}),
    userRigs: shell.userRigs,
    userScenarios: shell.userScenarios,
  };
  const errors = crossCheck(value);
  if (errors.length > 0) throw new HistoryValidationError('import', errors);
  return value;
}

function crossCheck(d: HistoryDocument): { field: string; message: string }[] {
  const errors: { field: string; message: string }[] = [];
  const dup = <T>(items: T[], key: (x: T) => string | number, field: (i: number) => string): Set<string | number> => {
    const seen = new Map<string | number, number>();
    items.forEach((x, i) => {
      const k = key(x);
      const first = seen.get(k);
      if (first !== undefined) errors.push({ field: field(i), message: `duplicates ${field(first)} (${JSON.stringify(k)})` });
      else seen.set(k, i);
    });
    return new Set(seen.keys());
  };
  const runIds = dup(d.runs, (r) => r.id, (i) => `runs[${i}].id`);
  if (d.traces) {
    dup(d.traces, (t) => t.runId, (i) => `traces[${i}].runId`);
    d.traces.forEach((t, i) => {
      if (!runIds.has(t.runId)) errors.push({ field: `traces[${i}].runId`, message: `names run ${t.runId}, which is not in the file` });
    });
  }
  dup(d.userRigs, (r) => r.id, (i) => `userRigs[${i}].id`);
  dup(d.userScenarios, (s) => s.id, (i) => `userScenarios[${i}].id`);
  return errors.slice(0, 20);
}

export interface ImportOptions {
  /** Marks the user scenarios the import adds (the app asks before it runs imported code). */
  origin?: ScenarioOrigin;
}

/**
 * Validates the whole file, then stores it in one transaction (see the collision rules above). On the page's
 * own thread the check is sliced; the app imports in a worker of its own (import.worker.ts), which parses
 * with parseHistoryDocument and stores with storeHistoryDocument.
 */
export async function importHistory(h: History, text: string, options: ImportOptions = {}): Promise<ImportReport> {
  return storeHistoryDocument(h, await parseHistoryDocumentSliced(text), options);
}

/**
 * Stores a document parseHistoryDocument (or its sliced twin) accepted, in one transaction: all of it or,
 * if a write fails (storage full, the connection closed), none of it.
 */
export async function storeHistoryDocument(h: History, doc: HistoryDocument, options: ImportOptions = {}): Promise<ImportReport> {
  const origin = options.origin;
  const report: ImportReport = {
    runs: { added: 0, skipped: 0, renumbered: [] },
    traces: { added: 0, skipped: 0 },
    userRigs: { added: 0, skipped: 0, renamed: [] },
    userScenarios: { added: 0, skipped: 0, renamed: [] },
  };
  await writeTx(h, ['runs', 'runChunks', 'runChunkIndex', 'traces', 'userRigs', 'userScenarios'], async (tx) => {
    const runs = tx.objectStore('runs');
    const chunks = tx.objectStore('runChunks');
    const chunkIndex = tx.objectStore('runChunkIndex');
    const traces = tx.objectStore('traces');
    // Linear in the file and in what is stored: the stored runs an imported run could equal (those sharing a
    // createdAt with it) are read once and keyed by content. (Looking the twins up per run read every run of a
    // shared createdAt once per run: 2,000 runs of one second took 80 s.) The runs are written as chunks
    // (chunks.ts): a few hundred writes for 200,000 runs, where one write per run with its eight index entries
    // took minutes in Chromium.
    const [looseIds, entries] = await Promise.all([runs.getAllKeys(), chunkIndex.getAll()]);
    const storedIds = new Set<number>(looseIds);
    const twins = looseIds.length > 0 ? await storedTwins(runs.index('byTime'), doc.runs) : new Map<string, number>();
    if (entries.length > 0 && doc.runs.length > 0) await importedTwins(chunks, entries, doc.runs, storedIds, twins);
    /** file run id → stored run id, and whether that stored run already existed. */
    const target = new Map<number, { id: number; existed: boolean }>();
    // Runs whose id is free keep it; the others get ids after every id the file keeps and every id ever stored.
    const added: StoredRun[] = [];
    const taken: StoredRun[] = [];
    let maxKept = 0;
    for (const run of doc.runs) {
      // Only runs stored before the import count as the same run: two equal runs in one file are both kept.
      const twin = twins.size > 0 ? twins.get(contentKey(run)) : undefined;
      if (twin !== undefined) {
        target.set(run.id, { id: twin, existed: true });
        report.runs.skipped++;
      } else if (!storedIds.has(run.id)) {
        added.push(run);
        maxKept = Math.max(maxKept, run.id);
        target.set(run.id, { id: run.id, existed: false });
        report.runs.added++;
      } else taken.push(run);
    }
    if (added.length + taken.length > 0) {
      // The key generator of `runs` numbers the runs added one at a time. Its next number (read by adding a
      // placeholder, which no index lists, and deleting it) is above every id ever stored; afterwards it is moved
      // past every id this import stores, so no later run can take one (ids are never reused).
      const next = await runs.add({} as StoredRun);
      await runs.delete(next);
      const first = Math.max(next, maxKept + 1);
      taken.forEach((run, i) => {
        const { id: from, ...rest } = run;
        const to = first + i;
        added.push({ id: to, ...rest });
        target.set(from, { id: to, existed: false });
        report.runs.added++;
        report.runs.renumbered.push({ from, to });
      });
      const top = Math.max(maxKept, first + taken.length - 1);
      if (top > next) {
        await runs.put({ id: top } as StoredRun);
        await runs.delete(top);
      }
      await writeChunks({ chunks, index: chunkIndex }, added);
    }
    const writes: Promise<unknown>[] = [];
    const fileTraces = doc.traces ?? [];
    const storedTrace = await Promise.all(
      fileTraces.map((t) => {
        const to = target.get(t.runId)!;
        return to.existed ? traces.getKey(to.id).then((k) => k !== undefined) : false;
      }),
    );
    for (let i = 0; i < fileTraces.length; i++) {
      const t = fileTraces[i]!;
      if (storedTrace[i]) {
        report.traces.skipped++;
      } else {
        if (writes.length === WRITE_BATCH) await Promise.all(writes.splice(0));
        writes.push(traces.put({ runId: target.get(t.runId)!.id, steps: t.steps }));
        report.traces.added++;
      }
    }
    await Promise.all(writes.splice(0));
    const rigs = tx.objectStore('userRigs');
    const rigIds = new Set(doc.userRigs.map((r) => r.id));
    for (const rig of doc.userRigs) {
      const stored = await rigs.get(rig.id);
      if (stored === undefined) {
        await rigs.add(rig);
        report.userRigs.added++;
      } else if (canonicalJson(stored) === canonicalJson(rig)) {
        report.userRigs.skipped++;
      } else {
        const id = await freshId(rig.id, 64, async (c) => !rigIds.has(c) && (await rigs.getKey(c)) === undefined);
        await rigs.add({ ...rig, id });
        report.userRigs.added++;
        report.userRigs.renamed.push({ from: rig.id, to: id });
      }
    }
    const scenarios = tx.objectStore('userScenarios');
    const scenarioIds = new Set(doc.userScenarios.map((s) => s.id));
    for (const s of doc.userScenarios) {
      const stored = await scenarios.get(s.id);
      if (stored === undefined) {
        await scenarios.add(origin ? { ...s, origin } : s);
        report.userScenarios.added++;
      } else if (stored.title === s.title && stored.source === s.source) {
        report.userScenarios.skipped++;
      } else {
        const id = await freshId(s.id, 128, async (c) => !scenarioIds.has(c) && (await scenarios.getKey(c)) === undefined);
        await scenarios.add({ ...s, id, ...(origin ? { origin } : {}) });
        report.userScenarios.added++;
        report.userScenarios.renamed.push({ from: s.id, to: id });
      }
    }
  }, 'relaxed');
  return report;
}

/** Writes issued before the import waits for them (see importHistory). */
const WRITE_BATCH = 1_000;

/**
 * The imported runs (in chunks) the file's runs could meet, read once: those whose id the file also uses
 * (added to `storedIds`) and those sharing a createdAt with a run of the file (added to `twins`, by content
 * key → the lowest id). Only chunks whose id range or time span overlaps the file's are loaded.
 */
async function importedTwins(
  chunks: { get(id: number): Promise<RunChunk | undefined> },
  entries: readonly RunChunkEntry[],
  fileRuns: readonly StoredRun[],
  storedIds: Set<number>,
  twins: Map<string, number>,
): Promise<void> {
  let idLo = Infinity;
  let idHi = -Infinity;
  let tLo = Infinity;
  let tHi = -Infinity;
  const times = new Set<number>();
  for (const r of fileRuns) {
    idLo = Math.min(idLo, r.id);
    idHi = Math.max(idHi, r.id);
    tLo = Math.min(tLo, r.createdAt);
    tHi = Math.max(tHi, r.createdAt);
    times.add(r.createdAt);
  }
  const near = entries.filter((e) => (e.minId <= idHi && e.maxId >= idLo) || (e.oldest[0] <= tHi && e.newest[0] >= tLo));
  for (const chunk of await Promise.all(near.map((e) => chunks.get(e.id)))) {
    for (const r of chunk?.runs ?? []) {
      storedIds.add(r.id);
      if (!times.has(r.createdAt)) continue;
      const k = contentKey(r);
      const known = twins.get(k);
      if (known === undefined || r.id < known) twins.set(k, r.id);
    }
  }
}

/** The part of the runs store's byTime index that the twin lookup uses. */
interface RunsTimeIndex {
  getAll(range: IDBKeyRange): Promise<StoredRun[]>;
}

/** A run's content without its id: equal keys are the same run. */
function contentKey(run: StoredRun): string {
  return canonicalJson({ ...run, id: 0 });
}

/** Up to this many distinct createdAt values the twins are read per value; beyond, in one range read. */
const TWIN_LOOKUPS = 1_000;

/** Stored runs that share a createdAt with a run of the file, by content key → the lowest such id. */
async function storedTwins(byTime: RunsTimeIndex, fileRuns: readonly StoredRun[]): Promise<Map<string, number>> {
  const times = new Set(fileRuns.map((r) => r.createdAt));
  let groups: StoredRun[][];
  if (times.size <= TWIN_LOOKUPS) {
    groups = await Promise.all([...times].map((t) => byTime.getAll(IDBKeyRange.bound([t], [t, []]))));
  } else {
    // Many seconds: one read of the stored runs from the file's first second to its last, filtered here.
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of times) {
      if (t < lo) lo = t;
      if (t > hi) hi = t;
    }
    groups = [(await byTime.getAll(IDBKeyRange.bound([lo], [hi, []]))).filter((s) => times.has(s.createdAt))];
  }
  const out = new Map<string, number>();
  for (const group of groups) {
    for (const s of group) {
      const k = contentKey(s);
      if (!out.has(k)) out.set(k, s.id);
    }
  }
  return out;
}

/** `<id>-imported`, then `-imported-2`, ...: the first that is free, within `max` characters. */
async function freshId(id: string, max: number, free: (candidate: string) => Promise<boolean>): Promise<string> {
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? '-imported' : `-imported-${n}`;
    const candidate = id.slice(0, max - suffix.length) + suffix;
    if (await free(candidate)) return candidate;
  }
}
