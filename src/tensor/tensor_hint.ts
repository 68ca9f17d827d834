/**
 * What a value that people pass where a tensor goes (a model's training
 * outputs, torchvision's `InceptionOutputs`) says about itself, so that the
 * op refusing it can say what to write instead of "got object".
 *
 * @module
 */

/** @internal the key of that text: a registered symbol, so that readers need not import the owner. */
export const TENSOR_HINT: unique symbol = Symbol.for("@lits/vision/tensorHint");

/**
 * @internal `v`'s hint ("InceptionOutputs (...): write out.logits ...") when
 * it carries one, else null.
 *
 * @example
 * ```ts
 * import { TENSOR_HINT, tensorHint } from "./tensor_hint.ts";
 * console.log(tensorHint({ [TENSOR_HINT]: "a pair: take .logits" }), tensorHint(3)); // "a pair: take .logits" null
 * ```
 */
export function tensorHint(v: unknown): string | null {
  if (v === null || (typeof v !== "object" && typeof v !== "function")) return null;
  const hint = (v as { [TENSOR_HINT]?: unknown })[TENSOR_HINT];
  return typeof hint === "string" ? hint : null;
}
