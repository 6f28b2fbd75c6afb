import { describe, expect, it } from 'vitest';
import type { TraceStep } from '../../engine/trace.ts';
import { evaluateModule, locateScenarioError, transpileScenario } from '../../scenario/load-source.ts';
import { toChromeTrace } from './chrome-trace.ts';
import { int } from './format.ts';
import { describeMissBound, pctMissBound } from './pct-bound.ts';
import { buildTimeline, idleCpusAtEnd } from './trace-model.ts';
import { linkProblems, parseLink, replayLink } from './url.ts';

const step = (i: number, cpu: number, over: Partial<TraceStep> = {}): TraceStep => ({
  step: i, cpu, what: 'step', context: `t${cpu}`, kind: 'thread', op: 'read', routine: `t${cpu}`, irql: 0, ...over,
});

describe('timeline model', () => {
  const trace: TraceStep[] = [
    step(0, 0, { op: 'irql', routine: 'KeAcquireSpinLock', address: 'lock' }),
    step(1, 0, { op: 'rmw', routine: 'KeAcquireSpinLock', address: 'lock', irql: 2 }),
    step(2, 1, { op: 'rmw', routine: 'KeAcquireSpinLock', address: 'lock' }),
    step(3, 0, { op: 'write', routine: 't0', address: 'data', irql: 2 }),
    step(4, 0, { op: 'write', routine: 'KeReleaseSpinLock', address: 'lock', irql: 2 }),
    { step: 5, cpu: 1, what: 'event', context: 'dpc', kind: 'event', op: 'arrives', routine: '', irql: 0 },
    step(6, 1, { kind: 'dpc', context: 'dpc', routine: 'IoCompleteRequest', irql: 2 }),
  ];
  const m = buildTimeline(trace, 2, true);

  it('infers a lock hold from the acquire RMW to the release write', () => {
    const held = m.locks.filter((h) => h.cpu === 0);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ lock: 'lock', from: 1, to: 5, open: false });
    expect(m.locksAt(3).map((h) => h.lock)).toEqual(['lock']);
    expect(m.locksAt(5).filter((h) => h.cpu === 0)).toEqual([]);
  });

  it('draws exact holds from the held locks a trace records, including a hand-off the holder did not take itself', () => {
    const exact: TraceStep[] = [
      step(0, 0, { op: 'irql', routine: 'KeAcquireSpinLock', address: 'lock' }),
      step(1, 0, { op: 'rmw', routine: 'KeAcquireSpinLock', address: 'lock', irql: 2, held: ['lock'] }),
      // A failed try-acquire: an RMW in an acquire routine that took nothing.
      step(2, 1, { op: 'rmw', routine: 'KeTryToAcquireSpinLockAtDpcLevel', address: 'lock', irql: 2 }),
      step(3, 0, { op: 'write', routine: 'KeReleaseSpinLock', address: 'lock', irql: 2, held: [] }),
      step(4, 1, { op: 'kernel', routine: 'KeWaitForSingleObject', address: 'mutex', held: ['mutex'] }),
    ];
    const e = buildTimeline(exact, 2, false);
    expect(e.locks.map((h) => ({ cpu: h.cpu, lock: h.lock, from: h.from, to: h.to, open: h.open }))).toEqual([
      { cpu: 0, lock: 'lock', from: 1, to: 4, open: false },
      { cpu: 1, lock: 'mutex', from: 4, to: 5, open: true },
    ]);
  });

  it('ends the last slice of a CPU the failure shows idle at its last step, and stretches a busy one to the end', () => {
    const idle = buildTimeline(trace, 2, true, idleCpusAtEnd([{ cpu: 0, thread: null, stack: [] }, { cpu: 1, thread: 't', stack: [{}] }]));
    const last = (mm: typeof m, cpu: number) => mm.slices.filter((x) => x.cpu === cpu).at(-1)!;
    expect(last(idle, 0).to).toBe(5);
    expect(last(m, 0).to).toBe(trace.length);
    expect(last(idle, 1).to).toBe(trace.length);
  });

  it('marks arrivals, IRP calls and the failure, and finds each CPU at a step', () => {
    expect(m.markers.map((x) => x.kind).sort()).toEqual(['arrival', 'failure', 'irp']);
    expect(m.lastOf(1, 4)).toBe(2);
    expect(m.lastOf(0, 6)).toBe(4);
    expect(m.lastOf(1, 1)).toBe(-1);
  });

  it('keeps per-step arrays for drawing runs far longer than the screen is wide', () => {
    expect(Array.from(m.dense[0]!.irql.subarray(0, 5))).toEqual([0, 2, 2, 2, 2]);
    expect(m.dense[1]!.kind[6]).toBe(2);
    expect(m.dense[0]!.locks[3]).toBe(1);
  });

  it('exports Chrome Trace Event JSON that Perfetto reads', () => {
    const t = toChromeTrace(m, { scenario: 's/x', rig: 'r', strategy: 'pct', seed: 1, schedulesRun: 1, steps: 7, elapsedMs: 1, outcome: 'bugcheck' });
    const phases = new Set(t.traceEvents.map((e) => e.ph));
    expect(phases).toEqual(new Set(['M', 'X', 'C', 'i']));
    for (const e of t.traceEvents) {
      expect(typeof e.pid).toBe('number');
      expect(typeof e.tid).toBe('number');
      expect(Number.isFinite(e.ts)).toBe(true);
      if (e.ph === 'X') expect(e.dur).toBeGreaterThan(0);
    }
    expect(JSON.parse(JSON.stringify(t)).traceEvents.length).toBe(t.traceEvents.length);
    // One step is one microsecond, the format's timestamp unit: no display unit that says otherwise.
    expect('displayTimeUnit' in t).toBe(false);
    expect(t.metadata['time-unit']).toBe('1 µs = 1 scheduling step');
  });
});

