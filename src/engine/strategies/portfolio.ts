import { splitmix32 } from '../prng.ts';
import type { PendingOps, Strategy } from '../strategy.ts';
import { PctStrategy } from './pct.ts';
import { PosStrategy } from './pos.ts';
import { RandomStrategy } from './random.ts';

/** One member of the portfolio: a label for reports and the strategy that runs its schedules. */
export interface PortfolioMember {
  /** "pct d=3", "random", "pos": what `failure.foundBy` says. */
  readonly label: string;
  readonly strategy: Strategy;
}

/** The default members, in the order schedule indices go round them. */
export const PORTFOLIO_MEMBERS = ['pct d=1', 'pct d=2', 'pct d=3', 'pct d=4', 'pct d=5', 'random', 'pos'] as const;
export type PortfolioMemberLabel = (typeof PORTFOLIO_MEMBERS)[number];

/** A member's own seed: independent streams per member from one exploration seed. */
export function memberSeed(seed: number, member: number): number {
  return splitmix32((seed >>> 0) ^ Math.imul(member + 1, 0x9e3779b1));
}

/**
 * A portfolio of randomized strategies, interleaved by schedule index:
 * schedule i runs member i mod M, as that member's own schedule ⌊i/M⌋ with
 * the member's seed. So schedule i depends only on (seed, i) — the same
 * whichever worker of a pool runs it — and the lowest failing index, with
 * the member that found it, is the same for any number of workers.
 *
 * No single strategy finds every bug in a given budget (SCTBench: Thomson,
 * Donaldson and Betts, "Concurrency Testing Using Controlled Schedulers: An
 * Empirical Study", TOPLAS 2016; and this project's detection table,
 * docs/detection.md): PCT of one depth misses bugs of another, random misses
 * bugs deep in a long prefix, POS finds races the others reach late. A
 * portfolio costs each member a factor M in schedules and gains the best of
 * them, the usual trade in SAT and model-checking portfolios.
 */
export class PortfolioStrategy implements Strategy {
  readonly name = 'portfolio';
  private current: Strategy;

  constructor(readonly members: readonly PortfolioMember[]) {
    if (members.length === 0) throw new Error('a portfolio needs at least one member');
    this.current = members[0]!.strategy;
  }

  /** The member that runs schedule `index` (the hook a schedule string can carry; see memberOf). */
  memberIndex(index: number): number {
    return index % this.members.length;
  }

  /** The label of the member that runs schedule `index`: what a failure there reports as `foundBy`. */
  memberOf(index: number): string {
    return this.members[this.memberIndex(index)]!.label;
  }

  attach(view: PendingOps): void {
    for (const m of this.members) m.strategy.attach?.(view);
  }

  newExecution(index: number): boolean {
    const m = this.memberIndex(index);
    this.current = this.members[m]!.strategy;
    return this.current.newExecution(Math.floor(index / this.members.length));
  }

  next(choices: Int32Array, count: number, current: number, step: number): number {
    return this.current.next(choices, count, current, step);
  }

  /** Fair spinning (Strategy.yielded): the member running this schedule lowers the yielding CPU. */
  yielded(cpu: number): void {
    this.current.yielded?.(cpu);
  }

  endExecution(steps: number): void {
    this.current.endExecution?.(steps);
  }
}

/**
 * The default portfolio: PCT at depths 1–5 (each with the calibrated k, and k_w for its
 * reordering points), random, POS. On an arm64 rig the same members: each handles weak-memory
 * choices (PCT as PCTWM, random rarely, POS as ordinary choices).
 */
export function defaultPortfolio(seed: number, pctK: number, pctWeakK = pctK): PortfolioStrategy {
  const members: PortfolioMember[] = [];
  for (let d = 1; d <= 5; d++) members.push({ label: `pct d=${d}`, strategy: new PctStrategy(memberSeed(seed, members.length), d, pctK, pctWeakK) });
  members.push({ label: 'random', strategy: new RandomStrategy(memberSeed(seed, members.length)) });
  members.push({ label: 'pos', strategy: new PosStrategy(memberSeed(seed, members.length)) });
  return new PortfolioStrategy(members);
}
