/**
 * A small seeded random number generator for data augmentation.
 *
 * Augmentation must not depend on which worker handled a sample or in what
 * order, so the loader never shares one generator between samples: each
 * sample gets its own `Rng.forSample(seed, epoch, position)`, a pure function
 * of the three numbers. The generator is xoshiro128** (32-bit state words,
 * fast with `Math.imul`), seeded through splitmix32 so nearby seeds give
 * unrelated streams.
 *
 * Code that passes no generator (`transform.apply(image)`, a `DataLoader`
 * without `seed`) draws from the library's global stream instead, the one
 * `manualSeed` seeds (torchvision and PyTorch's DataLoader use torch's global
 * generator the same way): `globalRng()` and `globalSeed()`.
 *
 * @module
 */
import { nextStream } from "../tensor/ops/random.ts";

/** splitmix32: a strong 32-bit mixer, used to derive states from seeds. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Folds any safe integer (also beyond 32 bits) into the running hash `h`. */
function absorb(h: number, value: number): number {
  if (!Number.isSafeInteger(value)) {
    throw new Error(`Rng: seed parts must be safe integers, got ${value}`);
  }
  const lo = value >>> 0;
  const hi = Math.floor(value / 0x100000000) >>> 0;
  return mix32(mix32(h ^ lo) ^ hi);
}

/** Standard normal quantiles for the table sampler (see `fillNormal`). */
let normalTable: Float32Array | undefined;

/** Inverse of the standard normal CDF (Acklam's rational approximation, ~1e-9). */
function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269];
  const a4 = -30.66479806614716, a5 = 2.506628277459239;
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972];
  const b4 = -13.28068155288572;
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
  const c4 = 4.374664141464968, c5 = 2.938163982698783;
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  if (p < 0.02425 || p > 1 - 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p < 0.5 ? p : 1 - p));
    const x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c4) * q + c5) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < 0.5 ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a4) * r + a5) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b4) * r + 1);
}

function table(): Float32Array {
  if (!normalTable) {
    normalTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) normalTable[i] = probit((i + 0.5) / 65536);
  }
  return normalTable;
}

