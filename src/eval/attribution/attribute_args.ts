/**
 * Argument checks that the methods of Captum's second group share: the
 * target given positionally (Captum's `attribute(input, target)`), and
 * `featureMask` (FeatureAblation, ShapleyValueSampling): an int32 tensor
 * of feature indices that broadcasts to the input.
 *
 * @module
 */
import { Tensor } from "../../tensor/tensor.ts";
import { showValue } from "../../tensor/ops/show_value.ts";

/**
 * Throws where the options are a target (Captum's second positional
 * argument): a number, an array or a tensor of labels.
 */
export function refusePositionalTarget(where: string, options: unknown, call: string): void {
  if (typeof options === "number" || Array.isArray(options) || options instanceof Tensor) {
    const shown = options instanceof Tensor ? "labels" : JSON.stringify(options);
    throw new Error(
      `${where}: the target goes in the options: write ${call}(input, { target: ${shown} }) ` +
        "(Captum's attribute(input, target) takes it second)",
    );
  }
}

/** A checked feature mask: one feature index per element of one example, or per element. */
export interface FeatureMask {
  /** The mask at the input's full shape [N, ...] (broadcast), as host integers. */
  readonly ids: Int32Array;
  /** The smallest and largest feature index. */
  readonly min: number;
  readonly max: number;
}

/**
 * Checks Captum's `feature_mask` against `input` and expands it to the
 * input's shape: an int32 tensor that broadcasts to the input ([1, ...]
 * for every example, [N, ...] per example, or any broadcastable shape).
 * Without one, every element of an example is its own feature (Captum's
 * default mask: 0 .. numel(example) - 1, the same for each example).
 */
export function checkFeatureMask(where: string, mask: unknown, input: Tensor): FeatureMask {
  const x = input.shape;
  const per = x.slice(1).reduce((a, b) => a * b, 1);
  const n = x[0];
  const ids = new Int32Array(n * per);
  if (mask === undefined || mask === null) {
    for (let i = 0; i < ids.length; i++) ids[i] = i % per;
    return { ids, min: 0, max: per - 1 };
  }
  if (!(mask instanceof Tensor)) {
    const many = Array.isArray(mask)
      ? " (Captum's tuple of masks is for several inputs, which are not supported here)"
      : "";
    throw new Error(
      `${where}: featureMask must be an int32 tensor of feature indices, got ` +
        `${showValue(mask)}${many}; write tensor(ids, [1, ${x.slice(1).join(", ")}], ` +
        '{ dtype: "int32" })',
    );
  }
  if (!mask.isAlive) throw new Error(`${where}: featureMask [${mask.shape}] was released`);
  if (mask.dtype !== "int32") {
    throw new Error(
      `${where}: featureMask must hold int32 feature indices, got ${mask.dtype}; convert it ` +
        "with mask.int()",
    );
  }
  const b = mask.shape;
  const off = x.length - b.length;
  if (off < 0 || b.some((d, i) => d !== 1 && d !== x[off + i])) {
    throw new Error(
      `${where}: featureMask [${b}] does not broadcast to the input [${x}]; give one mask ` +
        `[1, ${x.slice(1).join(", ")}] for every example or one per example [${x.join(", ")}]`,
    );
  }
  // Broadcast on the host: a stride of 0 where the mask has size 1.
  const src = mask.toArray() as Int32Array;
  const strides = x.map(() => 0);
  for (let d = b.length - 1, s = 1; d >= 0; d--) {
    strides[off + d] = b[d] === 1 ? 0 : s;
    s *= b[d];
  }
  for (let i = 0; i < ids.length; i++) {
    let rest = i, at = 0;
    for (let d = x.length - 1; d >= 0; d--) {
      at += (rest % x[d]) * strides[d];
      rest = Math.floor(rest / x[d]);
    }
    ids[i] = src[at];
  }
  let min = Infinity, max = -Infinity;
  for (const v of ids) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { ids, min, max };
}

/**
 * The elements (flat offsets in the batch) of each feature index from
 * `from` (default the mask's smallest) to its largest, in order: Captum's
 * methods run one perturbation per index in that range, used or not.
 */
export function featureElements(
  where: string,
  mask: FeatureMask,
  from: number = mask.min,
): Int32Array[] {
  const count = mask.max - from + 1;
  if (count > mask.ids.length) {
    throw new Error(
      `${where}: featureMask's indices run from ${from} to ${mask.max}, ${count} features for ` +
        `${mask.ids.length} elements; Captum runs a forward pass for every index in that range, ` +
        "used or not: number the features 0, 1, 2, ...",
    );
  }
  const sizes = new Int32Array(count);
  for (const v of mask.ids) sizes[v - from]++;
  const out = Array.from(sizes, (s) => new Int32Array(s));
  sizes.fill(0);
  mask.ids.forEach((v, e) => {
    const f = v - from;
    out[f][sizes[f]++] = e;
  });
  return out;
}
