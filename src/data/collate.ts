/**
 * `defaultCollate`: a list of samples made into one batch, as PyTorch's
 * `default_collate`, for what samples hold here. The DataLoader applies it,
 * or your own `collateFn`, to each batch's samples when given
 * `{ collateFn }` (without one it yields `batch.images` / `batch.labels`).
 *
 * Field by field, the way torch walks a batch:
 *
 * - a Tensor: stacked on a new dim 0 (`torch.stack`), all of one shape and dtype;
 * - an image `{ data: Float32Array, width, height }` (or a volume with
 *   `depth`, `channels`): one tensor sample, as torch's [1, H, W] tensor image,
 *   so stacked to [N, 1, H, W] float32 (volumes [N, C, D, H, W]; `spacing` is
 *   not batched);
 * - a typed array (torch's numpy array): stacked to [N, length]; float arrays
 *   (Float16Array too) as float32, integer arrays as int32 (the two dtypes
 *   here; BigInt64Array values where they fit);
 * - numbers: one [N] tensor, int32 when every one is an integer, else float32
 *   (torch: int64 / float64; JavaScript has one number type, so `2.0` is an
 *   integer here); booleans: a float32 0/1 mask (masks here are float32);
 * - strings: the list of them;
 * - plain objects: collated key by key (every sample has the same keys);
 * - arrays (torch's lists and tuples): transposed, then collated position by
 *   position (every sample has the same length).
 *
 * Anything else (null, undefined, a function, an instance of another class)
 * is an Error naming where in the sample it sits, as torch's TypeError.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { stack } from "../tensor/ops/join.ts";
import { tensor } from "../tensor/ops/creation.ts";
import { disown, keptCopy } from "../tensor/ownership.ts";
import type { Image, Volume } from "./types.ts";
import { checkSample } from "./sample_form.ts";

/** Every JavaScript typed array but the BigInt ones. */
export type NumberArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/** What `defaultCollate` makes of a batch of samples of type `S` (field by field). */
export type Collated<S> = unknown extends S ? unknown // any or unknown: not known here
  : S extends Tensor ? Tensor
  : S extends number | boolean ? Tensor
  : S extends string ? string[]
  : S extends NumberArray ? Tensor
  : S extends Image | Volume ? Tensor
  : S extends readonly unknown[] ? { -readonly [K in keyof S]: Collated<S[K]> }
  : S extends object ? { -readonly [K in keyof S]: Collated<S[K]> }
  : never;

/** The loader's `collateFn`: the samples of one batch to what the loader yields. */
export type CollateFn<T, S = unknown> = (samples: S[]) => T | Promise<T>;

/**
 * Any dataset a DataLoader reads: by index (`{ length, get(i) }`, samples of
 * any form when the loader has a `collateFn`) or a stream (an iterable or
 * async iterable, as `IterableDataset`).
 */
export type AnyDataset =
  | { readonly length: number; get(i: number): unknown }
  | Iterable<unknown>
  | AsyncIterable<unknown>;

/** The sample type of a dataset: what its get(i) resolves to, or what its stream yields. */
export type SampleOf<D> = D extends { get(i: number): infer R } ? Awaited<R>
  : D extends Iterable<infer R> ? Awaited<R>
  : D extends AsyncIterable<infer R> ? R
  : unknown;

const TORCH_KINDS = "tensors, images { data, width, height }, typed arrays, numbers, " +
  "booleans, strings, plain objects or arrays";

/** The kind of a value, as collate walks it; null for what it cannot batch. */
function kindOf(v: unknown): string | null {
  if (v instanceof Tensor) return "tensor";
  if (typeof v === "number") return "number";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  if (ArrayBuffer.isView(v)) return v instanceof DataView ? null : "typed array";
  if (Array.isArray(v)) return "array";
  if (v !== null && typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return null;
    return isImage(v) ? "image" : "object";
  }
  return null;
}

/** Whether a plain object is an image or volume (its keys those of `Image` / `Volume`). */
function isImage(v: object): boolean {
  const keys = Object.keys(v);
  return (v as { data?: unknown }).data instanceof Float32Array && keys.includes("width") &&
    keys.includes("height") &&
    keys.every((k) => ["data", "width", "height", "depth", "channels", "spacing"].includes(k));
}

/** A short name of a value for the messages (its class, or its type). */
function nameOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (v instanceof Tensor) return `a Tensor [${v.shape}] ${v.dtype}`;
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") {
    const name = v.constructor?.name;
    if (kindOf(v) === "image") return "an image";
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  return typeof v === "function" ? "a function" : `a ${typeof v}`;
}

/** "batch[k].image" style paths: where a value sits in sample k. */
function at(path: string): string {
  return path === "" ? "" : ` at ${path}`;
}

function fail(path: string, message: string): never {
  throw new Error(`defaultCollate${at(path)}: ${message}`);
}

