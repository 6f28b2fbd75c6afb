/**
 * What an actor's run(k, s) may hand the engine: a generator. An async function or async
 * generator runs on the microtask queue, where no step of it is a scheduling point the engine
 * can interleave — so its awaits would test nothing. Both engines refuse it by name.
 */
import { ScenarioError } from '../machine/bugcheck.ts';
import { pendingRoutine, pendingRoutineName } from '../machine/cpu.ts';

/** A Promise (async function) or an async generator (async function*). */
export function isAsync(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  return typeof (v as { then?: unknown }).then === 'function' || typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

export function asyncActor(scenarioId: string, actor: string): ScenarioError {
  return new ScenarioError(
    `scenario '${scenarioId}': actor '${actor}' is async (it returned a Promise or an async generator): the engine interleaves ` +
      'only generator steps, so nothing after an await is tested. Write *run(k, s) { … } with yield* k.Routine(…) instead of async and await.',
  );
}

/** setup runs before any processor: a kernel routine it called (without yield*, the only way it can) never ran. */
export function checkSetupCalls(scenarioId: string): void {
  if (pendingRoutine.call === null) return;
  const name = pendingRoutineName();
  pendingRoutine.call = null;
  throw new ScenarioError(
    `scenario '${scenarioId}': setup calls k.${name}(…), a scheduling point, and setup runs before any processor does: ` +
      `it never ran. Initialize objects in setup (k.KeInitializeSpinLock(), k.ExAllocatePool2(…), k.poke(…)) and call ${name} from an actor with yield*.`,
  );
}
