import { describe, expect, it } from 'vitest';
import { explore, makeStrategy, replay } from '../../src/engine/explore.ts';
import { explorePool } from '../../src/engine/pool.ts';
import { PORTFOLIO_MEMBERS, PortfolioStrategy, defaultPortfolio } from '../../src/engine/strategies/portfolio.ts';
import { presetRig } from '../../src/machine/presets.ts';
import { nodeExploreWorker } from '../../src/workers/node-entry.ts';
import irqlAsLock from '../../scenarios/spinlock/irql-as-lock.ts';

const rig = presetRig('dual-opteron-240')!;

describe('the default portfolio', () => {
  it('is the default strategy and goes round pct d=1..5, random and pos by schedule index', () => {
    const p = defaultPortfolio(1, 32);
    expect(p.members.map((m) => m.label)).toEqual([...PORTFOLIO_MEMBERS]);
    expect([0, 1, 4, 5, 6, 7, 13].map((i) => p.memberOf(i))).toEqual(['pct d=1', 'pct d=2', 'pct d=5', 'random', 'pos', 'pct d=1', 'pos']);
    const r = explore(rig, irqlAsLock, { seed: 2, schedules: 2000 });
    expect(r.strategy).toBe('portfolio');
    expect(r.outcome).toBe('invariant');
    expect(r.failure?.foundBy).toBe(p.memberOf(r.failingSchedule!));
  });

  it('a member runs the schedules a lone strategy with the member seed would', () => {
    const p = makeStrategy('portfolio', 5, 3, 2) as PortfolioStrategy;
    const lone = p.members[5]!.strategy; // random, with its own seed
    const choices = Int32Array.from([0, 1, 2, 3]);
    const picks = (s: { newExecution(i: number): boolean; next(c: Int32Array, n: number, cur: number, step: number): number }, index: number): number[] => {
      s.newExecution(index);
      return Array.from({ length: 20 }, (_, k) => s.next(choices, 4, -1, k));
    };
    const viaPortfolio = picks(p, 5 + 7 * 3);
    expect(picks(lone, 3)).toEqual(viaPortfolio);
  });

  it('finds the same failure, schedule and member with 1, 2 and 4 workers', async () => {
    const single = explore(rig, irqlAsLock, { seed: 16, schedules: 3000 });
    expect(single.outcome).toBe('invariant');
    // A failure past the first round of members: every worker count splits the indices differently.
    expect(single.failingSchedule!).toBeGreaterThan(7);
    const req = { scenario: { id: 'spinlock/irql-as-lock' }, rig, strategy: 'portfolio' as const, seed: 16, schedules: 3000 };
    for (const workers of [1, 2, 4]) {
      const r = await explorePool(req, { workers, factory: () => nodeExploreWorker() });
      expect(r.strategy).toBe('portfolio');
      expect(r.failingSchedule).toBe(single.failingSchedule);
      expect(r.failure?.schedule).toBe(single.failure?.schedule);
      expect(r.failure?.foundBy).toBe(single.failure?.foundBy);
    }
    expect(replay(rig, irqlAsLock, single.failure!.schedule).summary.outcome).toBe('invariant');
  }, 60_000);

  it('pos finds a lost update and replays it', () => {
    const r = explore(rig, irqlAsLock, { strategy: 'pos', seed: 1, schedules: 3000 });
    expect(r.outcome).toBe('invariant');
    expect(r.failure?.foundBy).toBeUndefined();
    expect(replay(rig, irqlAsLock, r.failure!.schedule).summary.outcome).toBe('invariant');
  });
});