/**
 * A seeded generator of uniform, normal and integer numbers.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const a = data.Rng.forSample(42, 0, 7);
 * const b = data.Rng.forSample(42, 0, 7);
 * console.log(a.uniform() === b.uniform()); // true: same (seed, epoch, position)
 * console.log(a.int(0, 10) < 10, a.normal(0, 1) !== 0); // true true
 * ```
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  #spare: number | undefined;

  /** A generator seeded with one integer (any safe integer). */
  constructor(seed: number) {
    let h = absorb(0x6c697473, seed);
    // Four state words from the seed hash; xoshiro only fails on all-zero.
    this.#s0 = h = mix32(h);
    this.#s1 = h = mix32(h);
    this.#s2 = h = mix32(h);
    this.#s3 = mix32(h) | 1;
  }

  /**
   * The generator of one sample of one epoch: a pure function of its
   * arguments, so results do not depend on worker count or scheduling.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const r = data.Rng.forSample(1, 2, 3);
   * console.log(r.uniform() < 1); // true
   * ```
   */
  static forSample(seed: number, epoch: number, position: number): Rng {
    return new Rng(absorb(absorb(absorb(0x5eed, seed), epoch), position));
  }

  /**
   * A new independent generator drawn from this one (to hand to a sub-task).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const child = new data.Rng(5).split();
   * console.log(child.uniform() >= 0); // true
   * ```
   */
  split(): Rng {
    return new Rng(this.nextUint32() * 0x200000 + (this.nextUint32() >>> 11));
  }

  /**
   * The next raw 32-bit unsigned integer.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log(new data.Rng(0).nextUint32() <= 0xffffffff); // true
   * ```
   */
  nextUint32(): number {
    const s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, s3 = this.#s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    const n2 = s2 ^ s0, n3 = s3 ^ s1;
    this.#s1 = s1 ^ n2;
    this.#s0 = s0 ^ n3;
    this.#s2 = n2 ^ t;
    this.#s3 = rotl(n3, 11);
    return r >>> 0;
  }

  /**
   * A uniform number in [lo, hi) (default [0, 1)).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const v = new data.Rng(1).uniform(-5, 5);
   * console.log(v >= -5 && v < 5); // true
   * ```
   */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * (this.nextUint32() / 4294967296);
  }

  /**
   * A normal number (Box-Muller, pairs cached).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log(Number.isFinite(new data.Rng(1).normal(0, 2))); // true
   * ```
   */
  normal(mean = 0, std = 1): number {
    let z = this.#spare;
    if (z === undefined) {
      const u = 1 - this.uniform(); // (0, 1]: log stays finite
      const r = Math.sqrt(-2 * Math.log(u));
      const t = 2 * Math.PI * this.uniform();
      z = r * Math.cos(t);
      this.#spare = r * Math.sin(t);
    } else {
      this.#spare = undefined;
    }
    return mean + std * z;
  }

  /**
   * A uniform integer in [lo, hi), as `torch.randint`.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const k = new data.Rng(3).int(0, 6);
   * console.log(Number.isInteger(k) && k >= 0 && k < 6); // true
   * ```
   */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new Error(`Rng.int: empty range [${lo}, ${hi})`);
    return Math.min(hi - 1, lo + Math.floor(this.uniform() * (hi - lo)));
  }

  /**
   * True with probability p.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * console.log(new data.Rng(3).bernoulli(1)); // true
   * ```
   */
  bernoulli(p: number): boolean {
    return p >= 1 || (p > 0 && this.uniform() < p);
  }

  /**
   * Fills `out` with normal numbers, fast: each 16-bit half of a random word
   * picks one of 65,536 equal-probability normal quantiles. The values are
   * normal to the table's resolution and bounded by about 4.2 std, which is
   * fine for image noise and several times faster than Box-Muller per pixel.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const noise = new data.Rng(9).fillNormal(new Float32Array(4), 0, 0.1);
   * console.log(noise.length); // 4
   * ```
   */
  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    out.fill(mean);
    return this.addNormal(out, std, out);
  }

  /**
   * `out[i] = src[i] + std * z[i]` with table normals as in `fillNormal`
   * (`out` may be `src`).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const src = new Float32Array([1, 2, 3]);
   * const noisy = new data.Rng(9).addNormal(src, 0.01, new Float32Array(3));
   * console.log(Math.abs(noisy[1] - 2) < 0.1); // true
   * ```
   */
  addNormal(src: Float32Array, std: number, out: Float32Array): Float32Array {
    if (out.length !== src.length) {
      throw new Error(`Rng.addNormal: out has ${out.length} values, src ${src.length}`);
    }
    const t = table();
    const n = src.length;
    // xoshiro128** inlined on local state: the same stream as nextUint32, 2x faster.
    let s0 = this.#s0, s1 = this.#s1, s2 = this.#s2, s3 = this.#s3;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const sh = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= sh;
      s3 = rotl(s3, 11);
      out[i] = src[i] + std * t[r & 0xffff];
      out[i + 1] = src[i + 1] + std * t[r >>> 16];
    }
    this.#s0 = s0;
    this.#s1 = s1;
    this.#s2 = s2;
    this.#s3 = s3;
    if (i < n) out[i] = src[i] + std * t[this.nextUint32() & 0xffff];
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Folds a 64-bit bigint (a seed or counter of the global stream) into `h`. */
function absorbBig(h: number, value: bigint): number {
  return absorb(absorb(h, Number(value >> 32n)), Number(value & 0xffffffffn));
}

/**
 * A generator taken from the global stream that `manualSeed` seeds: each
 * call uses up the next counter block of that stream (as `rand` does), so
 * after `manualSeed(s)` the sequence of generators, and everything drawn
 * from them, is the same in every run.
 *
 * @example
 * ```ts
 * import { manualSeed } from "@lits/vision";
 * import { globalRng } from "./rng.ts";
 * manualSeed(7);
 * const a = globalRng().uniform();
 * manualSeed(7);
 * console.log(globalRng().uniform() === a); // true
 * ```
 */
export function globalRng(): Rng {
  const [seed, counter] = nextStream(4);
  return new Rng(absorbBig(absorbBig(0x676c6f62, seed), counter));
}

/**
 * A seed (a safe integer) drawn from the global stream (see `globalRng`):
 * what a `DataLoader` without `seed` uses, so `manualSeed` fixes its order
 * and augmentation.
 *
 * @example
 * ```ts
 * import { manualSeed } from "@lits/vision";
 * import { globalSeed } from "./rng.ts";
 * manualSeed(1);
 * const s = globalSeed();
 * manualSeed(1);
 * console.log(Number.isSafeInteger(s), globalSeed() === s); // true true
 * ```
 */
export function globalSeed(): number {
  const r = globalRng();
  return r.nextUint32() * 0x200000 + (r.nextUint32() >>> 11);
}
