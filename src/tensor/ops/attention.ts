/**
 * Scaled dot-product attention, softmax(q k^T * scale + mask) v, as
 * `torch.nn.functional.scaled_dot_product_attention` (torch 2's public
 * function; 1.13 has it as `F._scaled_dot_product_attention`), and the mask
 * rules that `nn.MultiheadAttention` shares with it. Composed of matmul,
 * softmax and dropout, so its gradients are theirs.
 *
 * Masks. PyTorch takes a bool mask or a float mask; this library has no
 * bool dtype, so the two are told apart by dtype:
 * - an **int32** mask is torch's bool mask, nonzero being true (`x.eq(0).int()`,
 *   or `tensor(new Int32Array([...]), shape)`);
 * - a **float32** mask is torch's float mask, added to the scores (0 keeps a
 *   position, -Infinity masks it).
 *
 * What true means is torch's for each API: in `scaledDotProductAttention`
 * true means "may attend" (torch's SDPA), in `nn.MultiheadAttention` true
 * means "masked out" (torch's MHA). A float32 mask that holds only 0 and 1
 * with some 1 (what the comparisons return) is refused: torch would add 1 to
 * those scores, which such a mask never means; write `.int()` for a boolean
 * mask. (That check reads the mask's values on the host.)
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { broadcastShapes, requireFloat } from "./elementwise.ts";
import { linear, matmul } from "./matmul.ts";
import { softmax } from "./softmax.ts";
import { dropout } from "./random.ts";
import { where } from "./where.ts";
import { fromHost } from "./creation.ts";
import { cat } from "./join.ts";
import { chunk, split } from "./split.ts";
import { type CallContract, checkContract } from "../../options.ts";

/** What a true (nonzero) entry of a boolean mask means. */
type TrueMeans = "masked" | "attend";

/**
 * @internal `mask` (torch's bool mask as int32, or a float mask) as an
 * additive float32 mask: a boolean one becomes 0 and -Infinity, a float32
 * one is itself. `what` names the argument in errors.
 */
export function additiveMask(mask: unknown, what: string, truth: TrueMeans, like: Tensor): Tensor {
  const meaning = truth === "masked" ? "nonzero = masked out" : "nonzero = may attend";
  expectTensor(mask, what, `a float32 mask (added) or a boolean one as int32, ${meaning}`);
  if (mask.device !== like.device) {
    throw new Error(`${what}: the mask is on ${mask.device}, the query on ${like.device}`);
  }
  if (mask.dtype === "int32") {
    return truth === "masked" ? where(mask, -Infinity, 0) : where(mask, 0, -Infinity);
  }
  let one = false;
  for (const v of mask.toArray()) {
    if (v === 1) one = true;
    else if (v !== 0) return mask;
  }
  if (!one) return mask;
  const additive = truth === "masked" ? "where(mask, -Infinity, 0)" : "where(mask, 0, -Infinity)";
  throw new Error(
    `${what}: this float32 mask holds only 0 and 1, as a comparison's mask does; a float mask ` +
      `is added to the scores (torch's float mask), so 1 would be added, not masked. For ` +
      `torch's bool mask (${meaning}) pass mask.int(); for an additive mask use 0 and ` +
      `-Infinity (${additive})`,
  );
}

/** @internal the float32 mask, -Infinity above the diagonal ([L, S], torch's `is_causal`). */
export function causalMask(l: number, s: number, like: Tensor): Tensor {
  const v = new Float32Array(l * s);
  for (let i = 0; i < l; i++) for (let j = i + 1; j < s; j++) v[i * s + j] = -Infinity;
  return fromHost(v, [l, s], { device: like.device }, true);
}

/**
 * @internal softmax(q k^T * scale + mask) along the last dimension, dropped
 * out with `dropoutP` (always, when above 0), and its product with v.
 * q [..., L, D], k [..., S, D], v [..., S, Dv]; the mask is additive and
 * broadcasts to [..., L, S]. `scale` null divides q by sqrt(D), as torch's
 * MultiheadAttention does before the product.
 */
export function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | null,
  dropoutP: number,
  scale: number | null,
): { output: Tensor; weights: Tensor } {
  const qs = scale === null ? q.div(Math.sqrt(q.shape[q.ndim - 1])) : q.mul(scale);
  const scores = matmul(qs, k.transpose(-2, -1));
  let weights = softmax(mask === null ? scores : scores.add(mask), -1);
  if (dropoutP > 0) weights = dropout(weights, dropoutP, true);
  return { output: matmul(weights, v), weights };
}

/**
 * @internal `x` with `n` zeros appended along `dim` (torch's `pad(x, (0, n))`
 * there; made here as an op result, so a training loop frees it).
 */
