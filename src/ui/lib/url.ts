/**
 * The URL contract (DESIGN.md section 6): ?rig=<id>&scenario=<id>&seed=<n>&strategy=<s>,
 * &schedule=<string> for an exact replay, &run=1 to start at once; &engine=free runs free-run
 * instead of the controlled engine (&schedules=<n> is then its iteration budget).
 */
import type { ExploreStrategy } from '../../engine/explore.ts';

/** The page never loads the engine: its strategy names, restated (engine/explore.ts STRATEGIES). */
export const STRATEGIES: readonly ExploreStrategy[] = ['portfolio', 'pct', 'random', 'pos', 'dfs'];

export interface LinkParams {
  rig?: string;
  engine?: 'controlled' | 'free';
  scenario?: string;
  seed?: number;
  strategy?: ExploreStrategy;
  schedule?: string;
  depth?: number;
  schedules?: number;
  run: boolean;
}

export function parseLink(search: string): LinkParams {
  const q = new URLSearchParams(search);
  const out: LinkParams = { run: q.get('run') === '1' || q.get('run') === 'true' };
  const rig = q.get('rig');
  if (rig) out.rig = rig;
  const scenario = q.get('scenario');
  if (scenario) out.scenario = scenario;
  const seed = Number(q.get('seed'));
  if (q.has('seed') && Number.isInteger(seed) && seed >= 0) out.seed = seed;
  const engine = q.get('engine');
  if (engine === 'controlled' || engine === 'free') out.engine = engine;
  const strategy = q.get('strategy');
  if (strategy && (STRATEGIES as readonly string[]).includes(strategy)) out.strategy = strategy as ExploreStrategy;
  const schedule = q.get('schedule');
  if (schedule) out.schedule = schedule;
  const depth = Number(q.get('depth'));
  if (q.has('depth') && Number.isInteger(depth) && depth >= 1) out.depth = depth;
  const budget = Number(q.get('schedules'));
  if (q.has('schedules') && Number.isInteger(budget) && budget >= 1) out.schedules = budget;
  return out;
}

export function replayLink(base: string, rig: string, scenario: string, schedule: string): string {
  const u = new URL(base);
  u.search = '';
  u.hash = '';
  u.searchParams.set('rig', rig);
  u.searchParams.set('scenario', scenario);
  u.searchParams.set('schedule', schedule);
  return u.toString();
}

export function exploreLink(base: string, p: { rig: string; scenario: string; seed: number; strategy: string; run?: boolean }): string {
  const u = new URL(base);
  u.search = '';
  u.hash = '';
  u.searchParams.set('rig', p.rig);
  u.searchParams.set('scenario', p.scenario);
  u.searchParams.set('seed', String(p.seed));
  u.searchParams.set('strategy', p.strategy);
  if (p.run) u.searchParams.set('run', '1');
  return u.toString();
}
