import { describe, expect, it } from 'vitest';
import { ControlledRun } from '../../src/engine/controlled.ts';
import { explore } from '../../src/engine/explore.ts';
import {
  changeKindsFor, describeChange, fenceSearch, involvedLines, orderHookFor, rankSites, routineOf, searchFences, siteKey, siteRecorder, sitesOfFailure,
  type FenceChange, type FenceSite, type FenceVerdict,
} from '../../src/engine/fences.ts';
import { DfsStrategy } from '../../src/engine/strategies/dfs.ts';
import type { TraceStep } from '../../src/engine/trace.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';
import { OP_READ, OP_WRITE } from '../../src/machine/ops.ts';
import { ORDER_ACQUIRE, ORDER_FENCE_BEFORE, ORDER_PLAIN, ORDER_RELEASE, type FenceKind, type MemoryOrder } from '../../src/machine/weak-memory.ts';
import { CHECKED_MP, scn } from '../helpers.ts';

/*
 * The ordering APIs (src/kernel/ordering.ts) arrive from another branch; these scenarios make the
 * same two moves a WriteNoFence / ReadNoFence does (announce with atOrdered, then readOrdered /
 * writeOrdered), written out on their own lines so that each access has a line of its own.
 */
const THIS_FILE = import.meta.filename;

/** Lines of this file holding `marker` (the accesses below are found by their comment). */
function lineOf(marker: string): number {
  const text = (globalThis as { __fencesSource?: string }).__fencesSource ?? '';
  const i = text.split('\n').findIndex((l) => l.includes(marker) && !l.includes('lineOf('));
  if (i < 0) throw new Error(`no line with ${marker}`);
  return i + 1;
}

/** Publish: the writer stores data then ready; the reader reads ready then data (both plain). */
function publish(): ReturnType<typeof scn> {
  return scn<{ data: number; ready: number; seen: number }>({
    setup: (k) => ({ data: k.ExAllocatePool2(0, 4, 'data'), ready: k.ExAllocatePool2(0, 4, 'rdy'), seen: k.ExAllocatePool2(0, 4, 'seen') }),
    actors: {
      writer: {
        *run(k: Kernel, s) {
          const m = k.m;
          yield m.atOrdered(OP_WRITE, s.data, ORDER_PLAIN); m.writeOrdered(s.data, 42); // @data-store
          yield m.atOrdered(OP_WRITE, s.ready, ORDER_PLAIN); m.writeOrdered(s.ready, 1); // @ready-store
        },
      },
      reader: {
        cpu: 1,
        *run(k: Kernel, s) {
          const m = k.m;
          const r = (yield m.atOrdered(OP_READ, s.ready, ORDER_PLAIN), m.readOrdered(s.ready)); // @ready-load
          if (r === 1) {
            const d = (yield m.atOrdered(OP_READ, s.data, ORDER_ACQUIRE), m.readOrdered(s.data)); // @data-load
            m.words[s.seen] = d;
          }
        },
      },
    },
  });
}

/** A lost update: read, then write back one more — no ordering change can fix it. */
function lostUpdate(): ReturnType<typeof scn> {
  return scn<{ n: number }>({
    setup: (k) => ({ n: k.ExAllocatePool2(0, 4, 'n') }),
    actors: Object.fromEntries(['a', 'b'].map((name, cpu) => [name, {
      cpu,
      *run(k: Kernel, s: { n: number }) {
        const m = k.m;
        const v = (yield m.atOrdered(OP_READ, s.n, ORDER_PLAIN), m.readOrdered(s.n)); // @count-load
        yield m.atOrdered(OP_WRITE, s.n, ORDER_PLAIN); m.writeOrdered(s.n, v + 1); // @count-store
      },
    }])),
    invariants: { counted: (s, k) => k.peek(s.n) === 2 || `n = ${k.peek(s.n)}` },
  });
}

async function loadSource(): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  (globalThis as { __fencesSource?: string }).__fencesSource = await readFile(THIS_FILE, 'utf8');
}

function site(over: Partial<FenceSite> & Pick<FenceSite, 'line' | 'op'>): FenceSite {
  return { key: siteKey('f.ts', over.line, over.op), file: 'f.ts', order: ORDER_PLAIN, involved: false, ...over };
}

