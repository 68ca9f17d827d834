/**
 * A convolution's output moments handed to the batch norm in training that
 * reads that output next (`conv -> BatchNorm2d`: every ResNet layer). The
 * convolution gathers each channel's mean and M2 as it writes its output
 * (`lits_conv2d_forward_moments_f32`; under bf16 autocast
 * `lits_conv2d_forward_moments_bf16_f32`), and the batch norm takes its
 * batch statistics from them (`lits_batchnorm2d_stats_from_moments_f32`)
 * instead of reading the whole output once more: ResNet-50's training step
 * reads 0.93 GB less at batch 16, 256 x 256 (in bf16, where only the 1x1
 * layers gather them, 1.5% faster).
 *
 * A model asks for it around the convolution's forward (`withMoments`);
 * the moments are kept for that convolution's output tensor alone, and a
 * batch norm uses them only when its input is that tensor, whole, and not
 * written in place since (a forward hook on the convolution may write its
 * output: its storage's version tells). Anything else (no request, another
 * backend, fusion off) takes the statistics pass as before.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { Storage } from "../storage.ts";

let requested = false;
/** The last gathered moments: [mean, M2] per channel, of that storage's values. */
let held: { storage: Storage; version: number; moments: Float64Array } | null = null;

/**
 * @internal runs `fn`, a convolution module's forward whose output a batch
 * norm in training reads next, asking the first convolution in it to gather
 * its output's moments for that batch norm.
 */
export function withMoments<T>(fn: () => T): T {
  const was = requested;
  requested = true;
  try {
    return fn();
  } finally {
    requested = was;
  }
}

/** conv2d: whether it was asked to gather its output's moments (the request is used up). */
export function takeRequest(): boolean {
  const r = requested;
  requested = false;
  return r;
}

/** conv2d: y's moments, kept for the batch norm that reads y (replacing any kept before). */
export function hold(y: Tensor, moments: Float64Array): void {
  held = { storage: y.storage, version: y.storage.version, moments };
}

/**
 * batchNorm: the moments of `x` ([n, c, ...], c channels) when `x` is, whole,
 * the output they were gathered from; they are used up (a second batch norm
 * of the same output takes the pass). Else null.
 */
export function takeMoments(x: Tensor, c: number): Float64Array | null {
  const h = held;
  if (h === null || x.storage !== h.storage || x.storage.version !== h.version) return null;
  if (x.offset !== 0 || !x.isContiguous) return null;
  if (x.numel() * 4 !== h.storage.bytes || h.moments.length !== 2 * c) return null;
  held = null;
  return h.moments;
}
