import { lockLoop } from './lock-loop.ts';

// One thread per CPU on a 2-CPU rig, 20,000 acquisitions per iteration (the free-run benchmark).
export default lockLoop('ke', 10_000, 2);
