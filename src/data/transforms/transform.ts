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
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { fmt } from "./image.ts";

/** A transform as plain data: its class name and constructor parameters. */
export interface TransformSpec {
  /** Registered name, e.g. "RandomAffine". */
  name: string;
  /** Constructor parameters (JSON values). */
  [param: string]: unknown;
}

/**
 * Base class of the composable transforms.
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
  readonly #params: Record<string, unknown>;

  /**
   * Checks the parameter names; `defaultP` is null for deterministic
   * transforms, which take no `p`.
   */
  constructor(
    name: string,
    params: Record<string, unknown>,
    allowed: readonly string[],
    defaultP: number | null,
  ) {
    this.name = name;
    if (params === null || typeof params !== "object" || Array.isArray(params)) {
      throw new Error(`${name}: parameters must be an object, got ${fmt(params)}`);
    }
    const keys = defaultP === null ? allowed : [...allowed, "p"];
    for (const key of Object.keys(params)) {
      if (key === "name" && params[key] === name) continue;
      if (!keys.includes(key)) {
        throw new Error(
          `${name}: unknown parameter '${key}' (expected ${keys.join(", ") || "none"})`,
        );
      }
    }
    const p = params.p ?? defaultP ?? 1;
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(`${name}: p must be a probability in [0, 1], got ${fmt(p)}`);
    }
    this.p = p;
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) if (v !== undefined && k !== "name") kept[k] = v;
    this.#params = kept;
  }

  /** The plain-data description that `fromSpec` turns back into this transform. */
  get spec(): TransformSpec {
    return { name: this.name, ...structuredClone(this.#params) };
  }

  /** JSON form: the spec. */
  toJSON(): TransformSpec {
    return this.spec;
  }

  /**
   * Applies the transform (with probability `p`), drawing from `rng`.
   * May return the input image itself when nothing changes.
   */
  apply(image: Image, rng: Rng): Image {
    if (this.p < 1 && !rng.bernoulli(this.p)) return image;
    return this.run(image, rng);
  }

  /** The transform itself, once it has been decided to apply it. */
  protected abstract run(image: Image, rng: Rng): Image;
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
  const [lo, hi] = pair.map((x) => num(name, key, x, check));
  if (lo > hi) throw new Error(`${name}: ${key} range must have lo <= hi, got ${fmt(v)}`);
  return [lo, hi];
}
