/**
 * More creation functions, as torch's: `randperm`, `randint`, `eye`,
 * `empty`. The random ones draw from the library's generator (`manualSeed`
 * reproduces them; they are not torch's numbers), always on the CPU, so a
 * seed gives the same permutation on every device. Tensors made here
 * outside a scope are the caller's, as `zeros` and `rand` (ownership.ts).
 *
 * @module
 */
import { checkShape, Tensor, type TensorOptions } from "../tensor.ts";
import { checkDtype } from "../device.ts";
import { checkElements, hostArray } from "../sizes.ts";
import { checkCall } from "../../options.ts";
import { fromHost, full, shapeArgument, TENSOR_OPTIONS } from "./creation.ts";
import { fillUniform } from "./random.ts";

const TWO_24 = 2 ** 24;
const INT32_MIN = -(2 ** 31), INT32_END = 2 ** 31;

/**
 * `n` uniform numbers in [0, 1) with 48 random bits each (two 24-bit draws
 * of the generator), so `floor(u * m)` is uniform for every int32 range m.
 */
function uniform48(n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 0) return out;
  const draws = Tensor.empty([2 * n], "float32", "cpu", true);
  try {
    fillUniform(draws, 0, 1, "random integers");
    const v = draws.toArray();
    // Each draw is k / 2^24: the pair is (k1 2^24 + k2) / 2^48, exact in a double.
    for (let i = 0; i < n; i++) out[i] = v[2 * i] + v[2 * i + 1] / TWO_24;
  } finally {
    draws.dispose();
  }
  return out;
}

/** The options of an integer creation function: int32 unless `dtype` says float32. */
function intOptions(where: string, given: number, most: number, options: unknown, usage: string) {
  const o = checkCall<TensorOptions>(where, given, most, options, TENSOR_OPTIONS, usage);
  checkDtype(where, o.dtype);
  const dtype = o.dtype ?? "int32";
  if (o.requiresGrad && dtype !== "float32") {
    throw new Error(
      `${where}: only float32 tensors can require gradients; pass { dtype: "float32", ` +
        "requiresGrad: true }",
    );
  }
  return { ...o, dtype };
}

function finish(values: ArrayLike<number>, shape: number[], o: TensorOptions): Tensor {
  const t = fromHost(values, shape, { dtype: o.dtype, device: o.device });
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/**
 * A random permutation of 0..n-1, as `torch.randperm(n)`: int32 (torch's
 * int64; the library's index type, as argsort's), or float32 with `{ dtype:
 * "float32" }`. Drawn from the library's generator (`manualSeed` reproduces
 * it) by a Fisher-Yates shuffle: shuffling a dataset, a random subset
 * `x.indexSelect(0, randperm(n).slice(0, k))`.
 *
 * @example
 * ```ts
 * import { manualSeed, randperm } from "@lits/vision";
 * manualSeed(0);
 * const p = randperm(5);
 * console.log(p.dtype, [...p.toArray()].sort()); // int32 [0, 1, 2, 3, 4]
 * ```
 */
export function randperm(n: number, options: TensorOptions = {}): Tensor {
  const usage = 'randperm(10, { device: "cuda" })';
  const o = intOptions("randperm", arguments.length, 2, options, usage);
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new Error(
      `randperm: n must be an integer >= 0, got ${JSON.stringify(n) ?? String(n)}; write ${usage}`,
    );
  }
  if (n > INT32_END || (o.dtype === "float32" && n > TWO_24 + 1)) {
    throw new Error(`randperm: n ${n} is beyond what ${o.dtype} holds exactly`);
  }
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const u = uniform48(Math.max(0, n - 1));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[n - 1 - i] * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return finish(perm, [n], o);
}

function checkBound(name: string, v: unknown, usage: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < INT32_MIN || v > INT32_END) {
    throw new Error(
      `randint: ${name} must be an integer in int32's range, got ${
        JSON.stringify(v) ?? String(v)
      }; write ${usage}`,
    );
  }
  return v;
}

