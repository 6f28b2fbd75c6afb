import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { preset, runOnce } from '../helpers.ts';
import { cpusRig, fixture, noWorkersLeft, runFree } from './helpers.ts';

// A scenario with `yield` in its id, description, invariant names and strings runs the same under
// the controlled engine, free-run with generators and free-run with plain-function twins.
const FILE = fixture('yield-words');
const MESSAGE = '2 x yield in "yield 100 yield* 5"';

describe('the word yield survives twinning', () => {
  it('the twin module has the same id, description and invariant names as the generator module', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const url = pathToFileURL(FILE).href;
    const show = `const show = (m) => JSON.stringify({ id: m.default.id, description: m.default.description, invariants: Object.keys(m.default.invariants), actors: Object.keys(m.default.actors) });
      console.log(show(await import(${JSON.stringify(url)})));
      console.log(show(await import(${JSON.stringify(`${url}?twin`)})));`;
    const out = execFileSync(process.execPath, ['--import', './bin/register.mjs', '--input-type=module', '-e', show], { cwd: root, encoding: 'utf8' });
    const [plain, twin] = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(plain).toEqual({
      id: 'free-test/yield-test',
      description: 'Each thread does yield* k.X() and `yield` twice per round; the word yield must survive twinning.',
      invariants: ['every yield* counted', 'yield stays a word'],
      actors: ['yielder', 'yield-too'],
    });
    expect(twin).toEqual(plain);
  }, 30_000);

  it('under the controlled engine', async () => {
    const { default: scenario } = await import('./fixtures/yield-words.ts');
    const e = runOnce(preset('dual-opteron-240'), scenario);
    expect(e.outcome, e.failure?.message).toBe('invariant');
    expect(e.failure?.invariant).toBe('yield stays a word');
    expect(e.failure?.message).toContain(MESSAGE);
  });

  for (const mode of ['auto', 'generators'] as const) {
    it(`under free-run (${mode === 'auto' ? 'plain-function twins' : 'generators'})`, async () => {
      const r = await runFree(cpusRig(2), FILE, { iterations: 20, mode, stallMs: 10_000 });
      expect(r.outcome, r.failure?.message).toBe('invariant');
      expect(r.failure?.invariant).toBe('yield stays a word');
      expect(r.failure?.message).toContain(MESSAGE);
      expect(r.cpus.map((c) => c.mode)).toEqual(mode === 'auto' ? ['twin', 'twin'] : ['generators', 'generators']);
      expect(await noWorkersLeft()).toBe(0);
    }, 60_000);
  }
});
