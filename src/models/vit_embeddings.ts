/**
 * A Vision Transformer's position embedding at another image size, as
 * torchvision 0.14's `interpolate_embeddings` makes it: CT slices are 256 or
 * 512 pixels, the published ViT weights are for 224, and the learned
 * `encoder.pos_embedding` has one entry per patch. The class token's entry
 * is kept; the patches' grid is resized (bicubic by default,
 * align_corners=True) to the new image's grid.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { cat } from "../tensor/ops/join.ts";
import { interpolate } from "../tensor/ops/interpolate.ts";
import { noGrad } from "../tensor/autograd.ts";
import { checkArity, checkOptions } from "../options.ts";
import { nearestSizes } from "./vit.ts";

/** How the patches' grid of position embeddings is resized (torch's `F.interpolate` modes). */
export type EmbeddingInterpolation = "bicubic" | "bilinear";

/** Options of `interpolateEmbeddings`: torchvision's keywords, camelCased. */
export interface InterpolateEmbeddingsOptions {
  /** "bicubic" (default, torchvision's) or "bilinear"; align_corners=True either way. */
  interpolationMode?: EmbeddingInterpolation;
  /**
   * Leave out every `heads.*` entry (default false), for a new classifier:
   * torchvision's `reset_heads`, which (as torchvision 0.14's) acts only
   * when the size changes: at the same size the state dict is returned as
   * it was.
   */
  resetHeads?: boolean;
}

const WHERE = "models.interpolateEmbeddings";
const USAGE = 'models.interpolateEmbeddings(256, 16, stateDict, { interpolationMode: "bicubic" })';
const KEY = "encoder.pos_embedding";

/**
 * @internal `pos` [1, 1 + g * g, hidden] with its g x g grid resized to
 * `grid` x `grid` (the class token's entry first, kept), as a new tensor
 * that records no gradient. Throws unless the patches make a square grid.
 */
export function resizePosEmbedding(
  where: string,
  pos: Tensor,
  grid: number,
  mode: EmbeddingInterpolation,
): Tensor {
  if (!(pos instanceof Tensor) || pos.ndim !== 3 || pos.shape[0] !== 1) {
    const got = pos instanceof Tensor ? `[${pos.shape}]` : String(pos);
    throw new Error(
      `${where}: '${KEY}' must be [1, seq, hidden] (torchvision: "Unexpected position ` +
        `embedding shape"), got ${got}`,
    );
  }
  if (pos.dtype !== "float32") {
    throw new Error(`${where}: '${KEY}' must be float32, got ${pos.dtype}`);
  }
  const [, seq, hidden] = pos.shape;
  const old = Math.round(Math.sqrt(seq - 1));
  if (seq < 2 || old * old !== seq - 1) {
    throw new Error(
      `${where}: '${KEY}' [${pos.shape}] holds ${seq - 1} patch positions after the class ` +
        'token, not a square grid (torchvision: "seq_length is not a perfect square"); it ' +
        "is not a square-image ViT's",
    );
  }
  return noGrad(() => {
    const token = pos.narrow(1, 0, 1);
    const patches = pos.narrow(1, 1, seq - 1).permute(0, 2, 1).reshape(1, hidden, old, old);
    const resized = interpolate(patches, { size: grid, mode, alignCorners: true });
    const flat = resized.reshape(1, hidden, grid * grid).permute(0, 2, 1);
    return cat([token, flat], 1);
  });
}

/**
 * torchvision's `interpolate_embeddings(image_size, patch_size,
 * model_state, interpolation_mode="bicubic", reset_heads=False)`: a ViT
 * state dict whose `encoder.pos_embedding` [1, 1 + g * g, hidden] is resized
 * to the grid of `imageSize / patchSize` patches a side, so it loads into a
 * `VisionTransformer` built for `imageSize`. The class token's entry is
 * kept as it is; the g x g grid is interpolated with align_corners=True.
 *
 * The result is a new Map in the same key order; its `encoder.pos_embedding`
 * is a new tensor (yours), every other entry is the given state dict's own
 * tensor (not a copy). The given state dict is not changed (torchvision's
 * writes the new embedding into the dict it was given and returns that).
 * At the same grid size the entries are returned as they are.
 *
 * `models.loadPretrained` calls this (bicubic) by itself when a ViT's
 * weights are for another image size; call it yourself for "bilinear".
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const config = { name: "ViT tiny", patchSize: 8, numLayers: 1, numHeads: 2, hiddenDim: 16, mlpDim: 32 };
 * using small = new models.VisionTransformer(config, { imageSize: 32 }); // 4 x 4 patches
 * const sd = models.interpolateEmbeddings(64, 8, small.stateDict()); // 8 x 8 patches
 * console.log(sd.get("encoder.pos_embedding")!.shape); // [1, 65, 16]
 * using big = new models.VisionTransformer(config, { imageSize: 64 });
 * console.log(big.loadStateDict(sd)); // { missingKeys: [], unexpectedKeys: [] }
 * ```
 */
