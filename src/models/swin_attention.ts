/**
 * The Swin Transformer's window attention (Liu et al., "Swin Transformer:
 * Hierarchical Vision Transformer using Shifted Windows", ICCV 2021,
 * Section 3.2), as torchvision 0.14's `shifted_window_attention` and
 * `ShiftedWindowAttention` compute it: the map padded to whole windows,
 * rolled back by the shift, cut into windows, multi-head self-attention
 * inside each window with a learned relative position bias (and, for
 * shifted windows, torchvision's -100 mask between tokens that came from
 * different regions), then the windows put back, rolled forward and the
 * padding cut (the roll and the windowing done as one gather each way).
 * State-dict names are torchvision's: `qkv.weight`,
 * `proj.bias`, `relative_position_bias_table`, `relative_position_index`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { fromHost } from "../tensor/ops/creation.ts";
import { linear } from "../tensor/ops/matmul.ts";
import { pad } from "../tensor/ops/pad.ts";
import { dropout } from "../tensor/ops/random.ts";
import { indexSelect } from "../tensor/ops/gather.ts";
import { Module, Parameter } from "../layers/module.ts";
import { Linear } from "../layers/linear.ts";
import { normal_ } from "../layers/init.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkCount, checkProbability } from "./mobile_blocks.ts";

/** A window or shift size: [height, width]. */
export type Size2 = readonly [number, number];

/** @internal throws unless `v` is [h, w] of integers >= `least`. */
export function checkSize2(where: string, name: string, v: unknown, least: number, usage: string) {
  const ok = Array.isArray(v) && v.length === 2 &&
    v.every((s) => Number.isInteger(s) && s >= least);
  if (!ok) {
    throw new Error(
      `${where}: ${name} must be [height, width], integers >= ${least}, got ` +
        `${JSON.stringify(v)}; write ${usage}`,
    );
  }
}

/**
 * The relative position index of a window (torchvision's
 * `define_relative_position_index`): for tokens p and q of a `wh` x `ww`
 * window, the row of the bias table that holds their offset,
 * (dy + wh - 1) * (2 ww - 1) + (dx + ww - 1), flattened [N * N], N = wh ww.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(Array.from(models.relativePositionIndex([1, 2]))); // [1, 0, 2, 1]
 * ```
 */
export function relativePositionIndex(windowSize: Size2): Int32Array {
  checkSize2("models.relativePositionIndex", "windowSize", windowSize, 1, "[7, 7]");
  const [wh, ww] = windowSize, n = wh * ww;
  const out = new Int32Array(n * n);
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      const dy = Math.floor(p / ww) - Math.floor(q / ww), dx = (p % ww) - (q % ww);
      out[p * n + q] = (dy + wh - 1) * (2 * ww - 1) + (dx + ww - 1);
    }
  }
  return out;
}

/** Python's slice bounds [start, stop) of `length` (negative from the end; -0 is 0, as in Python). */
function pySlice(start: number, stop: number | null, length: number): [number, number] {
  const at = (v: number) => (v < 0 ? Math.max(0, v + length) : Math.min(v, length));
  return [at(start), stop === null ? length : at(stop)];
}

/** Host masks by (padded size, window, shift): they depend on nothing else. */
const MASKS = new Map<string, Float32Array>();

/**
 * The additive attention mask of shifted windows, [numWindows, N, N], as
 * torchvision 0.14 builds it: the padded map labelled by region with
 * Python's slices (0, -window), (-window, -shift), (-shift, None) per axis,
 * cut into windows, and -100 between tokens of different labels, 0 within
 * one. A shift of 0 along an axis makes its slices Python's empty, empty
 * and whole, as torchvision's do.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const mask = models.shiftedWindowMask([4, 4], [2, 2], [1, 1]);
 * console.log(mask.length, mask.filter((v) => v === -100).length); // 64 28
 * ```
 */
