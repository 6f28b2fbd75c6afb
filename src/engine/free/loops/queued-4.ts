import { lockLoop } from './lock-loop.ts';

// One thread per CPU on a 4-CPU rig, 2,000 acquisitions per iteration (the free-run benchmark). Smaller
// than the others: with more spinning workers than host cores the FIFO hand-off convoys (the plain loop
// too, at a few hundred critical sections per second), and a 20,000-acquisition iteration would take a minute.
export default lockLoop('queued', 500, 4);
