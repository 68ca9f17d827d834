/**
 * `TransformerEncoderLayer` and `TransformerEncoder`, as torch 1.13's
 * `torch.nn` ones: the same submodules under the same names (so torch's
 * state dict, `layers.0.self_attn.in_proj_weight` ..., loads unchanged),
 * the same options, masks, dropout and numbers.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { where as select } from "../tensor/ops/where.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { autocastDtype } from "../tensor/autocast.ts";
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
  reluOrGelu,
  sharedActivation,
  type TransformerActivation,
  type TransformerLayerOptions,
} from "./transformer_common.ts";

/** Options of `TransformerEncoderLayer.forward` (torch's keyword arguments). */
export interface TransformerEncoderLayerForwardOptions {
  /** [S, S] or [N * nhead, S, S]: int32, nonzero = may not attend; or float32, added. */
  srcMask?: Tensor | null;
  /** [N, S] ([S] unbatched): int32, nonzero = that key is padding; or float32, added. */
  srcKeyPaddingMask?: Tensor | null;
}

const NEW_LAYER: CallContract<TransformerLayerOptions> = {
  where: "nn.TransformerEncoderLayer",
  most: 3,
  known: LAYER_OPTIONS,
  usage: "new nn.TransformerEncoderLayer(512, 8, { dimFeedforward: 2048, batchFirst: true })",
};

const LAYER_FORWARD = "layer.forward(src, { srcMask, srcKeyPaddingMask: pad.int() })";

/**
 * Self-attention and a feed-forward network, each in a residual branch with
 * dropout and layer norm (Vaswani et al.), as `torch.nn.TransformerEncoderLayer`:
 * post-norm `x = norm1(x + sa(x)); x = norm2(x + ff(x))`, or pre-norm with
 * `normFirst` (`x = x + sa(norm1(x)); x = x + ff(norm2(x))`), where ff is
 * `linear2(dropout(activation(linear1(x))))`. src is [S, N, dModel]
 * ([N, S, dModel] with `batchFirst`, [S, dModel] unbatched). Masks are
 * `nn.MultiheadAttention`'s: int32 as torch's bool mask (nonzero = masked
 * out), float32 added to the scores. torch's fast path (eval, no grad,
 * batchFirst) computes the same numbers, so there is one path here, with one
 * difference: that path of torch 1.13 reads a float32 key padding mask as a
 * boolean one (nonzero = padding), where its training path adds it. Here a
 * float32 mask is always added; with 0 / -Infinity masks the two agree.
 *
 * @example
 * ```ts
 * import { nn, randn, tensor } from "@lits/vision";
 * const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true });
 * const x = randn([3, 5, 8]);
 * const pad = tensor(new Int32Array([0, 0, 0, 1, 1]), [1, 5]).expand(3, 5).contiguous();
 * console.log(layer.forward(x, { srcKeyPaddingMask: pad }).shape); // [3, 5, 8]
 * const causal = nn.Transformer.generateSquareSubsequentMask(5);
 * console.log(layer(x, causal).shape); // [3, 5, 8]
 * console.log([...layer.stateDict().keys()][0]); // "self_attn.in_proj_weight"
 * ```
 */
export class TransformerEncoderLayer extends Module {
  /** Self-attention, nn.MultiheadAttention(dModel, nhead, { dropout, batchFirst }). */
  self_attn: MultiheadAttention;
  /** Feed-forward in, dModel -> dimFeedforward. */
  linear1: Linear;
  /** Dropout inside the feed-forward network. */
  dropout: Dropout;
  /** Feed-forward out, dimFeedforward -> dModel. */
  linear2: Linear;
  /** The norm of the attention branch. */
  norm1: LayerNorm;
  /** The norm of the feed-forward branch. */
  norm2: LayerNorm;
  /** Dropout on the attention branch. */
  dropout1: Dropout;
  /** Dropout on the feed-forward branch. */
  dropout2: Dropout;
  /** The feed-forward activation as given ("relu", "gelu" or a function). */
  activation: TransformerActivation;
  /** Pre-norm (true) or post-norm. */
  readonly normFirst: boolean;
  /** Whether src is [N, S, dModel]. */
  readonly batchFirst: boolean;
  readonly #config: LayerConfig;
  readonly #dims: [number, number];

