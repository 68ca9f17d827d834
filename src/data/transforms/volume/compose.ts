/**
 * Composition of volume transforms and their own registry, beside the 2-D
 * one: `volume.fromSpec` rebuilds a volume transform from its spec (names
 * "volume.Flip", ...), so a worker or a saved config can rebuild a volume
 * pipeline, and a 2-D name or transform given here is an error that says
 * which family it belongs to.
 *
 * @module
 */
import { checkArity, checkOptions } from "../../../options.ts";
import type { Rng } from "../../rng.ts";
import { notATransform, registerVolumeNames, transformNames as names2d } from "../compose.ts";
import { fmt } from "../image.ts";
import { specNumbers, Transform } from "../transform.ts";
import * as classes from "./classes.ts";
import { PREFIX, type Spacing, VolumeTransform, type VolumeTransformSpec } from "./transform.ts";
import type { Vol } from "./volume.ts";

const COMPOSE_USAGE = "{ transforms: [t1, t2] }";

/** A volume transform, or its spec. */
export type VolumeTransformLike = VolumeTransform | VolumeTransformSpec;

/** The transform `t` is, refusing the 2-D family by name. */
function toVolumeTransform(where: string, t: unknown): VolumeTransform {
  if (t instanceof VolumeTransform) return t;
  if (t instanceof Transform) {
    throw new Error(
      `${where}: ${t.name} is a 2-D transform (data.transforms.${t.name}, on Images and ` +
        `[N, 1, H, W] batches); a volume pipeline takes volume transforms: ` +
        `${transformNames().join(", ")}`,
    );
  }
  return fromSpec(t as VolumeTransformSpec);
}

/**
 * Applies volume transforms in order, all drawing from the same `Rng`
 * (MONAI's `Compose`); the voxels stay on the host between the steps.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const V = data.transforms.volume;
 * const t = new V.Compose({ transforms: [new V.Flip({ spatialAxis: 2 }), { name: "volume.ScaleIntensityRange", aMin: 0, aMax: 2 }] });
 * using x = tensor(new Float32Array([0, 2]), [1, 1, 1, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log([...y.toArray()]); // [1, 0]
 * ```
 */
export class Compose extends VolumeTransform {
  /** The transforms, in order. */
  readonly transforms: readonly VolumeTransform[];
  /** `transforms`: volume transforms or their specs; `Compose([t1, t2])` works too. */
  constructor(
    params: { transforms: readonly VolumeTransformLike[] } | readonly VolumeTransformLike[],
  ) {
    const name = PREFIX + new.target.name;
    const usage = `new data.transforms.volume.${new.target.name}(${COMPOSE_USAGE})`;
    checkArity(name, arguments.length, 1, usage);
    const list = Array.isArray(params)
      ? params
      : checkOptions<{ transforms: unknown }>(name, params ?? null, ["transforms"], usage)
        .transforms;
    if (!Array.isArray(list)) {
      throw new Error(`${name}: transforms must be an array, got ${fmt(list)}`);
    }
    const transforms = list.map((t) => toVolumeTransform(name, t));
    super({ transforms: transforms.map((t) => t.spec) }, 1, {
      keys: ["transforms"],
      p: null,
      usage: COMPOSE_USAGE,
    });
    this.transforms = transforms;
  }
  /** Each transform in turn, all drawing from `rng`. */
  /** @internal The voxel size after every transform in turn (unknown once one resamples). */
  override spacingAfter(spacing: Spacing): Spacing | undefined {
    let s: Spacing | undefined = spacing;
    for (const t of this.transforms) if (s !== undefined) s = t.spacingAfter(s);
    return s;
  }

  protected run(v: Vol, rng: Rng): Vol {
    let out = v;
    for (const t of this.transforms) out = t.applyHost(out, rng);
    return out;
  }
}

/**
 * Composes volume transforms (objects or specs) into one.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const V = data.transforms.volume;
 * const t = V.compose([new V.RandFlip({ p: 0.5, spatialAxis: 0 }), { name: "volume.Resize", spatialSize: 32 }]);
 * console.log(JSON.stringify(t.spec.transforms)); // [{"name":"volume.RandFlip","p":0.5,"spatialAxis":0},{"name":"volume.Resize","spatialSize":32}]
 * ```
 */
export function compose(transforms: readonly VolumeTransformLike[]): Compose {
  return new Compose({ transforms });
}

