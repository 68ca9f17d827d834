/**
 * The volume transforms' contract, parallel to the 2-D one (../transform.ts):
 * a transform is plain data (`spec`, `{ name: "volume.Flip", ...params }`),
 * rebuilt by `volume.fromSpec`; applying one is a function of the volume and
 * an explicit `Rng`, and a random one first draws whether it applies, with
 * probability `p` (MONAI's `prob`, default 0.1 as MONAI's).
 *
 * The two families are kept apart: a volume transform is not a 2-D
 * `Transform`, its spec names start with "volume." (which the 2-D
 * `fromSpec` does not know), a volume `Compose` refuses 2-D transforms, and
 * `apply` refuses a 2-D `Image`.
 *
 * @module
 */
import type { Tensor } from "../../../tensor/tensor.ts";
import { globalRng, Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { checkedParams, jsonSafe, specJSON, type TransformOptions } from "../transform.ts";
import { fromVol, toVol, type Vol } from "./volume.ts";

/** A volume transform as plain data: "volume." + its class name, and its parameters. */
export interface VolumeTransformSpec {
  /** "volume." and the class name, e.g. "volume.RandFlip". */
  name: string;
  /** Constructor parameters (JSON values). */
  [param: string]: unknown;
}

/** The prefix of every volume transform's name and spec name. */
export const PREFIX = "volume.";

/** A voxel size along D, H, W. */
export type Spacing = [number, number, number];

/**
 * Base class of the volume transforms, on one float32 [C, D, H, W] tensor
 * (MONAI's channel-first layout; spatial axes 0, 1, 2 are D, H, W).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const V = data.transforms.volume;
 * const t = new V.Flip({ spatialAxis: 2 });
 * using x = tensor(new Float32Array([1, 2]), [1, 1, 1, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log([...y.toArray()], t.spec); // [2, 1] { name: "volume.Flip", spatialAxis: 2 }
 * ```
 */
export abstract class VolumeTransform {
  /** "volume." and the class name: the spec's name, and the name errors use. */
  readonly name: string;
  /** Probability of applying (1 for deterministic transforms). */
  readonly p: number;
  /** The call shown in errors. */
  protected readonly usage: string;
  readonly #params: Record<string, unknown>;
  readonly #keepsVoxelSize: boolean;

  /**
   * Checks the argument count, that `params` is an options object, the
   * parameter names (a snake_case one names its camelCase form), and `p`.
   * `keepsVoxelSize`: the transform never resamples (intensity changes,
   * crops, pads, flips), so a volume's spacing holds after it.
   */
  constructor(
    params: object,
    argCount: number,
    options: TransformOptions & { keepsVoxelSize?: boolean },
  ) {
    const cls = new.target.name;
    const name = PREFIX + cls;
    this.name = name;
    const usage = `new data.transforms.volume.${cls}(${options.usage})`;
    this.usage = usage;
    const checked = checkedParams(
      name,
      usage,
      params,
      argCount,
      options,
      (key, camel, keys) =>
        key === "prob" && keys.includes("p")
          ? " (write 'p': MONAI's prob)"
          : key === "prob"
          ? ` (${cls} has no p: it always applies, as MONAI's)`
          : key === "keys" || camel === "allowMissingKeys"
          ? " (MONAI's dictionary transforms take keys; these are its array transforms, " +
            "applied to the volume itself: leave it out, and give the dataset or loader the " +
            "transform)"
          : camel !== key && keys.includes(camel)
          ? ` (write '${camel}')`
          : key === "p"
          ? ` (${cls} has no p: it always applies, as MONAI's)`
          : "",
    );
    this.p = checked.p;
    this.#params = checked.kept;
    this.#keepsVoxelSize = options.keepsVoxelSize ?? false;
  }

  /** The plain-data description that `volume.fromSpec` turns back into this transform. */
  get spec(): VolumeTransformSpec {
    // NaN and the infinities (a pad's value) reach JSON as strings: see `jsonSafe`.
    return jsonSafe({ name: this.name, ...structuredClone(this.#params) });
  }

  /**
   * @internal The voxel size along D, H, W after this transform, given the
   * size before: kept by one that never resamples, undefined (unknown) after
   * one that does.
   */
  spacingAfter(spacing: Spacing): Spacing | undefined {
    return this.#keepsVoxelSize ? spacing : undefined;
  }

  /** JSON form: the spec, NaN and the infinities as strings. */
  toJSON(): VolumeTransformSpec {
    return specJSON(this.spec);
  }

  /**
   * Applies the transform (with probability `p`) to a float32 [C, D, H, W]
   * tensor, drawing from `rng`, and returns a new tensor on the same device
   * (never the input, also when nothing changes, so `using` on the result
   * is safe). Without `rng`, a generator is taken from the global stream
   * that `manualSeed` seeds. The voxels go through host memory (a CUDA
   * volume is copied to the host and back); no gradient flows through.
   *
   * @example
   * ```ts
   * import { data, manualSeed, tensor } from "@lits/vision";
   * const t = new data.transforms.volume.RandGaussianNoise({ p: 1, std: 0.1 });
   * using x = tensor(new Float32Array(8), [1, 2, 2, 2]);
   * manualSeed(0);
   * using a = t.apply(x);
   * manualSeed(0);
   * using b = t.apply(x);
   * console.log(a.toArray().every((v, i) => v === b.toArray()[i])); // true
   * ```
   */
  apply(volume: Tensor, rng?: Rng): Tensor {
    if (rng !== undefined && !(rng instanceof Rng)) {
      throw new Error(
        `${this.name}.apply: rng must be a data.Rng (e.g. new data.Rng(0)) or left out ` +
          `(then manualSeed's stream is used), got ${fmt(rng)}`,
      );
    }
    const v = toVol(this.name, volume);
    return fromVol(this.applyHost(v, rng ?? globalRng()), volume.device);
  }

  /**
   * @internal The transform on a host volume: draws whether to apply (with
   * probability `p`), then runs. May return `v` itself; never changes it.
   */
  applyHost(v: Vol, rng: Rng): Vol {
    if (this.p < 1 && !rng.bernoulli(this.p)) return v;
    return this.run(v, rng);
  }

  /** The transform itself, once it has been decided to apply it; must not change `v`. */
  protected abstract run(v: Vol, rng: Rng): Vol;
}
