/**
 * `F.embeddingBag`: the sums, means or maxima of bags of embedding rows
 * (torch's `embedding_bag`), built on `F.embedding` and a gather: the rows
 * of each bag are laid out in a [bags, longest bag, dim] block (short bags
 * filled with 0, or -inf for the max) and reduced over the bag. The
 * gradients are those of the ops: the weight's a scatter-add (the max's to
 * each bag's first maximum; divided by each index's count in the input
 * under `scaleGradByFreq`, which `F.embedding` does on the kept indices),
 * `perSampleWeights`' the rows' dot products.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { contiguous, reshape } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { max, sum } from "./reduce.ts";
import { pad } from "./pad.ts";
import { where as select } from "./where.ts";
import {
  checkEmbeddingOptions,
  checkLookup,
  embedding,
  EMBEDDING_OPTIONS,
  type EmbeddingOptions,
  paddingIndex,
  renorm,
} from "./embedding.ts";
import { checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** How a bag's rows combine. */
export type EmbeddingBagMode = "sum" | "mean" | "max";

/** Options of `embeddingBag` (and of `nn.EmbeddingBag`, less `offsets` and `perSampleWeights`). */
export interface EmbeddingBagOptions extends EmbeddingOptions {
  /**
   * For a 1-D input: where each bag starts (int32 tensor or numbers,
   * starting at 0, non-decreasing). Not taken with a 2-D input, whose rows
   * are the bags.
   */
  offsets?: Tensor | readonly number[];
  /** "mean" (default), "sum" or "max". */
  mode?: EmbeddingBagMode;
  /** "sum" only: a weight per index (float32, the input's shape) scaling its row. */
  perSampleWeights?: Tensor;
  /** The last offset is the end of the last bag (CSR layout), not a bag's start (default false). */
  includeLastOffset?: boolean;
}

/** The option names of `embeddingBag`. */
export const EMBEDDING_BAG_OPTIONS: (keyof EmbeddingBagOptions)[] = [
  ...EMBEDDING_OPTIONS,
  "offsets",
  "mode",
  "perSampleWeights",
  "includeLastOffset",
];

const USAGE = 'F.embeddingBag(indices, weight, { offsets: [0, 3], mode: "sum" }) with int32 ' +
  "indices";

/** Checks `mode`; default "mean". */
export function bagMode(where: string, mode: unknown): EmbeddingBagMode {
  if (mode === undefined) return "mean";
  if (mode === "sum" || mode === "mean" || mode === "max") return mode;
  throw new Error(`${where}: mode must be "sum", "mean" or "max", got ${showValue(mode)}`);
}

