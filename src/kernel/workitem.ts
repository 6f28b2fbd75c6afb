/**
 * I/O work items (WDK "System Worker Threads"; IoAllocateWorkItem, IoQueueWorkItem(Ex),
 * IoFreeWorkItem). A driver queues an IO_WORKITEM with a routine and a context; a system worker
 * thread later takes it off the queue and calls the routine at PASSIVE_LEVEL, in a system thread.
 *
 * The box's system worker threads: while the queue holds an item, each online processor offers an
 * asynchronous event "a worker thread on CPU n picks up the next item" — the strategy decides when
 * and on which processor (the events are made at the run's first IoQueueWorkItem, in processor
 * order, so their indices replay). Firing one dequeues the oldest item and starts a thread on that
 * processor that runs the routine, then checks the IRQL it returned at
 * (WORKER_THREAD_RETURNED_AT_BAD_IRQL, 0xE1).
 *
 * While an item is queued or its routine runs, the I/O manager holds a reference on the work
 * item's device object — and so on the driver: a DriverUnload that returns meanwhile is not the
 * end of the image, which stays until the routine returns (unload.ts). What the reference does not
 * protect is the driver's own memory: a routine that uses a context DriverUnload freed is a
 * use-after-free (checked build, special pool: 0xD5 at the access).
 *
 * Checked build (Driver Verifier): IoAllocateWorkItem, IoQueueWorkItem(Ex) and IoFreeWorkItem
 * above DISPATCH_LEVEL are 0xC4/0xE5. Freeing a work item that is still queued frees the memory
 * the worker thread is about to read: special pool stops the machine there (0xD5).
 */
import { BugCheck, ScenarioError, verifierViolation } from '../machine/bugcheck.ts';
import type { AsyncEvent } from '../machine/machine.ts';
import { DISPATCH_LEVEL, irqlName, PASSIVE_LEVEL } from '../machine/irql.ts';
import { OP_KERNEL, type Routine } from '../machine/ops.ts';
import type { Kernel } from './kernel.ts';
import { checkDriverCode, dereferenceDriver, driverState, referenceDriver } from './unload.ts';

/** WORK_QUEUE_TYPE. Drivers must use DelayedWorkQueue. */
export const CriticalWorkQueue = 0;
export const DelayedWorkQueue = 1;

/** IO_WORKITEM layout (words). */
export const WI_DEVICE_OBJECT = 0;
/** 1 while the item is queued (a worker thread has not taken it yet). */
export const WI_QUEUED = 1;
export const WI_CONTEXT = 2;
export const IO_WORKITEM_WORDS = 4;

export type PIO_WORKITEM = number;
/** IO_WORKITEM_ROUTINE: (DeviceObject, Context). */
export type IO_WORKITEM_ROUTINE = (k: Kernel, deviceObject: number, context: number) => Routine<unknown>;
/** IO_WORKITEM_ROUTINE_EX: (IoObject, Context, IoWorkItem). */
export type IO_WORKITEM_ROUTINE_EX = (k: Kernel, ioObject: number, context: number, ioWorkItem: PIO_WORKITEM) => Routine<unknown>;

interface QueuedItem {
  item: PIO_WORKITEM;
  routine: IO_WORKITEM_ROUTINE | IO_WORKITEM_ROUTINE_EX;
  ex: boolean;
  context: number;
  name: string;
}

/** A system worker thread on one processor, ready to pick up the next queued item. */
class WorkerEvent implements AsyncEvent {
  armed = false;
  readonly name: string;
  constructor(
    private readonly k: Kernel,
    readonly cpu: number,
  ) {
    this.name = `system worker thread (CPU ${cpu})`;
  }

  fire(): void {
    runNextItem(this.k, this.cpu);
  }
}

/** The family's per-run state: the delayed work queue and the worker threads that serve it. */
export class WorkQueueState {
  readonly queue: QueuedItem[] = [];
  readonly workers: WorkerEvent[] = [];
  /** Worker threads started so far (they are named after it). */
  started = 0;
}

function wstate(k: Kernel): WorkQueueState {
  return k.perRun('workitem', () => new WorkQueueState());
}

function armWorkers(st: WorkQueueState): void {
  const armed = st.queue.length !== 0;
  for (const w of st.workers) w.armed = armed;
}

/** Checked build: a work-item routine called above DISPATCH_LEVEL (Verifier 0xC4/0xE5). */
function checkIrql(k: Kernel, api: string, item: number): void {
  const irql = k.m.cur.cpu.irql;
  if (k.m.checked && irql > DISPATCH_LEVEL) {
    throw verifierViolation(0xe5, irql, item * 4, 0, `${api} called at ${irqlName(irql)} (allowed up to DISPATCH_LEVEL)`);
  }
}

/** A worker thread on `cpu` takes the oldest queued item and starts running its routine. */
function runNextItem(k: Kernel, cpu: number): void {
  const m = k.m;
  const st = wstate(k);
  const q = st.queue.shift();
  armWorkers(st);
  if (!q) return;
  // The worker reads the IO_WORKITEM as it dequeues it: one freed meanwhile faults here (0xD5).
  const device = m.read(q.item + WI_DEVICE_OBJECT);
  m.write(q.item + WI_QUEUED, 0);
  st.started++;
  m.createThread(`worker: ${q.name}`, m.cpus[cpu]!, PASSIVE_LEVEL, workerThread(k, q, device));
}

