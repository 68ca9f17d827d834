/**
 * `nn.utils.parametrizations.spectralNorm`, torch 1.13's parametrization
 * form of spectral normalisation (`torch.nn.utils.parametrizations.
 * spectral_norm`, not the older hook form `nn.utils.spectralNorm`): the
 * weight divided by its largest singular value, estimated by power
 * iteration on the buffers `_u` and `_v` of the parametrization
 * (state-dict keys `parametrizations.weight.original`,
 * `parametrizations.weight.0._u`, `parametrizations.weight.0._v`). Unlike
 * the hook form it iterates u first, then v, 15 times at registration, and
 * once more at every read of the weight in training mode.
 *
 * @module
 */
import { Module } from "./module.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/ops/random.ts";
import { normalize } from "../tensor/ops/vector_norm.ts";
import { checkOptions } from "../options.ts";
import { ConvTranspose1d } from "./conv_transpose1d.ts";
import { ConvTranspose2d } from "./conv_transpose.ts";
import { describe } from "./prune/base.ts";
import { type Parametrized, registerParametrization } from "./parametrize.ts";

/** torch's `_SpectralNorm`: the parametrization module (`parametrizations.weight[0]`). */
// deno-lint-ignore camelcase
class _SpectralNorm extends Module {
  /** The output dimension, made non-negative. */
  dim: number;
  /** The norms' floor. */
  eps: number;
  /** Power iterations per read in training mode (unset for a 1-D weight). */
  nPowerIterations?: number;

  constructor(weight: Tensor, nPowerIterations: number, dim: number, eps: number) {
    super();
    const ndim = weight.ndim;
    if (!Number.isInteger(dim) || dim >= ndim || dim < -ndim) {
      throw new Error(
        "nn.utils.parametrizations.spectralNorm: Dimension out of range (expected to be in " +
          `range of [-${ndim}, ${ndim - 1}] but got ${dim})`,
      );
    }
    if (typeof nPowerIterations !== "number" || !(nPowerIterations > 0)) {
      throw new Error(
        "nn.utils.parametrizations.spectralNorm: Expected n_power_iterations to be positive, " +
          `but got n_power_iterations=${describe(nPowerIterations)}`,
      );
    }
    if (typeof eps !== "number" || !(eps >= 0)) {
      throw new Error(
        `nn.utils.parametrizations.spectralNorm: eps must be a number >= 0, got ${describe(eps)}`,
      );
    }
    this.dim = dim >= 0 ? dim : dim + ndim;
    this.eps = eps;
    if (ndim > 1) {
      this.nPowerIterations = nPowerIterations;
      const mat = noGrad(() => this.#matrix(weight.detach()));
      const [h, w] = mat.shape;
      const d = { device: weight.device };
      this.registerBuffer("_u", noGrad(() => normalize(randn([h], d), 2, 0, eps)));
      this.registerBuffer("_v", noGrad(() => normalize(randn([w], d), 2, 0, eps)));
      this.#powerMethod(mat, 15);
    }
  }

  /** The left singular vector estimate (torch's `_u`). */
  get _u(): Tensor {
    return this.buffer("_u")!;
  }

  /** The right singular vector estimate (torch's `_v`). */
  get _v(): Tensor {
    return this.buffer("_v")!;
  }

  /** `weight` as a [size of dim, rest] matrix (torch's `_reshape_weight_to_matrix`). */
  #matrix(weight: Tensor): Tensor {
    const rest = [...weight.shape.keys()].filter((d) => d !== this.dim);
    const w = this.dim === 0 ? weight : weight.permute([this.dim, ...rest]);
    return w.flatten(1);
  }

