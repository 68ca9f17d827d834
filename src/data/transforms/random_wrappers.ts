/**
 * torchvision's random containers: `RandomApply` (a list, all or nothing,
 * with probability p), `RandomChoice` (one of a list, by weights) and
 * `RandomOrder` (a list in random order). Like `Compose` they hold
 * transforms or their specs and are specs themselves
 * (`{ name: "RandomApply", transforms: [...], p }`), so `fromSpec` rebuilds
 * them, nested ones included, in loader workers too. Their draws come from
 * the same `Rng` as the transforms they hold.
 *
 * A worker gets only specs: a transform class of your own inside one of
 * these cannot travel; with `workers > 0` the loader refuses it (its
 * spec's name is unknown to `fromSpec`), so use `workers: 0` for those.
 *
 * @module
 */
import { checkArity, checkOptions } from "../../options.ts";
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { fromSpec } from "./compose.ts";
import { fmt, recycle } from "./image.ts";
import { jsonSafe, Transform, type TransformSpec } from "./transform.ts";

/** A transform or its spec, as `Compose` takes them. */
export type TransformLike = Transform | TransformSpec;

/** The transforms of a container, rebuilt from specs where given as specs. */
function transformList(name: string, usage: string, v: unknown): Transform[] {
  if (!Array.isArray(v)) {
    throw new Error(
      `${name}: transforms must be an array of transforms or specs, got ${fmt(v)}; write ${usage}`,
    );
  }
  return v.map((t, i) => {
    if (t instanceof Transform) return t;
    try {
      return fromSpec(t);
    } catch (e) {
      throw new Error(`${name}: transforms[${i}]: ${(e as Error).message}`);
    }
  });
}

/**
 * The container's list and options from torchvision's positional form
 * `(transforms, { ...options })` or one options object `{ transforms, ... }`
 * (what `fromSpec` passes).
 */
function containerArgs(
  name: string,
  usage: string,
  argCount: number,
  first: unknown,
  second: unknown,
  keys: readonly string[],
): { transforms: Transform[]; options: Record<string, unknown> } {
  checkArity(name, argCount, keys.length > 0 ? 2 : 1, usage);
  if (Array.isArray(first)) {
    const options = checkOptions<Record<string, unknown>>(name, second, keys, usage);
    return { transforms: transformList(name, usage, first), options };
  }
  if (second !== undefined) {
    throw new Error(
      `${name}: with an options object first, everything goes in it; write ${usage}`,
    );
  }
  const all = checkOptions<Record<string, unknown>>(
    name,
    first ?? null,
    ["transforms", ...keys],
    usage,
  );
  const { transforms, ...options } = all;
  return { transforms: transformList(name, usage, transforms), options };
}

/** Applies `list` in turn (in `order` when given), handing back intermediates made here. */
function runInOrder(list: readonly Transform[], input: Image, rng: Rng, order?: number[]): Image {
  let image = input;
  for (const i of order ?? list.keys()) {
    const next = list[i].apply(image, rng);
    if (image.data !== input.data && next.data !== image.data) recycle(image.data);
    image = next;
  }
  return image;
}

/** Options of `RandomApply`. */
export interface RandomApplyOptions {
  /** Probability of applying the whole list (default 0.5, torchvision's). */
  p?: number;
}

const APPLY_USAGE = "[t1, t2], { p: 0.5 }";

/**
 * Applies all its transforms in order with probability p (default 0.5),
 * or none, as torchvision's `RandomApply(transforms, p)`. Takes
 * torchvision's form `new RandomApply([t1, t2], { p })` or
 * `new RandomApply({ transforms: [t1, t2], p })`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const t = new T.RandomApply([new T.RandomInvert({ p: 1 })], { p: 1 });
 * const img = { data: new Float32Array([0, 0.25]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data], t.spec.p); // [1, 0.75] 1
 * ```
 */
export class RandomApply extends Transform {
  /** The transforms, in order. */
  readonly transforms: readonly Transform[];
  /** `transforms` (Transform objects or specs), then `{ p }` (default 0.5). */
  constructor(
    transforms: readonly TransformLike[] | { transforms: readonly TransformLike[]; p?: number },
    options?: RandomApplyOptions,
  ) {
    const name = new.target.name, usage = `new transforms.${name}(${APPLY_USAGE})`;
    const { transforms: list, options: o } = containerArgs(
      name,
      usage,
      arguments.length,
      transforms,
      options,
      ["p"],
    );
    super({ transforms: list.map((t) => t.spec), ...o }, 1, {
      keys: ["transforms"],
      p: 0.5,
      usage: APPLY_USAGE,
    });
    this.transforms = list;
  }
  /** Each transform in turn, all drawing from `rng`. */
  protected run(image: Image, rng: Rng): Image {
    return runInOrder(this.transforms, image, rng);
  }
}

/** Options of `RandomChoice`. */
export interface RandomChoiceOptions {
  /** Relative weights of the transforms, torchvision's `p` (default: all equal). */
  p?: number[];
}

const CHOICE_USAGE = "[t1, t2], { p: [0.7, 0.3] }";

