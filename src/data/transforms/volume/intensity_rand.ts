/**
 * MONAI's random intensity remaps of volumes that have no deterministic
 * form: `RandHistogramShift` (a random monotone piecewise-linear map of the
 * intensity range) and `RandBiasField` (an MR bias field, the exponential
 * of a random Legendre polynomial). Each draws in the order MONAI's
 * `randomize` does, from the `Rng` given.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { num } from "../transform.ts";
import { minMax, pairOf } from "./intensity_more.ts";
import { VolumeTransform } from "./transform.ts";
import { emptyVol, type Vol } from "./volume.ts";

const f32 = Math.fround;

/**
 * MONAI's torch `interp` of `x` through the control points (xp, fp), in
 * float32: the segment of the first xp >= x (searchsorted, left) minus one,
 * clipped to the segments, `m * x + b` there; x below xp[0] gives fp[0] and
 * above xp[last] gives fp[last].
 */
function interpInto(x: Float32Array, y: Float32Array, xp: Float32Array, fp: Float32Array) {
  const segs = xp.length - 1, m = new Float32Array(segs), b = new Float32Array(segs);
  for (let k = 0; k < segs; k++) {
    m[k] = f32(fp[k + 1] - fp[k]) / f32(xp[k + 1] - xp[k]);
    b[k] = fp[k] - f32(m[k] * xp[k]);
  }
  const first = xp[0], last = xp[segs];
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < first) {
      y[i] = fp[0];
    } else if (v > last) {
      y[i] = fp[segs];
    } else {
      let lo = 0, hi = xp.length; // first index with xp >= v
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (xp[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      const k = Math.min(Math.max(lo - 1, 0), segs - 1);
      y[i] = f32(m[k] * v) + b[k];
    }
  }
}

/**
 * Remaps intensities through a random monotone piecewise-linear curve
 * (MONAI's `RandHistogramShift`): `numControlPoints` points (a number, or a
 * [lo, hi] pair to draw it from, each >= 3) spread evenly over the volume's
 * [min, max]; every inner point's target is drawn uniformly between its
 * left neighbour's target and its right neighbour's position. A constant
 * volume is returned unchanged, as MONAI's. Applies with probability `p`
 * (default 0.1, MONAI's).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.RandHistogramShift({ p: 1, numControlPoints: 5 });
 * using x = tensor(new Float32Array([0, 1, 2, 4]), [1, 1, 2, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.toArray()[0], y.toArray()[3]); // 0 4
 * ```
 */
export class RandHistogramShift extends VolumeTransform {
  readonly #points: [number, number];
  /** `numControlPoints` (default 10), `p` (default 0.1). */
  constructor(params: { numControlPoints?: number | [number, number]; p?: number } = {}) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["numControlPoints"],
      p: 0.1,
      usage: "{ p: 0.5, numControlPoints: 10 }",
    });
    const n = params.numControlPoints ?? 10, rule = { integer: true, min: 3 };
    if (typeof n === "number") {
      const k = num(this.name, "numControlPoints", n, rule);
      this.#points = [k, k];
    } else if (Array.isArray(n) && n.length === 2) {
      const [a, b] = n.map((v) => num(this.name, "numControlPoints", v, rule));
      this.#points = [Math.min(a, b), Math.max(a, b)];
    } else {
      throw new Error(
        `${this.name}: numControlPoints must be an integer >= 3 or a [lo, hi] pair of them, ` +
          `got ${fmt(n)}`,
      );
    }
  }
  /** Draws the count and the inner targets, then maps the volume's range through them. */
  protected run(v: Vol, rng: Rng): Vol {
    const n = rng.int(this.#points[0], this.#points[1] + 1), step = 1 / (n - 1);
    const ref = Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : i * step));
    const flo = [...ref];
    for (let i = 1; i < n - 1; i++) flo[i] = rng.uniform(flo[i - 1], flo[i + 1]);
    const out = emptyVol(v.shape);
    const [lo, hi] = minMax(v.data);
    if (lo === hi) {
      out.data.set(v.data);
      return out;
    }
    if (lo !== lo) {
      out.data.fill(NaN);
      return out;
    }
    const span = f32(hi - lo);
    const scale = (p: number[]) => Float32Array.from(p, (q) => f32(f32(q) * span) + lo);
    interpInto(v.data, out.data, scale(ref), scale(flo));
    return out;
  }
}

