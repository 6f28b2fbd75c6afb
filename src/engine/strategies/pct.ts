import { Rng, scheduleSeed } from '../prng.ts';
import { weakChoiceBase, type PendingOps, type Strategy } from '../strategy.ts';
import { MAX_STALE_READS } from '../../machine/weak-memory.ts';

/** Reordering points per execution (PCTWM's weak depth d_w): most reordering bugs need one or two. */
export const PCT_WEAK_DEPTH = 2;
/** Mixed into the seed of the reordering points' stream. */
const WEAK_STREAM = 0x5bd1e995;

/**
 * Probabilistic Concurrency Testing: Burckhardt, Kothari, Musuvathi and
 * Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
 * Finding Bugs", ASPLOS 2010.
 *
 * Every choice (a CPU, a quantum end, an interrupt or DPC arrival) gets a
 * random priority ≥ d the first time it is enabled; the highest-priority
 * enabled choice always runs. At d−1 change points drawn uniformly from the
 * k steps of a run, the choice about to run drops below every initial
 * priority. A bug of depth d among n choices in k steps is found with
 * probability ≥ 1/(n·k^(d−1)) per run.
 *
 * Fair scheduling (Musuvathi and Qadeer, "Fair Stateless Model Checking",
 * PLDI 2008): a CPU whose step was a yield — a poll that saw nothing new, a
 * PAUSE, a wait that returned at once — drops below every other priority,
 * the latest yield lowest. Strict priorities would otherwise let a busy
 * loop starve the lower-priority CPU that ends it, until the watchdog
 * reported a hang no machine shows. The lowering depends only on the run, so
 * schedule i still depends only on (seed, i).
 *
 * Weak memory, after PCTWM: Gao, Brighton, Nguyen and Tran, "Probabilistic
 * Concurrency Testing for Weak Memory Programs", ASPLOS 2023. Priorities pick
 * among the ordinary choices only; the weak-memory variants of a step (its
 * store kept buffered, its read returning an older value) are a second
 * dimension with a depth of its own: d_w reordering points (PCT_WEAK_DEPTH)
 * drawn uniformly from the first k_w weak accesses of a run (the decisions
 * where the CPU the priorities picked has a weak variant; k_w calibrated like
 * k). At a reordering point that CPU's step is performed as one of its
 * variants, chosen uniformly; everywhere else it is performed sequentially
 * consistently. A buffered store then becomes visible when the model makes it
 * (a barrier, an interlocked access, the end of its context), not by a
 * choice: as in PCTWM, the bug depth counts reorderings, not their delays.
 */
export class PctStrategy implements Strategy {
  readonly name = 'pct';
  private rng = new Rng(0);
  private weakRng = new Rng(0);
  private prio = new Float64Array(256);
  private changePoints: number[] = [];
  private decisions = 0;
  /** The priority the latest yield got (negative, below every other: see yielded). */
  private floor = 0;
  /**
   * k: the decision points of a run, over which change points are drawn. It is
   * fixed for the whole exploration (measured once by `calibratePct`), so that
   * schedule i depends only on (seed, i) — whichever worker runs it, after
   * whatever ran before.
   */
  private readonly k: number;
  /** k_w: the weak accesses of a run over which reordering points are drawn (fixed, like k). */
  private readonly weakK: number;
  private readonly weakPoints: number[] = [];
  /** The execution's index (its reordering points are drawn from it). */
  private index = 0;
  private weakDecisions = 0;
  private cpuCount = -1;
  private weakBase = Number.MAX_SAFE_INTEGER;

  constructor(
    private readonly seed: number,
    readonly depth: number,
    k = 32,
    weakK = k,
    cpuCount?: number,
    readonly weakDepth = PCT_WEAK_DEPTH,
  ) {
    this.k = Math.max(1, Math.floor(k));
    this.weakK = Math.max(1, Math.floor(weakK));
    if (cpuCount !== undefined) this.setCpuCount(cpuCount);
  }

  attach(view: PendingOps): void {
    this.setCpuCount(view.cpuCount());
  }

  private setCpuCount(n: number): void {
    this.cpuCount = n;
    this.weakBase = weakChoiceBase(n);
  }

  newExecution(index: number): boolean {
    this.rng.reseed(scheduleSeed(this.seed, index));
    this.prio.fill(0);
    this.decisions = 0;
    this.floor = 0;
    this.changePoints = [];
    for (let i = 0; i < this.depth - 1; i++) this.changePoints.push(1 + this.rng.int(this.k));
    this.changePoints.sort((a, b) => a - b);
    this.weakDecisions = 0;
    this.index = index;
    return true;
  }

  /**
   * The reordering points of this execution, drawn at its first weak access: from a stream of
   * their own (the priorities and change points are plain PCT's), and not at all in a run
   * without weak accesses.
   */
  private drawWeakPoints(): void {
    this.weakRng.reseed(scheduleSeed(this.seed ^ WEAK_STREAM, this.index));
    this.weakPoints.length = 0;
    for (let i = 0; i < this.weakDepth; i++) this.weakPoints.push(1 + this.weakRng.int(this.weakK));
  }

  next(choices: Int32Array, count: number): number {
    const wb = this.weakBase;
    if (choices[count - 1]! < wb) return this.byPriority(choices, count);
    let ordinary = count - 1;
    while (ordinary > 0 && choices[ordinary - 1]! >= wb) ordinary--;
    // Only weak choices (buffered stores waiting while nothing else can run): by priority among them.
    if (ordinary === 0) return this.byPriority(choices, count);
    const best = this.byPriority(choices, ordinary);
    const n = this.cpuCount;
    if (best >= n) return best;
    // The variants of best's step: its buffered store, its older values.
    const buffered = wb + best;
    const staleLo = wb + n + best * MAX_STALE_READS;
    const isVariant = (id: number): boolean => id === buffered || (id >= staleLo && id < staleLo + MAX_STALE_READS);
    let variants = 0;
    for (let i = ordinary; i < count; i++) if (isVariant(choices[i]!)) variants++;
    if (variants === 0) return best;
    const w = ++this.weakDecisions;
    if (w === 1) this.drawWeakPoints();
    if (!this.weakPoints.includes(w)) return best;
    let r = this.weakRng.int(variants);
    for (let i = ordinary; i < count; i++) if (isVariant(choices[i]!) && r-- === 0) return choices[i]!;
    return best;
  }

  private byPriority(choices: Int32Array, count: number): number {
    const d = ++this.decisions;
    if (choices[count - 1]! >= this.prio.length) {
      const grown = new Float64Array(Math.max(this.prio.length * 2, choices[count - 1]! + 1));
      grown.set(this.prio);
      this.prio = grown;
    }
    let best = -1;
    let bestPrio = -Infinity;
    for (let i = 0; i < count; i++) {
      const id = choices[i]!;
      let p = this.prio[id]!;
      if (p === 0) p = this.prio[id] = this.depth + 1 + this.rng.float() * 1e9;
      if (p > bestPrio) {
        bestPrio = p;
        best = id;
      }
    }
    for (let j = 0; j < this.changePoints.length; j++) {
      if (this.changePoints[j] === d) {
        this.prio[best] = this.depth - j;
        best = -1;
        bestPrio = -Infinity;
        for (let i = 0; i < count; i++) {
          const id = choices[i]!;
          if (this.prio[id]! > bestPrio) {
            bestPrio = this.prio[id]!;
            best = id;
          }
        }
      }
    }
    return best;
  }

  yielded(cpu: number): void {
    if (cpu >= this.prio.length) return;
    this.prio[cpu] = --this.floor;
  }

}
