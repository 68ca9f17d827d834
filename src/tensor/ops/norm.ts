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
import { add, div, mul, rdiv, requireFloat, sameDevice, sqrt, sub } from "./elementwise.ts";
import * as fusion from "./fusion.ts";
import { bf16Grad, wantsBf16Grad } from "./bf16_grad.ts";
import { markWritten } from "./in_place.ts";
import * as batchMoments from "./batch_moments.ts";
import { noGrad } from "../autograd.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** Options of `batchNorm`. */
export interface BatchNormOptions {
  /** Normalise with batch statistics and update the running ones (default false). */
  training?: boolean;
  /** Weight of the new batch in the running statistics (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

const BATCH_NORM: CallContract<BatchNormOptions> = {
  where: "batchNorm",
  most: 6,
  known: ["training", "momentum", "eps"],
  usage: "F.batchNorm(x, runningMean, runningVar, weight, bias, { training: true })",
};

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
  const o = checkContract(BATCH_NORM, arguments.length, options);
  const slots = [[runningMean, "runningMean"], [runningVar, "runningVar"], [weight, "weight"], [
    bias,
    "bias",
  ]] as const;
  for (const [t, name] of slots) {
    // torch's F.batch_norm(x, None, None, training=True) ported with the options in a tensor's slot.
    if (t !== null && t !== undefined && !(t instanceof Tensor)) {
      throw new Error(
        `batchNorm: ${name} must be a tensor or null, got ${showValue(t)}; the options come ` +
          "sixth, after weight and bias (null for those you do not have): write " +
          "F.batchNorm(x, runningMean, runningVar, weight, bias, { training: true })",
      );
    }
  }
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
    if (t) sameDevice(x, t, `batchNorm ${name}`);
  }
  const training = o.training ?? false;
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  const desc = () => `batchNorm x [${x.shape}] training ${training}`;
  const lib = x.lib;
  const cx = contiguous(x);
  if (!training) {
    if (!runningMean || !runningVar) {
      throw new Error(
        `${desc()}: evaluation needs running statistics; for the batch's own statistics pass ` +
          "{ training: true } sixth (torch's training=True): " +
          "F.batchNorm(x, null, null, weight, bias, { training: true })",
      );
    }
    const wantsGrad = isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad);
    const stats = { runningMean, runningVar, weight, bias, eps };
    if (wantsGrad) return evalComposite(x, stats);
    if (fusion.canFuse(x) && cx.owner !== null && cx.numel() > 0) {
      const coef = inferCoef(stats);
      return deferredOutput(cx, coef, n, c, hw);
    }
    const y = Tensor.empty(x.shape, "float32", x.device);
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
    return y;
  }
  if (n * hw === 0) {
    // An empty batch, as PyTorch: an empty output, the running statistics
    // unchanged; weight and bias get zero gradients (sums over nothing).
    const along = x.shape.map((s, i) => (i === 1 ? s : 1));
    let y = mul(x, 0);
    for (const p of [weight, bias]) if (p) y = add(y, mul(reshape(p, along), 0));
    return y;
  }
  if (n * hw === 1) {
    throw new Error(
      `${desc()}: expected more than 1 value per channel when training, got input [${x.shape}]`,
    );
  }
  const saveMean = Tensor.empty([c], "float32", x.device);
  const saveInvstd = Tensor.empty([c], "float32", x.device);
  // With the fused kernels the output stays a recipe over x (fusion.ts):
  // the statistics pass is the only one over x here.
  const fused = fusion.canFuse(x) && cx.owner !== null;
  const coef = fused ? Tensor.empty([3 * c], "float32", x.device) : null;
  const y = coef ? deferredOutput(cx, coef, n, c, hw) : Tensor.empty(x.shape, "float32", x.device);
  const common = [
    runningMean?.ptr ?? null,
    runningVar?.ptr ?? null,
    saveMean.ptr,
    saveInvstd.ptr,
  ] as const;
  // The moments its convolution gathered as it wrote x, where it did (batch_moments.ts).
  const moments = coef && lib.lits_batchnorm2d_stats_from_moments_f32
    ? batchMoments.takeMoments(cx, c)
    : null;
  check(
    lib,
    moments
      ? lib.lits_batchnorm2d_stats_from_moments_f32!(
        Deno.UnsafePointer.of(moments),
        weight?.ptr ?? null,
        bias?.ptr ?? null,
        ...common,
        coef!.ptr,
        n,
        c,
        hw,
        momentum,
        eps,
      )
      : coef
      ? lib.lits_batchnorm2d_stats_f32!(
        cx.ptr,
        weight?.ptr ?? null,
        bias?.ptr ?? null,
        ...common,
        coef.ptr,
        n,
        c,
        hw,
        momentum,
        eps,
      )
      : lib.lits_batchnorm2d_forward_train_f32(
        cx.ptr,
        weight?.ptr ?? null,
        bias?.ptr ?? null,
        y.ptr,
        ...common,
        n,
        c,
        hw,
        momentum,
        eps,
      ),
    desc,
  );
  if (runningMean) markWritten(runningMean);
  if (runningVar) markWritten(runningVar);
  const inputs = [cx, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, {
    name: "batchNorm",
    inputs,
    saved: [cx, ...(weight ? [weight] : [])], // the shift's gradient needs no values
    backward: (g) => {
      // dx in bf16 where the convolution before reads it so (bf16_grad.ts).
      const bf16 = wantsBf16Grad(cx) ? bf16Grad(cx) : null;
      const dx = bf16?.grad ?? Tensor.empty(x.shape, "float32", x.device);
      const dgamma = weight ? Tensor.empty([c], "float32", x.device) : null;
      const dbeta = bias ? Tensor.empty([c], "float32", x.device) : null;
      const tail = [
        dgamma?.ptr ?? null,
        dbeta?.ptr ?? null,
        n,
        c,
        hw,
        eps, // the forward's: cuDNN asks for the same one in both passes
      ] as const;
      const head = [weight?.ptr ?? null, saveMean.ptr, saveInvstd.ptr] as const;
      // A ReLU on this output hands back its gradient unmasked: mask it here.
      const dyUnmasked = fusion.maskedDy(g, cx, coef);
      const dy = dyUnmasked ?? contiguous(g).ptr, mask = dyUnmasked ? coef!.ptr : null;
      check(
        lib,
        bf16
          ? lib.lits_batchnorm2d_backward_bf16dx_f32!(cx.ptr, dy, mask, ...head, bf16.half, ...tail)
          : mask
          ? lib.lits_batchnorm2d_backward_relu_f32!(cx.ptr, dy, mask, ...head, dx.ptr, ...tail)
          : lib.lits_batchnorm2d_backward_f32(cx.ptr, dy, ...head, dx.ptr, ...tail),
        () => `${desc()} backward`,
      );
      return [dx, ...(weight ? [dgamma] : []), ...(bias ? [dbeta] : [])];
    },
  });
}

/** The batch norm output (x - mean) * scale + shift as a recipe over x. */
function deferredOutput(cx: Tensor, coef: Tensor, n: number, c: number, hw: number): Tensor {
  return fusion.fusedTensor(cx, cx.shape, {
    x: { storage: cx.storage, offset: cx.offset, coef: coef.storage },
    r: null,
    relu: false,
    n,
    c,
    hw,
  });
}

/** What evaluation-mode batch norm reads: the running statistics and the affine parameters. */
export interface EvalStats {
  runningMean: Tensor;
  runningVar: Tensor;
  weight: Tensor | null;
  bias: Tensor | null;
  eps: number;
}

/**
 * Evaluation transform [mean, scale, shift] from the running statistics,
 * with the float operations of `lits_batchnorm2d_forward_infer_f32`
 * (1 / sqrt(var + eps) * gamma), so the values are the same. A snapshot:
 * later updates of the statistics or parameters do not change it.
 */
export function inferCoef({ runningMean, runningVar, weight, bias, eps }: EvalStats): Tensor {
  const c = runningMean.numel();
  const lib = runningMean.lib;
  const coef = Tensor.empty([3 * c], "float32", runningMean.device);
  // One native call where the backend has it (the CPU's): the same float operations.
  const parts = [runningMean, runningVar, weight, bias];
  if (
    lib.lits_batchnorm2d_infer_coef_f32 &&
    parts.every((t) =>
      t === null ||
      (t.isContiguous && t.numel() === c && t.dtype === "float32" &&
        t.device === runningMean.device)
    )
  ) {
    const status = lib.lits_batchnorm2d_infer_coef_f32(
      runningMean.ptr,
      runningVar.ptr,
      weight?.ptr ?? null,
      bias?.ptr ?? null,
      coef.ptr,
      c,
      eps,
    );
    check(lib, status, () => "batchNorm coef");
    return coef;
  }
  noGrad(() => {
    const invstd = rdiv(1, sqrt(add(runningVar, eps)));
    const scale = weight ? mul(invstd, weight) : invstd;
    const part = (i: number) => Deno.UnsafePointer.offset(coef.ptr, i * c * 4)!;
    const copy = (dst: Deno.PointerObject, src: Tensor) =>
      check(lib, lib.lits_copy_d2d(dst, contiguous(src).ptr, c * 4), () => "batchNorm coef");
    copy(part(0), runningMean);
    copy(part(1), scale);
    if (bias) copy(part(2), bias);
    else check(lib, lib.lits_fill_f32(part(2), c, 0), () => "batchNorm coef");
  });
  return coef;
}

/** Evaluation-mode batch norm from differentiable ops (rare: grads in eval). */
function evalComposite(
  x: Tensor,
  { runningMean, runningVar, weight, bias, eps }: EvalStats,
): Tensor {
  const shape = [1, x.shape[1], ...x.shape.slice(2).map(() => 1)];
  let y = div(sub(x, reshape(runningMean, shape)), reshape(sqrt(add(runningVar, eps)), shape));
  if (weight) y = mul(y, reshape(weight, shape));
  if (bias) y = add(y, reshape(bias, shape));
  return y;
}
