/**
 * Controlled-engine speed: scheduling steps per second on spinlock/ke-spinlock
 * next to a bare generator loop doing the same number of yields in the same
 * process, and schedules per second for a two-thread scenario of about 100
 * steps and for every shipped scenario.
 */
import { ControlledRun } from '../src/engine/controlled.ts';
import { PctStrategy } from '../src/engine/strategies/pct.ts';
import { RandomStrategy } from '../src/engine/strategies/random.ts';
import { defaultChoice, type Strategy } from '../src/engine/strategy.ts';
import { presetRig } from '../src/machine/presets.ts';
import { defineScenario, type Scenario } from '../src/scenario/define.ts';
import type { BenchModule, BenchRow } from './index.ts';
import { median } from './stats.ts';

const now = (): number => performance.now();

/** The reference: generators that only yield, driven round-robin by a loop like the engine's. */
function bareGeneratorLoop(totalYields: number, actors: number): number {
  function* routine(n: number): Generator<number, void, void> {
    for (let i = 0; i < n; i++) yield i;
  }
  const per = Math.ceil(totalYields / actors);
  const t0 = now();
  let done = 0;
  const gens: Generator<number, void, void>[] = [];
  for (let i = 0; i < actors; i++) gens.push(routine(per));
  let alive = actors;
  let i = 0;
  while (alive > 0) {
    const g = gens[i]!;
    if (g !== undefined) {
      if (g.next().done) {
        gens[i] = undefined as unknown as Generator<number, void, void>;
        alive--;
      } else done++;
    }
    i = (i + 1) % actors;
  }
  const s = (now() - t0) / 1000;
  return done / s;
}

/** Drives one schedule's generators round-robin until all are done; returns the yields. */
function roundRobin(gens: (Generator<number, void, void> | undefined)[]): number {
  let alive = gens.length;
  let done = 0;
  for (let i = 0; alive > 0; i = (i + 1) % gens.length) {
    const g = gens[i];
    if (g === undefined) continue;
    if (g.next().done) {
      gens[i] = undefined;
      alive--;
    } else done++;
  }
  return done;
}

/**
 * The same reference shaped like the engine's work: per schedule, fresh
 * generators (one per actor) yielding that schedule's share of the steps.
 */
function bareGeneratorSchedules(schedules: number, stepsPerSchedule: number, actors: number): number {
  function* routine(n: number): Generator<number, void, void> {
    for (let i = 0; i < n; i++) yield i;
  }
  const per = Math.max(1, Math.round(stepsPerSchedule / actors));
  const t0 = now();
  let done = 0;
  const gens: (Generator<number, void, void> | undefined)[] = new Array(actors);
  for (let s = 0; s < schedules; s++) {
    for (let i = 0; i < actors; i++) gens[i] = routine(per);
    done += roundRobin(gens);
  }
  return done / ((now() - t0) / 1000);
}

/**
 * The reference shaped like spinlock/ke-spinlock itself: per schedule, one
 * generator per actor (two threads and the DPC), each reaching one generator
 * per kernel call through `yield*` — acquire (2 yields), read (1), write (1),
 * release (2) — driven round-robin until `totalYields` yields are done. It
 * pays what generators cost for code of this shape (creation, delegation),
 * nothing of the engine (no choices, no machine, no kernel bookkeeping).
 */
function* shapedAcquire(): Generator<number, number, void> {
  yield 1;
  yield 2;
  return 0;
}
function* shapedRead(): Generator<number, number, void> {
  yield 3;
  return 7;
}
function* shapedWrite(_v: number): Generator<number, void, void> {
  yield 4;
}
function* shapedRelease(_old: number): Generator<number, void, void> {
  yield 5;
  yield 6;
}
function* shapedActor(): Generator<number, void, void> {
  const old = yield* shapedAcquire();
  const v = yield* shapedRead();
  yield* shapedWrite(v + 1);
  yield* shapedRelease(old);
}

/**
 * Drives three actors made by `make` round-robin, fresh ones as each set ends,
 * until `totalYields` yields are done. Its own loop (not roundRobin), so that
 * its call site sees only actor generators.
 */
function driveActors(totalYields: number, make: () => Generator<number, void, void>): number {
  const gens: (Generator<number, void, void> | undefined)[] = [undefined, undefined, undefined];
  const t0 = now();
  let done = 0;
  while (done < totalYields) {
    for (let i = 0; i < 3; i++) gens[i] = make();
    let alive = 3;
    for (let i = 0; alive > 0; i = i === 2 ? 0 : i + 1) {
      const g = gens[i];
      if (g === undefined) continue;
      if (g.next().done) {
        gens[i] = undefined;
        alive--;
      } else done++;
    }
  }
  return done / ((now() - t0) / 1000);
}