  constructor(dModel: number, nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const o = checkContract(NEW_LAYER, arguments.length, options);
    const c = layerConfig(NEW_LAYER.where, dModel, nhead, o, NEW_LAYER.usage);
    this.#config = c;
    this.#dims = [dModel, nhead];
    // torch's order of construction (and of random draws).
    this.self_attn = new MultiheadAttention(dModel, nhead, {
      dropout: c.dropout,
      batchFirst: c.batchFirst,
    });
    this.linear1 = new Linear(dModel, c.dimFeedforward);
    this.dropout = new Dropout(c.dropout);
    this.linear2 = new Linear(c.dimFeedforward, dModel);
    this.normFirst = c.normFirst;
    this.norm1 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.norm2 = new LayerNorm(dModel, { eps: c.layerNormEps });
    this.dropout1 = new Dropout(c.dropout);
    this.dropout2 = new Dropout(c.dropout);
    this.activation = c.activation;
    this.batchFirst = c.batchFirst;
  }

  /** @internal a layer of the same configuration, fresh weights (TransformerEncoder's copies). */
  rebuild(): TransformerEncoderLayer {
    const activation = sharedActivation("nn.TransformerEncoder", this.activation);
    return new TransformerEncoderLayer(...this.#dims, { ...this.#config, activation });
  }

  /**
   * Runs the layer on src; masks as torch's: `forward(src, srcMask,
   * srcKeyPaddingMask)` in place, or `forward(src, { srcMask,
   * srcKeyPaddingMask })`. Same shape out.
   */
  override forward(
    src: Tensor,
    srcMask?: Tensor | null | TransformerEncoderLayerForwardOptions,
    srcKeyPaddingMask?: Tensor | null | TransformerEncoderLayerForwardOptions,
    options?: TransformerEncoderLayerForwardOptions,
  ): Tensor {
    const where = "nn.TransformerEncoderLayer.forward";
    const m = maskArgs(
      where,
      ["srcMask", "srcKeyPaddingMask"],
      [srcMask, srcKeyPaddingMask, options].slice(0, arguments.length - 1),
      LAYER_FORWARD,
    );
    const [E, H] = this.#dims;
    const s = checkSequence(where, "src", src, E, this.batchFirst);
    checkAttnMask(where, "srcMask", m.srcMask, { ...s, H, L: s.seq, S: s.seq });
    checkPaddingMask(where, "srcKeyPaddingMask", m.srcKeyPaddingMask, { ...s, S: s.seq });
    let x = src;
    if (this.normFirst) {
      x = x.add(this.#sa(this.norm1.forward(x), m.srcMask, m.srcKeyPaddingMask));
      x = x.add(this.#ff(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(x.add(this.#sa(x, m.srcMask, m.srcKeyPaddingMask)));
      x = this.norm2.forward(x.add(this.#ff(x)));
    }
    return x;
  }

  #sa(x: Tensor, attnMask: Tensor | null, keyPaddingMask: Tensor | null): Tensor {
    const [out] = this.self_attn.forward(x, x, x, { attnMask, keyPaddingMask, needWeights: false });
    return this.dropout1.forward(out);
  }

  #ff(x: Tensor): Tensor {
    const h = activationFn("nn.TransformerEncoderLayer.forward", this.activation)(
      this.linear1.forward(x),
    );
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(h)));
  }
}

/** Options of `TransformerEncoder`. */
export interface TransformerEncoderOptions {
  /** A module applied to the last layer's output (torch's `norm`, e.g. nn.LayerNorm(dModel)). */
  norm?: Module | null;
  /**
   * torch's nested-tensor fast path (default true). Its only visible effect
   * is torch's: in eval mode without gradients, with batchFirst, a key
   * padding mask and no `mask`, padded positions come out as zeros (before
   * `norm`); that is reproduced here, and false turns it off, as in torch.
   */
  enableNestedTensor?: boolean;
  /** Check that the padding mask is left-aligned before that path (default true), as torch's. */
  maskCheck?: boolean;
}

/** Options of `TransformerEncoder.forward` (torch's keyword arguments). */
export interface TransformerEncoderForwardOptions {
  /** torch's `mask`: [S, S] or [N * nhead, S, S]; int32 nonzero = may not attend, or float32 added. */
  mask?: Tensor | null;
  /** [N, S] ([S] unbatched): int32, nonzero = padding; or float32, added. */
  srcKeyPaddingMask?: Tensor | null;
}

const NEW_ENCODER: CallContract<TransformerEncoderOptions> = {
  where: "nn.TransformerEncoder",
  most: 3,
  known: ["norm", "enableNestedTensor", "maskCheck"],
  usage: "new nn.TransformerEncoder(layer, 6, { norm: new nn.LayerNorm(512) })",
};

const ENCODER_FORWARD = "encoder.forward(src, { mask, srcKeyPaddingMask: pad.int() })";

/**
 * A stack of `numLayers` copies of an encoder layer, then `norm` if given,
 * as `torch.nn.TransformerEncoder`: each copy starts as the layer is now
 * (torch's deep copies: its weights, modes and dropout), and they learn
 * apart (state-dict keys `layers.0.self_attn.in_proj_weight`, ...,
 * `norm.weight`).
 *
 * torch's `enable_nested_tensor` (default true) changes numbers in one case,
 * which is reproduced: in eval mode with no gradient to record (inside
 * `noGrad`, or nothing requires one), a batch-first post-norm encoder with
 * relu or gelu, an even nhead, a left-aligned `srcKeyPaddingMask` and no
 * `mask` gives zeros at padded positions (before `norm`), where the
 * plain computation gives values nothing should read. Everywhere else the
 * two paths agree, as in torch. The output keeps src's shape: torch 1.13
 * also trims the sequence to the longest unpadded row when every row pads
 * its last positions (pytorch#97111, fixed in torch 2.1), which is not copied.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
 * const encoder = new nn.TransformerEncoder(layer, 2, { norm: new nn.LayerNorm(8) });
 * console.log(encoder.forward(randn([5, 3, 8])).shape); // [5, 3, 8]
 * console.log([...encoder.stateDict().keys()].filter((k) => k.endsWith("linear1.weight"))); // ["layers.0.linear1.weight", "layers.1.linear1.weight"]
 * ```
 */
export class TransformerEncoder extends Module {
  /** The copies of the layer. */
  layers: ModuleList;
  /** Applied to the output, or null. */
  norm: Module | null;
  /** Number of layers. */
  readonly numLayers: number;
  /** torch's nested-tensor path (see the class doc). */
  enableNestedTensor: boolean;
  /** Whether that path first checks the padding mask is left-aligned. */
  maskCheck: boolean;

