/**
 * Elementwise ops: unary math, and binary ops with NumPy/PyTorch
 * broadcasting. Each gradient sits next to its forward.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { BINARY_OP as BINARY, UNARY_OP as UNARY } from "../../ffi/codes.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled, record } from "../autograd.ts";
import { contiguous, i64 } from "./shape.ts";
import { sumToShape } from "./reduce.ts";
import * as fusion from "./fusion.ts";
import { atMostArgs } from "./arity.ts";
import { recordKernelGrad } from "./kernel_grad.ts";
import { intBinary, intPow, intUnary, involvesInt, promoted } from "./int_arith.ts";
import { tensorHint } from "../tensor_hint.ts";

/** @internal names of `enum lits_unary_op`. */
export type UnaryName = keyof typeof UNARY;
type BinaryName = keyof typeof BINARY;

/** Throws unless `t` is float32 (the ops' only floating type). */
export function requireFloat(t: Tensor, what: string): void {
  if (!(t instanceof Tensor)) {
    // A [values, indices] pair is what a max pool with returnIndices hands the next layer.
    const v: unknown = t;
    const pair = Array.isArray(v) && v.length === 2 && v.every((e) => e instanceof Tensor);
    const got = pair
      ? "a pair of tensors (a max pool with returnIndices gives [values, indices]: take the " +
        "values, or keep that pool out of nn.Sequential)"
      : Array.isArray(v)
      ? `an array of ${v.length}`
      : v === null
      ? "null"
      : tensorHint(v) ?? typeof v;
    throw new Error(`${what}: expected a tensor, got ${got}`);
  }
  if (t.dtype !== "float32") {
    throw new Error(
      `${what}: expected a float32 tensor, got ${t.dtype} [${t.shape}]; convert it with .float()`,
    );
  }
}

/** Throws unless both tensors live on the same device. */
export function sameDevice(a: Tensor, b: Tensor, what: string): void {
  if (a.device !== b.device) {
    throw new Error(`${what}: tensors are on different devices (${a.device} and ${b.device})`);
  }
}

/** @internal op(t, alpha) on the backend's unary kernel, with its backward kernel. */
export function unary(name: UnaryName, t: Tensor, alpha = 0): Tensor {
  requireFloat(t, name);
  const x = contiguous(t);
  const y = Tensor.empty(x.shape, "float32", x.device);
  check(
    x.lib,
    x.lib.lits_unary_f32(UNARY[name], x.ptr, y.ptr, x.numel(), alpha),
    () => `${name} [${t.shape}]`,
  );
  return recordUnary(name, x, y, alpha);
}

/**
 * @internal `unary`'s gradient record for `y` = op(x, alpha) of a dense x,
 * wherever y was made (a fused kernel's pass): the backend's backward kernel.
 */
export function recordUnary(name: UnaryName, x: Tensor, y: Tensor, alpha = 0): Tensor {
  return recordKernelGrad(
    y,
    name,
    x,
    (dy, dx) =>
      x.lib.lits_unary_backward_f32(UNARY[name], x.ptr, y.ptr, dy.ptr, dx.ptr, x.numel(), alpha),
    () => `${name} backward [${x.shape}]`,
    { readsX: !GRAD_WITHOUT_X.has(name), reads: GRAD_FROM_Y.has(name) ? [y] : [] },
  );
}

/** Unary ops whose backward kernel reads no x (the output's values, or none). */
const GRAD_WITHOUT_X: ReadonlySet<UnaryName> = new Set<UnaryName>([
  "neg",
  "exp",
  "sqrt",
  "sigmoid",
  "tanh",
  "addScalar",
  "mulScalar",
  "divScalar",
  "rsubScalar",
  "expm1",
  "floor",
  "ceil",
  "round",
  "trunc",
  "sign",
]);

/** Unary ops whose backward kernel reads their output y (lits_unary_backward_f32's needs_y). */
const GRAD_FROM_Y: ReadonlySet<UnaryName> = new Set<UnaryName>([
  "exp",
  "sqrt",
  "sigmoid",
  "tanh",
  "expm1",
]);