export function shiftedWindowMask(
  paddedSize: Size2,
  windowSize: Size2,
  shift: Size2,
): Float32Array {
  const key = `${paddedSize}|${windowSize}|${shift}`;
  const cached = MASKS.get(key);
  if (cached) return cached;
  const [ph, pw] = paddedSize, [wh, ww] = windowSize, [sh, sw] = shift;
  if (ph % wh !== 0 || pw % ww !== 0) {
    throw new Error(
      `models.shiftedWindowMask: the padded size [${paddedSize}] is not a multiple of the ` +
        `window [${windowSize}]`,
    );
  }
  const label = new Int32Array(ph * pw);
  const slices = (
    w: number,
    s: number,
    n: number,
  ) => [pySlice(0, -w, n), pySlice(-w, -s, n), pySlice(-s, null, n)];
  let count = 0;
  for (const [h0, h1] of slices(wh, sh, ph)) {
    for (const [w0, w1] of slices(ww, sw, pw)) {
      for (let i = h0; i < h1; i++) label.fill(count, i * pw + w0, i * pw + w1);
      count++;
    }
  }
  const nh = ph / wh, nw = pw / ww, n = wh * ww;
  const mask = new Float32Array(nh * nw * n * n);
  const win = new Int32Array(n);
  for (let by = 0; by < nh; by++) {
    for (let bx = 0; bx < nw; bx++) {
      for (let t = 0; t < n; t++) {
        win[t] = label[(by * wh + Math.floor(t / ww)) * pw + bx * ww + (t % ww)];
      }
      const base = (by * nw + bx) * n * n;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) if (win[j] !== win[i]) mask[base + i * n + j] = -100;
      }
    }
  }
  MASKS.set(key, mask);
  return mask;
}

/** Options of `shiftedWindowAttention` (torchvision's keywords, camelCase). */
export interface ShiftedWindowAttentionOptions {
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
  /** Dropout on the projected output (default 0). */
  dropout?: number;
  /** Bias of the qkv projection (default null). */
  qkvBias?: Tensor | null;
  /** Bias of the output projection (default null). */
  projBias?: Tensor | null;
  /**
   * Whether the dropouts are active (default true, as `F.dropout`'s).
   * torchvision 0.14 calls `F.dropout` without `training`, so its dropouts
   * act in eval mode too (pytorch/vision#7103); `ShiftedWindowAttention`
   * passes its own `training` flag instead, as torchvision 0.15 does.
   */
  training?: boolean;
}

const FN_USAGE = "models.shiftedWindowAttention(x, qkvWeight, projWeight, bias, [7, 7], 3, [3, 3])";

/**
 * Window multi-head self-attention with relative position bias on
 * channels-last `input` [B, H, W, C] (torchvision's functional
 * `shifted_window_attention`): padding to whole windows, a cyclic shift by
 * -`shiftSize` (set to 0 along an axis the window covers), attention
 * inside each window (scores (q / sqrt(C / heads)) k^T + `relativeBias`
 * [1, heads, N, N], plus the shifted-window mask), the output projection,
 * and the inverse shift and crop. Returns [B, H, W, C].
 *
 * @example
 * ```ts
 * import { models, randn, zeros } from "@lits/vision";
 * const y = models.shiftedWindowAttention(
 *   randn([1, 5, 5, 8]), randn([24, 8]), randn([8, 8]), zeros([1, 2, 16, 16]), [4, 4], 2, [2, 2],
 * );
 * console.log(y.shape); // [1, 5, 5, 8]
 * ```
 */
