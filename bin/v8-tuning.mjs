// V8's inliner stops at 920 bytes of bytecode per optimized function. A critical section of a
// free-run twin is a chain of small kernel routines (KeAcquireSpinLock → at → cmpxchg → …), and
// with the default budget a third of those calls stay real calls, each cutting the optimizer's
// view of the machine state in two. A larger budget lets V8 compile a whole critical section as
// one piece: measured with `racebox bench --only free-run`, it is the difference between about
// 40% and 50–70% of a hand-written Atomics loop. The flags are process-wide, so setting them in
// the main thread before any worker starts covers every CPU worker; a browser keeps its defaults.
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const FLAGS = '--max-inlined-bytecode-size-cumulative=4000';

// RACEBOX_V8_DEFAULTS=1 keeps V8's defaults (to compare, or to measure what a browser would see).
// Only the main thread sets them, before it starts any worker (worker entries import this file too).
if (process.env.RACEBOX_V8_DEFAULTS !== '1' && isMainThread) {
  v8.setFlagsFromString(FLAGS);
  // `racebox bench` names the flags in its header.
  globalThis.__raceboxV8Flags = FLAGS;
}
