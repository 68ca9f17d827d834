/**
 * Captum's `baselines`: the reference an attribution compares the input
 * with (Integrated Gradients' path start, Occlusion's fill). A number for
 * every element (default 0), or a tensor that broadcasts to the input: one
 * baseline [1, ...] for the whole batch, one per example [N, ...], or any
 * shape that broadcasts, as torch's arithmetic (a per-channel [1, C, 1, 1]).
 *
 * @module
 */
import { Tensor } from "../../tensor/tensor.ts";
import { fullLike } from "../../tensor/ops/like.ts";
import { showValue } from "../../tensor/ops/show_value.ts";

/** A checked baseline. */
export type Baseline = number | Tensor;

/** Checks `baselines` against `input`; numbers pass, tensors must broadcast to the input's shape. */
export function checkBaseline(where: string, baselines: unknown, input: Tensor): Baseline {
  if (baselines === undefined || baselines === null) return 0;
  if (typeof baselines === "number") {
    if (!Number.isFinite(baselines)) {
      throw new Error(`${where}: baselines must be a finite number or a tensor, got ${baselines}`);
    }
    return baselines;
  }
  if (!(baselines instanceof Tensor)) {
    const many = Array.isArray(baselines)
      ? " (Captum's tuple of baselines is for several inputs, which are not supported here)"
      : "";
    throw new Error(
      `${where}: baselines must be a number or a tensor, got ${showValue(baselines)}${many}`,
    );
  }
  if (!baselines.isAlive) throw new Error(`${where}: baselines [${baselines.shape}] was released`);
  if (baselines.dtype !== "float32") {
    throw new Error(`${where}: baselines must be float32, got ${baselines.dtype}; use .float()`);
  }
  if (baselines.device !== input.device) {
    throw new Error(
      `${where}: baselines are on ${baselines.device}, the input on ${input.device}; ` +
        `move them with baselines.to("${input.device}")`,
    );
  }
  const b = baselines.shape, x = input.shape;
  const off = x.length - b.length;
  if (off < 0 || b.some((d, i) => d !== 1 && d !== x[off + i])) {
    const rest = x.slice(1).join(", ");
    throw new Error(
      `${where}: baselines [${b}] do not broadcast to the input [${x}]; give a number, one ` +
        `baseline [1, ${rest}] for the batch or one per example [${x.join(", ")}]`,
    );
  }
  return baselines;
}

/** The baseline at the input's full shape (a new tensor). */
export function fullBaseline(baseline: Baseline, input: Tensor): Tensor {
  if (typeof baseline === "number") return fullLike(input, baseline);
  return baseline.expand([...input.shape]).contiguous();
}

/**
 * The baseline of `times` copies of each example (NoiseTunnel's samples):
 * a baseline per example repeated in place, as Captum's; others as given.
 */
export function interleaveBaseline(baseline: unknown, n: number, times: number): unknown {
  if (baseline instanceof Tensor && baseline.isAlive && baseline.ndim > 0 && n > 1) {
    if (baseline.shape[0] === n) return baseline.repeatInterleave(times, 0);
  }
  return baseline;
}