const bareScenarioShaped = (totalYields: number): number => driveActors(totalYields, shapedActor);

/**
 * The same shape with the kernel calls as hand-written iterators (a state
 * machine per routine, one reused result object) instead of generators: the
 * redesign that would replace generator kernel routines. Scenario code stays
 * a generator reaching each call through `yield*`, as the scenario format
 * requires, so every step still resumes the actor's generator.
 */
interface ShapedResult {
  value: number | undefined;
  done: boolean;
}
class ShapedIterator {
  state = 0;
  readonly r: ShapedResult = { value: 0, done: false };
  [Symbol.iterator](): this {
    return this;
  }
  /** One call of next(): yields first, first + 1, … (`yields` of them), then returns `result`. */
  protected step(first: number, yields: number, result: number | undefined): ShapedResult {
    const r = this.r;
    const s = this.state++;
    if (s < yields) r.value = first + s;
    else {
      r.value = result;
      r.done = true;
    }
    return r;
  }
}
// One class per routine, as a hand-written kernel would have: the yield* sites see four shapes.
class IterAcquire extends ShapedIterator {
  next(): ShapedResult {
    return this.step(1, 2, 0);
  }
}
class IterRead extends ShapedIterator {
  next(): ShapedResult {
    return this.step(3, 1, 7);
  }
}
class IterWrite extends ShapedIterator {
  next(): ShapedResult {
    return this.step(4, 1, undefined);
  }
}
class IterRelease extends ShapedIterator {
  next(): ShapedResult {
    return this.step(5, 2, undefined);
  }
}
function* iteratorActor(): Generator<number, void, void> {
  const old = yield* new IterAcquire() as Iterable<number, number>;
  const v = yield* new IterRead() as Iterable<number, number>;
  yield* new IterWrite() as Iterable<number, void>;
  if (old + v < 0) throw new Error('unreachable: keeps the return values live');
  yield* new IterRelease() as Iterable<number, void>;
}

const bareIteratorShaped = (totalYields: number): number => driveActors(totalYields, iteratorActor);

/** Runs `schedules` executions (ignoring failures) and returns steps and elapsed time. */
function drive(run: ControlledRun, strategy: Strategy, schedules: number): { steps: number; ms: number } {
  let steps = 0;
  const t0 = now();
  for (let i = 0; i < schedules; i++) {
    strategy.newExecution(i);
    steps += run.execute(strategy).steps;
  }
  return { steps, ms: now() - t0 };
}

/**
 * Always the default choice (keep running the same CPU): no PRNG and no
 * deviation recorded. The engine's own share of a step is what this saves.
 */
const defaultOnly: Strategy = {
  name: 'default',
  newExecution: () => true,
  next: (choices, count, current) => defaultChoice(choices, count, current),
};

/** Two threads on two CPUs, each taking a spin lock 12 times: about 100 steps per run. */
export const twoThread100: Scenario = defineScenario({
  id: 'bench/two-thread-100',
  title: 'bench: two threads, ~100 steps',
  description: 'Two threads increment a shared counter under a KSPIN_LOCK, twelve times each.',
  family: 'bench',
  setup: (k) => ({ lock: k.KeInitializeSpinLock(), counter: k.ExAllocatePool2(0, 4, 'Cntr') }),
  actors: {
    a: {
      cpu: 0,
      *run(k, s) {
        for (let i = 0; i < 12; i++) {
          const old = yield* k.KeAcquireSpinLock(s.lock);
          yield* k.InterlockedIncrement(s.counter);
          yield* k.KeReleaseSpinLock(s.lock, old);
        }
      },
    },
    b: {
      cpu: 1,
      *run(k, s) {
        for (let i = 0; i < 12; i++) {
          const old = yield* k.KeAcquireSpinLock(s.lock);
          yield* k.InterlockedIncrement(s.counter);
          yield* k.KeReleaseSpinLock(s.lock, old);
        }
      },
    },
  },
  expect: 'pass',
});

