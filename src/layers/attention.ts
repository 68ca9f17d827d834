/**
 * `MultiheadAttention`, as torch 1.13's `torch.nn.MultiheadAttention`: the
 * same parameters under the same names (so torch's state dict, e.g. a
 * torchvision ViT's `encoder_layer.self_attention`, loads unchanged), the
 * same options, shapes, masks and initialisation, and forward returning
 * torch's (output, weights) pair. Masks follow `scaledDotProductAttention`'s
 * rules (src/tensor/ops/attention.ts): a boolean mask is int32, nonzero =
 * masked out, as torch's bool mask here; a float32 mask is added.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { linear } from "../tensor/ops/matmul.ts";
import { cat } from "../tensor/ops/join.ts";
import { expectTensor } from "../tensor/ops/compare.ts";
import { appendZeros, attend, inProjection, mhaMask } from "../tensor/ops/attention.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module, Parameter } from "./module.ts";
import { Linear } from "./linear.ts";
import { constant_, xavierNormal_, xavierUniform_ } from "./init.ts";

/**
 * What `MultiheadAttention.forward` returns, torch's `(attn_output,
 * attn_output_weights)`: destructure it (`const [out, weights] = ...`), index
 * it (`r[0]`) or read `.output` and `.weights`. `weights` is null when
 * `needWeights` is false.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const r = new nn.MultiheadAttention(8, 2).forward(randn([5, 3, 8]), randn([6, 3, 8]), randn([6, 3, 8]));
 * console.log(r.output.shape, r[1]!.shape, r.length); // [5, 3, 8] [3, 5, 6] 2
 * ```
 */
export type AttentionOutput = readonly [output: Tensor, weights: Tensor | null] & {
  /** [L, N, E], or [N, L, E] with `batchFirst`, or [L, E] unbatched. */
  readonly output: Tensor;
  /** [N, L, S] averaged over heads, [N, heads, L, S] per head, or null. */
  readonly weights: Tensor | null;
};

function outputPair(output: Tensor, weights: Tensor | null): AttentionOutput {
  const r = [output, weights];
  Object.defineProperty(r, "output", { value: output });
  Object.defineProperty(r, "weights", { value: weights });
  return Object.freeze(r) as unknown as AttentionOutput;
}

/** Options of `MultiheadAttention` (torch's keyword arguments). */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Learned `bias_k`, `bias_v` appended to the key and value sequences (default false). */
  addBiasKv?: boolean;
  /** A zero key and value appended to the sequences (default false). */
  addZeroAttn?: boolean;
  /** Key features (default embedDim; another size gives separate q/k/v weights). */
  kdim?: number | null;
  /** Value features (default embedDim). */
  vdim?: number | null;
  /** Inputs and output are [N, seq, E] instead of [seq, N, E] (default false). */
  batchFirst?: boolean;
}

/** Options of `MultiheadAttention.forward` (torch's keyword arguments). */
export interface MultiheadAttentionForwardOptions {
  /** [N, S] ([S] unbatched): int32, nonzero = that key is padding (ignored); or float32, added. */
  keyPaddingMask?: Tensor | null;
  /** Return the attention weights too (default true). */
  needWeights?: boolean;
  /**
   * [L, S] or [N * heads, L, S] ([heads, L, S] unbatched): int32, nonzero =
   * may not attend (torch's bool mask); or float32, added to the scores.
   */
  attnMask?: Tensor | null;
  /** Average the weights over heads (default true), else [N, heads, L, S]. */
  averageAttnWeights?: boolean;
}

const NEW_MHA: CallContract<MultiheadAttentionOptions> = {
  where: "nn.MultiheadAttention",
  most: 3,
  known: ["dropout", "bias", "addBiasKv", "addZeroAttn", "kdim", "vdim", "batchFirst"],
  usage: "new nn.MultiheadAttention(768, 12, { dropout: 0.1, batchFirst: true })",
};

const FORWARD: CallContract<MultiheadAttentionForwardOptions> = {
  where: "nn.MultiheadAttention.forward",
  most: 4,
  known: ["keyPaddingMask", "needWeights", "attnMask", "averageAttnWeights"],
  usage: "mha.forward(x, x, x, { needWeights: false, keyPaddingMask: pad.int() })",
};

function flag(where: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") throw new Error(`${where}: ${name} must be a boolean, got ${v}`);
  return v;
}

function size(where: string, name: string, v: unknown, usage: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    const got = typeof v === "object" ? JSON.stringify(v) : String(v);
    throw new Error(`${where}: ${name} must be a positive integer, got ${got}; write ${usage}`);
  }
  return v as number;
}

