/**
 * The IndexedDB schema of the 'racebox' database and its upgrade steps.
 *
 * UPGRADES[i] turns a version-i database into version i+1; opening at version
 * N runs every step from the stored version up to N, in order, inside the one
 * versionchange transaction, so a step that throws aborts the whole upgrade
 * and the stored data stays as it was. A shipped step is never edited: v2 is a
 * new function appended to UPGRADES (and a new fixture in the upgrade test).
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Rig } from '../machine/rig.ts';
import type { OutcomeKind, StoredRun, StoredTrace, UserScenario } from './types.ts';

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

/** Cumulative: the current schema version is UPGRADES.length. */
export const UPGRADES: readonly UpgradeStep[] = [v1];

export const DB_VERSION = UPGRADES.length;