const engineBench: BenchModule = {
  title: 'controlled engine',
  async run(ctx) {
    const rows: BenchRow[] = [];
    const rig = presetRig('dual-opteron-240')!;
    const { default: keSpinlock } = await import('../scenarios/spinlock/ke-spinlock.ts');
    const n = ctx.quick ? 5_000 : 50_000;
    // Warm up the JIT on both sides before measuring.
    const run = new ControlledRun(rig, keSpinlock);
    drive(run, new RandomStrategy(7), 2_000);
    bareGeneratorLoop(200_000, 3);
    bareGeneratorSchedules(2_000, 22, 3);
    bareScenarioShaped(50_000);
    bareIteratorShaped(50_000);
    // Engine and references alternate in rounds, each ratio taken within its round: on a shared host
    // the load changes between rounds, and a ratio of two medians taken minutes apart says little.
    const rounds = ctx.quick ? 3 : 5;
    const engine: number[] = [];
    const ratios: number[][] = [[], [], []];
    const bases: number[][] = [[], [], []];
    // The two shapes without an engine, against the bare loop: the most any engine could reach with them.
    const ceilings: [number[], number[]] = [[], []];
    const shapedIter: number[] = [];
    const cheapest: number[] = [];
    const cheapestRatios: number[] = [];
    let steps = 0;
    for (let round = 0; round < rounds; round++) {
      const r = drive(run, new RandomStrategy(1), n);
      steps = r.steps;
      const e = r.steps / (r.ms / 1000);
      engine.push(e);
      const refs = [bareGeneratorLoop(r.steps, 3), bareGeneratorSchedules(n, r.steps / n, 3), bareScenarioShaped(r.steps)];
      refs.forEach((b, i) => {
        bases[i]!.push(b);
        ratios[i]!.push(e / b);
      });
      const d = drive(run, defaultOnly, n);
      cheapest.push(d.steps / (d.ms / 1000));
      cheapestRatios.push(cheapest[round]! / refs[0]!);
      const iterShaped = bareIteratorShaped(r.steps);
      ceilings[0].push(refs[2]! / refs[0]!);
      ceilings[1].push(iterShaped / refs[0]!);
      shapedIter.push(iterShaped);
    }
    const engineSteps = median(engine);
    const names = [
      'bare generator loop, same yields',
      'bare generators created per schedule, same yields',
      'bare generators shaped like the scenario (actor → yield* per kernel call), same yields',
    ];
    names.forEach((name, i) => {
      rows.push({
        name: i === 0 ? 'steps/s, spinlock/ke-spinlock on dual-opteron-240 (random)' : 'steps/s, spinlock/ke-spinlock (same run)',
        value: Math.round(engineSteps),
        unit: 'steps/s',
        baseline: { name, value: Math.round(median(bases[i]!)) },
        ratio: median(ratios[i]!),
        ...(i === 0 ? { note: `${n} schedules × ${rounds} rounds, ${steps} steps each; medians, ratio within each round` } : {}),
      });
    });

    rows.push({
      name: 'steps/s, spinlock/ke-spinlock, always the default choice (no PRNG)',
      value: Math.round(median(cheapest)),
      unit: 'steps/s',
      baseline: { name: 'bare generator loop, same yields', value: Math.round(median(bases[0]!)) },
      ratio: median(cheapestRatios),
      note: 'no PRNG and no deviation recorded: the difference from the random row is the strategy\'s share of a step',
    });
    rows.push({
      name: 'yields/s, generators shaped like the scenario, no engine (a ceiling for any engine)',
      value: Math.round(median(bases[2]!)),
      unit: 'yields/s',
      baseline: { name: 'bare generator loop, same yields', value: Math.round(median(bases[0]!)) },
      ratio: median(ceilings[0]),
    });
    rows.push({
      name: 'yields/s, kernel calls as hand-written iterators, actor generators, no engine',
      value: Math.round(median(shapedIter)),
      unit: 'yields/s',
      baseline: { name: 'bare generator loop, same yields', value: Math.round(median(bases[0]!)) },
      ratio: median(ceilings[1]),
      note: 'the iterator redesign of the kernel routines: its ceiling',
    });

    const run2 = new ControlledRun(rig, twoThread100);
    drive(run2, new PctStrategy(7, 3), 2_000);
    const r2 = drive(run2, new PctStrategy(1, 3), n);
    rows.push({
      name: 'schedules/s, two threads ~100 steps (pct d=3)',
      value: Math.round(n / (r2.ms / 1000)),
      unit: 'schedules/s',
      note: `${(r2.steps / n).toFixed(1)} steps per schedule`,
    });

    const { loadAllScenarios } = await import('../src/workers/node-load.ts');
    const per = ctx.quick ? 1_000 : 10_000;
    for (const s of await loadAllScenarios()) {
      const run3 = new ControlledRun(rig, s);
      drive(run3, new PctStrategy(7, 3), Math.min(500, per));
      const r3 = drive(run3, new PctStrategy(1, 3), per);
      rows.push({
        name: `schedules/s, ${s.id} on ${rig.id} (pct d=3)`,
        value: Math.round(per / (r3.ms / 1000)),
        unit: 'schedules/s',
        note: `${(r3.steps / per).toFixed(1)} steps per schedule`,
      });
    }
    return rows;
  },
};
export default engineBench;
