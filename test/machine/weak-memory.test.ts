/**
 * The memory models (machine/weak-memory.ts): x86-TSO on x64, the ARMv8 view model on arm64.
 * Small litmus programs run on a Machine directly, every choice the model offers (a store
 * buffered, an older value read, a buffered store made visible) explored exhaustively by a tiny
 * stateless search here, so each test asserts what is reachable and what never is.
 */
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { NOT_BLOCKED, type Thread } from '../../src/machine/cpu.ts';
import { PASSIVE_LEVEL } from '../../src/machine/irql.ts';
import { OP_PAUSE, OP_READ, OP_WAIT, OP_WRITE, type Routine } from '../../src/machine/ops.ts';
import {
  MAX_STALE_AGE, MAX_STALE_READS, ORDER_ACQUIRE, ORDER_FENCE_BEFORE, ORDER_MASK, ORDER_PLAIN, ORDER_RELEASE, STORE_BUFFER_DEPTH,
  VARIANT_BUFFER, VARIANT_DEFAULT, WeakEvents, WeakMemory, type FenceKind, type MemoryOrder,
} from '../../src/machine/weak-memory.ts';
import type { Arch } from '../../src/machine/rig.ts';
import { rig } from '../helpers.ts';

// ---- a scenario's ordering-API accesses, as the kernel's ordering routines will make them ----------

function* rd(m: Machine, a: number, order: MemoryOrder = ORDER_PLAIN): Generator<number, number, void> {
  yield m.atOrdered(OP_READ, a, order);
  return m.readOrdered(a);
}
function* wr(m: Machine, a: number, v: number, order: MemoryOrder = ORDER_PLAIN): Routine<void> {
  yield m.atOrdered(OP_WRITE, a, order);
  m.writeOrdered(a, v);
}
function* fence(m: Machine, kind: FenceKind): Routine<void> {
  yield m.at(OP_PAUSE, 0);
  m.fence(kind);
}
/** A kernel-internal (sequentially consistent) read, as any kernel routine makes. */
function* scRead(m: Machine, a: number): Generator<number, number, void> {
  yield m.at(OP_READ, a);
  return m.read(a);
}

// ---- a stateless exhaustive search over the model's choices ---------------------------------------

type Out = Record<string, number>;
type Choice = { kind: 'step' | 'buffer' | 'stale' | 'flush'; cpu: number; k: number };

interface Litmus<S> {
  arch: Arch;
  setup(m: Machine): S;
  threads: ((m: Machine, s: S, out: Out) => Routine<void>)[];
}

const machines = new Map<string, Machine>();
function machineFor(arch: Arch, cpus: number): Machine {
  const key = `${arch}/${cpus}`;
  let m = machines.get(key);
  if (!m) machines.set(key, (m = new Machine(rig({ id: `weak-${arch}`, arch, cores: cpus }))));
  return m;
}

const flushOut = new Int32Array(STORE_BUFFER_DEPTH);

function choices(m: Machine): Choice[] {
  const out: Choice[] = [];
  for (const cpu of m.online) {
    const c = cpu.index;
    const ctx = cpu.top;
    if (ctx !== undefined && ctx.blockedOn === NOT_BLOCKED) {
      out.push({ kind: 'step', cpu: c, k: 0 });
      const weak = (ctx.order & ORDER_MASK) !== 0;
      if (weak && ctx.op === OP_WRITE && m.weak.canBuffer(c, ctx.opAddr, ctx.order)) out.push({ kind: 'buffer', cpu: c, k: 0 });
      if (weak && ctx.op === OP_READ) {
        const s = m.weak.staleOptions(c, ctx.opAddr, ctx.order);
        for (let k = 1; k <= s; k++) out.push({ kind: 'stale', cpu: c, k });
      }
    }
    const f = m.weak.flushable(c, flushOut, 0);
    for (let i = 0; i < f; i++) out.push({ kind: 'flush', cpu: c, k: flushOut[i]! });
  }
  return out;
}

function perform(m: Machine, ch: Choice): void {
  if (ch.kind === 'flush') m.weak.flush(ch.cpu, ch.k);
  else {
    m.variant = ch.kind === 'buffer' ? VARIANT_BUFFER : ch.kind === 'stale' ? ch.k : VARIANT_DEFAULT;
    m.stepCpu(m.cpus[ch.cpu]!);
    m.variant = VARIANT_DEFAULT;
  }
  m.step++;
}

interface RunResult<S> {
  m: Machine;
  s: S;
  out: Out;
  taken: Choice[];
}

