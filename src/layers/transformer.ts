/**
 * `Transformer`, as torch 1.13's `torch.nn.Transformer`: an encoder stack
 * and a decoder stack, each ending in a LayerNorm, under torch's names
 * (`encoder.layers.0.self_attn.in_proj_weight`, `decoder.norm.weight`), so
 * torch's state dict loads unchanged; and `generateSquareSubsequentMask`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import type { DeviceName } from "../tensor/device.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";
import { LayerNorm } from "./norm_layers.ts";
import { xavierUniform_ } from "./init.ts";
import { noGrad } from "../tensor/autograd.ts";
import { LAYER_OPTIONS, layerConfig, type TransformerLayerOptions } from "./transformer_common.ts";
import { TransformerEncoder, TransformerEncoderLayer } from "./transformer_encoder.ts";
import {
  decoderMasks,
  TransformerDecoder,
  type TransformerDecoderForwardOptions,
  TransformerDecoderLayer,
} from "./transformer_decoder.ts";

/** Options of `Transformer` (torch's keyword arguments, camelCase). */
export interface TransformerOptions extends TransformerLayerOptions {
  /** Features of every input and output (default 512). */
  dModel?: number;
  /** Attention heads (default 8). */
  nhead?: number;
  /** Encoder layers (default 6). */
  numEncoderLayers?: number;
  /** Decoder layers (default 6). */
  numDecoderLayers?: number;
  /** A module used as the encoder instead of the stack: forward(src, mask, srcKeyPaddingMask). */
  customEncoder?: Module | null;
  /** A module used as the decoder: forward(tgt, memory, { tgtMask, ... }). */
  customDecoder?: Module | null;
}

/** Options of `Transformer.forward` (torch's keyword arguments). */
export interface TransformerForwardOptions extends TransformerDecoderForwardOptions {
  /** [S, S] or [N * nhead, S, S], the encoder's self-attention mask. */
  srcMask?: Tensor | null;
  /** [N, S] ([S] unbatched): nonzero = padding, in the encoder. */
  srcKeyPaddingMask?: Tensor | null;
}

const NEW: CallContract<TransformerOptions> = {
  where: "nn.Transformer",
  most: 1,
  known: [
    "dModel",
    "nhead",
    "numEncoderLayers",
    "numDecoderLayers",
    ...LAYER_OPTIONS,
    "customEncoder",
    "customDecoder",
  ],
  usage: "new nn.Transformer({ dModel: 512, nhead: 8, numEncoderLayers: 6, batchFirst: true })",
};

const FORWARD: CallContract<TransformerForwardOptions> = {
  where: "nn.Transformer.forward",
  most: 3,
  known: [
    "srcMask",
    "tgtMask",
    "memoryMask",
    "srcKeyPaddingMask",
    "tgtKeyPaddingMask",
    "memoryKeyPaddingMask",
  ],
  usage: "model.forward(src, tgt, { tgtMask: nn.Transformer.generateSquareSubsequentMask(T) })",
};

/**
 * The encoder-decoder transformer of "Attention Is All You Need", as
 * `torch.nn.Transformer`: `encoder` (TransformerEncoder with a final
 * LayerNorm) reads src, `decoder` (TransformerDecoder with a final
 * LayerNorm) reads tgt and the encoder's output. Every weight matrix is
 * initialised xavier-uniform, as torch's `_reset_parameters`. Options are
 * torch's keywords in one object (torch's positional order has no
 * counterpart); masks go in the forward's options object.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const model = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 16 });
 * const src = randn([6, 3, 8]), tgt = randn([4, 3, 8]);
 * const tgtMask = nn.Transformer.generateSquareSubsequentMask(4);
 * console.log(model.forward(src, tgt, { tgtMask }).shape); // [4, 3, 8]
 * ```
 */
export class Transformer extends Module {
  /** The encoder (a TransformerEncoder, or customEncoder). */
  encoder: Module;
  /** The decoder (a TransformerDecoder, or customDecoder). */
  decoder: Module;
  /** Features of inputs and output. */
  readonly dModel: number;
  /** Attention heads. */
  readonly nhead: number;
  /** Whether src and tgt are [N, seq, dModel]. */
  readonly batchFirst: boolean;

