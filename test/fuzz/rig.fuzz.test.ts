/**
 * Hostile-input suite: rig files (parseRig). A mutated rig file is either
 * refused with a RigError whose every line names a field and stays short, or
 * accepted only if an independent reading of the rules (the one below, from
 * docs/rigs and src/machine/rig.ts's documented ranges) accepts it too, and the
 * rig has exactly the values the file gave.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COST, DEFAULT_WATCHDOG, parseRig, RigError, type Rig } from '../../src/machine/rig.ts';
import { isCrash, mutateJsonText, pick, report, Rng, thrown } from './mutate.ts';

const RIGS = resolve(import.meta.dirname, '../../rigs');
const FIELDS = ['id', 'title', 'description', 'cores', 'threadsPerCore', 'arch', 'hal', 'build', 'upHalOnAllCpus', 'quantum', 'watchdog', 'memoryWords', 'cost', '$schema'];

const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rules, restated: true when a rig document should be accepted. */
function shouldAccept(doc: unknown): boolean {
  if (!isObj(doc)) return false;
  if (Object.keys(doc).some((k) => !FIELDS.includes(k))) return false;
  if (typeof doc.id !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(doc.id)) return false;
  if (typeof doc.title !== 'string' || doc.title.trim() === '') return false;
  if (doc.description !== undefined && typeof doc.description !== 'string') return false;
  const tpc = doc.threadsPerCore === undefined ? 1 : doc.threadsPerCore;
  if (!isInt(doc.cores, 1, 64) || (tpc !== 1 && tpc !== 2) || (doc.cores as number) * tpc > 64) return false;
  if (doc.arch !== undefined && doc.arch !== 'x64' && doc.arch !== 'arm64') return false;
  if (doc.hal !== 'mp' && doc.hal !== 'up') return false;
  if (doc.build !== 'checked' && doc.build !== 'free') return false;
  if (doc.upHalOnAllCpus !== undefined && typeof doc.upHalOnAllCpus !== 'boolean') return false;
  if (doc.quantum !== undefined && !isInt(doc.quantum, 1, 1_000_000)) return false;
  if (doc.memoryWords !== undefined && !isInt(doc.memoryWords, 1024, 1 << 24)) return false;
  if (doc.watchdog !== undefined) {
    const w = doc.watchdog;
    if (!isObj(w) || Object.keys(w).some((k) => !Object.hasOwn(DEFAULT_WATCHDOG, k))) return false;
    if (w.maxSteps !== undefined && !isInt(w.maxSteps, 100, 100_000_000)) return false;
    if (w.dpcTimeoutSteps !== undefined && !isInt(w.dpcTimeoutSteps, 10, 100_000_000)) return false;
  }
  if (doc.cost !== undefined) {
    const c = doc.cost;
    if (!isObj(c) || Object.entries(c).some(([k, v]) => !Object.hasOwn(DEFAULT_COST, k) || !isInt(v, 0, 1_000_000))) return false;
  }
  return true;
}

/** What the rig must hold for the document it was read from. */
function expectFaithful(rig: Rig, doc: Record<string, unknown>, where: string): void {
  expect(rig.id, where).toBe(doc.id);
  expect(rig.title, where).toBe(doc.title);
  expect(rig.cores, where).toBe(doc.cores);
  expect(rig.arch, where).toBe(doc.arch ?? 'x64');
  expect(rig.threadsPerCore, where).toBe(doc.threadsPerCore === undefined ? 1 : doc.threadsPerCore);
  expect(rig.hal, where).toBe(doc.hal);
  expect(rig.build, where).toBe(doc.build);
  expect(rig.upHalOnAllCpus, where).toBe(doc.upHalOnAllCpus === undefined ? false : doc.upHalOnAllCpus);
  if (doc.quantum !== undefined) expect(rig.quantum, where).toBe(doc.quantum);
  if (doc.memoryWords !== undefined) expect(rig.memoryWords, where).toBe(doc.memoryWords);
  expect(rig.watchdog, where).toEqual({ ...DEFAULT_WATCHDOG, ...(doc.watchdog as object | undefined) });
  expect(rig.cost, where).toEqual({ ...DEFAULT_COST, ...(doc.cost as object | undefined) });
}