/** One run; `decide` picks among the enabled choices at each decision (index into them). */
function runLitmus<S>(l: Litmus<S>, decide: (n: number, depth: number) => number, events = false): RunResult<S> {
  const m = machineFor(l.arch, Math.max(2, l.threads.length));
  m.reset();
  m.weak.events = events ? new WeakEvents() : null;
  m.cpu = m.cpus[0]!;
  const s = l.setup(m);
  const out: Out = {};
  l.threads.forEach((t, i) => m.createThread(`t${i}`, m.cpus[i]!, PASSIVE_LEVEL, t(m, s, out)));
  // Each thread's first step only runs to its first announcement: taken up front, not a decision.
  for (let i = 0; i < l.threads.length; i++) perform(m, { kind: 'step', cpu: i, k: 0 });
  const taken: Choice[] = [];
  for (let depth = 0; ; depth++) {
    const cs = choices(m);
    if (cs.length === 0) break;
    const ch = cs[cs.length === 1 ? 0 : decide(cs.length, depth)]!;
    taken.push(ch);
    perform(m, ch);
    if (depth > 10_000) throw new Error('litmus run does not end');
  }
  if (m.live !== 0) throw new Error('litmus run stuck');
  return { m, s, out, taken };
}

/** Every run the model allows (depth-first over each decision); calls `visit` on each. */
function exploreAll<S>(l: Litmus<S>, visit: (r: RunResult<S>) => void, limit = 200_000): number {
  const path: { n: number; i: number }[] = [];
  let runs = 0;
  for (;;) {
    let d = 0;
    const r = runLitmus(l, (n) => {
      if (d < path.length) {
        if (path[d]!.n !== n) throw new Error('replay diverged: the model is not deterministic');
        return path[d++]!.i;
      }
      path.push({ n, i: 0 });
      d++;
      return 0;
    });
    visit(r);
    if (++runs > limit) throw new Error('too many runs');
    while (path.length !== 0 && path[path.length - 1]!.i + 1 >= path[path.length - 1]!.n) path.pop();
    if (path.length === 0) return runs;
    path[path.length - 1]!.i++;
  }
}

/** The set of outcomes (out, as "key=value" sorted) every run reaches. */
function outcomes<S>(l: Litmus<S>): Set<string> {
  const set = new Set<string>();
  exploreAll(l, (r) => set.add(key(r.out)));
  return set;
}
function key(out: Out): string {
  return Object.keys(out).sort().map((k) => `${k}=${out[k]}`).join(' ');
}

// ---- litmus programs -----------------------------------------------------------------------------

interface XY { x: number; y: number }
function xy(m: Machine): XY {
  const b = m.memory.alloc(8, 'xy', true);
  return { x: b, y: b + 4 };
}

/**
 * A step of its own before the thread returns. A context's end drains its CPU's buffer (Machine:
 * conservative, so a thread's stores never outlive it), and a routine that returns right after its
 * last read ends in that read's step: without this step a store would be drained before the other
 * CPU could read around it.
 */
function* exit(m: Machine): Routine<void> {
  yield m.at(OP_PAUSE, 0);
}

/** Store buffering: each CPU stores its flag, then reads the other's. */
function sb(arch: Arch, fenced: FenceKind | null, exitStep = true): Litmus<XY> {
  return {
    arch,
    setup: xy,
    threads: [
      function* (m, s, out) {
        yield* wr(m, s.x, 1);
        if (fenced) yield* fence(m, fenced);
        out.r0 = yield* rd(m, s.y);
        if (exitStep) yield* exit(m);
      },
      function* (m, s, out) {
        yield* wr(m, s.y, 1);
        if (fenced) yield* fence(m, fenced);
        out.r1 = yield* rd(m, s.x);
        if (exitStep) yield* exit(m);
      },
    ],
  };
}

interface MpOptions {
  writeFlag?: MemoryOrder;
  readFlag?: MemoryOrder;
  writerFence?: FenceKind;
  readerFence?: FenceKind;
}
/** Message passing: data then flag; the reader reads flag then data. */
function mp(arch: Arch, o: MpOptions = {}): Litmus<XY> {
  return {
    arch,
    setup: xy,
    threads: [
      function* (m, s) {
        yield* wr(m, s.x, 1);
        if (o.writerFence) yield* fence(m, o.writerFence);
        yield* wr(m, s.y, 1, o.writeFlag ?? ORDER_PLAIN);
      },
      function* (m, s, out) {
        out.flag = yield* rd(m, s.y, o.readFlag ?? ORDER_PLAIN);
        if (o.readerFence) yield* fence(m, o.readerFence);
        out.data = yield* rd(m, s.x);
      },
    ],
  };
}

/** Pointer publish: the writer fills an object and publishes a pointer to it; the reader dereferences what it loads. */
function publish(arch: Arch, publishOrder: MemoryOrder): Litmus<{ slot: number; obj: number }> {
  return {
    arch,
    setup: (m) => ({ slot: m.memory.alloc(4, 'slot', true), obj: m.memory.alloc(4, 'obj', true) }),
    threads: [
      function* (m, s) {
        yield* wr(m, s.obj + 1, 42);
        yield* wr(m, s.slot, s.obj, publishOrder);
      },
      function* (m, s, out) {
        const p = yield* rd(m, s.slot);
        out.published = p === 0 ? 0 : 1;
        out.field = p === 0 ? -1 : yield* rd(m, p + 1);
      },
    ],
  };
}

