/**
 * The Transformer encoder of the Vision Transformer (Dosovitskiy et al.,
 * "An Image is Worth 16x16 Words", ICLR 2021), as torchvision 0.14 writes
 * it: `MLPBlock` (Linear, GELU, Dropout, Linear, Dropout), `EncoderBlock`
 * (pre-norm self-attention and MLP, each with a residual) and `Encoder`
 * (learned position embedding, the blocks, a final LayerNorm). Names are
 * torchvision's (`encoder.layers.encoder_layer_0.self_attention.in_proj_weight`,
 * `encoder.layers.encoder_layer_0.mlp.3.bias`), so its state dicts load unchanged.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { Module, Parameter } from "../layers/module.ts";
import { Dropout } from "../layers/basic.ts";
import { GELU } from "../layers/activation.ts";
import { Linear } from "../layers/linear.ts";
import { LayerNorm } from "../layers/norm_layers.ts";
import { Sequential } from "../layers/sequential.ts";
import { MultiheadAttention } from "../layers/attention.ts";
import { normal_, xavierUniform_ } from "../layers/init.ts";

/**
 * torchvision's `MLPBlock._load_from_state_dict`: weights saved before its
 * MLP became an `MLP` (torchvision's published ViT ImageNet files) name the
 * Linears `mlp.linear_1` and `mlp.linear_2`, which are `mlp.0` and `mlp.3`.
 */
const LEGACY_MLP = /^(.*encoder_layer_\d+\.mlp)\.linear_([12])\.(weight|bias)$/;

/** @internal `key` under today's name when it is a legacy ViT MLP name, else null. */
export function legacyMlpKey(key: string): string | null {
  const m = LEGACY_MLP.exec(key);
  return m ? `${m[1]}.${m[2] === "1" ? 0 : 3}.${m[3]}` : null;
}

/** torchvision's ViT norm layer: `partial(nn.LayerNorm, eps=1e-6)`. */
const layerNorm = (dim: number) => new LayerNorm(dim, { eps: 1e-6 });

/** Throws unless `x` is [N, seq, hidden], as torchvision's `torch._assert`. */
function checkTokens(where: string, x: Tensor, hidden: number): void {
  if (!(x instanceof Tensor) || x.ndim !== 3 || x.shape[2] !== hidden) {
    const got = x instanceof Tensor ? `[${x.shape}]` : String(x);
    throw new Error(
      `${where}: expected tokens [batch, seq, ${hidden}] (batch first), got ${got}; a ` +
        "VisionTransformer makes them from images [N, C, H, W] with its conv_proj",
    );
  }
}

/**
 * The MLP of an encoder block: Linear(inDim, mlpDim), GELU, Dropout,
 * Linear(mlpDim, inDim), Dropout, named "0" to "4" as torchvision's `MLP`
 * (`mlp.0.weight`, `mlp.3.bias`). Linear weights xavier-uniform, biases
 * N(0, 1e-6^2), as torchvision's `MLPBlock`.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const mlp = new models.MLPBlock(16, 32, 0);
 * console.log(mlp.forward(randn([2, 5, 16])).shape, [...mlp.stateDict().keys()][2]); // [2, 5, 16] "3.weight"
 * ```
 */
export class MLPBlock extends Sequential {
  constructor(inDim: number, mlpDim: number, dropout: number) {
    super(
      new Linear(inDim, mlpDim),
      new GELU(),
      new Dropout(dropout),
      new Linear(mlpDim, inDim),
      new Dropout(dropout),
    );
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        xavierUniform_(m.weight);
        if (m.bias) normal_(m.bias, 0, 1e-6);
      }
    }
  }
}

/**
 * One Transformer encoder block, pre-norm: `x = input + dropout(attn(ln_1(input)))`,
 * then `x + mlp(ln_2(x))`. `self_attention` is an `nn.MultiheadAttention`
 * with `batchFirst` and the attention dropout; LayerNorms have eps 1e-6.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const block = new models.EncoderBlock(2, 16, 32, 0, 0);
 * console.log(block.forward(randn([3, 5, 16])).shape); // [3, 5, 16]
 * ```
 */