describe('the order hook', () => {
  it('gives the changed line its stronger order in the memory model, and only that line', async () => {
    await loadSource();
    const s = publish();
    const run = new ControlledRun(CHECKED_MP, s);
    const writes: { addr: number; order: MemoryOrder }[] = [];
    const reads: { addr: number; order: MemoryOrder }[] = [];
    const fences: FenceKind[] = [];
    const weak = run.m.weak;
    const write = weak.write.bind(weak);
    const read = weak.read.bind(weak);
    weak.write = (cpu, addr, value, order, variant) => { writes.push({ addr, order }); write(cpu, addr, value, order, variant); };
    weak.read = (cpu, addr, order, variant) => { reads.push({ addr, order }); return read(cpu, addr, order, variant); };
    weak.fence = (_cpu, kind) => { fences.push(kind); };
    const ready: FenceSite = { key: siteKey(THIS_FILE, lineOf('@ready-store'), 'write'), file: THIS_FILE, line: lineOf('@ready-store'), op: 'write', order: ORDER_PLAIN, involved: false };
    const load: FenceSite = { key: siteKey(THIS_FILE, lineOf('@ready-load'), 'read'), file: THIS_FILE, line: lineOf('@ready-load'), op: 'read', order: ORDER_PLAIN, involved: false };
    run.m.orderHook = orderHookFor([{ site: ready, kind: 'release' }, { site: load, kind: 'acquire' }]);
    const strategy = new DfsStrategy(0);
    strategy.newExecution();
    expect(run.execute(strategy).outcome).toBe('pass');
    expect(writes.map((w) => w.order)).toEqual([ORDER_PLAIN, ORDER_RELEASE]);
    expect(reads[0]!.order).toBe(ORDER_ACQUIRE);
    expect(fences).toEqual([]);

    // A full barrier before the data store: the model is asked for a 'full' fence, the store stays plain.
    writes.length = 0;
    const data: FenceSite = { ...ready, key: siteKey(THIS_FILE, lineOf('@data-store'), 'write'), line: lineOf('@data-store') };
    run.m.orderHook = orderHookFor([{ site: data, kind: 'fence' }]);
    strategy.newExecution();
    run.execute(strategy);
    expect(fences).toEqual(['full']);
    expect(writes.map((w) => w.order)).toEqual([ORDER_PLAIN, ORDER_PLAIN]);
  });

  it('the machine passes the hook the op and the announced order, and keeps ORDER_FENCE_BEFORE in the context', () => {
    const s = publish();
    const run = new ControlledRun(CHECKED_MP, s);
    const seen: [number, MemoryOrder][] = [];
    run.m.orderHook = (op, order) => {
      seen.push([op, order]);
      return op === OP_WRITE ? order | ORDER_FENCE_BEFORE : order;
    };
    let fenced = 0;
    run.m.weak.fence = () => { fenced++; };
    const strategy = new DfsStrategy(0);
    strategy.newExecution();
    run.execute(strategy);
    expect(seen).toContainEqual([OP_WRITE, ORDER_PLAIN]);
    expect(seen).toContainEqual([OP_READ, ORDER_PLAIN]);
    expect(seen).toContainEqual([OP_READ, ORDER_ACQUIRE]);
    expect(fenced).toBe(2);
  });
});