// ---- x64: TSO ------------------------------------------------------------------------------------

describe('x64: x86-TSO store buffers', () => {
  function bare(arch: Arch = 'x64'): { w: WeakMemory; words: Int32Array; woken: number[] } {
    const words = new Int32Array(64);
    const woken: number[] = [];
    const w = new WeakMemory(arch, 2, words, (a) => woken.push(a));
    w.reset();
    w.start();
    return { w, words, woken };
  }

  it('forwards a CPU its own buffered store while the other CPU still reads memory', () => {
    const { w, words, woken } = bare();
    w.write(0, 10, 7, ORDER_PLAIN, VARIANT_BUFFER);
    expect(words[10]).toBe(0);
    expect(w.read(0, 10, ORDER_PLAIN, VARIANT_DEFAULT)).toBe(7);
    expect(w.read(1, 10, ORDER_PLAIN, VARIANT_DEFAULT)).toBe(0);
    expect(woken).toEqual([]);
    w.flush(0, 0);
    expect(words[10]).toBe(7);
    expect(woken).toEqual([10]);
    expect(w.read(1, 10, ORDER_PLAIN, VARIANT_DEFAULT)).toBe(7);
  });

  it('keeps the buffer FIFO: a later store queues behind an older one, and only the oldest may become visible', () => {
    const { w, words } = bare();
    w.write(0, 10, 1, ORDER_PLAIN, VARIANT_BUFFER);
    expect(w.canBuffer(0, 11, ORDER_PLAIN)).toBe(false); // the default buffers it anyway
    w.write(0, 11, 2, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(w.buffered(0)).toBe(2);
    const out = new Int32Array(4);
    expect(w.flushable(0, out, 0)).toBe(1);
    expect(out[0]).toBe(0);
    expect(() => w.flush(0, 1)).toThrow();
    w.flush(0, 0);
    expect([words[10], words[11]]).toEqual([1, 0]);
    w.flush(0, 0);
    expect([words[10], words[11]]).toEqual([1, 2]);
    expect(w.active).toBe(false);
  });

  it('a full buffer makes its oldest store visible first', () => {
    const { w, words } = bare();
    for (let i = 0; i < STORE_BUFFER_DEPTH; i++) w.write(0, 20 + i, i + 1, ORDER_PLAIN, VARIANT_BUFFER);
    expect(words[20]).toBe(0);
    w.write(0, 30, 9, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(w.buffered(0)).toBe(STORE_BUFFER_DEPTH);
    expect(words[20]).toBe(1);
    expect(words[21]).toBe(0);
  });

  it('never offers a stale read, and acquire/release are plain accesses', () => {
    const { w, words } = bare();
    w.write(0, 10, 5, ORDER_RELEASE, VARIANT_BUFFER);
    expect(words[10]).toBe(0);
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(0);
    expect(w.read(0, 12, ORDER_ACQUIRE, VARIANT_DEFAULT)).toBe(0);
    expect(w.buffered(0)).toBe(1); // an acquire does not drain on x64
  });

  it('an SC access and a full fence drain the CPU\'s buffer; store and load fences do not', () => {
    const m = machineFor('x64', 2);
    m.reset();
    m.cpu = m.cpus[0]!;
    const a = m.memory.alloc(4, 'a');
    expect(m.weak.active).toBe(false);
    m.weak.write(0, a, 5, ORDER_PLAIN, VARIANT_BUFFER);
    expect(m.weak.active).toBe(true);
    m.cpu = m.cpus[1]!;
    expect(m.read(a)).toBe(0); // another CPU's SC access does not drain CPU 0
    expect(m.weak.buffered(0)).toBe(1);
    m.cpu = m.cpus[0]!;
    m.xadd(a + 1, 1);
    expect(m.words[a]).toBe(5);
    expect(m.weak.buffered(0)).toBe(0);
    expect(m.weak.active).toBe(false);

    m.weak.write(0, a, 6, ORDER_PLAIN, VARIANT_BUFFER);
    m.fence('store');
    m.fence('load');
    expect(m.weak.buffered(0)).toBe(1);
    m.fence('full');
    expect(m.weak.buffered(0)).toBe(0);
    expect(m.words[a]).toBe(6);
    expect(m.weak.active).toBe(false);
  });

  it('SB: both reads see 0 with a store buffered; never with MFENCE between', () => {
    const weak = outcomes(sb('x64', null));
    expect(weak).toContain('r0=0 r1=0');
    expect(weak).toContain('r0=1 r1=1');
    const fenced = outcomes(sb('x64', 'full'));
    expect(fenced).not.toContain('r0=0 r1=0');
    expect(fenced).toContain('r0=1 r1=0');
  });

  it('a thread whose last read ends it drains its store in that step (so SB needs the exit as a step of its own)', () => {
    expect(outcomes(sb('x64', null, false))).not.toContain('r0=0 r1=0');
  });

  it('MP: TSO never shows the flag without the data', () => {
    const o = outcomes(mp('x64'));
    expect(o).toContain('data=1 flag=1');
    expect(o).toContain('data=0 flag=0');
    expect(o).not.toContain('data=0 flag=1');
  });

  it('a context transition drains: a thread that ends, a DPC delivered over a thread', () => {
    const m = machineFor('x64', 2);
    m.reset();
    const a = m.memory.alloc(4, 'a');
    m.createThread('t', m.cpus[0]!, PASSIVE_LEVEL, (function* () {
      yield* wr(m, a, 1);
      yield* wr(m, a + 1, 2);
    })());
    m.stepCpu(m.cpus[0]!); // to the first announcement
    m.variant = VARIANT_BUFFER;
    m.stepCpu(m.cpus[0]!);
    m.variant = VARIANT_DEFAULT;
    expect(m.weak.buffered(0)).toBe(1);
    expect(m.words[a]).toBe(0);
    m.queueDpc(m.cpus[0]!, 'dpc', 0, function* () {});
    expect(m.weak.buffered(0)).toBe(0);
    expect(m.words[a]).toBe(1);
    m.stepCpu(m.cpus[0]!); // the DPC's routine returns
    m.variant = VARIANT_BUFFER;
    m.stepCpu(m.cpus[0]!); // the thread's second store, buffered, and the thread ends
    m.variant = VARIANT_DEFAULT;
    expect(m.live).toBe(0);
    expect(m.weak.buffered(0)).toBe(0);
    expect(m.words[a + 1]).toBe(2);
  });
});

// ---- arm64 ---------------------------------------------------------------------------------------

describe('arm64: ARMv8 views', () => {
  it('MP: the reader sees the flag and stale data without barriers', () => {
    const o = outcomes(mp('arm64'));
    expect(o).toContain('data=0 flag=1');
    expect(o).toContain('data=1 flag=1');
    expect(o).toContain('data=0 flag=0');
  });

  it('MP with release + acquire: never the flag without the data; either alone is not enough', () => {
    expect(outcomes(mp('arm64', { writeFlag: ORDER_RELEASE, readFlag: ORDER_ACQUIRE }))).not.toContain('data=0 flag=1');
    expect(outcomes(mp('arm64', { writeFlag: ORDER_RELEASE }))).toContain('data=0 flag=1');
    expect(outcomes(mp('arm64', { readFlag: ORDER_ACQUIRE }))).toContain('data=0 flag=1');
  });

  it('MP with a full fence on both sides: forbidden; a fence on one side only is not enough', () => {
    expect(outcomes(mp('arm64', { writerFence: 'full', readerFence: 'full' }))).not.toContain('data=0 flag=1');
    expect(outcomes(mp('arm64', { writerFence: 'store', readerFence: 'load' }))).not.toContain('data=0 flag=1');
    expect(outcomes(mp('arm64', { writerFence: 'full' }))).toContain('data=0 flag=1');
    expect(outcomes(mp('arm64', { readerFence: 'full' }))).toContain('data=0 flag=1');
  });

  it('pointer publish: the address dependency orders the dereference after a release publish, not after a plain one', () => {
    const released = outcomes(publish('arm64', ORDER_RELEASE));
    expect(released).toContain('field=42 published=1');
    expect(released).not.toContain('field=0 published=1');
    const plain = outcomes(publish('arm64', ORDER_PLAIN));
    expect(plain).toContain('field=0 published=1');
  });

  it('SB: allowed without fences, forbidden with a full fence on both sides', () => {
    expect(outcomes(sb('arm64', null))).toContain('r0=0 r1=0');
    const fenced = outcomes(sb('arm64', 'full'));
    expect(fenced).not.toContain('r0=0 r1=0');
    expect(fenced).toContain('r0=1 r1=1');
  });

  it('CoRR: a CPU never reads an older value of an address after a newer one (while stale reads do happen)', () => {
    let stale = 0;
    let runs = 0;
    const l: Litmus<XY> = {
      arch: 'arm64',
      setup: xy,
      threads: [
        function* (m, s) {
          yield* wr(m, s.x, 1);
          yield* wr(m, s.x, 2);
        },
        function* (m, s, out) {
          out.a = yield* rd(m, s.x);
          out.aNewest = m.words[s.x]!;
          out.b = yield* rd(m, s.x);
          out.bNewest = m.words[s.x]!;
          out.c = yield* rd(m, s.x);
        },
      ],
    };
    exploreAll(l, ({ out }) => {
      runs++;
      expect(out.b).toBeGreaterThanOrEqual(out.a!);
      expect(out.c).toBeGreaterThanOrEqual(out.b!);
      if (out.a! < out.aNewest! || out.b! < out.bNewest!) stale++;
    });
    expect(runs).toBeGreaterThan(10);
    expect(stale).toBeGreaterThan(0);
  });

  it('coherence of stores: two buffered stores to one address become visible in program order', () => {
    const words = new Int32Array(64);
    const w = new WeakMemory('arm64', 2, words, () => {});
    w.reset();
    w.start();
    w.write(0, 10, 1, ORDER_PLAIN, VARIANT_BUFFER);
    w.write(0, 11, 5, ORDER_PLAIN, VARIANT_BUFFER);
    expect(w.canBuffer(0, 10, ORDER_PLAIN)).toBe(false); // it must wait behind the older store to 10 anyway
    w.write(0, 10, 2, ORDER_PLAIN, VARIANT_DEFAULT);
    const out = new Int32Array(4);
    const n = w.flushable(0, out, 0);
    expect(Array.from(out.subarray(0, n))).toEqual([0, 1]); // the store to 11 may pass; the second store to 10 may not
    expect(() => w.flush(0, 2)).toThrow();
    w.events = new WeakEvents();
    w.flush(0, 1);
    expect([words[10], words[11]]).toEqual([0, 5]);
    expect(w.events.visible.map((v) => [v.addr, v.overtook.map((o) => o.addr)])).toEqual([[11, [10]]]);
    w.events = null;
    w.flush(0, 0);
    w.flush(0, 0);
    expect(words[10]).toBe(2);
    expect(w.read(1, 10, ORDER_PLAIN, w.staleOptions(1, 10, ORDER_PLAIN))).toBe(0); // the oldest it may still see
  });

  it('a release waits for every older store; later plain stores may pass it; an acquire flushes it first', () => {
    const words = new Int32Array(64);
    const w = new WeakMemory('arm64', 2, words, () => {});
    w.reset();
    w.start();
    w.write(0, 10, 1, ORDER_PLAIN, VARIANT_BUFFER);
    expect(w.canBuffer(0, 11, ORDER_RELEASE)).toBe(false);
    w.write(0, 11, 1, ORDER_RELEASE, VARIANT_DEFAULT);
    w.write(0, 12, 1, ORDER_PLAIN, VARIANT_BUFFER);
    const out = new Int32Array(4);
    const n = w.flushable(0, out, 0);
    expect(Array.from(out.subarray(0, n))).toEqual([0, 2]);
    w.read(0, 20, ORDER_ACQUIRE, VARIANT_DEFAULT);
    expect([words[10], words[11], words[12]]).toEqual([1, 1, 0]);
    expect(w.buffered(0)).toBe(1);
  });

  it('a kernel (SC) access raises the view: no stale read of what was visible at that moment', () => {
    interface S { data: number; z: number }
    const l = (withSc: boolean): Litmus<S> => ({
      arch: 'arm64',
      setup: (m) => ({ data: m.memory.alloc(4, 'data', true), z: m.memory.alloc(4, 'z', true) }),
      threads: [
        function* (m, s) {
          yield* wr(m, s.data, 1);
        },
        function* (m, s, out) {
          if (withSc) yield* scRead(m, s.z);
          else yield* fence(m, 'store'); // a step with no ordering for this CPU's reads
          out.visible = m.words[s.data]!;
          out.r = yield* rd(m, s.data);
        },
      ],
    });
    let staleAfter = 0;
    exploreAll(l(true), ({ out }) => {
      if (out.visible === 1) expect(out.r).toBe(1);
    });
    exploreAll(l(false), ({ out }) => {
      if (out.visible === 1 && out.r === 0) staleAfter++;
    });
    expect(staleAfter).toBeGreaterThan(0);
  });

  it('a thread switched back in sees what was visible then (a wait returns with acquire semantics)', () => {
    const m = machineFor('arm64', 2);
    m.reset();
    m.cpu = m.cpus[0]!;
    const data = m.memory.alloc(4, 'data');
    const out: Out = {};
    const waiter: Thread = m.createThread('waiter', m.cpus[1]!, PASSIVE_LEVEL, (function* () {
      m.cur.thread!.state = 'waiting';
      yield m.at(OP_WAIT, 0);
      out.r = yield* rd(m, data);
    })());
    m.createThread('waker', m.cpus[0]!, PASSIVE_LEVEL, (function* () {
      yield* wr(m, data, 1);
      yield m.at(OP_PAUSE, 0);
      m.readyThread(waiter, 0);
    })());
    const step = (cpu: number): void => perform(m, { kind: 'step', cpu, k: 0 });
    step(1); // the waiter waits
    step(0); // announce the store
    step(0); // data = 1, visible at once
    expect(m.weak.staleOptions(1, data, ORDER_PLAIN)).toBe(1); // CPU 1's view is from before the store
    step(0); // the waker readies the waiter: it is switched in on CPU 1
    step(1); // it resumes and announces its read
    expect(m.weak.staleOptions(1, data, ORDER_PLAIN)).toBe(0);
    step(1);
    expect(out.r).toBe(1);
  });

  it('a thread sees what its creator stored before creating it', () => {
    const m = machineFor('arm64', 2);
    m.reset();
    m.cpu = m.cpus[0]!;
    const data = m.memory.alloc(4, 'data');
    const out: Out = {};
    m.createThread('creator', m.cpus[0]!, PASSIVE_LEVEL, (function* () {
      yield* wr(m, data, 1);
      yield m.at(OP_PAUSE, 0);
      m.createThread('child', m.cpus[1]!, PASSIVE_LEVEL, (function* () {
        out.r = yield* rd(m, data);
      })());
      yield* exit(m);
    })());
    perform(m, { kind: 'step', cpu: 0, k: 0 }); // announce the store
    perform(m, { kind: 'buffer', cpu: 0, k: 0 }); // data = 1, buffered
    expect(m.weak.buffered(0)).toBe(1);
    perform(m, { kind: 'step', cpu: 0, k: 0 }); // the child is created
    expect(m.weak.buffered(0)).toBe(0);
    perform(m, { kind: 'step', cpu: 1, k: 0 }); // the child announces its read
    expect(m.weak.staleOptions(1, data, ORDER_PLAIN)).toBe(0);
    perform(m, { kind: 'step', cpu: 1, k: 0 });
    expect(out.r).toBe(1);
  });

  it('what setup wrote is what every CPU sees from the start', () => {
    const l: Litmus<XY> = {
      arch: 'arm64',
      setup: (m) => {
        const s = xy(m);
        m.write(s.x, 7);
        return s;
      },
      threads: [
        function* (m, s) {
          yield* wr(m, s.y, 1);
        },
        function* (m, s, out) {
          out.x = yield* rd(m, s.x);
        },
      ],
    };
    expect(outcomes(l)).toEqual(new Set(['x=7']));
  });

  it('a stale read is bounded by MAX_STALE_READS older values', () => {
    const words = new Int32Array(64);
    const w = new WeakMemory('arm64', 2, words, () => {});
    w.reset();
    w.start();
    for (let v = 1; v <= MAX_STALE_READS + 3; v++) w.write(0, 10, v, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(MAX_STALE_READS);
    expect(w.staleOptions(1, 10, ORDER_PLAIN | ORDER_FENCE_BEFORE)).toBe(MAX_STALE_READS);
    expect(w.staleOptions(0, 10, ORDER_PLAIN)).toBe(0); // its own newest write: coherence
    expect(w.read(1, 10, ORDER_PLAIN, 2)).toBe(MAX_STALE_READS + 1);
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(2);
    expect(() => w.read(1, 10, ORDER_PLAIN, 3)).toThrow();
  });

  it('a write visible for MAX_STALE_AGE steps is seen by every read: an old value is not offered forever', () => {
    const words = new Int32Array(64);
    const host = { step: 0, memory: { blockAt: () => undefined } };
    const w = new WeakMemory('arm64', 2, words, () => {}, host);
    w.reset();
    w.start();
    w.write(0, 10, 1, ORDER_PLAIN, VARIANT_DEFAULT);
    host.step = MAX_STALE_AGE - 1;
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(1); // still fresh: CPU 1 may read the 0 from before
    expect(w.read(1, 10, ORDER_PLAIN, 1)).toBe(0);
    host.step = MAX_STALE_AGE;
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(0);
    expect(() => w.read(1, 10, ORDER_PLAIN, 1)).toThrow();
    // A newer write is fresh again: the one before it, settled, is the oldest left to read.
    w.write(0, 10, 2, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(1);
    expect(w.read(1, 10, ORDER_PLAIN, 1)).toBe(1);
  });

  it('a word a kernel path wrote behind the model\'s back offers only what memory holds', () => {
    const words = new Int32Array(64);
    const w = new WeakMemory('arm64', 2, words, () => {});
    w.reset();
    w.start();
    w.write(0, 10, 1, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(1);
    words[10] = 99;
    expect(w.staleOptions(1, 10, ORDER_PLAIN)).toBe(0);
    expect(w.read(1, 10, ORDER_PLAIN, 0)).toBe(99);
  });
});

// ---- more litmus shapes, against the published tables (x86-TSO; ARMv8 aarch64.cat) ------------------

interface XYZ { x: number; y: number; z: number }
function xyz(m: Machine): XYZ {
  const b = m.memory.alloc(12, 'xyz', true);
  return { x: b, y: b + 4, z: b + 8 };
}

/** 2+2W: each CPU stores two words in opposite orders; both first stores last in coherence (x=1, y=1 at the end). */
function twoPlusTwoW(arch: Arch, fenced: boolean): Litmus<XY> {
  return {
    arch,
    setup: xy,
    threads: [
      function* (m, s) {
        yield* wr(m, s.x, 1);
        if (fenced) yield* fence(m, 'store');
        yield* wr(m, s.y, 2);
        yield* exit(m);
      },
      function* (m, s) {
        yield* wr(m, s.y, 1);
        if (fenced) yield* fence(m, 'store');
        yield* wr(m, s.x, 2);
        yield* exit(m);
      },
    ],
  };
}
function finalXY<S extends XY>(l: Litmus<S>): Set<string> {
  const set = new Set<string>();
  exploreAll(l, (r) => set.add(`x=${r.m.words[r.s.x]} y=${r.m.words[r.s.y]}`));
  return set;
}

/** WRC: CPU 1 passes on what it read of CPU 0's store; CPU 2 sees CPU 1's store but not CPU 0's. */
function wrc(arch: Arch, ordered: boolean): Litmus<XY> {
  return {
    arch,
    setup: xy,
    threads: [
      function* (m, s) {
        yield* wr(m, s.x, 1);
      },
      function* (m, s, out) {
        out.a = yield* rd(m, s.x);
        yield* wr(m, s.y, 1, ordered ? ORDER_RELEASE : ORDER_PLAIN);
      },
      function* (m, s, out) {
        out.b = yield* rd(m, s.y, ordered ? ORDER_ACQUIRE : ORDER_PLAIN);
        out.c = yield* rd(m, s.x);
      },
    ],
  };
}

/** ISA2: a release/acquire chain through three CPUs. */
function isa2(arch: Arch, ordered: boolean): Litmus<XYZ> {
  return {
    arch,
    setup: xyz,
    threads: [
      function* (m, s) {
        yield* wr(m, s.x, 1);
        yield* wr(m, s.y, 1, ordered ? ORDER_RELEASE : ORDER_PLAIN);
      },
      function* (m, s, out) {
        out.a = yield* rd(m, s.y, ordered ? ORDER_ACQUIRE : ORDER_PLAIN);
        yield* wr(m, s.z, 1, ordered ? ORDER_RELEASE : ORDER_PLAIN);
      },
      function* (m, s, out) {
        out.b = yield* rd(m, s.z, ordered ? ORDER_ACQUIRE : ORDER_PLAIN);
        out.c = yield* rd(m, s.x);
      },
    ],
  };
}

describe('litmus shapes', () => {
  it('2+2W: stores reorder on arm64, not on x64; a store fence forbids it', () => {
    expect(finalXY(twoPlusTwoW('arm64', false))).toContain('x=1 y=1');
    expect(finalXY(twoPlusTwoW('arm64', true))).not.toContain('x=1 y=1');
    const tso = finalXY(twoPlusTwoW('x64', false));
    expect(tso).not.toContain('x=1 y=1');
    expect(tso).toContain('x=2 y=2');
  });

  it('WRC: allowed on arm64 without ordering, forbidden with release/acquire (multi-copy atomic); never on x64', () => {
    expect(outcomes(wrc('arm64', false))).toContain('a=1 b=1 c=0');
    expect(outcomes(wrc('arm64', true))).not.toContain('a=1 b=1 c=0');
    expect(outcomes(wrc('x64', false))).not.toContain('a=1 b=1 c=0');
  });

  it('ISA2: allowed on arm64 without ordering, forbidden along a release/acquire chain', () => {
    expect(outcomes(isa2('arm64', false))).toContain('a=1 b=1 c=0');
    expect(outcomes(isa2('arm64', true))).not.toContain('a=1 b=1 c=0');
  });
});

// ---- both ----------------------------------------------------------------------------------------

describe('both architectures', () => {
  for (const arch of ['x64', 'arm64'] as const) {
    it(`${arch}: no buffered store survives drainAll`, () => {
      const m = machineFor(arch, 2);
      m.reset();
      m.cpu = m.cpus[0]!;
      const a = m.memory.alloc(8, 'a');
      m.weak.start();
      for (let i = 0; i < 3; i++) m.weak.write(0, a + i, i + 1, ORDER_PLAIN, VARIANT_BUFFER);
      m.weak.write(1, a + 4, 9, ORDER_RELEASE, VARIANT_BUFFER);
      m.weak.write(1, a + 5, 8, ORDER_PLAIN, VARIANT_BUFFER);
      expect(m.weak.buffered(0) + m.weak.buffered(1)).toBe(5);
      m.weak.drainAll();
      expect([m.weak.buffered(0), m.weak.buffered(1)]).toEqual([0, 0]);
      expect(Array.from(m.words.subarray(a, a + 6))).toEqual([1, 2, 3, 0, 9, 8]);
      expect(m.weak.active).toBe(arch === 'arm64');
    });

    it(`${arch}: the same choices give the same run, on a fresh machine or one that ran something else first`, () => {
      const l = arch === 'x64' ? sb(arch, null) : mp(arch);
      const record = (): string[] => {
        const seen: string[] = [];
        exploreAll(l, (r) => seen.push(`${key(r.out)} | ${r.taken.map((c) => `${c.kind}${c.cpu}.${c.k}`).join(',')}`));
        return seen;
      };
      const first = record();
      outcomes(publish(arch, ORDER_PLAIN)); // another history on the same machine
      const again = record();
      machines.clear();
      const fresh = record();
      expect(first.length).toBeGreaterThan(5);
      expect(again).toEqual(first);
      expect(fresh).toEqual(first);
    });
  }

  it('records what each step did for the trace: a buffered store, its flush, a stale read and the store it missed', () => {
    const l = mp('arm64');
    const events: string[] = [];
    const m = machineFor('arm64', 2);
    m.reset();
    const ev = new WeakEvents();
    m.weak.events = ev;
    m.cpu = m.cpus[0]!;
    const s = xy(m);
    const out: Out = {};
    m.createThread('w', m.cpus[0]!, PASSIVE_LEVEL, (function* () {
      yield* wr(m, s.x, 1);
      yield* wr(m, s.x, 2);
      yield* wr(m, s.y, 1);
      yield* scRead(m, s.y);
    })());
    m.createThread('r', m.cpus[1]!, PASSIVE_LEVEL, l.threads[1]!(m, s, out));
    const doStep = (ch: Choice): void => {
      ev.clear();
      perform(m, ch);
      if (ev.buffered) events.push(`buffered ${ev.buffered.value}@${ev.buffered.storedAt} cpu${ev.buffered.cpu}`);
      for (const v of ev.visible) {
        events.push(`visible ${v.value}@${v.storedAt} at ${v.visibleAt}${v.overtook.map((o) => ` overtook ${o.value}@${o.storedAt}`).join('')}`);
      }
      if (ev.read) {
        const st = ev.read.stale;
        events.push(`read ${ev.read.value}${ev.read.from ? ` from ${ev.read.from.step}` : ''}${st ? ` stale, newest ${st.newest}@${st.newestStep} cpu${st.newestCpu}` : ''}`);
      }
    };
    doStep({ kind: 'step', cpu: 0, k: 0 }); // 0: announce x=1
    doStep({ kind: 'step', cpu: 0, k: 0 }); // 1: x=1 visible
    doStep({ kind: 'buffer', cpu: 0, k: 0 }); // 2: x=2 buffered
    doStep({ kind: 'step', cpu: 0, k: 0 }); // 3: y=1 visible (passes the buffered x=2)
    doStep({ kind: 'step', cpu: 1, k: 0 }); // 4: announce read of y
    doStep({ kind: 'step', cpu: 1, k: 0 }); // 5: flag = 1
    expect(m.weak.staleOptions(1, s.x, ORDER_PLAIN)).toBe(1);
    doStep({ kind: 'stale', cpu: 1, k: 1 }); // 6: data = 0 (the value before x=1)
    doStep({ kind: 'flush', cpu: 0, k: 0 }); // 7: x=2 visible
    expect(out).toEqual({ flag: 1, data: 0 });
    expect(m.weak.read(0, s.x, ORDER_PLAIN, 0)).toBe(2);
    expect(events).toEqual([
      'buffered 2@2 cpu0',
      'visible 1@3 at 3 overtook 2@2',
      'read 1 from 3',
      'read 0 stale, newest 1@1 cpu0',
      'visible 2@2 at 7',
    ]);
    m.weak.events = null;
  });
});

describe('reset', () => {
  it('a new run starts with no history: nothing of the last run can be read stale', () => {
    const m = machineFor('arm64', 2);
    m.reset();
    m.cpu = m.cpus[0]!;
    const a = m.memory.alloc(4, 'a');
    m.weak.start();
    m.weak.write(0, a, 1, ORDER_PLAIN, VARIANT_DEFAULT);
    m.weak.write(0, a, 2, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(m.weak.staleOptions(1, a, ORDER_PLAIN)).toBe(2);
    m.reset();
    const b = m.memory.alloc(4, 'a');
    expect(b).toBe(a);
    m.weak.start();
    expect(m.weak.staleOptions(1, a, ORDER_PLAIN)).toBe(0);
    m.weak.write(0, a, 5, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(m.weak.staleOptions(1, a, ORDER_PLAIN)).toBe(1);
    expect(m.weak.read(1, a, ORDER_PLAIN, 1)).toBe(0); // the run's initial value, not the last run's 2
  });

  it('x64: the hot path sees active only while a store is buffered', () => {
    const m = machineFor('x64', 2);
    m.reset();
    m.cpu = m.cpus[0]!;
    const a = m.memory.alloc(4, 'a');
    m.weak.start();
    expect(m.weak.active).toBe(false);
    m.weak.write(0, a, 1, ORDER_PLAIN, VARIANT_DEFAULT);
    expect(m.weak.active).toBe(false);
    expect(m.words[a]).toBe(1);
    m.weak.write(1, a, 2, ORDER_PLAIN, VARIANT_BUFFER);
    expect(m.weak.active).toBe(true);
    m.reset();
    expect(m.weak.active).toBe(false);
    expect(m.weak.buffered(1)).toBe(0);
  });
});
