import { lockLoop } from './lock-loop.ts';

export default lockLoop('queued', 500);
