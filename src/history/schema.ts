/**
 * The IndexedDB schema of the 'racebox' database and its upgrade steps.
 *
 * UPGRADES[i] turns a version-i database into version i+1; opening at version
 * N runs every step from the stored version up to N, in order, inside the one
 * versionchange transaction, so a step that throws aborts the whole upgrade
 * and the stored data stays as it was. A shipped step is never edited: a new
 * version is a new function appended to UPGRADES (and a new fixture in the
 * upgrade test).
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Rig } from '../machine/rig.ts';
import type { OutcomeKind, RunChunk, RunChunkEntry, StoredRun, StoredTrace, UserScenario } from './types.ts';

export const DB_NAME = 'racebox';

export interface RaceboxDB extends DBSchema {
  runs: {
    key: number;
    value: StoredRun;
    /** Every index ends in (createdAt, id): a filter is a key-range prefix, newest first is direction 'prev'. */
    indexes: {
      byTime: [number, number];
      byScenario: [string, number, number];
      byRig: [string, number, number];
      byOutcome: [OutcomeKind, number, number];
      byScenarioRig: [string, string, number, number];
      byScenarioOutcome: [string, OutcomeKind, number, number];
      byRigOutcome: [string, OutcomeKind, number, number];
      byScenarioRigOutcome: [string, string, OutcomeKind, number, number];
    };
  };
  traces: { key: number; value: StoredTrace };
  /** v2: imported runs, many to a record (chunks.ts); read back by the same API as `runs`. */
  runChunks: { key: number; value: RunChunk };
  /** v2: one small record per chunk (same key): what is in it, so that a read loads only the chunks it needs. */
  runChunkIndex: { key: number; value: RunChunkEntry };
  userRigs: { key: string; value: Rig };
  userScenarios: { key: string; value: UserScenario };
}

export type RunIndexName = keyof RaceboxDB['runs']['indexes'];

export type UpgradeTransaction = IDBPTransaction<RaceboxDB, StoreNames<RaceboxDB>[], 'versionchange'>;

/** Schedules its schema changes (and any data migration through `tx`) on the versionchange transaction. */
export type UpgradeStep = (db: IDBPDatabase<RaceboxDB>, tx: UpgradeTransaction) => void | Promise<void>;

/** v0 → v1: the four stores and the paging indexes. */
function v1(db: IDBPDatabase<RaceboxDB>): void {
  const runs = db.createObjectStore('runs', { keyPath: 'id', autoIncrement: true });
  const t = ['createdAt', 'id'];
  runs.createIndex('byTime', t);
  runs.createIndex('byScenario', ['scenario.id', ...t]);
  runs.createIndex('byRig', ['rig.id', ...t]);
  runs.createIndex('byOutcome', ['outcome', ...t]);
  runs.createIndex('byScenarioRig', ['scenario.id', 'rig.id', ...t]);
  runs.createIndex('byScenarioOutcome', ['scenario.id', 'outcome', ...t]);
  runs.createIndex('byRigOutcome', ['rig.id', 'outcome', ...t]);
  runs.createIndex('byScenarioRigOutcome', ['scenario.id', 'rig.id', 'outcome', ...t]);
  db.createObjectStore('traces', { keyPath: 'runId' });
  db.createObjectStore('userRigs', { keyPath: 'id' });
  db.createObjectStore('userScenarios', { keyPath: 'id' });
}

/**
 * v1 → v2: imported runs are stored in chunks (issue 14). Chromium writes a record with its eight paging
 * indexes at about a thousand runs per second, and the index entries are what cost (a store of chunks with
 * per-run multiEntry index keys was no faster); chunks without per-run index entries store tens of thousands
 * of runs per second. Old runs stay where they are: nothing is migrated.
 */
function v2(db: IDBPDatabase<RaceboxDB>): void {
  db.createObjectStore('runChunks', { keyPath: 'id', autoIncrement: true });
  db.createObjectStore('runChunkIndex', { keyPath: 'id' });
}

/** Cumulative: the current schema version is UPGRADES.length. */
export const UPGRADES: readonly UpgradeStep[] = [v1, v2];

export const DB_VERSION = UPGRADES.length;