  constructor(options: TransformerOptions = {}) {
    super();
    if (typeof options === "number") {
      throw new Error(
        `nn.Transformer: takes one options object (torch's keywords), got the number ` +
          `${options}; write ${NEW.usage}`,
      );
    }
    const o = checkContract(NEW, arguments.length, options);
    const { where, usage } = NEW;
    const dModel = o.dModel ?? 512, nhead = o.nhead ?? 8;
    const c = layerConfig(where, dModel, nhead, o, usage);
    const layerOptions: TransformerLayerOptions = { ...c };
    for (const k of ["customEncoder", "customDecoder"] as const) {
      if (o[k] != null && !(o[k] instanceof Module)) {
        throw new Error(`${where}: ${k} must be a module or null`);
      }
    }
    const norm = () => new LayerNorm(dModel, { eps: c.layerNormEps });
    this.encoder = o.customEncoder ??
      new TransformerEncoder(
        new TransformerEncoderLayer(dModel, nhead, layerOptions),
        o.numEncoderLayers ?? 6,
        { norm: norm() },
      );
    this.decoder = o.customDecoder ??
      new TransformerDecoder(
        new TransformerDecoderLayer(dModel, nhead, layerOptions),
        o.numDecoderLayers ?? 6,
        { norm: norm() },
      );
    // torch's _reset_parameters: every parameter of two or more dimensions.
    noGrad(() => {
      for (const p of this.parameters()) if (p.ndim > 1) xavierUniform_(p);
    });
    this.dModel = dModel;
    this.nhead = nhead;
    this.batchFirst = c.batchFirst;
  }

  /**
   * Encodes src and decodes tgt against it; returns tgt's shape. src
   * [S, N, dModel], tgt [T, N, dModel] ([N, S, dModel], [N, T, dModel] with
   * batchFirst; unbatched [S, dModel], [T, dModel]).
   */
  override forward(src: Tensor, tgt: Tensor, options: TransformerForwardOptions = {}): Tensor {
    const o = checkContract(FORWARD, arguments.length, options);
    const where = FORWARD.where;
    const dims: [number, number] = [this.dModel, this.nhead];
    // The decoder's masks against the shapes first, so a wrong mask names its argument.
    decoderMasks(where, dims, this.batchFirst, tgt, src, [{
      tgtMask: o.tgtMask ?? null,
      memoryMask: o.memoryMask ?? null,
      tgtKeyPaddingMask: o.tgtKeyPaddingMask ?? null,
      memoryKeyPaddingMask: o.memoryKeyPaddingMask ?? null,
    }]);
    const memory = this.encoder.forward(src, o.srcMask ?? null, o.srcKeyPaddingMask ?? null);
    return this.decoder.forward(tgt, memory, {
      tgtMask: o.tgtMask ?? null,
      memoryMask: o.memoryMask ?? null,
      tgtKeyPaddingMask: o.tgtKeyPaddingMask ?? null,
      memoryKeyPaddingMask: o.memoryKeyPaddingMask ?? null,
    });
  }

  /**
   * torch's `Transformer.generate_square_subsequent_mask(sz)`: the float32
   * [sz, sz] mask with -Infinity above the diagonal and 0 elsewhere, so
   * position i attends to positions 0..i only (a causal mask).
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * console.log(nn.Transformer.generateSquareSubsequentMask(3).toList()); // [[0, -Infinity, -Infinity], [0, 0, -Infinity], [0, 0, 0]]
   * ```
   */
  static generateSquareSubsequentMask(sz: number, device: DeviceName = "cpu"): Tensor {
    if (!Number.isInteger(sz) || sz < 0) {
      throw new Error(
        `nn.Transformer.generateSquareSubsequentMask: sz must be an integer >= 0, got ${sz}`,
      );
    }
    const v = new Float32Array(sz * sz);
    for (let i = 0; i < sz; i++) for (let j = i + 1; j < sz; j++) v[i * sz + j] = -Infinity;
    return fromHost(v, [sz, sz], { device });
  }
}

addNameHints(Transformer.prototype, "nn.Transformer", {
  d_model: "write model.dModel",
  batch_first: "write model.batchFirst",
});
Object.defineProperty(Transformer, "generate_square_subsequent_mask", {
  get() {
    throw new Error(
      "nn.Transformer has no .generate_square_subsequent_mask: write " +
        "nn.Transformer.generateSquareSubsequentMask(sz)",
    );
  },
});
