// V8's inliner stops at 920 bytes of bytecode per optimized function. A critical section of a
// free-run twin is a chain of small kernel routines (KeAcquireSpinLock → at → cmpxchg → …), and
// with the default budget a third of those calls stay real calls, each cutting the optimizer's
// view of the machine state in two. A larger budget lets V8 compile a whole critical section as
// one piece: measured with `racebox bench --only free-run`, it is the difference between about
// 40% and 50–70% of a hand-written Atomics loop. The flags are process-wide, so setting them in
// the main thread before any worker starts covers every CPU worker; a browser keeps its defaults.
// --no-concurrent-recompilation: V8 optimizes on background threads by default, and with as many
// spinning CPU workers as host cores those threads wait for a core while every CPU runs unoptimized
// code (and, at a lock hand-off, waits for the slowest). Compiling on the CPU's own thread measured
// 140 ms instead of 210 ms to full speed for test-and-set on 2 CPUs (2-core host), about 7% more
// critical sections in a 1.5 s run.
import v8 from 'node:v8';
import { isMainThread } from 'node:worker_threads';

const FLAGS = '--max-inlined-bytecode-size-cumulative=4000 --no-concurrent-recompilation';

// RACEBOX_V8_DEFAULTS=1 keeps V8's defaults (to compare, or to measure what a browser would see).
// Only the main thread sets them, before it starts any worker (worker entries import this file too).
if (process.env.RACEBOX_V8_DEFAULTS !== '1' && isMainThread) {
  v8.setFlagsFromString(FLAGS);
  // `racebox bench` names the flags in its header.
  globalThis.__raceboxV8Flags = FLAGS;
}