/**
 * Random integers in [low, high) of `shape`, as `torch.randint(low, high,
 * size)` and `torch.randint(high, size)` (low 0): int32 (torch's int64),
 * or float32 with `{ dtype: "float32" }`. Drawn from the library's
 * generator (`manualSeed`). Random labels, crop offsets.
 *
 * @example
 * ```ts
 * import { randint } from "@lits/vision";
 * const labels = randint(0, 3, [8]);
 * console.log(labels.dtype, labels.shape, [...labels.toArray()].every((v) => v >= 0 && v < 3)); // int32 [8] true
 * console.log(randint(10, [2, 2]).shape); // [2, 2]
 * ```
 */
export function randint(high: number, shape: number[], options?: TensorOptions): Tensor;
/** Random integers in [low, high) (see above). */
export function randint(
  low: number,
  high: number,
  shape: number[],
  options?: TensorOptions,
): Tensor;
export function randint(
  a: number,
  b: number | number[],
  c?: number[] | TensorOptions,
  d?: TensorOptions,
): Tensor {
  const usage = "randint(0, 10, [2, 3]) or randint(10, [2, 3])";
  const short = Array.isArray(b);
  if (!short && typeof b !== "number") {
    throw new Error(`randint: the second argument is high or the shape; write ${usage}`);
  }
  const [low, high, shape, options] = short
    ? [0, a, b, c as TensorOptions | undefined]
    : [a, b as number, c as number[], d];
  if (!Array.isArray(shape)) {
    throw new Error(`randint: the shape is a list of sizes, got ${typeof shape}; write ${usage}`);
  }
  const o = intOptions(
    "randint",
    short ? arguments.length + 1 : arguments.length,
    4,
    options,
    usage,
  );
  checkBound("low", low, usage);
  checkBound("high", high, usage);
  if (high <= low) {
    // torch: "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"
    throw new Error(`randint: low must be less than high, got low ${low} >= high ${high}`);
  }
  checkShape(shape, "randint");
  const n = shape.reduce((p, s) => p * s, 1);
  const u = uniform48(n), range = high - low;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = low + Math.floor(u[i] * range);
  return finish(values, [...shape], o);
}

/**
 * The n x m identity (ones on the diagonal), as `torch.eye(n, m)`; m
 * defaults to n. Float32 unless `{ dtype: "int32" }`.
 *
 * @example
 * ```ts
 * import { eye } from "@lits/vision";
 * console.log(eye(2, 3).toList()); // [[1, 0, 0], [0, 1, 0]]
 * ```
 */
export function eye(n: number, m?: number | TensorOptions, options: TensorOptions = {}): Tensor {
  const usage = 'eye(3) or eye(2, 3, { dtype: "int32" })';
  if (typeof m === "object" && m !== null) {
    if (arguments.length > 2) throw new Error(`eye: m must be a number; write ${usage}`);
    [m, options] = [undefined, m];
  }
  const o = checkCall<TensorOptions>("eye", arguments.length, 3, options, TENSOR_OPTIONS, usage);
  checkDtype("eye", o.dtype);
  const cols = m ?? n;
  for (const [name, v] of [["n", n], ["m", cols]] as const) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      // torch: "n must be greater or equal to 0, got -1"
      throw new Error(
        `eye: ${name} must be an integer >= 0, got ${JSON.stringify(v) ?? String(v)}; ` +
          `write ${usage}`,
      );
    }
  }
  checkShape([n, cols], "eye");
  checkElements([n, cols], "eye");
  const values = hostArray(Float32Array, n * cols, "eye");
  for (let i = 0; i < Math.min(n, cols); i++) values[i * cols + i] = 1;
  return finish(values, [n, cols], { ...o, dtype: o.dtype ?? "float32" });
}

/**
 * A tensor of `shape`, as `torch.empty`: zeros here (the library never
 * hands out uninitialised memory), float32 unless `dtype` says int32; a
 * number `shape` n is [n] (`empty(4)`).
 *
 * @example
 * ```ts
 * import { empty } from "@lits/vision";
 * console.log(empty([2, 3]).shape); // [2, 3]
 * ```
 */
export function empty(shape: number[] | number, options: TensorOptions = {}): Tensor {
  const usage = 'empty([2, 3], { dtype: "int32" })';
  const dims = shapeArgument("empty", shape, arguments);
  const o = checkCall<TensorOptions>("empty", arguments.length, 2, options, TENSOR_OPTIONS, usage);
  checkDtype("empty", o.dtype);
  return full(dims, 0, o);
}
