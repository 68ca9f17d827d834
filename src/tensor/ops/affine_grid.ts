/**
 * `F.affineGrid` (torch.nn.functional.affine_grid): the sampling grid of
 * a batch of affine transforms, for `gridSample`. As torch's
 * affine_grid_generator: a base grid of output positions in [-1, 1]
 * (torch's linspace, scaled by (size - 1) / size without align corners)
 * times each theta transposed, one batched matrix product, so the
 * gradient to theta is the product's.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { checkCall } from "../../options.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { matmul } from "./matmul.ts";
import { reshape, transpose } from "./shape.ts";

/** Options of {@link affineGrid}: torch's argument in camelCase. */
export interface AffineGridOptions {
  /**
   * false (torch 1.13's default, which it warns about when the argument is
   * left out): -1 and 1 are the outer edges of the edge pixels; true: their
   * centres. Use the same value in `gridSample`.
   */
  alignCorners?: boolean;
}

const USAGE = "F.affineGrid(theta, [N, C, H, W], { alignCorners: false })";
const f32 = Math.fround;

/** torch's linspace(-1, 1, steps) in float32, times (steps - 1) / steps without align corners. */
function positions(steps: number, align: boolean): Float32Array {
  if (steps <= 1) return new Float32Array(steps);
  const step = f32(2 / (steps - 1)), half = Math.floor(steps / 2);
  return Float32Array.from({ length: steps }, (_, i) => {
    // torch's kernel counts the second half back from the end.
    const v = i < half ? f32(-1 + f32(step * i)) : f32(1 - f32(step * (steps - i - 1)));
    return align ? v : f32(f32(v * (steps - 1)) / steps);
  });
}

/** The base grid [count, k + 1]: each output position's coordinates (x first) and a 1. */
function baseGrid(spatial: number[], align: boolean): Float32Array {
  const axes = spatial.map((s) => positions(s, align)).reverse(); // x, y (, z)
  const k = axes.length, count = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * (k + 1));
  for (let i = 0; i < count; i++) {
    let rest = i;
    for (let d = 0; d < k; d++) {
      const size = axes[d].length;
      out[i * (k + 1) + d] = axes[d][rest % size];
      rest = Math.floor(rest / size);
    }
    out[i * (k + 1) + k] = 1;
  }
  return out;
}

/**
 * The sampling grid of the affine maps `theta`, as
 * `torch.nn.functional.affine_grid`: for `size` [N, C, H, W] and theta
 * [N, 2, 3], grid [N, H, W, 2] whose (x, y) at each output pixel is theta
 * times (x_out, y_out, 1), positions in [-1, 1]; for a volume `size`
 * [N, C, D, H, W] and theta [N, 3, 4], grid [N, D, H, W, 3] (x, y, z).
 * `alignCorners` false is torch 1.13's default; pass the same value to
 * `gridSample`. Differentiable in theta (a spatial transformer learns it).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const theta = tensor([[[1, 0, 0], [0, 1, 0]]]); // the identity
 * const grid = F.affineGrid(theta, [1, 1, 2, 2]);
 * console.log(grid.shape, grid.toArray()); // [1, 2, 2, 2] Float32Array [-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5]
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * console.log(F.gridSample(x, grid).toArray()); // Float32Array [1, 2, 3, 4]
 * ```
 */
export function affineGrid(
  theta: Tensor,
  size: readonly number[],
  options: AffineGridOptions = {},
): Tensor {
  const o = checkCall<AffineGridOptions>(
    "affineGrid",
    arguments.length,
    3,
    options,
    ["alignCorners"],
    USAGE,
  );
  expectTensor(theta, "affineGrid: theta", USAGE);
  requireFloat(theta, "affineGrid: theta");
  const align = o.alignCorners ?? false; // Python's None is torch's default
  if (typeof align !== "boolean") {
    throw new Error(
      `affineGrid: alignCorners must be true or false, got ${
        JSON.stringify(align)
      }; write ${USAGE}`,
    );
  }
  if (!Array.isArray(size) || (size.length !== 4 && size.length !== 5)) {
    throw new Error(
      `affineGrid: size must be [N, C, H, W] (2-D) or [N, C, D, H, W] (3-D), got ` +
        `${JSON.stringify(size)}; write ${USAGE}`,
    );
  }
  if (!size.every((s) => Number.isInteger(s) && s > 0)) {
    throw new Error(`affineGrid: size must be positive integers, got [${size}]`);
  }
  const k = size.length - 2; // spatial dimensions
  const n = size[0];
  if (
    theta.ndim !== 3 || theta.shape[0] !== n || theta.shape[1] !== k || theta.shape[2] !== k + 1
  ) {
    throw new Error(
      `affineGrid: expected a batch of ${k}-D affine matrices of shape [${n}, ${k}, ${k + 1}] ` +
        `for size [${size}], got theta [${theta.shape}]`,
    );
  }
  const spatial = size.slice(2);
  const count = spatial.reduce((a, b) => a * b, 1);
  const base = fromHost(baseGrid(spatial, align), [count, k + 1], { device: theta.device }, true);
  // [count, k + 1] x [N, k + 1, k] -> [N, count, k]: torch's base.bmm(theta.transpose(1, 2)).
  return reshape(matmul(base, transpose(theta, 1, 2)), [n, ...spatial, k]);
}
