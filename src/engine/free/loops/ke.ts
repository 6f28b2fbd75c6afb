import { lockLoop } from './lock-loop.ts';

export default lockLoop('ke', 500);
