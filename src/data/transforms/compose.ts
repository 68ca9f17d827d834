/**
 * Composition and the registry that turns specs back into transforms. Worker
 * threads receive `compose([...]).spec` (plain data) and call `fromSpec`, so
 * every registered transform works off the main thread with no extra code.
 *
 * @module
 */
import { checkArity, checkOptions } from "../../options.ts";
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import * as classes from "./classes.ts";
import { fmt, recycle } from "./image.ts";
import { specNumbers, Transform, type TransformSpec } from "./transform.ts";

const COMPOSE_USAGE = "{ transforms: [t1, t2] }";

/**
 * Applies transforms in order, all drawing from the same `Rng`
 * (torchvision's `Compose`). Steps before a `ToTensor` are torchvision's
 * PIL stage: a `Resize` or `RandomResizedCrop` there without `antialias`
 * resamples as PIL does (antialias true; nearest as "nearest-exact"), as
 * torchvision 0.14 does to the PIL images `ImageFolder` loads; the spec
 * records it. After `ToTensor`, or without one, the tensor default holds
 * (no antialias). PIL keeps 8 bits after each pass: bilinear and nearest
 * agree within 1/255; bicubic, which PIL also clips to [0, 255] after each
 * pass, differs where it overshoots, up to about 0.07 in a ring along edges
 * against black or white (a CT body against air); values here are not
 * clipped.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const t = new T.Compose({ transforms: [{ name: "RandomHorizontalFlip", p: 1 }, new T.Normalize({ mean: 0, std: 2 })] });
 * const img = { data: new Float32Array([2, 4]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [2, 1]
 * ```
 */
export class Compose extends Transform {
  /** The transforms, in order. */
  readonly transforms: readonly Transform[];
  /**
   * `transforms`: Transform objects or their specs; torchvision's positional
   * `Compose([t1, t2])` works too.
   */
  constructor(
    params:
      | { transforms: readonly (Transform | TransformSpec)[] }
      | readonly (Transform | TransformSpec)[],
  ) {
    // The list is checked and rebuilt before `super`, which takes its specs.
    const name = new.target.name, usage = `new transforms.${name}(${COMPOSE_USAGE})`;
    checkArity(name, arguments.length, 1, usage);
    const list = Array.isArray(params)
      ? params
      : checkOptions<{ transforms: unknown }>(name, params ?? null, ["transforms"], usage)
        .transforms;
    if (!Array.isArray(list)) {
      throw new Error(`${name}: transforms must be an array, got ${fmt(list)}`);
    }
    const given = list.map((t, i) => {
      if (t instanceof Transform) return t;
      // torch's Compose([Rescale(256), lambda img: ...]) takes callables: say how to write one.
      const callable = notATransform(`${name}: transforms[${i}]`, t, TWO_D);
      if (callable) throw new Error(callable);
      return fromSpec(t);
    });
    // Steps before ToTensor run on torchvision's PIL images: resize as PIL does.
    const end = given.findIndex((t) => t.name === "ToTensor");
    const transforms = given.map((t, i) => {
      const pil = i < end ? pilStageSpec(t.spec) : null;
      return pil ? fromSpec(pil) : t;
    });
    const options = { keys: ["transforms"], p: null, usage: COMPOSE_USAGE };
    super({ transforms: transforms.map((t) => t.spec) }, 1, options);
    this.transforms = transforms;
  }
  /** Each transform in turn, all drawing from `rng`. */
  protected run(input: Image, rng: Rng): Image {
    let image = input;
    for (const t of this.transforms) {
      const next = t.apply(image, rng);
      // An intermediate made here is dead once the next step has read it.
      if (image.data !== input.data && next.data !== image.data) recycle(image.data);
      image = next;
    }
    return image;
  }
}

/**
 * Composes transforms (objects or specs) into one.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const T = data.transforms;
 * const t = T.compose([new T.CenterCrop({ size: 2 }), { name: "Normalize", mean: 0.5, std: 0.5 }]);
 * console.log(JSON.stringify(t.spec.transforms)); // [{"name":"CenterCrop","size":2},{"name":"Normalize","mean":0.5,"std":0.5}]
 * ```
 */
export function compose(transforms: readonly (Transform | TransformSpec)[]): Compose {
  return new Compose({ transforms });
}

// deno-lint-ignore no-explicit-any
type Ctor = new (params: any) => Transform;

let registry: ReadonlyMap<string, Ctor> | undefined;

/**
 * Every transform class by its class name (which is also its spec's `name`):
 * Compose and whatever classes.ts exports, so a new class is registered by
 * being exported. Built on first use: the containers (random_wrappers.ts)
 * import `fromSpec` from here, so classes.ts may still be loading when this
 * module runs.
 */
function classRegistry(): ReadonlyMap<string, Ctor> {
  return registry ??= new Map(
    [Compose, ...Object.values(classes) as unknown[]]
      .filter((c): c is Ctor => typeof c === "function" && c.prototype instanceof Transform)
      .map((c) => [c.name, c]),
  );
}

/**
 * The names `fromSpec` knows.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * console.log(data.transforms.transformNames().includes("RandomAffine")); // true
 * ```
 */
export function transformNames(): string[] {
  return [...classRegistry().keys()];
}

