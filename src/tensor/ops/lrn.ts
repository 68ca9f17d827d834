/**
 * `F.localResponseNorm`, AlexNet's cross-channel normalisation, computed as
 * torch 1.13's `local_response_norm`: the squared input is padded along the
 * channels (size / 2 before, (size - 1) / 2 after, rounded down) and
 * average-pooled over windows of `size` channels, then
 * x / (k + alpha * mean)^beta. It is composed from `pad`, `avgPool2d` (on
 * an [N, 1, C, rest] view, the channels as rows) and elementwise ops, so its
 * gradient is torch's (torch composes the same ops).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { add, div, mul, pow, requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { pad } from "./pad.ts";
import { avgPool2d } from "./pool.ts";
import { reshape } from "./shape.ts";
import { showValue } from "./show_value.ts";

const LRN_REST = ["alpha", "beta", "k"];

const USAGE = "F.localResponseNorm(x, 5, 1e-4, 0.75, 1) (x [N, C, ...])";

/** @internal checks LRN's numbers (`where` names the caller); throws with `usage`. */
export function checkLrnArgs(
  where: string,
  size: unknown,
  alpha: unknown,
  beta: unknown,
  k: unknown,
  usage: string,
): void {
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
    throw new Error(
      `${where}: size (the number of channels in a window) must be an integer >= 1, ` +
        `got ${showValue(size)}; write ${usage}`,
    );
  }
  for (const [name, v] of [["alpha", alpha], ["beta", beta], ["k", k]] as const) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(
        `${where}: ${name} must be a finite number, got ${showValue(v)}; write ${usage}`,
      );
    }
  }
}

/**
 * Local response normalisation across channels, as
 * `F.local_response_norm(x, size, alpha, beta, k)`: each element divided by
 * (k + alpha / size * the sum of squares over `size` neighbouring channels)^beta
 * (windows cut at the first and last channel; the sum divided by `size`
 * still). x is [N, C, ...] with at least 3 dimensions (a 3-d x is
 * [N, C, L], as torch's). Defaults alpha 1e-4, beta 0.75, k 1; AlexNet uses
 * size 5, alpha 1e-4, beta 0.75, k 2.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const y = F.localResponseNorm(ones([1, 3, 1, 1]), 2, 1, 1, 1);
 * console.log(y.toArray()); // Float32Array [0.6666666865348816, 0.5, 0.5]
 * ```
 */
export function localResponseNorm(
  x: Tensor,
  size: number,
  alpha = 1e-4,
  beta = 0.75,
  k = 1,
): Tensor {
  refuseKeywords("F.localResponseNorm", size, "x", ["size", ...LRN_REST], []);
  refuseKeywords("F.localResponseNorm", alpha, `x, ${size}`, LRN_REST, [1e-4, 0.75, 1]);
  if (arguments.length < 2 || arguments.length > 5) {
    throw new Error(
      `localResponseNorm: takes (x, size, alpha, beta, k), got ${arguments.length} ` +
        `argument${arguments.length === 1 ? "" : "s"}; write ${USAGE}`,
    );
  }
  expectTensor(x, "localResponseNorm", USAGE);
  requireFloat(x, "localResponseNorm");
  checkLrnArgs("localResponseNorm", size, alpha, beta, k, USAGE);
  if (x.ndim < 3) {
    throw new Error(
      `localResponseNorm: expected an input of 3 or more dimensions [N, C, ...], got [${x.shape}]` +
        (x.ndim === 2 ? "; for one [C, L] sample write x.unsqueeze(0)" : ""),
    );
  }
  if (x.numel() === 0) return x; // torch returns its input
  const [n, c] = x.shape;
  const rest = x.numel() / (n * c);
  // Channels as the rows of an [N, 1, C, rest] image: a (size, 1) window slides over them.
  const squares = reshape(mul(x, x), [n, 1, c, rest]);
  const padded = pad(squares, [0, 0, Math.floor(size / 2), Math.floor((size - 1) / 2)]);
  const mean = reshape(avgPool2d(padded, [size, 1], { stride: 1 }), [...x.shape]);
  return div(x, pow(add(mul(mean, alpha), k), beta));
}