describe('sites', () => {
  it('records each ordering-API access of a run by its scenario line, in first-seen order', async () => {
    await loadSource();
    const run = new ControlledRun(CHECKED_MP, publish());
    const { hook, sites } = siteRecorder();
    run.m.orderHook = hook;
    const strategy = new DfsStrategy(0);
    strategy.newExecution();
    run.execute(strategy);
    const list = [...sites.values()];
    expect(list.map((s) => [s.line, s.op, s.order])).toEqual([
      [lineOf('@data-store'), 'write', ORDER_PLAIN],
      [lineOf('@ready-store'), 'write', ORDER_PLAIN],
      [lineOf('@ready-load'), 'read', ORDER_PLAIN],
      [lineOf('@data-load'), 'read', ORDER_ACQUIRE],
    ]);
    expect(list.every((s) => s.file.endsWith('fences.test.ts'))).toBe(true);

    // Where the engine has no structured call sites (not V8), the stack's text gives the same sites.
    const E = Error as unknown as { captureStackTrace?: unknown };
    const capture = E.captureStackTrace;
    const again = siteRecorder();
    E.captureStackTrace = undefined;
    try {
      run.m.orderHook = again.hook;
      const first = new DfsStrategy(0);
      first.newExecution();
      run.execute(first);
    } finally {
      E.captureStackTrace = capture;
    }
    expect([...again.sites.values()]).toEqual(list);
  });

  it('names the routine just below atOrdered, V8 and SpiderMonkey style', () => {
    expect(routineOf('Error\n    at Machine.atOrdered (/x/src/machine/machine.ts:275:5)\n    at Kernel.WriteNoFence64 (/x/src/kernel/ordering.ts:20:9)\n    at run (/x/s.ts:3:1)')).toBe('WriteNoFence64');
    expect(routineOf('atOrdered@http://h/assets/i.js:1:2\nReadAcquire@http://h/assets/i.js:1:9\nrun@racebox-scenario:/s.ts:5:3')).toBe('ReadAcquire');
    expect(routineOf('Error\n    at Machine.atOrdered (m.ts:1:1)\n    at run (s.ts:3:1)')).toBeUndefined();
  });

  it('marks the accesses a reordering involved, and ranks them first', () => {
    const at = (step: number, cpu: number, line: number, extra: object = {}) => ({ step, cpu, what: 'step', source: { file: 'f.ts', line, column: 1 }, ...extra });
    const trace = [
      at(1, 0, 7, { buffered: true }), // CPU 0's store, flushed at step 5
      at(2, 1, 30), // another CPU: not in the window
      at(3, 0, 8), // overtook the buffered store
      { step: 5, cpu: 0, what: 'flush', storedAt: 1 },
      at(6, 0, 9), // after the flush
      at(7, 0, 20), // the store CPU 1 misses below
      at(8, 0, 21), // the writer's later store
      at(9, 1, 22), // the reader's earlier read (the newer value it followed)
      at(10, 1, 23, { stale: { newest: 1, newestStep: 7, newestCpu: 0 } }),
      at(11, 1, 24),
    ] as unknown as TraceStep[];
    expect([...involvedLines(trace)].sort()).toEqual(['f.ts:20', 'f.ts:21', 'f.ts:22', 'f.ts:23', 'f.ts:7', 'f.ts:8']);
    const ranked = rankSites([site({ line: 1, op: 'read' }), site({ line: 2, op: 'write', involved: true })]);
    expect(ranked.map((s) => s.line)).toEqual([2, 1]);
  });

  it('offers release/acquire before a full barrier, and only a barrier to an access already ordered', () => {
    expect(changeKindsFor({ op: 'write', order: ORDER_PLAIN })).toEqual(['release', 'fence']);
    expect(changeKindsFor({ op: 'read', order: ORDER_PLAIN })).toEqual(['acquire', 'fence']);
    expect(changeKindsFor({ op: 'read', order: ORDER_ACQUIRE })).toEqual(['fence']);
    expect(describeChange({ site: site({ line: 1, op: 'write', routine: 'WriteNoFence64' }), kind: 'release' })).toBe('→ WriteRelease64');
    expect(describeChange({ site: site({ line: 1, op: 'read', routine: 'ReadPointerNoFence' }), kind: 'acquire' })).toBe('→ ReadPointerAcquire');
    expect(describeChange({ site: site({ line: 1, op: 'read' }), kind: 'acquire' })).toBe('→ ReadAcquire');
    expect(describeChange({ site: site({ line: 1, op: 'read' }), kind: 'fence' })).toMatch(/KeMemoryBarrier/);
  });
});

