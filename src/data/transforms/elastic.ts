/**
 * The composable elastic deformation, on functional/elastic.ts.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { elastic } from "./functional/elastic.ts";
import type { Interpolation, WarpOptions } from "./functional/geometry.ts";
import { interpolationParam } from "./image.ts";
import { num, Transform } from "./transform.ts";

/**
 * Elastic deformation (torchvision's `ElasticTransform`: `alpha` is the
 * displacement strength, `sigma` its smoothness, in pixels).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.ElasticTransform({ alpha: 30, sigma: 5, p: 1 });
 * const img = { data: new Float32Array(32 * 32), width: 32, height: 32 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 32
 * ```
 */
export class ElasticTransform extends Transform {
  readonly #alpha: number;
  readonly #sigma: number;
  readonly #interpolation: Interpolation;
  readonly #fill: number;
  /** `alpha` (default 50), `sigma` (default 5), `interpolation`, `fill`, `p` (default 1). */
  constructor(params: { alpha?: number; sigma?: number; p?: number } & WarpOptions = {}) {
    super(params, arguments.length, {
      keys: ["alpha", "sigma", "interpolation", "fill"],
      p: 1,
      usage: "{ alpha: 50, sigma: 5 }",
    });
    this.#alpha = num(this.name, "alpha", params.alpha ?? 50, { min: 0 });
    this.#sigma = num(this.name, "sigma", params.sigma ?? 5, { above: 0 });
    this.#interpolation = interpolationParam(this.name, params.interpolation);
    this.#fill = num(this.name, "fill", params.fill ?? 0);
  }
  /** `F.elastic` with a field drawn from `rng`. */
  protected run(image: Image, rng: Rng): Image {
    return elastic(image, this.#alpha, this.#sigma, rng, {
      interpolation: this.#interpolation,
      fill: this.#fill,
    });
  }
}