/**
 * Applies one of its transforms, picked at random, as torchvision's
 * `RandomChoice(transforms, p)`: `p` holds relative weights (Python's
 * `random.choices`; they need not sum to 1), all equal when left out. Here
 * `p` is not a probability of applying: the picked transform always runs
 * (wrap it in `RandomApply` for that), so `t.p` is 1 and the weights are
 * `t.weights`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const t = new T.RandomChoice([new T.RandomHorizontalFlip({ p: 1 }), new T.RandomVerticalFlip({ p: 1 })], { p: [1, 0] });
 * const img = { data: new Float32Array([1, 2]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data], t.weights); // [2, 1] [1, 0]
 * ```
 */
export class RandomChoice extends Transform {
  /** The transforms to pick from. */
  readonly transforms: readonly Transform[];
  readonly #weights: number[] | null;
  /** `transforms` (Transform objects or specs, at least one), then `{ p }`: weights. */
  constructor(
    transforms: readonly TransformLike[] | { transforms: readonly TransformLike[]; p?: number[] },
    options?: RandomChoiceOptions,
  ) {
    const name = new.target.name, usage = `new transforms.${name}(${CHOICE_USAGE})`;
    const { transforms: list, options: o } = containerArgs(
      name,
      usage,
      arguments.length,
      transforms,
      options,
      ["p"],
    );
    if (list.length === 0) throw new Error(`${name}: needs at least one transform; write ${usage}`);
    const w = o.p;
    let weights: number[] | null = null;
    if (w !== undefined && w !== null) {
      const ok = Array.isArray(w) && w.length === list.length &&
        w.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0) &&
        w.reduce((s: number, v: number) => s + v, 0) > 0;
      if (!ok) {
        throw new Error(
          `${name}: p must be ${list.length} finite weights >= 0 (one per transform, not all ` +
            `0; torchvision's p is weights, not a probability), got ${
              Array.isArray(w) ? `[${w.map(fmt).join(", ")}]` : fmt(w)
            }; to apply a ` +
            `choice with probability q write new transforms.RandomApply([choice], { p: q })`,
        );
      }
      weights = [...w as number[]];
    }
    // The base class's `p` is a probability: the weights travel in the spec by `spec` below.
    super({ transforms: list.map((t) => t.spec) }, 1, {
      keys: ["transforms"],
      p: null,
      usage: CHOICE_USAGE,
    });
    this.transforms = list;
    this.#weights = weights;
  }

  /** The weights (torchvision's `p`), or null: all equal. */
  get weights(): number[] | null {
    return this.#weights && [...this.#weights];
  }

  /** The spec, with the weights as `p` (as they were given). */
  override get spec(): TransformSpec {
    const spec = super.spec;
    return this.#weights ? jsonSafe({ ...spec, p: [...this.#weights] }) : spec;
  }

  /** Picks one transform (Python's `random.choices`), then applies it. */
  protected run(image: Image, rng: Rng): Image {
    const w = this.#weights, n = this.transforms.length;
    let pick = 0;
    if (!w) {
      pick = rng.int(0, n);
    } else {
      // bisect_right on the cumulative weights: the first with cum > x (a zero weight never).
      const total = w.reduce((s, v) => s + v, 0), x = rng.uniform() * total;
      let cum = 0;
      for (pick = 0; pick < n - 1; pick++) if ((cum += w[pick]) > x) break;
      while (w[pick] === 0) pick--; // only past the last weight, by rounding
    }
    return this.transforms[pick].apply(image, rng);
  }
}

const ORDER_USAGE = "[t1, t2]";

/**
 * Applies all its transforms in a random order, as torchvision's
 * `RandomOrder(transforms)` (a uniform shuffle, Fisher-Yates as Python's
 * `random.shuffle`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const t = new T.RandomOrder([new T.Normalize({ mean: 1, std: 1 }), new T.Normalize({ mean: 0, std: 2 })]);
 * const img = { data: new Float32Array([3]), width: 1, height: 1 };
 * console.log([1, 0.5].includes(t.apply(img, new data.Rng(0)).data[0])); // true: (3 - 1) / 2 or 3 / 2 - 1
 * ```
 */
export class RandomOrder extends Transform {
  /** The transforms. */
  readonly transforms: readonly Transform[];
  /** `transforms` (Transform objects or specs), or `{ transforms }`. */
  constructor(transforms: readonly TransformLike[] | { transforms: readonly TransformLike[] }) {
    const name = new.target.name, usage = `new transforms.${name}(${ORDER_USAGE})`;
    const n = arguments.length;
    const { transforms: list } = containerArgs(name, usage, n, transforms, undefined, []);
    super({ transforms: list.map((t) => t.spec) }, 1, {
      keys: ["transforms"],
      p: null,
      usage: ORDER_USAGE,
    });
    this.transforms = list;
  }
  /** Shuffles the indices, then applies the transforms in that order. */
  protected run(image: Image, rng: Rng): Image {
    const order = [...this.transforms.keys()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return runInOrder(this.transforms, image, rng, order);
  }
}
