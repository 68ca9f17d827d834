/**
 * Pooling layers: `MaxPool2d` (with `dilation` and `returnIndices`),
 * `AvgPool2d`, `AdaptiveAvgPool2d`, `AdaptiveMaxPool2d` (with
 * `returnIndices`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { type Pair, pair } from "../tensor/ops/conv.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import {
  adaptiveMaxOptions,
  adaptiveMaxPool2d,
  type AdaptiveMaxPoolOptions,
} from "../tensor/ops/adaptive_max_pool.ts";
import {
  adaptiveAvgPool2d,
  type AdaptiveSize,
  avgPool2d,
  maxPool2d,
  type Pool2dOptions,
  POOL_OPTIONS,
} from "../tensor/ops/pool.ts";
import { Module } from "./module.ts";
import { checkArity, checkCall } from "../options.ts";
import { flag, setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/**
 * @internal A check of a pooling layer's `divisorOverride` setting: null or
 * a nonzero integer, as `F.avgPool2d` takes it.
 */
export function divisorCheck(where: string): (v: unknown) => number | null {
  return (v) => {
    if (v !== null && (typeof v !== "number" || !Number.isInteger(v) || v === 0)) {
      throw new Error(
        `${where}: divisorOverride must be a nonzero integer or null, got ${showValue(v)}`,
      );
    }
    return v as number | null;
  };
}

/** @internal A copy of a size as written (a number, or a fresh array). */
export function sizeCopy<T>(v: T): T {
  return (Array.isArray(v) ? [...v] : v) as T;
}

/** A size as written in a call: `2`, `[2, 3]`; null for anything else. */
function written(v: unknown): string | null {
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  const numbers = Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x));
  return numbers ? `[${v.join(", ")}]` : null;
}

/**
 * @internal the call an options error shows: torch's positional stride
 * (`MaxPool2d(2, 2)`) comes back as `new nn.MaxPool2d(2, { stride: 2 })`,
 * with the user's numbers (1-D and 3-D pools too); else `fallback`.
 */
export function poolUsage(
  where: string,
  kernelSize: unknown,
  options: unknown,
  given: number,
  fallback = `new ${where}(3, { stride: 2, padding: 1 })`,
): string {
  const k = written(kernelSize), stride = written(options);
  if (k === null || stride === null) return fallback;
  // A third positional argument is torch's padding (then dilation, ...), which this call dropped.
  const more = given > 2 ? ", padding: /* your 3rd argument */" : "";
  return `new ${where}(${k}, { stride: ${stride}${more} })`;
}

/**
 * What `MaxPool2d` and `AvgPool2d` share: the kernel size and the checked
 * options. The settings torch users assign after construction
 * (`pool.ceilMode = true`, `pool.kernelSize = 3`, `pool.stride = 1`) are
 * assignable, checked as they are set and read at each forward; the stride
 * is fixed when the layer is made (the kernel size by default), so a new
 * kernel size keeps it, as torch's.
 */
export abstract class Pool2dBase extends Module {
  /** The options in effect. */
  readonly options: Pool2dOptions;
  /** The window's size; assignable (the stride stays what it was). */
  declare kernelSize: Pair;
  /**
   * `where` is the layer's name ("nn.MaxPool2d"), `given` its constructor's
   * `arguments.length`, `op` the functional op it calls.
   */
  protected constructor(
    where: string,
    kernelSize: Pair,
    options: Pool2dOptions,
    given: number,
    op: keyof typeof POOL_OPTIONS,
  ) {
    super();
    // `MaxPool2d(3, 2)` is PyTorch's kernel 3, stride 2: shown back with the user's numbers.
    const usage = poolUsage(where, kernelSize, options, given);
    this.options = {
      ...checkCall<Pool2dOptions>(where, given, 2, options, POOL_OPTIONS[op], usage),
    };
    setting(this, "kernelSize", kernelSize, (v) => {
      pair(v as Pair, `${where}: kernel size`, 1);
      return sizeCopy(v as Pair);
    });
    this.options.stride ??= sizeCopy(kernelSize); // torch's stride=None: fixed now
  }
  /** The stride (default the kernel size); assignable. */
  get stride(): Pair {
    return this.options.stride ?? this.kernelSize;
  }
  set stride(v: Pair) {
    pair(v, `nn.${this.constructor.name}: stride`, 1);
    this.options.stride = sizeCopy(v);
  }
  /** The implicit padding on each side (default 0); assignable. */
  get padding(): Pair {
    return this.options.padding ?? 0;
  }
  set padding(v: Pair) {
    pair(v, `nn.${this.constructor.name}: padding`, 0);
    this.options.padding = sizeCopy(v);
  }
}

