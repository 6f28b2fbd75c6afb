import { defineScenario } from 'racebox';
import { adapterInvariants, INTERRUPTS, PauseRestart, Send, setUpAdapter, type AdapterState } from './drain-dpc-before-pause.ts';

export default defineScenario<AdapterState>({
  id: 'sendring/pause-then-drain',
  title: 'Send ring pause marks the adapter paused, then waits for the completion DPCs and the senders',
  family: 'sendring',
  variant: 'correct',
  pairedWith: 'sendring/drain-dpc-before-pause',
  description:
    'The adapter of sendring/drain-dpc-before-pause — two send paths, an interrupt whose ISR queues the ' +
    'completion DPC four times, and a pause/restart path that frees and reallocates the ring\'s common buffer ' +
    'twice — with pause marking the adapter paused (an interlocked exchange) before it waits for the DPCs in ' +
    'flight and the pending sends. The DPC counts itself in flight with InterlockedIncrement before it checks ' +
    'the state; both are full barriers, so either pause sees the DPC counted and waits for it, or the DPC sees ' +
    '"paused" and leaves the ring alone. No DPC reads the ring after it is freed.',
  setup: setUpAdapter,
  actors: {
    'send-1': { cpu: 0, *run(k, s) { yield* Send(k, s); } },
    'send-2': { cpu: 1, *run(k, s) { yield* Send(k, s); } },
    isr: {
      kind: 'interrupt',
      cpu: 2,
      interrupt: (s) => s.interrupt,
      arrivals: INTERRUPTS,
      *run(k, s) { yield* k.KeInsertQueueDpc(s.dpc, 0, 0); },
    },
    pause: { cpu: 3, *run(k, s) { yield* PauseRestart(k, s, true); } },
  },
  invariants: adapterInvariants,
  expect: 'pass',
});
