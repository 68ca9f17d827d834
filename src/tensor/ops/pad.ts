/**
 * `F.pad`: padding (and, with negative amounts, cropping) of the last
 * dimensions, as torch's: `pad` lists (before, after) pairs from the last
 * dimension backwards, so `[1, 1, 2, 2]` adds one column on each side and
 * two rows on each side.
 *
 * "constant" joins blocks of `value` (cat); "reflect", "replicate" and
 * "circular" take each output position from a source position along the
 * dimension (a take, as flip and roll), so their gradients are the takes' scatter-adds:
 * a border pixel that several padded pixels copy gets all their gradients.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { filledOp } from "./creation.ts";
import { requireFloat } from "./elementwise.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { cat } from "./join.ts";
import { narrow } from "./shape.ts";

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
