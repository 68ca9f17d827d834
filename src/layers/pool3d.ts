/**
 * 3-D pooling layers: `MaxPool3d`, `AvgPool3d`, `AdaptiveAvgPool3d`,
 * `AdaptiveMaxPool3d`, as torch.nn's, on the functional ops of
 * `ops/pool3d.ts`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { type Triple, triple } from "../tensor/ops/conv3d.ts";
import {
  adaptiveAvgPool3d,
  adaptiveMaxPool3d,
  type AdaptiveSize3d,
  adaptiveSize3d,
  avgPool3d,
  type AvgPool3dOptions,
  maxPool3d,
  type MaxPool3dOptions,
  POOL3D_OPTIONS,
} from "../tensor/ops/pool3d.ts";
import { Module } from "./module.ts";
import { divisorCheck, poolUsage, sizeCopy } from "./pooling.ts";
import { flag, setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { checkArity, checkCall } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import {
  adaptiveMaxOptions,
  type AdaptiveMaxPoolOptions,
} from "../tensor/ops/adaptive_max_pool.ts";

/** Checks a 3-D pool layer's kernel and options up front (the op checks them again). */
function checkPool<T extends object>(
  where: string,
  given: number,
  kernelSize: Triple,
  options: T,
  op: keyof typeof POOL3D_OPTIONS,
): T {
  // `MaxPool3d(3, 2)` is PyTorch's kernel 3, stride 2.
  const usage = poolUsage(
    where,
    kernelSize,
    options,
    given,
    `new ${where}(2, { stride: 2, padding: 0 })`,
  );
  const o = checkCall<T>(where, given, 2, options, POOL3D_OPTIONS[op] as never, usage);
  triple(kernelSize, `${where}: kernel size`, 1);
  const opts = o as MaxPool3dOptions;
  if (opts.returnIndices !== undefined && typeof opts.returnIndices !== "boolean") {
    throw new Error(
      `${where}: returnIndices must be true or false, got ${showValue(opts.returnIndices)}`,
    );
  }
  if (opts.stride != null) triple(opts.stride, `${where}: stride`, 1);
  if (opts.padding !== undefined) triple(opts.padding, `${where}: padding`, 0);
  if (opts.dilation !== undefined) triple(opts.dilation, `${where}: dilation`, 1);
  // torch's stride=None is the kernel size, fixed now: a new kernel size keeps it.
  return { ...o, stride: sizeCopy(opts.stride ?? kernelSize) };
}

/** Makes `kernelSize` an assignable setting of a 3-D pool, checked as the constructor's. */
function kernelSetting(m: Module, where: string, kernelSize: Triple): void {
  setting(m, "kernelSize", kernelSize, (v) => {
    triple(v as Triple, `${where}: kernel size`, 1);
    return sizeCopy(v as Triple);
  });
}

/**
 * Max pooling over volumes [N, C, D, H, W] (or unbatched [C, D, H, W]),
 * as `nn.MaxPool3d`; the stride defaults to the kernel size; `dilation`
 * and `ceilMode` as torch's. With `returnIndices: true` the forward gives
 * `[values, indices]` (int32 indices flat within each volume,
 * d H W + h W + w), which `nn.MaxUnpool3d` takes.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const pool = new nn.MaxPool3d(2);
 * console.log(pool.forward(randn([1, 4, 8, 8, 8])).shape); // [1, 4, 4, 4, 4]
 * console.log(new nn.MaxPool3d(3, { stride: 2, padding: 1 }).forward(randn([1, 1, 5, 9, 9])).shape); // [1, 1, 3, 5, 5]
 * const [values, indices] = new nn.MaxPool3d(2, { returnIndices: true })(randn([1, 2, 4, 4, 4]));
 * console.log(values.shape, indices.dtype); // [1, 2, 2, 2, 2] "int32"
 * ```
 */