/**
 * Max pooling over [N, C, H, W] (or [C, H, W]), as `nn.MaxPool2d`; the
 * stride defaults to the kernel size; `dilation` and `ceilMode` as
 * torch's. With `returnIndices: true` the forward gives
 * `[values, indices]` (int32 indices flat within each plane, h W + w),
 * which `nn.MaxUnpool2d` takes.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.MaxPool2d(2).forward(randn([1, 1, 4, 4])).shape); // [1, 1, 2, 2]
 * const pool = new nn.MaxPool2d(2, { returnIndices: true });
 * const [values, indices] = pool(randn([1, 3, 8, 8]));
 * console.log(values.shape, indices.dtype); // [1, 3, 4, 4] "int32"
 * console.log(new nn.MaxPool2d(3, { dilation: 2 })(randn([1, 1, 9, 9])).shape); // [1, 1, 2, 2]
 * const halve = new nn.MaxPool2d(2);
 * halve.ceilMode = true; // torch's pool.ceil_mode = True
 * console.log(halve(randn([1, 1, 5, 5])).shape); // [1, 1, 3, 3]
 * ```
 */
export class MaxPool2d<R extends boolean = false> extends Pool2dBase {
  constructor(kernelSize: Pair, options: Pool2dOptions & { returnIndices?: R } = {}) {
    super("nn.MaxPool2d", kernelSize, options, arguments.length, "maxPool2d");
    if (options.dilation !== undefined) pair(options.dilation, "nn.MaxPool2d: dilation", 1);
    const flag = options.returnIndices;
    if (flag !== undefined && typeof flag !== "boolean") {
      throw new Error(`nn.MaxPool2d: returnIndices must be true or false, got ${showValue(flag)}`);
    }
  }
  /** The spacing of the window's elements (default 1); assignable. */
  get dilation(): Pair {
    return this.options.dilation ?? 1;
  }
  set dilation(v: Pair) {
    pair(v, "nn.MaxPool2d: dilation", 1);
    this.options.dilation = sizeCopy(v);
  }
  /** Whether output sizes round up (default false); assignable (`pool.ceilMode = true`). */
  get ceilMode(): boolean {
    return this.options.ceilMode ?? false;
  }
  set ceilMode(v: boolean) {
    this.options.ceilMode = flag("nn.MaxPool2d", "ceilMode")(v);
  }
  /** Whether the forward also gives the indices (default false). */
  get returnIndices(): boolean {
    return this.options.returnIndices ?? false;
  }
  /** x [N, C, H, W] -> [N, C, H', W'] (and the indices, with `returnIndices`). */
  forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    return maxPool2d(x, this.kernelSize, this.options) as R extends true ? [Tensor, Tensor]
      : Tensor;
  }
}

/**
 * Average pooling; the stride defaults to the kernel size; `ceilMode`,
 * `countIncludePad` and `divisorOverride` as torch's.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.AvgPool2d(2).forward(ones([1, 1, 2, 2])).item()); // 1
 * console.log(new nn.AvgPool2d(2, { divisorOverride: 2 }).forward(ones([1, 1, 2, 2])).item()); // 2
 * ```
 */
