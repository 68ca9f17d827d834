/**
 * Matrix products on the backend's GEMM: `matmul` and the fused `linear`
 * (y = x W^T + b) that Linear layers use.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { refuseBiasOptions } from "./keyword_args.ts";
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous, expand, i64, reshape } from "./shape.ts";
import { broadcastShapes, productSaved, requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { sum } from "./reduce.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import { atMostArgs } from "./arity.ts";

/**
 * A leading dimension as BLAS takes it: at least 1, also for an empty
 * matrix (PyTorch's [2, 0] x [0, 3] is zeros, not an error).
 */
const ld = (cols: number) => Math.max(1, cols);

/** A 2-D operand as GEMM sees it: pointer, transpose flag, leading dimension. */
function operand(t: Tensor): [Tensor, number, number] {
  if (t.isContiguous) return [t, 0, ld(t.shape[1])];
  // A transposed dense matrix needs no copy: GEMM reads it transposed.
  if (t.strides[0] === 1 && t.strides[1] === t.shape[0]) return [t, 1, ld(t.shape[0])];
  const c = contiguous(t);
  return [c, 0, ld(t.shape[1])];
}

/**
 * out = op(a) op(b) (+ out when accumulate) for 2-D tensors, where a is
 * [m, k] and b is [k, n] as seen after `transA`/`transB` (no autograd);
 * with `bf16`, a and b rounded to bfloat16 and summed in fp32 (autocast).
 */
export function gemm2d(
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
  out?: Tensor,
  bf16 = false,
): Tensor {
  const [pa, ta, lda] = operand(a);
  const [pb, tb, ldb] = operand(b);
  const m = transA ? a.shape[1] : a.shape[0];
  const k = transA ? a.shape[0] : a.shape[1];
  const n = transB ? b.shape[0] : b.shape[1];
  const result = out ?? Tensor.empty([m, n], "float32", a.device);
  const beta = out ? 1 : 0;
  const lib = a.lib;
  const opA = (transA ? 1 : 0) ^ ta, opB = (transB ? 1 : 0) ^ tb;
  // lits_gemm_f32's arguments up to ldc; the bf16 GEMM takes no batch after them.
  const args = [opA, opB, m, n, k, 1, pa.ptr, lda, pb.ptr, ldb, beta, result.ptr, ld(n)] as const;
  check(
    lib,
    bf16 ? lib.lits_gemm_bf16_f32!(...args) : lib.lits_gemm_f32(...args, 1, 0, 0, 0),
    () => `matmul [${a.shape}]${transA ? "^T" : ""} x [${b.shape}]${transB ? "^T" : ""}`,
  );
  return result;
}

/** Batched product of [B, m, k] and [B, k, n] dense tensors (no autograd). */
function gemmBatched(
  a: Tensor,
  b: Tensor,
  transA: boolean,
  transB: boolean,
  bf16: boolean,
): Tensor {
  const ca = contiguous(a), cb = contiguous(b);
  const batch = a.shape[0];
  const [ar, ac] = [a.shape[1], a.shape[2]];
  const [br, bc] = [b.shape[1], b.shape[2]];
  const m = transA ? ac : ar, k = transA ? ar : ac, n = transB ? br : bc;
  const out = Tensor.empty([batch, m, n], "float32", a.device);
  const desc = () => `matmul [${a.shape}] x [${b.shape}]`;
  const lib = a.lib, ta = transA ? 1 : 0, tb = transB ? 1 : 0;
  if (batch === 0) return out; // no matrices (the GEMM takes a batch of 1 or more)
  // lits_gemm_f32's arguments before the batch, which the batched bf16 GEMM takes too.
  const args = [ta, tb, m, n, k, 1, ca.ptr, ld(ac), cb.ptr, ld(bc), 0, out.ptr, ld(n)] as const;
  // Empty products need no rounding (and their operands may have no memory).
  const rounded = bf16 && k > 0 && out.numel() > 0;
  if (rounded && !lib.lits_gemm_bf16_batched_f32) {
    // A backend without the batched bf16 GEMM: one call per matrix.
    const at = (t: Tensor, i: number, size: number) =>
      Deno.UnsafePointer.offset(t.ptr!, i * size * 4);
    for (let i = 0; i < batch; i++) {
      const [pa, pb, pc] = [at(ca, i, ar * ac), at(cb, i, br * bc), at(out, i, m * n)];
      check(
        lib,
        lib.lits_gemm_bf16_f32!(ta, tb, m, n, k, 1, pa, ld(ac), pb, ld(bc), 0, pc, ld(n)),
        desc,
      );
    }
    return out;
  }
  // Under autocast, attention's many small products: whole matrices to each thread.
  const gemm = rounded ? lib.lits_gemm_bf16_batched_f32! : lib.lits_gemm_f32;
  check(lib, gemm(...args, batch, ar * ac, br * bc, m * n), desc);
  return out;
}

