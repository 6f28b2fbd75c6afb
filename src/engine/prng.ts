/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG), seeded through
 * splitmix32 so that (seed, schedule index) pairs give independent streams.
 * Pure 32-bit integer arithmetic: identical sequences in Node and browsers.
 */
export function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seed for schedule `index` of an exploration started with `seed`. */
export function scheduleSeed(seed: number, index: number): number {
  return splitmix32(splitmix32(seed >>> 0) ^ Math.imul(index + 1, 0x27d4eb2d));
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = this.b = this.c = this.d = 0;
    this.reseed(seed);
  }

  /** Restarts the stream as `new Rng(seed)` would, without a new object per schedule. */
  reseed(seed: number): this {
    this.a = splitmix32(seed);
    this.b = splitmix32(this.a);
    this.c = splitmix32(this.b);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
    return this;
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  float(): number {
    return this.u32() / 4294967296;
  }
}