// deno-lint-ignore no-explicit-any
type Ctor = new (params: any) => VolumeTransform;

/** Every volume transform class by spec name ("volume." + class name): Compose and classes.ts. */
const REGISTRY: ReadonlyMap<string, Ctor> = new Map(
  [Compose, ...Object.values(classes) as unknown[]]
    .filter((c): c is Ctor => typeof c === "function" && c.prototype instanceof VolumeTransform)
    .map((c) => [PREFIX + c.name, c]),
);

/**
 * The spec names `volume.fromSpec` knows ("volume.Flip", ...).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * console.log(data.transforms.volume.transformNames().includes("volume.RandFlip")); // true
 * ```
 */
export function transformNames(): string[] {
  return [...REGISTRY.keys()];
}

registerVolumeNames(transformNames);

/** The base class a transform of the user's own extends (see `notATransform`). */
const VOLUME_FAMILY = {
  base: "data.transforms.volume.VolumeTransform",
  example: "class Rescale extends data.transforms.volume.VolumeTransform { constructor() " +
    '{ super({}, arguments.length, { keys: [], p: null, usage: "{}" }); } protected run(v, ' +
    "rng) { return { ...v, data: v.data.map((x) => x / 1000) }; } }",
  run: "run(v, rng) (v is { data: Float32Array, shape: [C, D, H, W] }; return the same form)",
};

/** What MONAI's transforms that are not classes here become (by name, "d" forms included). */
const MONAI_ELSEWHERE: Record<string, string> = {
  Spacing: "the dataset's option: new data.VolumeDataset(items, { spacing: { pixdim } })",
  Orientation: 'the dataset\'s option: new data.VolumeDataset(items, { orientation: "RAS" })',
  LoadImage: "data.VolumeDataset reads each file channel-first; leave it out",
  EnsureChannelFirst: "data.VolumeDataset reads each file channel-first; leave it out",
  AddChannel: "data.VolumeDataset reads each file channel-first; leave it out",
  ToTensor: "the loader makes float32 tensors; leave it out",
  EnsureType: "the loader makes float32 tensors; leave it out",
  CastToType: "the loader makes float32 tensors; leave it out",
};

/** A hint for a MONAI name: its array form here, or where its work is done. */
function monaiHint(name: string): string {
  const bare = name.replace(/^volume\./, "");
  const array = bare.endsWith("d") ? bare.slice(0, -1) : bare;
  if (array !== bare && REGISTRY.has(PREFIX + array)) {
    return ` MONAI's dictionary transform ${bare} is the array transform "${PREFIX}${array}" ` +
      "here (no keys).";
  }
  const where = MONAI_ELSEWHERE[array];
  return where ? ` MONAI's ${array}: ${where}.` : "";
}

/**
 * Builds a volume transform from its spec (`{ name: "volume.X", ...params }`),
 * checking the parameters as the constructor does. A 2-D transform's name
 * or a name without "volume." is an error that says what to write.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = data.transforms.volume.fromSpec({ name: "volume.RandRotate90", p: 0.5, maxK: 3 });
 * console.log(t.name, t.p); // volume.RandRotate90 0.5
 * ```
 */
export function fromSpec(spec: VolumeTransformSpec): VolumeTransform {
  const where = "transforms.volume.fromSpec";
  const callable = notATransform(where, spec, VOLUME_FAMILY);
  if (callable) throw new Error(callable);
  if (spec === null || typeof spec !== "object" || typeof spec.name !== "string") {
    throw new Error(`${where}: a spec is { name: "volume.X", ...params }, got ${fmt(spec)}`);
  }
  const ctor = REGISTRY.get(spec.name);
  if (!ctor) {
    const bare = spec.name, prefixed = PREFIX + bare;
    const twoD = names2d().includes(bare) ? ` '${bare}' is a 2-D transform (data.transforms).` : "";
    const hint = REGISTRY.has(prefixed) ? ` Write name: "${prefixed}".` : monaiHint(bare);
    throw new Error(
      `${where}: unknown volume transform '${bare}'.${twoD}${hint} ` +
        `(known: ${transformNames().join(", ")})`,
    );
  }
  const { name: _, ...params } = spec;
  // JSON's form of NaN and the infinities ("NaN", "Infinity", "-Infinity") back to numbers.
  return new ctor(specNumbers(params));
}