/**
 * Matrix product with `torch.matmul`'s rules: two vectors give their dot
 * product (0-d); a vector on the left is a row [1, k] and on the right a
 * column [k, 1], that dimension dropped from the result; [..., m, k] x
 * [k, n] is one GEMM; other batched products broadcast their leading
 * dimensions ([4, m, k] x [1, k, n] -> [4, m, n]).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  atMostArgs("matmul", arguments.length, 2, "matmul(a, b)", arguments[2]);
  requireFloat(a, "matmul");
  requireFloat(b, "matmul");
  sameDevice(a, b, "matmul");
  const bad = () => new Error(`matmul: shapes [${a.shape}] and [${b.shape}] do not multiply`);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(
      `matmul: both arguments need at least one dimension, got [${a.shape}] and [${b.shape}]; ` +
        "multiply by a scalar with mul",
    );
  }
  const k = a.shape[a.ndim - 1];
  if (k !== b.shape[Math.max(0, b.ndim - 2)]) throw bad();
  if (a.ndim === 1 && b.ndim === 1) {
    return reshape(matrices(reshape(a, [1, k]), reshape(b, [k, 1])), []);
  }
  if (a.ndim === 1) {
    const y = matmul(reshape(a, [1, k]), b);
    return reshape(y, [...y.shape.slice(0, -2), y.shape[y.ndim - 1]]);
  }
  if (b.ndim === 1) {
    const y = matmul(a, reshape(b, [k, 1]));
    return reshape(y, y.shape.slice(0, -1));
  }
  return matrices(a, b);
}

/** The product of two tensors of at least two dimensions each, k already checked. */
function matrices(a: Tensor, b: Tensor): Tensor {
  const bf16 = matrixOpInBf16(a);
  if (b.ndim === 2) {
    const lead = a.shape.slice(0, -1);
    // The rows counted, not -1: with k 0 (no elements) -1 could be any count.
    const rows = lead.reduce((p, d) => p * d, 1);
    const a2 = a.ndim === 2 ? a : reshape(a, [rows, a.shape[a.ndim - 1]]);
    const y = record(gemm2d(a2, b, false, false, undefined, bf16), {
      name: "matmul",
      inputs: [a2, b],
      saved: productSaved(a2, b),
      backward: (g) => [
        a2.requiresGrad ? gemm2d(g, b, false, true, undefined, bf16) : null,
        b.requiresGrad ? gemm2d(a2, g, true, false, undefined, bf16) : null,
      ],
    });
    return a.ndim === 2 ? y : reshape(y, [...lead, b.shape[1]]);
  }
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) {
    // Broadcast the leading dimensions, then one batched product over them.
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul");
    const [m, k] = a.shape.slice(-2), n = b.shape[b.ndim - 1];
    const count = batch.reduce((p, d) => p * d, 1);
    const a3 = reshape(expand(a, [...batch, m, k]), [count, m, k]);
    const b3 = reshape(expand(b, [...batch, k, n]), [count, k, n]);
    return reshape(matrices(a3, b3), [...batch, m, n]);
  }
  return record(gemmBatched(a, b, false, false, bf16), {
    name: "bmm",
    inputs: [a, b],
    saved: productSaved(a, b),
    backward: (g) => [
      a.requiresGrad ? gemmBatched(g, b, false, true, bf16) : null,
      b.requiresGrad ? gemmBatched(a, g, true, false, bf16) : null,
    ],
  });
}

/**
 * The product of two matrices [n, k] x [k, m] (torch.mm: no broadcasting,
 * no vectors; `matmul` has those rules).
 *
 * @example
 * ```ts
 * import { mm, tensor } from "@lits/vision";
 * console.log(mm(tensor([[1, 2]]), tensor([[3], [4]])).toArray()); // Float32Array [11]
 * ```
 */
