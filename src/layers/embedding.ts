/**
 * `Embedding`, as `torch.nn.Embedding`: a table of learned rows looked up
 * by int32 index, on `F.embedding`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import {
  checkEmbeddingOptions,
  embedding,
  EMBEDDING_OPTIONS,
  type EmbeddingOptions,
  paddingIndex,
} from "../tensor/ops/embedding.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { clone } from "../tensor/ops/shape.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Module, Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { normal_ } from "./init.ts";
import { checkCall } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `Embedding.fromPretrained`: the layer's, and `freeze`. */
export interface EmbeddingPretrainedOptions extends EmbeddingOptions {
  /** Keep the rows fixed (the weight's requiresGrad false); default true, as torch's. */
  freeze?: boolean;
}

/** @internal Checks a lookup table's `numEmbeddings` and `embeddingDim` (integers >= 0). */
export function checkTableSize(where: string, numEmbeddings: number, embeddingDim: number): void {
  for (const [name, v] of [["numEmbeddings", numEmbeddings], ["embeddingDim", embeddingDim]]) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new Error(`${where}: ${name} must be an integer >= 0, got ${showValue(v)}`);
    }
  }
}

/** @internal Checks `fromPretrained`'s rows (a float32 [numEmbeddings, dim] tensor) and `freeze`. */
export function checkPretrained(where: string, embeddings: unknown, freeze: unknown): void {
  if (!(embeddings instanceof Tensor) || embeddings.ndim !== 2) {
    throw new Error(
      `${where}: embeddings must be a 2-D tensor [numEmbeddings, dim], got ${
        embeddings instanceof Tensor ? `[${embeddings.shape}]` : showValue(embeddings)
      }`,
    );
  }
  if (embeddings.dtype !== "float32") {
    throw new Error(`${where}: embeddings must be float32, got ${embeddings.dtype}`);
  }
  if (freeze !== undefined && typeof freeze !== "boolean") {
    throw new Error(`${where}: freeze must be true or false, got ${showValue(freeze)}`);
  }
}

/**
 * A lookup table of `numEmbeddings` rows of `embeddingDim`: int32 indices
 * of any shape [...] give [..., embeddingDim], as `nn.Embedding`. The
 * weight starts N(0, 1), with the `paddingIdx` row zero; that row gets no
 * gradient.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const emb = new nn.Embedding(10, 4, { paddingIdx: 0 });
 * const ids = tensor(new Int32Array([1, 2, 0, 9, 0, 3]), [2, 3]);
 * console.log(emb(ids).shape, emb.weight.shape); // [2, 3, 4] [10, 4]
 * ```
 */
export class Embedding extends Module {
  /** [numEmbeddings, embeddingDim]. */
  weight: Parameter;
  /** The row that gets no gradient (made non-negative), or null. */
  readonly paddingIdx: number | null;
  /** Renormalise looked-up rows above this norm, or null. */
  readonly maxNorm: number | null;
  /** The p of `maxNorm`'s norm. */
  readonly normType: number;
  /** Divide each row's gradient by its index's count in the batch. */
  readonly scaleGradByFreq: boolean;
  /** Always false: sparse gradients are not offered. */
  readonly sparse: boolean;

  /** Rows in the table, read from the weight. */
  get numEmbeddings(): number {
    return tensorShape(this, "weight")[0];
  }

  /** Size of each row, read from the weight. */
  get embeddingDim(): number {
    return tensorShape(this, "weight")[1];
  }

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    const where = "nn.Embedding";
    const o = checkCall<EmbeddingOptions>(
      where,
      arguments.length,
      3,
      options,
      EMBEDDING_OPTIONS,
      "new nn.Embedding(1000, 64, { paddingIdx: 0 })",
    );
    checkTableSize(where, numEmbeddings, embeddingDim);
    checkEmbeddingOptions(where, o);
    this.paddingIdx = paddingIndex(where, o.paddingIdx, numEmbeddings);
    this.maxNorm = o.maxNorm ?? null;
    this.normType = o.normType ?? 2;
    this.scaleGradByFreq = o.scaleGradByFreq ?? false;
    this.sparse = false;
    const w = normal_(Tensor.empty([numEmbeddings, embeddingDim], "float32", "cpu", false));
    if (this.paddingIdx === null) {
      this.weight = new Parameter(w);
    } else {
      const values = w.toArray() as Float32Array;
      w.dispose();
      values.fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
      this.weight = new Parameter(fromHost(values, [numEmbeddings, embeddingDim]));
    }
  }

  /**
   * A layer whose rows are a copy of `embeddings` [numEmbeddings, dim], as
   * `nn.Embedding.from_pretrained`: frozen unless `freeze: false`; the
   * padding row is kept as given.
   *
   * @example
   * ```ts
   * import { nn, tensor } from "@lits/vision";
   * const emb = nn.Embedding.fromPretrained(tensor([[1, 2], [3, 4]]));
   * console.log(emb(tensor(new Int32Array([1]), [1])).toList(), emb.weight.requiresGrad); // [[3, 4]] false
   * ```
   */
  static fromPretrained(embeddings: Tensor, options: EmbeddingPretrainedOptions = {}): Embedding {
    const where = "nn.Embedding.fromPretrained";
    const o = checkCall<EmbeddingPretrainedOptions>(
      where,
      arguments.length,
      2,
      options,
      [...EMBEDDING_OPTIONS, "freeze"],
      "nn.Embedding.fromPretrained(vectors, { freeze: false })",
    );
    checkPretrained(where, embeddings, o.freeze);
    const { freeze = true, ...layerOptions } = o;
    const [rows, dim] = embeddings.shape;
    const m = new Embedding(0, dim, {}); // no random table to throw away
    checkEmbeddingOptions(where, layerOptions);
    const copy = noGrad(() => clone(embeddings.detach()));
    m.weight.dispose();
    m.weight = new Parameter(copy, !freeze);
    Object.assign(m, {
      paddingIdx: paddingIndex(where, layerOptions.paddingIdx, rows),
      maxNorm: layerOptions.maxNorm ?? null,
      normType: layerOptions.normType ?? 2,
      scaleGradByFreq: layerOptions.scaleGradByFreq ?? false,
    });
    return m;
  }

  /** int32 indices [...] -> [..., embeddingDim]. */
  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
    });
  }
}

// torch's attribute names (`emb.padding_idx`), read in ports.
addNameHints(Embedding.prototype, "nn.Embedding", {
  num_embeddings: "write emb.numEmbeddings",
  embedding_dim: "write emb.embeddingDim",
  padding_idx: "write emb.paddingIdx",
  max_norm: "write emb.maxNorm",
  norm_type: "write emb.normType",
  scale_grad_by_freq: "write emb.scaleGradByFreq",
});

// torch's static name, in the docs' example (`nn.Embedding.from_pretrained(weight)`).
addNameHints(Embedding, "nn.Embedding", {
  from_pretrained: "write nn.Embedding.fromPretrained(weight, { freeze: true })",
});