describe('the search loop', () => {
  const a = site({ line: 10, op: 'write' });
  const b = site({ line: 20, op: 'read' });
  const c = site({ line: 30, op: 'write' });
  const key = (cs: FenceChange[]): string => cs.map((x) => `${x.site.line}:${x.kind}`).join(' ');

  it('tries single changes, weakest first, before any pair, and stops at the first size with a fix', () => {
    const tried: string[] = [];
    const verify = (cs: FenceChange[]): FenceVerdict => {
      tried.push(key(cs));
      return { clean: key(cs) === '20:fence', schedules: 300 };
    };
    const r = searchFences([a, b, c], verify, { maxChanges: 3 });
    expect(tried).toEqual(['10:release', '10:fence', '20:acquire', '20:fence', '30:release', '30:fence']);
    expect(r.suggestions).toEqual([{ changes: [{ site: b, kind: 'fence' }], verifiedSchedules: 300 }]);
    expect(r.size).toBe(1);
  });

  it('finds a pair (release + acquire before any barrier) and skips supersets of a fix', () => {
    const tried: string[] = [];
    const fixes = new Set(['10:release 20:acquire', '10:fence 30:release', '20:acquire 30:release']);
    const verify = (cs: FenceChange[]): FenceVerdict => {
      tried.push(key(cs));
      return { clean: fixes.has(key(cs)), schedules: 900 };
    };
    const r = searchFences([a, b, c], verify, { maxChanges: 3 });
    // found in this order: {a,b}, {a,c}, {b,c}; shown weakest first
    expect(r.suggestions.map((s) => key(s.changes))).toEqual(['10:release 20:acquire', '20:acquire 30:release', '10:fence 30:release']);
    // {a, b}: the weakest assignment fixed it, so its stronger ones were not tried
    expect(tried.filter((t) => t.startsWith('10:') && t.includes(' 20:'))).toEqual(['10:release 20:acquire']);
    // {a, c}: no barrier first, then one barrier (c's, then a's)
    expect(tried.filter((t) => t.startsWith('10:') && t.includes(' 30:'))).toEqual(['10:release 30:release', '10:release 30:fence', '10:fence 30:release']);
    expect(r.size).toBe(2);
    expect(tried.some((t) => t.split(' ').length === 3)).toBe(false);
  });

  it('says when no set within the bound fixes it', () => {
    let n = 0;
    const r = searchFences([a, b, c], () => ({ clean: false, schedules: ++n }), { maxChanges: 2 });
    expect(r.suggestions).toEqual([]);
    // 3 sites × 2 kinds, then 3 pairs × 4 assignments
    expect(r.tried).toBe(6 + 12);
    expect(r.size).toBe(2);
  });

  it('stops when asked', () => {
    let n = 0;
    const r = searchFences([a, b, c], () => ({ clean: false, schedules: 1 }), { shouldStop: () => ++n > 2 });
    expect(r.stopped).toBe(true);
    expect(r.tried).toBe(2);
  });
});

describe('fenceSearch on a scenario (sequentially consistent machine)', () => {
  it('a failure no ordering change fixes: not-fixed, with the failing run\'s accesses as candidates', async () => {
    await loadSource();
    const s = lostUpdate();
    const r = fenceSearch(CHECKED_MP, s, { budget: 100, seeds: [1, 2], maxChanges: 2 });
    expect(r.result, JSON.stringify(r.failure)).toBe('not-fixed');
    expect(r.failure?.kind).toBe('invariant');
    // (in the order tried: which comes first depends on whether the model buffered the store in the failing run)
    expect(r.sites.map((x) => [x.line, x.op]).sort()).toEqual([[lineOf('@count-load'), 'read'], [lineOf('@count-store'), 'write']].sort());
    expect(r.tried).toBe(4 + 4);
    expect(r.suggestions).toEqual([]);
    // the failing schedule is found again with every change: it is not clean
    const sites = sitesOfFailure(CHECKED_MP, s, r.failure!.schedule);
    expect(sites.map((x) => x.key)).toEqual(r.sites.map((x) => x.key));
  });

  it('a scenario that does not fail: nothing to fix', () => {
    const r = fenceSearch(CHECKED_MP, publish(), { budget: 50, seeds: [1] });
    expect(r.result).toBe('not-failing');
    expect(r.schedulesRun).toBe(explore(CHECKED_MP, publish(), { schedules: 50 }).schedulesRun);
    expect(r.sites).toEqual([]);
  });
});
