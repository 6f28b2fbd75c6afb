import { lockLoop } from './lock-loop.ts';

export default lockLoop('ttas', 500);
