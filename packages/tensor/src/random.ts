// Seedable, counter-based random numbers (Threefry-2x32-20). Element i of a call uses counter
// `offset + i`, so every backend computes the same bits independently and in parallel.

/**
 * Threefry-2x32 with 20 rounds (Salmon et al., Random123). Writes the two output words to
 * `out[at]` and `out[at + 1]`.
 * Only 32-bit add, rotate and xor: the WGSL kernel is the same code. Unrolled (rotations 13, 15,
 * 26, 6 then 17, 29, 16, 24; the key is injected after every fourth round) and free of
 * allocation: the CPU random kernels call it once per element, and the loop form with its key
 * array ran at ~120 ns per element.
 */
export function threefry2x32(
  k0: number,
  k1: number,
  c0: number,
  c1: number,
  out: Uint32Array | number[],
  at = 0,
): void {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (0x1bd11bda ^ k0 ^ k1) >>> 0;
  let x0 = (c0 + ks0) | 0;
  let x1 = (c1 + ks1) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks1) | 0;
  x1 = (x1 + ks2 + 1) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks2) | 0;
  x1 = (x1 + ks0 + 2) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks0) | 0;
  x1 = (x1 + ks1 + 3) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 17) | (x1 >>> 15)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 29) | (x1 >>> 3)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 16) | (x1 >>> 16)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 24) | (x1 >>> 8)) ^ x0;
  x0 = (x0 + ks1) | 0;
  x1 = (x1 + ks2 + 4) | 0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 13) | (x1 >>> 19)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 15) | (x1 >>> 17)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 26) | (x1 >>> 6)) ^ x0;
  x0 = (x0 + x1) | 0;
  x1 = ((x1 << 6) | (x1 >>> 26)) ^ x0;
  x0 = (x0 + ks2) | 0;
  x1 = (x1 + ks0 + 5) | 0;
  out[at] = x0 >>> 0;
  out[at + 1] = x1 >>> 0;
}

/** The state of one generator: a 64-bit key from the seed and a 64-bit running counter. */
export interface RngState {
  seed: number;
  /** Counter position, as a number (exact up to 2^53 draws). */
  offset: number;
}

/**
 * A random stream. The global one is seeded by `manualSeed`; ops that draw take
 * `{ generator }` to use a private stream (dropout layers, data loaders).
 * @example
 * const g = new Generator(42);
 * const a = rand([3], { generator: g });
 */
export class Generator {
  #seed = 0;
  #offset = 0;
  constructor(seed = defaultSeed()) {
    this.manualSeed(seed);
  }
  /** Restarts the stream from `seed` (any integer, up to 2^53). */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed))
      throw new RangeError(`manualSeed: seed must be a safe integer, got ${seed}`);
    this.#seed = seed;
    this.#offset = 0;
    return this;
  }
  get seed(): number {
    return this.#seed;
  }
  /** Key words (low, high) of the seed. */
  get key(): [number, number] {
    const s = this.#seed;
    const lo = s >>> 0;
    const hi = Math.floor((s - lo) / 2 ** 32) >>> 0;
    return [lo, hi];
  }
  /** Reserves `n` counters and returns the first; internal to random ops. */
  advance(n: number): number {
    const start = this.#offset;
    this.#offset += n;
    return start;
  }
  /** Snapshot for checkpoints; `setState` restores the exact stream position. */
  getState(): RngState {
    return { seed: this.#seed, offset: this.#offset };
  }
  setState(state: RngState): this {
    this.manualSeed(state.seed);
    this.#offset = state.offset;
    return this;
  }
}

function defaultSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}

let globalGenerator = new Generator();

/** Seeds the global generator: the same seed gives the same numbers on every backend. */
export function manualSeed(seed: number): Generator {
  return globalGenerator.manualSeed(seed);
}

/** The global generator (its state can be saved with `getState`). */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** Replaces the global generator (tests). */
export function setDefaultGenerator(g: Generator): void {
  globalGenerator = g;
}

/** Uniform float in [0, 1) from the high 24 bits of a word, as float32 can hold exactly. */
export function uniform24(word: number): number {
  return (word >>> 8) * 5.9604644775390625e-8;
}

/** Uniform float in [0, 1) with 53 random bits, for float64 tensors. */
export function uniform53(w0: number, w1: number): number {
  return ((w0 >>> 5) * 67108864 + (w1 >>> 6)) * 1.1102230246251565e-16;
}

/**
 * Standard normal by Box-Muller from one counter's two words (the cosine branch only, so each
 * element is independent of its neighbours). u1 is in (0, 1] so the log never sees 0.
 */
export function normalFromWords(w0: number, w1: number): number {
  const u1 = ((w0 >>> 8) + 1) * 5.9604644775390625e-8;
  const u2 = (w1 >>> 8) * 5.9604644775390625e-8;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
