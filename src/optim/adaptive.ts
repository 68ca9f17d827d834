/**
 * What RMSprop, Adagrad, Adamax, NAdam and RAdam share: their options
 * checks (torch 1.13's ranges, this library's messages), their boolean
 * flags (each group's, as torch's), and the gradient as their steps read it.
 *
 * Their steps are written with tensor ops, in torch 1.13's order of float32
 * operations (`_single_tensor_*`), inside `noGrad`, which frees each step's
 * temporaries.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import type { Device } from "../tensor/device.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import { checkArity, checkOptions } from "../options.ts";

/** torch 1.13 options of these optimizers that this library does not take, and why. */
const TORCH_ONLY: Record<string, string> = {
  foreach: "torch's switch between its per-tensor and multi-tensor loops; the step here is " +
    "always per tensor",
  differentiable: "torch's autograd through the optimizer step; the step here runs outside " +
    "autograd",
  capturable: "torch's CUDA-graph capture of the step, which this library does not do",
  fused: "torch's fused CUDA kernel, which this library does not have",
};

/**
 * @internal checks a constructor's arguments and options object: too many
 * arguments, torch's options that are not taken here (`foreach`, ...), then
 * unknown keys (`weight_decay` names `weightDecay`), as `checkCall`.
 */
export function optimizerOptions<T extends object>(
  name: string,
  given: number,
  options: unknown,
  known: readonly (keyof T & string)[],
  usage: string,
): T {
  const where = `optim.${name}`;
  checkArity(where, given, 2, usage);
  if (options !== null && typeof options === "object") {
    for (const key of Object.keys(options)) {
      const why = TORCH_ONLY[key];
      if (why !== undefined) {
        throw new Error(`${where}: option '${key}' is not taken (${why}); remove it: ${usage}`);
      }
    }
  }
  const o = checkOptions<T>(where, options, known, usage);
  const betas = (o as { betas?: unknown }).betas;
  if (betas !== undefined && (!Array.isArray(betas) || betas.length !== 2)) {
    throw new Error(`${where}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
  }
  return o;
}

/** @internal a boolean flag of the constructor (default false), or an Error naming it. */
export function flagOption(name: string, key: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") {
    throw new Error(
      `optim.${name}: ${key} must be true or false, got ${JSON.stringify(v) ?? String(v)}`,
    );
  }
  return v;
}

/** @internal throws unless each named option is >= 0 (torch's "Invalid ... value"). */
export function checkNonNegative(
  name: string,
  o: Record<string, unknown>,
  keys: readonly string[],
): void {
  for (const key of keys) {
    if (!((o[key] as number) >= 0)) throw new Error(`${name}: ${key} must be >= 0, got ${o[key]}`);
  }
}

/** @internal throws unless both betas are in [0, 1) (torch's "Invalid beta parameter"). */
export function checkBetas(name: string, betas: readonly number[]): void {
  betas.forEach((b, i) => {
    if (!(b >= 0 && b < 1)) {
      throw new Error(`${name}: betas[${i}] must be in [0, 1), got ${b} (betas [${betas}])`);
    }
  });
}

/**
 * @internal the gradient a step reads, as torch's: negated where
 * maximizing, then plus weightDecay * p (L2). Call inside `noGrad`.
 */
export function stepGradient(p: Tensor, g: Tensor, maximize: boolean, weightDecay: number): Tensor {
  const grad = maximize ? g.neg() : g;
  return weightDecay !== 0 ? grad.add(p, { alpha: weightDecay }) : grad;
}

/**
 * @internal Adam's moments, updated in place as torch's composed steps do
 * (exp_avg.mul_(b1).add_(g, 1 - b1); exp_avg_sq.mul_(b2).addcmul_(g, g,
 * 1 - b2)); returns them. Call inside `noGrad`.
 */
export function updateMoments(
  s: { tensors: Map<string, Tensor> },
  grad: Tensor,
  beta1: number,
  beta2: number,
): [Tensor, Tensor] {
  const m = s.tensors.get("exp_avg")!, v = s.tensors.get("exp_avg_sq")!;
  m.copy_(m.mul(beta1).add(grad.mul(1 - beta1)));
  v.copy_(v.mul(beta2).add(grad.mul(1 - beta2).mul(grad)));
  return [m, v];
}

/** @internal a kept state tensor of `shape` on `device`, filled with `value`. */
export function stateTensor(shape: readonly number[], device: Device, value: number): Tensor {
  const t = Tensor.empty(shape, "float32", device, false).keep();
  fillInPlace(t, value);
  return t;
}
