import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/machine/bugcheck.ts';
import { defineScenario } from '../../src/scenario/define.ts';
import { loadAllScenarios } from '../../src/workers/node-load.ts';
import type { Kernel } from '../../src/kernel/kernel.ts';

type S = { lock: number; p: number };
const setup = (k: Kernel): S => ({ lock: k.KeInitializeSpinLock(), p: k.ExAllocatePool2(0, 4, 'Cntr') });

function define(run: (k: Kernel, s: S) => Generator<number, unknown, unknown>, s: (k: Kernel) => S = setup) {
  return defineScenario<S>({ id: 'lint/x', title: 't', description: 'd', family: 'lint', setup: s, actors: { worker: { run } }, expect: 'pass' });
}

describe('a kernel routine called without yield*', () => {
  it('is refused when it stands as a statement, naming the actor, the routine and the line', () => {
    const call = () =>
      define(function* (k, s) {
        k.KeAcquireSpinLock(s.lock);
        yield* k.WriteNoFence(s.p, 1);
      });
    expect(call).toThrow(ScenarioError);
    expect(call).toThrow(/actor 'worker' calls k\.KeAcquireSpinLock\(…\) without yield\* \("k\.KeAcquireSpinLock\(s\.lock\);"\)/);
  });

  it('is refused when its generator is assigned instead of its result', () => {
    expect(() =>
      define(function* (kernel, s) {
        const old = kernel.KeAcquireSpinLock(s.lock);
        yield* kernel.KeReleaseSpinLock(s.lock, old as unknown as number);
      }),
    ).toThrow(/calls kernel\.KeAcquireSpinLock\(…\) without yield\*/);
  });

  it('is refused after an if head without braces', () => {
    expect(() =>
      define(function* (k, s) {
        if (s.p !== 0) k.InterlockedIncrement(s.p);
        yield* k.YieldProcessor();
      }),
    ).toThrow(/InterlockedIncrement/);
  });

  it('is refused in setup, which runs before any processor', () => {
    expect(() =>
      define(
        function* (k, s) {
          yield* k.WriteNoFence(s.p, 1);
        },
        (k) => {
          const lock = k.KeInitializeSpinLock();
          k.KeAcquireSpinLock(lock);
          return { lock, p: k.ExAllocatePool2(0, 4, 'Cntr') };
        },
      ),
    ).toThrow(/setup calls k\.KeAcquireSpinLock/);
  });

  it('is accepted with yield*, inside an expression, in a callback that returns the routine, and in comments or strings', () => {
    expect(() =>
      define(function* (k, s) {
        const old = yield* k.KeAcquireSpinLock(s.lock);
        yield* (s.p > 0 ? k.ReadNoFence(s.p) : k.YieldProcessor());
        const routine = (kk: Kernel) => kk.InterlockedIncrement(s.p);
        yield* routine(k);
        // k.KeAcquireSpinLock(s.lock); in a comment
        const text = 'k.KeReleaseSpinLock(s.lock, old);';
        yield* k.KeReleaseSpinLock(s.lock, old + text.length * 0);
        k.KeInitializeSpinLock(); // a plain initializer, not a scheduling point
      }),
    ).not.toThrow();
  });

  it('leaves plain-function twins alone (free-run strips yield* from the same source)', () => {
    const twin = function (k: Kernel, s: S) {
      k.KeAcquireSpinLock(s.lock);
    } as unknown as (k: Kernel, s: S) => Generator<number, unknown, unknown>;
    expect(() => define(twin)).not.toThrow();
  });

  it('finds nothing to refuse in the shipped scenarios', async () => {
    const all = await loadAllScenarios();
    expect(all.length).toBeGreaterThanOrEqual(32);
  });
});