export function appendZeros(x: Tensor, dim: number, n: number): Tensor {
  const shape = x.shape.map((s, i) => (i === dim ? n : s));
  const zeros = new Float32Array(shape.reduce((a, b) => a * b, 1));
  return cat([x, fromHost(zeros, shape, { device: x.device }, true)], dim);
}

/**
 * @internal torch's MultiheadAttention input projections of q [L, N, E],
 * k, v: with the packed weight [3E, E] one product for self-attention
 * (q, k, v the same tensor) and one for k and v when they are, as torch's
 * `_in_projection_packed`; else the separate weights, `in_proj_bias` split
 * in three.
 */
export function inProjection(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  w: Tensor | null,
  b: Tensor | null,
  separate: (Tensor | null)[],
): Tensor[] {
  const E = q.shape[q.ndim - 1];
  const [bq, bk, bv] = b ? chunk(b, 3) : [null, null, null];
  if (!w) {
    const [wq, wk, wv] = separate as Tensor[];
    return [linear(q, wq, bq), linear(k, wk, bk), linear(v, wv, bv)];
  }
  if (k === v && q === k) return chunk(linear(q, w, b), 3, -1);
  if (k === v) {
    const [wq, wkv] = split(w, [E, 2 * E]);
    const [bq1, bkv] = b ? split(b, [E, 2 * E]) : [null, null];
    return [linear(q, wq, bq1), ...chunk(linear(k, wkv, bkv), 2, -1)];
  }
  const [wq, wk, wv] = chunk(w, 3);
  return [linear(q, wq, bq), linear(k, wk, bk), linear(v, wv, bv)];
}

/** @internal the sizes `mhaMask` checks the masks against. */
export interface MhaSizes {
  /** Whether the query is [L, N, E] (else [L, E]). */
  batched: boolean;
  /** Batch size (1 unbatched). */
  N: number;
  /** Heads. */
  H: number;
  /** Query length. */
  L: number;
  /** Key length as given. */
  S: number;
  /** Key positions appended (bias_k, the zero key). */
  extra: number;
  /** The query, for its device. */
  query: Tensor;
}

/**
 * @internal torch's MultiheadAttention masks, checked at torch's shapes
 * and merged into one additive mask [1 or N * H, L, S + extra] (or null):
 * `attnMask` [L, S] or [N * H, L, S] ([H, L, S] unbatched), `keyPaddingMask`
 * [N, S] ([S] unbatched), each int32 (nonzero = masked) or float32 (added),
 * zero for the appended positions.
 */
export function mhaMask(attnMask: unknown, keyPaddingMask: unknown, z: MhaSizes): Tensor | null {
  const where = "nn.MultiheadAttention.forward";
  const { N, H, L, S, extra } = z;
  let mask: Tensor | null = null;
  if (attnMask != null) {
    mask = additiveMask(attnMask, `${where}: attnMask`, "masked", z.query);
    const want2 = [L, S], want3 = [z.batched ? N * H : H, L, S];
    if (mask.shape.join() !== want2.join() && mask.shape.join() !== want3.join()) {
      throw new Error(
        `${where}: attnMask must be [${want2}] or [${want3}] (N * numHeads, L, S), got ` +
          `[${mask.shape}]`,
      );
    }
    if (mask.ndim === 2) mask = mask.unsqueeze(0);
    if (extra > 0) mask = appendZeros(mask, 2, extra);
  }
  if (keyPaddingMask == null) return mask;
  let kpm = additiveMask(keyPaddingMask, `${where}: keyPaddingMask`, "masked", z.query);
  const want = z.batched ? [N, S] : [S];
  if (kpm.shape.join() !== want.join()) {
    throw new Error(`${where}: keyPaddingMask must be [${want}], got [${kpm.shape}]`);
  }
  if (extra > 0) kpm = appendZeros(kpm, kpm.ndim - 1, extra);
  const s = S + extra;
  const perHead = kpm.reshape(N, 1, 1, s).expand(N, H, 1, s).reshape(N * H, 1, s);
  return mask ? mask.add(perHead) : perHead;
}

/** Options of `scaledDotProductAttention` (torch's keyword arguments). */
export interface ScaledDotProductAttentionOptions {
  /**
   * Broadcasts to [..., L, S]: float32, added to the scores, or int32 as
   * torch's bool mask, nonzero = may attend (torch's SDPA meaning, the
   * opposite of `nn.MultiheadAttention`'s).
   */
  attnMask?: Tensor | null;
  /** Dropout on the attention weights, applied whenever above 0 (default 0), as torch's. */
  dropoutP?: number;
  /** Lets position i attend to positions 0..i only (default false; not with `attnMask`). */
  isCausal?: boolean;
  /** Multiplies the scores (default 1 / sqrt(D), D = query's last size). */
  scale?: number | null;
}

