/**
 * Creation functions: tensors from data, constants and ranges. Tensors made
 * here outside a scope belong to the caller (see ownership.ts).
 *
 * @module
 */
import { check, cpuLib } from "../../ffi/native.ts";
import { checkDtype, type DType } from "../device.ts";
import { checkShape, numel, Tensor, type TensorOptions } from "../tensor.ts";
import { checkArity, checkCall, checkOptions } from "../../options.ts";
import { hostBuffersEnabled, HostBufferStorage } from "../storage.ts";
import { adopt } from "../ownership.ts";
import { writeInPlace } from "./in_place.ts";

/** @internal the keys of `TensorOptions`, for `checkOptions`. */
export const TENSOR_OPTIONS: (keyof TensorOptions)[] = ["dtype", "device", "requiresGrad"];

/** Checks a creation function's options (`zeros(2, 3)` is PyTorch's shape [2, 3]). */
function creationOptions(
  where: string,
  given: number,
  most: number,
  options: unknown,
  usage: string,
) {
  return checkCall<TensorOptions>(where, given, most, options, TENSOR_OPTIONS, usage);
}

/**
 * @internal the `shape` argument of the creation function `where` (zeros,
 * ones, full, empty, rand, randn; `args` its arguments): a list of sizes,
 * or one number n for [n], as torch's `zeros(10)`. torch's sizes given one by one
 * (`zeros(2, 3)`: a number where the options go, after `values` more
 * arguments) are an Error naming `where([2, 3])`.
 */
export function shapeArgument(
  where: string,
  shape: unknown,
  args: ArrayLike<unknown>,
  values = 0,
): number[] {
  let n = 0;
  while (n < args.length && typeof args[n] === "number") n++;
  if (n > 1 + values) {
    const nums = Array.from(args).slice(0, n) as number[];
    const sizes = nums.slice(0, n - values), rest = nums.slice(n - values);
    const written = [`[${sizes.join(", ")}]`, ...rest.map(String)].join(", ");
    throw new Error(
      `${where}: the shape is one list of sizes: write ${where}(${written}) for torch's ` +
        `${where}(${nums.join(", ")})`,
    );
  }
  if (typeof shape === "number") {
    if (Number.isInteger(shape) && shape >= 0) return [shape];
    throw new Error(
      `${where}: a size must be a non-negative integer, got ${shape}; write ${where}([2, 3])`,
    );
  }
  if (!Array.isArray(shape)) {
    const got = shape === null
      ? "null"
      : ArrayBuffer.isView(shape)
      ? `a ${(shape as object).constructor.name} (write [...sizes])`
      : typeof shape === "object"
      ? "an object (the options come after the shape)"
      : `${typeof shape} ${JSON.stringify(shape)}`;
    throw new Error(
      `${where}: the shape is a list of sizes, got ${got}; write ${where}([2, 3]) (or ${where}(10))`,
    );
  }
  checkShape(shape, where);
  return shape;
}

/** Whether `v` is a value int32 holds (Int32Array.from would wrap the others silently). */
/** The longest JavaScript array: arange lists its values in one first. */
const MAX_HOST_ELEMENTS = 2 ** 32 - 1;
const isInt32 = (v: number) => Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;

/** Nested arrays of numbers, as `tensor()` accepts them. */
export type NestedArray = number | NestedArray[];

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
  }
  return shape;
}