/** The system worker thread's body for one item: the routine at PASSIVE_LEVEL, then the I/O manager's dereference. */
function* workerThread(k: Kernel, q: QueuedItem, device: number): Routine<void> {
  checkDriverCode(k, q.routine, q.name, 'work item routine');
  const r = q.ex ? (q.routine as IO_WORKITEM_ROUTINE_EX)(k, device, q.context, q.item) : (q.routine as IO_WORKITEM_ROUTINE)(k, device, q.context);
  if (!r || typeof (r as Routine<unknown>).next !== 'function') throw new ScenarioError(`work item routine '${q.name}' must be a generator function (function*)`);
  yield* r;
  // The thread's own IRQL: a DPC the routine queued to this CPU as its last act runs above it.
  const irql = k.m.threadIrql(k.m.cur.thread!);
  if (irql !== PASSIVE_LEVEL) {
    const a = driverState(k).addressOf(q.routine);
    throw new BugCheck(0xe1, a, irql, q.context, q.item * 4, `work item routine '${q.name}' returned at ${irqlName(irql)} (a lock or KeRaiseIrql was never undone)`);
  }
  dereferenceDriver(k, q.name);
}

function* queue(k: Kernel, api: string, item: PIO_WORKITEM, routine: unknown, queueType: number, context: number, ex: boolean): Routine<void> {
  const m = k.m;
  m.cur.apiStack.push(api);
  if (typeof routine !== 'function') throw new ScenarioError(`${api}: WorkerRoutine must be a generator function`);
  if (queueType !== DelayedWorkQueue && queueType !== CriticalWorkQueue) {
    throw new ScenarioError(`${api}: QueueType must be DelayedWorkQueue (drivers must use it) or CriticalWorkQueue (got ${queueType})`);
  }
  checkIrql(k, api, item);
  yield m.at(OP_KERNEL, item + WI_QUEUED);
  if (m.read(item + WI_QUEUED) === 1) {
    // Inserting the same LIST_ENTRY twice breaks the work queue's list (derived: Windows documents no check).
    throw new BugCheck(0x139, 3, 0, 0, 0, `${api}: work item ${m.nameOf(item)} queued again while still queued (its list entry is linked twice)`);
  }
  m.write(item + WI_QUEUED, 1);
  m.write(item + WI_CONTEXT, context);
  const st = wstate(k);
  if (st.workers.length === 0) {
    for (const cpu of m.online) {
      const w = new WorkerEvent(k, cpu.index);
      st.workers.push(w);
      m.events.push(w);
    }
  }
  const name = (routine as { name?: string }).name || 'WorkerRoutine';
  st.queue.push({ item, routine: routine as IO_WORKITEM_ROUTINE, ex, context, name });
  referenceDriver(k, name);
  armWorkers(st);
  m.cur.apiStack.pop();
}

export const workItemApi = {
  /**
   * IRQL ≤ DISPATCH_LEVEL. Allocates an IO_WORKITEM (non-paged pool, tag 'IoWI') for work done on
   * behalf of `deviceObject` (any address standing for the driver's device object). Returns it.
   */
  IoAllocateWorkItem(this: Kernel, deviceObject: number): PIO_WORKITEM {
    checkIrql(this, 'IoAllocateWorkItem', 0);
    const item = this.m.memory.alloc(IO_WORKITEM_WORDS, 'IoWI');
    this.m.words[item + WI_DEVICE_OBJECT] = deviceObject;
    return item;
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Queues the item: a system worker thread will call
   * `workerRoutine(k, DeviceObject, context)` at PASSIVE_LEVEL. Until that routine returns the I/O
   * manager holds a reference on the device object, so the driver is not unloaded. Queuing an item
   * that is still queued corrupts the queue (0x139, parameter 1 = 3).
   */
  *IoQueueWorkItem(this: Kernel, ioWorkItem: PIO_WORKITEM, workerRoutine: IO_WORKITEM_ROUTINE, queueType: number, context = 0): Routine<void> {
    yield* queue(this, 'IoQueueWorkItem', ioWorkItem, workerRoutine, queueType, context, false);
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. IoQueueWorkItem for a WorkItemEx routine, which is also given the work
   * item: `workerRoutine(k, IoObject, context, ioWorkItem)` (so it can free or requeue it).
   */
  *IoQueueWorkItemEx(this: Kernel, ioWorkItem: PIO_WORKITEM, workerRoutine: IO_WORKITEM_ROUTINE_EX, queueType: number, context = 0): Routine<void> {
    yield* queue(this, 'IoQueueWorkItemEx', ioWorkItem, workerRoutine, queueType, context, true);
  },

  /**
   * IRQL ≤ DISPATCH_LEVEL. Frees a work item that is not queued (its own routine may free it: the
   * system dequeues an item before calling the routine). Freeing a queued one frees memory the
   * worker thread reads when it takes the item (checked build, special pool: 0xD5 there).
   */
  *IoFreeWorkItem(this: Kernel, ioWorkItem: PIO_WORKITEM): Routine<void> {
    const m = this.m;
    m.cur.apiStack.push('IoFreeWorkItem');
    checkIrql(this, 'IoFreeWorkItem', ioWorkItem);
    yield m.at(OP_KERNEL, ioWorkItem + WI_QUEUED);
    if (!m.memory.free(ioWorkItem)) {
      throw new BugCheck(0xc2, 7, 0, ioWorkItem * 4, 0, `IoFreeWorkItem: ${m.describeAddress(ioWorkItem)} is not a work item from IoAllocateWorkItem, or was freed already`);
    }
    m.cur.apiStack.pop();
  },
};

export type WorkItemApi = typeof workItemApi;