describe('fuzz: rig files', () => {
  it('refuses every bad rig naming the field, accepts every valid one, never crashes', () => {
    const rng = new Rng(0x51a);
    const presets = readdirSync(RIGS).filter((f) => f.endsWith('.json')).map((f) => readFileSync(join(RIGS, f), 'utf8'));
    const docs: Record<string, unknown>[] = presets.map((t) => JSON.parse(t) as Record<string, unknown>);
    docs.push(
      { id: 'a', title: 'x', cores: 1, hal: 'up', build: 'free' },
      { id: 'max', title: 'max', cores: 32, threadsPerCore: 2, hal: 'mp', build: 'checked', upHalOnAllCpus: true, quantum: 1_000_000, memoryWords: 1 << 24, watchdog: { maxSteps: 100_000_000, dpcTimeoutSteps: 10 }, cost: { localAccess: 0, lineTransfer: 1_000_000, interlocked: 1, pause: 2, irql: 3 } },
      { $schema: './rig.schema.json', id: '0.9_z-', title: ' t ', description: '', cores: 64, hal: 'up', build: 'checked', upHalOnAllCpus: false, watchdog: {}, cost: {} },
    );
    // Valid files as people save them: the presets as shipped, with a byte-order mark, CRLF, indented or not.
    const valid = [
      ...presets,
      ...presets.map((t) => `\uFEFF${t}`),
      ...presets.map((t) => t.replace(/\n/g, '\r\n')),
      ...docs.map((d) => JSON.stringify(d)),
      ...docs.map((d) => `\uFEFF${JSON.stringify(d, null, 2)}\n`),
    ];
    for (const text of valid) {
      const rig = parseRig(text, 'valid.json');
      expectFaithful(rig, JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>, text.slice(0, 80));
    }

    let refused = 0;
    let accepted = 0;
    const MUTATED = 3000;
    for (let i = 0; i < MUTATED; i++) {
      const text = mutateJsonText(rng, pick(rng, docs));
      let rig: Rig | undefined;
      const e = thrown(() => {
        rig = parseRig(text, 'fuzz.json');
      });
      let doc: unknown;
      const parses = thrown(() => {
        doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      }) === undefined;
      const where = `case ${i}: ${text.slice(0, 160)}`;
      if (e === undefined) {
        expect(parses && shouldAccept(doc), `accepted wrongly, ${where}`).toBe(true);
        expectFaithful(rig!, doc as Record<string, unknown>, where);
        accepted++;
      } else {
        expect(isCrash(e), `crashed (${String(e)}), ${where}`).toBe(false);
        expect(e, where).toBeInstanceOf(RigError);
        expect(parses && shouldAccept(doc), `refused wrongly (${(e as Error).message.slice(0, 200)}), ${where}`).toBe(false);
        const errors = (e as RigError).errors;
        expect(errors.length, where).toBeGreaterThan(0);
        for (const f of errors) {
          expect(f.field.length, where).toBeGreaterThan(0);
          expect(f.field.length, where).toBeLessThanOrEqual(100);
          expect(f.message.length, where).toBeLessThanOrEqual(260);
          const top = f.field.split('.')[0]!;
          expect(FIELDS.includes(top) || f.field === '(json)' || f.field === '(rig)' || f.message === 'is not a rig field', `${where}: field ${f.field}`).toBe(true);
        }
        refused++;
      }
    }
    report('rig files', { mutated: MUTATED, refused, 'accepted (valid by the rules)': accepted, valid: valid.length, crashes: 0 });
  }, 60_000);
});
