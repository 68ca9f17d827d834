/**
 * `F.pad`: padding (and, with negative amounts, cropping) of the last
 * dimensions, as torch's: `pad` lists (before, after) pairs from the last
 * dimension backwards, so `[1, 1, 2, 2]` adds one column on each side and
 * two rows on each side.
 *
 * "constant" writes the output once: one gather from the (cropped) input,
 * with `value` where it reads nothing; "reflect", "replicate" and
 * "circular" take each output position from a source position along the
 * dimension (a take, as flip and roll), so their gradients are the takes' scatter-adds:
 * a border pixel that several padded pixels copy gets all their gradients.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { numel, Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { checkElements, hostArray } from "../sizes.ts";
import { expectTensor } from "./compare.ts";
import { filledOp, fromHost } from "./creation.ts";
import { requireFloat } from "./elementwise.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { cat } from "./join.ts";
import { denseCopy, i64, narrow } from "./shape.ts";

/** How `pad` fills: a value, the mirror image without the edge, the edge, or wrap-around. */
export type PadMode = "constant" | "reflect" | "replicate" | "circular";

const MODES: PadMode[] = ["constant", "reflect", "replicate", "circular"];
const USAGE = 'F.pad(x, [left, right, top, bottom], "reflect") or F.pad(x, [1, 1], "constant", 0)';

/** The source position of output position c - before (c may fall outside [0, n)). */
function source(mode: PadMode, c: number, n: number): number {
  if (mode === "replicate") return Math.min(Math.max(c, 0), n - 1);
  if (mode === "circular") return ((c % n) + n) % n;
  // reflect: mirror about the first and last elements, which are not repeated.
  return c < 0 ? -c : c >= n ? 2 * (n - 1) - c : c;
}

function checkAmounts(x: Tensor, pad: unknown): number[] {
  if (!Array.isArray(pad) || pad.some((p) => !Number.isInteger(p))) {
    throw new Error(
      `pad: pad must be a list of integers, got ${JSON.stringify(pad)}; write ${USAGE}`,
    );
  }
  if (pad.length % 2 !== 0 || pad.length > 2 * x.ndim) {
    throw new Error(
      `pad: pad needs (before, after) pairs for at most ${x.ndim} dimensions of [${x.shape}], ` +
        `got ${pad.length} numbers; write ${USAGE}`,
    );
  }
  return pad as number[];
}

/** Checks that `mode` can pad `n` positions by (before, after) along dimension d. */
function checkMode(mode: PadMode, x: Tensor, d: number, before: number, after: number): void {
  const n = x.shape[d];
  const most = Math.max(before, after);
  if (n + before + after < 0) {
    throw new Error(
      `pad: padding (${before}, ${after}) leaves dimension ${d} of [${x.shape}] with ` +
        `${n + before + after} elements`,
    );
  }
  if (mode === "constant" || most <= 0) return;
  if (n === 0) {
    throw new Error(`pad: ${mode} padding needs elements along dimension ${d} of [${x.shape}]`);
  }
  if (mode === "reflect" && most >= n) {
    // torch: "Padding size should be less than the corresponding input dimension".
    throw new Error(
      `pad: reflect padding of ${most} must be less than the size ${n} of dimension ${d} of ` +
        `[${x.shape}]`,
    );
  }
  if (mode === "circular" && most > n) {
    throw new Error(
      `pad: circular padding of ${most} must be at most the size ${n} of dimension ${d} of ` +
        `[${x.shape}]`,
    );
  }
}

/** x with the negative sides of (before, after) cut off along d. */
function crop(x: Tensor, d: number, before: number, after: number): Tensor {
  if (before >= 0 && after >= 0) return x;
  const start = Math.max(-before, 0), cut = start + Math.max(-after, 0);
  return narrow(x, d, start, x.shape[d] - cut);
}

