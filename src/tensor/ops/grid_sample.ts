/**
 * `F.gridSample` (torch.nn.functional.grid_sample) for 4-D inputs (the CPU
 * backend's bilinear and nearest: one native kernel, `sampleNative`): every
 * output pixel reads the input at the (x, y) position its grid entry names,
 * with bilinear, nearest or bicubic interpolation and zeros, border or
 * reflection padding, as PyTorch 1.13's CPU kernel (GridSamplerKernel.cpp).
 *
 * The positions are computed on the host, one pass over the grid
 * (O(N * H_out * W_out), in float32 arithmetic with torch's formulas): for
 * each output pixel the flat index of every input pixel it reads (the 4
 * corners, the 16 bicubic taps, the nearest pixel), or -1 where that pixel
 * lies outside the input, and bilinear's 4 weights. All taps are read in
 * one gather on a channels-last view of the input ([N * H * W, C], one
 * index per output pixel for all channels); the gather kernel reads an
 * index outside its range as 0 and its gradient adds nothing there
 * (native/cpu/gather.c, native/cuda/gather.cuh), which is torch's masked
 * read. No index is ever computed in native code from a coordinate, so a
 * NaN or an infinity in the grid never becomes a memory address.
 *
 * The input's gradient is the gather's scatter-add of the weighted output
 * gradient. The grid's: bilinear records its weights as one node with
 * torch's backward formula; bicubic records the positions' fractional
 * parts as one node and builds its cubic weights from them with tensor
 * ops (the chain rule gives torch's formula); both nodes multiply by
 * torch's d(position)/d(grid): the scale, and 0 where border or reflection
 * padding clipped the position, edges included. Nearest gives the grid
 * zeros, as torch.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { check } from "../../ffi/native.ts";
import { isGradEnabled, record } from "../autograd.ts";
import { checkCall } from "../../options.ts";
import { add, mul, requireFloat, rsub, sameDevice, sub } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { zeros } from "./creation.ts";
import { contiguous, detach, narrow, permute, reshape, transpose } from "./shape.ts";
import { stack } from "./join.ts";
import { sum } from "./reduce.ts";
import { takeAlong } from "./gather.ts";
import { Axis, type Plan, planBicubic, planBilinear, planNearest } from "./grid_sample_plan.ts";

/** How `gridSample` interpolates, torch's names. */
export type GridSampleMode = "bilinear" | "nearest" | "bicubic";

/** What `gridSample` reads outside the input, torch's names. */
export type GridSamplePaddingMode = "zeros" | "border" | "reflection";

/** Options of {@link gridSample}: torch's arguments in camelCase. */
export interface GridSampleOptions {
  /** "bilinear" (default), "nearest" (half to even, as torch) or "bicubic" (A = -0.75). */
  mode?: GridSampleMode;
  /**
   * "zeros" (default): 0 outside the input; "border": the nearest edge
   * pixel; "reflection": the input mirrored at its edges.
   */
  paddingMode?: GridSamplePaddingMode;
  /**
   * false (torch 1.13's default, which it warns about when the argument is
   * left out): -1 and 1 are the outer edges of the edge pixels; true: the
   * centres of the edge pixels.
   */
  alignCorners?: boolean;
}

const MODES: readonly GridSampleMode[] = ["bilinear", "nearest", "bicubic"];
const PADDINGS: readonly GridSamplePaddingMode[] = ["zeros", "border", "reflection"];
/** Other libraries' names of the padding modes, for the error message. */
const PADDING_ALIASES: Record<string, GridSamplePaddingMode> = {
  constant: "zeros",
  zero: "zeros",
  replicate: "border",
  edge: "border",
  reflect: "reflection",
  symmetric: "reflection",
};
const USAGE =
  'F.gridSample(x, grid, { mode: "bilinear", paddingMode: "zeros", alignCorners: false })';
/** `d` [N * P, 2] (x, y per position) times d position / d grid, in the grid's shape. */
function toGrid(grid: Tensor, d: Tensor, mult: Tensor): Tensor {
  return reshape(mul(d, mult), [...grid.shape]);
}

/**
 * The bilinear weights [4, N * P, 1] as a node of the grid (when it needs
 * a gradient) with torch's backward: from each corner's gradient,
 * d/dx = (ne - nw) s + (se - sw) n and d/dy = (sw - nw) e + (se - ne) w,
 * times d position / d grid.
 */