export class MaxPool3d<R extends boolean = false> extends Module {
  /** The options in effect. */
  readonly options: MaxPool3dOptions;
  /** The window's size; assignable (the stride stays what it was, as torch's). */
  declare kernelSize: Triple;
  constructor(kernelSize: Triple, options: MaxPool3dOptions & { returnIndices?: R } = {}) {
    super();
    kernelSetting(this, "nn.MaxPool3d", kernelSize);
    this.options = checkPool("nn.MaxPool3d", arguments.length, kernelSize, options, "maxPool3d");
  }
  /** The stride (default the kernel size); assignable. */
  get stride(): Triple {
    return this.options.stride ?? this.kernelSize;
  }
  set stride(v: Triple) {
    triple(v, "nn.MaxPool3d: stride", 1);
    this.options.stride = sizeCopy(v);
  }
  /** The implicit padding on each side (default 0); assignable. */
  get padding(): Triple {
    return this.options.padding ?? 0;
  }
  set padding(v: Triple) {
    triple(v, "nn.MaxPool3d: padding", 0);
    this.options.padding = sizeCopy(v);
  }
  /** The spacing of the window's elements (default 1); assignable. */
  get dilation(): Triple {
    return this.options.dilation ?? 1;
  }
  set dilation(v: Triple) {
    triple(v, "nn.MaxPool3d: dilation", 1);
    this.options.dilation = sizeCopy(v);
  }
  /** Whether output sizes round up (default false); assignable (`pool.ceilMode = true`). */
  get ceilMode(): boolean {
    return this.options.ceilMode ?? false;
  }
  set ceilMode(v: boolean) {
    this.options.ceilMode = flag("nn.MaxPool3d", "ceilMode")(v);
  }
  /** Whether the forward also gives the indices (default false). */
  get returnIndices(): boolean {
    return this.options.returnIndices ?? false;
  }
  /** x [N, C, D, H, W] -> [N, C, D', H', W'] (and the indices, with `returnIndices`). */
  forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    return maxPool3d(x, this.kernelSize, this.options) as R extends true ? [Tensor, Tensor]
      : Tensor;
  }
}

/**
 * Average pooling over volumes [N, C, D, H, W] (or unbatched
 * [C, D, H, W]), as `nn.AvgPool3d`; the
 * stride defaults to the kernel size; `ceilMode`, `countIncludePad`
 * (default true) and `divisorOverride` as torch's.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.AvgPool3d(2).forward(ones([1, 1, 2, 2, 2])).item()); // 1
 * ```
 */
export class AvgPool3d extends Module {
  /** The options in effect. */
  readonly options: AvgPool3dOptions;
  /** The window's size; assignable (the stride stays what it was, as torch's). */
  declare kernelSize: Triple;
  constructor(kernelSize: Triple, options: AvgPool3dOptions = {}) {
    super();
    kernelSetting(this, "nn.AvgPool3d", kernelSize);
    this.options = checkPool("nn.AvgPool3d", arguments.length, kernelSize, options, "avgPool3d");
  }
  /** The stride (default the kernel size); assignable. */
  get stride(): Triple {
    return this.options.stride ?? this.kernelSize;
  }
  set stride(v: Triple) {
    triple(v, "nn.AvgPool3d: stride", 1);
    this.options.stride = sizeCopy(v);
  }
  /** The implicit padding on each side (default 0); assignable. */
  get padding(): Triple {
    return this.options.padding ?? 0;
  }
  set padding(v: Triple) {
    triple(v, "nn.AvgPool3d: padding", 0);
    this.options.padding = sizeCopy(v);
  }
  /** Whether output sizes round up (default false); assignable (`pool.ceilMode = true`). */
  get ceilMode(): boolean {
    return this.options.ceilMode ?? false;
  }
  set ceilMode(v: boolean) {
    this.options.ceilMode = flag("nn.AvgPool3d", "ceilMode")(v);
  }
  /** Whether the padding counts in each average (default true); assignable. */
  get countIncludePad(): boolean {
    return this.options.countIncludePad ?? true;
  }
  set countIncludePad(v: boolean) {
    this.options.countIncludePad = flag("nn.AvgPool3d", "countIncludePad")(v);
  }
  /** The divisor of every average in place of the window's size (default null: the size); assignable. */
  get divisorOverride(): number | null {
    return this.options.divisorOverride ?? null;
  }
  set divisorOverride(v: number | null) {
    this.options.divisorOverride = divisorCheck("nn.AvgPool3d")(v);
  }
  /** x [N, C, D, H, W] -> [N, C, D', H', W'] (or [C, D, H, W] -> [C, D', H', W']). */
  forward(x: Tensor): Tensor {
    return avgPool3d(x, this.kernelSize, this.options);
  }
}