export class AvgPool2d extends Pool2dBase {
  constructor(kernelSize: Pair, options: Pool2dOptions = {}) {
    super("nn.AvgPool2d", kernelSize, options, arguments.length, "avgPool2d");
  }
  /** Whether output sizes round up (default false); assignable (`pool.ceilMode = true`). */
  get ceilMode(): boolean {
    return this.options.ceilMode ?? false;
  }
  set ceilMode(v: boolean) {
    this.options.ceilMode = flag("nn.AvgPool2d", "ceilMode")(v);
  }
  /** Whether the padding counts in each average (default true); assignable. */
  get countIncludePad(): boolean {
    return this.options.countIncludePad ?? true;
  }
  set countIncludePad(v: boolean) {
    this.options.countIncludePad = flag("nn.AvgPool2d", "countIncludePad")(v);
  }
  /** What divides each window's sum instead of its count (default null: the count); assignable. */
  get divisorOverride(): number | null {
    return this.options.divisorOverride ?? null;
  }
  set divisorOverride(v: number | null) {
    this.options.divisorOverride = divisorCheck("nn.AvgPool2d")(v);
  }
  /** x [N, C, H, W] -> [N, C, H', W']. */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling to a fixed output size, with PyTorch's bins.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveAvgPool2d([6, 6]).forward(randn([1, 2, 13, 13])).shape); // [1, 2, 6, 6]
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  /** `outputSize`: one number or [oh, ow]; null keeps that input dimension. Assignable, read at each forward. */
  constructor(public outputSize: AdaptiveSize) {
    super();
    checkArity("nn.AdaptiveAvgPool2d", arguments.length, 1, "new nn.AdaptiveAvgPool2d([1, 1])");
  }
  /** x [N, C, H, W] -> [N, C, oh, ow]. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/**
 * Adaptive max pooling to a fixed output size (torch's bins; null keeps
 * that input dimension), as `nn.AdaptiveMaxPool2d`. With
 * `returnIndices: true` the forward gives `[values, indices]` (int32
 * indices flat within each plane, h W + w), as torch's `return_indices`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveMaxPool2d(1).forward(randn([2, 8, 7, 7])).shape); // [2, 8, 1, 1]
 * const pool = new nn.AdaptiveMaxPool2d([3, null], { returnIndices: true });
 * const [values, indices] = pool(randn([2, 8, 7, 5]));
 * console.log(values.shape, indices.dtype); // [2, 8, 3, 5] "int32"
 * ```
 */
export class AdaptiveMaxPool2d<R extends boolean = false> extends Module {
  /** Whether the forward also returns the indices (torch's `return_indices`). */
  readonly returnIndices: boolean;
  /** `outputSize`: one number or [oh, ow]; null keeps that input dimension. Assignable, read at each forward. */
  constructor(
    public outputSize: AdaptiveSize,
    options: AdaptiveMaxPoolOptions & { returnIndices?: R } = {},
  ) {
    super();
    this.returnIndices = adaptiveMaxOptions(
      "nn.AdaptiveMaxPool2d",
      arguments.length,
      2,
      options,
      "new nn.AdaptiveMaxPool2d([1, 1], { returnIndices: true })",
    );
  }
  /** x [N, C, H, W] -> [N, C, oh, ow] (and the indices, with `returnIndices`). */
  forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    return adaptiveMaxPool2d(x, this.outputSize, {
      returnIndices: this.returnIndices,
    }) as R extends true ? [Tensor, Tensor] : Tensor;
  }
}

// torch's attribute names (`pool.ceil_mode = True` added a property nothing read): each
// throws, naming ours.
for (const cls of [MaxPool2d, AvgPool2d]) {
  addNameHints(cls.prototype, `nn.${cls.name}`, {
    kernel_size: "write pool.kernelSize (assignable)",
    ceil_mode: "write pool.ceilMode (assignable)",
    ...(cls === AvgPool2d
      ? {
        count_include_pad: "write pool.countIncludePad (assignable)",
        divisor_override: "write pool.divisorOverride (assignable)",
      }
      : { return_indices: "read pool.returnIndices (fixed: it sets what forward returns)" }),
  });
}
for (const cls of [AdaptiveAvgPool2d, AdaptiveMaxPool2d]) {
  addNameHints(cls.prototype, `nn.${cls.name}`, {
    output_size: "write pool.outputSize (assignable)",
  });
}
