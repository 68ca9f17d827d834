/**
 * Cross-entropy on logits (PyTorch's F.cross_entropy): class weights,
 * label smoothing, an ignored label and the three reductions, in one fused
 * native kernel each way.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { REDUCTION } from "../../ffi/codes.ts";
import { numel, Tensor } from "../tensor.ts";
import { contiguous } from "./shape.ts";
import { recordKernelGrad } from "./kernel_grad.ts";
import { isGradEnabled } from "../autograd.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { crossEntropyProbs, crossEntropyUnbatched } from "./losses_probs.ts";

/** How per-sample losses are combined. */
export type Reduction = "none" | "mean" | "sum";

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions {
  /** A weight per class ([C]). */
  weight?: Tensor | null;
  /** Target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /** Mass spread uniformly over the classes, in [0, 1] (default 0). */
  labelSmoothing?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `crossEntropy` is called; `nn.CrossEntropyLoss` takes the same option names. */
export const CROSS_ENTROPY: CallContract<CrossEntropyOptions> = {
  where: "crossEntropy",
  most: 3,
  known: ["weight", "ignoreIndex", "labelSmoothing", "reduction"],
  usage: "F.crossEntropy(logits, target, { labelSmoothing: 0.1 })",
};

/**
 * Cross-entropy of logits [N, C] (or [N, C, ...], or one sample [C])
 * against int32 class indices [N] (or [N, ...], or []), or against
 * probabilities per class of the logits' own shape (float32: mixup,
 * distillation), as torch's.
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const o = checkContract(CROSS_ENTROPY, arguments.length, options);
  if (logits instanceof Tensor && target instanceof Tensor) {
    // A target of the logits' own shape holds probabilities (as PyTorch decides).
    const sameShape = logits.ndim === target.ndim &&
      logits.shape.every((d, i) => d === target.shape[i]);
    if (sameShape) return crossEntropyProbs(logits, target, o);
    // One sample's logits [C]: a 0-d class index (the unbatched form checks it).
    if (logits.ndim === 1) return crossEntropyUnbatched(logits, target, o);
  }
  requireFloat(logits, "crossEntropy");
  sameDevice(logits, target, "crossEntropy");
  const weight = o.weight ?? null;
  const ignoreIndex = o.ignoreIndex ?? -100;
  const smoothing = o.labelSmoothing ?? 0;
  const reduction = o.reduction ?? "mean";
  const desc = () =>
    `crossEntropy logits [${logits.shape}] target [${target.shape}] (${target.dtype})`;
  if (target.dtype !== "int32") {
    throw new Error(
      `${desc()}: targets must be int32 class indices, or float32 probabilities that must ` +
        `have the logits' shape [${logits.shape}]`,
    );
  }
  if (logits.ndim < 2) throw new Error(`${desc()}: logits must be [N, C, ...]`);
  const [n, c] = logits.shape;
  const rest = logits.shape.slice(2);
  const expected = [n, ...rest];
  if (target.shape.join() !== expected.join()) {
    throw new Error(`${desc()}: target must be [${expected}]`);
  }
  if (!(reduction in REDUCTION)) throw new Error(`${desc()}: unknown reduction '${reduction}'`);
  if (!(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`${desc()}: labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  if (!Number.isInteger(ignoreIndex)) throw new Error(`${desc()}: ignoreIndex must be an integer`);
  if (weight) {
    requireFloat(weight, "crossEntropy weight");
    sameDevice(logits, weight, "crossEntropy");
    if (weight.ndim !== 1 || weight.shape[0] !== c) {
      throw new Error(`${desc()}: weight [${weight.shape}] must be [${c}]`);
    }
    if (weight.requiresGrad && isGradEnabled()) {
      // Its gradient would silently stay null: PyTorch refuses the same.
      throw new Error(
        `${desc()}: the loss is not differentiable with respect to weight; pass ` +
          "weight.detach() (class weights are constants)",
      );
    }
  }
  const inner = numel(rest);
  const x = contiguous(logits), t = contiguous(target), w = weight ? contiguous(weight) : null;
  const outShape = reduction === "none" ? expected : [];
  const loss = Tensor.empty(outShape, "float32", logits.device);
  const red = REDUCTION[reduction];
  const lib = logits.lib;
  // Forward and backward take the same leading arguments; written once so they cannot drift.
  const args = [x.ptr, t.ptr, w?.ptr ?? null, n, c, inner, ignoreIndex, smoothing, red] as const;
  check(lib, lib.lits_cross_entropy_f32(...args, loss.ptr), desc);
  return recordKernelGrad(
    loss,
    "crossEntropy",
    x,
    (dl, dx) => lib.lits_cross_entropy_backward_f32(...args, dl.ptr, dx.ptr),
    () => `${desc()} backward`,
    { reads: w ? [t, w] : [t] }, // the kernel reads the targets and weights again
  );
}
