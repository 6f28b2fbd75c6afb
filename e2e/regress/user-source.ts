/**
 * A team's scenario file as the page receives it. The page takes one module per scenario, whose
 * only import is 'racebox' (the sandbox evaluates it with nothing else to import). A file that
 * imports nothing else goes as it is, so the lines a failure points at are the file's own; one
 * that imports helpers (relative imports, or packages) is bundled with them into one module first,
 * 'racebox' left as an import — what a user would paste into the editor by hand.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { rolldown } from 'rolldown';
import type { Scenario } from '../../src/scenario/define.ts';
import { scenarioImports } from '../../src/scenario/load-source.ts';
import type { UserScenarioDoc } from './row.ts';

export async function userScenarioDoc(s: Pick<Scenario, 'id' | 'title'>, file: string): Promise<UserScenarioDoc> {
  const shownFile = relative(process.cwd(), file) || file;
  const base = { id: s.id, title: s.title, file: shownFile };
  const source = await readFile(file, 'utf8');
  if (scenarioImports(source, file).every((x) => x === 'racebox')) return { ...base, source, bundled: [] };
  try {
    const bundle = await rolldown({ input: file, external: ['racebox'], logLevel: 'silent', treeshake: false });
    try {
      const { output } = await bundle.generate({ format: 'esm' });
      const chunk = output[0];
      const outside = scenarioImports(chunk.code, 'bundle.js').filter((x) => x !== 'racebox');
      if (output.length !== 1 || outside.length > 0) {
        return { ...base, source: '', bundled: [], refused: `${shownFile} imports ${outside.map((x) => `'${x}'`).join(', ') || 'modules loaded at run time'}, which the browser's scenario sandbox cannot load (it takes one module whose only import is 'racebox')` };
      }
      const bundled = chunk.moduleIds.filter((m) => m !== file && !m.startsWith('\0')).map((m) => relative(process.cwd(), m));
      return { ...base, source: chunk.code, bundled };
    } finally {
      await bundle.close();
    }
  } catch (e) {
    return { ...base, source: '', bundled: [], refused: `${shownFile} and its helpers could not be bundled into one module for the browser: ${buildError(e)}` };
  }
}

/** The bundler's first error, without its "Build failed with N errors:" heading. */
function buildError(e: unknown): string {
  const lines = String((e as Error)?.message ?? e).replace(/\x1b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/^Build failed with \d+ errors?:?$/.test(l));
  return (lines[0] ?? 'unknown error').replace(/^\[[A-Z_]+\]\s*/, '');
}
