/**
 * Names of the fields of kernel objects, by the pool tag their block carries,
 * so that a trace can say `Irp->CancelRoutine` instead of `irp+0x14`. Read
 * only when a trace is recorded (engine/address-names.ts), never while
 * exploring.
 */
import { DH_SIGNAL_STATE, DH_TYPE, MUTANT_OWNER_THREAD } from './dispatcher-object.ts';
import { FM_CONTENTION, FM_COUNT, FM_GATE, FM_OLD_IRQL, FM_OWNER } from './fast-mutex.ts';
import {
  IRP_CANCEL, IRP_CANCEL_IRQL, IRP_CANCEL_ROUTINE, IRP_CURRENT_LOCATION, IRP_DRIVER_CONTEXT, IRP_INFORMATION,
  IRP_LIST_ENTRY, IRP_PENDING_RETURNED, IRP_STACK_COUNT, IRP_STATUS, IRP_TYPE,
} from './irp.ts';
import { LIST_BLINK, LIST_FLINK } from './list.ts';
import { RES_ACTIVE_ENTRIES, RES_CONTENTION, RES_EXCLUSIVE_WAITERS, RES_FLAG, RES_OWNER_COUNT, RES_OWNER_THREAD, RES_SHARED_WAITERS } from './eresource.ts';
import { RL_IO_COUNT, RL_REMOVED } from './remove-lock.ts';

export interface ObjectLayout {
  /** The variable a driver names such an object by, when the scenario calls it so too (`irp` → `Irp`). */
  variable?: string;
  /** Field name by word offset. */
  fields: ReadonlyMap<number, string>;
}

const layout = (fields: [number, string][], variable?: string): ObjectLayout => ({ fields: new Map(fields), ...(variable ? { variable } : {}) });

const DISPATCHER_HEADER: [number, string][] = [[DH_TYPE, 'Header.Type'], [DH_SIGNAL_STATE, 'Header.SignalState']];

const LAYOUTS: ReadonlyMap<string, ObjectLayout> = new Map([
  ['IRP', layout([
    [IRP_TYPE, 'Type'], [IRP_STACK_COUNT, 'StackCount'], [IRP_CURRENT_LOCATION, 'CurrentLocation'], [IRP_CANCEL, 'Cancel'],
    [IRP_CANCEL_IRQL, 'CancelIrql'], [IRP_CANCEL_ROUTINE, 'CancelRoutine'], [IRP_STATUS, 'IoStatus.Status'],
    [IRP_INFORMATION, 'IoStatus.Information'], [IRP_PENDING_RETURNED, 'PendingReturned'],
    [IRP_DRIVER_CONTEXT, 'Tail.Overlay.DriverContext[0]'], [IRP_DRIVER_CONTEXT + 1, 'Tail.Overlay.DriverContext[1]'],
    [IRP_DRIVER_CONTEXT + 2, 'Tail.Overlay.DriverContext[2]'], [IRP_DRIVER_CONTEXT + 3, 'Tail.Overlay.DriverContext[3]'],
    [IRP_LIST_ENTRY + LIST_FLINK, 'Tail.Overlay.ListEntry.Flink'], [IRP_LIST_ENTRY + LIST_BLINK, 'Tail.Overlay.ListEntry.Blink'],
  ], 'Irp')],
  ['LIST_ENTRY', layout([[LIST_FLINK, 'Flink'], [LIST_BLINK, 'Blink']])],
  ['KEVENT', layout(DISPATCHER_HEADER)],
  ['KSEMAPHORE', layout([...DISPATCHER_HEADER, [2, 'Limit']])],
  ['KMUTEX', layout([...DISPATCHER_HEADER, [MUTANT_OWNER_THREAD, 'OwnerThread']])],
  ['FAST_MUTEX', layout([[FM_COUNT, 'Count'], [FM_OWNER, 'Owner'], [FM_CONTENTION, 'Contention'], [FM_OLD_IRQL, 'OldIrql'], [FM_GATE + DH_SIGNAL_STATE, 'Event.Header.SignalState']])],
  ['ERESOURCE', layout([
    [RES_FLAG, 'Flag'], [RES_ACTIVE_ENTRIES, 'ActiveEntries'], [RES_SHARED_WAITERS, 'NumberOfSharedWaiters'],
    [RES_EXCLUSIVE_WAITERS, 'NumberOfExclusiveWaiters'], [RES_OWNER_THREAD, 'OwnerThreads[0].OwnerThread'],
    [RES_OWNER_COUNT, 'OwnerThreads[0].OwnerCount'], [RES_CONTENTION, 'ContentionCount'],
  ])],
  ['KGUARDED_MUTEX', layout([[FM_COUNT, 'Count'], [FM_OWNER, 'Owner'], [FM_CONTENTION, 'Contention'], [FM_OLD_IRQL, 'OldIrql'], [FM_GATE + DH_SIGNAL_STATE, 'Event.Header.SignalState']])],
  ['IO_REMOVE_LOCK', layout([[RL_REMOVED, 'Common.Removed'], [RL_IO_COUNT, 'Common.IoCount']])],
]);

/** The layout of objects carrying this pool tag, when the box knows their fields. */
export function objectLayout(tag: string): ObjectLayout | undefined {
  return LAYOUTS.get(tag);
}
