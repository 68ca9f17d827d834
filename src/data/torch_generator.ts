/**
 * `TorchGenerator`: PyTorch's CPU generator (`torch.Generator()`, a
 * Mersenne Twister mt19937) and its `randperm`, bit for bit, so that
 * `random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))`
 * gives the very split PyTorch 1.13 gives: the same patients in validation
 * when a port is compared with its PyTorch original.
 *
 * Only what `random_split` draws is reproduced (`randperm`); the loader's
 * shuffling and augmentation use the library's own `Rng` (see rng.ts).
 *
 * @module
 */

/** torch's default seed of a new `torch.Generator()` (default_rng_seed_val). */
const DEFAULT_SEED = 67280421310721n;
const N = 624;

/**
 * PyTorch's CPU `torch.Generator`, for `data.randomSplit(ds, lengths, {
 * generator })`: `new data.TorchGenerator().manualSeed(42)` is
 * `torch.Generator().manual_seed(42)`. Its state advances as torch's does,
 * so a second split from the same generator matches torch's second split.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * // torch.randperm(10, generator=torch.Generator().manual_seed(42)).tolist()
 * const g = new data.TorchGenerator().manualSeed(42);
 * console.log([...g.randperm(10)]); // [2, 6, 1, 8, 4, 5, 0, 9, 3, 7]
 * ```
 */
export class TorchGenerator {
  readonly #mt = new Uint32Array(N);
  #next = N;
  #seed = DEFAULT_SEED;

  /** A generator with torch's default seed (67280421310721), as `torch.Generator()`. */
  constructor() {
    this.#reseed(DEFAULT_SEED);
  }

  /**
   * Seeds it, as `manual_seed` (a non-negative integer; mt19937 keeps its low
   * 32 bits, as torch's), and returns it.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log(new data.TorchGenerator().manualSeed(7).initialSeed()); // 7
   * ```
   */
  manualSeed(seed: number | bigint): this {
    const ok = typeof seed === "bigint" ? seed >= 0n : Number.isSafeInteger(seed) && seed >= 0;
    if (!ok) {
      throw new Error(
        `TorchGenerator.manualSeed: seed must be a non-negative integer, got ${String(seed)}`,
      );
    }
    this.#reseed(BigInt(seed));
    return this;
  }

  /**
   * The seed it was last seeded with (torch's `initial_seed()`).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log(new data.TorchGenerator().initialSeed()); // 67280421310721
   * ```
   */
  initialSeed(): number {
    return Number(this.#seed);
  }

  #reseed(seed: bigint): void {
    this.#seed = seed;
    const mt = this.#mt;
    mt[0] = Number(seed & 0xffffffffn);
    for (let i = 1; i < N; i++) {
      const p = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * p + i modulo 2^32, without losing bits to float rounding.
      mt[i] = (Math.imul(1812433253, p) + i) >>> 0;
    }
    this.#next = N;
  }

  /**
   * The next 32-bit output of mt19937 (torch's `generator->random()`).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log(new data.TorchGenerator().manualSeed(5489).nextUint32()); // 3499211612
   * ```
   */
  nextUint32(): number {
    const mt = this.#mt;
    if (this.#next >= N) {
      for (let i = 0; i < N; i++) {
        const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
        mt[i] = mt[(i + 397) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.#next = 0;
    }
    let y = mt[this.#next++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A permutation of 0..n-1 as `torch.randperm(n, generator=g)` on the CPU
   * in torch 1.13 (checked against it for n up to 30,000).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log([...new data.TorchGenerator().manualSeed(0).randperm(4)]); // [0, 1, 3, 2]
   * ```
   */
  randperm(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new Error(`TorchGenerator.randperm: n must be an integer in [0, 2^31), got ${n}`);
    }
    const r = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < n - 1; i++) {
      const z = this.nextUint32() % (n - i);
      const t = r[i];
      r[i] = r[z + i];
      r[z + i] = t;
    }
    return r;
  }
}
