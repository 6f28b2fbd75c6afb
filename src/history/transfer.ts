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
import { arr, canonicalJson, check, isRecord, literal, obj, opt, str, type Check } from './check.ts';
import { readTx, writeTx, type History } from './db.ts';
import { HistoryValidationError } from './errors.ts';
import type { StoredRun, StoredTrace, UserScenario } from './types.ts';
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
  return readTx(h, ['runs', 'traces', 'userRigs', 'userScenarios'], async (tx) => {
    const [runs, traces, userRigs, userScenarios] = await Promise.all([
      tx.objectStore('runs').getAll(),
      withTraces ? tx.objectStore('traces').getAll() : undefined,
      tx.objectStore('userRigs').getAll(),
      tx.objectStore('userScenarios').getAll(),
    ]);
    return {
      format: HISTORY_FORMAT,
      version: HISTORY_FORMAT_VERSION,
      exportedAt,
      // The key generator appends `id` to a new run; put it first, as import does.
      runs: runs.map((r) => Object.assign({ id: r.id }, r)),
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

/** Parses and validates an export file without storing anything; throws HistoryValidationError('import', ...). */
export function parseHistoryDocument(text: string): HistoryDocument {
  const refuse = (field: string, message: string): never => {
    throw new HistoryValidationError('import', [{ field, message }]);
  };
  if (typeof text !== 'string') refuse('(file)', 'must be text');
  if (text.length > LIMITS.importChars) refuse('(file)', `is too large (${text.length} characters; at most ${LIMITS.importChars})`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    refuse('(file)', `is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(doc) || doc.format !== HISTORY_FORMAT) refuse('format', `must be "${HISTORY_FORMAT}" (this is not a Racebox history export)`);
  const d = doc as Record<string, unknown>;
  if (typeof d.version === 'number' && d.version > HISTORY_FORMAT_VERSION) {
    refuse('version', `is ${d.version}: the file was written by a newer Racebox; this one reads version ${HISTORY_FORMAT_VERSION}`);
  }
  const r = check(documentCheck, doc);
  if (!r.ok) throw new HistoryValidationError('import', r.errors);
  const errors = crossCheck(r.value);
  if (errors.length > 0) throw new HistoryValidationError('import', errors);
  return r.value;
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

/** Validates the whole file, then stores it in one transaction (see the collision rules above). */
export async function importHistory(h: History, text: string): Promise<ImportReport> {
  const doc = parseHistoryDocument(text);
  const report: ImportReport = {
    runs: { added: 0, skipped: 0, renumbered: [] },
    traces: { added: 0, skipped: 0 },
    userRigs: { added: 0, skipped: 0, renamed: [] },
    userScenarios: { added: 0, skipped: 0, renamed: [] },
  };
  await writeTx(h, ['runs', 'traces', 'userRigs', 'userScenarios'], async (tx) => {
    const runs = tx.objectStore('runs');
    const traces = tx.objectStore('traces');
    /** file run id → stored run id, and whether that stored run already existed. */
    const target = new Map<number, { id: number; existed: boolean }>();
    // Runs whose id is free keep it; the others are added after them, so a new id never takes one a later run needs.
    const taken: StoredRun[] = [];
    /** Runs this import added: two equal runs in one file are both kept. */
    const added = new Set<number>();
    for (const run of doc.runs) {
      const same = await runs.index('byTime').getAll(IDBKeyRange.bound([run.createdAt], [run.createdAt, []]));
      const key = canonicalJson({ ...run, id: 0 });
      const twin = same.find((s) => !added.has(s.id) && canonicalJson({ ...s, id: 0 }) === key);
      if (twin) {
        target.set(run.id, { id: twin.id, existed: true });
        report.runs.skipped++;
      } else if ((await runs.getKey(run.id)) === undefined) {
        await runs.add(run);
        added.add(run.id);
        target.set(run.id, { id: run.id, existed: false });
        report.runs.added++;
      } else taken.push(run);
    }
    for (const run of taken) {
      const { id: _taken, ...rest } = run;
      const id = await runs.add(rest as StoredRun);
      target.set(run.id, { id, existed: false });
      report.runs.added++;
      report.runs.renumbered.push({ from: run.id, to: id });
    }
    for (const t of doc.traces ?? []) {
      const to = target.get(t.runId)!;
      if (to.existed && (await traces.getKey(to.id)) !== undefined) {
        report.traces.skipped++;
      } else {
        await traces.put({ runId: to.id, steps: t.steps });
        report.traces.added++;
      }
    }
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
        await scenarios.add(s);
        report.userScenarios.added++;
      } else if (stored.title === s.title && stored.source === s.source) {
        report.userScenarios.skipped++;
      } else {
        const id = await freshId(s.id, 128, async (c) => !scenarioIds.has(c) && (await scenarios.getKey(c)) === undefined);
        await scenarios.add({ ...s, id });
        report.userScenarios.added++;
        report.userScenarios.renamed.push({ from: s.id, to: id });
      }
    }
  });
  return report;
}

/** `<id>-imported`, then `-imported-2`, ...: the first that is free, within `max` characters. */
async function freshId(id: string, max: number, free: (candidate: string) => Promise<boolean>): Promise<string> {
  for (let n = 1; ; n++) {
    const suffix = n === 1 ? '-imported' : `-imported-${n}`;
    const candidate = id.slice(0, max - suffix.length) + suffix;
    if (await free(candidate)) return candidate;
  }
}
