/**
 * Folding an evaluation-mode batch norm into the layer before it, as torch
 * 1.13's `torch.nn.utils.fusion`: the fused layer's output equals
 * layer -> batch norm in eval, in one layer (inference and export).
 *
 * @module
 */
import { Module, Parameter } from "./module.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { onesLike, zerosLike } from "../tensor/ops/like.ts";
import { getRngState, setRngState } from "../tensor/rng_state.ts";
import { Conv2d } from "./conv.ts";
import { Linear } from "./linear.ts";
import { BatchNormBase } from "./batchnorm_base.ts";
import { describe } from "./prune/base.ts";
import { isParametrized } from "./parametrize.ts";

/** Throws unless `t` is a tensor (or, with `nullable`, null) of `n` elements. */
function checkVector(where: string, what: string, t: unknown, n: number, nullable: boolean) {
  if (t === null && nullable) return;
  if (!(t instanceof Tensor) || t.numel() !== n) {
    throw new Error(
      `${where}: ${what} must be a Tensor of ${n} elements (one per output channel)` +
        `${nullable ? " or null" : ""}, got ${describe(t)}`,
    );
  }
}

/**
 * Folds batch-norm statistics and affine parameters into convolution
 * weights, as torch 1.13's `fuse_conv_bn_weights(conv_w, conv_b, bn_rm,
 * bn_rv, bn_eps, bn_w, bn_b, transpose)`: `w * (bnW / sqrt(bnRv + bnEps))`
 * per output channel (dimension 0, or 1 with `transpose` for a
 * ConvTranspose's [in, out, ...] weight) and
 * `(b - bnRm) / sqrt(bnRv + bnEps) * bnW + bnB`; a null `convB`, `bnW` or
 * `bnB` counts as zeros, ones, zeros. Returns new Parameters [weight, bias].
 *
 * @example
 * ```ts
 * import { nn, ones, zeros } from "@lits/vision";
 * const conv = new nn.Conv2d(1, 2, 1);
 * const [w, b] = nn.utils.fuseConvBnWeights(
 *   conv.weight, null, zeros([2]), ones([2]).mul(4), 0, ones([2]), ones([2]),
 * );
 * console.log(w.shape, b.toList()); // [2, 1, 1, 1] [1, 1]
 * ```
 */
export function fuseConvBnWeights(
  convW: Tensor,
  convB: Tensor | null,
  bnRm: Tensor,
  bnRv: Tensor,
  bnEps: number,
  bnW: Tensor | null,
  bnB: Tensor | null,
  transpose = false,
): [Parameter, Parameter] {
  const where = "nn.utils.fuseConvBnWeights";
  if (!(convW instanceof Tensor) || convW.ndim < 2) {
    throw new Error(`${where}: convW must be a convolution's weight, got ${describe(convW)}`);
  }
  if (typeof transpose !== "boolean") {
    throw new Error(`${where}: transpose must be true or false, got ${describe(transpose)}`);
  }
  const c = convW.shape[transpose ? 1 : 0];
  checkVector(where, "convB", convB, c, true);
  checkVector(where, "bnRm (running_mean)", bnRm, c, false);
  checkVector(where, "bnRv (running_var)", bnRv, c, false);
  checkVector(where, "bnW", bnW, c, true);
  checkVector(where, "bnB", bnB, c, true);
  if (typeof bnEps !== "number" || !(bnEps >= 0)) {
    throw new Error(`${where}: bnEps must be a number >= 0, got ${describe(bnEps)}`);
  }
  const [w, b] = noGrad(() => {
    const scale = bnW ?? onesLike(bnRm);
    const shift = bnB ?? zerosLike(bnRm);
    const rsqrt = bnRv.add(bnEps).rsqrt();
    const shape = convW.shape.map(() => 1);
    shape[transpose ? 1 : 0] = -1;
    const w = convW.mul(scale.mul(rsqrt).reshape(shape));
    const b = (convB ?? zerosLike(bnRm)).sub(bnRm).mul(rsqrt).mul(scale).add(shift);
    return [w.detach(), b.detach()];
  });
  return [new Parameter(w), new Parameter(b)];
}

