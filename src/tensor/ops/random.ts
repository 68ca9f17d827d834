/**
 * Random numbers from the backend's counter-based generator (Philox):
 * a seed and a running counter, so one seed gives the same numbers on
 * every device.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { Tensor, type TensorOptions } from "../tensor.ts";
import { checkDtype } from "../device.ts";
import { record } from "../autograd.ts";
import { contiguous } from "./shape.ts";
import { writeInPlace } from "./in_place.ts";
import { requireFloat } from "./elementwise.ts";
import { shapeArgument, TENSOR_OPTIONS } from "./creation.ts";
import { checkArity, checkCall } from "../../options.ts";

let seed = 0x2017n;
let counter = 0n;

/**
 * Seeds the generator behind `rand`, `randn`, dropout and initialisation.
 *
 * @example
 * ```ts
 * import { manualSeed, rand } from "@lits/vision";
 * manualSeed(1);
 * const a = rand([3]).toArray();
 * manualSeed(1);
 * console.log(rand([3]).toArray().every((v, i) => v === a[i])); // true
 * ```
 */
export function manualSeed(value: number | bigint): void {
  if (typeof value === "number" && !Number.isInteger(value)) {
    throw new Error(`manualSeed: seed must be an integer in [0, 2^64), got ${value}`);
  }
  const s = BigInt(value);
  if (s < 0n || s >= 1n << 64n) {
    throw new Error(`manualSeed: seed must be in [0, 2^64), got ${value}`);
  }
  seed = s;
  counter = 0n;
}

/** Where the generator stands: its seed and the next unused counter. */
export interface GeneratorState {
  /** The seed set by `manualSeed`. */
  seed: bigint;
  /** Counter blocks (4 numbers each) used since the seed was set. */
  counter: bigint;
}

/**
 * The generator's state, for checkpoints: restoring it with
 * `setGeneratorState` makes the next `rand`, dropout mask or initialisation
 * the same as if the process had never stopped.
 *
 * @example
 * ```ts
 * import { manualSeed, rand } from "@lits/vision";
 * import { generatorState, setGeneratorState } from "./random.ts";
 * manualSeed(3);
 * const saved = generatorState();
 * const a = rand([2]).toArray();
 * setGeneratorState(saved);
 * console.log(rand([2]).toArray().every((v, i) => v === a[i])); // true
 * ```
 */
export function generatorState(): GeneratorState {
  return { seed, counter };
}

/** Restores a state from `generatorState()` (see there). */
export function setGeneratorState(state: GeneratorState): void {
  const s = BigInt(state.seed), c = BigInt(state.counter);
  if (s < 0n || s >= 1n << 64n || c < 0n) {
    throw new Error(
      `setGeneratorState: bad state { seed: ${state.seed}, counter: ${state.counter} }`,
    );
  }
  seed = s;
  counter = c;
}

/** @internal reserves counters for n numbers; returns [seed, offset]. */
export function nextStream(n: number): [bigint, bigint] {
  const start = counter;
  counter += BigInt(Math.ceil(n / 4));
  return [seed, start];
}

/**
 * Fills `t`'s elements (through a view: `in_place.ts`) by `kernel(d, seed,
 * offset)` on the next stream, `d` dense; `what` names it in errors.
 */
function fillFromStream(
  t: Tensor,
  what: string,
  kernel: (d: Tensor, s: bigint, o: bigint) => number,
): void {
  if (t.dtype !== "float32") {
    // The kernels write float32 bits: into int32 they were huge integers (torch refuses too).
    throw new Error(`${what}: random values need a float32 tensor, got ${t.dtype} [${t.shape}]`);
  }
  const [s, o] = nextStream(t.numel());
  writeInPlace(t, what, (d) => check(d.lib, kernel(d, s, o), () => `${what} [${t.shape}]`));
}

/** @internal fills `t` with uniform numbers in [low, high); `what` names the caller in errors. */
export function fillUniform(t: Tensor, low: number, high: number, what = "rand"): void {
  fillFromStream(
    t,
    what,
    (d, s, o) => d.lib.lits_rand_uniform_f32(d.ptr, d.numel(), s, o, low, high),
  );
}

/** @internal fills `t` with normal numbers; `what` names the caller in errors. */
export function fillNormal(t: Tensor, mean: number, std: number, what = "randn"): void {
  fillFromStream(
    t,
    what,
    (d, s, o) => d.lib.lits_rand_normal_f32(d.ptr, d.numel(), s, o, mean, std),
  );
}

function created(
  where: string,
  shapeArg: unknown,
  opts: unknown,
  args: ArrayLike<unknown>,
  fill: (t: Tensor) => void,
): Tensor {
  // rand(2, 3) is PyTorch's shape [2, 3]: the second number is no options object.
  const usage = `${where}([2, 3], { requiresGrad: true })`;
  const shape = shapeArgument(where, shapeArg, args);
  const options = checkCall<TensorOptions>(where, args.length, 2, opts, TENSOR_OPTIONS, usage);
  checkDtype(where, options.dtype);
  if (options.dtype === "int32") throw new Error(`${where}: dtype must be float32, got int32`);
  const t = Tensor.empty(shape, "float32", options.device ?? "cpu", false);
  fill(t);
  t.storage.version = 0; // its making, not a write to it
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}

/**
 * Uniform numbers in [0, 1); a number `shape` n is [n] (torch's `rand(5)`).
 *
 * @example
 * ```ts
 * import { rand } from "@lits/vision";
 * console.log(rand([2, 2]).shape); // [2, 2]
 * console.log(rand(5).shape); // [5]
 * ```
 */
export function rand(shape: number[] | number, options: TensorOptions = {}): Tensor {
  return created("rand", shape, options, arguments, (t) => fillUniform(t, 0, 1));
}

/**
 * Standard normal numbers; a number `shape` n is [n] (torch's `randn(4)`).
 *
 * @example
 * ```ts
 * import { randn } from "@lits/vision";
 * console.log(randn([4]).shape); // [4]
 * ```
 */
export function randn(shape: number[] | number, options: TensorOptions = {}): Tensor {
  return created("randn", shape, options, arguments, (t) => fillNormal(t, 0, 1));
}

/**
 * Inverted dropout: zeroes elements with probability p (default 0.5, as
 * torch's), scales the rest by 1/(1-p); the identity when `training` is
 * false.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  refuseKeywords("F.dropout", p, "x", ["p", "training"], [0.5, true]);
  checkArity("dropout", arguments.length, 3, "F.dropout(x, 0.5, training)");
  requireFloat(x, "dropout");
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(
      `dropout: probability must be in [0, 1], got ${JSON.stringify(p)}; ` +
        "write F.dropout(x, 0.5, training)",
    );
  }
  if (typeof training !== "boolean") {
    // { training: false } (an object) would read as true and drop in evaluation.
    throw new Error(
      `dropout: training must be a boolean, got ${JSON.stringify(training)}; ` +
        "write F.dropout(x, 0.5, false)",
    );
  }
  if (!training || p === 0) return x;
  const cx = contiguous(x);
  const y = Tensor.empty(x.shape, "float32", x.device);
  const mask = Tensor.empty(x.shape, "float32", x.device);
  const [s, o] = nextStream(x.numel());
  check(
    x.lib,
    x.lib.lits_dropout_f32(cx.ptr, y.ptr, mask.ptr, x.numel(), p, s, o),
    () => `dropout [${x.shape}] p ${p}`,
  );
  return record(y, {
    name: "dropout",
    inputs: [cx],
    saved: [mask], // checked up front: released with a scope, it is named before any write
    backward: (g) => [g.mul(mask)],
  });
}