describe('PCT miss bound', () => {
  it('is (1 - 1/(n k^(d-1)))^N', () => {
    const b = pctMissBound(1000, 2, 10, 2);
    expect(b.perRun).toBeCloseTo(1 / 20);
    expect(b.missed).toBeCloseTo(Math.pow(1 - 1 / 20, 1000), 12);
    expect(b.for95).toBe(Math.ceil(Math.log(0.05) / Math.log(1 - 1 / 20)));
    const said = describeMissBound(b, 1000);
    expect(said).toMatch(/above 99\.9 %.*below 0\.1 %/);
    expect(said).not.toMatch(/at least 100|at most less than/);
    expect(describeMissBound(pctMissBound(60, 2, 10, 2), 60)).toMatch(/at least 95 % probability.*at most 4\.6 %/);
    expect(describeMissBound(pctMissBound(10, 3, 100, 3), 10)).toMatch(/not yet strong evidence/);
  });
});

describe('links', () => {
  it('parses the URL contract and builds replay links', () => {
    expect(parseLink('?rig=dual-opteron-240&scenario=cancel/no-exchange-check&seed=7&strategy=pct&run=1')).toEqual({
      rig: 'dual-opteron-240', scenario: 'cancel/no-exchange-check', seed: 7, strategy: 'pct', run: true, problems: [],
    });
    expect(parseLink('?strategy=bogus&seed=-1').strategy).toBeUndefined();
    expect(parseLink('?scenario=a/b&engine=free&schedules=200&run=1')).toEqual({ scenario: 'a/b', engine: 'free', schedules: 200, run: true, problems: [] });
    expect(parseLink('?engine=fast').engine).toBeUndefined();
    expect(parseLink('?engine=fast').problems).toHaveLength(1);
    expect(parseLink('?strategy=bogus&seed=-1').problems).toHaveLength(2);
    const link = replayLink('http://localhost:4173/?x=1#h', 'r', 'a/b', 'rb2.abc');
    expect(link).toBe('http://localhost:4173/?rig=r&scenario=a%2Fb&schedule=rb2.abc');
    expect(parseLink(new URL(link).search).schedule).toBe('rb2.abc');
  });

  it("checks numeric parameters against the CLI's ranges and names the parameter (issue 14)", () => {
    for (const [query, param, range] of [
      ['depth=999999', 'depth', 'from 1 to 20'],
      ['schedules=1e12', 'schedules', 'from 1 to 1000000000'],
      ['schedules=2000000000', 'schedules', 'from 1 to 1000000000'],
      ['seed=-1', 'seed', 'from 0 to 4294967295'],
      ['seed=4294967296', 'seed', 'from 0 to 4294967295'],
      ['seed=1.5', 'seed', 'from 0 to 4294967295'],
      ['depth=', 'depth', 'from 1 to 20'],
    ] as const) {
      const p = parseLink(`?rig=dual-opteron-240&scenario=spinlock/abba&${query}&run=1`);
      expect(p.problems, query).toHaveLength(1);
      expect(p.problems[0]).toMatch(new RegExp(`^The link's ${param} must be an integer ${range} \\(got `));
      expect(p[param], query).toBeUndefined();
      const all = linkProblems(p, { rig: true, scenario: true });
      expect(all.at(-1)).toMatch(/^Nothing was run/);
    }
    expect(parseLink('?seed=4294967295&depth=20&schedules=1000000000').problems).toEqual([]);
    expect(parseLink('?seed=0&depth=1&schedules=1')).toMatchObject({ seed: 0, depth: 1, schedules: 1 });
  });

  it('a link naming an unknown rig or scenario runs nothing and says what was not found (issue 14)', () => {
    const p = parseLink('?rig=dual-opteron-240&scenario=user/not-here&run=1');
    expect(p.problems).toEqual([]);
    const probs = linkProblems(p, { rig: true, scenario: false });
    expect(probs[0]).toMatch(/scenario "user\/not-here", which is neither in the library nor one of your scenarios/);
    expect(probs.at(-1)).toMatch(/^Nothing was run/);
    expect(linkProblems(parseLink('?rig=nope&scenario=spinlock/abba&schedule=rb1.x'), { rig: false, scenario: true })[0]).toMatch(/rig "nope"/);
    expect(linkProblems(p, { rig: true, scenario: true })).toEqual([]);
    // A 3 MB id is echoed cut short.
    const long = parseLink(`?scenario=${'x'.repeat(3_000_000)}&run=1`);
    expect(long.problems[0]!.length).toBeLessThan(200);
    expect(long.scenario).toBeUndefined();
  });

  it('formats integers without Intl', () => {
    expect(int(1234567)).toBe('1,234,567');
    expect(int(-1000)).toBe('-1,000');
    expect(int(12)).toBe('12');
  });
});

