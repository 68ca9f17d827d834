/**
 * 1-D pooling layers: `MaxPool1d` (with `dilation` and `returnIndices`),
 * `AvgPool1d`, `AdaptiveAvgPool1d`, `AdaptiveMaxPool1d` (with
 * `returnIndices`), as torch's, on the functional 1-D pools.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Single } from "../tensor/ops/conv1d.ts";
import {
  adaptiveAvgPool1d,
  adaptiveMaxPool1d,
  avgPool1d,
  maxPool1d,
  POOL1D_OPTIONS,
  type Pool1dOptions,
} from "../tensor/ops/pool1d.ts";
import { single } from "../tensor/ops/conv1d.ts";
import {
  adaptiveMaxOptions,
  type AdaptiveMaxPoolOptions,
} from "../tensor/ops/adaptive_max_pool.ts";
import { Module } from "./module.ts";
import { poolUsage, sizeCopy } from "./pooling.ts";
import { flag, setting } from "./settable.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { checkArity, checkCall } from "../options.ts";

/** What `MaxPool1d` and `AvgPool1d` share: the kernel size and the checked options. */
abstract class Pool1dBase extends Module {
  /** The options in effect. */
  readonly options: Pool1dOptions;
  /** The window's length; assignable (the stride stays what it was, as torch's). */
  declare kernelSize: Single;
  /** `where` is the layer's name, `given` its constructor's `arguments.length`. */
  protected constructor(
    where: string,
    kernelSize: Single,
    options: Pool1dOptions,
    given: number,
    op: keyof typeof POOL1D_OPTIONS,
  ) {
    super();
    const check = (v: unknown) => {
      single(v as Single, `${where}: kernel size`, 1);
      return sizeCopy(v as Single);
    };
    const usage = poolUsage(where, kernelSize, options, given);
    this.options = {
      ...checkCall<Pool1dOptions>(where, given, 2, options, POOL1D_OPTIONS[op], usage),
    };
    setting(this, "kernelSize", kernelSize, check);
    this.options.stride ??= sizeCopy(kernelSize); // torch's stride=None: fixed now
  }
  /** The stride (default the kernel size); assignable. */
  get stride(): Single {
    return this.options.stride ?? this.kernelSize;
  }
  set stride(v: Single) {
    single(v, `nn.${this.constructor.name}: stride`, 1);
    this.options.stride = sizeCopy(v);
  }
  /** The implicit padding on each side (default 0); assignable. */
  get padding(): Single {
    return this.options.padding ?? 0;
  }
  set padding(v: Single) {
    single(v, `nn.${this.constructor.name}: padding`, 0);
    this.options.padding = sizeCopy(v);
  }
}

/**
 * Max pooling over [N, C, L] (or [C, L]), as `nn.MaxPool1d`; the stride
 * defaults to the kernel size; `dilation` and `ceilMode` as torch's. With
 * `returnIndices: true` the forward gives `[values, indices]` (int32
 * indices along L), as torch's.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.MaxPool1d(2)(randn([1, 3, 8])).shape); // [1, 3, 4]
 * const pool = new nn.MaxPool1d(3, { dilation: 2, returnIndices: true });
 * const [values, indices] = pool(randn([1, 3, 8]));
 * console.log(values.shape, indices.dtype); // [1, 3, 2] "int32"
 * ```
 */
export class MaxPool1d<R extends boolean = false> extends Pool1dBase {
  constructor(kernelSize: Single, options: Pool1dOptions & { returnIndices?: R } = {}) {
    super("nn.MaxPool1d", kernelSize, options, arguments.length, "maxPool1d");
  }
  /** The spacing of the window's elements (default 1); assignable. */
  get dilation(): Single {
    return this.options.dilation ?? 1;
  }
  set dilation(v: Single) {
    single(v, "nn.MaxPool1d: dilation", 1);
    this.options.dilation = sizeCopy(v);
  }
  /** Whether output sizes round up (default false); assignable (`pool.ceilMode = true`). */
  get ceilMode(): boolean {
    return this.options.ceilMode ?? false;
  }
  set ceilMode(v: boolean) {
    this.options.ceilMode = flag("nn.MaxPool1d", "ceilMode")(v);
  }
  /** Whether the forward also gives the indices (default false). */
  get returnIndices(): boolean {
    return this.options.returnIndices ?? false;
  }
  /** x [N, C, L] -> [N, C, L'] (and the indices, with `returnIndices`). */
  forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    return maxPool1d(x, this.kernelSize, this.options) as R extends true ? [Tensor, Tensor]
      : Tensor;
  }
}

