/**
 * The browser regression matrix's rows, listed once per Playwright run: the runner lists them
 * (e2e/regress/rows.ts in a child Node process) while it collects the tests, and its worker
 * processes inherit them through the environment, so every process sees the same rows.
 *   RACEBOX_REGRESS_CONFIG   a team's racebox.config.ts/.json (default: the library)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RowsDoc } from './row.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENV = 'RACEBOX_REGRESS_ROWS';

export function regressRows(): RowsDoc {
  const cached = process.env[ENV];
  if (cached !== undefined) return JSON.parse(cached) as RowsDoc;
  const config = process.env.RACEBOX_REGRESS_CONFIG;
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--import', `${ROOT}bin/register.mjs`, `${ROOT}e2e/regress/rows.ts`, ...(config ? ['--config', config] : [])], {
      // Without a config, the repository root (which has none): the library.
      cwd: config ? process.cwd() : ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`racebox regress (browser): ${(err.stderr || err.message).trim()}`);
  }
  const doc = JSON.parse(out) as RowsDoc;
  if (doc.notInBrowser.length > 0) {
    throw new Error(
      'racebox regress (browser) runs library scenarios on preset rigs; user scenarios and rig files enter the page ' +
        `through the scenario sandbox's import, which the app does not offer yet. Run these with \`npx racebox regress\` in Node:\n  ${doc.notInBrowser.join('\n  ')}`,
    );
  }
  process.env[ENV] = out;
  return doc;
}
