/**
 * Free-run speed: critical sections per second of the seed's three locks —
 * test-and-set (a scenario-level `while (InterlockedExchange(lock, 1))`),
 * test-and-test-and-set (spinlock/ttas: the exchange, then spinning on a plain
 * read) and the in-stack queued spin lock — and of the executive spin lock
 * (KeAcquireSpinLock: a compare-exchange, lock-owner bookkeeping) — taken by one thread
 * per CPU on 1, 2 and 4 CPU workers (bench/fixtures/lock-loop.ts),
 * run as plain-function twins (the default where a CPU has one thread) and as
 * generators stepped per yield, next to
 * a hand-written plain-function loop of the same lock on the same Atomics, in
 * the same number of worker threads, measured in the same run.
 *
 * The free-run figure includes everything the engine does per critical
 * section (generator resumption at every yield, IRQL, lock-owner and
 * Verifier bookkeeping, the per-iteration setup and barriers); the plain loop
 * is the bare lock algorithm.
 *
 * What is the same on both sides: the lock algorithm and its Atomics (for
 * the in-stack queued lock, the KLOCK_QUEUE_HANDLE with OldIrql and the
 * owner/wait bits as Windows keeps it: 11 Atomics per uncontended critical
 * section; a minimal MCS lock, which needs 7, is reported beside it), one
 * thread per CPU worker, the shared host.
 * What differs: an engine iteration ends in two barriers of all CPU workers,
 * the end-of-iteration checks and the next setup, while the plain loop never
 * synchronises. Iterations of 20,000 critical sections (2,000 for the queued
 * lock on 4 CPUs, see csPerIteration) keep that cost a small part of the
 * figure; on an oversubscribed host a barrier waits for every worker to get
 * a core, which a lock loop without barriers never does. Also on an
 * oversubscribed host (the 4-CPU rows on a 2-core machine), a free-run CPU
 * that has spun 256 PAUSEs on one word gives its core away for 50 µs
 * (FreeCpu.noteSpin, like a hypervisor's pause-loop exiting), while the
 * plain loop spins on: there the rows measure that policy as much as the
 * engine's overhead.
 *
 * Engine and plain loop alternate in rounds and each ratio is taken within its
 * round (the host is shared, and its load changes between runs); the rows give
 * medians and the spread of the ratios. Both sides are counted over the same
 * window of each run, after a warm-up in which V8 compiles them (see run()); the
 * ratio of the whole runs, warm-up included, is in each row's note.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { freeRun, type FreeProgress } from '../src/engine/free/run.ts';
import { validateRig, type Rig } from '../src/machine/rig.ts';
import { nodeFreeWorker } from '../src/workers/node-entry.ts';
import { lockLoopRef, type LockKind } from './fixtures/lock-loop.ts';
import type { BenchModule, BenchRow } from './index.ts';
import { median, pct } from './stats.ts';

/**
 * Critical sections per iteration of the lock loop, one thread per CPU. Smaller for the queued lock on 4
 * CPUs: with more spinning workers than host cores its FIFO hand-off convoys (the plain loop too, at a
 * few hundred critical sections per second), and a 20,000-acquisition iteration would take a minute.
 */
function csPerIteration(kind: LockKind, cpus: number): number {
  return kind === 'queued' && cpus === 4 ? 2000 : 20_000;
}