export function mm(a: Tensor, b: Tensor): Tensor {
  return strictProduct("mm", 2, a, b, arguments.length);
}

/**
 * Batched matrix products [B, n, k] x [B, k, m] -> [B, n, m] (torch.bmm: the
 * batches must match; attention's q k^T and its weighted sum of v).
 *
 * @example
 * ```ts
 * import { bmm, ones } from "@lits/vision";
 * console.log(bmm(ones([2, 3, 4]), ones([2, 4, 5])).shape); // [2, 3, 5]
 * ```
 */
export function bmm(a: Tensor, b: Tensor): Tensor {
  return strictProduct("bmm", 3, a, b, arguments.length);
}

function strictProduct(name: string, ndim: 2 | 3, a: Tensor, b: Tensor, given: number): Tensor {
  if (given !== 2) throw new Error(`${name}: takes two tensors, got ${given} arguments`);
  expectTensor(a, name, `${name}(a, b)`);
  expectTensor(b, `${name}: b`, `${name}(a, b)`);
  const what = ndim === 2 ? "matrices" : "batches of matrices";
  if (a.ndim !== ndim || b.ndim !== ndim) {
    throw new Error(
      `${name}: expected two ${ndim}-D tensors (${what}), got [${a.shape}] and [${b.shape}]` +
        (ndim === 2 ? "; matmul takes vectors and batches" : ""),
    );
  }
  if (ndim === 3 && a.shape[0] !== b.shape[0]) {
    throw new Error(`bmm: batch sizes differ: [${a.shape}] and [${b.shape}]`);
  }
  if (a.shape[ndim - 1] !== b.shape[ndim - 2]) {
    throw new Error(`${name}: [${a.shape}] and [${b.shape}] cannot be multiplied (inner sizes)`);
  }
  return matmul(a, b);
}

/** y = x W^T + b for x [..., in], W [out, in], b [out] (PyTorch's F.linear). */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (arguments.length > 3) {
    throw new Error(`linear: takes (x, weight, bias), got ${arguments.length} arguments`);
  }
  expectTensor(x, "linear", "F.linear(x, weight, bias)");
  expectTensor(weight, "linear: weight", "F.linear(x, weight, bias)");
  if (weight.ndim !== 2) {
    throw new Error(`linear: weight must be 2-D [out, in], got [${weight.shape}]`);
  }
  refuseBiasOptions("F.linear", bias, false);
  if (bias !== null && !(bias instanceof Tensor)) {
    throw new Error(`linear: the bias must be a Tensor or null, got ${JSON.stringify(bias)}`);
  }
  requireFloat(x, "linear");
  sameDevice(x, weight, "linear");
  if (bias) sameDevice(x, bias, "linear");
  const inF = weight.shape[1];
  if (x.ndim < 1 || weight.ndim !== 2 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(
      `linear: input [${x.shape}] does not match weight [${weight.shape}] (expected [..., ${inF}])`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`linear: bias [${bias.shape}] does not match weight [${weight.shape}]`);
  }
  if (x.ndim === 2) return linear2d(x, weight, bias);
  // Leading dimensions fold into the batch, as PyTorch does (counted: -1 is
  // ambiguous when inF is 0).
  const rows = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const y = linear2d(reshape(x, [rows, inF]), weight, bias);
  return reshape(y, [...x.shape.slice(0, -1), weight.shape[0]]);
}

function linear2d(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  let y: Tensor | undefined;
  if (bias) {
    // Start from the broadcast bias and let GEMM accumulate onto it.
    y = Tensor.empty([x.shape[0], weight.shape[0]], "float32", x.device);
    const b = contiguous(bias);
    check(
      x.lib,
      x.lib.lits_strided_copy(2, i64(y.shape), b.ptr, i64([0, 1]), y.ptr),
      () => `linear bias [${bias.shape}]`,
    );
  }
  const bf16 = matrixOpInBf16(x);
  const out = gemm2d(x, weight, false, true, y, bf16);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(out, {
    name: "linear",
    inputs,
    saved: productSaved(x, weight), // the bias's gradient needs no values
    backward: (g) => [
      x.requiresGrad ? gemm2d(g, weight, false, false, undefined, bf16) : null,
      weight.requiresGrad ? gemm2d(g, x, true, false, undefined, bf16) : null,
      bias?.requiresGrad ? sum(g, 0) : null,
    ],
  });
}