/**
 * The samples of one batch as one batch, as PyTorch's `default_collate` (see
 * the module doc for what each kind of field becomes). Pass it as the
 * loader's `collateFn`, or call it from your own to collate the fields you
 * leave as they are (`{ ...defaultCollate(rest), lengths }`).
 *
 * The tensors it makes are yours outside any scope, as `tensor(...)`'s
 * (dispose them, or drop them for the collector); the samples are left as
 * they are.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const samples = [
 *   { image: { data: new Float32Array(4).fill(1), width: 2, height: 2 }, label: 0, id: "p1", w: 0.5 },
 *   { image: { data: new Float32Array(4).fill(2), width: 2, height: 2 }, label: 2, id: "p2", w: 1.5 },
 * ];
 * const b = data.defaultCollate(samples);
 * console.log(b.image.shape, b.label.dtype, b.id, b.w.dtype); // [2, 1, 2, 2] int32 ["p1", "p2"] float32
 * ```
 */
export function defaultCollate<S>(samples: readonly S[]): Collated<S> {
  if (!Array.isArray(samples)) {
    throw new Error(
      `defaultCollate: takes the list of a batch's samples, got ${nameOf(samples)}; ` +
        "write data.defaultCollate([s0, s1, ...])",
    );
  }
  if (samples.length === 0) throw new Error("defaultCollate: got an empty list of samples");
  return collate(samples, "") as Collated<S>;
}

function collate(batch: readonly unknown[], path: string): unknown {
  const first = batch[0];
  const kind = kindOf(first);
  if (kind === null) {
    fail(
      path,
      `batch must contain ${TORCH_KINDS}; found ${nameOf(first)} in sample 0 ` +
        "(torch's TypeError); leave it out of the sample, or give a collateFn of your own",
    );
  }
  for (let k = 1; k < batch.length; k++) {
    const other = kindOf(batch[k]);
    if (other !== kind) {
      fail(
        path,
        `sample 0 holds ${nameOf(first)} but sample ${k} holds ${nameOf(batch[k])}; ` +
          "every sample of a batch has the same form",
      );
    }
  }
  switch (kind) {
    case "tensor":
      return stackTensors(batch as Tensor[], path);
    case "number":
      return numbers(batch as number[], path);
    case "boolean":
      return tensor(batch.map((b) => (b ? 1 : 0)), [batch.length]);
    case "string":
      return [...batch];
    case "typed array":
      return typedArrays(batch as NumberArray[], path);
    case "image":
      return images(batch as (Image | Volume)[], path);
    case "array":
      return transposed(batch as unknown[][], path);
    default:
      return fields(batch as Record<string, unknown>[], path);
  }
}

function stackTensors(batch: Tensor[], path: string): Tensor {
  const first = batch[0];
  batch.forEach((t, k) => {
    if (t.dtype !== first.dtype || t.shape.join() !== first.shape.join()) {
      fail(
        path,
        `stack expects each tensor to be equal size and dtype, but got [${first.shape}] ` +
          `${first.dtype} at sample 0 and [${t.shape}] ${t.dtype} at sample ${k} (torch's ` +
          "RuntimeError); variable-size inputs need a collateFn of your own (pad them, or " +
          "keep the list)",
      );
    }
  });
  const out = stack(batch, 0);
  // A batch made from data is the caller's (as tensor(...)); one in a graph stays the step's.
  return keptCopy(out, out, false);
}

function numbers(batch: number[], path: string): Tensor {
  if (!batch.every((v) => Number.isInteger(v))) return tensor(batch, [batch.length]);
  const k = batch.findIndex((v) => v < -0x80000000 || v > 0x7fffffff);
  if (k >= 0) {
    fail(
      path,
      `sample ${k} is the integer ${batch[k]}, outside int32 (the integer dtype here, torch's ` +
        "int64); give it as a string (an id) or collate it yourself",
    );
  }
  return tensor(Int32Array.from(batch), [batch.length]);
}

/** float32 for float arrays, int32 for integer arrays (BigInt ones too) that fit it. */
function typedArrays(batch: NumberArray[], path: string): Tensor {
  const first = batch[0];
  // Float16Array is newer than the type library (it was read as integers).
  const F16 = (globalThis as { Float16Array?: abstract new () => unknown }).Float16Array;
  const float = first instanceof Float32Array || first instanceof Float64Array ||
    (F16 !== undefined && (first as unknown) instanceof F16);
  const big = (first as unknown) instanceof BigInt64Array ||
    (first as unknown) instanceof BigUint64Array;
  batch.forEach((a, k) => {
    if (a.constructor !== first.constructor || a.length !== first.length) {
      fail(
        path,
        `stack expects each array to be equal size and type, but got a ${first.constructor.name} ` +
          `of ${first.length} at sample 0 and a ${a.constructor.name} of ${a.length} at ` +
          `sample ${k}; variable-size inputs need a collateFn of your own (pad them)`,
      );
    }
  });
  if (typeof (first as { BYTES_PER_ELEMENT?: unknown }).BYTES_PER_ELEMENT !== "number") {
    fail(path, `cannot batch a ${first.constructor.name}`);
  }
  const n = first.length;
  const out = float ? new Float32Array(batch.length * n) : new Int32Array(batch.length * n);
  batch.forEach((a, k) => {
    if (big) {
      // torch's int64 from numpy; int32 is the integer dtype here.
      const values = a as unknown as ArrayLike<bigint>;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v < -0x80000000n || v > 0x7fffffffn) {
          fail(
            path,
            `sample ${k}: a ${a.constructor.name} value (${v}) does not fit int32 (the integer ` +
              "dtype here, torch's int64); give it as a string (an id) or collate it yourself",
          );
        }
        out[k * n + i] = Number(v);
      }
      return;
    }
    if (a instanceof Uint32Array && a.some((v) => v > 0x7fffffff)) {
      fail(path, `sample ${k}: a Uint32Array value does not fit int32 (the integer dtype here)`);
    }
    out.set(a as ArrayLike<number>, k * n);
  });
  return tensor(out, [batch.length, n]);
}

