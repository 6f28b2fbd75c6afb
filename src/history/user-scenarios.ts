/** The user's own scenarios: source text only. Nothing here evaluates it (the worker transpiles and runs it). */
import { check } from './check.ts';
import { readTx, writeTx, type History } from './db.ts';
import { HistoryValidationError } from './errors.ts';
import type { ScenarioOrigin, UserScenario } from './types.ts';
import { userScenarioCheck } from './validate.ts';

/** Stores (or replaces) a scenario; updatedAt defaults to now. Returns the stored record. */
export async function putUserScenario(
  h: History,
  scenario: Omit<UserScenario, 'updatedAt'> & { updatedAt?: number },
): Promise<UserScenario> {
  const r = check(userScenarioCheck, { ...scenario, updatedAt: scenario.updatedAt ?? Date.now() });
  if (!r.ok) throw new HistoryValidationError('user scenario', r.errors);
  await writeTx(h, ['userScenarios'], (tx) => tx.objectStore('userScenarios').put(r.value));
  return r.value;
}

export async function getUserScenario(h: History, id: string): Promise<UserScenario | undefined> {
  return readTx(h, ['userScenarios'], (tx) => tx.objectStore('userScenarios').get(id));
}

/** All user scenarios, by id. */
export async function listUserScenarios(h: History): Promise<UserScenario[]> {
  return readTx(h, ['userScenarios'], (tx) => tx.objectStore('userScenarios').getAll());
}

export async function deleteUserScenario(h: History, id: string): Promise<boolean> {
  return writeTx(h, ['userScenarios'], async (tx) => {
    const store = tx.objectStore('userScenarios');
    if ((await store.getKey(id)) === undefined) return false;
    await store.delete(id);
    return true;
  });
}

/**
 * Marks scenarios as imported (`origin`), in one transaction; ids not stored are skipped. Returns how many
 * were marked. The app asks before it runs an imported scenario's code from a link, naming where it came from.
 */
export async function markImported(h: History, ids: readonly string[], origin: ScenarioOrigin): Promise<number> {
  if (ids.length === 0) return 0;
  return writeTx(h, ['userScenarios'], async (tx) => {
    const store = tx.objectStore('userScenarios');
    let marked = 0;
    for (const id of ids) {
      const s = await store.get(id);
      if (s === undefined) continue;
      await store.put({ ...s, origin });
      marked++;
    }
    return marked;
  });
}
