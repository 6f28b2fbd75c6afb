/**
 * The limits a CLI run puts on scenario code (docs/limits.md): each has a
 * default and an environment variable that changes it.
 */

function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Wall time a worker may go without a step (or, before its first schedule, without loading its scenario). */
export function stallLimitMs(): number {
  return envNumber('RACEBOX_STALL_MS', 10_000);
}

/** The JavaScript heap of one worker thread (worker resourceLimits.maxOldGenerationSizeMb). */
export function heapLimitMb(): number {
  return envNumber('RACEBOX_HEAP_MB', 2048);
}

/**
 * Resident memory of the whole process, sampled by the coordinator: it counts
 * what the heap limit does not (ArrayBuffers, Buffers of every worker).
 */
export function processLimitMb(): number {
  return envNumber('RACEBOX_MEMORY_MB', 4096);
}

/** Largest rig or scenario file read. */
export function fileLimitBytes(): number {
  return envNumber('RACEBOX_FILE_KB', 1024) * 1024;
}

export const workerResourceLimits = (): { maxOldGenerationSizeMb: number } => ({ maxOldGenerationSizeMb: heapLimitMb() });

/** Over the process memory limit: says so in words (the run then ends as error); undefined while under it. */
export function processMemoryOver(): string | undefined {
  const used = process.memoryUsage.rss();
  const limit = processLimitMb();
  if (used <= limit * 2 ** 20) return undefined;
  return `the scenario used more than the memory limit of ${limit} MB for the whole run (${Math.round(used / 2 ** 20)} MB resident, ArrayBuffers included; RACEBOX_MEMORY_MB changes the limit)`;
}

/** Words for a worker thread that ended with an error (out of memory among them). */
export function describeWorkerError(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  if (err && err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `the scenario used more than the memory limit of ${heapLimitMb()} MB of JavaScript heap per worker (RACEBOX_HEAP_MB changes the limit)`;
  }
  const msg = typeof err?.message === 'string' ? err.message.split('\n')[0]! : String(e);
  return `the worker thread failed: ${msg.slice(0, 200)}`;
}
