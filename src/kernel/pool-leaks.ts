/**
 * Driver Verifier's pool tracking at unload: a driver that unloads with pool
 * still allocated under its tags bug-checks DRIVER_VERIFIER_DETECTED_VIOLATION
 * (0xC4) with parameter 1 = 0x62 ("a driver has forgotten to free its pool
 * allocations prior to unloading"); parameter 4 is the number of allocations
 * not freed. Parameters 2 and 3 (the driver's name, Verifier's entry for it)
 * are addresses the box does not have: 0.
 *
 * Only a checked build (Verifier on) checks; on a free build the leak goes
 * unseen, as in the field. The check is a plain function of the machine's pool
 * at the moment it is called, so it can run at the end of a run or from a
 * driver-unload hook. Under free-run it sees the blocks this CPU worker knows
 * (setup's and its own), freed by any CPU.
 */
import { BugCheck } from '../machine/bugcheck.ts';
import type { Kernel } from './kernel.ts';
import { registerUnloadCheck } from './unload.ts';

export const VERIFIER_POOL_LEAK_AT_UNLOAD = 0x62;

/**
 * Which tags belong to the driver: a list of pool tags, or 'all' for every tag the scenario's
 * setup and actors allocated pool under (ExAllocatePool2 / ExAllocatePoolWithTag). Kernel objects
 * the box allocates itself (IRPs, threads, wait blocks) are never pool of the driver's.
 */
export type DriverTags = readonly string[] | 'all';

/** Outstanding driver pool by tag, in the order the tags were first allocated. */
export function outstandingByTag(k: Kernel, tags: DriverTags): Map<string, number> {
  const out = new Map<string, number>();
  const wanted = tags === 'all' ? null : new Set(tags);
  const memory = k.m.memory;
  for (const b of memory.blocks.values()) {
    if (!b.pool || !memory.live(b) || (wanted !== null && !wanted.has(b.tag))) continue;
    out.set(b.tag, (out.get(b.tag) ?? 0) + 1);
  }
  return out;
}

/**
 * The unload check: undefined when the driver's pool is all freed (or the build is free), else the
 * 0xC4/0x62 bug check naming each tag and its count.
 */
export function poolLeakCheck(k: Kernel, tags: DriverTags): BugCheck | undefined {
  if (!k.m.checked) return undefined;
  const left = outstandingByTag(k, tags);
  if (left.size === 0) return undefined;
  let total = 0;
  const parts: string[] = [];
  for (const [tag, n] of left) {
    total += n;
    parts.push(`'${tag}' × ${n}`);
  }
  return new BugCheck(
    0xc4, VERIFIER_POOL_LEAK_AT_UNLOAD, 0, 0, total,
    `the driver unloaded with ${total} pool allocation${total === 1 ? '' : 's'} never freed: ${parts.join(', ')}`,
  );
}

/** With an unload actor, Verifier's pool tracking looks when the image unloads (else at the run's end). */
registerUnloadCheck((k, driver) => (driver.poolTags !== undefined ? poolLeakCheck(k, driver.poolTags) ?? null : null));