/** The bags' [start, end) from 1-D offsets, or the rows of a 2-D input. */
function bagBounds(where: string, input: Tensor, o: EmbeddingBagOptions): [number, number][] {
  const n = input.numel();
  if (o.includeLastOffset !== undefined && typeof o.includeLastOffset !== "boolean") {
    throw new Error(
      `${where}: includeLastOffset must be true or false, got ${showValue(o.includeLastOffset)}`,
    );
  }
  if (input.ndim === 2) {
    if (o.offsets !== undefined && o.offsets !== null) {
      // torch: "if input is 2D, then offsets has to be None".
      throw new Error(
        `${where}: a 2-D input [bags, n] is its own bags: leave offsets out, or give a 1-D ` +
          "input with offsets",
      );
    }
    const [b, len] = input.shape;
    return Array.from({ length: b }, (_, i) => [i * len, (i + 1) * len]);
  }
  if (input.ndim !== 1) {
    throw new Error(
      `${where}: input must be 1-D (with offsets) or 2-D [bags, n], got [${input.shape}]`,
    );
  }
  if (o.offsets === undefined || o.offsets === null) {
    throw new Error(`${where}: a 1-D input needs offsets (where each bag starts): ${USAGE}`);
  }
  let starts: number[];
  if (o.offsets instanceof Tensor) {
    if (o.offsets.dtype !== "int32" || o.offsets.ndim !== 1) {
      throw new Error(
        `${where}: offsets must be a 1-D int32 tensor or an array of numbers, got ` +
          `${o.offsets.dtype} [${o.offsets.shape}]`,
      );
    }
    starts = [...(o.offsets.toArray() as Int32Array)];
  } else if (Array.isArray(o.offsets)) {
    starts = [...o.offsets];
  } else {
    throw new Error(
      `${where}: offsets must be a 1-D int32 tensor or an array of numbers, got ` +
        showValue(o.offsets),
    );
  }
  const bad = starts.findIndex((v, i) =>
    typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > n || (i > 0 && v < starts[i - 1])
  );
  if (bad >= 0) {
    throw new Error(
      `${where}: offsets must be non-decreasing integers in [0, ${n}] (the input's length), ` +
        `got offsets[${bad}] = ${showValue(starts[bad])}`,
    );
  }
  if (starts.length === 0 || starts[0] !== 0) {
    // torch: "offsets[0] has to be 0, i.e., the first sequence ... has to start from position 0".
    throw new Error(`${where}: offsets must start with 0 (the first bag starts the input)`);
  }
  if (o.includeLastOffset) {
    if (starts.length < 2 || starts[starts.length - 1] !== n) {
      throw new Error(
        `${where}: with includeLastOffset the offsets end with the input's length ${n} (the end ` +
          `of the last bag), got [${starts}]`,
      );
    }
    return starts.slice(0, -1).map((s, i) => [s, starts[i + 1]]);
  }
  return starts.map((s, i) => [s, i + 1 < starts.length ? starts[i + 1] : n]);
}

/**
 * @internal Checks `scaleGradByFreq` against the mode: torch scales a bag's
 * gradient by frequency for "sum" and "mean" only, and refuses it for "max"
 * ("max mode does not support scaling the gradient by the frequency").
 */
export function checkScaleGradByFreq(where: string, flag: unknown, mode: EmbeddingBagMode): void {
  if (flag && mode === "max") {
    throw new Error(
      `${where}: mode "max" does not support scaleGradByFreq (as torch); use mode "sum" or ` +
        '"mean", or leave scaleGradByFreq false',
    );
  }
}

/**
 * The bags of rows of `weight` [numEmbeddings, dim] named by the int32
 * `input`, reduced to [bags, dim], as `F.embedding_bag`: a 1-D input with
 * `offsets` (where each bag starts), or a 2-D [bags, n] input (each row a
 * bag). `mode` "mean" (default), "sum" (each row scaled by its
 * `perSampleWeights` entry when given) or "max" (per dimension; the
 * gradient to the bag's first maximum). Indices equal to `paddingIdx` are
 * left out of their bag (and its mean's count); an empty bag gives zeros.
 * `maxNorm` and `normType` are `F.embedding`'s. `scaleGradByFreq` ("sum"
 * and "mean" only, as torch) divides each row's gradient by how often its
 * index occurs in the whole input (`paddingIdx` rows get none).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const weight = tensor([[1, 2], [3, 4], [5, 6]]);
 * const ids = tensor(new Int32Array([0, 2, 1, 1]), [4]);
 * console.log(F.embeddingBag(ids, weight, { offsets: [0, 2] }).toList()); // [[3, 4], [3, 4]]
 * const sums = F.embeddingBag(ids, weight, { offsets: [0, 2], mode: "sum" });
 * console.log(sums.toList()); // [[6, 8], [6, 8]]
 * ```
 */
