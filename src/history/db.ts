/**
 * Opening and closing the history, and the two transaction helpers every
 * module uses (they turn quota and closed-connection failures into the
 * errors of errors.ts).
 *
 * Two tabs: when another tab opens a newer schema (or deletes the database),
 * this tab's connection gets `versionchange`: it closes at once (so the other
 * tab's upgrade is not blocked and never sees a half-used connection), marks
 * the handle closed with reason 'versionchange' and calls onVersionChange;
 * every later call throws HistoryClosedError ("reload this page"). A tab whose
 * upgrade waits for an older tab that does not close gets onBlocked, and its
 * open completes once that tab closes.
 */
import { openDB, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { HistoryClosedError, HistoryError, HistoryVersionError, StorageFullError, type ClosedReason } from './errors.ts';
import { DB_NAME, UPGRADES, type RaceboxDB, type UpgradeStep } from './schema.ts';

export interface History {
  readonly db: IDBPDatabase<RaceboxDB>;
  readonly name: string;
  readonly version: number;
  /** null while usable; otherwise why it closed. */
  readonly closed: ClosedReason | null;
}

export interface OpenHistoryOptions {
  /** Database name (default 'racebox'). */
  name?: string;
  /** Another tab upgraded or deleted the database; this handle is now closed. Tell the user to reload. */
  onVersionChange?: () => void;
  /** This tab's upgrade waits for other tabs to close theirs. Tell the user to close other Racebox tabs. */
  onBlocked?: () => void;
  /** The browser closed the connection abnormally (e.g. site data cleared); the handle is now closed. */
  onTerminated?: () => void;
  /** For tests: the upgrade steps (default UPGRADES); the version opened is their count. */
  upgrades?: readonly UpgradeStep[];
}

interface MutableHistory {
  db: IDBPDatabase<RaceboxDB>;
  name: string;
  version: number;
  closed: ClosedReason | null;
}

export async function openHistory(options: OpenHistoryOptions = {}): Promise<History> {
  const name = options.name ?? DB_NAME;
  const steps = options.upgrades ?? UPGRADES;
  const version = steps.length;
  let handle: MutableHistory | undefined;
  let pendingClose: ClosedReason | null = null;
  let upgradeError: unknown;
  const markClosed = (reason: ClosedReason): void => {
    if (handle) handle.closed ??= reason;
    else pendingClose ??= reason;
  };
  let db: IDBPDatabase<RaceboxDB>;
  try {
    db = await openDB<RaceboxDB>(name, version, {
      upgrade(db, oldVersion, _newVersion, tx) {
        // An aborted upgrade surfaces as the rejected open below, not through tx.done.
        tx.done.catch(() => undefined);
        void (async () => {
          for (let v = oldVersion; v < version; v++) await steps[v]!(db, tx);
        })().catch((e: unknown) => {
          upgradeError = e;
          try {
            tx.abort();
          } catch {
            // already finished
          }
        });
      },
      blocked() {
        options.onBlocked?.();
      },
      blocking(_current, _next, event) {
        (event.target as IDBDatabase).close();
        markClosed('versionchange');
        options.onVersionChange?.();
      },
      terminated() {
        markClosed('terminated');
        options.onTerminated?.();
      },
    });
  } catch (e) {
    if (upgradeError !== undefined) throw new HistoryError(`upgrading the history failed; nothing was changed: ${describe(upgradeError)}`);
    if (isNamed(e, 'VersionError')) throw new HistoryVersionError(undefined, version);
    throw e;
  }
  handle = { db, name, version, closed: pendingClose };
  return handle;
}

/** Closes the handle; later calls on it throw HistoryClosedError('closed'). */
export function closeHistory(h: History): void {
  if (h.closed === null) (h as MutableHistory).closed = 'closed';
  h.db.close();
}

type Tx<N extends StoreNames<RaceboxDB>, M extends IDBTransactionMode> = IDBPTransaction<RaceboxDB, N[], M>;

function begin<N extends StoreNames<RaceboxDB>, M extends IDBTransactionMode>(h: History, stores: N[], mode: M, durability?: 'relaxed'): Tx<N, M> {
  if (h.closed !== null) throw new HistoryClosedError(h.closed);
  return durability ? h.db.transaction(stores, mode, { durability }) : h.db.transaction(stores, mode);
}

/** Runs `fn` in one read-only transaction. */
export async function readTx<N extends StoreNames<RaceboxDB>, T>(h: History, stores: N[], fn: (tx: Tx<N, 'readonly'>) => Promise<T>): Promise<T> {
  const tx = begin(h, stores, 'readonly');
  const done = tx.done.catch((e: unknown) => e);
  const result = await fn(tx);
  await done;
  return result;
}

/**
 * Runs `fn` in one read-write transaction: all of it is stored or none of it
 * (an error thrown by `fn` aborts the transaction). A QuotaExceededError, from
 * a request or at commit, becomes StorageFullError.
 */
export async function writeTx<N extends StoreNames<RaceboxDB>, T>(
  h: History,
  stores: N[],
  fn: (tx: Tx<N, 'readwrite'>) => Promise<T>,
  /**
   * 'relaxed': the commit does not wait for the disk to flush (still all or nothing; an OS crash right after
   * may lose the whole transaction). For a bulk import, whose file is still at hand: Chromium writes 200,000
   * runs markedly faster so (measured: 20,000 runs with the paging indexes, 22.6 s strict, 13.3 s relaxed).
   */
  durability?: 'relaxed',
): Promise<T> {
  const tx = begin(h, stores, 'readwrite', durability);
  let failure: unknown;
  const done = tx.done.then(
    () => undefined,
    (e: unknown) => {
      failure ??= e ?? new HistoryError('the write was aborted');
    },
  );
  let result: T;
  try {
    result = await fn(tx);
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // the transaction already ended (a failed request aborts it)
    }
    await done;
    throw await storageError(h, isNamed(failure, 'QuotaExceededError') ? failure : e);
  }
  await done;
  if (failure !== undefined) throw await storageError(h, failure);
  return result;
}

async function storageError(h: History, e: unknown): Promise<unknown> {
  if (!isNamed(e, 'QuotaExceededError')) return e;
  let count: number | undefined;
  try {
    if (h.closed === null) {
      // Runs added one at a time, and the imported ones in chunks (chunks.ts).
      const tx = h.db.transaction(['runs', 'runChunkIndex']);
      const [loose, entries] = await Promise.all([tx.objectStore('runs').count(), tx.objectStore('runChunkIndex').getAll()]);
      count = entries.reduce((n, e) => n + e.count, loose);
    }
  } catch {
    // report without a count
  }
  return new StorageFullError(count, e);
}

export function isNamed(e: unknown, name: string): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === name;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
