/**
 * `F.embedding`: rows of a weight table at int32 indices of any shape, on
 * the backend's gather kernel (the rows are index_select's); the gradient
 * is the scatter-add of the output's gradient into the rows it read, in a
 * fixed order, skipping the padding row (torch's `padding_idx`), divided by
 * each index's count under `scaleGradByFreq`. `maxNorm` renormalises the
 * rows the indices name, in place, before the lookup, as torch's.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { contiguous, i64 } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost, zeros } from "./creation.ts";
import { indexSelect } from "./gather.ts";
import { checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** Options of `embedding` (and of `nn.Embedding`). */
export interface EmbeddingOptions {
  /** A row that gets no gradient (negative counts from the end); default none. */
  paddingIdx?: number | null;
  /** Rows the indices name whose `normType` norm exceeds this are scaled to it, in place. */
  maxNorm?: number | null;
  /** The p of `maxNorm`'s norm (default 2). */
  normType?: number;
  /** Divide each row's gradient by how often its index occurs in the input (default false). */
  scaleGradByFreq?: boolean;
  /** torch's sparse gradient; only false (the default) is offered. */
  sparse?: boolean;
}

/** The option names of `embedding`. */
export const EMBEDDING_OPTIONS: (keyof EmbeddingOptions)[] = [
  "paddingIdx",
  "maxNorm",
  "normType",
  "scaleGradByFreq",
  "sparse",
];

/** A checked padding index in [0, rows), or null; negative counts from the end, as torch's. */
export function paddingIndex(where: string, paddingIdx: unknown, rows: number): number | null {
  if (paddingIdx === undefined || paddingIdx === null) return null;
  if (typeof paddingIdx !== "number" || !Number.isInteger(paddingIdx)) {
    throw new Error(
      `${where}: paddingIdx must be an integer or null, got ${showValue(paddingIdx)}`,
    );
  }
  if (paddingIdx >= rows || paddingIdx < -rows) {
    // torch: "Padding_idx must be within num_embeddings".
    throw new Error(
      `${where}: paddingIdx ${paddingIdx} must be within the ${rows} embeddings ` +
        `(from ${-rows} to ${rows - 1})`,
    );
  }
  return paddingIdx < 0 ? paddingIdx + rows : paddingIdx;
}

/** Checks the options that do not depend on the weight: maxNorm, normType, the flags. */
export function checkEmbeddingOptions(where: string, o: EmbeddingOptions): void {
  const m = o.maxNorm;
  if (m !== undefined && m !== null && (typeof m !== "number" || Number.isNaN(m) || m < 0)) {
    throw new Error(`${where}: maxNorm must be a number >= 0 or null, got ${showValue(m)}`);
  }
  const p = o.normType;
  if (p !== undefined && (typeof p !== "number" || Number.isNaN(p) || p <= 0)) {
    throw new Error(
      `${where}: normType must be a number > 0 (Infinity for the max), got ${showValue(p)}`,
    );
  }
  for (const flag of ["scaleGradByFreq", "sparse"] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") {
      throw new Error(`${where}: ${flag} must be true or false, got ${showValue(o[flag])}`);
    }
  }
  if (o.sparse) {
    throw new Error(
      `${where}: sparse gradients are not offered (this library has no sparse tensors); ` +
        "leave sparse false: the weight's gradient is dense, and every optimizer takes it",
    );
  }
}

/** The p-norm of `n` values from `v` at `at`. */
function rowNorm(v: Float32Array, at: number, n: number, p: number): number {
  let s = 0;
  if (p === Infinity) {
    for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(v[at + i]));
    return s;
  }
  for (let i = 0; i < n; i++) s += Math.abs(v[at + i]) ** p;
  return s ** (1 / p);
}

/**
 * @internal torch's `embedding_renorm_`: each row that `ids` name (each once) whose
 * p-norm exceeds `maxNorm` is scaled by maxNorm / (norm + 1e-7), in place.
 */
export function renorm(weight: Tensor, ids: Int32Array, maxNorm: number, p: number): void {
  const unique = Int32Array.from(new Set(ids)).sort();
  const [rows, dim] = weight.shape;
  noGrad(() => {
    const picked = indexSelect(
      weight.detach(),
      0,
      fromHost(unique, [unique.length], {
        dtype: "int32",
        device: weight.device,
      }, true),
    );
    const values = picked.toArray() as Float32Array;
    picked.dispose();
    const scale = new Float32Array(rows).fill(1);
    let any = false;
    unique.forEach((r, i) => {
      const norm = rowNorm(values, i * dim, dim, p);
      if (norm > maxNorm) {
        scale[r] = maxNorm / (norm + 1e-7);
        any = true;
      }
    });
    if (any) weight.mul_(fromHost(scale, [rows, 1], { device: weight.device }, true));
  });
}