/** The plain-function loops, run in bare worker threads (no TypeScript, no engine). */
const PLAIN_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { sab, slot, kind } = workerData;
const w = new Int32Array(sab);
const STOP = 0, READY = 1, GO = 2, LOCK = 16, CNT = 32, PROGRESS = 128;
const node = 64 + slot * 16; // MCS node: [node] next (index + 1, 0 = none), [node + 1] locked
Atomics.add(w, READY, 1);
while (Atomics.load(w, GO) === 0);
let n = 0;
function tas() { while (Atomics.exchange(w, LOCK, 1) !== 0); const v = Atomics.load(w, CNT); Atomics.store(w, CNT, v + 1); Atomics.store(w, LOCK, 0); }
function ttas() {
  while (Atomics.exchange(w, LOCK, 1) !== 0) { while (Atomics.load(w, LOCK) !== 0); }
  const v = Atomics.load(w, CNT); Atomics.store(w, CNT, v + 1); Atomics.store(w, LOCK, 0);
}
// KeAcquireSpinLock's word operations on a free MP build (src/kernel/spinlock.ts).
function ke() {
  while (Atomics.compareExchange(w, LOCK, 0, 1) !== 0) { while (Atomics.load(w, LOCK) !== 0); }
  const v = Atomics.load(w, CNT); Atomics.store(w, CNT, v + 1); Atomics.store(w, LOCK, 0);
}
function mcs() {
  Atomics.store(w, node, 0); Atomics.store(w, node + 1, 1);
  const pred = Atomics.exchange(w, LOCK, node + 1);
  if (pred !== 0) { Atomics.store(w, pred - 1, node + 1); while (Atomics.load(w, node + 1) !== 0); }
  const v = Atomics.load(w, CNT); Atomics.store(w, CNT, v + 1);
  let next = Atomics.load(w, node);
  if (next === 0) {
    if (Atomics.compareExchange(w, LOCK, node + 1, 0) === node + 1) return;
    while ((next = Atomics.load(w, node)) === 0);
  }
  Atomics.store(w, next - 1 + 1, 0); // the successor node (index next - 1): its locked word
}
// The in-stack queued lock as Windows keeps it, with the Atomics KeAcquireInStackQueuedSpinLock and
// its release do (src/kernel/queued-spinlock.ts on a free MP build): the KLOCK_QUEUE_HANDLE holds
// LockQueue.Next, LockQueue.Lock with the WAIT (1) and OWNER (2) bits, and OldIrql; the IRQL itself is
// a plain variable of this CPU.
let irql = 0;
function inStack() {
  const h = node, old = irql;
  irql = 2;
  Atomics.store(w, h + 2, old);
  Atomics.store(w, h, 0);
  Atomics.store(w, h + 1, LOCK * 4);
  const prev = Atomics.exchange(w, LOCK, h * 4);
  if (prev === 0) Atomics.or(w, h + 1, 2);
  else {
    Atomics.or(w, h + 1, 1);
    Atomics.store(w, (prev >> 2), h * 4);
    while ((Atomics.load(w, h + 1) & 1) !== 0);
  }
  const v = Atomics.load(w, CNT); Atomics.store(w, CNT, v + 1);
  if (w[h + 1] >> 2 !== LOCK) throw new Error('handle does not hold the lock');
  let next = Atomics.load(w, h);
  if (next === 0) {
    if (Atomics.compareExchange(w, LOCK, h * 4, 0) === h * 4) { Atomics.and(w, h + 1, ~2); irql = Atomics.load(w, h + 2); return; }
    while ((next = Atomics.load(w, h)) === 0);
  }
  Atomics.xor(w, (next >> 2) + 1, 3);
  Atomics.store(w, h, 0);
  Atomics.and(w, h + 1, ~2);
  irql = Atomics.load(w, h + 2);
}
const cs = kind === 'tas' ? tas : kind === 'ttas' ? ttas : kind === 'ke' ? ke : kind === 'queued' ? inStack : mcs;
// Progress on a cache line of its own (PROGRESS + slot * 16), for the steady-state window.
const progress = PROGRESS + slot * 16;
while (Atomics.load(w, STOP) === 0) { for (let i = 0; i < 256; i++) cs(); n += 256; Atomics.store(w, progress, n); }
parentPort.postMessage(n);
`;

const LABELS: Record<LockKind, string> = {
  tas: 'test-and-set',
  ttas: 'test-and-test-and-set',
  ke: 'KeAcquireSpinLock',
  queued: 'in-stack queued',
};

/** 'mcs': a minimal MCS lock, fewer Atomics than the in-stack queued lock (reported beside it, not as its reference). */
type PlainKind = LockKind | 'mcs';

/** Words of the plain loop's buffer where each worker publishes its count (PROGRESS + slot * 16). */
const PLAIN_PROGRESS = 128;

/** Critical sections per second: over the whole run, and over the steady-state window [warm, end]. */
interface Rate {
  whole: number;
  steady: number;
}

async function plainLoop(kind: PlainKind, threads: number, seconds: number, warm: number): Promise<Rate> {
  const sab = new SharedArrayBuffer(4096);
  const w = new Int32Array(sab);
  const workers = Array.from({ length: threads }, (_, slot) => new Worker(PLAIN_WORKER, { eval: true, workerData: { sab, slot, kind } }));
  const counts = workers.map((wk) => new Promise<number>((resolve, reject) => wk.once('message', resolve).once('error', reject)));
  while (Atomics.load(w, 1) < threads) await new Promise((r) => setTimeout(r, 5));
  const done = (): number => workers.reduce((sum, _, slot) => sum + Atomics.load(w, PLAIN_PROGRESS + slot * 16), 0);
  const t0 = performance.now();
  Atomics.store(w, 2, 1);
  await new Promise((r) => setTimeout(r, warm * 1000));
  const [n1, t1] = [done(), performance.now()];
  await new Promise((r) => setTimeout(r, Math.max(0, t0 + seconds * 1000 - performance.now())));
  const [n2, t2] = [done(), performance.now()];
  Atomics.store(w, 0, 1);
  const total = (await Promise.all(counts)).reduce((a, b) => a + b, 0);
  const ms = performance.now() - t0;
  await Promise.all(workers.map((wk) => wk.terminate()));
  if (Atomics.load(w, 32) !== total) throw new Error(`plain ${kind} loop lost updates: ${Atomics.load(w, 32)} ≠ ${total}`);
  return { whole: (total * 1000) / ms, steady: ((n2 - n1) * 1000) / (t2 - t1) };
}

function benchRig(cpus: number): Rig {
  const r = validateRig({ id: `bench-${cpus}cpu`, title: `${cpus} CPU bench rig`, cores: cpus, hal: 'mp', build: 'free' });
  if (!r.ok) throw new Error('bench rig');
  return r.rig;
}

async function freeRunLoop(
  kind: LockKind, cpus: number, seconds: number, warm: number, mode: 'auto' | 'generators',
): Promise<Rate & { outcome: string; mode: string }> {
  const per = csPerIteration(kind, cpus);
  const ref = lockLoopRef(kind, per / cpus, cpus);
  // Progress snapshots (every 20 ms tick): the first at or after the warm-up, the last before time is up.
  let first: FreeProgress | undefined;
  let last: FreeProgress | undefined;
  const onProgress = (p: FreeProgress): void => {
    if (p.elapsedMs < warm * 1000 || p.elapsedMs > seconds * 1000) return;
    first ??= p;
    last = p;
  };
  // A loaded host can starve a worker for seconds: only a real hang should stop a benchmark run.
  const r = await freeRun(benchRig(cpus), { id: ref }, `free-loop/${kind}`, () => nodeFreeWorker(), {
    seconds, mode, hostCpus: availableParallelism(), stallMs: 30_000, progressMs: 20, onProgress,
  });
  const whole = (r.iterations * per * 1000) / r.elapsedMs;
  // Iterations complete in steps of `per` critical sections: a window that saw none has no steady figure.
  const steady = first && last && last.elapsedMs > first.elapsedMs ? ((last.iterations - first.iterations) * per * 1000) / (last.elapsedMs - first.elapsedMs) : whole;
  return { whole, steady, outcome: r.outcome, mode: r.cpus[0]?.mode ?? 'generators' };
}

const freeRunBench: BenchModule = {
  title: 'free-run engine',
  async run(ctx) {
    // Short rounds, many of them: the host's load shifts within seconds, and a ratio is only as good as
    // the pairing of its two runs; the median of five rounds shrugs off one or two disturbed ones.
    // Each side is measured over the same window after a warm-up: a twin's critical section is one
    // large function that V8 compiles for 20-130 ms while the CPU runs it unoptimized (at 2 and 4 CPUs
    // every CPU waits for the slowest), against a few milliseconds for the plain loop: 80-300 ms to
    // full speed against about 10. The whole run, warm-up included, is in each row's note.
    const seconds = ctx.quick ? 0.6 : 1.5;
    const warm = ctx.quick ? 0.2 : 0.5;
    const rounds = ctx.quick ? 1 : 5;
    const rows: BenchRow[] = [];
    for (const kind of ['tas', 'ttas', 'ke', 'queued'] as const) {
      for (const cpus of [1, 2, 4]) {
        const twins: Rate[] = [];
        const plains: Rate[] = [];
        const mcsPlains: Rate[] = [];
        let twinOutcome = 'pass';
        let twinMode = 'twin';
        for (let round = 0; round < rounds; round++) {
          const twin = await freeRunLoop(kind, cpus, seconds, warm, 'auto');
          twins.push(twin);
          plains.push(await plainLoop(kind, cpus, seconds, warm));
          if (kind === 'queued') mcsPlains.push(await plainLoop('mcs', cpus, seconds, warm));
          if (twin.outcome !== 'pass') twinOutcome = twin.outcome;
          twinMode = twin.mode;
        }
        const steady = ratiosOf(twins, plains, 'steady');
        const whole = ratiosOf(twins, plains, 'whole');
        // Generators are far from the target either way: one run, against the last round's plain loop.
        const gen = await freeRunLoop(kind, cpus, seconds, warm, 'generators');
        const label = LABELS[kind];
        const cpuLabel = `${cpus} CPU${cpus > 1 ? 's' : ''}`;
        const spread = rounds > 1 ? `ratios ${steady.map(pct).join(', ')} in ${rounds} rounds; ` : '';
        const wholeNote = whole.length ? `whole ${seconds} s runs with warm-up: ${pct(median(whole))}` : 'the plain loop made no progress';
        const twinNote = twinOutcome !== 'pass' ? `free-run outcome ${twinOutcome}` : twinMode !== 'twin' ? 'ran as generators' : spread + wholeNote;
        // The twins' median against one reference loop, its ratios taken within each round.
        const twinRow = (reference: string, refs: readonly Rate[], ratios: readonly number[], note: string): BenchRow => ({
          name: `${label}, ${cpuLabel}, plain-function twins: critical sections/s`,
          value: Math.round(median(twins.map((t) => t.steady))),
          unit: 'CS/s',
          baseline: { name: reference, value: Math.round(median(refs.map((p) => p.steady))) },
          ...(ratios.length ? { ratio: median(ratios) } : {}),
          note,
        });
        rows.push(twinRow('plain-function Atomics loop', plains, steady, twinNote));
        if (kind === 'queued') {
          const mcs = ratiosOf(twins, mcsPlains, 'steady');
          const spreadMcs = mcs.length ? `ratios ${mcs.map(pct).join(', ')}` : 'the MCS loop made no progress';
          rows.push(twinRow('minimal MCS Atomics loop', mcsPlains, mcs, `${spreadMcs}: MCS does 7 Atomics per critical section, the in-stack queued lock 11`));
        }
        const lastPlain = plains[plains.length - 1]!.steady;
        rows.push({
          name: `${label}, ${cpuLabel}, generators: critical sections/s`,
          value: Math.round(gen.steady),
          unit: 'CS/s',
          baseline: { name: 'plain-function Atomics loop', value: Math.round(lastPlain) },
          ...(lastPlain > 0 ? { ratio: gen.steady / lastPlain } : {}),
          ...(gen.outcome !== 'pass' ? { note: `free-run outcome ${gen.outcome}` } : {}),
        });
        const list = (rs: Rate[]): string => rs.map((r) => Math.round(r.steady)).join(' ');
        ctx.log(`  … ${kind} at ${cpuLabel}: twins ${list(twins)}, plain ${list(plains)} CS/s (${steady.map(pct).join(' ')}; whole runs ${whole.map(pct).join(' ')}); generators ${Math.round(gen.steady)}`);
      }
    }
    return rows;
  },
};

/**
 * Per-round ratios of twin to plain, each within its round. A round whose plain loop made no progress
 * in the window (a convoy of more spinning workers than host cores) has no ratio.
 */
function ratiosOf(twins: readonly Rate[], plains: readonly Rate[], which: keyof Rate): number[] {
  return twins.flatMap((t, i) => (plains[i]![which] > 0 ? [t[which] / plains[i]![which]] : []));
}

export default freeRunBench;
