/**
 * A team's scenario file as the browser regression matrix hands it to the page
 * (e2e/regress/user-source.ts): as it is when it imports only 'racebox', bundled with its helpers
 * into one module the sandbox's loader accepts when it imports more, and refused with a reason
 * naming the file when it cannot be made one module.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { userScenarioDoc } from '../../e2e/regress/user-source.ts';
import { scenarioImports } from '../../src/scenario/load-source.ts';
import { scenarioFromSource } from '../../src/workers/scenario-source.ts';
import { ROOT } from '../../src/workers/node-load.ts';

const TEAM = join(ROOT, 'e2e/regress/fixtures/team/race');

describe('a team scenario for the page', () => {
  it('goes as it is when it imports only racebox', async () => {
    const file = join(TEAM, 'lost-update.ts');
    const doc = await userScenarioDoc({ id: 'team/lost-update', title: 'T' }, file);
    expect(doc).toEqual({ id: 'team/lost-update', title: 'T', file: relative(process.cwd(), file), source: readFileSync(file, 'utf8'), bundled: [] });
  });

  it('is bundled with its helper (which imports a value from racebox) into one module the sandbox loads', async () => {
    const doc = await userScenarioDoc({ id: 'team/locked-counter', title: 'T' }, join(TEAM, 'locked-counter.ts'));
    expect(doc.refused).toBeUndefined();
    expect(doc.bundled).toEqual([relative(process.cwd(), join(TEAM, 'lib/counter.ts'))]);
    expect(scenarioImports(doc.source, 'bundle.js')).toEqual(['racebox']);
    expect(doc.source).toContain('function* BumpLocked');
    const s = scenarioFromSource(doc.source, 'team_locked-counter.ts');
    expect(s.id).toBe('team/locked-counter');
    expect(Object.keys(s.invariants ?? {})).toEqual(['no lost update', 'every bump succeeded']);
  });

  it('is refused, naming the file, when a helper is missing or a package cannot be resolved', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'racebox-user-source-'));
    const body = "export default defineScenario({ id: 'x/y', title: 'Y', family: 'x', description: '', setup: () => ({}), actors: {}, expect: 'pass' });";
    writeFileSync(join(dir, 'missing.ts'), `import { defineScenario } from 'racebox';\nimport { h } from './nowhere.ts';\nvoid h;\n${body}\n`);
    writeFileSync(join(dir, 'package.ts'), `import { defineScenario } from 'racebox';\nimport pad from 'no-such-package-racebox';\nvoid pad;\n${body}\n`);
    const reasons: Record<string, string> = {
      'missing.ts': "and its helpers could not be bundled into one module for the browser: Could not resolve './nowhere.ts'",
      'package.ts': "imports 'no-such-package-racebox', which the browser's scenario sandbox cannot load",
    };
    for (const [name, reason] of Object.entries(reasons)) {
      const doc = await userScenarioDoc({ id: 'x/y', title: 'Y' }, join(dir, name));
      expect(doc.source).toBe('');
      expect(doc.refused).toContain(`${relative(process.cwd(), join(dir, name))} ${reason}`);
      expect(doc.refused).not.toContain('\x1b');
    }
  });
});
