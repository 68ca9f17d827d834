/**
 * Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and
 * `clip_grad_value_`: in place on each parameter's `.grad`, between
 * `backward()` and `optimizer.step()`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { stack } from "../tensor/ops/join.ts";
import { zeros } from "../tensor/ops/creation.ts";
import { type CallContract, checkContract } from "../options.ts";

/** Options of `clipGradNorm_` (PyTorch's names, camelCase). */
export interface ClipGradNormOptions {
  /** The p of the norm: 2 (default), 1, any p > 0, or Infinity (the largest |g|). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of writing NaN (default false). */
  errorIfNonfinite?: boolean;
}

const CLIP_NORM: CallContract<ClipGradNormOptions> = {
  where: "nn.utils.clipGradNorm_",
  most: 3,
  known: ["normType", "errorIfNonfinite"],
  usage: "nn.utils.clipGradNorm_(model.parameters(), 1.0, { normType: 2 })",
};

/** The tensors among `parameters` that have a gradient. */
function withGrads(where: string, parameters: Iterable<Tensor> | Tensor): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : parameters;
  if (list === null || typeof list !== "object" || !(Symbol.iterator in list)) {
    throw new Error(`${where}: parameters must be a tensor or an iterable of tensors`);
  }
  const all = [...list];
  if (!all.every((p) => p instanceof Tensor)) {
    throw new Error(`${where}: parameters must be tensors (model.parameters())`);
  }
  return all.filter((p) => p.grad !== null);
}

/** The p-norm of `v`'s elements (p > 0, or Infinity: the largest |v|). */
function pNorm(v: Tensor, p: number): Tensor {
  const a = v.abs();
  if (p === Infinity) return a.max();
  return p === 1 ? a.sum() : p === 2 ? a.mul(a).sum().sqrt() : a.pow(p).sum().pow(1 / p);
}

/**
 * Scales the gradients of `parameters` together so that their total norm
 * (the norm of the per-parameter norms) is at most `maxNorm`, as PyTorch:
 * the factor is maxNorm / (total + 1e-6), capped at 1. Returns the total
 * norm before clipping, a 0-d tensor that belongs to the step (freed at the
 * next zeroGrad(), as other step results): log it with `.item()`, or
 * `.keep()` it.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * w.mul(tensor([3, 4])).sum().backward(); // w.grad = [3, 4], norm 5
 * const total = nn.utils.clipGradNorm_([w], 1);
 * console.log(total.item(), [...w.grad!.toArray()].map((v) => v.toFixed(3))); // 5 ["0.600", "0.800"]
 * ```
 */
export function clipGradNorm_(
  parameters: Iterable<Tensor> | Tensor,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): Tensor {
  const o = checkContract(CLIP_NORM, arguments.length, options);
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm)) {
    throw new Error(`${CLIP_NORM.where}: maxNorm must be a number; write ${CLIP_NORM.usage}`);
  }
  const p = o.normType ?? 2;
  if (typeof p !== "number" || !(p > 0)) {
    throw new Error(`${CLIP_NORM.where}: normType must be > 0 (or Infinity), got ${p}`);
  }
  const params = withGrads(CLIP_NORM.where, parameters);
  return noGrad(() => {
    if (params.length === 0) return zeros([]); // PyTorch's tensor(0.)
    // The norm of the per-parameter norms, as PyTorch.
    const total = pNorm(stack(params.map((q) => pNorm(q.grad!, p))), p);
    const t = total.item();
    if (o.errorIfNonfinite && !Number.isFinite(t)) {
      throw new Error(
        `${CLIP_NORM.where}: the total norm of order ${p} of the gradients is ${t}, so they ` +
          "cannot be clipped; pass errorIfNonfinite: false to write them scaled anyway",
      );
    }
    // float32 as PyTorch computes it, reciprocal(total + 1e-6) * maxNorm; NaN passes the
    // cap and reaches the gradients, as there.
    const f = Math.fround;
    const coef = f(f(1 / f(t + f(1e-6))) * f(maxNorm));
    if (!(coef >= 1)) {
      for (const q of params) q.grad!.mul_(coef);
    }
    return total;
  });
}

/**
 * Clamps every gradient of `parameters` to [-clipValue, clipValue] in place
 * (`torch.nn.utils.clip_grad_value_`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * w.mul(tensor([-3, 0.5])).sum().backward();
 * nn.utils.clipGradValue_([w], 1);
 * console.log([...w.grad!.toArray()]); // [-1, 0.5]
 * ```
 */
export function clipGradValue_(parameters: Iterable<Tensor> | Tensor, clipValue: number): void {
  const where = "nn.utils.clipGradValue_";
  if (arguments.length !== 2) {
    throw new Error(
      `${where}: takes (parameters, clipValue); write ${where}(model.parameters(), 1)`,
    );
  }
  if (typeof clipValue !== "number" || !(clipValue >= 0)) {
    throw new Error(`${where}: clipValue must be a number >= 0, got ${clipValue}`);
  }
  const params = withGrads(where, parameters);
  noGrad(() => {
    for (const q of params) q.grad!.clamp_(-clipValue, clipValue);
  });
}
