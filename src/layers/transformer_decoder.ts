/**
 * `TransformerDecoderLayer` and `TransformerDecoder`, as torch 1.13's
 * `torch.nn` ones: the same submodules under the same names (so torch's
 * state dict, `layers.0.multihead_attn.in_proj_weight` ..., loads
 * unchanged), the same options, masks, dropout and numbers.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";
import { Linear } from "./linear.ts";
import { Dropout } from "./basic.ts";
import { LayerNorm } from "./norm_layers.ts";
import { MultiheadAttention } from "./attention.ts";
import type { ModuleList } from "./containers.ts";
import {
  activationFn,
  checkAttnMask,
  checkPaddingMask,
  checkSequence,
  cloneLayers,
  LAYER_OPTIONS,
  type LayerConfig,
  layerConfig,
  maskArgs,
  sharedActivation,
  type TransformerActivation,
  type TransformerLayerOptions,
} from "./transformer_common.ts";

/** Options of the decoder's forward (torch's keyword arguments). */
export interface TransformerDecoderForwardOptions {
  /** [T, T] or [N * nhead, T, T]: int32, nonzero = may not attend; or float32, added. */
  tgtMask?: Tensor | null;
  /** [T, S] or [N * nhead, T, S], on the attention to memory. */
  memoryMask?: Tensor | null;
  /** [N, T] ([T] unbatched): int32, nonzero = padding; or float32, added. */
  tgtKeyPaddingMask?: Tensor | null;
  /** [N, S] ([S] unbatched): int32, nonzero = padding; or float32, added. */
  memoryKeyPaddingMask?: Tensor | null;
}

/** torch's order of the decoder's masks after (tgt, memory). */
export const DECODER_MASKS = [
  "tgtMask",
  "memoryMask",
  "tgtKeyPaddingMask",
  "memoryKeyPaddingMask",
] as const;

const NEW_LAYER: CallContract<TransformerLayerOptions> = {
  where: "nn.TransformerDecoderLayer",
  most: 3,
  known: LAYER_OPTIONS,
  usage: "new nn.TransformerDecoderLayer(512, 8, { dimFeedforward: 2048, batchFirst: true })",
};

/**
 * Self-attention over tgt, attention from tgt to memory, and a
 * feed-forward network, each in a residual branch with dropout and layer
 * norm, as `torch.nn.TransformerDecoderLayer` (post-norm, or pre-norm with
 * `normFirst`). tgt [T, N, dModel] and memory [S, N, dModel] ([N, T, dModel]
 * and [N, S, dModel] with `batchFirst`; unbatched [T, dModel], [S, dModel]).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
 * const tgt = randn([4, 3, 8]), memory = randn([6, 3, 8]);
 * const causal = nn.Transformer.generateSquareSubsequentMask(4);
 * console.log(layer.forward(tgt, memory, { tgtMask: causal }).shape); // [4, 3, 8]
 * console.log([...layer.stateDict().keys()][4]); // "multihead_attn.in_proj_weight"
 * ```
 */
