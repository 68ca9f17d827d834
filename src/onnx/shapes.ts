/**
 * The shape rules and messages the emitters share: where a layer is, the
 * input it expects, the output size of a window, so that every refusal
 * names the layer and the shape it would have been given.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import { type Scope, shapeText, type Value } from "./graph.ts";

/** `layer "features.3" (Conv2d)`, or `the model (Net)` at the root, for messages. */
export function where(scope: Scope, m: Module): string {
  return describe(scope.path, m);
}

/** {@link where} for a path and module without a scope. */
export function describe(path: string, m: Module): string {
  return `${path ? `layer "${path}"` : "the model"} (${m.constructor.name})`;
}

/** `[N, C, H, W]` and friends: the shape a layer wants, for messages. */
function wanted(rank: number, channels: number | string): string {
  const rest = ["", "", "", "L", "H, W", "D, H, W"][rank];
  if (rest === undefined) return `rank ${rank}`;
  return `[N, ${channels}${rest ? `, ${rest}` : ""}]`;
}

/**
 * Throws unless `x` has one of `ranks` and, where given, `channels` in
 * dimension 1.
 */
export function expect(
  scope: Scope,
  m: Module,
  x: Value,
  ranks: number | readonly number[],
  channels?: number,
): void {
  const allowed = typeof ranks === "number" ? [ranks] : ranks;
  const ok = allowed.includes(x.shape.length) &&
    (channels === undefined || x.shape[1] === channels);
  if (!ok) {
    const want = allowed.map((r) => wanted(r, channels ?? "C")).join(" or ");
    throw new Error(
      `exportOnnx: ${where(scope, m)} expects ${want}, but its input would be ${
        shapeText(x.shape)
      }`,
    );
  }
}

/** The fixed spatial sizes of `x` (dimensions 2...); the batch alone may be symbolic. */
export function spatial(scope: Scope, m: Module, x: Value): number[] {
  const sizes = x.shape.slice(2);
  if (!sizes.every((d) => typeof d === "number")) {
    throw new Error(
      `exportOnnx: ${where(scope, m)} needs fixed spatial sizes, got ${shapeText(x.shape)}`,
    );
  }
  return sizes as number[];
}

/** PyTorch's pooled or convolved size; ceil mode's last window must start inside. */
export function outSize(size: number, k: number, s: number, p: number, ceil = false): number {
  const span = size + 2 * p - k;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

/** Throws when a window leaves no output. */
export function tooSmall(scope: Scope, m: Module, x: Value, oh: number, ow: number): void {
  if (oh < 1 || ow < 1) {
    throw new Error(
      `exportOnnx: ${where(scope, m)}: input ${shapeText(x.shape)} is too small for it`,
    );
  }
}
