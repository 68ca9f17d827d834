/**
 * Bernoulli draws and stochastic depth: `bernoulli` (torch.bernoulli),
 * `x.bernoulli_(p)`, and `stochasticDepth` (torchvision.ops.stochastic_depth,
 * the DropPath of EfficientNet, ConvNeXt and timm's blocks). Draws come from
 * the library's generator (`manualSeed`), not torch's, so a seed gives the
 * same masks here every run but not torch's masks.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { expectTensor, lt } from "./compare.ts";
import { div, mul, requireFloat } from "./elementwise.ts";
import { fillUniform } from "./random.ts";

function checkProbability(where: string, p: unknown): number {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`${where}: p must be a number in [0, 1], got ${JSON.stringify(p)}`);
  }
  return p;
}

/**
 * 1 with probability `probs` (elementwise, in [0, 1]), else 0, as
 * `torch.bernoulli(probs)`: a float32 tensor of probs' shape, outside
 * autograd.
 *
 * @example
 * ```ts
 * import { bernoulli, full } from "@lits/vision";
 * const draws = bernoulli(full([1000], 0.3));
 * console.log(Math.abs(draws.mean().item() - 0.3) < 0.06); // true
 * ```
 */
export function bernoulli(probs: Tensor): Tensor {
  if (arguments.length !== 1) {
    throw new Error(`bernoulli: takes one tensor of probabilities, got ${arguments.length}`);
  }
  expectTensor(probs, "bernoulli", "bernoulli(probs)");
  requireFloat(probs, "bernoulli");
  return noGrad(() => {
    const inside = probs.ge(0).mul(probs.le(1)).min().item();
    if (probs.numel() > 0 && inside !== 1) {
      throw new Error("bernoulli: probabilities must be in [0, 1] (and not NaN)");
    }
    return lt(uniform([...probs.shape], probs.device), probs);
  });
}

/** Uniform draws in [0, 1) as an op's result (the step frees it, as other ops' results). */
function uniform(shape: number[], device: Tensor["device"]): Tensor {
  const t = Tensor.empty(shape, "float32", device, true);
  fillUniform(t, 0, 1, "bernoulli");
  return t;
}

/** @internal draws of 1 with probability p, of `shape`, as a float32 mask. */
export function bernoulliMask(shape: number[], p: number, device: Tensor["device"]): Tensor {
  checkProbability("bernoulli_", p);
  return noGrad(() => lt(uniform(shape, device), p));
}

/**
 * Stochastic depth, as `torchvision.ops.stochastic_depth(x, p, mode,
 * training)`: in training, each sample's residual branch ("row", one draw
 * per sample) or the whole batch's ("batch", one draw) is zeroed with
 * probability p, and what survives is scaled by 1 / (1 - p); the identity
 * when p is 0 or not training. The gradient flows through the kept
 * samples, scaled alike.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const y = F.stochasticDepth(ones([4, 2]), 0.5, "row", true);
 * console.log((y.toList() as number[][]).every((r) => r[0] === 0 || r[0] === 2)); // true
 * ```
 */
export function stochasticDepth(
  x: Tensor,
  p: number,
  mode: "row" | "batch" = "row",
  training = true,
): Tensor {
  const usage = 'F.stochasticDepth(x, 0.2, "row", model.training)';
  if (arguments.length < 2 || arguments.length > 4) {
    throw new Error(`stochasticDepth: takes (x, p, mode, training); write ${usage}`);
  }
  expectTensor(x, "stochasticDepth", usage);
  requireFloat(x, "stochasticDepth");
  checkProbability("stochasticDepth", p);
  if (mode !== "row" && mode !== "batch") {
    throw new Error(`stochasticDepth: mode must be "row" or "batch", got ${JSON.stringify(mode)}`);
  }
  if (typeof training !== "boolean") {
    throw new Error(`stochasticDepth: training must be a boolean, got ${JSON.stringify(training)}`);
  }
  if (!training || p === 0) return x;
  const shape = mode === "row" ? [x.shape[0] ?? 1, ...x.shape.slice(1).map(() => 1)] : [1];
  const survival = 1 - p;
  const noise = bernoulliMask(shape, survival, x.device);
  return mul(x, survival > 0 ? div(noise, survival) : noise);
}
