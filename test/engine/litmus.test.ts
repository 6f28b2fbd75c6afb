import { describe, expect, it } from 'vitest';
import { ARCHES, LITMUS_TESTS, type LitmusTest } from '../../src/engine/litmus/catalogue.ts';
import { runLitmus, runLitmusTest, type LitmusReport } from '../../src/engine/litmus/run.ts';

const byName = (name: string): LitmusTest => {
  const t = LITMUS_TESTS.find((x) => x.name === name);
  if (!t) throw new Error(`no litmus test ${name}`);
  return t;
};

describe('the litmus catalogue', () => {
  it('has the classic tests and MP with each fix', () => {
    const names = LITMUS_TESTS.map((t) => t.name);
    for (const n of ['SB', 'SB+fences', 'MP', 'MP+fences', 'MP+rel+acq', 'MP+fence+addr', 'LB', 'S', 'R', '2+2W', 'WRC', 'IRIW', 'ISA2', 'CoRR']) expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives every outcome a verdict for each architecture, and keeps not-explored for arm64 only', () => {
    for (const t of LITMUS_TESTS) {
      expect(Object.keys(t.expected).length, t.name).toBeGreaterThan(0);
      for (const [outcome, v] of Object.entries(t.expected)) {
        expect(['allowed', 'forbidden'], `${t.name} ${outcome} x64`).toContain(v.x64);
        expect(['allowed', 'forbidden', 'not-explored'], `${t.name} ${outcome} arm64`).toContain(v.arm64);
      }
    }
  });

  it('LB\'s and S+fence+po\'s ARM-allowed outcomes are marked as not explored (a store would pass an earlier load)', () => {
    expect(byName('LB').expected['r0=1 r1=1']).toEqual({ x64: 'forbidden', arm64: 'not-explored' });
    expect(byName('S+fence+po').expected['x=2 r0=1']).toEqual({ x64: 'forbidden', arm64: 'not-explored' });
  });
});

// The whole table: every allowed outcome reachable, no forbidden or unexplorable one ever seen, the
// search complete. Before the memory models land the machine is sequentially consistent and the
// weak outcomes (SB on x64; MP, IRIW … on arm64) are missing: this is the test that says so.
for (const arch of ARCHES) {
  describe(`litmus conformance on ${arch}`, () => {
    let report: LitmusReport | undefined;
    const get = (): LitmusReport => (report ??= runLitmus(arch));

    for (const t of LITMUS_TESTS) {
      it(`${t.name}`, { timeout: 300_000 }, () => {
        const r = get().tests.find((x) => x.name === t.name)!;
        expect(r.error, `${t.name} on ${arch}`).toBeUndefined();
        expect(r.complete).toBe(true);
        const wrong = r.rows.filter((row) => !row.ok).map((row) => `${row.outcome}: expected ${row.expected}, ${row.observed ? `seen ${row.count}×` : 'never seen'}`);
        expect(wrong, `${t.name} on ${arch}`).toEqual([]);
        expect(r.conformant).toBe(true);
      });
    }

    it('is conformant as a whole', { timeout: 300_000 }, () => {
      expect(get().conformant).toBe(true);
    });
  });
}

describe('the conformance check itself', () => {
  it('reports a forbidden outcome that appears', () => {
    const sb = byName('SB');
    // r0=1 r1=1 happens on every machine (both stores, then both loads): call it forbidden.
    const wrong: LitmusTest = { ...sb, expected: { ...sb.expected, 'r0=1 r1=1': { x64: 'forbidden', arm64: 'forbidden' } } };
    const r = runLitmusTest(wrong, 'x64');
    const row = r.rows.find((x) => x.outcome === 'r0=1 r1=1')!;
    expect(row.observed).toBe(true);
    expect(row.ok).toBe(false);
    expect(r.conformant).toBe(false);
  });

  it('reports an allowed outcome that never appears', () => {
    const mp = byName('MP+fences');
    // On no machine does MP+fences end in r0=1 r1=0: call it allowed.
    const wrong: LitmusTest = { ...mp, expected: { ...mp.expected, 'r0=1 r1=0': { x64: 'allowed', arm64: 'allowed' } } };
    const r = runLitmusTest(wrong, 'arm64');
    const row = r.rows.find((x) => x.outcome === 'r0=1 r1=0')!;
    expect(row.observed).toBe(false);
    expect(row.ok).toBe(false);
    expect(r.conformant).toBe(false);
  });

  it('reports an outcome the table does not list', () => {
    const mp = byName('MP');
    const { ['r0=1 r1=1']: _dropped, ...rest } = mp.expected;
    const r = runLitmusTest({ ...mp, expected: rest }, 'x64');
    expect(r.rows.find((x) => x.outcome === 'r0=1 r1=1')).toMatchObject({ expected: 'unlisted', observed: true, ok: false });
    expect(r.conformant).toBe(false);
  });

  it('says so when the tree is larger than the cap, instead of answering from part of it', () => {
    const r = runLitmusTest(byName('IRIW'), 'x64', 10);
    expect(r.complete).toBe(false);
    expect(r.executions).toBe(10);
    expect(r.error).toMatch(/did not finish within 10 executions/);
    expect(r.conformant).toBe(false);
  });

  it('explores every interleaving: IRIW has 180 on a sequentially consistent machine (6!/(1!·2!·1!·2!))', () => {
    // The memory models add executions to this tree; they never remove the interleavings.
    expect(runLitmusTest(byName('IRIW'), 'x64').executions).toBeGreaterThanOrEqual(180);
  });
});
