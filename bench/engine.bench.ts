import type { BenchModule } from './index.ts';

const engineBench: BenchModule = {
  title: 'controlled engine',
  async run() {
    return [];
  },
};
export default engineBench;