  constructor(
    encoderLayer: TransformerEncoderLayer,
    numLayers: number,
    options: TransformerEncoderOptions = {},
  ) {
    super();
    const o = checkContract(NEW_ENCODER, arguments.length, options);
    const { where, usage } = NEW_ENCODER;
    this.layers = cloneLayers(where, encoderLayer, numLayers, usage);
    this.numLayers = numLayers;
    if (o.norm != null && !(o.norm instanceof Module)) {
      throw new Error(`${where}: norm must be a module (nn.LayerNorm(dModel)) or null`);
    }
    this.norm = o.norm ?? null;
    for (const k of ["enableNestedTensor", "maskCheck"] as const) {
      if (o[k] !== undefined && typeof o[k] !== "boolean") {
        throw new Error(`${where}: ${k} must be a boolean, got ${o[k]}`);
      }
    }
    this.enableNestedTensor = o.enableNestedTensor ?? true;
    this.maskCheck = o.maskCheck ?? true;
  }

  /**
   * Runs src through the layers, then `norm`; masks as torch's:
   * `forward(src, mask, srcKeyPaddingMask)` or `forward(src, { mask,
   * srcKeyPaddingMask })`.
   */
  override forward(
    src: Tensor,
    mask?: Tensor | null | TransformerEncoderForwardOptions,
    srcKeyPaddingMask?: Tensor | null | TransformerEncoderForwardOptions,
    options?: TransformerEncoderForwardOptions,
  ): Tensor {
    const where = "nn.TransformerEncoder.forward";
    const m = maskArgs(
      where,
      ["mask", "srcKeyPaddingMask"],
      [mask, srcKeyPaddingMask, options].slice(0, arguments.length - 1),
      ENCODER_FORWARD,
    );
    const first = this.layers[0] as TransformerEncoderLayer;
    checkSequence(where, "src", src, first.self_attn.embedDim, first.batchFirst);
    let padMask = m.srcKeyPaddingMask;
    const padded = this.#nestedPadding(src, m.mask, padMask);
    // torch's nested path drops padded keys entirely: a boolean mask of them.
    if (padded) padMask = padded;
    let out = src;
    for (const layer of this.layers) {
      out = (layer as TransformerEncoderLayer).forward(out, {
        srcMask: m.mask,
        srcKeyPaddingMask: padMask,
      });
    }
    if (padded) out = select(padded.unsqueeze(-1), 0, out);
    return this.norm ? this.norm.forward(out) : out;
  }

