/**
 * What a scenario file imports: `import { defineScenario, DISPATCH_LEVEL } from 'racebox'`.
 * The kernel itself arrives as the `k` argument of setup and of every routine.
 */
export { defineScenario } from './define.ts';
export { defineConfig } from './config.ts';
export type { RaceboxConfig, RegressSettings, RegressStrategy } from './config.ts';
export type {
  Actor, DpcActor, ExpectRule, ExpectedOutcome, Invariant, InterruptActor, RigSelector, Scenario,
  ScenarioDefinition, ThreadActor,
} from './define.ts';
export type { Kernel } from '../kernel/kernel.ts';
export type { VolatileSemantics } from '../kernel/ordering.ts';
export type { Routine } from '../machine/ops.ts';
export * from '../machine/irql.ts';
export * from '../kernel/status.ts';
export { POOL_FLAG_NON_PAGED, POOL_FLAG_PAGED, NonPagedPool, PagedPool } from '../kernel/pool.ts';
export { HighImportance, LowImportance, MediumImportance } from '../kernel/dpc.ts';
export { watchQueuedLock } from '../kernel/queued-spinlock.ts';
export { NotificationTimer, SynchronizationTimer, KTIMER_WORDS } from '../kernel/timer.ts';
export { CriticalWorkQueue, DelayedWorkQueue } from '../kernel/workitem.ts';
export { CONNECT_FULLY_SPECIFIED, CONNECT_LINE_BASED, CONNECT_MESSAGE_BASED } from '../kernel/interrupt.ts';
export { EX_SPIN_LOCK_EXCLUSIVE } from '../kernel/rwspinlock.ts';
