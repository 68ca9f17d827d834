/**
 * The `torch.nn.init` fills with structure: orthogonal, identity (`eye_`,
 * `dirac_`), sparse and the truncated normal. They compute on the host, where the
 * structure is simple to state, and write through views as the other
 * initialisers do (in_place.ts).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { randn } from "../tensor/ops/random.ts";
import { randperm } from "../tensor/ops/creation_more.ts";
import { writeInPlace } from "../tensor/ops/in_place.ts";
import { checkArity, checkCall } from "../options.ts";
import { checkTensor, numberArg } from "./init.ts";

/** Writes `values` (row-major, `t`'s element order) into `t`'s elements. */
function writeHost(t: Tensor, values: Float32Array, what: string): Tensor {
  if (t.dtype !== "float32") {
    throw new Error(`nn.init.${what}: needs a float32 tensor, got ${t.dtype} [${t.shape}]`);
  }
  writeInPlace(t, `nn.init.${what}`, (d) => {
    check(d.lib, d.lib.lits_copy_h2d(d.ptr, values, values.byteLength), () => what);
  });
  return t;
}

/** Options of `truncNormal_` (PyTorch's defaults). */
export interface TruncNormalOptions {
  /** Mean of the normal (default 0). */
  mean?: number;
  /** Its standard deviation (default 1). */
  std?: number;
  /** Lower cut-off, in values, not standard deviations (default -2). */
  a?: number;
  /** Upper cut-off (default 2). */
  b?: number;
}

/** Φ(x), the standard normal's distribution function (Abramowitz & Stegun 7.1.26, 1.5e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 +
            t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Draw rounds before a cut too narrow to sample by rejection is refused. */
const MAX_ROUNDS = 64;

/**
 * Fills with N(mean, std^2) restricted to [a, b] (`torch.nn.init.trunc_normal_`).
 * Values are drawn from the normal and redrawn where they fall outside, so
 * they follow the truncated normal exactly; a cut holding almost none of the
 * normal (under about 1e-4 of it) is refused rather than clamped.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.truncNormal_(zeros([1000]), { std: 0.02, a: -0.04, b: 0.04 });
 * console.log(w.abs().max().item() <= 0.04); // true
 * ```
 */
export function truncNormal_(t: Tensor, options: TruncNormalOptions = {}): Tensor {
  const usage = "nn.init.truncNormal_(w, { std: 0.02, a: -0.04, b: 0.04 })";
  checkTensor("truncNormal_", t, usage);
  const o = checkCall<TruncNormalOptions>(
    "nn.init.truncNormal_",
    arguments.length,
    2,
    options,
    ["mean", "std", "a", "b"],
    usage,
  );
  const [mean, std, a, b] = [["mean", 0], ["std", 1], ["a", -2], ["b", 2]].map(([k, d]) =>
    numberArg("truncNormal_", k as string, o[k as keyof TruncNormalOptions] ?? d, usage)
  );
  if (!(std >= 0 && Number.isFinite(std)) || !(a < b)) {
    throw new Error(
      `nn.init.truncNormal_: needs a finite std >= 0 and a < b, got std ${std}, [${a}, ${b}]`,
    );
  }
  const out = new Float32Array(t.numel());
  // The normal's share inside [a, b] (at least 1/1000: narrower cuts take more rounds).
  const keep = std === 0
    ? 1
    : Math.max(1e-3, normalCdf((b - mean) / std) - normalCdf((a - mean) / std));
  let filled = 0;
  for (let round = 0; filled < out.length; round++) {
    if (round === MAX_ROUNDS) {
      throw new Error(
        `nn.init.truncNormal_: [${a}, ${b}] holds too little of N(${mean}, ${std}^2) to draw ` +
          "from; give a cut nearer the mean",
      );
    }
    // Draw what the cut is expected to need, with a margin: twice the count
    // made torchvision's 100-sigma cut (ConvNeXt's init) draw 28M values too many.
    const missing = out.length - filled;
    using z = randn([Math.max(64, Math.ceil((missing / keep) * 1.01) + 64)]);
    const zs = z.toArray();
    for (let i = 0; i < zs.length && filled < out.length; i++) {
      const x = Math.fround(mean + std * zs[i]);
      if (x >= a && x <= b) out[filled++] = x;
    }
  }
  return writeHost(t, out, "truncNormal_");
}

/** Options of `orthogonal_`. */
export interface OrthogonalOptions {
  /** Scaling factor (default 1). */
  gain?: number;
}

/**
 * Fills with a (semi-)orthogonal matrix (`torch.nn.init.orthogonal_`): the
 * tensor seen as [shape[0], rest] has orthonormal rows or columns, whichever
 * are fewer, times `gain`; Q of the QR decomposition of a normal matrix,
 * signed so that R's diagonal is positive, as PyTorch makes it. Computed on
 * the host in float64 (Gram-Schmidt, twice): O(rows * cols * min(rows, cols)).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.orthogonal_(zeros([3, 5]));
 * const g = w.matmul(w.transpose(0, 1)).toArray(); // identity
 * console.log(Math.abs(g[0] - 1) < 1e-5 && Math.abs(g[1]) < 1e-5); // true
 * ```
 */
