/**
 * The browser regression matrix's rows, listed once per Playwright run: the runner lists them
 * (e2e/regress/rows.ts in a child Node process) while it collects the tests and keeps them in a
 * file its worker processes find through the environment, so every process sees the same rows.
 * (A file, not the environment itself: a team's scenarios travel with their source, and one
 * environment variable holds at most 128 KiB on Linux.)
 *   RACEBOX_REGRESS_CONFIG   a team's racebox.config.ts/.json (default: the library); a relative
 *                            path is taken from the folder `npm run regress` was started in
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RowsDoc } from './row.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENV = 'RACEBOX_REGRESS_ROWS_FILE';

/** The config the run was pointed at, as an absolute path (npm run moves to the package's folder; INIT_CWD is where it was started). */
export function regressConfig(): string | undefined {
  const config = process.env.RACEBOX_REGRESS_CONFIG;
  return config ? resolve(process.env.INIT_CWD ?? process.cwd(), config) : undefined;
}

/**
 * Lists the rows of a config (or of the library) in a child Node process with racebox's loader;
 * file paths in the rows (replay commands) are relative to `cwd`.
 */
export function listRows(config: string | undefined, cwd = process.env.INIT_CWD ?? process.cwd()): RowsDoc {
  try {
    const out = execFileSync(process.execPath, ['--import', `${ROOT}bin/register.mjs`, `${ROOT}e2e/regress/rows.ts`, ...(config ? ['--config', config] : [])], {
      // Without a config, the repository root (which has none): the library.
      cwd: config ? cwd : ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 1 << 28,
    });
    return JSON.parse(out) as RowsDoc;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`racebox regress (browser): ${(err.stderr || err.message).trim()}`);
  }
}

/** This run's rows: listed by the runner, read back from its file by every worker. */
export function regressRows(): RowsDoc {
  const cached = process.env[ENV];
  if (cached !== undefined) return JSON.parse(readFileSync(cached, 'utf8')) as RowsDoc;
  const doc = listRows(regressConfig());
  const file = join(mkdtempSync(join(tmpdir(), 'racebox-regress-rows-')), 'rows.json');
  writeFileSync(file, JSON.stringify(doc));
  process.env[ENV] = file;
  return doc;
}