function bilinearWeights(grid: Tensor, plan: Plan, count: number): Tensor {
  const { weights, frac, mult } = plan;
  if (mult === null) return weights!;
  return record(weights!, {
    name: "gridSample",
    inputs: [grid],
    saved: [frac!, mult],
    backward: (g) => {
      const [nw, ne, sw, se] = [0, 1, 2, 3].map((k) => reshape(narrow(g, 0, k, 1), [count]));
      const w = reshape(narrow(frac!, 0, 0, 1), [count]);
      const n = reshape(narrow(frac!, 0, 1, 1), [count]);
      const e = rsub(1, w), s = rsub(1, n);
      const gx = add(mul(sub(ne, nw), s), mul(sub(se, sw), n));
      const gy = add(mul(sub(sw, nw), e), mul(sub(se, ne), w));
      return [toGrid(grid, stack([gx, gy], 1), mult)];
    },
  });
}

/**
 * The fractional parts [2, N * P] as a node of the grid whose gradient is
 * the incoming one times d position / d grid (bicubic's weights are tensor
 * ops of these).
 */
function fractions(grid: Tensor, plan: Plan): Tensor {
  const { frac, mult } = plan;
  if (mult === null) return frac!;
  return record(frac!, {
    name: "gridSample",
    inputs: [grid],
    saved: [mult],
    backward: (g) => [toGrid(grid, transpose(g, 0, 1), mult)],
  });
}

/** torch's cubic convolution weights of the 4 taps at fraction t (A = -0.75). */
function cubicWeights(t: Tensor): Tensor[] {
  const A = -0.75;
  // ((A x - 5A) x + 8A) x - 4A for 1 <= |x| < 2; ((A + 2) x - (A + 3)) x x + 1 for |x| <= 1.
  const far = (x: Tensor) => sub(mul(add(mul(sub(mul(x, A), 5 * A), x), 8 * A), x), 4 * A);
  const near = (x: Tensor) => add(mul(mul(sub(mul(x, A + 2), A + 3), x), x), 1);
  return [far(add(t, 1)), near(t), near(rsub(1, t)), far(rsub(2, t))];
}

/** sum_k values[k] * weights[k], left to right as torch's kernels add them. */
function weighted(values: Tensor[], weights: Tensor[]): Tensor {
  let out = mul(values[0], weights[0]);
  for (let k = 1; k < values.length; k++) out = add(out, mul(values[k], weights[k]));
  return out;
}

function checkChoice<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  aliases: Record<string, T> = {},
): T {
  if (allowed.includes(value as T)) return value as T;
  const alias = typeof value === "string" && Object.hasOwn(aliases, value)
    ? ` (torch's name for it is "${aliases[value]}")`
    : "";
  throw new Error(
    `gridSample: ${name} must be ${allowed.map((a) => `"${a}"`).join(", ")}, got ` +
      `${JSON.stringify(value) ?? String(value)}${alias}; write ${USAGE}`,
  );
}

function checkShapes(input: Tensor, grid: Tensor): void {
  if (input.ndim === 5 || grid.ndim === 5) {
    throw new Error(
      `gridSample: 5-D (volumetric) sampling is not implemented, got input [${input.shape}] and ` +
        `grid [${grid.shape}]; sample a 4-D input [N, C, H, W] with a grid [N, H_out, W_out, 2]` +
        " (one depth slice at a time)",
    );
  }
  if (input.ndim !== 4) {
    throw new Error(
      `gridSample: input must be 4-D [N, C, H, W], got [${input.shape}]` +
        (input.ndim === 3 ? "; add the batch dimension with x.unsqueeze(0)" : ""),
    );
  }
  if (grid.ndim !== 4 || grid.shape[3] !== 2) {
    throw new Error(
      `gridSample: grid must be [N, H_out, W_out, 2] (x, y in [-1, 1]), got [${grid.shape}]` +
        (grid.ndim === 4 ? `; its last dimension must be 2, not ${grid.shape[3]}` : ""),
    );
  }
  if (input.shape[0] !== grid.shape[0]) {
    throw new Error(
      `gridSample: input [${input.shape}] and grid [${grid.shape}] must have the same batch size`,
    );
  }
  if (input.shape[2] < 1 || input.shape[3] < 1) {
    throw new Error(`gridSample: input [${input.shape}] has an empty spatial dimension`);
  }
  if (input.shape[0] * input.shape[2] * input.shape[3] >= 2 ** 31) {
    throw new Error(
      `gridSample: input [${input.shape}] has over 2^31 pixels in all; sample it in smaller batches`,
    );
  }
}

