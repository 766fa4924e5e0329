// The only source of randomness of the core (election timeouts). The node and
// the simulator inject a seeded generator so that a run can be replayed.

export interface Rng {
  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number
  /** A uniformly distributed integer in [0, maxExclusive); maxExclusive in [1, 2^32]. */
  nextInt(maxExclusive: number): number
  /** A uniformly distributed float in [0, 1). */
  nextFloat(): number
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128-bit state, fast, passes PractRand. */
class Sfc32 implements Rng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    // Spread a 53-bit seed over the state, then discard the first outputs so
    // that nearby seeds diverge.
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = seed >>> 0
    this.d = Math.floor(seed / 0x1_0000_0000) >>> 0
    for (let i = 0; i < 16; i++) this.nextUint32()
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  nextInt(maxExclusive: number): number {
    if (!(maxExclusive >= 1 && maxExclusive <= 0x1_0000_0000) || !Number.isInteger(maxExclusive)) {
      throw new RangeError(`nextInt: maxExclusive must be an integer in [1, 2^32], got ${maxExclusive}`)
    }
    // Rejection sampling keeps the result unbiased; each draw is rejected with
    // probability < 1/2, so 64 draws all failing is practically impossible.
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % maxExclusive)
    let x = this.nextUint32()
    for (let attempt = 0; attempt < 64 && x >= limit; attempt++) x = this.nextUint32()
    return x % maxExclusive
  }

  nextFloat(): number {
    return this.nextUint32() / 0x1_0000_0000
  }
}

/** A seeded generator; the same seed (a non-negative safe integer) gives the same sequence. */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`createRng: seed must be a non-negative safe integer, got ${seed}`)
  return new Sfc32(seed)
}
