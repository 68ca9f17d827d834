/**
 * Batch normalisation (PyTorch's F.batch_norm) over the channel dimension
 * of [N, C, ...] inputs, on the backend's training, inference and backward
 * kernels.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { isGradEnabled, record } from "../autograd.ts";
import { contiguous, reshape } from "./shape.ts";
import { add, div, mul, requireFloat, sqrt, sub } from "./elementwise.ts";

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Normalise with batch statistics and update the running ones (default false). */
  training?: boolean;
  /** Weight of the new batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

function checkChannel(t: Tensor | null, c: number, name: string, x: Tensor): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== c)) {
    throw new Error(
      `batchNorm: ${name} [${t.shape}] does not match ${c} channels of input [${x.shape}]`,
    );
  }
}

/**
 * Batch norm of x [N, C, ...]. In training it normalises with the batch's
 * biased variance and updates `runningMean`/`runningVar` (unbiased) in place.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  requireFloat(x, "batchNorm");
  if (x.ndim < 2) throw new Error(`batchNorm: expected input [N, C, ...], got [${x.shape}]`);
  const [n, c] = x.shape;
  const hw = numel(x.shape.slice(2));
  for (
    const [t, name] of [[runningMean, "runningMean"], [runningVar, "runningVar"], [
      weight,
      "weight",
    ], [bias, "bias"]] as const
  ) {
    checkChannel(t, c, name, x);
  }
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  const desc = () => `batchNorm x [${x.shape}] training ${training}`;
  const lib = x.lib;
  const cx = contiguous(x);
  if (!training) {
    if (!runningMean || !runningVar) {
      throw new Error(`${desc()}: evaluation needs running statistics`);
    }
    const wantsGrad = isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad);
    if (wantsGrad) return evalComposite(x, runningMean, runningVar, weight, bias, eps);
    const y = Tensor.empty(x.shape, "float32", x.device);
    if (y.size > 0) {
      check(
        lib,
        lib.lits_batchnorm2d_forward_infer_f32(
          cx.ptr,
          weight?.ptr ?? null,
          bias?.ptr ?? null,
          runningMean.ptr,
          runningVar.ptr,
          y.ptr,
          n,
          c,
          hw,
          eps,
        ),
        desc,
      );
    }
    return y;
  }
  if (n * hw <= 1) {
    throw new Error(
      `${desc()}: expected more than 1 value per channel when training, got input [${x.shape}]`,
    );
  }
  const y = Tensor.empty(x.shape, "float32", x.device);
  const saveMean = Tensor.empty([c], "float32", x.device);
  const saveInvstd = Tensor.empty([c], "float32", x.device);
  check(
    lib,
    lib.lits_batchnorm2d_forward_train_f32(
      cx.ptr,
      weight?.ptr ?? null,
      bias?.ptr ?? null,
      y.ptr,
      runningMean?.ptr ?? null,
      runningVar?.ptr ?? null,
      saveMean.ptr,
      saveInvstd.ptr,
      n,
      c,
      hw,
      momentum,
      eps,
    ),
    desc,
  );
  const inputs = [cx, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, {
    name: "batchNorm",
    inputs,
    backward: (g) => {
      const dy = contiguous(g);
      const dx = Tensor.empty(x.shape, "float32", x.device);
      const dgamma = weight ? Tensor.empty([c], "float32", x.device) : null;
      const dbeta = bias ? Tensor.empty([c], "float32", x.device) : null;
      check(
        lib,
        lib.lits_batchnorm2d_backward_f32(
          cx.ptr,
          dy.ptr,
          weight?.ptr ?? null,
          saveMean.ptr,
          saveInvstd.ptr,
          dx.ptr,
          dgamma?.ptr ?? null,
          dbeta?.ptr ?? null,
          n,
          c,
          hw,
        ),
        () => `${desc()} backward`,
      );
      return [dx, ...(weight ? [dgamma] : []), ...(bias ? [dbeta] : [])];
    },
  });
}

/** Evaluation-mode batch norm from differentiable ops (rare: grads in eval). */
function evalComposite(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  const shape = [1, x.shape[1], ...x.shape.slice(2).map(() => 1)];
  let y = div(sub(x, reshape(runningMean, shape)), reshape(sqrt(add(runningVar, eps)), shape));
  if (weight) y = mul(y, reshape(weight, shape));
  if (bias) y = add(y, reshape(bias, shape));
  return y;
}
