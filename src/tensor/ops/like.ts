/**
 * `zerosLike`, `onesLike`, `fullLike`, `randLike`, `randnLike`
 * (torch.zeros_like, ones_like, full_like, rand_like, randn_like): a new tensor with another tensor's shape, dtype and device
 * unless the options say otherwise. Like `zeros`, the result is the
 * caller's, and it does not require a gradient unless asked to (whatever
 * the template's `requiresGrad`, as torch's).
 *
 * @module
 */
import { Tensor, type TensorOptions } from "../tensor.ts";
import { checkCall } from "../../options.ts";
import { full, TENSOR_OPTIONS } from "./creation.ts";
import { rand, randn } from "./random.ts";

function like(
  where: string,
  t: unknown,
  value: number,
  options: unknown,
  given: number,
  most: number,
  usage: string,
): Tensor {
  const o = checkCall<TensorOptions>(where, given, most, options, TENSOR_OPTIONS, usage);
  if (!(t instanceof Tensor)) {
    const got = Array.isArray(t) ? "an array (a shape?)" : t === null ? "null" : typeof t;
    throw new Error(
      `${where}: expected a Tensor to take the shape of, got ${got}; write ${usage} ` +
        "(zeros(shape) takes a shape)",
    );
  }
  return full([...t.shape], value, {
    dtype: o.dtype ?? t.dtype,
    device: o.device ?? t.device,
    requiresGrad: o.requiresGrad ?? false,
  });
}

/**
 * Zeros of `t`'s shape, dtype and device (`torch.zeros_like`); `options`
 * override the dtype, device or `requiresGrad`.
 *
 * @example
 * ```ts
 * import { tensor, zerosLike } from "@lits/vision";
 * const z = zerosLike(tensor(new Int32Array([4, 5, 6]), [3]));
 * console.log(z.dtype, z.toArray()); // "int32" Int32Array(3) [0, 0, 0]
 * ```
 */
export function zerosLike(t: Tensor, options: TensorOptions = {}): Tensor {
  const usage = 'zerosLike(x, { dtype: "float32" })';
  return like("zerosLike", t, 0, options, arguments.length, 2, usage);
}

/**
 * Ones of `t`'s shape, dtype and device (`torch.ones_like`); `options`
 * override the dtype, device or `requiresGrad`.
 *
 * @example
 * ```ts
 * import { onesLike, tensor } from "@lits/vision";
 * console.log(onesLike(tensor([[1, 2], [3, 4]])).toArray()); // Float32Array [1, 1, 1, 1]
 * ```
 */
export function onesLike(t: Tensor, options: TensorOptions = {}): Tensor {
  const usage = "onesLike(x, { requiresGrad: true })";
  return like("onesLike", t, 1, options, arguments.length, 2, usage);
}

/**
 * `value` in `t`'s shape, dtype and device (`torch.full_like`); `options`
 * override the dtype, device or `requiresGrad`. For an int32 result the
 * value must be an integer: torch truncates 2.5 to 2 silently, this throws.
 *
 * @example
 * ```ts
 * import { fullLike, tensor } from "@lits/vision";
 * console.log(fullLike(tensor([1, 2]), 0.5).toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export function fullLike(t: Tensor, value: number, options: TensorOptions = {}): Tensor {
  const usage = 'fullLike(x, 7, { dtype: "int32" })';
  if (typeof value !== "number") {
    throw new Error(`fullLike: value must be a number, got ${typeof value}; write ${usage}`);
  }
  return like("fullLike", t, value, options, arguments.length, 3, usage);
}

/** Random numbers of `t`'s shape and device (float32), from `make` (rand or randn). */
function randomLike(
  where: string,
  t: unknown,
  options: unknown,
  given: number,
  make: (shape: number[], options: TensorOptions) => Tensor,
): Tensor {
  const usage = `${where}(x)`;
  const o = checkCall<TensorOptions>(where, given, 2, options, TENSOR_OPTIONS, usage);
  if (!(t instanceof Tensor)) {
    throw new Error(`${where}: expected a Tensor to take the shape of; write ${usage}`);
  }
  if (o.dtype === "int32") throw new Error(`${where}: makes float32 numbers, not int32`);
  return make([...t.shape], {
    device: o.device ?? t.device,
    requiresGrad: o.requiresGrad ?? false,
  });
}

/**
 * Uniform numbers in [0, 1) of `t`'s shape and device (`torch.rand_like`),
 * from the global generator (`manualSeed`).
 *
 * @example
 * ```ts
 * import { randLike, zeros } from "@lits/vision";
 * console.log(randLike(zeros([2, 3])).shape); // [2, 3]
 * ```
 */
export function randLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return randomLike("randLike", t, options, arguments.length, rand);
}

/**
 * Standard normal numbers of `t`'s shape and device (`torch.randn_like`):
 * SmoothGrad's noise, `x.add(randnLike(x).mul(sigma))`.
 *
 * @example
 * ```ts
 * import { randnLike, zeros } from "@lits/vision";
 * console.log(randnLike(zeros([2, 3])).shape); // [2, 3]
 * ```
 */
export function randnLike(t: Tensor, options: TensorOptions = {}): Tensor {
  return randomLike("randnLike", t, options, arguments.length, randn);
}