/**
 * Bilinear and nearest sampling on the CPU backend's kernel
 * (native/cpu/grid_sample.c), one pass forward and one backward, with the
 * same numbers as the composed path below (which bicubic and CUDA take).
 */
function sampleNative(
  input: Tensor,
  grid: Tensor,
  mode: GridSampleMode,
  padding: GridSamplePaddingMode,
  align: boolean,
  outShape: number[],
): Tensor {
  const lib = input.lib;
  const [n, c, h, w] = input.shape;
  const [hOut, wOut] = grid.shape.slice(1, 3);
  const x = contiguous(input), g = contiguous(grid);
  const codes = [mode === "nearest" ? 1 : 0, PADDINGS.indexOf(padding), align ? 1 : 0] as const;
  const what = () => `gridSample input [${input.shape}], grid [${grid.shape}]`;
  const out = Tensor.empty(outShape, "float32", input.device, true);
  check(
    lib,
    lib.lits_grid_sample2d_f32!(x.ptr, g.ptr, out.ptr, n, c, h, w, hOut, wOut, ...codes),
    what,
  );
  return record(out, {
    name: "gridSample",
    inputs: [input, grid],
    saved: [x, g],
    backward: (gy) => {
      const dy = contiguous(gy);
      const dx = input.requiresGrad ? Tensor.empty(input.shape, "float32", input.device) : null;
      const dg = grid.requiresGrad ? Tensor.empty(grid.shape, "float32", grid.device) : null;
      check(
        lib,
        lib.lits_grid_sample2d_backward_f32!(
          dy.ptr,
          x.ptr,
          g.ptr,
          dx?.ptr ?? null,
          dg?.ptr ?? null,
          n,
          c,
          h,
          w,
          hOut,
          wOut,
          ...codes,
        ),
        what,
      );
      return [dx, dg];
    },
  });
}

/**
 * Samples `input` [N, C, H_in, W_in] at the positions of `grid`
 * [N, H_out, W_out, 2], as `torch.nn.functional.grid_sample`: output
 * pixel (n, :, i, j) is the input of image n at grid[n, i, j] = (x, y),
 * where x = -1 and 1 are the left and right edges of the image and y = -1
 * and 1 its top and bottom. The output is [N, C, H_out, W_out]. With
 * `affineGrid` this is a spatial transformer's sampler, or a GPU-side
 * rotation, zoom or shear of a batch.
 *
 * `mode` "bilinear" (default), "nearest" (rounding half to even, as
 * torch's) or "bicubic" (A = -0.75); `paddingMode` "zeros" (default),
 * "border" or "reflection" (bicubic pads each of its 16 taps, as torch);
 * `alignCorners` false (torch 1.13's default). Values match torch's CPU
 * kernel to float32 rounding; gradients flow to the input and to the grid
 * (nearest gives the grid a zero gradient, as torch; border and reflection
 * give 0 where the position was clipped, edges included). A NaN position
 * reads 0 in zeros padding (bilinear and bicubic give NaN: 0 times a NaN
 * weight, nearest gives 0) and the edge at 0 in border and reflection
 * padding, as torch's CPU kernel; an infinite one is clipped (border) or
 * gives NaN (zeros). Where torch's own bilinear backward reads outside the
 * input (a NaN position with border or reflection padding), the gradient
 * here is that of the clipped position: 0 for the grid.
 *
 * On the CPU, bilinear and nearest run in one native kernel each way
 * (native/cpu/grid_sample.c); bicubic, and every mode on CUDA, work out the
 * positions on the host (the grid is read back once) and sample with
 * device ops.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[[1, 2], [3, 4]]]]); // [1, 1, 2, 2]
 * // The image's centre, and the centre of its top-right pixel.
 * const grid = tensor([[[[0, 0], [0.5, -0.5]]]]); // [1, 1, 2, 2]
 * console.log(F.gridSample(x, grid).toArray()); // Float32Array [2.5, 2]
 * const near = F.gridSample(x, grid, { mode: "nearest", alignCorners: true });
 * console.log(near.toArray()); // Float32Array [4, 2]
 * ```
 */