export function shiftedWindowAttention(
  input: Tensor,
  qkvWeight: Tensor,
  projWeight: Tensor,
  relativeBias: Tensor,
  windowSize: Size2,
  numHeads: number,
  shiftSize: Size2,
  options: ShiftedWindowAttentionOptions = {},
): Tensor {
  const where = "models.shiftedWindowAttention";
  checkArity(where, arguments.length, 8, FN_USAGE);
  const o = modelOptions(where, options, {
    attentionDropout: 0,
    dropout: 0,
    qkvBias: null,
    projBias: null,
    training: true,
  }, FN_USAGE);
  checkSize2(where, "windowSize", windowSize, 1, FN_USAGE);
  checkSize2(where, "shiftSize", shiftSize, 0, FN_USAGE);
  checkCount(where, "numHeads", numHeads, FN_USAGE);
  checkProbability(where, "attentionDropout", o.attentionDropout, FN_USAGE);
  checkProbability(where, "dropout", o.dropout, FN_USAGE);
  if (!(input instanceof Tensor) || input.ndim !== 4) {
    const got = input instanceof Tensor ? `[${input.shape}]` : String(input);
    throw new Error(
      `${where}: expected a channels-last map [B, H, W, C], got ${got}; a Swin block's input ` +
        "is x.permute(0, 2, 3, 1) of an [N, C, H, W] map",
    );
  }
  const [b, h, w, c] = input.shape;
  const [wh, ww] = windowSize;
  if (c % numHeads !== 0) {
    throw new Error(`${where}: ${c} channels do not split into ${numHeads} heads`);
  }
  const n = wh * ww;
  if (
    !(relativeBias instanceof Tensor) ||
    relativeBias.shape.join() !== [1, numHeads, n, n].join()
  ) {
    const got = relativeBias instanceof Tensor ? `[${relativeBias.shape}]` : String(relativeBias);
    throw new Error(`${where}: relativeBias must be [1, ${numHeads}, ${n}, ${n}], got ${got}`);
  }
  // Pad right and bottom to whole windows.
  const padR = (ww - (w % ww)) % ww, padB = (wh - (h % wh)) % wh;
  let x = padR > 0 || padB > 0 ? pad(input, [0, 0, 0, padR, 0, padB]) : input;
  const ph = h + padB, pw = w + padR;
  // A window that covers the map along an axis needs no shift along it.
  const shift: Size2 = [wh >= ph ? 0 : shiftSize[0], ww >= pw ? 0 : shiftSize[1]];
  const shifted = shift[0] + shift[1] > 0;
  // Roll and window partition in one gather (torchvision's roll, view and
  // permute: each of its passes over the map, measured, costs as much as the gather).
  const nh = ph / wh, nw = pw / ww, windows = nh * nw, bw = b * windows;
  const [into, back] = windowOrder([ph, pw], windowSize, shift, [h, w]);
  const gathered = (t: Tensor, order: Int32Array) =>
    indexSelect(t, 1, fromHost(order, [order.length], { dtype: "int32", device: t.device }, true));
  x = gathered(x.reshape(b, ph * pw, c), into).reshape(bw, n, c);
  const d = c / numHeads;
  const qkv = linear(x, qkvWeight, o.qkvBias).reshape(bw, n, 3, numHeads, d)
    .permute(2, 0, 3, 1, 4);
  const q = qkv.select(0, 0).mul(d ** -0.5), k = qkv.select(0, 1), v = qkv.select(0, 2);
  let attn = q.matmul(k.transpose(-2, -1)).add(relativeBias);
  if (shifted) {
    const mask = fromHost(
      shiftedWindowMask([ph, pw], windowSize, shift),
      [
        1,
        windows,
        1,
        n,
        n,
      ],
      { device: input.device },
      true,
    );
    attn = attn.reshape(b, windows, numHeads, n, n).add(mask).reshape(bw, numHeads, n, n);
  }
  attn = dropout(attn.softmax(-1), o.attentionDropout, o.training);
  x = attn.matmul(v).transpose(1, 2).reshape(bw, n, c);
  x = dropout(linear(x, projWeight, o.projBias), o.dropout, o.training);
  // Windows back to the map, the shift undone and the padding cut: one gather.
  return gathered(x.reshape(b, windows * n, c), back).reshape(b, h, w, c);
}

/** Gather orders by (padded size, window, shift, size). */
const ORDERS = new Map<string, [Int32Array, Int32Array]>();