/**
 * Constant padding of every dimension at once (amounts [before, after] per
 * dimension, negative ones cropping): the output is allocated once and
 * written by one gather of the cropped input along its trailing block (the
 * dimensions from the first padded one on), whose pad positions read
 * nothing (0) and then take `value`. The gradient is dy's interior.
 * Null where an index would not fit int32 (the caller joins blocks then).
 */
function padConstantOnce(x: Tensor, amounts: number[][], value: number): Tensor | null {
  let y = x;
  for (let d = 0; d < x.ndim; d++) {
    const [before, after] = amounts[d];
    if (before === 0 && after === 0) continue;
    checkMode("constant", y, d, before, after);
    y = crop(y, d, before, after);
  }
  const grow = amounts.map(([b, a]) => [Math.max(b, 0), Math.max(a, 0)]);
  const q = grow.findIndex(([b, a]) => b > 0 || a > 0);
  if (q < 0) return y; // crops only: a view
  const shape = y.shape.map((s, d) => s + grow[d][0] + grow[d][1]);
  checkElements(shape, "pad");
  const outer = numel(shape.slice(0, q)), k = numel(shape.slice(q)), r = numel(y.shape.slice(q));
  if (k >= 2 ** 31 || r >= 2 ** 31) return null;
  const out = y.numel() === 0 || outer === 0
    ? filledOp(shape, value, x.device)
    : gatherPadded(x, y, shape, grow, q, value);
  const inner = y.shape;
  return record(out, {
    name: "pad",
    inputs: [y],
    saved: [],
    backward: (g) => {
      let dy = g;
      for (let d = 0; d < inner.length; d++) {
        if (grow[d][0] > 0 || grow[d][1] > 0) dy = narrow(dy, d, grow[d][0], inner[d]);
      }
      return [dy];
    },
  });
}

/** padConstantOnce's output, written by one gather (and `value` by one in-place where). */
function gatherPadded(
  x: Tensor,
  y: Tensor,
  shape: number[],
  grow: number[][],
  q: number,
  value: number,
): Tensor {
  const outer = numel(shape.slice(0, q)), k = numel(shape.slice(q)), r = numel(y.shape.slice(q));
  // The source of each position of the trailing block in y's, -1 (reads 0) in the padding.
  const index = hostArray(Int32Array, k, "pad");
  const tail = shape.slice(q), srcTail = y.shape.slice(q), at = new Array<number>(tail.length);
  for (let j = 0; j < k; j++) {
    let rest = j, src = 0, inside = true;
    for (let t = tail.length - 1; t >= 0; t--) {
      at[t] = rest % tail[t];
      rest = (rest - at[t]) / tail[t];
    }
    for (let t = 0; t < tail.length; t++) {
      const c = at[t] - grow[q + t][0];
      if (c < 0 || c >= srcTail[t]) {
        inside = false;
        break;
      }
      src = src * srcTail[t] + c;
    }
    index[j] = inside ? src : -1;
  }
  const src = y.isContiguous ? y : denseCopy(y);
  const idx = indexVector(index, x.device);
  const out = Tensor.empty(shape, "float32", x.device);
  const desc = () => `pad [${x.shape}] to [${shape}]`;
  const lib = x.lib;
  check(
    lib,
    lib.lits_gather_f32(src.ptr, idx.ptr, i64([0, 1, 0]), out.ptr, outer, r, k, 1, 0),
    desc,
  );
  if (!Object.is(value, 0)) {
    // value where the gather read nothing: in place, each element read then written.
    const inside = Float32Array.from(index, (v) => (v >= 0 ? 1 : 0));
    const cond = fromHost(inside, [k], { device: x.device }, true);
    const fill = filledOp([1], value, x.device);
    const dims = i64([outer, k]);
    check(
      lib,
      lib.lits_where_f32(
        2,
        dims,
        cond.ptr,
        i64([0, 1]),
        out.ptr,
        i64([k, 1]),
        fill.ptr,
        i64([0, 0]),
        out.ptr,
      ),
      desc,
    );
    cond.dispose();
    fill.dispose();
  }
  if (src !== y) src.dispose();
  idx.dispose();
  return out;
}