/** Legendre polynomials P_0..P_degree at `x` (float64). */
function legendre(x: number, degree: number): number[] {
  const p = [1, x];
  for (let n = 1; n < degree; n++) p.push(((2 * n + 1) * x * p[n] - n * p[n - 1]) / (n + 1));
  return p.slice(0, degree + 1);
}

/** numpy's `linspace(-1, 1, n)` in float32 (a single point is -1). */
function coords(n: number): number[] {
  if (n === 1) return [-1]; // 2 / 0 would make every voxel NaN
  const step = 2 / (n - 1);
  return Array.from({ length: n }, (_, i) => (n > 1 && i === n - 1 ? 1 : f32(i * step - 1)));
}

/**
 * Multiplies each channel by a smooth random field (MONAI's `RandBiasField`,
 * after NiftyNet): `exp(sum c_ijk P_i(z) P_j(y) P_k(x))` over Legendre
 * polynomials with i + j + k <= `degree` (default 3, >= 1) on [-1, 1] along
 * each spatial axis, with every coefficient drawn uniformly from
 * `coeffRange` (default [0, 0.1]); the same field for every channel. The
 * field is float64 and the product rounded to float32, as MONAI's numpy.
 * Applies with probability `p` (default 0.1, MONAI's).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.RandBiasField({ p: 1, coeffRange: [0, 0] });
 * using x = tensor(new Float32Array(8).fill(2), [1, 2, 2, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log([...y.toArray()]); // [2, 2, 2, 2, 2, 2, 2, 2]
 * ```
 */
export class RandBiasField extends VolumeTransform {
  readonly #degree: number;
  readonly #range: [number, number];
  /** `degree` (default 3), `coeffRange` (default [0, 0.1]), `p` (default 0.1). */
  constructor(params: { degree?: number; coeffRange?: [number, number]; p?: number } = {}) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["degree", "coeffRange"],
      p: 0.1,
      usage: "{ p: 0.5, degree: 3, coeffRange: [0, 0.1] }",
    });
    this.#degree = num(this.name, "degree", params.degree ?? 3, { integer: true, min: 1 });
    this.#range = pairOf(this.name, "coeffRange", params.coeffRange ?? [0, 0.1]);
  }
  /** Draws the coefficients (MONAI's order of the terms), then multiplies by exp(field). */
  protected run(v: Vol, rng: Rng): Vol {
    const deg = this.#degree, terms: [number, number, number][] = [];
    for (let i = 0; i <= deg; i++) {
      for (let j = 0; j <= deg - i; j++) {
        for (let k = 0; k <= deg - i - j; k++) terms.push([i, j, k]);
      }
    }
    const coeff = terms.map(() => rng.uniform(this.#range[0], this.#range[1]));
    const [c, d, h, w] = v.shape;
    const pz = coords(d).map((t) => legendre(t, deg)), py = coords(h).map((t) => legendre(t, deg));
    const px = coords(w).map((t) => legendre(t, deg));
    const field = new Float64Array(d * h * w), a = new Float64Array(deg + 1);
    for (let z = 0; z < d; z++) {
      for (let y = 0; y < h; y++) {
        // a[k] = sum over (i, j) of c_ijk P_i(z) P_j(y); then the field is sum_k a[k] P_k(x).
        a.fill(0);
        terms.forEach(([i, j, k], t) => a[k] += coeff[t] * pz[z][i] * py[y][j]);
        for (let x = 0; x < w; x++) {
          let f = 0;
          for (let k = 0; k <= deg; k++) f += a[k] * px[x][k];
          field[(z * h + y) * w + x] = Math.exp(f);
        }
      }
    }
    const out = emptyVol(v.shape), n = field.length;
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < n; i++) out.data[ch * n + i] = v.data[ch * n + i] * field[i];
    }
    return out;
  }
}
