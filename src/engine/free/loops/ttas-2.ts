import { lockLoop } from './lock-loop.ts';

// One thread per CPU on an 2-CPU rig, 2,000 acquisitions per iteration (the free-run benchmark).
export default lockLoop('ttas', 1000, 2);
