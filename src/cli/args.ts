/** A small, strict argument parser: unknown options and bad values are input errors, never ignored. */
import { intInRange, rangeMessage, RUN_LIMITS, type RunLimit } from '../engine/limits.ts';
import { clip, quote } from '../machine/text.ts';
import { InputError } from '../workers/node-load.ts';

export interface OptionSpec {
  /** Takes a value (`--seed 3`) or is a switch (`--json`). */
  value: boolean;
}

export interface ParsedArgs {
  positional: string[];
  options: Map<string, string | true>;
}

export function parseArgs(command: string, argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new InputError(`unknown option --${clip(name)} for 'racebox ${command}' (options: ${Object.keys(spec).map((k) => `--${k}`).join(' ')})`);
    if (s.value) {
      const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new InputError(`option --${name} needs a value`);
      options.set(name, v);
    } else {
      if (eq >= 0) throw new InputError(`option --${name} takes no value`);
      options.set(name, true);
    }
  }
  return { positional, options };
}

export function intOption(p: ParsedArgs, name: string, min: number, max: number, fallback: number): number {
  const v = p.options.get(name);
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? intInRange(v, { min, max }) : undefined;
  if (n === undefined) throw new InputError(`--${name} ${rangeMessage({ min, max }, typeof v === 'string' ? v : '')}`);
  return n;
}

/** A run setting (--seed, --schedules, ...) within the range the app's links also use (engine/limits.ts). */
export function limitOption(p: ParsedArgs, name: RunLimit, fallback: number): number {
  return intOption(p, name, RUN_LIMITS[name].min, RUN_LIMITS[name].max, fallback);
}

export function choiceOption<T extends string>(p: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const v = p.options.get(name);
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new InputError(`--${name} must be one of ${choices.join(', ')} (got ${quote(v)})`);
  }
  return v as T;
}

export function stringOption(p: ParsedArgs, name: string): string | undefined {
  const v = p.options.get(name);
  return typeof v === 'string' ? v : undefined;
}
