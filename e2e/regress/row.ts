/** One row of the browser regression matrix, as e2e/regress/rows.ts prints it. */
import type { Rig } from '../../src/machine/rig.ts';
import type { MatrixRow } from '../../src/scenario/matrix.ts';

export interface BrowserRow extends MatrixRow {
  /** How `racebox replay` names the rig (a preset's id, or the rig file's path). */
  rigRef: string;
  /** How `racebox replay` names the scenario (a library id, or the scenario file's path). */
  scenarioRef: string;
}

/**
 * A scenario of the team's own (not in the library), as the page receives it: in a history file
 * the fixture imports, the way a colleague's scenario arrives (docs/sandbox.md).
 */
export interface UserScenarioDoc {
  id: string;
  title: string;
  /** The scenario file, as the user sees it (relative to the working folder). */
  file: string;
  /** The text the page gets: the file itself, or the file and its helpers bundled into one module. */
  source: string;
  /** The helpers bundled in (relative imports), as the user sees them; none for a single-file scenario. */
  bundled: string[];
  /** Why it cannot go into the page (its rows fail with this message); `source` is then empty. */
  refused?: string;
}

export interface RowsDoc {
  config?: string;
  rows: BrowserRow[];
  /** Scenario files that did not load: bad input, each a failed test of its own. */
  broken: string[];
  /** The team's scenarios by id (library scenarios are opened by id and are not here). */
  userScenarios: Record<string, UserScenarioDoc>;
  /** The config's rig files by id (presets are not here); imported with the scenarios that run on them. */
  userRigs: Record<string, Rig>;
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