export class TransformerDecoderLayer extends Module {
  /** Self-attention over tgt. */
  self_attn: MultiheadAttention;
  /** Attention from tgt to memory. */
  multihead_attn: MultiheadAttention;
  /** Feed-forward in, dModel -> dimFeedforward. */
  linear1: Linear;
  /** Dropout inside the feed-forward network. */
  dropout: Dropout;
  /** Feed-forward out, dimFeedforward -> dModel. */
  linear2: Linear;
  /** The norm of the self-attention branch. */
  norm1: LayerNorm;
  /** The norm of the memory-attention branch. */
  norm2: LayerNorm;
  /** The norm of the feed-forward branch. */
  norm3: LayerNorm;
  /** Dropout on the self-attention branch. */
  dropout1: Dropout;
  /** Dropout on the memory-attention branch. */
  dropout2: Dropout;
  /** Dropout on the feed-forward branch. */
  dropout3: Dropout;
  /** The feed-forward activation as given. */
  activation: TransformerActivation;
  /** Pre-norm (true) or post-norm. */
  readonly normFirst: boolean;
  /** Whether tgt and memory are [N, seq, dModel]. */
  readonly batchFirst: boolean;
  readonly #config: LayerConfig;
  readonly #dims: [number, number];

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const o = checkContract(NEW_LAYER, arguments.length, options);
    const c = layerConfig(NEW_LAYER.where, dModel, nhead, o, NEW_LAYER.usage);
    this.#config = c;
    this.#dims = [dModel, nhead];
    const mha = { dropout: c.dropout, batchFirst: c.batchFirst };
    this.self_attn = new MultiheadAttention(dModel, nhead, mha);
    this.multihead_attn = new MultiheadAttention(dModel, nhead, mha);
    this.linear1 = new Linear(dModel, c.dimFeedforward);
    this.dropout = new Dropout(c.dropout);
    this.linear2 = new Linear(c.dimFeedforward, dModel);
    this.normFirst = c.normFirst;
    this.norm1 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.norm3 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.dropout1 = new Dropout(c.dropout);
    this.dropout2 = new Dropout(c.dropout);
    this.dropout3 = new Dropout(c.dropout);
    this.activation = c.activation;
    this.batchFirst = c.batchFirst;
  }

  /** @internal a layer of the same configuration, fresh weights (TransformerDecoder's copies). */
  rebuild(): TransformerDecoderLayer {
    const activation = sharedActivation("nn.TransformerDecoder", this.activation);
    return new TransformerDecoderLayer(...this.#dims, { ...this.#config, activation });
  }

  /**
   * Runs the layer; masks as torch's, in place after (tgt, memory) in the
   * order tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, or
   * in an options object. Returns tgt's shape.
   */
  override forward(
    tgt: Tensor,
    memory: Tensor,
    ...masks: (Tensor | null | TransformerDecoderForwardOptions | undefined)[]
  ): Tensor {
    const where = "nn.TransformerDecoderLayer.forward";
    const m = decoderMasks(where, this.#dims, this.batchFirst, tgt, memory, masks);
    let x = tgt;
    if (this.normFirst) {
      x = x.add(this.#sa(this.norm1.forward(x), m.tgtMask, m.tgtKeyPaddingMask));
      x = x.add(this.#mha(this.norm2.forward(x), memory, m.memoryMask, m.memoryKeyPaddingMask));
      x = x.add(this.#ff(this.norm3.forward(x)));
    } else {
      x = this.norm1.forward(x.add(this.#sa(x, m.tgtMask, m.tgtKeyPaddingMask)));
      x = this.norm2.forward(
        x.add(this.#mha(x, memory, m.memoryMask, m.memoryKeyPaddingMask)),
      );
      x = this.norm3.forward(x.add(this.#ff(x)));
    }
    return x;
  }

  #sa(x: Tensor, attnMask: Tensor | null, keyPaddingMask: Tensor | null): Tensor {
    const [out] = this.self_attn.forward(x, x, x, { attnMask, keyPaddingMask, needWeights: false });
    return this.dropout1.forward(out);
  }

  #mha(x: Tensor, mem: Tensor, attnMask: Tensor | null, keyPaddingMask: Tensor | null): Tensor {
    const [out] = this.multihead_attn.forward(x, mem, mem, {
      attnMask,
      keyPaddingMask,
      needWeights: false,
    });
    return this.dropout2.forward(out);
  }

  #ff(x: Tensor): Tensor {
    const h = activationFn("nn.TransformerDecoderLayer.forward", this.activation)(
      this.linear1.forward(x),
    );
    return this.dropout3.forward(this.linear2.forward(this.dropout.forward(h)));
  }
}

/** @internal reads and checks the decoder's four masks against tgt [T] and memory [S]. */
export function decoderMasks(
  where: string,
  [E, H]: [number, number],
  batchFirst: boolean,
  tgt: Tensor,
  memory: Tensor,
  rest: unknown[],
): Record<(typeof DECODER_MASKS)[number], Tensor | null> {
  const usage = "forward(tgt, memory, { tgtMask: causal, tgtKeyPaddingMask: pad.int() })";
  const m = maskArgs(where, DECODER_MASKS, rest, usage);
  const t = checkSequence(where, "tgt", tgt, E, batchFirst);
  const s = checkSequence(where, "memory", memory, E, batchFirst);
  if (t.batched !== s.batched || t.N !== s.N) {
    throw new Error(
      `${where}: tgt [${tgt.shape}] and memory [${memory.shape}] must both be batched with ` +
        `the same batch size, or both unbatched (batchFirst: ${batchFirst})`,
    );
  }
  const { batched, N } = t;
  checkAttnMask(where, "tgtMask", m.tgtMask, { batched, N, H, L: t.seq, S: t.seq });
  checkAttnMask(where, "memoryMask", m.memoryMask, { batched, N, H, L: t.seq, S: s.seq });
  checkPaddingMask(where, "tgtKeyPaddingMask", m.tgtKeyPaddingMask, { batched, N, S: t.seq });
  checkPaddingMask(where, "memoryKeyPaddingMask", m.memoryKeyPaddingMask, {
    batched,
    N,
    S: s.seq,
  });
  return m as Record<(typeof DECODER_MASKS)[number], Tensor | null>;
}

/** Options of `TransformerDecoder`. */
export interface TransformerDecoderOptions {
  /** A module applied to the last layer's output (torch's `norm`). */
  norm?: Module | null;
}

const NEW_DECODER: CallContract<TransformerDecoderOptions> = {
  where: "nn.TransformerDecoder",
  most: 3,
  known: ["norm"],
  usage: "new nn.TransformerDecoder(layer, 6, { norm: new nn.LayerNorm(512) })",
};

/**
 * A stack of `numLayers` copies of a decoder layer (each starting as the
 * layer is now, as torch's deep copies), then `norm` if given, as
 * `torch.nn.TransformerDecoder`. Every layer gets the same memory and masks.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const layer = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
 * const decoder = new nn.TransformerDecoder(layer, 2);
 * console.log(decoder.forward(randn([3, 4, 8]), randn([3, 6, 8])).shape); // [3, 4, 8]
 * ```
 */
export class TransformerDecoder extends Module {
  /** The copies of the layer. */
  layers: ModuleList;
  /** Applied to the output, or null. */
  norm: Module | null;
  /** Number of layers. */
  readonly numLayers: number;

  constructor(
    decoderLayer: TransformerDecoderLayer,
    numLayers: number,
    options: TransformerDecoderOptions = {},
  ) {
    super();
    const o = checkContract(NEW_DECODER, arguments.length, options);
    this.layers = cloneLayers(NEW_DECODER.where, decoderLayer, numLayers, NEW_DECODER.usage);
    this.numLayers = numLayers;
    if (o.norm != null && !(o.norm instanceof Module)) {
      throw new Error(`${NEW_DECODER.where}: norm must be a module (nn.LayerNorm(dModel)) or null`);
    }
    this.norm = o.norm ?? null;
  }

  /** Runs tgt through the layers with memory, then `norm`; masks as the layer's forward. */
  override forward(
    tgt: Tensor,
    memory: Tensor,
    ...masks: (Tensor | null | TransformerDecoderForwardOptions | undefined)[]
  ): Tensor {
    const where = "nn.TransformerDecoder.forward";
    const first = this.layers[0] as TransformerDecoderLayer;
    const dims: [number, number] = [first.self_attn.embedDim, first.self_attn.numHeads];
    const m = decoderMasks(where, dims, first.batchFirst, tgt, memory, masks);
    let out = tgt;
    for (const layer of this.layers) {
      out = (layer as TransformerDecoderLayer).forward(out, memory, m);
    }
    return this.norm ? this.norm.forward(out) : out;
  }
}

addNameHints(TransformerDecoderLayer.prototype, "nn.TransformerDecoderLayer", {
  norm_first: "write layer.normFirst",
  batch_first: "write layer.batchFirst",
});
addNameHints(TransformerDecoder.prototype, "nn.TransformerDecoder", {
  num_layers: "write decoder.numLayers",
});
