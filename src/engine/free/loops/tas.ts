import { lockLoop } from './lock-loop.ts';

export default lockLoop('tas', 500);
