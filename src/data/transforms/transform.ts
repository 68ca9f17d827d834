/**
 * The transform contract: a transform is described by a plain-data spec
 * (`{ name, ...params }`, JSON-safe), so the loader can send it to worker
 * threads, which rebuild the same transform with `fromSpec`. Applying one is
 * a pure function of the image and an explicit `Rng`; a random transform
 * first draws whether it applies at all, with probability `p` (as MONAI's
 * `prob`), then its parameters.
 *
 * Parameters are checked when the transform is built (on the main thread,
 * before any worker starts), and errors name the transform.
 *
 * As in torchvision, `apply` also takes a batch tensor and may be called
 * without a generator; see `Transform.apply`.
 *
 * @module
 */
import { checkArity, checkOptions } from "../../options.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { globalRng, Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { applyToBatch, checkInput } from "./batch_apply.ts";
import { fmt } from "./image.ts";

/** A transform as plain data: its class name and constructor parameters. */
export interface TransformSpec {
  /** Registered name, e.g. "RandomAffine". */
  name: string;
  /** Constructor parameters (JSON values). */
  [param: string]: unknown;
}

/** What a transform class tells `Transform` about its options, for the checks it runs. */
export interface TransformOptions {
  /** The parameter names it takes, besides `p`. */
  keys: readonly string[];
  /** Default probability of applying; null for a deterministic transform, which takes no `p`. */
  p: number | null;
  /** A typical options object, shown in errors: `{ size: 224 }`. */
  usage: string;
}

/**
 * @internal What a transform's constructor checks, for the 2-D and the
 * volume family alike: the argument count, that `params` is an options
 * object (anything else fails with the options form), the parameter names
 * (`hint(key, camel, keys)` adds to an unknown one's message; by default a
 * snake_case name names its camelCase form), and `p`. Returns `p` and the
 * parameters given (the spec's).
 */
export function checkedParams(
  name: string,
  usage: string,
  params: object,
  argCount: number,
  options: TransformOptions,
  hint: (key: string, camel: string, keys: readonly string[]) => string = (key, camel, keys) =>
    camel !== key && keys.includes(camel) ? ` (write '${camel}')` : "",
): { p: number; kept: Record<string, unknown> } {
  checkArity(name, argCount, 1, usage);
  const keys = options.p === null ? options.keys : [...options.keys, "p"];
  const proto = params !== null && typeof params === "object"
    ? Object.getPrototypeOf(params)
    : undefined;
  if (proto !== Object.prototype && proto !== null) {
    checkOptions<Record<string, unknown>>(name, params ?? null, keys, usage);
  }
  const given = params as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if ((key === "name" && given[key] === name) || keys.includes(key)) continue;
    const camel = key.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    throw new Error(
      `${name}: unknown parameter '${key}'${hint(key, camel, keys)} (expected ${
        keys.join(", ") || "none"
      })`,
    );
  }
  const p = given.p ?? options.p ?? 1;
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`${name}: p must be a probability in [0, 1], got ${fmt(p)}`);
  }
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) if (v !== undefined && k !== "name") kept[k] = v;
  return { p, kept };
}

/**
 * Base class of the composable transforms. A subclass passes its options
 * object, `arguments.length` and a `TransformOptions`; its name (in specs and
 * errors) is its class name, so `fromSpec` finds it by the name it is
 * exported under (Deno does not minify class names; a test holds the two equal).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomHorizontalFlip({ p: 1 });
 * const img = { data: new Float32Array([1, 2]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data], t.spec); // [2, 1] { name: "RandomHorizontalFlip", p: 1 }
 * ```
 */
export abstract class Transform {
  /** The registered name (the class name). */
  readonly name: string;
  /** Probability of applying (1 for deterministic transforms). */
  readonly p: number;
  /** The call shown in errors, e.g. `new transforms.Resize({ size: 224 })`. */
  protected readonly usage: string;
  readonly #params: Record<string, unknown>;