describe('transpile (user scenarios)', () => {
  it('points a syntax error at its line', () => {
    const r = transpileScenario("import { defineScenario } from 'racebox';\n\nconst = 1;\n");
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]).toMatchObject({ line: 3, source: 'syntax' });
  });

  it('refuses imports other than racebox, and evaluates with racebox only', () => {
    const bad = transpileScenario("import fs from 'node:fs';\nexport default 1;\n");
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics[0]).toMatchObject({ line: 1 });
    const good = transpileScenario("import { x } from 'racebox';\nconst y: number = x + 1;\nexport default y;\n");
    expect(good.ok).toBe(true);
    expect(evaluateModule(good.code, { racebox: { x: 41 } }).default).toBe(42);
  });

  it('locates defineScenario errors at the field or actor they name', () => {
    const src = "export default defineScenario({\n  id: 'Bad',\n  title: 't',\n  actors: {\n    writer: { run() {} },\n  },\n});\n";
    expect(locateScenarioError("scenario 'Bad': id must look like 'family/name'", src)).toBe(2);
    expect(locateScenarioError("scenario 'a/b': actor 'writer' needs a generator function run(k, s)", src)).toBe(5);
    expect(locateScenarioError('scenario: title must be a non-empty string', src)).toBe(3);
  });
});
