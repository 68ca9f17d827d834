/**
 * `EmbeddingBag`, as `torch.nn.EmbeddingBag`: a table of learned rows whose
 * bags are summed, averaged or maxed, on `F.embeddingBag`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { checkEmbeddingOptions, paddingIndex } from "../tensor/ops/embedding.ts";
import {
  bagMode,
  checkScaleGradByFreq,
  embeddingBag,
  type EmbeddingBagMode,
  type EmbeddingBagOptions,
} from "../tensor/ops/embedding_bag.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { clone } from "../tensor/ops/shape.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Module, Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { normal_ } from "./init.ts";
import { checkPretrained, checkTableSize } from "./embedding.ts";
import { checkArity, checkCall } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `nn.EmbeddingBag`: `F.embeddingBag`'s, less the per-call `offsets` and weights. */
export type EmbeddingBagLayerOptions = Omit<EmbeddingBagOptions, "offsets" | "perSampleWeights">;

const KNOWN: (keyof EmbeddingBagLayerOptions)[] = [
  "paddingIdx",
  "maxNorm",
  "normType",
  "scaleGradByFreq",
  "sparse",
  "mode",
  "includeLastOffset",
];

/**
 * A table of `numEmbeddings` rows of `embeddingDim` whose bags of int32
 * indices are reduced to one row each (mode "mean" by default, "sum" or
 * "max"), as `nn.EmbeddingBag`: `forward(input, offsets?, perSampleWeights?)`
 * with a 1-D input and offsets, or a 2-D [bags, n] input. The weight starts
 * N(0, 1), with the `paddingIdx` row zero; that index is left out of bags.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const bag = new nn.EmbeddingBag(10, 4, { mode: "sum" });
 * const ids = tensor(new Int32Array([1, 2, 4, 5, 4, 3, 2, 9]), [8]);
 * console.log(bag(ids, [0, 4]).shape); // [2, 4]
 * ```
 */
export class EmbeddingBag extends Module {
  /** [numEmbeddings, embeddingDim]. */
  weight: Parameter;
  /** How a bag's rows combine. */
  readonly mode: EmbeddingBagMode;
  /** The index left out of bags (made non-negative), or null. */
  readonly paddingIdx: number | null;
  /** Renormalise looked-up rows above this norm, or null. */
  readonly maxNorm: number | null;
  /** The p of `maxNorm`'s norm. */
  readonly normType: number;
  /** Divide each row's gradient by its index's count in the batch. */
  readonly scaleGradByFreq: boolean;
  /** Always false: sparse gradients are not offered. */
  readonly sparse: boolean;
  /** Whether the offsets end with the end of the last bag. */
  readonly includeLastOffset: boolean;

  /** Rows in the table, read from the weight. */
  get numEmbeddings(): number {
    return tensorShape(this, "weight")[0];
  }

  /** Size of each row, read from the weight. */
  get embeddingDim(): number {
    return tensorShape(this, "weight")[1];
  }

  /** A table of `numEmbeddings` random N(0, 1) rows of `embeddingDim`; see the class doc. */
  constructor(
    numEmbeddings: number,
    embeddingDim: number,
    options: EmbeddingBagLayerOptions = {},
  ) {
    super();
    const where = "nn.EmbeddingBag";
    const o = checkCall<EmbeddingBagLayerOptions>(
      where,
      arguments.length,
      3,
      options,
      KNOWN,
      'new nn.EmbeddingBag(1000, 64, { mode: "sum" }) (offsets go to the forward)',
    );
    checkTableSize(where, numEmbeddings, embeddingDim);
    checkEmbeddingOptions(where, o);
    if (o.includeLastOffset !== undefined && typeof o.includeLastOffset !== "boolean") {
      throw new Error(
        `${where}: includeLastOffset must be true or false, got ${showValue(o.includeLastOffset)}`,
      );
    }
    this.mode = bagMode(where, o.mode);
    checkScaleGradByFreq(where, o.scaleGradByFreq, this.mode);
    this.paddingIdx = paddingIndex(where, o.paddingIdx, numEmbeddings);
    this.maxNorm = o.maxNorm ?? null;
    this.normType = o.normType ?? 2;
    this.scaleGradByFreq = o.scaleGradByFreq ?? false;
    this.sparse = false;
    this.includeLastOffset = o.includeLastOffset ?? false;
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
   * A bag layer over given rows, as torch's `EmbeddingBag.from_pretrained`:
   * the table is a copy of `embeddings` [numEmbeddings, dim], fixed
   * (`freeze`, default true) unless `freeze: false`; the other options are
   * the layer's.
   *
   * @example
   * ```ts
   * import { nn, tensor } from "@lits/vision";
   * const bag = nn.EmbeddingBag.fromPretrained(tensor([[1, 2], [3, 4]]), { mode: "sum" });
   * console.log(bag(tensor(new Int32Array([0, 1]), [1, 2])).toList()); // [[4, 6]]
   * ```
   */
  static fromPretrained(
    embeddings: Tensor,
    options: EmbeddingBagLayerOptions & { freeze?: boolean } = {},
  ): EmbeddingBag {
    const where = "nn.EmbeddingBag.fromPretrained";
    const o = checkCall<EmbeddingBagLayerOptions & { freeze?: boolean }>(
      where,
      arguments.length,
      2,
      options,
      [...KNOWN, "freeze"],
      'nn.EmbeddingBag.fromPretrained(vectors, { mode: "mean", freeze: false })',
    );
    checkPretrained(where, embeddings, o.freeze);
    const { freeze = true, paddingIdx, ...rest } = o;
    const [rows, dim] = embeddings.shape;
    const m = new EmbeddingBag(0, dim, rest); // no random table to throw away
    m.weight.dispose();
    m.weight = new Parameter(noGrad(() => clone(embeddings.detach())), !freeze);
    Object.assign(m, { paddingIdx: paddingIndex(where, paddingIdx, rows) });
    return m;
  }

  /** input [n] with `offsets`, or [bags, n] -> [bags, embeddingDim]. */
  forward(
    input: Tensor,
    offsets?: Tensor | readonly number[] | null,
    perSampleWeights?: Tensor | null,
  ): Tensor {
    checkArity(
      "nn.EmbeddingBag.forward",
      arguments.length,
      3,
      "bag(indices, offsets, perSampleWeights)",
    );
    return embeddingBag(input, this.weight, {
      offsets: offsets ?? undefined,
      perSampleWeights: perSampleWeights ?? undefined,
      mode: this.mode,
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
      includeLastOffset: this.includeLastOffset,
    });
  }
}

// torch's static name, in the docs' example (`nn.EmbeddingBag.from_pretrained(weight)`).
addNameHints(EmbeddingBag, "nn.EmbeddingBag", {
  from_pretrained: 'write nn.EmbeddingBag.fromPretrained(weight, { mode: "sum" })',
});
