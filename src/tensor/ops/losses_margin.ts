/**
 * The margin and embedding losses of `torch.nn.functional`:
 * `marginRankingLoss`, `hingeEmbeddingLoss`, `softMarginLoss`,
 * `multilabelSoftMarginLoss`, `cosineEmbeddingLoss` and
 * `tripletMarginLoss`. Each is PyTorch 1.13's formula composed of
 * differentiable ops in the same order, so values and gradients (the
 * clamp's kinks included) are torch's.
 *
 * The operands broadcast as in PyTorch, with one refusal: a broadcast shape
 * that none of the operands has (an [N] target against an [N, 1] input
 * gives N x N losses in PyTorch, silently) throws.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { type CallContract, checkContract } from "../../options.ts";
import type { Reduction } from "./loss.ts";
import { checkReduction, reduceLoss } from "./loss_args.ts";
import {
  add,
  broadcastShapes,
  div,
  exp,
  log1p,
  minimum,
  mul,
  neg,
  requireFloat,
  rsub,
  sameDevice,
  sqrt,
  sub,
} from "./elementwise.ts";
import { clampMin } from "./clamp.ts";
import { eq, ne } from "./compare.ts";
import { where } from "./where.ts";
import { sum } from "./reduce.ts";
import { norm } from "./vector_norm.ts";
import { softplus } from "./activation_smooth.ts";

/** @internal a finite number option (>= `min` when given), or an Error that names it. */
export function lossNumber(where: string, name: string, value: unknown, min?: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || (min !== undefined && value < min)) {
    const want = min === undefined ? "a finite number" : `a finite number >= ${min}`;
    throw new Error(
      `${where}: ${name} must be ${want}, got ${
        typeof value === "number" ? value : JSON.stringify(value) ?? typeof value
      }`,
    );
  }
  return value;
}

