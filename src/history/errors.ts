/**
 * Errors the history layer throws. Each one says what the UI should tell the
 * user; none of them means a stored run was lost.
 */
import type { FieldError } from '../machine/rig.ts';

export class HistoryError extends Error {
  override name = 'HistoryError';
}

/** A write did not fit in the browser's storage quota. The transaction was rolled back: nothing stored was changed. */
export class StorageFullError extends HistoryError {
  override name = 'StorageFullError';
  constructor(
    /** Runs stored when the write failed (undefined if they could not be counted). */
    readonly runCount: number | undefined,
    override readonly cause?: unknown,
  ) {
    super(`storage is full: ${runCount ?? 'some'} runs stored; delete or export some`);
  }
}

export type ClosedReason = 'closed' | 'versionchange' | 'terminated';

/**
 * The handle is closed: by closeHistory, because another tab upgraded (or
 * deleted) the database ('versionchange': reload the page), or because the
 * browser terminated the connection ('terminated': e.g. site data cleared).
 */
export class HistoryClosedError extends HistoryError {
  override name = 'HistoryClosedError';
  constructor(readonly reason: ClosedReason) {
    super(
      reason === 'closed'
        ? 'the history is closed'
        : reason === 'versionchange'
          ? 'the history was upgraded by a newer Racebox in another tab; reload this page'
          : 'the browser closed the history database (was site data cleared?); reload this page',
    );
  }
}

/** The stored database is newer than this code (another tab runs a newer Racebox). */
export class HistoryVersionError extends HistoryError {
  override name = 'HistoryVersionError';
  constructor(readonly storedVersion: number | undefined, readonly supportedVersion: number) {
    super(`the history was written by a newer Racebox (schema ${storedVersion ?? '?'}, this page knows ${supportedVersion}); reload this page`);
  }
}

/**
 * A record (a run, a trace, a scenario, an import file) is malformed. `errors`
 * name the field by path, e.g. `runs[3].failure.cpus[0].irql`.
 */
export class HistoryValidationError extends HistoryError {
  override name = 'HistoryValidationError';
  constructor(
    readonly source: string,
    readonly errors: FieldError[],
  ) {
    const shown = errors.slice(0, 3).map((e) => `${e.field}: ${e.message}`).join('; ');
    super(`${source}: ${shown}${errors.length > 3 ? ` (and ${errors.length - 3} more)` : ''}`);
  }
}
