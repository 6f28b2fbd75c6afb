/**
 * Free-run speed: critical sections per second of the seed's three locks —
 * test-and-set (a scenario-level `while (InterlockedExchange(lock, 1))`),
 * test-and-test-and-set (spinlock/ttas: the exchange, then spinning on a plain
 * read) and the in-stack queued spin lock — and of the executive spin lock
 * (KeAcquireSpinLock: a compare-exchange, lock-owner bookkeeping) — taken by one thread
 * per CPU on 1, 2 and 4 CPU workers (src/engine/free/loops/<kind>-<cpus>.ts),
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
 * lock on 4 CPUs, see loops/queued-4.ts) keep that cost a small part of the
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
 * medians and the spread of the ratios.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { freeRun } from '../src/engine/free/run.ts';
import type { LockKind } from '../src/engine/free/loops/lock-loop.ts';
import { validateRig, type Rig } from '../src/machine/rig.ts';
import { nodeFreeWorker } from '../src/workers/node-entry.ts';
import type { BenchModule, BenchRow } from './index.ts';
import { median, pct } from './stats.ts';

/** Critical sections per iteration of the loop files (loops/<kind>-<cpus>.ts; queued-4.ts says why it is smaller). */
function csPerIteration(kind: LockKind, cpus: number): number {
  return kind === 'queued' && cpus === 4 ? 2000 : 20_000;
}

/** The plain-function loops, run in bare worker threads (no TypeScript, no engine). */
const PLAIN_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { sab, slot, kind } = workerData;
const w = new Int32Array(sab);
const STOP = 0, READY = 1, GO = 2, LOCK = 16, CNT = 32;
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
while (Atomics.load(w, STOP) === 0) { for (let i = 0; i < 256; i++) cs(); n += 256; }
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

async function plainLoop(kind: PlainKind, threads: number, seconds: number): Promise<number> {
  const sab = new SharedArrayBuffer(4096);
  const w = new Int32Array(sab);
  const workers = Array.from({ length: threads }, (_, slot) => new Worker(PLAIN_WORKER, { eval: true, workerData: { sab, slot, kind } }));
  const counts = workers.map((wk) => new Promise<number>((resolve, reject) => wk.once('message', resolve).once('error', reject)));
  while (Atomics.load(w, 1) < threads) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  Atomics.store(w, 2, 1);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  Atomics.store(w, 0, 1);
  const total = (await Promise.all(counts)).reduce((a, b) => a + b, 0);
  const ms = performance.now() - t0;
  await Promise.all(workers.map((wk) => wk.terminate()));
  if (Atomics.load(w, 32) !== total) throw new Error(`plain ${kind} loop lost updates: ${Atomics.load(w, 32)} ≠ ${total}`);
  return (total * 1000) / ms;
}

function benchRig(cpus: number): Rig {
  const r = validateRig({ id: `bench-${cpus}cpu`, title: `${cpus} CPU bench rig`, cores: cpus, hal: 'mp', build: 'free' });
  if (!r.ok) throw new Error('bench rig');
  return r.rig;
}

async function freeRunLoop(kind: LockKind, cpus: number, seconds: number, mode: 'auto' | 'generators'): Promise<{ perSecond: number; outcome: string; mode: string }> {
  const file = fileURLToPath(new URL(`../src/engine/free/loops/${kind}-${cpus}.ts`, import.meta.url));
  // A loaded host can starve a worker for seconds: only a real hang should stop a benchmark run.
  const r = await freeRun(benchRig(cpus), { id: file }, `free-loop/${kind}`, () => nodeFreeWorker(), { seconds, mode, hostCpus: availableParallelism(), stallMs: 30_000 });
  return { perSecond: (r.iterations * csPerIteration(kind, cpus) * 1000) / r.elapsedMs, outcome: r.outcome, mode: r.cpus[0]?.mode ?? 'generators' };
}

const freeRunBench: BenchModule = {
  title: 'free-run engine',
  async run(ctx) {
    // Short rounds, many of them: the host's load shifts within seconds, and a ratio is only as good as
    // the pairing of its two runs; the median of five rounds shrugs off one or two disturbed ones.
    const seconds = ctx.quick ? 0.5 : 1;
    const rounds = ctx.quick ? 1 : 5;
    const rows: BenchRow[] = [];
    for (const kind of ['tas', 'ttas', 'ke', 'queued'] as const) {
      for (const cpus of [1, 2, 4]) {
        const twins: number[] = [];
        const plains: number[] = [];
        const ratios: number[] = [];
        const mcsPlains: number[] = [];
        const mcsRatios: number[] = [];
        let twinOutcome = 'pass';
        let twinMode = 'twin';
        for (let round = 0; round < rounds; round++) {
          const twin = await freeRunLoop(kind, cpus, seconds, 'auto');
          const plain = await plainLoop(kind, cpus, seconds);
          twins.push(twin.perSecond);
          plains.push(plain);
          ratios.push(twin.perSecond / plain);
          if (kind === 'queued') {
            const mcs = await plainLoop('mcs', cpus, seconds);
            mcsPlains.push(mcs);
            mcsRatios.push(twin.perSecond / mcs);
          }
          if (twin.outcome !== 'pass') twinOutcome = twin.outcome;
          twinMode = twin.mode;
        }
        // Generators are far from the target either way: one run, against the last round's plain loop.
        const gen = await freeRunLoop(kind, cpus, seconds, 'generators');
        const label = LABELS[kind];
        const cpuLabel = `${cpus} CPU${cpus > 1 ? 's' : ''}`;
        const plainMedian = median(plains);
        const spread = rounds > 1 ? `ratios ${ratios.map(pct).join(', ')} in ${rounds} rounds` : '';
        const twinNote = twinOutcome !== 'pass' ? `free-run outcome ${twinOutcome}` : twinMode !== 'twin' ? 'ran as generators' : spread;
        rows.push({
          name: `${label}, ${cpuLabel}, plain-function twins: critical sections/s`,
          value: Math.round(median(twins)),
          unit: 'CS/s',
          baseline: { name: 'plain-function Atomics loop', value: Math.round(plainMedian) },
          ratio: median(ratios),
          ...(twinNote ? { note: twinNote } : {}),
        });
        if (kind === 'queued') {
          rows.push({
            name: `${label}, ${cpuLabel}, plain-function twins: critical sections/s`,
            value: Math.round(median(twins)),
            unit: 'CS/s',
            baseline: { name: 'minimal MCS Atomics loop', value: Math.round(median(mcsPlains)) },
            ratio: median(mcsRatios),
            note: `ratios ${mcsRatios.map(pct).join(', ')}: MCS does 7 Atomics per critical section, the in-stack queued lock 11`,
          });
        }
        const lastPlain = plains[plains.length - 1]!;
        rows.push({
          name: `${label}, ${cpuLabel}, generators: critical sections/s`,
          value: Math.round(gen.perSecond),
          unit: 'CS/s',
          baseline: { name: 'plain-function Atomics loop', value: Math.round(lastPlain) },
          ratio: gen.perSecond / lastPlain,
          ...(gen.outcome !== 'pass' ? { note: `free-run outcome ${gen.outcome}` } : {}),
        });
        ctx.log(`  … ${kind} at ${cpuLabel}: twins ${twins.map(Math.round).join(' ')}, plain ${plains.map(Math.round).join(' ')} CS/s (${ratios.map(pct).join(' ')}); generators ${Math.round(gen.perSecond)}`);
      }
    }
    return rows;
  },
};
export default freeRunBench;