/**
 * The positions that `torch.roll(x, -shift)` followed by the window partition
 * reads from the padded map (flattened [ph * pw]), in window order; and,
 * for each position of the unpadded [h, w] map, where the inverse (windows
 * back, roll by +shift, crop) finds it among the windows' tokens.
 * @internal the ONNX export gathers by the same orders (src/onnx/swin.ts).
 */
export function windowOrder(
  padded: Size2,
  window: Size2,
  shift: Size2,
  size: Size2,
): [Int32Array, Int32Array] {
  const key = `${padded}|${window}|${shift}|${size}`;
  const cached = ORDERS.get(key);
  if (cached) return cached;
  const [ph, pw] = padded, [wh, ww] = window, [sh, sw] = shift, [h, w] = size;
  const nw = pw / ww, n = wh * ww;
  const into = new Int32Array(ph * pw), where = new Int32Array(ph * pw);
  for (let k = 0; k < into.length; k++) {
    const win = Math.floor(k / n), t = k % n;
    const y = (Math.floor(win / nw) * wh + Math.floor(t / ww) + sh) % ph;
    const x = ((win % nw) * ww + (t % ww) + sw) % pw;
    into[k] = y * pw + x;
    where[y * pw + x] = k;
  }
  const back = new Int32Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) back[y * w + x] = where[y * pw + x];
  const orders: [Int32Array, Int32Array] = [into, back];
  ORDERS.set(key, orders);
  return orders;
}

/** Options of `ShiftedWindowAttention` (torchvision's keywords, camelCase). */
export interface ShiftedWindowAttentionModuleOptions {
  /** Bias in the qkv Linear (default true). */
  qkvBias?: boolean;
  /** Bias in the output Linear (default true). */
  projBias?: boolean;
  /** Dropout on the attention weights, in training (default 0). */
  attentionDropout?: number;
  /** Dropout on the output, in training (default 0). */
  dropout?: number;
}

const USAGE = "new models.ShiftedWindowAttention(96, [7, 7], [3, 3], 3, { attentionDropout: 0 })";

/**
 * torchvision's `ShiftedWindowAttention` (Swin V1): `qkv` Linear(dim,
 * 3 dim), `proj` Linear(dim, dim), the learned
 * `relative_position_bias_table` [(2 wh - 1)(2 ww - 1), heads] (normal,
 * std 0.02, as torchvision's trunc_normal_ cut at +-2 = 100 std) and the
 * `relative_position_index` buffer [N * N] (int32 here, int64 in torch;
 * both load). Input and output are channels-last [B, H, W, dim].
 *
 * Unlike torchvision 0.14, whose functional call leaves `F.dropout` in
 * training mode (pytorch/vision#7103), the two dropouts act only in
 * training (`train()`), as torchvision 0.15 fixed it; with the defaults (0)
 * there is no difference.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const attn = new models.ShiftedWindowAttention(8, [4, 4], [2, 2], 2);
 * console.log(attn.forward(randn([2, 6, 6, 8])).shape); // [2, 6, 6, 8]
 * console.log([...attn.stateDict().keys()].slice(0, 3)); // ["relative_position_bias_table", "relative_position_index", "qkv.weight"]
 * ```
 */
export class ShiftedWindowAttention extends Module {
  /** Learned bias per relative offset and head [(2 wh - 1)(2 ww - 1), heads]. */
  relative_position_bias_table: Parameter;
  /** Query, key and value projection, packed: Linear(dim, 3 dim). */
  qkv: Linear;
  /** Output projection: Linear(dim, dim). */
  proj: Linear;
  /** Window [height, width]. */
  readonly windowSize: Size2;
  /** Cyclic shift [height, width] (0 for the unshifted blocks). */
  readonly shiftSize: Size2;
  /** Attention heads. */
  readonly numHeads: number;
  /** Dropout on the attention weights. */
  readonly attentionDropout: number;
  /** Dropout on the output. */
  readonly dropout: number;