  /**
   * Checks the argument count (`new Resize(224, 224)` fails rather than
   * dropping one), that `params` is an options object (`new Resize(224)`
   * fails with the options form), the parameter names, and `p`.
   */
  constructor(params: object, argCount: number, options: TransformOptions) {
    const name = new.target.name;
    this.name = name;
    const usage = `new transforms.${name}(${options.usage})`;
    this.usage = usage;
    const checked = checkedParams(name, usage, params, argCount, options);
    this.p = checked.p;
    this.#params = checked.kept;
  }

  /**
   * The plain-data description that `fromSpec` turns back into this
   * transform. A NaN or an infinity in it reaches JSON as the string "NaN",
   * "Infinity" or "-Infinity" (see `jsonSafe`), which `fromSpec` reads back.
   */
  get spec(): TransformSpec {
    return jsonSafe({ name: this.name, ...structuredClone(this.#params) });
  }

  /** JSON form: the spec, NaN and the infinities as strings. */
  toJSON(): TransformSpec {
    return specJSON(this.spec);
  }

  /**
   * Applies the transform (with probability `p`), drawing from `rng`.
   *
   * - An `Image` gives an `Image` (possibly the input itself when nothing
   *   changes).
   * - A float32 batch tensor `[N, 1, H, W]` gives a new `[N, 1, H', W']`
   *   tensor on the same device: each sample is transformed on its own, with
   *   its own random draw (`rng.split()` per sample; torchvision draws once
   *   per call and applies the same parameters to the whole batch). The
   *   pixels go through host memory, so a CUDA batch is copied to the host
   *   and back; no gradient flows through.
   * - Without `rng`, a generator is taken from the global stream that
   *   `manualSeed` seeds (as torchvision draws from torch's global
   *   generator), so `manualSeed(0)` makes a pipeline reproducible.
   *
   * @example
   * ```ts
   * import { data, manualSeed, tensor } from "@lits/vision";
   * const t = new data.transforms.RandomRotation({ degrees: 30 });
   * const img = { data: new Float32Array(64).map((_, i) => i), width: 8, height: 8 };
   * manualSeed(0);
   * const a = t.apply(img);
   * manualSeed(0);
   * console.log(t.apply(img).data.every((v, i) => v === a.data[i])); // true
   * using batch = tensor(new Float32Array(2 * 64), [2, 1, 8, 8]);
   * using out = new data.transforms.Resize({ size: 4 }).apply(batch);
   * console.log(out.shape); // [2, 1, 4, 4]
   * ```
   */
  apply(image: Image, rng?: Rng): Image;
  apply(batch: Tensor, rng?: Rng): Tensor;
  apply(input: Image | Tensor, rng?: Rng): Image | Tensor {
    if (rng !== undefined && !(rng instanceof Rng)) {
      throw new Error(
        `${this.name}.apply: rng must be a data.Rng (e.g. new data.Rng(0)) or left out ` +
          `(then manualSeed's stream is used), got ${fmt(rng)}`,
      );
    }
    const r = rng ?? globalRng();
    if (input instanceof Tensor) {
      return applyToBatch(this.name, input, r, (image, sampleRng) => this.#one(image, sampleRng));
    }
    checkInput(this.name, input);
    return this.#one(input, r);
  }

  #one(image: Image, rng: Rng): Image {
    if (this.p < 1 && !rng.bernoulli(this.p)) return image;
    return this.run(image, rng);
  }

  /** The transform itself, once it has been decided to apply it. */
  protected abstract run(image: Image, rng: Rng): Image;
}

/** The strings a spec's JSON form writes for the numbers JSON lacks. */
const NON_FINITE: ReadonlyMap<string, number> = new Map([
  ["NaN", NaN],
  ["Infinity", Infinity],
  ["-Infinity", -Infinity],
]);

/** A plain object (what specs are made of; not a Transform or a typed array). */
function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Whether `v` holds a NaN or an infinity, in its arrays and plain objects too. */
function hasNonFinite(v: unknown): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  if (Array.isArray(v)) return v.some(hasNonFinite);
  return isPlain(v) && Object.values(v).some(hasNonFinite);
}

/** @internal `spec` as JSON should write it: NaN, Infinity and -Infinity as strings. */
export function specJSON<T>(spec: T): T {
  const encode = (v: unknown): unknown =>
    typeof v === "number"
      ? Number.isFinite(v) ? v : String(v)
      : Array.isArray(v)
      ? v.map(encode)
      : isPlain(v)
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]))
      : v;
  return encode(spec) as T;
}

