/**
 * Lock loops for free-run benchmarks and mutual-exclusion checks: four
 * threads (folded onto the rig's CPUs) each take one lock `rounds` times and
 * increment a shared counter inside it with a plain read and a plain write.
 * Mutual exclusion holds iff no increment is lost. Scenario files in this
 * folder pick the lock: test-and-set (spinlock/naive-tas's lock, with the IRQL
 * raise it lacks), test-and-test-and-set (spinlock/ttas's lock), the executive
 * spin lock (KeAcquireSpinLock) or the in-stack queued spin lock.
 */
import { defineScenario, DISPATCH_LEVEL, type Kernel, type Scenario } from 'racebox';

export type LockKind = 'tas' | 'ttas' | 'ke' | 'queued';
export const LOOP_THREADS = 4;

interface State {
  lock: number;
  counter: number;
}

function* tas(k: Kernel, s: State, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
    while (yield* k.InterlockedExchange(s.lock, 1));
    const v = yield* k.ReadNoFence(s.counter);
    yield* k.WriteNoFence(s.counter, v + 1);
    yield* k.WriteNoFence(s.lock, 0);
    yield* k.KeLowerIrql(old);
  }
}

function* ttas(k: Kernel, s: State, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    const old = yield* k.KeRaiseIrql(DISPATCH_LEVEL);
    while (yield* k.InterlockedExchange(s.lock, 1)) {
      while ((yield* k.ReadNoFence(s.lock)) !== 0);
    }
    const v = yield* k.ReadNoFence(s.counter);
    yield* k.WriteNoFence(s.counter, v + 1);
    yield* k.WriteNoFence(s.lock, 0);
    yield* k.KeLowerIrql(old);
  }
}

function* ke(k: Kernel, s: State, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    const old = yield* k.KeAcquireSpinLock(s.lock);
    const v = yield* k.ReadNoFence(s.counter);
    yield* k.WriteNoFence(s.counter, v + 1);
    yield* k.KeReleaseSpinLock(s.lock, old);
  }
}

function* queued(k: Kernel, s: State, rounds: number) {
  for (let i = 0; i < rounds; i++) {
    const h = yield* k.KeAcquireInStackQueuedSpinLock(s.lock);
    const v = yield* k.ReadNoFence(s.counter);
    yield* k.WriteNoFence(s.counter, v + 1);
    yield* k.KeReleaseInStackQueuedSpinLock(h);
  }
}

const BODIES = { tas, ttas, ke, queued };

/** `threads` threads on CPUs 0, 1, ... (folded onto the rig's CPUs), each taking the lock `rounds` times. */
export function lockLoop(kind: LockKind, rounds: number, threads = LOOP_THREADS): Scenario {
  const body = BODIES[kind];
  const actors: Record<string, { cpu: number; run: (k: Kernel, s: State) => Generator<number, void, void> }> = {};
  for (let t = 0; t < threads; t++) actors[`cpu${t}`] = { cpu: t, run: (k, s) => body(k, s, rounds) };
  return defineScenario<State>({
    id: `free-loop/${kind}-${threads}`,
    title: `${kind} lock loop`,
    description: `${threads} threads take a ${kind} lock ${rounds} times each and increment a counter inside it.`,
    family: 'free-loop',
    // Lock word and counter a cache line apart, as in the benchmark's plain loop: on one line, every
    // waiter's read of the lock would pull the line away from the holder's counter update.
    setup: (k) => ({ lock: k.KeInitializeSpinLock(k.ExAllocatePool2(0, 64, 'Lock')), counter: k.ExAllocatePool2(0, 64, 'Cntr') }),
    actors,
    invariants: {
      'mutual exclusion': (s, k) =>
        k.peek(s.counter) === threads * rounds || `counter is ${k.peek(s.counter)}, expected ${threads * rounds}: two CPUs were inside the lock at once`,
    },
    expect: 'pass',
  });
}