function checkAdaptive(where: string, given: number, outputSize: unknown, usage: string): void {
  checkArity(where, given, 1, usage);
  // Numbers and nulls; sizes come with the input.
  adaptiveSize3d(where, outputSize, [1, 1, 1], `new ${where}([1, 1, 1])`);
}

/**
 * Average pooling to a fixed output size [od, oh, ow] with PyTorch's bins,
 * as `nn.AdaptiveAvgPool3d`; null keeps that input dimension.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveAvgPool3d(1).forward(randn([2, 16, 5, 6, 7])).shape); // [2, 16, 1, 1, 1]
 * ```
 */
export class AdaptiveAvgPool3d extends Module {
  /** `outputSize`: one number or [od, oh, ow]; null keeps that input dimension. Assignable, read at each forward. */
  constructor(public outputSize: AdaptiveSize3d) {
    super();
    checkAdaptive(
      "nn.AdaptiveAvgPool3d",
      arguments.length,
      outputSize,
      "new nn.AdaptiveAvgPool3d([1, 1, 1])",
    );
  }
  /** x [N, C, D, H, W] (or [C, D, H, W]) -> [N, C, od, oh, ow]. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool3d(x, this.outputSize);
  }
}

/**
 * Max pooling to a fixed output size [od, oh, ow] with PyTorch's bins, as
 * `nn.AdaptiveMaxPool3d`; null keeps that input dimension. With
 * `returnIndices: true` the forward gives `[values, indices]` (int32
 * indices flat within each volume, d H W + h W + w), as torch's
 * `return_indices`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveMaxPool3d([1, 2, 2]).forward(randn([2, 4, 5, 6, 6])).shape); // [2, 4, 1, 2, 2]
 * const pool = new nn.AdaptiveMaxPool3d(2, { returnIndices: true });
 * const [values, indices] = pool(randn([1, 2, 5, 6, 7]));
 * console.log(values.shape, indices.dtype); // [1, 2, 2, 2, 2] "int32"
 * ```
 */
export class AdaptiveMaxPool3d<R extends boolean = false> extends Module {
  /** Whether the forward also returns the indices (torch's `return_indices`). */
  readonly returnIndices: boolean;
  /** `outputSize`: one number or [od, oh, ow]; null keeps that input dimension. Assignable, read at each forward. */
  constructor(
    public outputSize: AdaptiveSize3d,
    options: AdaptiveMaxPoolOptions & { returnIndices?: R } = {},
  ) {
    super();
    const where = "nn.AdaptiveMaxPool3d";
    const usage = "new nn.AdaptiveMaxPool3d([1, 1, 1], { returnIndices: true })";
    this.returnIndices = adaptiveMaxOptions(where, arguments.length, 2, options, usage);
    checkAdaptive(where, 1, outputSize, usage);
  }
  /** x [N, C, D, H, W] (or [C, D, H, W]) -> [N, C, od, oh, ow] (and the indices). */
  forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    return adaptiveMaxPool3d(x, this.outputSize, {
      returnIndices: this.returnIndices,
    }) as R extends true ? [Tensor, Tensor] : Tensor;
  }
}

// torch's attribute names (`pool.ceil_mode = True` added a property nothing read).
for (const cls of [MaxPool3d, AvgPool3d]) {
  addNameHints(cls.prototype, `nn.${cls.name}`, {
    kernel_size: "write pool.kernelSize (assignable)",
    ceil_mode: "write pool.ceilMode (assignable)",
  });
}