  /** Builds the projections, the bias table (normal, std 0.02) and the index buffer. */
  constructor(
    readonly dim: number,
    windowSize: Size2,
    shiftSize: Size2,
    numHeads: number,
    options: ShiftedWindowAttentionModuleOptions = {},
  ) {
    super();
    const where = "models.ShiftedWindowAttention";
    checkArity(where, arguments.length, 5, USAGE);
    const o = modelOptions(where, options, {
      qkvBias: true,
      projBias: true,
      attentionDropout: 0,
      dropout: 0,
    }, USAGE);
    checkCount(where, "dim", dim, USAGE);
    // torchvision: "window_size and shift_size must be of length 2".
    checkSize2(where, "windowSize", windowSize, 1, USAGE);
    checkSize2(where, "shiftSize", shiftSize, 0, USAGE);
    checkCount(where, "numHeads", numHeads, USAGE);
    if (dim % numHeads !== 0) {
      throw new Error(`${where}: dim ${dim} does not split into ${numHeads} heads; ${USAGE}`);
    }
    checkProbability(where, "attentionDropout", o.attentionDropout, USAGE);
    checkProbability(where, "dropout", o.dropout, USAGE);
    this.windowSize = Object.freeze([...windowSize]) as unknown as Size2;
    this.shiftSize = Object.freeze([...shiftSize]) as unknown as Size2;
    this.numHeads = numHeads;
    this.attentionDropout = o.attentionDropout;
    this.dropout = o.dropout;
    const [wh, ww] = windowSize;
    const table = Tensor.empty([(2 * wh - 1) * (2 * ww - 1), numHeads], "float32", "cpu", false);
    this.relative_position_bias_table = new Parameter(normal_(table, 0, 0.02));
    const index = relativePositionIndex(windowSize);
    this.registerBuffer(
      "relative_position_index",
      fromHost(index, [index.length], {
        dtype: "int32",
      }),
    );
    this.qkv = new Linear(dim, 3 * dim, { bias: o.qkvBias });
    this.proj = new Linear(dim, dim, { bias: o.projBias });
  }

  /** The int32 index [N * N] into the bias table. */
  get relativePositionIndex(): Tensor {
    return this.buffer("relative_position_index")!;
  }

  /** The bias added to each head's scores, [1, heads, N, N] (torchvision's `get_relative_position_bias`). */
  getRelativePositionBias(): Tensor {
    const n = this.windowSize[0] * this.windowSize[1];
    return indexSelect(this.relative_position_bias_table, 0, this.relativePositionIndex)
      .reshape(n, n, this.numHeads).permute(2, 0, 1).unsqueeze(0);
  }

  /** Channels-last x [B, H, W, dim] -> [B, H, W, dim]. */
  forward(x: Tensor): Tensor {
    if (x instanceof Tensor && (x.ndim !== 4 || x.shape[3] !== this.dim)) {
      throw new Error(
        `ShiftedWindowAttention(${this.dim}): expected a channels-last map [B, H, W, ${this.dim}], ` +
          `got [${x.shape}]; a Swin block's input is x.permute(0, 2, 3, 1) of [N, C, H, W]`,
      );
    }
    return shiftedWindowAttention(
      x,
      this.qkv.weight,
      this.proj.weight,
      this.getRelativePositionBias(),
      this.windowSize,
      this.numHeads,
      this.shiftSize,
      {
        attentionDropout: this.attentionDropout,
        dropout: this.dropout,
        qkvBias: this.qkv.bias,
        projBias: this.proj.bias,
        training: this.training,
      },
    );
  }
}

// torchvision's attribute names that this class spells in camelCase.
addNameHints(ShiftedWindowAttention.prototype, "models.ShiftedWindowAttention", {
  window_size: "write attn.windowSize",
  shift_size: "write attn.shiftSize",
  num_heads: "write attn.numHeads",
  attention_dropout: "write attn.attentionDropout",
  get_relative_position_bias: "write attn.getRelativePositionBias()",
});