/**
 * @internal Makes `JSON.stringify` keep a spec's NaN and infinities (which
 * it writes as null, silently changing the transform): each array and
 * plain object in `spec` that holds one gets a non-enumerable `toJSON`
 * writing them as "NaN", "Infinity" and "-Infinity", which `fromSpec`
 * reads back (`specNumbers`). The spec stays plain data: structured clone
 * (the loader's workers) copies enumerable properties only and keeps the
 * numbers as they are. Returns `spec`.
 */
export function jsonSafe<T>(spec: T): T {
  if ((Array.isArray(spec) || isPlain(spec)) && hasNonFinite(spec)) {
    Object.defineProperty(spec, "toJSON", {
      value: () => specJSON(spec),
      enumerable: false,
      configurable: true,
      writable: true,
    });
    for (const v of Object.values(spec as object)) jsonSafe(v);
  }
  return spec;
}

/**
 * @internal A spec's parameters with the strings "NaN", "Infinity" and
 * "-Infinity" (its JSON form's, see `jsonSafe`) as numbers again, in its
 * arrays and plain objects too (a copy; Transform objects are kept).
 */
export function specNumbers<T>(params: T): T {
  const decode = (v: unknown): unknown =>
    typeof v === "string"
      ? NON_FINITE.get(v) ?? v
      : Array.isArray(v)
      ? v.map(decode)
      : isPlain(v)
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]))
      : v;
  return decode(params) as T;
}

/** A finite number, or throws naming the transform and parameter. */
export function num(
  name: string,
  key: string,
  v: unknown,
  check: { min?: number; max?: number; above?: number; integer?: boolean } = {},
): number {
  const ok = typeof v === "number" && Number.isFinite(v) &&
    (check.min === undefined || v >= check.min) &&
    (check.max === undefined || v <= check.max) &&
    (check.above === undefined || v > check.above) &&
    (!check.integer || Number.isInteger(v));
  if (!ok) {
    const rule = [
      check.integer ? "an integer" : "a finite number",
      check.min !== undefined ? `>= ${check.min}` : "",
      check.above !== undefined ? `> ${check.above}` : "",
      check.max !== undefined ? `<= ${check.max}` : "",
    ].filter(Boolean).join(" ");
    throw new Error(`${name}: ${key} must be ${rule}, got ${fmt(v)}`);
  }
  return v as number;
}

/** A boolean flag (default when left out), or throws: JSON specs and configs must not say "false". */
export function bool(name: string, key: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") {
    throw new Error(`${name}: ${key} must be true or false, got ${fmt(v)}`);
  }
  return v;
}

/**
 * A [lo, hi] range from a number (meaning [-v, v], or [base - v, base + v])
 * or a pair; checks lo <= hi and the bounds.
 */
export function range(
  name: string,
  key: string,
  v: unknown,
  check: { min?: number; max?: number; above?: number; base?: number } = {},
): [number, number] {
  let pair: unknown[];
  if (typeof v === "number") {
    num(name, key, v, { min: 0 });
    const base = check.base ?? 0;
    pair = [base - v, base + v];
  } else if (Array.isArray(v) && v.length === 2) {
    pair = v;
  } else {
    throw new Error(`${name}: ${key} must be a number or a [lo, hi] pair, got ${fmt(v)}`);
  }
  let lo: number, hi: number;
  try {
    [lo, hi] = pair.map((x) => num(name, key, x, check));
  } catch (e) {
    if (typeof v !== "number") throw e;
    // Name what the user wrote, not the bound derived from it.
    throw new Error(`${(e as Error).message} (${key}: ${v} means [${pair.join(", ")}])`);
  }
  if (lo > hi) throw new Error(`${name}: ${key} range must have lo <= hi, got ${fmt(v)}`);
  return [lo, hi];
}