/**
 * Average pooling over [N, C, L] (or [C, L]), as `nn.AvgPool1d`; the
 * stride defaults to the kernel size.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.AvgPool1d(2)(ones([1, 1, 4])).toArray()); // Float32Array(2) [1, 1]
 * ```
 */
export class AvgPool1d extends Pool1dBase {
  constructor(kernelSize: Single, options: Pool1dOptions = {}) {
    super("nn.AvgPool1d", kernelSize, options, arguments.length, "avgPool1d");
  }
  /** Whether output sizes round up (default false); assignable (`pool.ceilMode = true`). */
  get ceilMode(): boolean {
    return this.options.ceilMode ?? false;
  }
  set ceilMode(v: boolean) {
    this.options.ceilMode = flag("nn.AvgPool1d", "ceilMode")(v);
  }
  /** Whether the padding counts in each average (default true); assignable. */
  get countIncludePad(): boolean {
    return this.options.countIncludePad ?? true;
  }
  set countIncludePad(v: boolean) {
    this.options.countIncludePad = flag("nn.AvgPool1d", "countIncludePad")(v);
  }
  /** x [N, C, L] -> [N, C, L']. */
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling to a fixed length over torch's bins, as
 * `nn.AdaptiveAvgPool1d`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveAvgPool1d(1)(randn([2, 4, 9])).shape); // [2, 4, 1]
 * ```
 */
export class AdaptiveAvgPool1d extends Module {
  /** `outputSize`: the output length. Assignable, read at each forward. */
  constructor(public outputSize: Single) {
    super();
    checkArity("nn.AdaptiveAvgPool1d", arguments.length, 1, "new nn.AdaptiveAvgPool1d(1)");
    single(outputSize, "nn.AdaptiveAvgPool1d: output size", 1);
  }
  /** x [N, C, L] -> [N, C, outputSize]. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool1d(x, this.outputSize);
  }
}

/**
 * Max pooling to a fixed length over torch's bins, as
 * `nn.AdaptiveMaxPool1d`. With `returnIndices: true` the forward gives
 * `[values, indices]` (int32 indices along L), as torch's `return_indices`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveMaxPool1d(3)(randn([2, 4, 9])).shape); // [2, 4, 3]
 * const [values, indices] = new nn.AdaptiveMaxPool1d(4, { returnIndices: true })(randn([2, 4, 9]));
 * console.log(values.shape, indices.dtype); // [2, 4, 4] "int32"
 * ```
 */
export class AdaptiveMaxPool1d<R extends boolean = false> extends Module {
  /** Whether the forward also returns the indices (torch's `return_indices`). */
  readonly returnIndices: boolean;
  /** `outputSize`: the output length. Assignable, read at each forward. */
  constructor(
    public outputSize: Single,
    options: AdaptiveMaxPoolOptions & { returnIndices?: R } = {},
  ) {
    super();
    this.returnIndices = adaptiveMaxOptions(
      "nn.AdaptiveMaxPool1d",
      arguments.length,
      2,
      options,
      "new nn.AdaptiveMaxPool1d(1, { returnIndices: true })",
    );
    single(outputSize, "nn.AdaptiveMaxPool1d: output size", 1);
  }
  /** x [N, C, L] -> [N, C, outputSize] (and the indices, with `returnIndices`). */
  forward(x: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    return adaptiveMaxPool1d(x, this.outputSize, {
      returnIndices: this.returnIndices,
    }) as R extends true ? [Tensor, Tensor] : Tensor;
  }
}

// torch's attribute names (`pool.ceil_mode = True` added a property nothing read).
for (const cls of [MaxPool1d, AvgPool1d]) {
  addNameHints(cls.prototype, `nn.${cls.name}`, {
    kernel_size: "write pool.kernelSize (assignable)",
    ceil_mode: "write pool.ceilMode (assignable)",
  });
}