/** @internal Checks an embedding lookup's indices (int32) and weight (float, 2-D, same device). */
export function checkLookup(where: string, input: Tensor, weight: Tensor): void {
  if (input.dtype !== "int32") {
    throw new Error(
      `${where}: indices must be an int32 tensor, got ${input.dtype} [${input.shape}]; ` +
        "convert with indices.int() (the weight is the second argument)",
    );
  }
  requireFloat(weight, where);
  sameDevice(input, weight, where);
  if (weight.ndim !== 2) {
    throw new Error(`${where}: weight must be 2-D [numEmbeddings, dim], got [${weight.shape}]`);
  }
}

/**
 * The rows of `weight` [numEmbeddings, dim] at the int32 `input` indices of
 * any shape: [...input.shape, dim], as `F.embedding`. An index outside
 * [0, numEmbeddings) is an Error (torch: "index out of range in self").
 * The `paddingIdx` row is read as it is but gets no gradient.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const weight = tensor([[0, 0], [1, 2], [3, 4]]);
 * const ids = tensor(new Int32Array([2, 0, 1]), [3]);
 * console.log(F.embedding(ids, weight, { paddingIdx: 0 }).toList()); // [[3, 4], [0, 0], [1, 2]]
 * ```
 */
export function embedding(input: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const where = "embedding";
  const usage = "F.embedding(indices, weight, { paddingIdx: 0 }) with int32 indices";
  expectTensor(input, where, usage);
  expectTensor(weight, `${where}: weight`, usage);
  const o = checkCall<EmbeddingOptions>(
    where,
    arguments.length,
    3,
    options,
    EMBEDDING_OPTIONS,
    usage,
  );
  checkLookup(where, input, weight);
  checkEmbeddingOptions(where, o);
  const [rows, dim] = weight.shape;
  const pad = paddingIndex(where, o.paddingIdx, rows);
  const n = input.numel();
  const idx = contiguous(input);
  const needHost = pad !== null || o.scaleGradByFreq || (o.maxNorm ?? null) !== null;
  const ids = needHost ? (idx.toArray() as Int32Array) : null;
  if (ids) {
    const bad = ids.findIndex((v) => v < 0 || v >= rows);
    if (bad >= 0) {
      throw new Error(
        `${where}: index ${ids[bad]} (element ${bad} of the indices) is out of range ` +
          `[0, ${rows}) of the weight [${weight.shape}]`,
      );
    }
  }
  if (ids && o.maxNorm !== undefined && o.maxNorm !== null) {
    renorm(weight, ids, o.maxNorm, o.normType ?? 2);
  }
  const desc = () => `${where} of indices [${input.shape}] in weight [${weight.shape}]`;
  const strides = i64([0, 1, 0]);
  const w = contiguous(weight);
  const out = Tensor.empty([n, dim], "float32", weight.device);
  if (n > 0 && rows === 0) throw new Error(`${desc()}: the weight has no rows to take`);
  if (n > 0) {
    check(
      w.lib,
      w.lib.lits_gather_f32(w.ptr, idx.ptr, strides, out.ptr, 1, rows, n, dim, 1),
      desc,
    );
  }
  // The backward's index: the padding row's entries -1, which the scatter-add skips.
  const gradIdx = ids && pad !== null && ids.includes(pad)
    ? fromHost(
      ids.map((v) => (v === pad ? -1 : v)),
      [n],
      { dtype: "int32", device: w.device },
      true,
    )
    : idx;
  let freq: Tensor | null = null;
  if (ids && o.scaleGradByFreq) {
    const counts = new Map<number, number>();
    for (const v of ids) counts.set(v, (counts.get(v) ?? 0) + 1);
    const f = Float32Array.from(ids, (v) => 1 / counts.get(v)!);
    freq = fromHost(f, [n, 1], { device: w.device }, true);
  }
  const y = record(out, {
    name: where,
    inputs: [w],
    saved: freq ? [gradIdx, freq] : [gradIdx],
    backward: (g) => {
      const dy = contiguous(freq ? contiguous(g).mul(freq) : g);
      const dw = zeros([rows, dim], { device: w.device });
      if (n > 0) {
        check(
          w.lib,
          w.lib.lits_scatter_add_f32(dy.ptr, gradIdx.ptr, strides, dw.ptr, 1, rows, n, dim),
          () => `${desc()} backward`,
        );
      }
      return [dw];
    },
  });
  return y.reshape([...input.shape, dim]);
}