/**
 * Folds linear-layer weights and batch-norm statistics, as torch 1.13's
 * `fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w,
 * bn_b)`. Returns new Parameters [weight, bias].
 *
 * @example
 * ```ts
 * import { nn, ones, zeros } from "@lits/vision";
 * const fc = new nn.Linear(3, 2);
 * const [w, b] = nn.utils.fuseLinearBnWeights(
 *   fc.weight, null, zeros([2]), ones([2]), 0, ones([2]), zeros([2]),
 * );
 * console.log(w.shape, b.toList()); // [2, 3] [0, 0]
 * ```
 */
export function fuseLinearBnWeights(
  linearW: Tensor,
  linearB: Tensor | null,
  bnRm: Tensor,
  bnRv: Tensor,
  bnEps: number,
  bnW: Tensor | null,
  bnB: Tensor | null,
): [Parameter, Parameter] {
  if (!(linearW instanceof Tensor) || linearW.ndim !== 2) {
    throw new Error(
      `nn.utils.fuseLinearBnWeights: linearW must be a Linear's [out, in] weight, got ` +
        describe(linearW),
    );
  }
  // The same arithmetic as a 1x1 convolution's: scale per output row.
  return fuseConvBnWeights(linearW, linearB, bnRm, bnRv, bnEps, bnW, bnB);
}

/** Throws where `m`'s weight or bias is parametrized (nn.utils.parametrize), naming the removal. */
function refuseParametrized(where: string, what: string, m: Module): void {
  const name = ["weight", "bias"].find((k) => isParametrized(m, k));
  if (name === undefined) return;
  throw new Error(
    `${where}: ${what}.${name} is parametrized (nn.utils.parametrize: computed from ` +
      `${what}.parametrizations.${name}.original at each read), which a fused copy would not ` +
      `keep; make it a plain Parameter first (holding its current value): ` +
      `nn.utils.parametrize.removeParametrizations(${what}, "${name}")`,
  );
}

/** Throws unless `m` is in eval mode, its weights plain Parameters and its forward its class's. */
function checkFusable(where: string, what: string, m: Module, hooksMatter: boolean): void {
  if (m.training) {
    throw new Error(
      `${where}: Fusion only for eval! (${what} is in training mode); call model.eval() ` +
        `(or ${what}.eval()) first`,
    );
  }
  refuseParametrized(where, what, m);
  const fields = m as unknown as Record<string, unknown>;
  for (const k of ["weight", "bias"]) {
    const t = fields[k];
    if (t !== null && t !== undefined && !(t instanceof Parameter)) {
      throw new Error(
        `${where}: ${what}.${k} is recomputed from other tensors (weightNorm, spectralNorm or ` +
          `prune): make it a plain Parameter first (nn.utils.removeWeightNorm(${what}), ` +
          `removeSpectralNorm or prune.remove)`,
      );
    }
  }
  if (hooksMatter && Object.hasOwn(m, "forward")) {
    throw new Error(
      `${where}: ${what} has hooks or its own forward, which the fused copy would not have ` +
        `(torch's deepcopy keeps hooks); remove them first, or fuse the weights with ` +
        `nn.utils.fuseConvBnWeights and put them in a layer of yours`,
    );
  }
}

/** Throws unless `bn` is a batch norm with running statistics for `channels` channels. */
function checkNorm(where: string, bn: unknown, channels: number): BatchNormBase {
  if (!(bn instanceof BatchNormBase)) {
    throw new Error(`${where}: expected an nn.BatchNorm2d (or 1d, 3d) second, got ${describe(bn)}`);
  }
  if (bn.runningMean === null || bn.runningVar === null) {
    throw new Error(
      `${where}: ${bn.constructor.name} has no running statistics (trackRunningStats: false): ` +
        "in eval it normalises each batch by its own statistics, which no fused layer can do",
    );
  }
  if (bn.numFeatures !== channels) {
    throw new Error(
      `${where}: ${bn.constructor.name}(${bn.numFeatures}) does not match the layer's ` +
        `${channels} output channels`,
    );
  }
  return bn;
}