const SDPA: CallContract<ScaledDotProductAttentionOptions> = {
  where: "scaledDotProductAttention",
  most: 4,
  known: ["attnMask", "dropoutP", "isCausal", "scale"],
  usage: "F.scaledDotProductAttention(q, k, v, { attnMask: keep.int(), dropoutP: 0.1 })",
};

/**
 * softmax(q k^T * scale + mask) v over the last two dimensions, as torch's
 * `F.scaled_dot_product_attention`: query [..., L, D], key [..., S, D],
 * value [..., S, Dv] (leading dimensions broadcast) give [..., L, Dv]. A
 * row whose every position is masked gives NaN, as torch's math path.
 * Gradients reach query, key, value and a float mask that requires one.
 *
 * @example
 * ```ts
 * import { functional as F, randn, tensor } from "@lits/vision";
 * const q = randn([2, 3, 4]), k = randn([2, 5, 4]), v = randn([2, 5, 6]);
 * console.log(F.scaledDotProductAttention(q, k, v).shape); // [2, 3, 6]
 * // torch's bool mask, true = may attend: keys 0 and 1 only
 * const keep = tensor(new Int32Array([1, 1, 0, 0, 0]), [1, 5]);
 * const y = F.scaledDotProductAttention(q, k, v, { attnMask: keep });
 * console.log(y.shape, F.scaledDotProductAttention(q, k, v, { isCausal: true }).shape); // [2, 3, 6] [2, 3, 6]
 * ```
 */
export function scaledDotProductAttention(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  options: ScaledDotProductAttentionOptions = {},
): Tensor {
  const o = checkContract(SDPA, arguments.length, options);
  const where = SDPA.where;
  for (const [name, t] of [["query", query], ["key", key], ["value", value]] as const) {
    expectTensor(t, `${where}: ${name}`, SDPA.usage);
    requireFloat(t, `${where}: ${name}`);
    if (t.ndim < 2) {
      throw new Error(`${where}: ${name} must be [..., seq, features], got [${t.shape}]`);
    }
    if (t.device !== query.device) {
      throw new Error(`${where}: ${name} is on ${t.device}, query on ${query.device}`);
    }
  }
  const [l, d] = query.shape.slice(-2), [s, dk] = key.shape.slice(-2);
  if (dk !== d) {
    throw new Error(
      `${where}: query [${query.shape}] and key [${key.shape}] must share the last size`,
    );
  }
  if (value.shape[value.ndim - 2] !== s) {
    throw new Error(
      `${where}: key [${key.shape}] and value [${value.shape}] must share the sequence length`,
    );
  }
  const lead = (t: Tensor) => t.shape.slice(0, -2);
  try {
    broadcastShapes(broadcastShapes(lead(query), lead(key), where), lead(value), where);
  } catch {
    throw new Error(
      `${where}: the leading (batch) dimensions of query [${query.shape}], key [${key.shape}] ` +
        `and value [${value.shape}] do not broadcast together`,
    );
  }
  const p = o.dropoutP ?? 0;
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`${where}: dropoutP must be in [0, 1], got ${JSON.stringify(p)}`);
  }
  const scale = o.scale ?? null;
  if (scale !== null && (typeof scale !== "number" || !Number.isFinite(scale))) {
    throw new Error(`${where}: scale must be a finite number, got ${JSON.stringify(scale)}`);
  }
  const causal = o.isCausal ?? false;
  if (typeof causal !== "boolean") {
    throw new Error(`${where}: isCausal must be a boolean, got ${JSON.stringify(causal)}`);
  }
  const given = o.attnMask ?? null;
  if (causal && given !== null) {
    throw new Error(`${where}: give attnMask or isCausal, not both (as torch)`);
  }
  let mask: Tensor | null = null;
  if (causal) mask = causalMask(l, s, query);
  else if (given !== null) {
    mask = additiveMask(given, `${where}: attnMask`, "attend", query);
    const m = mask.shape;
    const last = m[m.length - 1], row = m.length > 1 ? m[m.length - 2] : 1;
    if (m.length === 0 || (last !== s && last !== 1) || (row !== l && row !== 1)) {
      throw new Error(
        `${where}: attnMask [${given.shape}] must broadcast to [..., ${l}, ${s}] (query ` +
          `[${query.shape}], key [${key.shape}])`,
      );
    }
  }
  return attend(query, key, value, mask, p, scale === null ? 1 / Math.sqrt(d) : scale).output;
}
