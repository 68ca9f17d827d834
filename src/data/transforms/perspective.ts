/**
 * The composable random perspective warp, on functional/perspective.ts.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import type { Interpolation } from "./functional/geometry.ts";
import { type Corners, perspective } from "./functional/perspective.ts";
import { interpolationParam } from "./image.ts";
import { num, Transform } from "./transform.ts";

/** Options of `RandomPerspective` (torchvision's, camelCase). */
export interface RandomPerspectiveOptions {
  /** How far corners may move, 0..1 of half the image size (default 0.5). */
  distortionScale?: number;
  /** "bilinear" (default) or "nearest". */
  interpolation?: Interpolation;
  /** Value outside the image (default 0), blended as torchvision does. */
  fill?: number;
  /** Probability of applying (default 0.5). */
  p?: number;
}

/**
 * Random perspective warp (torchvision's `RandomPerspective`): each corner
 * moves inwards by up to `distortionScale` of half the width and height.
 *
 * For CT it is a poor fit: a CT slice is a reconstructed cross-section with
 * a known pixel spacing, not a photograph taken from an angle, so no
 * scanner produces a perspective distortion; the warp teaches invariance to
 * something that never occurs and distorts organ shapes and sizes.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomPerspective({ distortionScale: 0.3, p: 1 });
 * const img = { data: new Float32Array(32 * 32).fill(1), width: 32, height: 32 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 32
 * ```
 */
export class RandomPerspective extends Transform {
  readonly #distortion: number;
  readonly #interpolation: Interpolation;
  readonly #fill: number;
  /** See `RandomPerspectiveOptions`. */
  constructor(params: RandomPerspectiveOptions = {}) {
    super(params, arguments.length, {
      keys: ["distortionScale", "interpolation", "fill"],
      p: 0.5,
      usage: "{ distortionScale: 0.5, p: 0.5 }",
    });
    this.#distortion = num(this.name, "distortionScale", params.distortionScale ?? 0.5, {
      min: 0,
      max: 1,
    });
    this.#interpolation = interpolationParam(this.name, params.interpolation ?? "bilinear");
    this.#fill = num(this.name, "fill", params.fill ?? 0);
  }

  /**
   * The corners as torchvision's `RandomPerspective.get_params(width,
   * height, distortion_scale)`: [startpoints, endpoints].
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const [start, end] = data.transforms.RandomPerspective.getParams(8, 8, 0, new data.Rng(0));
   * console.log(JSON.stringify(start) === JSON.stringify(end)); // true
   * ```
   */
  static getParams(width: number, height: number, distortionScale: number, rng: Rng): [
    Corners,
    Corners,
  ] {
    const dw = Math.trunc(distortionScale * Math.floor(width / 2));
    const dh = Math.trunc(distortionScale * Math.floor(height / 2));
    const near = (d: number) => rng.int(0, d + 1);
    const far = (n: number, d: number) => rng.int(n - d - 1, n);
    const topLeft: [number, number] = [near(dw), near(dh)];
    const topRight: [number, number] = [far(width, dw), near(dh)];
    const bottomRight: [number, number] = [far(width, dw), far(height, dh)];
    const bottomLeft: [number, number] = [near(dw), far(height, dh)];
    const start: Corners = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]];
    return [start, [topLeft, topRight, bottomRight, bottomLeft]];
  }

  /** Draws the corners (`getParams`), then `F.perspective`. */
  protected run(image: Image, rng: Rng): Image {
    const [s, e] = RandomPerspective.getParams(image.width, image.height, this.#distortion, rng);
    return perspective(image, s, e, this.#interpolation, this.#fill);
  }
}