export function gridSample(input: Tensor, grid: Tensor, options: GridSampleOptions = {}): Tensor {
  const o = checkCall<GridSampleOptions>(
    "gridSample",
    arguments.length,
    3,
    options,
    ["mode", "paddingMode", "alignCorners"],
    USAGE,
  );
  expectTensor(input, "gridSample: input", USAGE);
  expectTensor(grid, "gridSample: grid", USAGE);
  requireFloat(input, "gridSample: input");
  requireFloat(grid, "gridSample: grid");
  sameDevice(input, grid, "gridSample");
  const mode = checkChoice("mode", o.mode ?? "bilinear", MODES);
  const padding = checkChoice("paddingMode", o.paddingMode ?? "zeros", PADDINGS, PADDING_ALIASES);
  // Python's None (align_corners=None) is torch's default.
  const align = o.alignCorners ?? false;
  if (typeof align !== "boolean") {
    throw new Error(
      `gridSample: alignCorners must be true or false, got ${
        JSON.stringify(align)
      }; write ${USAGE}`,
    );
  }
  checkShapes(input, grid);
  const [n, c, h, w] = input.shape;
  const [hOut, wOut] = grid.shape.slice(1, 3);
  const p = hOut * wOut, count = n * p;
  const outShape = [n, c, hOut, wOut];
  if (count === 0 || c === 0) {
    return record(zeros(outShape, { device: input.device }), {
      name: "gridSample",
      inputs: [input, grid],
      saved: [],
      backward: () => [
        zeros([...input.shape], { device: input.device }),
        zeros([...grid.shape], { device: grid.device }),
      ],
    });
  }
  if (mode !== "bicubic" && input.lib.lits_grid_sample2d_f32) {
    return sampleNative(input, grid, mode, padding, align, outShape);
  }
  const ax = new Axis(w, align, padding), ay = new Axis(h, align, padding);
  const g = grid.toArray() as Float32Array;
  const gridGrad = grid.requiresGrad && isGradEnabled();
  const axes = [ax, ay], dev = input.device;
  const plan = mode === "nearest"
    ? planNearest(g, n, p, axes, dev)
    : mode === "bilinear"
    ? planBilinear(g, n, p, axes, gridGrad, dev)
    : planBicubic(g, n, p, axes, gridGrad, dev);
  // Channels last: one row per input pixel, so one index serves all channels.
  const rows = reshape(c === 1 ? input : permute(input, [0, 2, 3, 1]), [n * h * w, c]);
  // Every tap in one gather, [taps, N * P, C]. Positions this library made:
  // -1 (outside) reads 0, and the gradient adds nothing there.
  const values = reshape(
    takeAlong(rows, 0, plan.index, "row", false, "gridSample"),
    [plan.taps, count, c],
  );
  let out: Tensor;
  if (mode === "nearest") {
    out = reshape(values, [count, c]);
  } else if (mode === "bilinear") {
    out = sum(mul(values, bilinearWeights(grid, plan, count)), 0);
  } else {
    const frac = fractions(grid, plan);
    const wx = cubicWeights(reshape(narrow(frac, 0, 0, 1), [count, 1]));
    const wy = cubicWeights(reshape(narrow(frac, 0, 1, 1), [count, 1]));
    const tap = (k: number) => reshape(narrow(values, 0, k, 1), [count, c]);
    const rowsX = [0, 1, 2, 3].map((r) => weighted([0, 1, 2, 3].map((k) => tap(4 * r + k)), wx));
    out = weighted(rowsX, wy);
  }
  const y = c === 1 ? reshape(out, outShape) : reshape(
    permute(reshape(out, [n, p, c]), [0, 2, 1]),
    outShape,
  );
  if (mode !== "nearest" || !gridGrad) return y;
  // Nearest: the grid gets a zero gradient, as torch's (not none).
  return record(detach(y), {
    name: "gridSample",
    inputs: [y, grid],
    saved: [],
    backward: (gy) => [gy, zeros([...grid.shape], { device: grid.device })],
  });
}
