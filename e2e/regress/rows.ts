/**
 * Prints the regression matrix as JSON, for the Playwright regression project
 * (e2e/regress/playwright.regress.config.ts). It runs in a child Node process with racebox's
 * loader (bin/register.mjs), because scenario files import 'racebox' and Playwright's own
 * TypeScript loader does not resolve that name:
 *   node --import ./bin/register.mjs e2e/regress/rows.ts [--config FILE]
 * Rows come from matrixRows, exactly as `racebox regress` enumerates them. A team's own
 * scenarios come with their source (user-source.ts) and the config's rig files with their
 * definition: the page gets both through a history import, as a colleague's scenario arrives.
 */
import { loadProject, loadScenarios, inLibrary, shown } from '../../src/cli/project.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { resolveOutcome, setupStateOf } from '../../src/engine/setup-state.ts';
import { matrixRows } from '../../src/scenario/matrix.ts';
import type { BrowserRow, RowsDoc } from './row.ts';
import { userScenarioDoc } from './user-source.ts';

const i = process.argv.indexOf('--config');
const configOption = i >= 0 ? process.argv[i + 1] : undefined;

try {
  const project = await loadProject([], process.cwd(), configOption);
  const rigIds = new Set(project.rigs.map((r) => r.id));
  const { scenarios, broken } = await loadScenarios(project.files, rigIds, project.rigs);
  const doc: RowsDoc = {
    ...(project.configFile ? { config: project.configFile } : {}),
    rows: [],
    broken: broken.map((b) => `${shown(b.file)}: ${b.reason}`),
    userScenarios: {},
    userRigs: {},
  };
  for (const { scenario, file } of scenarios) {
    const library = inLibrary(file);
    if (!library) doc.userScenarios[scenario.id] = await userScenarioDoc(scenario, file);
    for (const m of matrixRows([scenario], project.rigs, project.config)) {
      // Rows travel as JSON: an expected bug-check parameter naming an object from setup is resolved here.
      const rig = project.rigs.find((r) => r.id === m.rig)!;
      const expected = resolveOutcome(m.expected, setupStateOf(rig, scenario));
      const row: BrowserRow = { ...m, expected, rigRef: project.rigRefs.get(m.rig) ?? m.rig, scenarioRef: library ? m.scenario : shown(file) };
      doc.rows.push(row);
      if (!presetRig(m.rig)) doc.userRigs[m.rig] ??= project.rigs.find((r) => r.id === m.rig)!;
    }
  }
  process.stdout.write(JSON.stringify(doc));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 2;
}
