/**
 * Where the channels are in each layer's feature map. Grad-CAM weighs a
 * map's channels, so it must know them: most layers give [N, C, H, W], but
 * a Swin Transformer works on channels-last [N, H, W, C] maps from its
 * stem's Permute to the model's, and a ConvNeXt block goes channels-last
 * between its two Permutes (its LayerNorm, Linears and GELU). Read as
 * [N, C, H, W], such a map gives a wrong heat map and no error.
 *
 * The axis order is read from the module tree: the model's input is
 * channels-first; a `Permute` reorders the axes; a Sequential, and the
 * models and blocks whose forward runs their children in order
 * (`SwinTransformer`, `CNBlock`), pass each child's output to the next; a
 * Swin block, window attention or patch merging takes and gives
 * channels-last maps (their forward requires it); convolutions, batch norm,
 * `LayerNorm2d` and pooling give channels-first maps. A LayerNorm over one
 * dimension or a Linear that gives a map of the input's rank acts on its
 * last axis, so that map is channels-last wherever it came from. Any other
 * module with its own forward passes its input's order to its children,
 * unless one of them is a Permute: then the order inside it is unknown.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { Sequential } from "../layers/sequential.ts";
import { Conv2d } from "../layers/conv.ts";
import { Conv1d } from "../layers/conv1d.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { ConvTranspose2d } from "../layers/conv_transpose.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { BatchNorm3d } from "../layers/norm3d.ts";
import { LayerNorm } from "../layers/norm_layers.ts";
import { LayerNorm2d } from "../layers/layer_norm_2d.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { CNBlock, Permute } from "../models/convnext_blocks.ts";
import { SwinTransformer } from "../models/swin.ts";
import { PatchMerging, SwinTransformerBlock } from "../models/swin_blocks.ts";
import { ShiftedWindowAttention } from "../models/swin_attention.ts";

/**
 * A map's axis order: `order[i]` is the logical axis at position i (0 the
 * batch, 1 the channels, 2... the spatial ones in the input's order); null
 * is channels-first as given, "unknown" where the tree cannot tell.
 */
export type AxisOrder = readonly number[] | null | "unknown";

/** The axis orders of one module's input and output. */
export interface Layout {
  /** Order of its (first) input. */
  input: AxisOrder;
  /** Order of its output. */
  output: AxisOrder;
}

/** Channels-last of rank `r`: [N, spatial..., C]. */
const channelsLast = (
  r: number,
): number[] => [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];

/** Classes whose output is channels-first whatever comes in (they read [N, C, ...]). */
const FIRST = [
  Conv1d,
  Conv2d,
  Conv3d,
  ConvTranspose2d,
  BatchNorm2d,
  BatchNorm3d,
  LayerNorm2d,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  AdaptiveMaxPool2d,
];
/** Classes that take and give channels-last maps [N, H, W, C]. */
const LAST = [SwinTransformerBlock, PatchMerging, ShiftedWindowAttention];
/** Classes whose forward runs their children in the order they hold them. */
const IN_ORDER = [SwinTransformer, CNBlock, ...LAST];

/** `order` permuted by a Permute's `dims`; null when that is channels-first again. */
function permuted(order: AxisOrder, dims: readonly number[]): AxisOrder {
  if (order === "unknown") return order;
  const r = dims.length;
  const from = order ?? Array.from({ length: r }, (_, i) => i);
  const d = dims.map((v) => (v < 0 ? v + r : v));
  if (from.length !== r || new Set(d).size !== r || d.some((v) => !(v >= 0 && v < r))) {
    return "unknown";
  }
  const out = d.map((i) => from[i]);
  return out.every((v, i) => v === i) ? null : out;
}

/** Whether a module's forward is its class's (or Sequential's): no hook or override on it. */
const runsInOrder = (m: Module): boolean =>
  m instanceof Sequential || IN_ORDER.some((c) => m instanceof c);

/**
 * The axis order of every module's input and output in `model`, read from
 * the module tree as the module doc says (a module reached twice keeps the
 * first).
 */
export function layouts(model: Module): Map<Module, Layout> {
  const seen = new Map<Module, Layout>();
  const walk = (m: Module, input: AxisOrder): AxisOrder => {
    if (LAST.some((c) => m instanceof c)) input = channelsLast(4);
    let output: AxisOrder = input;
    const kids = [...m.children()];
    if (m instanceof Permute) output = permuted(input, m.dims);
    else if (FIRST.some((c) => m instanceof c)) output = null;
    else if (runsInOrder(m)) { for (const k of kids) output = walk(k, output); }
    else {
      // A forward we cannot read: its children see its input's order, unless it permutes.
      const inside = kids.some((k) => k instanceof Permute) ? "unknown" : input;
      for (const k of kids) walk(k, inside);
      output = inside;
    }
    if (!seen.has(m)) seen.set(m, { input, output });
    return output;
  };
  walk(model, null);
  return seen;
}

/**
 * The order of the output or input (`side`, of rank `rank`) of `layer` in
 * `model`: from the tree, except that the output of a LayerNorm over one
 * dimension or of a Linear, of rank 3 or more, is channels-last (their
 * features are its last axis) whatever the tree says. `model` null (a
 * forward function) leaves the layer's own classes to tell.
 */
export function orderOf(
  model: Module | null,
  layer: Module,
  side: keyof Layout,
  rank: number,
): AxisOrder {
  const all = layouts(model ?? layer);
  let order = all.get(layer)?.[side] ?? null;
  const lastAxis = (layer instanceof LayerNorm && !(layer instanceof LayerNorm2d) &&
    layer.normalizedShape.length === 1) || layer instanceof Linear;
  // Features on the last axis: channels-last, unless the tree knows an order that ends in them.
  const endsInChannels = Array.isArray(order) && order[order.length - 1] === 1;
  if (side === "output" && lastAxis && rank >= 3 && !endsInChannels) order = channelsLast(rank);
  if (order !== null && order !== "unknown" && order.length !== rank) return "unknown";
  return order;
}

/** The permutation that makes a map of `order` channels-first ([N, C, ...]). */
export function toChannelsFirst(order: readonly number[]): number[] {
  const inv = new Array<number>(order.length);
  order.forEach((logical, i) => (inv[logical] = i));
  return inv;
}

/** `[N, H, W, C]` for messages: a map's axes in `order`. */
export function axesText(order: readonly number[]): string {
  const names = order.length === 5 ? ["N", "C", "D", "H", "W"] : ["N", "C", "H", "W"];
  return `[${order.map((i) => names[i] ?? `d${i}`).join(", ")}]`;
}

/**
 * The nearest layer after `layer` whose output is a channels-first map:
 * the innermost enclosing one if any (a ConvNeXt block's `block`), else the
 * next layer without children in the forward's order (a Swin's `permute`).
 */
export function channelsFirstAfter(model: Module, layer: Module): string | undefined {
  const all = layouts(model);
  const first = (m: Module) => all.get(m)?.output === null;
  // Depth-first, a parent before its children: the order the forwards here run them.
  const named = [...model.namedModules()].filter(([n]) => n !== "");
  const i = named.findIndex(([, m]) => m === layer);
  if (i < 0) return undefined;
  const at = named[i][0];
  const enclosing = named.filter(([n, m]) => at.startsWith(`${n}.`) && first(m)).at(-1);
  if (enclosing) return enclosing[0];
  return named.slice(i + 1).find(([n, m]) =>
    !n.startsWith(`${at}.`) && first(m) && [...m.children()].length === 0
  )?.[0];
}