/** Images as [N, 1, H, W], volumes as [N, C, D, H, W] (as the loader's batch.images). */
function images(batch: (Image | Volume)[], path: string): Tensor {
  const shapeOf = (img: Image | Volume, k: number): number[] => {
    try {
      checkSample({ image: img, label: 0 });
    } catch (e) {
      fail(path, `sample ${k}: ${(e as Error).message}`);
    }
    const v = img as Partial<Volume>;
    return v.depth === undefined
      ? [1, img.height, img.width]
      : [v.channels ?? 1, v.depth, img.height, img.width];
  };
  const shape = shapeOf(batch[0], 0);
  const size = batch[0].data.length;
  const out = new Float32Array(batch.length * size);
  batch.forEach((img, k) => {
    const s = shapeOf(img, k);
    if (s.join() !== shape.join()) {
      fail(
        path,
        `images differ in size: sample 0 is [${shape}] and sample ${k} is [${s}] (C, [D,] H, W); ` +
          "add a Resize or crop transform, or give a collateFn of your own that pads",
      );
    }
    out.set(img.data, k * size);
  });
  return tensor(out, [batch.length, ...shape]);
}

function transposed(batch: unknown[][], path: string): unknown[] {
  const n = batch[0].length;
  const k = batch.findIndex((a) => a.length !== n);
  if (k >= 0) {
    fail(
      path,
      `each element in list of batch should be of equal size (torch's RuntimeError): sample 0 ` +
        `has ${n} and sample ${k} has ${batch[k].length}`,
    );
  }
  const out: unknown[] = [];
  try {
    for (let i = 0; i < n; i++) out.push(collate(batch.map((a) => a[i]), `${path}[${i}]`));
  } catch (e) {
    disposeTensors(out); // what the earlier positions made would otherwise wait for the collector
    throw e;
  }
  return out;
}

function fields(batch: Record<string, unknown>[], path: string): Record<string, unknown> {
  const keys = Object.keys(batch[0]);
  batch.forEach((o, k) => {
    const own = Object.keys(o);
    const missing = keys.filter((key) => !Object.hasOwn(o, key));
    const extra = own.filter((key) => !keys.includes(key));
    if (missing.length > 0 || extra.length > 0) {
      // torch raises KeyError for a missing key and drops an extra one silently.
      fail(
        path,
        `sample ${k} has keys { ${own.join(", ")} } but sample 0 has { ${keys.join(", ")} }; ` +
          "every sample of a batch has the same keys",
      );
    }
  });
  const out: Record<string, unknown> = {};
  try {
    for (const key of keys) {
      const sub = /^[A-Za-z_$][\w$]*$/.test(key)
        ? `${path}.${key}`
        : `${path}[${JSON.stringify(key)}]`;
      out[key] = collate(batch.map((o) => o[key]), sub);
    }
  } catch (e) {
    disposeTensors(out); // the fields collated before the failing one
    throw e;
  }
  return out;
}

/** Disposes every tensor in arrays and plain objects of `value` (what collate made). */
function disposeTensors(value: unknown): void {
  walkTensors(value, (t) => t.dispose());
}

/**
 * @internal hands every tensor in the loader's collated batch to the caller
 * (as the loader's own batches are, wherever the loop runs: inside
 * `noGrad(async ...)` the chain would otherwise hold every batch until the
 * loop ends).
 */
export function disownTensors(value: unknown): void {
  walkTensors(value, disown);
}

/** Calls `f` on each tensor in `value`, its arrays, plain objects and Maps (each once). */
function walkTensors(value: unknown, f: (t: Tensor) => void, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (value instanceof Tensor) {
    f(value);
  } else if (Array.isArray(value)) {
    for (const v of value) walkTensors(v, f, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) walkTensors(v, f, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) walkTensors(v, f, seen);
  }
}

/** Throws unless `fn` is a collate function (or absent); returns it or null. */
export function checkCollateFn(fn: unknown): ((samples: unknown) => unknown) | null {
  if (fn === undefined || fn === null) return null;
  if (typeof fn !== "function") {
    throw new Error(
      `DataLoader: collateFn must be a function of the batch's list of samples, got ` +
        `${nameOf(fn)}; write { collateFn: data.defaultCollate } or ` +
        "{ collateFn: (samples) => ... }",
    );
  }
  return fn as (samples: unknown) => unknown;
}