export function orthogonal_(t: Tensor, options: OrthogonalOptions = {}): Tensor {
  const usage = "nn.init.orthogonal_(w, { gain: 1 })";
  checkTensor("orthogonal_", t, usage);
  const o = checkCall<OrthogonalOptions>(
    "nn.init.orthogonal_",
    arguments.length,
    2,
    options,
    ["gain"],
    usage,
  );
  const gain = numberArg("orthogonal_", "gain", o.gain ?? 1, usage);
  if (t.ndim < 2) {
    throw new Error(`nn.init.orthogonal_: needs 2 or more dimensions, got [${t.shape}]`);
  }
  const rows = t.shape[0], cols = t.numel() / Math.max(rows, 1);
  if (t.numel() === 0) return t;
  // Columns of a tall m x n matrix (m >= n) to orthonormalise.
  const tall = rows >= cols, m = tall ? rows : cols, n = tall ? cols : rows;
  using z = randn([rows, cols]);
  const src = z.toArray();
  const q: Float64Array[] = Array.from({ length: n }, (_, j) => {
    const col = new Float64Array(m);
    for (let i = 0; i < m; i++) col[i] = tall ? src[i * cols + j] : src[j * cols + i];
    return col;
  });
  for (let j = 0; j < n; j++) {
    const v = q[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += q[k][i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= dot * q[k][i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) v[i] /= norm;
  }
  const out = new Float32Array(t.numel());
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < m; i++) out[tall ? i * cols + j : j * cols + i] = gain * q[j][i];
  }
  return writeHost(t, out, "orthogonal_");
}

/**
 * Fills a 2-D tensor with the identity (`torch.nn.init.eye_`): ones where
 * row equals column, zeros elsewhere.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(nn.init.eye_(zeros([2, 3])).toArray()); // Float32Array [1, 0, 0, 0, 1, 0]
 * ```
 */
export function eye_(t: Tensor): Tensor {
  checkArity("nn.init.eye_", arguments.length, 1, "nn.init.eye_(w)");
  checkTensor("eye_", t, "nn.init.eye_(w)");
  if (t.ndim !== 2) {
    throw new Error(`nn.init.eye_: only 2-D tensors are supported, got [${t.shape}]`);
  }
  const [rows, cols] = t.shape;
  const out = new Float32Array(t.numel());
  for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = 1;
  return writeHost(t, out, "eye_");
}

/**
 * Fills a 3-, 4- or 5-D convolution weight with the Dirac delta
 * (`torch.nn.init.dirac_`): each of the first min(out / groups, in)
 * channels of a group passes its input channel through at the kernel's
 * centre, so the convolution is the identity there.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.dirac_(zeros([2, 2, 3, 3]));
 * console.log(w.toArray()[4], w.toArray()[3 * 9 + 4]); // 1 1 (channel 0 <- 0, 1 <- 1)
 * ```
 */
export function dirac_(t: Tensor, groups = 1): Tensor {
  const usage = "nn.init.dirac_(w, 1)";
  checkArity("nn.init.dirac_", arguments.length, 2, usage);
  checkTensor("dirac_", t, usage);
  if (t.ndim < 3 || t.ndim > 5) {
    throw new Error(`nn.init.dirac_: only 3, 4 or 5-D tensors are supported, got [${t.shape}]`);
  }
  if (!Number.isInteger(groups) || groups < 1 || t.shape[0] % groups !== 0) {
    throw new Error(
      `nn.init.dirac_: groups (the second argument, a number: dirac_(w, 2)) must be an ` +
        `integer >= 1 dividing dim 0 (${t.shape[0]}), got ${JSON.stringify(groups)}`,
    );
  }
  const perGroup = t.shape[0] / groups, channels = Math.min(perGroup, t.shape[1]);
  const kernel = t.shape.slice(2);
  const taps = kernel.reduce((p, d) => p * d, 1);
  // Row-major offset of the kernel's centre (size // 2 in each dimension).
  const centre = kernel.reduce((at, d) => at * d + Math.floor(d / 2), 0);
  const out = new Float32Array(t.numel());
  for (let g = 0; g < groups; g++) {
    for (let d = 0; d < channels; d++) {
      out[((g * perGroup + d) * t.shape[1] + d) * taps + centre] = 1;
    }
  }
  return writeHost(t, out, "dirac_");
}

/**
 * Fills a 2-D tensor as a sparse matrix (`torch.nn.init.sparse_`, Martens
 * 2010): N(0, std^2) values, with ceil(sparsity * rows) of each column's
 * entries, at random rows, set to zero.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const w = nn.init.sparse_(zeros([10, 4]), 0.3);
 * const zerosPerColumn = w.eq(0).float().sum(0).toArray();
 * console.log(zerosPerColumn); // Float32Array(4) [3, 3, 3, 3]
 * ```
 */
export function sparse_(t: Tensor, sparsity: number, std = 0.01): Tensor {
  const usage = "nn.init.sparse_(w, 0.1, 0.01)";
  checkArity("nn.init.sparse_", arguments.length, 3, usage);
  checkTensor("sparse_", t, usage);
  numberArg("sparse_", "sparsity", sparsity, usage);
  numberArg("sparse_", "std", std, usage);
  if (t.ndim !== 2) {
    throw new Error(`nn.init.sparse_: only 2-D tensors are supported, got [${t.shape}]`);
  }
  if (!(sparsity >= 0 && sparsity <= 1) || !(std >= 0 && Number.isFinite(std))) {
    throw new Error(
      `nn.init.sparse_: needs sparsity in [0, 1] and a finite std >= 0, got ${sparsity}, ${std}`,
    );
  }
  const [rows, cols] = t.shape;
  const zeroed = Math.ceil(sparsity * rows);
  using z = randn([rows, cols]);
  const out = Float32Array.from(z.toArray(), (v) => v * std);
  for (let c = 0; c < cols; c++) {
    // A fresh random order of the rows per column, as torch's randperm.
    using order = randperm(rows);
    const picked = order.toArray();
    for (let k = 0; k < zeroed; k++) out[picked[k] * cols + c] = 0;
  }
  return writeHost(t, out, "sparse_");
}