export function interpolateEmbeddings(
  imageSize: number,
  patchSize: number,
  stateDict: Map<string, Tensor> | Record<string, Tensor>,
  options: InterpolateEmbeddingsOptions = {},
): Map<string, Tensor> {
  checkArity(WHERE, arguments.length, 4, USAGE);
  if (typeof options === "string" || typeof options === "boolean") {
    throw new Error(
      `${WHERE}: the interpolation mode and resetHeads go in the options (torchvision's ` +
        `positional interpolation_mode and reset_heads); write ${USAGE}`,
    );
  }
  const o = checkOptions<InterpolateEmbeddingsOptions>(
    WHERE,
    options,
    ["interpolationMode", "resetHeads"],
    USAGE,
  );
  for (const [k, v] of Object.entries({ imageSize, patchSize })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${WHERE}: ${k} must be an integer >= 1, got ${String(v)}; write ${USAGE}`);
    }
  }
  if (imageSize % patchSize !== 0) {
    throw new Error(
      `${WHERE}: imageSize ${imageSize} is not a multiple of patchSize ${patchSize} ` +
        `(torchvision would use ${Math.floor(imageSize / patchSize)} patches a side, and its ` +
        `VisionTransformer refuses that image size); use imageSize ` +
        nearestSizes(imageSize, patchSize),
    );
  }
  const mode = o.interpolationMode ?? "bicubic";
  if (mode !== "bicubic" && mode !== "bilinear") {
    throw new Error(
      `${WHERE}: interpolationMode must be "bicubic" or "bilinear" (the modes torch's ` +
        `F.interpolate takes with align_corners=True on an image grid), got ${
          JSON.stringify(mode)
        }`,
    );
  }
  if (o.resetHeads !== undefined && typeof o.resetHeads !== "boolean") {
    throw new Error(`${WHERE}: resetHeads must be true or false, got ${String(o.resetHeads)}`);
  }
  if (
    !(stateDict instanceof Map) &&
    (stateDict === null || typeof stateDict !== "object" || stateDict instanceof Tensor)
  ) {
    throw new Error(
      `${WHERE}: stateDict must be a state dict (a Map or object of tensors, as ` +
        `model.stateDict() and io.loadSafetensors give), got ${
          stateDict === null ? "null" : typeof stateDict
        }; write ${USAGE}`,
    );
  }
  const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
  const out = new Map(entries);
  const pos = out.get(KEY);
  if (pos === undefined) {
    const prefixed = entries.find(([k]) => k.endsWith(`.${KEY}`));
    throw new Error(
      `${WHERE}: the state dict has no '${KEY}'` +
        (prefixed
          ? ` (it has '${prefixed[0]}': take the prefix off the keys, or use ` +
            "models.loadPretrained, which takes DistributedDataParallel's 'module.' off)"
          : "; it is not a torchvision VisionTransformer's (a checkpoint dict? pass the state " +
            "dict it holds)"),
    );
  }
  const grid = imageSize / patchSize;
  if (
    !(pos instanceof Tensor) || pos.ndim !== 3 || pos.shape[0] !== 1 ||
    pos.shape[1] !== grid * grid + 1
  ) {
    out.set(KEY, resizePosEmbedding(WHERE, pos, grid, mode));
    // torchvision resets the heads only where it resized.
    if (o.resetHeads) {
      for (const k of [...out.keys()]) if (k.startsWith("heads")) out.delete(k);
    }
  }
  return out;
}