/** Constant padding along d: cut the negative sides, then join blocks of `value`. */
function padConstant(x: Tensor, d: number, before: number, after: number, value: number): Tensor {
  const y = crop(x, d, before, after);
  const parts: Tensor[] = [];
  // Op results, freed with the step (a user's full() would wait for the collector).
  const block = (size: number) =>
    filledOp(y.shape.map((s, i) => (i === d ? size : s)), value, x.device);
  if (before > 0) parts.push(block(before));
  parts.push(y);
  if (after > 0) parts.push(block(after));
  return parts.length === 1 ? y : cat(parts, d);
}

/**
 * `x` padded as `F.pad(x, pad, mode, value)`: `pad` holds (before, after)
 * pairs for the last dimension, then the one before it, and so on; negative
 * amounts crop. `mode` "constant" (default; `value`, default 0), "reflect"
 * (mirror without repeating the edge; amounts below the size), "replicate"
 * (repeat the edge) or "circular" (wrap around). Any of the last dimensions
 * may be padded in any mode (torch 1.13 asks non-constant modes for exactly
 * the spatial dimensions; that form gives the same result here).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[1, 2, 3]]]);
 * console.log(F.pad(x, [2, 1], "reflect").toArray()); // Float32Array [3, 2, 1, 2, 3, 2]
 * console.log(F.pad(x, [1, -1]).toArray()); // Float32Array [0, 1, 2]
 * ```
 */
export function pad(x: Tensor, pad: number[], mode: PadMode = "constant", value?: number): Tensor {
  refuseKeywords("F.pad", mode, `x, ${JSON.stringify(pad)}`, ["mode", "value"], ["constant", 0]);
  if (arguments.length > 4) {
    throw new Error(`pad: takes (x, pad, mode, value), got ${arguments.length} arguments`);
  }
  expectTensor(x, "pad", USAGE);
  requireFloat(x, "pad");
  const amounts = checkAmounts(x, pad);
  if (!MODES.includes(mode)) {
    throw new Error(`pad: mode must be one of ${MODES.join(", ")}, got ${JSON.stringify(mode)}`);
  }
  if (value !== undefined && mode !== "constant") {
    // torch: 'Padding mode "reflect" doesn't take in value argument'.
    throw new Error(`pad: ${mode} padding takes no value (only "constant" does)`);
  }
  if (value !== undefined && typeof value !== "number") {
    throw new Error(`pad: value must be a number, got ${JSON.stringify(value)}`);
  }
  if (mode === "constant") {
    // (before, after) per dimension, first to last.
    const perDim = x.shape.map((_, d) => {
      const k = x.ndim - 1 - d;
      return 2 * k < amounts.length ? [amounts[2 * k], amounts[2 * k + 1]] : [0, 0];
    });
    const once = padConstantOnce(x, perDim, value ?? 0);
    if (once !== null) return once;
  }
  let y = x;
  for (let k = 0; k < amounts.length / 2; k++) {
    const d = x.ndim - 1 - k;
    let before = amounts[2 * k], after = amounts[2 * k + 1];
    if (before === 0 && after === 0) continue;
    checkMode(mode, y, d, before, after);
    if (mode === "circular") {
      // torch wraps around what is left after the cut; reflect and
      // replicate read the uncut dimension.
      y = crop(y, d, before, after);
      [before, after] = [Math.max(before, 0), Math.max(after, 0)];
      checkMode(mode, y, d, before, after);
    }
    if (mode === "constant") {
      y = padConstant(y, d, before, after, value ?? 0);
      continue;
    }
    const n = y.shape[d], size = n + before + after;
    const index = Int32Array.from({ length: size }, (_, j) => source(mode, j - before, n));
    // Positions this library made: no pass to check them.
    y = takeAlong(y, d, indexVector(index, y.device), "row", false, "pad");
  }
  return y;
}
