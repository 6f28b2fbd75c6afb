/**
 * Names an address by what lives there, for traces: a field of a kernel
 * object (`Irp->CancelRoutine`), a field of the scenario's state
 * (`s.counter`, `s.queue.Flink`), or a pool block by its tag
 * (`pool block 'Strm' +0x8`). Called only while a trace is recorded.
 */
import { objectLayout } from '../kernel/field-names.ts';
import type { Machine } from '../machine/machine.ts';

/** The names of the scenario state's fields that hold an object (setup's return value). */
export function stateFieldNames(state: unknown): Set<string> {
  const out = new Set<string>();
  if (typeof state !== 'object' || state === null) return out;
  for (const [k, v] of Object.entries(state as Record<string, unknown>)) if (typeof v === 'number') out.add(k);
  return out;
}

export function addressName(m: Machine, a: number, stateFields: ReadonlySet<string>): string {
  const b = m.memory.blockAt(a);
  if (!b) return m.nameOf(a);
  const off = a - b.addr;
  const base = m.names.get(b.addr);
  const owner = base === undefined ? undefined : stateFields.has(base) ? `s.${base}` : base;
  const freed = b.freed ? ' (freed)' : '';
  const lay = objectLayout(b.tag);
  const field = lay?.fields.get(off);
  if (lay && field !== undefined) {
    if (lay.variable !== undefined) {
      const who = base !== undefined && base.toLowerCase() === lay.variable.toLowerCase() ? lay.variable : (owner ?? b.tag);
      return `${who}->${field}${freed}`;
    }
    return `${owner ?? b.tag}.${field}${freed}`;
  }
  const exact = off === 0 ? undefined : m.names.get(a);
  if (exact !== undefined) return `${exact}${freed}`;
  const hex = `+0x${(off * 4).toString(16)}`;
  if (owner !== undefined) return `${owner}${off === 0 ? '' : hex}${freed}`;
  return `pool block '${b.tag}'${off === 0 ? '' : ` ${hex}`}${freed}`;
}