  /**
   * The int32 padding mask [N, S] when torch 1.13 would take its nested
   * path (TransformerEncoder.forward's list of conditions, in its order),
   * else null.
   */
  #nestedPadding(src: Tensor, mask: Tensor | null, pad: Tensor | null): Tensor | null {
    const first = this.layers[0] as TransformerEncoderLayer;
    if (!(first instanceof TransformerEncoderLayer)) return null;
    const sa = first.self_attn;
    if (
      first.normFirst || first.training || !first.batchFirst || !reluOrGelu(first.activation) ||
      first.norm1.eps !== first.norm2.eps || src?.ndim !== 3 || !this.enableNestedTensor ||
      pad === null || mask !== null || sa.numHeads % 2 === 1 || autocastDtype() !== null
    ) return null;
    const tensors = [
      src,
      sa.in_proj_weight,
      sa.in_proj_bias,
      sa.out_proj.weight,
      sa.out_proj.bias,
      first.norm1.weight,
      first.norm1.bias,
      first.norm2.weight,
      first.norm2.bias,
      first.linear1.weight,
      first.linear1.bias,
      first.linear2.weight,
      first.linear2.bias,
    ];
    if (isGradEnabled() && tensors.some((t) => t?.requiresGrad)) return null;
    const [N, S] = [src.shape[0], src.shape[1]];
    checkPaddingMask("nn.TransformerEncoder.forward", "srcKeyPaddingMask", pad, {
      batched: true,
      N,
      S,
    });
    // torch: padded = logical_not(logical_not(mask)), i.e. nonzero, for a float mask too.
    const values = pad.toArray();
    const flags = new Int32Array(values.length);
    let aligned = true;
    for (let n = 0; n < N; n++) {
      for (let s = 0; s < S; s++) {
        flags[n * S + s] = values[n * S + s] !== 0 ? 1 : 0;
        if (s > 0 && flags[n * S + s] === 0 && flags[n * S + s - 1] === 1) aligned = false;
      }
    }
    if (!aligned) {
      if (this.maskCheck) return null;
      throw new Error(
        "nn.TransformerEncoder.forward: maskCheck is false and srcKeyPaddingMask is not " +
          "left-aligned (a padded position before a kept one); torch 1.13 would then read " +
          "the wrong positions in eval mode. Leave maskCheck true, or pad at the end",
      );
    }
    return fromHost(flags, [N, S], { device: src.device, dtype: "int32" }, true);
  }
}

// torch's attribute names that these classes spell in camelCase.
addNameHints(TransformerEncoderLayer.prototype, "nn.TransformerEncoderLayer", {
  norm_first: "write layer.normFirst",
  batch_first: "write layer.batchFirst",
  activation_relu_or_gelu: 'write layer.activation === "relu" || layer.activation === "gelu"',
});
addNameHints(TransformerEncoder.prototype, "nn.TransformerEncoder", {
  num_layers: "write encoder.numLayers",
  enable_nested_tensor: "write encoder.enableNestedTensor",
  mask_check: "write encoder.maskCheck",
});
