import { lockLoop } from './lock-loop.ts';

// One thread per CPU on an 4-CPU rig, 2,000 acquisitions per iteration (the free-run benchmark).
export default lockLoop('tas', 500, 4);