/** The base class to extend and its `run`, for each family (see `notATransform`). */
const TWO_D = {
  base: "data.transforms.Transform",
  example: "class Rescale extends data.transforms.Transform { constructor() { super({}, " +
    'arguments.length, { keys: [], p: null, usage: "{}" }); } protected run(image: Image, ' +
    "rng: Rng): Image { return { ...image, data: image.data.map((v) => v / 255) }; } }",
  run: "run(image, rng)",
};

/**
 * @internal The message for a function or an object that is neither a
 * transform nor a spec (torch's `Compose` takes any callable:
 * `Compose([Rescale(256), lambda img: ...])`), or null for anything else.
 * Plain objects with a string `name` are specs, and a class instance with a
 * "volume." name is the other family's transform: `fromSpec` says more of both.
 */
export function notATransform(
  where: string,
  t: unknown,
  family: { base: string; example: string; run: string },
): string | null {
  const proto = t !== null && typeof t === "object" ? Object.getPrototypeOf(t) : undefined;
  const plain = proto === Object.prototype || proto === null;
  const name = (t as { name?: unknown } | null)?.name;
  const hasMethod = plain && Object.values(t as object).some((v) => typeof v === "function");
  const callable = typeof t === "function" ||
    (typeof t === "object" && t !== null && !plain && !(t instanceof Transform) &&
      !(typeof name === "string" && name.startsWith("volume."))) ||
    (hasMethod && typeof name !== "string");
  if (!callable) return null;
  const what = typeof t === "function"
    ? `a function${(t as { name: string }).name ? ` (${(t as { name: string }).name})` : ""}`
    : plain
    ? "an object with methods"
    : `a ${(proto as { constructor?: { name?: string } }).constructor?.name ?? "class"} instance`;
  return `${where}: got ${what}, which is neither a transform nor a spec { name, ...params }; ` +
    `torch's (and MONAI's) Compose takes any callable; here a transform is a class: ` +
    `extend ${family.base} and implement ${family.run} (torch's __call__), e.g. ` +
    `${family.example}, then ` +
    "compose([new Rescale()]) (a DataLoader runs a class of your own with workers: 0; " +
    "worker threads rebuild only the library's transforms)";
}

/** The volume family's names, once its module has loaded (it imports this one). */
let volumeNames: () => string[] = () => [];

/** @internal Lets `transforms.volume` name its transforms for this module's messages. */
export function registerVolumeNames(names: () => string[]): void {
  volumeNames = names;
}

/**
 * Builds a transform from its spec (`{ name, ...params }`), checking the
 * parameters as the constructor does.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = data.transforms.fromSpec({ name: "RandomRotation", degrees: 10, p: 0.5 });
 * console.log(t.name, t.p); // RandomRotation 0.5
 * ```
 */
export function fromSpec(spec: TransformSpec): Transform {
  const callable = notATransform("transforms.fromSpec", spec, TWO_D);
  if (callable) throw new Error(callable);
  if (spec === null || typeof spec !== "object" || typeof spec.name !== "string") {
    throw new Error(`transforms.fromSpec: a spec is { name, ...params }, got ${fmt(spec)}`);
  }
  const ctor = classRegistry().get(spec.name);
  if (!ctor && spec.name.startsWith("volume.")) {
    throw new Error(
      `transforms.fromSpec: '${spec.name}' is a volume transform ([C, D, H, W]); rebuild it ` +
        "with data.transforms.volume.fromSpec, and keep it out of 2-D pipelines",
    );
  }
  if (!ctor && volumeNames().includes(`volume.${spec.name}`)) {
    throw new Error(
      `transforms.fromSpec: '${spec.name}' is one of MONAI's volume transforms here: write ` +
        `{ name: "volume.${spec.name}", ... } in a volume pipeline (data.transforms.volume)`,
    );
  }
  if (!ctor) {
    throw new Error(
      `transforms.fromSpec: unknown transform '${spec.name}' (known: ${
        transformNames().join(", ")
      })`,
    );
  }
  const { name: _, ...params } = spec;
  // JSON's form of NaN and the infinities ("NaN", "Infinity", "-Infinity") back to numbers.
  return new ctor(specNumbers(params));
}

/** The containers whose `transforms` the PIL-stage rewrite looks into. */
const CONTAINERS = ["Compose", "RandomApply", "RandomChoice", "RandomOrder"];

/**
 * A spec as torchvision's PIL stage runs it (a step before
 * `ToTensor`): a `Resize` or `RandomResizedCrop` without `antialias` gets
 * PIL's resampling (antialias true, or "nearest-exact" for nearest),
 * containers' steps likewise; null when nothing changes.
 */
function pilStageSpec(spec: TransformSpec): TransformSpec | null {
  if (spec.name === "Resize" || spec.name === "RandomResizedCrop") {
    if (spec.antialias !== undefined && spec.antialias !== null) return null;
    const mode = spec.interpolation ?? "bilinear";
    if (mode === "nearest") return { ...spec, interpolation: "nearest-exact" };
    if (mode === "bilinear" || mode === "bicubic") return { ...spec, antialias: true };
    return null;
  }
  if (CONTAINERS.includes(spec.name) && Array.isArray(spec.transforms)) {
    let changed = false;
    const inner = (spec.transforms as TransformSpec[]).map((t) => {
      const next = pilStageSpec(t);
      if (next) changed = true;
      return next ?? t;
    });
    return changed ? { ...spec, transforms: inner } : null;
  }
  return null;
}
