/** Litmus-style scenarios for the engine's weak-memory tests, made of the test double's ordering-API accesses. */
import { scn } from '../helpers.ts';
import { readNoFence, writeNoFence } from './weak-double.ts';

interface SbState {
  x: number;
  y: number;
  r0: number;
  r1: number;
}

/** Store buffering (SB, Dekker): each CPU stores its flag, then reads the other's. TSO lets both read 0. */
export const storeBuffering = scn<SbState>({
  setup: (k) => ({ x: k.ExAllocatePool2(0, 4, 'x'), y: k.ExAllocatePool2(0, 4, 'y'), r0: k.ExAllocatePool2(0, 4, 'r0'), r1: k.ExAllocatePool2(0, 4, 'r1') }),
  actors: {
    a: {
      cpu: 0,
      *run(k, s) {
        yield* writeNoFence(k, s.x, 1);
        const v = yield* readNoFence(k, s.y);
        yield* k.InterlockedExchange(s.r0, v + 1);
      },
    },
    b: {
      cpu: 1,
      *run(k, s) {
        yield* writeNoFence(k, s.y, 1);
        const v = yield* readNoFence(k, s.x);
        yield* k.InterlockedExchange(s.r1, v + 1);
      },
    },
  },
  invariants: { 'one of them sees the other': (s, k) => !(k.peek(s.r0) === 1 && k.peek(s.r1) === 1) || 'both CPUs read 0' },
});

/** Message passing with a reader that checks its message only once it saw the flag. */
interface MpState {
  data: number;
  flag: number;
  seen: number;
}
export const messagePassing = scn<MpState>({
  setup: (k) => ({ data: k.ExAllocatePool2(0, 4, 'data'), flag: k.ExAllocatePool2(0, 4, 'flag'), seen: k.ExAllocatePool2(0, 4, 'seen') }),
  actors: {
    writer: {
      cpu: 0,
      *run(k, s) {
        yield* writeNoFence(k, s.data, 1);
        yield* writeNoFence(k, s.data, 2);
        yield* writeNoFence(k, s.flag, 1);
      },
    },
    reader: {
      cpu: 1,
      *run(k, s) {
        const f = yield* readNoFence(k, s.flag);
        const d = yield* readNoFence(k, s.data);
        if (f === 1) yield* k.InterlockedExchange(s.seen, d + 1);
      },
    },
  },
  invariants: { 'the message is complete': (s, k) => k.peek(s.seen) === 0 || k.peek(s.seen) === 3 || `the reader saw the flag but data = ${k.peek(s.seen) - 1}` },
});

