/** One row of the browser regression matrix, as e2e/regress/rows.ts prints it. */
import type { MatrixRow } from '../../src/scenario/matrix.ts';

export interface BrowserRow extends MatrixRow {
  /** How `racebox replay` names the rig (a preset's id). */
  rigRef: string;
}

export interface RowsDoc {
  config?: string;
  rows: BrowserRow[];
  /** Scenario files that did not load: bad input, reported before any browser starts. */
  broken: string[];
  /** Rows the app cannot run yet (user scenarios and rig files need the sandbox's import path). */
  notInBrowser: string[];
}

/** What a row's test reports (the JSON summary reporter collects one per row). */
export interface RowResult {
  scenario: string;
  rig: string;
  expected: string;
  observed: string;
  ok: boolean;
  strategy: string;
  seeds: number;
  schedulesRun: number;
  ms: number;
  schedule?: string;
  replayLink?: string;
}

export const ROW_ATTACHMENT = 'racebox-row';