  /** `n` steps of u = normalize(W v), v = normalize(W^T u), written into the buffers. */
  #powerMethod(mat: Tensor, n: number): void {
    noGrad(() => {
      const m = mat.detach();
      for (let i = 0; i < n; i++) {
        this._u.copy_(normalize(m.mv(this._v), 2, 0, this.eps));
        this._v.copy_(normalize(m.t().mv(this._u), 2, 0, this.eps));
      }
    });
  }

  /** The weight over sigma = u . (W v); a 1-D weight normalised. */
  forward(weight: Tensor): Tensor {
    if (weight.ndim === 1) return normalize(weight, 2, 0, this.eps);
    const mat = this.#matrix(weight);
    if (this.training) this.#powerMethod(mat, this.nPowerIterations!);
    // Copies, as torch's clones: the next read writes the buffers in place.
    const [u, v] = noGrad(() => [this._u.clone(), this._v.clone()]);
    const sigma = u.dot(mat.mv(v));
    return weight.div(sigma);
  }

  /** Assigning the weight writes it as the original. */
  rightInverse(value: Tensor): Tensor {
    return value;
  }
}

/** Options of `spectralNorm`: torch's keywords. */
export interface SpectralNormOptions {
  /** Power iterations per read in training mode (default 1). */
  nPowerIterations?: number;
  /** The norms' floor (default 1e-12). */
  eps?: number;
  /** The output dimension (default 1 for a ConvTranspose, else 0). */
  dim?: number;
}

const USAGE = 'nn.utils.parametrizations.spectralNorm(module, "weight", { nPowerIterations: 1 })';

/**
 * Spectral normalisation as a parametrization, torch 1.13's
 * `nn.utils.parametrizations.spectral_norm(module, name, n_power_iterations,
 * eps, dim)`: `module[name]` becomes the weight over its largest singular
 * value sigma = u . (W v), W the weight as a matrix with `dim` first. u and
 * v (buffers `parametrizations.weight.0._u` and `_v`) are refined by 15
 * power iterations now and `nPowerIterations` at each read of the weight in
 * training mode (in place, unrecorded by autograd), none in eval mode. The
 * initial u and v are drawn from this library's generator, so they differ
 * from torch's draw: load torch's through `loadStateDict` for torch's
 * numbers. The arguments after `name` come positionally (torch's order) or
 * as one options object. Returns the module.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const fc = nn.utils.parametrizations.spectralNorm(new nn.Linear(20, 40));
 * console.log([...fc.stateDict().keys()]);
 * // ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u", "parametrizations.weight.0._v"]
 * console.log(fc(randn([2, 20])).shape); // [2, 40]
 * ```
 */
export function spectralNorm<M extends Module>(
  module: M,
  name = "weight",
  nPowerIterations: number | SpectralNormOptions = 1,
  eps = 1e-12,
  dim?: number,
): M & Parametrized {
  const where = "nn.utils.parametrizations.spectralNorm";
  if (arguments.length > 5) {
    throw new Error(`${where}: takes (module, name, nPowerIterations, eps, dim); write ${USAGE}`);
  }
  if (typeof nPowerIterations === "object" && nPowerIterations !== null) {
    if (arguments.length > 3) {
      throw new Error(`${where}: after an options object nothing more is taken; write ${USAGE}`);
    }
    const o = checkOptions<SpectralNormOptions>(
      where,
      nPowerIterations,
      ["nPowerIterations", "eps", "dim"],
      USAGE,
    );
    return spectralNorm(module, name, o.nPowerIterations ?? 1, o.eps ?? 1e-12, o.dim);
  }
  if (!(module instanceof Module)) {
    throw new Error(`${where}: expected an nn.Module first, got ${describe(module)}`);
  }
  const weight = (module as unknown as Record<string, unknown>)[name];
  if (typeof name !== "string" || !(weight instanceof Tensor)) {
    throw new Error(
      `${where}: Module '${module.constructor.name}' has no parameter or buffer with name ` +
        `'${String(name)}'`,
    );
  }
  const isTransposed = module instanceof ConvTranspose1d || module instanceof ConvTranspose2d;
  const d = dim ?? (isTransposed ? 1 : 0);
  const p = new _SpectralNorm(weight as Tensor, nPowerIterations, d, eps);
  return registerParametrization(module, name, p);
}