/** The broadcast shape of two shapes, or an Error naming the op. */
export function broadcastShapes(
  a: readonly number[],
  b: readonly number[],
  what: string,
): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    // Leading dimensions one side lacks count as 1 (a tensor's shape reads
    // negative indices from the end, so they are not left to read undefined).
    const ia = a.length - n + i, ib = b.length - n + i;
    const da = ia >= 0 ? a[ia] : 1;
    const db = ib >= 0 ? b[ib] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${what}: shapes [${a}] and [${b}] cannot be broadcast together`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * @internal `t` as a broadcasting kernel reads it over `shape`: its pointer
 * and its strides, 0 along the dimensions it is broadcast in.
 */
export function broadcastOperand(t: Tensor, shape: number[]): [Deno.PointerObject, BigInt64Array] {
  const lead = shape.length - t.ndim;
  const strides = shape.map((
    _,
    i,
  ) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
  return [t.ptr, i64(strides)];
}

/**
 * @internal raw broadcast binary op (no autograd), into a new tensor or
 * `out`: a dense tensor of the result's shape, which may be `a` itself
 * (each element is read before it is written, at the same index).
 */
export function binaryRaw(name: BinaryName, a: Tensor, b: Tensor, into?: Tensor): Tensor {
  sameDevice(a, b, name);
  const shape = broadcastShapes(a.shape, b.shape, name);
  const out = into ?? Tensor.empty(shape, "float32", a.device);
  check(
    a.lib,
    a.lib.lits_binary_f32(
      BINARY[name],
      shape.length,
      i64(shape),
      ...broadcastOperand(a, shape),
      ...broadcastOperand(b, shape),
      out.ptr,
    ),
    () => `${name} [${a.shape}] and [${b.shape}]`,
  );
  return out;
}

function binary(
  name: BinaryName,
  a: Tensor,
  b: Tensor,
  grads: (g: Tensor) => [Tensor | null, Tensor | null],
): Tensor {
  requireFloat(a, name);
  requireFloat(b, name);
  const out = binaryRaw(name, a, b);
  return record(out, {
    name,
    inputs: [a, b],
    saved: binarySaved(name, a, b),
    backward: (g) => {
      const [ga, gb] = grads(g);
      return [
        ga && a.requiresGrad ? sumToShape(ga, a.shape) : null,
        gb && b.requiresGrad ? sumToShape(gb, b.shape) : null,
      ];
    },
  });
}

/** What a binary op's gradient reads, as PyTorch saves it (sum and difference: nothing). */
function binarySaved(name: BinaryName, a: Tensor, b: Tensor): Tensor[] {
  if (name === "add" || name === "sub") return [];
  if (name === "mul") return productSaved(a, b);
  if (name === "div") return b.requiresGrad ? [a, b] : [b];
  return [a, b];
}

/**
 * @internal what a product's gradient reads, as PyTorch saves it: a's
 * gradient reads b and b's reads a, so an operand counts only where the
 * other's gradient is needed (a linear probe on frozen features may step its
 * weight between two backward passes of one graph). mul, matmul, linear.
 */
export function productSaved(a: Tensor, b: Tensor): Tensor[] {
  return [...(a.requiresGrad ? [b] : []), ...(b.requiresGrad ? [a] : [])];
}

/** a + b with broadcasting, or a + number. */
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (involvesInt(a, b)) return intBinary("add", a, b, add); // int32: int_arith.ts
  if (typeof b === "number") return unary("addScalar", a, b);
  return fusedAdd(a, b) ?? binary("add", a, b, (g) => [g, g]);
}

/**
 * A same-shape add of op results, deferred (`fusion.ts`): a ResNet block's
 * `relu(bn3(conv3(x)) + identity)` is then written once, by the ReLU's
 * consumer, without the batch norm's or the sum's tensors.
 */
function fusedAdd(a: Tensor, b: Tensor): Tensor | null {
  if (!fusion.canFuse(a) || b.dtype !== "float32" || a.device !== b.device || a.numel() === 0) {
    return null;
  }
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) return null;
  const [n, c, hw] = fusion.channelView(a.shape);
  const oa = fusion.operandOf(a, n, c, hw), ob = fusion.operandOf(b, n, c, hw);
  if (!oa || !ob) return null;
  const out = fusion.fusedTensor(a, a.shape, { x: oa, r: ob, relu: false, n, c, hw });
  return record(out, {
    name: "add",
    inputs: [a, b],
    saved: [],
    backward: (g) => [a.requiresGrad ? g : null, b.requiresGrad ? g : null],
  });
}

/** a - b with broadcasting, or a - number. */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (involvesInt(a, b)) return intBinary("sub", a, b, sub);
  if (typeof b === "number") return unary("addScalar", a, -b);
  return binary("sub", a, b, (g) => [g, b.requiresGrad ? neg(g) : null]);
}

/** a * b with broadcasting, or a * number. */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (involvesInt(a, b)) return intBinary("mul", a, b, mul);
  if (typeof b === "number") return unary("mulScalar", a, b);
  return binary(
    "mul",
    a,
    b,
    (g) => [a.requiresGrad ? mul(g, b) : null, b.requiresGrad ? mul(g, a) : null],
  );
}

/** a / b with broadcasting, or a / number; true division (int32 operands give float32). */
export function div(a: Tensor, b: Tensor | number): Tensor {
  if (involvesInt(a, b)) return div(promoted(a), promoted(b));
  if (typeof b === "number") return unary("divScalar", a, b);
  return binary("div", a, b, (g) => [
    a.requiresGrad ? div(g, b) : null,
    b.requiresGrad ? neg(div(mul(g, a), mul(b, b))) : null,
  ]);
}

/** number - t. */
export function rsub(value: number, t: Tensor): Tensor {
  return unary("rsubScalar", t, value);
}

/** number / t. */
export function rdiv(value: number, t: Tensor): Tensor {
  return unary("rdivScalar", t, value);
}

function tieSplit(name: "maximum" | "minimum", a: Tensor, b: Tensor): Tensor {
  // The winner takes the gradient; equal values share it, as PyTorch does.
  return binary(name, a, b, (g) => {
    const wins = binaryRaw(name === "maximum" ? "gt" : "lt", a, b);
    const ties = binaryRaw("eq", a, b);
    const share = add(wins, mul(ties, 0.5));
    return [mul(g, share), mul(g, rsub(1, share))];
  });
}

/** Elementwise maximum with broadcasting. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  if (involvesInt(a, b)) return intBinary("maximum", a, b, (x, y) => maximum(x, y as Tensor));
  return tieSplit("maximum", a, b);
}

/** Elementwise minimum with broadcasting. */
export function minimum(a: Tensor, b: Tensor): Tensor {
  if (involvesInt(a, b)) return intBinary("minimum", a, b, (x, y) => minimum(x, y as Tensor));
  return tieSplit("minimum", a, b);
}

/** -t (exact int32 for int32 t). */
export const neg = (t: Tensor): Tensor =>
  involvesInt(t, null) ? intUnary("neg", t) : unary("neg", t);
/** e^t. */
export const exp = (t: Tensor): Tensor => unary("exp", t);
/** ln t. */
export const log = (t: Tensor): Tensor => unary("log", t);
/**
 * sqrt t (torch.sqrt); NaN below 0, gradient 1 / (2 sqrt t).
 *
 * @example
 * ```ts
 * import { sqrt, tensor } from "@lits/vision";
 * console.log(sqrt(tensor([0, 4, 9])).toArray()); // Float32Array [0, 2, 3]
 * ```
 */
export function sqrt(t: Tensor): Tensor {
  atMostArgs("sqrt", arguments.length, 1, "sqrt(x)", arguments[1]);
  return unary("sqrt", t);
}
/**
 * |t| (torch.abs); gradient sign(t), 0 at 0 as PyTorch. An int32 t gives
 * exact int32 (|-2^31| is an Error: int32 cannot hold it).
 *
 * @example
 * ```ts
 * import { abs, tensor } from "@lits/vision";
 * console.log(abs(tensor([-2, 0, 3])).toArray()); // Float32Array [2, 0, 3]
 * ```
 */
export function abs(t: Tensor): Tensor {
  atMostArgs("abs", arguments.length, 1, "abs(x)", arguments[1]);
  return involvesInt(t, null) ? intUnary("abs", t) : unary("abs", t);
}
/**
 * max(t, 0). On an op result it is deferred (`fusion.ts`): a convolution or
 * max pooling that reads it applies it on the fly, and its backward hands
 * batch norm a gradient to mask in the same pass.
 *
 * `inplace` (torch's `F.relu(x, inplace=True)`) writes into t and returns
 * it, as `t.relu_()`; that write is outside autograd, so a t that autograd
 * records is refused with the out-of-place form to write instead.
 */
export function relu(t: Tensor, inplace = false): Tensor {
  refuseKeywords("F.relu", inplace, "x", ["inplace"], [false]);
  if (arguments.length > 2) {
    throw new Error(`relu: takes (x, inplace), got ${arguments.length} arguments`);
  }
  if (typeof inplace !== "boolean") {
    throw new Error(`relu: inplace must be a boolean, got ${JSON.stringify(inplace)}`);
  }
  if (inplace) {
    if (isGradEnabled() && t.requiresGrad) {
      throw new Error(
        "relu: inplace=true on a tensor autograd records; this library does not record " +
          "in-place activations: write x = F.relu(x) (the same values and gradient)",
      );
    }
    return t.relu_();
  }
  const pre = fusion.reluInput(t);
  if (!pre) return unary("relu", t);
  const out = fusion.fusedTensor(t, t.shape, { ...pre, relu: true });
  record(out, {
    name: "relu",
    inputs: [t],
    // PyTorch's threshold_backward: dy where the ReLU passed its input,
    // deferred by fusion.reluGrad; the plain kernel when out was disposed.
    backward: (g) => {
      const dy = contiguous(g);
      const masked = fusion.reluGrad(dy, out);
      if (masked) return [masked];
      const x = contiguous(t);
      const dx = Tensor.empty(x.shape, "float32", x.device);
      check(
        x.lib,
        x.lib.lits_unary_backward_f32(UNARY.relu, x.ptr, null, dy.ptr, dx.ptr, x.numel(), 0),
        () => `relu backward [${t.shape}]`,
      );
      return [dx];
    },
  });
  if (out.requiresGrad) fusion.keepReluBits(out);
  return out;
}

/**
 * log(1 + t), exact for t near 0 where `log(1 + t)` rounds to 0
 * (torch.log1p); gradient 1 / (1 + t).
 *
 * @example
 * ```ts
 * import { log1p, tensor } from "@lits/vision";
 * console.log(log1p(tensor([1e-10])).item()); // 1.000000013351432e-10 (float32 1e-10)
 * ```
 */
export function log1p(t: Tensor): Tensor {
  oneTensor("log1p", arguments.length);
  return unary("log1p", t);
}
/**
 * e^t - 1, exact for t near 0 (torch.expm1); gradient e^t.
 *
 * @example
 * ```ts
 * import { expm1, tensor } from "@lits/vision";
 * console.log(expm1(tensor([1e-10])).item()); // 1.000000013351432e-10 (float32 1e-10)
 * ```
 */
export function expm1(t: Tensor): Tensor {
  oneTensor("expm1", arguments.length);
  return unary("expm1", t);
}
/** 1 / (1 + e^-t). */
export function sigmoid(t: Tensor): Tensor {
  oneTensor("sigmoid", arguments.length);
  return unary("sigmoid", t);
}
/** tanh t. */
export function tanh(t: Tensor): Tensor {
  oneTensor("tanh", arguments.length);
  return unary("tanh", t);
}

/** @internal refuses a second argument (torch's functional forms take none here). */
export function oneTensor(name: string, given: number): void {
  if (given > 1) throw new Error(`${name}: takes one tensor, got ${given} arguments`);
}
/** t ^ exponent (int32 t: int32 for an integer exponent >= 0, see int_arith.ts). */
export const pow = (t: Tensor, exponent: number): Tensor =>
  involvesInt(t, null) ? intPow(t, exponent, pow) : unary("powScalar", t, exponent);