function flattenNested(data: NestedArray, shape: number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (typeof data !== "number") {
      const what = typeof data === "boolean"
        ? "a boolean: write 1 and 0 (tensors are float32 or int32)"
        : typeof data === "bigint"
        ? `the BigInt ${data}n: write Number(v) (data.map(Number)), or give an Int32Array ` +
          "(tensors are float32 or int32)"
        : ArrayBuffer.isView(data)
        ? `a ${(data as object).constructor.name} inside an array: give plain arrays, or one ` +
          "Float32Array with a shape"
        : data instanceof Tensor
        ? `a Tensor [${data.shape}]: torch's torch.tensor([a, b]) of tensors is stack([a, b]) ` +
          "here (t.item() gives one tensor's number)"
        : `${JSON.stringify(data) ?? typeof data}: a ragged nested array`;
      throw new Error(`tensor: an element is ${what}`);
    }
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array at dimension ${dim}`);
  }
  for (const item of data) flattenNested(item, shape, dim + 1, out);
}

/** @internal a tensor with the given host values, owned as an op result or not. */
export function fromHost(
  values: ArrayLike<number>,
  shape: readonly number[],
  options: TensorOptions = {},
  isOpResult = false,
): Tensor {
  checkDtype("tensor", options.dtype);
  const dtype: DType = options.dtype ?? "float32";
  checkShape(shape, "tensor");
  if (values.length !== numel(shape)) {
    throw new Error(
      `tensor: ${values.length} values do not fill shape [${shape}] (${numel(shape)})`,
    );
  }
  let host: Float32Array | Int32Array;
  if (dtype === "float32") {
    host = values instanceof Float32Array ? values : Float32Array.from(values);
  } else {
    host = values instanceof Int32Array ? values : Int32Array.from(values, (v) => {
      if (!isInt32(v)) {
        throw new Error(`tensor: int32 value ${v} is not an integer from -2^31 to 2^31 - 1`);
      }
      return v;
    });
  }
  const device = options.device ?? "cpu";
  if (device === "cpu" && hostBuffersEnabled()) {
    // Memory V8 owns: the GC frees an undisposed input even in a loop that never yields.
    const t = new Tensor(new HostBufferStorage(cpuLib(), host), shape, dtype);
    adopt(t, isOpResult);
    if (options.requiresGrad) t.requiresGrad_(true);
    return t;
  }
  const t = Tensor.empty(shape, dtype, device, isOpResult);
  if (host.length > 0) {
    check(t.lib, t.lib.lits_copy_h2d(t.ptr, host, host.byteLength), () => `tensor [${shape}]`);
  }
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/**
 * A tensor from nested arrays, a number, or a flat array with a shape.
 * An Int32Array gives int32 unless `options.dtype` says otherwise. The
 * options may come second when the data says its shape (torch's
 * `torch.tensor(data, dtype=...)`).
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * const a = tensor([[1, 2, 3], [4, 5, 6]]);
 * const b = tensor(new Int32Array([0, 2]), [2]);
 * const c = tensor([0, 1, 1], { dtype: "int32" });
 * console.log(a.shape, b.dtype, c.dtype); // [2, 3] int32 int32
 * ```
 */
export function tensor(
  data: NestedArray | Float32Array | Int32Array | number[],
  shape?: number[],
  options?: TensorOptions,
): Tensor;
/**
 * `tensor(data, options)`: the options second, where the nested data says
 * its shape (torch's `torch.tensor(data, dtype=torch.int32)`).
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * console.log(tensor([0, 1, 1], { dtype: "int32" }).dtype); // int32
 * ```
 */
export function tensor(
  data: NestedArray | Float32Array | Int32Array | number[],
  options: TensorOptions,
): Tensor;
export function tensor(
  data: NestedArray | Float32Array | Int32Array | number[],
  shapeOrOptions?: number[] | TensorOptions,
  options: TensorOptions = {},
): Tensor {
  const usage = "tensor(data, undefined, { requiresGrad: true })";
  checkArity("tensor", arguments.length, 3, usage);
  let shape: number[] | undefined;
  if (
    arguments.length === 2 && shapeOrOptions !== null && typeof shapeOrOptions === "object" &&
    !Array.isArray(shapeOrOptions)
  ) {
    options = shapeOrOptions;
  } else if (shapeOrOptions !== undefined && !Array.isArray(shapeOrOptions)) {
    throw new Error(
      `tensor: the second argument is the shape (or the options), got ` +
        `${shapeOrOptions === null ? "null" : typeof shapeOrOptions}; write ${usage}`,
    );
  } else {
    shape = shapeOrOptions;
  }
  options = checkOptions<TensorOptions>("tensor", options, TENSOR_OPTIONS, usage);
  if (data instanceof Tensor) {
    // torch copies it with a warning that recommends the spelling below.
    throw new Error(
      `tensor: the data is a Tensor [${data.shape}]; torch's torch.tensor(t) copy is ` +
        "t.clone().detach() here (then .float() or .int() for another dtype)",
    );
  }
  const dtype = options.dtype ?? (data instanceof Int32Array ? "int32" : "float32");
  if (data instanceof Float32Array || data instanceof Int32Array) {
    return fromHost(data, shape ?? [data.length], { ...options, dtype });
  }
  if (ArrayBuffer.isView(data)) {
    const kind = (data as object).constructor.name;
    throw new Error(
      `tensor: a ${kind} is neither float32 nor int32; give Float32Array.from(data) or ` +
        "Int32Array.from(data) (or a plain array)",
    );
  }
  const inferred = inferShape(data as NestedArray);
  // Nested data says its own shape: a different one given beside it is a mistake.
  if (shape !== undefined && inferred.length > 1 && shape.join() !== inferred.join()) {
    throw new Error(
      `tensor: the nested data is [${inferred}] but the shape says [${shape}]; leave the shape ` +
        "out, or reshape() after",
    );
  }
  const flat: number[] = [];
  flattenNested(data as NestedArray, inferred, 0, flat);
  if (options.dtype === undefined) checkIntegersFit(flat);
  return fromHost(flat, shape ?? inferred, { ...options, dtype });
}

/**
 * Throws where integer data would round in float32: torch makes a list of
 * integers int64 and keeps it exact, where this library's default float32
 * turned 16777217 into 16777216 silently. Lists with a fraction anywhere
 * are float data, rounded as torch's float32 rounds them; so are integers
 * past int32's range (JavaScript writes the float 1e30 as an integer, and
 * int32 could not hold them anyway).
 */
function checkIntegersFit(values: readonly number[]): void {
  let inexact: number | null = null;
  for (const v of values) {
    if (!Number.isInteger(v)) return;
    if (inexact === null && Math.fround(v) !== v && Math.abs(v) < 2 ** 31) inexact = v;
  }
  if (inexact !== null) {
    throw new Error(
      `tensor: the integer ${inexact} does not fit float32 exactly (integers above 2^24 ` +
        `round; torch keeps integer lists int64); write tensor(data, { dtype: "int32" }) for ` +
        "integers, or give floats (Float32Array.from(data)) to accept the rounding",
    );
  }
}

/** @internal fills a tensor's elements (through a view: `in_place.ts`) with a value. */
export function fillInPlace(t: Tensor, value: number, what = "fill"): void {
  writeInPlace(t, what, (d) => {
    const status = d.dtype === "int32"
      ? d.lib.lits_fill_i32(d.ptr, d.numel(), Math.trunc(value)) // torch's fill_ on int truncates
      : d.lib.lits_fill_f32(d.ptr, d.numel(), value);
    check(d.lib, status, () => `fill [${d.shape}]`);
  });
}

function filled(
  shape: readonly number[],
  value: number,
  options: TensorOptions,
  isOpResult: boolean,
  where = "full",
) {
  checkShape(shape, where);
  checkDtype(where, options.dtype);
  if (options.dtype === "int32" && !isInt32(value)) {
    throw new Error(`${where}: int32 value ${value} is not an integer from -2^31 to 2^31 - 1`);
  }
  const t = Tensor.empty(shape, options.dtype ?? "float32", options.device ?? "cpu", isOpResult);
  fillInPlace(t, value);
  t.storage.version = 0; // its making, not a write to it
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/**
 * A tensor filled with `value`; a number `shape` n is [n] (`full(4, 7)`).
 *
 * @example
 * ```ts
 * import { full } from "@lits/vision";
 * console.log(full([2, 2], 7).toArray()); // Float32Array [7, 7, 7, 7]
 * console.log(full(3, 1.5).shape); // [3]
 * ```
 */
export function full(shape: number[] | number, value: number, options: TensorOptions = {}): Tensor {
  const usage = 'full([2, 3], 7, { dtype: "int32" })';
  const dims = shapeArgument("full", shape, arguments, 1);
  const o = creationOptions("full", arguments.length, 3, options, usage);
  if (typeof value !== "number") throw new Error(`full: value must be a number; write ${usage}`);
  if (Number.isFinite(value) && Math.abs(value) > 3.4028234663852886e38) {
    throw new Error(`full: ${value} is beyond float32's range (it would become Infinity)`);
  }
  return filled(dims, value, o, false);
}

/**
 * A tensor of zeros; a number `shape` n is [n] (torch's `zeros(10)`).
 *
 * @example
 * ```ts
 * import { zeros } from "@lits/vision";
 * console.log(zeros([3]).toArray()); // Float32Array [0, 0, 0]
 * console.log(zeros(10).shape); // [10]
 * ```
 */
export function zeros(shape: number[] | number, options: TensorOptions = {}): Tensor {
  const usage = 'zeros([2, 3], { dtype: "int32" })';
  const dims = shapeArgument("zeros", shape, arguments);
  const o = creationOptions("zeros", arguments.length, 2, options, usage);
  return filled(dims, 0, o, false, "zeros");
}

/**
 * A tensor of ones; a number `shape` n is [n] (torch's `ones(3)`).
 *
 * @example
 * ```ts
 * import { ones } from "@lits/vision";
 * console.log(ones([2]).toArray()); // Float32Array [1, 1]
 * ```
 */
export function ones(shape: number[] | number, options: TensorOptions = {}): Tensor {
  const usage = 'ones([2, 3], { dtype: "int32" })';
  const dims = shapeArgument("ones", shape, arguments);
  return filled(
    dims,
    1,
    creationOptions("ones", arguments.length, 2, options, usage),
    false,
    "ones",
  );
}

/** @internal `value` everywhere in `shape`, as an op's result (the step frees it). */
export function filledOp(
  shape: readonly number[],
  value: number,
  device: Tensor["device"],
): Tensor {
  return filled(shape, value, { device }, true);
}

/**
 * @internal a tensor like `t` filled with `value`, owned as an op result
 * (the public, caller-owned `fullLike` is in like.ts).
 */
export function filledLike(t: Tensor, value: number): Tensor {
  return filled(t.shape, value, { dtype: t.dtype, device: t.device }, true);
}

/**
 * Values from `start` (inclusive) to `end` (exclusive) by `step`, like
 * `torch.arange`; one argument means `[0, n)`.
 *
 * @example
 * ```ts
 * import { arange } from "@lits/vision";
 * console.log(arange(0, 5, 2).toArray()); // Float32Array [0, 2, 4]
 * ```
 */
export function arange(start: number, end?: number, step = 1, options: TensorOptions = {}): Tensor {
  // torch.arange(5, dtype=...) in JavaScript puts the options where end or step belongs.
  const usage = 'arange(0, 5, 1, { dtype: "int32" })';
  options = creationOptions("arange", arguments.length, 4, options, usage);
  for (const [name, v] of [["start", start], ["end", end], ["step", step]] as const) {
    if (typeof v !== "number" && !(name === "end" && v === undefined)) {
      throw new Error(`arange: ${name} must be a number, got ${typeof v}; write ${usage}`);
    }
  }
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) {
    throw new Error(`arange: step must be non-zero, got ${step}`);
  }
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new Error(`arange: start and end must be finite, got ${start} and ${end}`);
  }
  if ((end - start) * step < 0) {
    // torch: "upper bound and larger bound inconsistent with step sign"
    throw new Error(
      `arange: step ${step} goes away from end ${end} (from ${start}); ` +
        "give a step of the other sign",
    );
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (n > MAX_HOST_ELEMENTS) {
    throw new Error(
      `arange: ${n} elements (from ${start} to ${end} by ${step}) are more than a tensor made ` +
        `on the host holds (${MAX_HOST_ELEMENTS})`,
    );
  }
  const values = Array.from({ length: n }, (_, i) => start + i * step);
  return fromHost(values, [n], options);
}

/**
 * `steps` evenly spaced float32 values from `start` to `end`, both
 * included (`torch.linspace`), as torch's CPU kernel computes them in its
 * scalar loop: a float32 step, the first half counted up from `start` and
 * the second down from `end`, so the ends are exact (torch's vectorised
 * loop rounds some middle values an ulp or two otherwise, by CPU).
 *
 * @example
 * ```ts
 * import { linspace } from "@lits/vision";
 * console.log(linspace(0, 1, 5).toList()); // [0, 0.25, 0.5, 0.75, 1]
 * ```
 */
export function linspace(
  start: number,
  end: number,
  steps: number,
  options: TensorOptions = {},
): Tensor {
  const usage = "linspace(0, 1, 32)";
  options = creationOptions("linspace", arguments.length, 4, options, usage);
  for (const [name, v] of [["start", start], ["end", end]] as const) {
    if (typeof v !== "number" || !Number.isFinite(Math.fround(v))) {
      throw new Error(
        `linspace: ${name} must be a finite float32 number, got ${String(v)}; write ${usage}`,
      );
    }
  }
  if (!Number.isInteger(steps) || steps < 0) {
    throw new Error(
      `linspace: steps must be a non-negative integer, got ${String(steps)}; write ${usage}`,
    );
  }
  if (steps > MAX_HOST_ELEMENTS) {
    throw new Error(`linspace: ${steps} steps are more than a tensor made on the host holds`);
  }
  if (options.dtype === "int32") {
    throw new Error("linspace: makes float32 values; round them with .int() if you need int32");
  }
  const f = Math.fround, a = f(start), b = f(end);
  const step = steps > 1 ? f(f(b - a) / (steps - 1)) : 0;
  const half = Math.floor(steps / 2);
  // Each product and sum rounded to float32, as torch's kernel computes them; one step is [start].
  const values = Float32Array.from(
    { length: steps },
    (_, i) => (steps === 1 ? a : i < half ? f(a + f(step * i)) : f(b - f(step * (steps - i - 1)))),
  );
  return fromHost(values, [steps], options);
}