export class EncoderBlock extends Module {
  /** LayerNorm before the attention. */
  ln_1: LayerNorm;
  /** Multi-head self-attention (batch first). */
  self_attention: MultiheadAttention;
  /** Dropout on the attention's output. */
  dropout: Dropout;
  /** LayerNorm before the MLP. */
  ln_2: LayerNorm;
  /** The MLP. */
  mlp: MLPBlock;
  /** Heads of the attention. */
  readonly numHeads: number;

  constructor(
    numHeads: number,
    hiddenDim: number,
    mlpDim: number,
    dropout: number,
    attentionDropout: number,
  ) {
    super();
    this.numHeads = numHeads;
    this.ln_1 = layerNorm(hiddenDim);
    this.self_attention = new MultiheadAttention(hiddenDim, numHeads, {
      dropout: attentionDropout,
      batchFirst: true,
    });
    this.dropout = new Dropout(dropout);
    this.ln_2 = layerNorm(hiddenDim);
    this.mlp = new MLPBlock(hiddenDim, mlpDim, dropout);
  }

  /** Tokens [N, seq, hidden] -> [N, seq, hidden]. */
  forward(input: Tensor): Tensor {
    checkTokens("EncoderBlock", input, this.self_attention.embedDim);
    let x = this.ln_1.forward(input);
    x = this.self_attention.forward(x, x, x, { needWeights: false }).output;
    x = this.dropout.forward(x).add(input);
    const y = this.mlp.forward(this.ln_2.forward(x));
    return x.add(y);
  }
}

/**
 * The encoder: adds the learned `pos_embedding` [1, seqLength, hidden]
 * (N(0, 0.02^2) at first, as BERT), dropout, the blocks (`layers`, named
 * `encoder_layer_0`, `encoder_layer_1`, ...), and a last LayerNorm `ln`.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const encoder = new models.Encoder(5, 2, 2, 16, 32, 0, 0);
 * console.log(encoder.forward(randn([3, 5, 16])).shape); // [3, 5, 16]
 * console.log([...encoder.stateDict().keys()][1]); // "layers.encoder_layer_0.ln_1.weight"
 * ```
 */
export class Encoder extends Module {
  /** Learned position embedding [1, seqLength, hidden]. */
  pos_embedding: Parameter;
  /** Dropout after adding the position embedding. */
  dropout: Dropout;
  /** The encoder blocks, `encoder_layer_0` ... */
  layers: Sequential;
  /** The last LayerNorm. */
  ln: LayerNorm;

  constructor(
    seqLength: number,
    numLayers: number,
    numHeads: number,
    hiddenDim: number,
    mlpDim: number,
    dropout: number,
    attentionDropout: number,
  ) {
    super();
    const pos = Tensor.empty([1, seqLength, hiddenDim], "float32", "cpu", false);
    this.pos_embedding = new Parameter(normal_(pos, 0, 0.02));
    this.dropout = new Dropout(dropout);
    const blocks = new Map<string, Module>();
    for (let i = 0; i < numLayers; i++) {
      blocks.set(
        `encoder_layer_${i}`,
        new EncoderBlock(numHeads, hiddenDim, mlpDim, dropout, attentionDropout),
      );
    }
    this.layers = new Sequential(blocks);
    this.ln = layerNorm(hiddenDim);
  }

  /** Tokens [N, seqLength, hidden] -> [N, seqLength, hidden]. */
  forward(input: Tensor): Tensor {
    const [, seq, hidden] = this.pos_embedding.shape;
    checkTokens("Encoder", input, hidden);
    if (input.shape[1] !== seq) {
      throw new Error(
        `Encoder: ${
          input.shape[1]
        } tokens do not fit pos_embedding [${this.pos_embedding.shape}] ` +
          `(${seq} positions: the patches of the image size the model was built for, plus the ` +
          "class token)",
      );
    }
    const x = this.dropout.forward(input.add(this.pos_embedding));
    return this.ln.forward(this.layers.forward(x));
  }
}