const empty = (shape: number[]) => Tensor.empty(shape, "float32", "cpu", false);

/**
 * Multi-head attention (Vaswani et al.), as `torch.nn.MultiheadAttention`:
 * `forward(query, key, value, options)` projects the three, attends per
 * head (softmax(q k^T / sqrt(headDim) + mask) v) and projects back. Shapes:
 * query [L, N, E], key [S, N, kdim], value [S, N, vdim] ([N, L, E] ... with
 * `batchFirst`; [L, E], [S, kdim], [S, vdim] unbatched). Parameters and
 * their initialisation are torch's: `in_proj_weight` [3E, E] (or
 * `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when kdim or vdim
 * differs from E) xavier-uniform, `in_proj_bias` [3E] and `out_proj.bias`
 * zero, `out_proj` a Linear(E, E), `bias_k`, `bias_v` [1, 1, E]
 * xavier-normal with `addBiasKv`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const mha = new nn.MultiheadAttention(8, 2, { batchFirst: true });
 * const x = randn([3, 5, 8]);
 * const [out, weights] = mha.forward(x, x, x);
 * console.log(out.shape, weights!.shape); // [3, 5, 8] [3, 5, 5]
 * console.log([...mha.stateDict().keys()]); // ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
 * ```
 */
export class MultiheadAttention extends Module {
  /** [3E, E] packed q, k, v projections, or null with separate ones. */
  in_proj_weight: Parameter | null = null;
  /** [E, E], when kdim or vdim differs from E. */
  q_proj_weight: Parameter | null = null;
  /** [E, kdim], when kdim or vdim differs from E. */
  k_proj_weight: Parameter | null = null;
  /** [E, vdim], when kdim or vdim differs from E. */
  v_proj_weight: Parameter | null = null;
  /** [3E], or null without bias. */
  in_proj_bias: Parameter | null = null;
  /** [1, 1, E] with `addBiasKv`. */
  bias_k: Parameter | null = null;
  /** [1, 1, E] with `addBiasKv`. */
  bias_v: Parameter | null = null;
  /** The output projection, Linear(E, E). */
  out_proj: Linear;
  /** E, the query and output features. */
  readonly embedDim: number;
  /** Key features. */
  readonly kdim: number;
  /** Value features. */
  readonly vdim: number;
  /** Heads; each sees embedDim / numHeads features. */
  readonly numHeads: number;
  /** embedDim / numHeads. */
  readonly headDim: number;
  /** Dropout probability on the attention weights in training. */
  dropout: number;
  /** Whether inputs and output are [N, seq, E]. */
  readonly batchFirst: boolean;
  /** Whether a zero key and value are appended. */
  readonly addZeroAttn: boolean;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    const o = checkContract(NEW_MHA, arguments.length, options);
    const { where, usage } = NEW_MHA;
    this.embedDim = size(where, "embedDim", embedDim, usage);
    this.numHeads = size(where, "numHeads", numHeads, usage);
    if (embedDim % numHeads !== 0) {
      throw new Error(
        `${where}: embedDim ${embedDim} must be divisible by numHeads ${numHeads} (each head ` +
          "gets embedDim / numHeads features)",
      );
    }
    this.headDim = embedDim / numHeads;
    this.kdim = o.kdim == null ? embedDim : size(where, "kdim", o.kdim, usage);
    this.vdim = o.vdim == null ? embedDim : size(where, "vdim", o.vdim, usage);
    const p = o.dropout ?? 0;
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(`${where}: dropout must be in [0, 1], got ${JSON.stringify(p)}`);
    }
    this.dropout = p;
    this.batchFirst = flag(where, "batchFirst", o.batchFirst, false);
    this.addZeroAttn = flag(where, "addZeroAttn", o.addZeroAttn, false);
    const bias = flag(where, "bias", o.bias, true);
    const E = embedDim;
    // torch's order of random draws: out_proj's Linear init, then _reset_parameters.
    this.out_proj = new Linear(E, E, { bias });
    if (this.kdim === E && this.vdim === E) {
      this.in_proj_weight = new Parameter(xavierUniform_(empty([3 * E, E])));
    } else {
      this.q_proj_weight = new Parameter(xavierUniform_(empty([E, E])));
      this.k_proj_weight = new Parameter(xavierUniform_(empty([E, this.kdim])));
      this.v_proj_weight = new Parameter(xavierUniform_(empty([E, this.vdim])));
    }
    if (bias) {
      this.in_proj_bias = new Parameter(constant_(empty([3 * E]), 0));
      constant_(this.out_proj.bias!, 0);
    }
    if (flag(where, "addBiasKv", o.addBiasKv, false)) {
      this.bias_k = new Parameter(xavierNormal_(empty([1, 1, E])));
      this.bias_v = new Parameter(xavierNormal_(empty([1, 1, E])));
    }
  }

  /**
   * Attends from `query` to `key`/`value`; returns torch's (output,
   * weights). Self-attention passes one tensor three times (`forward(x, x, x)`).
   */
  override forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    options: MultiheadAttentionForwardOptions = {},
  ): AttentionOutput {
    const o = checkContract(FORWARD, arguments.length, options);
    const where = FORWARD.where, E = this.embedDim, H = this.numHeads, D = this.headDim;
    const needWeights = flag(where, "needWeights", o.needWeights, true);
    const average = flag(where, "averageAttnWeights", o.averageAttnWeights, true);
    const batched = query?.ndim === 3;
    const sizes = [
      ["query", query, E, "embedDim"],
      ["key", key, this.kdim, "kdim"],
      ["value", value, this.vdim, "vdim"],
    ] as const;
    for (const [name, t, want, opt] of sizes) {
      expectTensor(t, `${where}: ${name}`, "mha.forward(query, key, value) (x, x, x: self)");
      if (t.ndim !== (batched ? 3 : 2) || t.shape[t.ndim - 1] !== want) {
        const seqs = this.batchFirst ? "N, seq" : "seq, N";
        throw new Error(
          `${where}: ${name} must be [${seqs}, ${opt}] (batched) or [seq, ${opt}] (unbatched) ` +
            `with ${opt} = ${want}, got query [${query.shape}], ${name} [${t.shape}]`,
        );
      }
    }
    // Seq-first inside, as torch; identity kept so self-attention projects once.
    const first = (t: Tensor) =>
      batched ? (this.batchFirst ? t.transpose(0, 1) : t) : t.unsqueeze(1);
    const q = first(query);
    const k = key === query ? q : first(key);
    const v = value === key ? k : value === query ? q : first(value);
    const [L, N] = q.shape, S0 = k.shape[0];
    if (k.shape[1] !== N || v.shape[1] !== N || v.shape[0] !== S0) {
      throw new Error(
        `${where}: query [${query.shape}], key [${key.shape}] and value [${value.shape}] must ` +
          `share the batch size, and key and value the sequence length (batchFirst: ${this.batchFirst})`,
      );
    }
    const separate = [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight];
    let [qp, kp, vp] = inProjection(q, k, v, this.in_proj_weight, this.in_proj_bias, separate);
    const extra = (this.bias_k ? 1 : 0) + (this.addZeroAttn ? 1 : 0), S = S0 + extra;
    const mask = mhaMask(o.attnMask, o.keyPaddingMask, { batched, N, H, L, S: S0, extra, query });
    if (this.bias_k && this.bias_v) {
      [kp, vp] = [cat([kp, this.bias_k.repeat(1, N, 1)]), cat([vp, this.bias_v.repeat(1, N, 1)])];
    }
    // [seq, N, E] -> [N * H, seq, D]
    const heads = (t: Tensor) => t.reshape(t.shape[0], N * H, D).transpose(0, 1);
    [qp, kp, vp] = [qp, kp, vp].map(heads);
    if (this.addZeroAttn) [kp, vp] = [kp, vp].map((t) => appendZeros(t, 1, 1));
    const p = this.training ? this.dropout : 0;
    const { output, weights } = attend(qp, kp, vp, mask, p, null);
    const merged = output.transpose(0, 1).reshape(L * N, E); // [L * N, E], as torch
    let out = linear(merged, this.out_proj.weight, this.out_proj.bias).reshape(L, N, E);
    let w: Tensor | null = null;
    if (needWeights) {
      w = weights.reshape(N, H, L, S);
      if (average) w = w.sum(1).div(H);
      if (!batched) w = w.squeeze(0);
    }
    if (!batched) out = out.squeeze(1);
    else if (this.batchFirst) out = out.transpose(0, 1);
    return outputPair(out, w);
  }
}

// torch's attribute names that this class spells in camelCase.
addNameHints(MultiheadAttention.prototype, "nn.MultiheadAttention", {
  embed_dim: "write mha.embedDim",
  num_heads: "write mha.numHeads",
  head_dim: "write mha.headDim",
  batch_first: "write mha.batchFirst",
  add_zero_attn: "write mha.addZeroAttn",
  _qkv_same_embed_dim: "write mha.in_proj_weight !== null",
});