/**
 * A copy of `conv` whose output equals `bn(conv(x))` in evaluation mode,
 * as torch 1.13's `fuse_conv_bn_eval(conv, bn)`: the same geometry
 * (stride, padding, "same" padding's uneven sides, dilation, groups,
 * paddingMode), with fused weight and bias Parameters (a bias even where
 * `conv` had none); `conv` and `bn` are left as they were. Both must be in
 * eval mode (torch's "Fusion only for eval!"). For an nn.Conv2d; other
 * convolutions: `fuseConvBnWeights`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const conv = new nn.Conv2d(3, 8, 3, { padding: 1 }).eval();
 * const bn = new nn.BatchNorm2d(8).eval();
 * const fused = nn.utils.fuseConvBnEval(conv, bn);
 * const x = randn([1, 3, 6, 6]);
 * console.log(fused(x).sub(bn(conv(x))).abs().max().item() < 1e-5); // true
 * ```
 */
export function fuseConvBnEval(conv: Conv2d, bn: BatchNormBase, transpose = false): Conv2d {
  const where = "nn.utils.fuseConvBnEval";
  if (conv instanceof Conv2d) refuseParametrized(where, "conv", conv);
  if (!(conv instanceof Conv2d) || conv.constructor !== Conv2d || transpose !== false) {
    throw new Error(
      `${where}: here for an nn.Conv2d only, got ${
        transpose !== false ? "transpose: true" : describeModule(conv)
      }; for another convolution write ` +
        "const [w, b] = nn.utils.fuseConvBnWeights(conv.weight, conv.bias, bn.runningMean, " +
        "bn.runningVar, bn.eps, bn.weight, bn.bias, transpose) and load them into a copy",
    );
  }
  checkFusable(where, "conv", conv, true);
  checkNorm(where, bn, conv.outChannels);
  checkFusable(where, "bn", bn, false);
  const [w, b] = fuseConvBnWeights(
    conv.weight,
    conv.bias,
    bn.runningMean!,
    bn.runningVar!,
    bn.eps,
    bn.weight,
    bn.bias,
  );
  return conv.withWeights(w, b);
}

/**
 * A copy of `linear` whose output equals `bn(linear(x))` in evaluation
 * mode, as torch 1.13's `fuse_linear_bn_eval(linear, bn)`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const fc = new nn.Linear(4, 3).eval();
 * const bn = new nn.BatchNorm1d(3).eval();
 * const fused = nn.utils.fuseLinearBnEval(fc, bn);
 * const x = randn([2, 4]);
 * console.log(fused(x).sub(bn(fc(x))).abs().max().item() < 1e-5); // true
 * ```
 */
export function fuseLinearBnEval(linear: Linear, bn: BatchNormBase): Linear {
  const where = "nn.utils.fuseLinearBnEval";
  if (linear instanceof Linear) refuseParametrized(where, "linear", linear);
  if (!(linear instanceof Linear) || linear.constructor !== Linear) {
    throw new Error(`${where}: expected an nn.Linear first, got ${describeModule(linear)}`);
  }
  checkFusable(where, "linear", linear, true);
  checkNorm(where, bn, linear.outFeatures);
  checkFusable(where, "bn", bn, false);
  const [w, b] = fuseLinearBnWeights(
    linear.weight,
    linear.bias,
    bn.runningMean!,
    bn.runningVar!,
    bn.eps,
    bn.weight,
    bn.bias,
  );
  const rng = getRngState(); // torch's deepcopy draws nothing
  const fused = new Linear(linear.inFeatures, linear.outFeatures, { bias: false });
  setRngState(rng);
  fused.weight = w;
  fused.bias = b;
  fused.training = linear.training;
  return fused;
}

/** A module's class for messages. */
function describeModule(m: unknown): string {
  return m instanceof Module ? `an nn.${m.constructor.name}` : describe(m);
}