export function embeddingBag(
  input: Tensor,
  weight: Tensor,
  options: EmbeddingBagOptions = {},
): Tensor {
  const where = "embeddingBag";
  expectTensor(input, where, USAGE);
  expectTensor(weight, `${where}: weight`, USAGE);
  const o = checkCall<EmbeddingBagOptions>(
    where,
    arguments.length,
    3,
    options,
    EMBEDDING_BAG_OPTIONS,
    USAGE,
  );
  checkLookup(where, input, weight);
  checkEmbeddingOptions(where, o);
  const mode = bagMode(where, o.mode);
  checkScaleGradByFreq(where, o.scaleGradByFreq, mode);
  const [rows, dim] = weight.shape;
  const padIdx = paddingIndex(where, o.paddingIdx, rows);
  const bounds = bagBounds(where, input, o);
  const psw = o.perSampleWeights;
  if (psw !== undefined && psw !== null) {
    expectTensor(psw, `${where}: perSampleWeights`, USAGE);
    if (mode !== "sum") {
      // torch: "per_sample_weights is only supported for mode='sum'".
      throw new Error(
        `${where}: perSampleWeights is only taken with mode "sum", got mode "${mode}"`,
      );
    }
    requireFloat(psw, `${where}: perSampleWeights`);
    sameDevice(input, psw, where);
    if (psw.shape.join() !== input.shape.join()) {
      throw new Error(
        `${where}: perSampleWeights [${psw.shape}] must have the input's shape [${input.shape}]`,
      );
    }
  }
  const ids = contiguous(input).toArray() as Int32Array;
  const bad = ids.findIndex((v) => v < 0 || v >= rows);
  if (bad >= 0) {
    throw new Error(
      `${where}: index ${ids[bad]} (element ${bad} of the indices) is out of range ` +
        `[0, ${rows}) of the weight [${weight.shape}]`,
    );
  }
  // The entries that count (paddingIdx's are left out), and each one's slot
  // in its bag; `table` lays the bags out [bags, longest], -> the fill row.
  const kept: number[] = [], counts = bounds.map(() => 0);
  for (const [b, [s, e]] of bounds.entries()) {
    for (let i = s; i < e; i++) {
      if (ids[i] === padIdx) continue;
      kept.push(i);
      counts[b]++;
    }
  }
  const m = kept.length, bags = bounds.length;
  const longest = Math.max(1, ...counts);
  const table = new Int32Array(bags * longest).fill(m);
  let next = 0;
  counts.forEach((c, b) => {
    for (let j = 0; j < c; j++) table[b * longest + j] = next++;
  });
  const keptIndex = indexVector(Int32Array.from(kept), input.device);
  const keptIds = Int32Array.from(kept, (i) => ids[i]);
  const { mode: _, offsets: _o, perSampleWeights: _p, includeLastOffset: _i, ...embed } = o;
  // torch renormalises every row the input names, the padding row included.
  if (o.maxNorm !== undefined && o.maxNorm !== null && ids.length > 0) {
    renorm(weight, ids, o.maxNorm, o.normType ?? 2);
  }
  let e = embedding(
    fromHost(keptIds, [m], { dtype: "int32", device: input.device }, true),
    weight,
    { ...embed, paddingIdx: null, maxNorm: null },
  );
  if (psw !== undefined && psw !== null) {
    const w = takeAlong(reshape(contiguous(psw), [psw.numel()]), 0, keptIndex, "row", false, where);
    e = e.mul(reshape(w, [m, 1]));
  }
  const filled = pad(e, [0, 0, 0, 1], "constant", mode === "max" ? -Infinity : 0);
  const block = reshape(
    takeAlong(filled, 0, indexVector(table, input.device), "row", false, where),
    [bags, longest, dim],
  );
  if (mode === "sum") return sum(block, 1);
  if (mode === "mean") {
    const n = fromHost(Float32Array.from(counts, (c) => Math.max(c, 1)), [bags, 1], {
      device: input.device,
    }, true);
    return sum(block, 1).div(n);
  }
  const y = max(block, 1);
  if (!counts.includes(0)) return y;
  // An empty bag's max is 0, as torch's (not the fill's -inf).
  const empty = fromHost(Float32Array.from(counts, (c) => (c === 0 ? 1 : 0)), [bags, 1], {
    device: input.device,
  }, true);
  return select(empty.eq(1), 0, y);
}
