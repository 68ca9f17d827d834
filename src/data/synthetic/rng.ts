/**
 * The synthetic generator's seeded random numbers: sfc32 (small, fast, passes
 * PractRand) so the same seed gives the same patients on every platform.
 *
 * @module
 */

/**
 * A seeded random generator. Each patient gets its own stream, derived from
 * the dataset seed and the patient's index, so patients can be generated in
 * any order (or in parallel) with identical results.
 *
 * Internal to the generator (the public `data.Rng` is the loader's): its
 * stream must never change, or the same seed would give other patients.
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | undefined;

  /** A generator for `seed` and an optional `stream` (say, a patient index). */
  constructor(seed: number, stream = 0) {
    this.#a = 0x9e3779b9 ^ (seed >>> 0);
    this.#b = 0x243f6a88 ^ Math.imul(stream + 1, 0x85ebca6b);
    this.#c = 0xb7e15162 ^ Math.floor(seed / 2 ** 32);
    this.#d = 1;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [lo, hi) (default [0, 1)). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * (this.nextU32() / 4294967296);
  }

  /** Integer uniform in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo));
  }

  /** Log-uniform in [lo, hi): equal odds for each doubling, as lesion sizes. */
  logUniform(lo: number, hi: number): number {
    return Math.exp(this.uniform(Math.log(lo), Math.log(hi)));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.uniform() < p;
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    if (this.#spare !== undefined) {
      const s = this.#spare;
      this.#spare = undefined;
      return s;
    }
    const u = 1 - this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * this.uniform();
    this.#spare = r * Math.sin(t);
    return r * Math.cos(t);
  }

  /** Fills `out` with `mean + std * normal()` values. */
  fillNormal(out: Float32Array, std: number, mean = 0): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const u = 1 - this.uniform();
      const r = std * Math.sqrt(-2 * Math.log(u));
      const t = 2 * Math.PI * this.uniform();
      out[i] = mean + r * Math.cos(t);
      if (i + 1 < out.length) out[i + 1] = mean + r * Math.sin(t);
    }
    return out;
  }
}