/** @internal a boolean option, or an Error that names it. */
export function lossFlag(where: string, name: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new Error(`${where}: ${name} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * @internal the checks of a loss's tensors: each a float32 Tensor (a target
 * of another dtype is told to convert) on the first one's device.
 */
export function lossTensors(where: string, usage: string, named: [string, unknown][]): Tensor[] {
  const tensors = named.map(([name, t]) => {
    if (!(t instanceof Tensor)) {
      throw new Error(`${where}: ${name} must be a Tensor, got ${typeof t}; write ${usage}`);
    }
    return t;
  });
  named.forEach(([name], i) => {
    const t = tensors[i];
    if (name.includes("target") && t.dtype !== "float32") {
      throw new Error(
        `${where}: ${name} [${t.shape}] is ${t.dtype}, expected float32; convert with ` +
          `${name}.float()`,
      );
    }
    requireFloat(t, `${where} ${name}`);
    sameDevice(tensors[0], t, `${where} ${name}`);
  });
  return tensors;
}

/**
 * @internal the shape the operands broadcast to, as PyTorch's; an Error
 * where they do not broadcast, or where the result is the shape of none of
 * them (a loss per pair of rows, which PyTorch computes silently).
 */
export function lossShape(where: string, named: [string, Tensor][]): number[] {
  const desc = named.map(([n, t]) => `${n} [${t.shape}]`).join(", ");
  let shape: number[] = [];
  for (const [, t] of named) shape = broadcastShapes(shape, t.shape, `${where} ${desc}`);
  const same = (t: Tensor) => t.ndim === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!named.some(([, t]) => same(t))) {
    throw new Error(
      `${where}: ${desc} broadcast to [${shape}], the shape of none of them: PyTorch would ` +
        `silently compute a loss for every pair (an [N] target against an [N, 1] input gives ` +
        `N x N losses); reshape them to one shape, e.g. target.reshape(input.shape)`,
    );
  }
  return shape;
}

/** Options of `marginRankingLoss`. */
export interface MarginRankingLossOptions {
  /** The margin (default 0). */
  margin?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `marginRankingLoss` is called; `nn.MarginRankingLoss` takes the same option names. */
export const MARGIN_RANKING_LOSS: CallContract<MarginRankingLossOptions> = {
  where: "marginRankingLoss",
  most: 4,
  known: ["margin", "reduction"],
  usage: 'F.marginRankingLoss(input1, input2, target, { margin: 0, reduction: "mean" })',
};

/**
 * Margin ranking loss, as `F.margin_ranking_loss`: max(0, -y (x1 - x2) +
 * margin) for targets y of 1 (x1 should rank higher) or -1. The three
 * tensors must have one number of dimensions (PyTorch's check) and
 * broadcast; the gradient passes where the hinge is exactly 0, as torch's
 * clamp_min.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.marginRankingLoss(tensor([1, 2]), tensor([2, 0]), tensor([1, 1]), {
 *   margin: 0.5,
 * });
 * console.log(loss.item()); // 0.75
 * ```
 */
export function marginRankingLoss(
  input1: Tensor,
  input2: Tensor,
  target: Tensor,
  options: MarginRankingLossOptions = {},
): Tensor {
  const { where: at, usage } = MARGIN_RANKING_LOSS;
  const o = checkContract(MARGIN_RANKING_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const margin = lossNumber(at, "margin", o.margin ?? 0);
  lossTensors(at, usage, [["input1", input1], ["input2", input2], ["target", target]]);
  if (input1.ndim !== input2.ndim || input1.ndim !== target.ndim) {
    throw new Error(
      `${at}: all input tensors should have the same number of dimensions, got input1 ` +
        `[${input1.shape}], input2 [${input2.shape}], target [${target.shape}]`,
    );
  }
  lossShape(at, [["input1", input1], ["input2", input2], ["target", target]]);
  const loss = clampMin(add(mul(neg(target), sub(input1, input2)), margin), 0);
  return reduceLoss(loss, reduction);
}

/** Options of `hingeEmbeddingLoss`. */
export interface HingeEmbeddingLossOptions {
  /** The margin of the -1 targets (default 1). */
  margin?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `hingeEmbeddingLoss` is called; `nn.HingeEmbeddingLoss` takes the same option names. */
export const HINGE_EMBEDDING_LOSS: CallContract<HingeEmbeddingLossOptions> = {
  where: "hingeEmbeddingLoss",
  most: 3,
  known: ["margin", "reduction"],
  usage: 'F.hingeEmbeddingLoss(distance, target, { margin: 1, reduction: "mean" })',
};

/**
 * Hinge embedding loss, as `F.hinge_embedding_loss`: x where y = 1,
 * max(0, margin - x) where y = -1 (for x a distance between a pair); a
 * target that is neither adds both terms, as PyTorch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.hingeEmbeddingLoss(tensor([0.3, 0.4]), tensor([1, -1]), { reduction: "none" });
 * console.log(loss.toArray()); // Float32Array [0.30000001192092896, 0.6000000238418579]
 * ```
 */
export function hingeEmbeddingLoss(
  input: Tensor,
  target: Tensor,
  options: HingeEmbeddingLossOptions = {},
): Tensor {
  const { where: at, usage } = HINGE_EMBEDDING_LOSS;
  const o = checkContract(HINGE_EMBEDDING_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const margin = lossNumber(at, "margin", o.margin ?? 1);
  lossTensors(at, usage, [["input", input], ["target", target]]);
  lossShape(at, [["input", input], ["target", target]]);
  const outside = where(ne(target, 1), clampMin(rsub(margin, input), 0), 0);
  const inside = where(ne(target, -1), input, 0);
  return reduceLoss(add(outside, inside), reduction);
}

/** Options of `softMarginLoss`. */
export interface SoftMarginLossOptions {
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `softMarginLoss` is called; `nn.SoftMarginLoss` takes the same option names. */
export const SOFT_MARGIN_LOSS: CallContract<SoftMarginLossOptions> = {
  where: "softMarginLoss",
  most: 3,
  known: ["reduction"],
  usage: 'F.softMarginLoss(input, target, { reduction: "mean" })',
};

/**
 * Two-class logistic loss, as `F.soft_margin_loss`: log(1 + e^(-y x)) for
 * targets y of 1 or -1; the target broadcasts to the input's shape. As
 * PyTorch's kernel (log1p of exp), -y x past about 88 gives inf. PyTorch
 * refuses a target that requires a gradient; here it gets one.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.softMarginLoss(tensor([0, 2]), tensor([1, 1])).item().toFixed(4)); // "0.4100"
 * ```
 */
export function softMarginLoss(
  input: Tensor,
  target: Tensor,
  options: SoftMarginLossOptions = {},
): Tensor {
  const { where: at, usage } = SOFT_MARGIN_LOSS;
  const o = checkContract(SOFT_MARGIN_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  lossTensors(at, usage, [["input", input], ["target", target]]);
  inputShape(at, input, [["target", target]]);
  return reduceLoss(log1p(exp(mul(neg(input), target))), reduction);
}

/** Throws unless each operand broadcasts to the input's own shape. */
function inputShape(at: string, input: Tensor, named: [string, Tensor][]): void {
  for (const [name, t] of named) {
    const shape = broadcastShapes(input.shape, t.shape, `${at} input [${input.shape}]`);
    if (shape.length !== input.ndim || shape.some((d, i) => d !== input.shape[i])) {
      throw new Error(
        `${at}: ${name} [${t.shape}] must broadcast to the input's shape [${input.shape}]; ` +
          `reshape it (e.g. ${name}.reshape(${JSON.stringify(input.shape)}))`,
      );
    }
  }
}

/** Options of `multilabelSoftMarginLoss`. */
export interface MultilabelSoftMarginLossOptions {
  /** A weight per class ([C], or any shape that broadcasts to the input's). */
  weight?: Tensor | null;
  /** "mean" (default), "sum" or "none" (one loss per sample). */
  reduction?: Reduction;
}

/**
 * How `multilabelSoftMarginLoss` is called; `nn.MultiLabelSoftMarginLoss`
 * takes the same option names.
 */
export const MULTILABEL_SOFT_MARGIN_LOSS: CallContract<MultilabelSoftMarginLossOptions> = {
  where: "multilabelSoftMarginLoss",
  most: 3,
  known: ["weight", "reduction"],
  usage: 'F.multilabelSoftMarginLoss(logits, target, { weight, reduction: "mean" })',
};

/**
 * Multi-label one-versus-all loss, as `F.multilabel_soft_margin_loss`: for
 * logits [N, C] (or [C], or [..., C]) and 0/1 targets, -(y logsigmoid(x) +
 * (1 - y) logsigmoid(-x)) times `weight`, averaged over the last (class)
 * dimension; "none" gives one loss per sample ([N]). Target and weight
 * broadcast to the input's shape.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.multilabelSoftMarginLoss(tensor([[0, 0]]), tensor([[1, 0]]));
 * console.log(loss.item().toFixed(4)); // "0.6931"
 * ```
 */
export function multilabelSoftMarginLoss(
  input: Tensor,
  target: Tensor,
  options: MultilabelSoftMarginLossOptions = {},
): Tensor {
  const { where: at, usage } = MULTILABEL_SOFT_MARGIN_LOSS;
  const o = checkContract(MULTILABEL_SOFT_MARGIN_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const weight = o.weight ?? null;
  const named: [string, unknown][] = [["input", input], ["target", target]];
  if (weight !== null) named.push(["weight", weight]);
  lossTensors(at, usage, named);
  if (input.ndim === 0) {
    throw new Error(`${at}: input must be [N, C] or [C] (classes last), got a 0-d tensor`);
  }
  inputShape(at, input, named.slice(1) as [string, Tensor][]);
  const logSigmoid = (x: Tensor) => neg(softplus(neg(x)));
  let loss = neg(add(mul(target, logSigmoid(input)), mul(rsub(1, target), logSigmoid(neg(input)))));
  if (weight) loss = mul(loss, weight);
  const classDim = input.ndim - 1;
  return reduceLoss(div(sum(loss, classDim), input.shape[classDim]), reduction);
}

/** Options of `cosineEmbeddingLoss`. */
export interface CosineEmbeddingLossOptions {
  /** The margin of the -1 targets, in [-1, 1] (default 0). */
  margin?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `cosineEmbeddingLoss` is called; `nn.CosineEmbeddingLoss` takes the same option names. */
export const COSINE_EMBEDDING_LOSS: CallContract<CosineEmbeddingLossOptions> = {
  where: "cosineEmbeddingLoss",
  most: 4,
  known: ["margin", "reduction"],
  usage: 'F.cosineEmbeddingLoss(x1, x2, target, { margin: 0, reduction: "mean" })',
};

/**
 * Cosine embedding loss, as `F.cosine_embedding_loss`: with cos the cosine
 * of x1 and x2 ([N, D] with target [N], or [D] with a 0-d target), 1 - cos
 * where y = 1 and max(0, cos - margin) where y = -1 (0 for other targets).
 * The squared norms get 1e-12 added before the square root, as PyTorch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x1 = tensor([[1, 0], [1, 0]]);
 * const x2 = tensor([[1, 1], [0, 1]]);
 * const loss = F.cosineEmbeddingLoss(x1, x2, tensor([1, -1]), { reduction: "none" });
 * console.log(loss.toArray()); // Float32Array [0.2928932309150696, 0]
 * ```
 */
export function cosineEmbeddingLoss(
  input1: Tensor,
  input2: Tensor,
  target: Tensor,
  options: CosineEmbeddingLossOptions = {},
): Tensor {
  const { where: at, usage } = COSINE_EMBEDDING_LOSS;
  const o = checkContract(COSINE_EMBEDDING_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const margin = lossNumber(at, "margin", o.margin ?? 0);
  lossTensors(at, usage, [["input1", input1], ["input2", input2], ["target", target]]);
  const dim = target.ndim;
  if (dim > 1) {
    throw new Error(
      `${at}: target [${target.shape}] must be [N] (or 0-d for one pair); ` +
        "multi-target is not supported, as in PyTorch",
    );
  }
  if (input1.ndim !== dim + 1 || input2.ndim !== dim + 1) {
    throw new Error(
      `${at}: a ${dim === 1 ? "1-d target [N]" : "0-d target"} needs ${
        dim === 1 ? "2-d inputs [N, D]" : "1-d inputs [D]"
      }, got input1 [${input1.shape}] and input2 [${input2.shape}]`,
    );
  }
  const pair = broadcastShapes(input1.shape, input2.shape, `${at} input1 and input2`);
  broadcastShapes(pair.slice(0, dim), target.shape, `${at} the inputs' rows and target`);
  const dot = sum(mul(input1, input2), dim);
  const sq1 = add(sum(mul(input1, input1), dim), 1e-12);
  const sq2 = add(sum(mul(input2, input2), dim), 1e-12);
  const cos = div(dot, sqrt(mul(sq1, sq2)));
  const pos = where(eq(target, 1), rsub(1, cos), 0);
  const negative = where(eq(target, -1), clampMin(sub(cos, margin), 0), 0);
  return reduceLoss(add(pos, negative), reduction);
}

/** Options of `tripletMarginLoss`. */
export interface TripletMarginLossOptions {
  /** The margin between the two distances (default 1). */
  margin?: number;
  /** The order of the distance's norm, > 0 or Infinity (default 2). */
  p?: number;
  /** Added to each difference before its norm (default 1e-6). */
  eps?: number;
  /** Use the smaller of d(a, n) and d(p, n) as the negative distance (default false). */
  swap?: boolean;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `tripletMarginLoss` is called; `nn.TripletMarginLoss` takes the same option names. */
export const TRIPLET_MARGIN_LOSS: CallContract<TripletMarginLossOptions> = {
  where: "tripletMarginLoss",
  most: 4,
  known: ["margin", "p", "eps", "swap", "reduction"],
  usage: "F.tripletMarginLoss(anchor, positive, negative, { margin: 1, p: 2, eps: 1e-6 })",
};

/**
 * Triplet margin loss, as `F.triplet_margin_loss`: max(0, margin + d(a, p)
 * - d(a, n)) with d(x, y) = ||x - y + eps||_p over the last dimension
 * (PyTorch's pairwise distance); `swap` takes min(d(a, n), d(p, n)) as the
 * negative distance. Inputs [N, D] (or [D], or [..., D]) of one number of
 * dimensions, broadcast. `p` must be > 0 (PyTorch also takes 0 and
 * negative orders, which are no distance).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const a = tensor([[0, 0]]), p = tensor([[3, 4]]), n = tensor([[1, 0]]);
 * console.log(F.tripletMarginLoss(a, p, n, { eps: 0 }).item()); // 5
 * ```
 */
export function tripletMarginLoss(
  anchor: Tensor,
  positive: Tensor,
  negative: Tensor,
  options: TripletMarginLossOptions = {},
): Tensor {
  const { where: at, usage } = TRIPLET_MARGIN_LOSS;
  const o = checkContract(TRIPLET_MARGIN_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const margin = lossNumber(at, "margin", o.margin ?? 1);
  const p = o.p ?? 2;
  if (typeof p !== "number" || !(p > 0)) {
    throw new Error(`${at}: p must be a number > 0 or Infinity, got ${JSON.stringify(p) ?? p}`);
  }
  const eps = lossNumber(at, "eps", o.eps ?? 1e-6);
  const swap = lossFlag(at, "swap", o.swap ?? false);
  const named: [string, Tensor][] = [["anchor", anchor], ["positive", positive], [
    "negative",
    negative,
  ]];
  lossTensors(at, usage, named);
  if (anchor.ndim !== positive.ndim || positive.ndim !== negative.ndim) {
    throw new Error(
      `${at}: all inputs should have the same number of dimensions, got anchor ` +
        `[${anchor.shape}], positive [${positive.shape}] and negative [${negative.shape}]`,
    );
  }
  if (anchor.ndim === 0) throw new Error(`${at}: inputs must be [N, D] or [D], got 0-d tensors`);
  lossShape(at, named);
  const distance = (x: Tensor, y: Tensor) => norm(add(sub(x, y), eps), p, -1);
  const dPos = distance(anchor, positive);
  let dNeg = distance(anchor, negative);
  if (swap) dNeg = minimum(dNeg, distance(positive, negative));
  return reduceLoss(clampMin(sub(add(dPos, margin), dNeg), 0), reduction);
}
