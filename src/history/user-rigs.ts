/** The user's own rigs, keyed by rig id. Every write goes through validateRig. */
import { RigError, validateRig, type Rig } from '../machine/rig.ts';
import { readTx, writeTx, type History } from './db.ts';

/**
 * Validates and stores a rig (replacing one with the same id); returns the
 * stored, normalized rig. An invalid rig throws RigError with every field error.
 */
export async function putUserRig(h: History, rig: unknown): Promise<Rig> {
  const r = validateRig(rig);
  if (!r.ok) throw new RigError('user rig', r.errors);
  await writeTx(h, ['userRigs'], (tx) => tx.objectStore('userRigs').put(r.rig));
  return r.rig;
}

export async function getUserRig(h: History, id: string): Promise<Rig | undefined> {
  return readTx(h, ['userRigs'], (tx) => tx.objectStore('userRigs').get(id));
}

/** All user rigs, by id. */
export async function listUserRigs(h: History): Promise<Rig[]> {
  return readTx(h, ['userRigs'], (tx) => tx.objectStore('userRigs').getAll());
}

/** Runs made on the rig keep their own copy of it. */
export async function deleteUserRig(h: History, id: string): Promise<boolean> {
  return writeTx(h, ['userRigs'], async (tx) => {
    const store = tx.objectStore('userRigs');
    if ((await store.getKey(id)) === undefined) return false;
    await store.delete(id);
    return true;
  });
}
