/**
 * The URL contract (DESIGN.md section 6): ?rig=<id>&scenario=<id>&seed=<n>&strategy=<s>,
 * &schedule=<string> for an exact replay, &run=1 to start at once; &engine=free runs free-run
 * instead of the controlled engine (&schedules=<n> is then its iteration budget); &rigdoc=<base64url JSON>
 * carries a rig that is not a preset (its fields, so whoever opens the link replays on the same machine).
 */
import type { ExploreStrategy } from '../../engine/explore.ts';
import { intInRange, rangeMessage, RUN_LIMITS, type RunLimit } from '../../engine/limits.ts';
import type { Rig } from '../../machine/rig.ts';
import { quote } from '../../machine/text.ts';

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
  /** The rig's fields, when the link carries a rig that is not a preset (validated by the page, like a rig file). */
  rigDoc?: unknown;
  run: boolean;
  /** What is wrong with the link's parameters, one message each naming the parameter; a link with any runs nothing. */
  problems: string[];
}

/** Link parameters checked against the CLI's ranges (engine/limits.ts); the name in the link → the CLI's name. */
const NUMERIC: [param: 'seed' | 'depth' | 'schedules', limit: RunLimit][] = [
  ['seed', 'seed'],
  ['depth', 'depth'],
  ['schedules', 'schedules'],
];

/** Longest rigdoc a link may carry: a rig's fields take a few hundred characters. */
const MAX_RIGDOC = 8192;

function toBase64Url(text: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Longest rig or scenario id a link may name (ids are far shorter; this bounds what is echoed and looked up). */
const MAX_ID = 256;

export function parseLink(search: string): LinkParams {
  const q = new URLSearchParams(search);
  const problems: string[] = [];
  const out: LinkParams = { run: q.get('run') === '1' || q.get('run') === 'true', problems };
  for (const name of ['rig', 'scenario'] as const) {
    const v = q.get(name);
    if (v === null) continue;
    if (v === '' || v.length > MAX_ID) problems.push(`The link's ${name} must be an id of 1 to ${MAX_ID} characters (got ${quote(v)}).`);
    else out[name] = v;
  }
  for (const [param, limit] of NUMERIC) {
    const v = q.get(param);
    if (v === null) continue;
    const n = intInRange(v, RUN_LIMITS[limit]);
    if (n === undefined) problems.push(`The link's ${param} ${rangeMessage(RUN_LIMITS[limit], v)}.`);
    else out[param] = n;
  }
  const engine = q.get('engine');
  if (engine === 'controlled' || engine === 'free') out.engine = engine;
  else if (engine !== null) problems.push(`The link's engine must be controlled or free (got ${quote(engine)}).`);
  const strategy = q.get('strategy');
  if (strategy !== null) {
    if ((STRATEGIES as readonly string[]).includes(strategy)) out.strategy = strategy as ExploreStrategy;
    else problems.push(`The link's strategy must be one of ${STRATEGIES.join(', ')} (got ${quote(strategy)}).`);
  }
  const rigDoc = q.get('rigdoc');
  if (rigDoc !== null) {
    if (rigDoc.length > MAX_RIGDOC) problems.push(`The link's rigdoc is ${rigDoc.length} characters, more than the ${MAX_RIGDOC} a rig needs.`);
    else {
      try {
        out.rigDoc = JSON.parse(fromBase64Url(rigDoc)) as unknown;
      } catch {
        problems.push("The link's rigdoc is not a rig: it is not base64url-encoded JSON (was the link cut short?).");
      }
    }
  }
  const schedule = q.get('schedule');
  if (schedule !== null) {
    if (schedule === '') problems.push("The link's schedule is empty.");
    else out.schedule = schedule;
  }
  return out;
}

/**
 * Everything that keeps a link from running: its parameter problems, and a rig
 * or scenario it names that this page does not have (`found` says which were found).
 * Any of these means nothing runs — never the default scenario in its place.
 */
export function linkProblems(p: LinkParams, found: { rig: boolean; scenario: boolean }): string[] {
  const out = [...p.problems];
  if (p.rig !== undefined && !found.rig) out.push(`The link names rig ${quote(p.rig)}, which is neither a preset nor one of your rigs.`);
  if (p.scenario !== undefined && !found.scenario) out.push(`The link names scenario ${quote(p.scenario)}, which is neither in the library nor one of your scenarios.`);
  if (out.length > 0 && (p.run || p.schedule !== undefined)) out.push(`Nothing was run: fix the link${p.schedule !== undefined ? ' to replay its schedule' : ''}.`);
  return out;
}

/** A link that replays a failure; a rig given as fields (not a preset) travels in the link as &rigdoc. */
export function replayLink(base: string, rig: string | Rig, scenario: string, schedule: string): string {
  const u = new URL(base);
  u.search = '';
  u.hash = '';
  u.searchParams.set('rig', typeof rig === 'string' ? rig : rig.id);
  if (typeof rig !== 'string') u.searchParams.set('rigdoc', toBase64Url(JSON.stringify(rig)));
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
