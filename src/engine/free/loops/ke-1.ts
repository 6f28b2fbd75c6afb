import { lockLoop } from './lock-loop.ts';

// One thread per CPU on a 1-CPU rig, 20,000 acquisitions per iteration (the free-run benchmark).
export default lockLoop('ke', 20_000, 1);
