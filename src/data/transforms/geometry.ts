/**
 * Composable geometric transforms on functional/geometry.ts: flips, random
 * affine, rotation and zoom (which keep the image size) and resize
 * (torchvision's names and parameters; MONAI's where torchvision has none).
 * Random ones take `p`, the probability of applying.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import {
  affine,
  hflip,
  type Interpolation,
  resize,
  type ResizeInterpolation,
  rotate,
  vflip,
  type WarpOptions,
} from "./functional/geometry.ts";
import {
  fmt,
  interpolationParam,
  oneGrey,
  resizeParams,
  roundHalfEven,
  smallerEdgeSize,
  toSize,
} from "./image.ts";
import { bool, num, range, Transform } from "./transform.ts";

/**
 * Mirrors left-right with probability p (default 0.5).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomHorizontalFlip({ p: 1 });
 * const img = { data: new Float32Array([1, 2]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [2, 1]
 * ```
 */
export class RandomHorizontalFlip extends Transform {
  /** `p` (default 0.5). */
  constructor(params: { p?: number } = {}) {
    super(params, arguments.length, { keys: [], p: 0.5, usage: "{ p: 0.5 }" });
  }
  /** `F.hflip`. */
  protected run(image: Image): Image {
    return hflip(image);
  }
}

/**
 * Mirrors top-bottom with probability p (default 0.5).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomVerticalFlip({ p: 1 });
 * const img = { data: new Float32Array([1, 2]), width: 1, height: 2 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [2, 1]
 * ```
 */
export class RandomVerticalFlip extends Transform {
  /** `p` (default 0.5). */
  constructor(params: { p?: number } = {}) {
    super(params, arguments.length, { keys: [], p: 0.5, usage: "{ p: 0.5 }" });
  }
  /** `F.vflip`. */
  protected run(image: Image): Image {
    return vflip(image);
  }
}

/** Parameters of `RandomAffine`, as torchvision's (fractions and degrees). */
export interface RandomAffineParams {
  /** Rotation range in degrees, clockwise: d means [-d, d], or [lo, hi] (default 0). */
  degrees?: number | [number, number];
  /** Largest translation as fractions of [width, height] (default none). */
  translate?: [number, number];
  /** Scale range [lo, hi] (default none). */
  scale?: [number, number];
  /** Shear in degrees: s (x in [-s, s]), [xlo, xhi] or [xlo, xhi, ylo, yhi]. */
  shear?: number | number[];
  /** Nearest (default, torchvision's) or bilinear. */
  interpolation?: Interpolation;
  /** Value outside the image (default 0; torchvision's `[v]` is taken too). */
  fill?: number | [number];
  /** The pivot [x, y] as torchvision's `center` (default the image centre; see `F.affine`). */
  center?: [number, number];
  /** Probability of applying (default 1). */
  p?: number;
}

/** Checked ranges of a random affine and how to draw one (shared by three transforms). */
class AffineDraw {
  readonly degrees: [number, number];
  readonly translate: [number, number] | null;
  readonly scale: [number, number] | null;
  readonly shear: number[] | null;
  readonly interpolation: Interpolation;
  readonly fill: number;
  readonly center: [number, number] | undefined;
  /** torchvision's RandomAffine rounds translations to whole pixels; RandomZoom has none. */
  readonly #wholePixels: boolean;

  constructor(
    name: string,
    params: RandomAffineParams,
    interpolation: Interpolation = "nearest",
    wholePixels = true,
  ) {
    this.degrees = range(name, "degrees", params.degrees ?? 0);
    const t = params.translate;
    if (t !== undefined && (!Array.isArray(t) || t.length !== 2)) {
      throw new Error(`${name}: translate must be [fx, fy] fractions in [0, 1], got ${fmt(t)}`);
    }
    this.translate = t
      ? [
        num(name, "translate", t[0], { min: 0, max: 1 }),
        num(name, "translate", t[1], { min: 0, max: 1 }),
      ]
      : null;
    this.scale = params.scale === undefined
      ? null
      : range(name, "scale", params.scale, { above: 0 });
    const s = params.shear;
    if (s === undefined) this.shear = null;
    else if (typeof s === "number") this.shear = [...range(name, "shear", s), 0, 0];
    else if (Array.isArray(s) && (s.length === 2 || s.length === 4)) {
      this.shear = [
        ...range(name, "shear", s.slice(0, 2)),
        ...(s.length === 4 ? range(name, "shear", s.slice(2)) : [0, 0]),
      ];
    } else {
      throw new Error(
        `${name}: shear must be a number, [lo, hi] or [xlo, xhi, ylo, yhi], got ${fmt(s)}`,
      );
    }
    this.interpolation = params.interpolation === undefined || params.interpolation === null
      ? interpolation
      : interpolationParam(name, params.interpolation);
    this.fill = num(name, "fill", oneGrey(name, params.fill) ?? 0);
    const c = params.center;
    if (
      c !== undefined && c !== null &&
      (!Array.isArray(c) || c.length !== 2 || !c.every(Number.isFinite))
    ) {
      throw new Error(`${name}: center must be [x, y] in pixels, got ${fmt(c)}`);
    }
    this.center = c ?? undefined;
    this.#wholePixels = wholePixels;
  }

  apply(image: Image, rng: Rng): Image {
    // Draw order as torchvision's RandomAffine.get_params: angle, translate, scale, shear.
    const angle = rng.uniform(...this.degrees);
    const tr = this.translate;
    // torchvision: round(uniform(-max_dx, max_dx)) with max_dx = fraction * size (whole pixels).
    const whole = this.#wholePixels ? roundHalfEven : (v: number) => v;
    const translate: [number, number] = tr
      ? [
        whole(rng.uniform(-tr[0] * image.width, tr[0] * image.width)),
        whole(rng.uniform(-tr[1] * image.height, tr[1] * image.height)),
      ]
      : [0, 0];
    const scale = this.scale ? rng.uniform(...this.scale) : 1;
    const sh = this.shear;
    const shear: [number, number] = sh
      ? [rng.uniform(sh[0], sh[1]), rng.uniform(sh[2], sh[3])]
      : [0, 0];
    const { interpolation, fill, center } = this;
    return affine(image, { angle, translate, scale, shear, interpolation, fill, center });
  }
}

/**
 * Random rotation, translation, scale and shear in one warp (torchvision's
 * `RandomAffine`: nearest by default, translations drawn in whole pixels,
 * `center`, `fill`). Write `interpolation: "bilinear"` for a smooth warp
 * (the `ct` preset does).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomAffine({ degrees: 10, translate: [0.05, 0.05], scale: [0.9, 1.1] });
 * const img = { data: new Float32Array(64 * 64).fill(1), width: 64, height: 64 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 64
 * ```
 */
export class RandomAffine extends Transform {
  readonly #draw: AffineDraw;
  /** See `RandomAffineParams`. */
  constructor(params: RandomAffineParams = {}) {
    super(params, arguments.length, {
      keys: ["degrees", "translate", "scale", "shear", "interpolation", "fill", "center"],
      p: 1,
      usage: "{ degrees: 10, translate: [0.05, 0.05] }",
    });
    this.#draw = new AffineDraw(this.name, params);
  }
  /** Draws angle, translation, scale and shear, then one `F.affine`. */
  protected run(image: Image, rng: Rng): Image {
    return this.#draw.apply(image, rng);
  }
}

/** Parameters of `RandomRotation`, as torchvision's. */
export interface RandomRotationParams {
  /** Degrees, counter-clockwise: d means [-d, d], or [lo, hi]. */
  degrees: number | [number, number];
  /** Nearest (default, torchvision's) or bilinear. */
  interpolation?: Interpolation;
  /** Grow the output to hold the whole rotated image (default false; sizes then vary). */
  expand?: boolean;
  /** The pivot [x, y] as torchvision's `center` (default the image centre; see `F.affine`). */
  center?: [number, number];
  /** Value outside the image (default 0; torchvision's `[v]` is taken too). */
  fill?: number | [number];
  /** Probability of applying (default 1). */
  p?: number;
}

/**
 * Random rotation about the centre, counter-clockwise for positive angles
 * (torchvision's `RandomRotation`: nearest by default, `expand`, `center`,
 * `fill`). Corners the rotation uncovers take `fill` (default 0, as
 * torchvision's), where MONAI's `RandRotate` repeats the border pixels.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomRotation({ degrees: 10 });
 * const img = { data: new Float32Array(16), width: 4, height: 4 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 4
 * const grown = new data.transforms.RandomRotation({ degrees: [90, 90], expand: true });
 * const wide = { data: new Float32Array(6), width: 3, height: 2 };
 * console.log(grown.apply(wide, new data.Rng(0)).width); // 2
 * ```
 */
export class RandomRotation extends Transform {
  readonly #degrees: [number, number];
  readonly #draw: AffineDraw;
  readonly #expand: boolean;
  /** See `RandomRotationParams`. */
  constructor(params: RandomRotationParams) {
    super(params, arguments.length, {
      keys: ["degrees", "interpolation", "expand", "center", "fill"],
      p: 1,
      usage: "{ degrees: 10 }",
    });
    this.#degrees = range(this.name, "degrees", params.degrees);
    this.#expand = bool(this.name, "expand", params.expand, false);
    const { interpolation, fill, center } = params;
    this.#draw = new AffineDraw(this.name, { interpolation, fill, center });
  }
  /** Draws an angle (torchvision's uniform draw), then `F.rotate`. */
  protected run(image: Image, rng: Rng): Image {
    const angle = rng.uniform(...this.#degrees);
    const { interpolation, fill, center } = this.#draw;
    return rotate(image, angle, { interpolation, fill, center, expand: this.#expand });
  }
}

/**
 * Random zoom about the centre keeping the size, factor uniform in
 * [minZoom, maxZoom] (MONAI's `RandZoom`; > 1 magnifies). Zooming out fills
 * the border with `fill` (default 0, air on windowed CT), where MONAI's
 * `RandZoom` repeats the edge pixels. Pixels are interpolated bilinearly at
 * the exact factor; MONAI's default resizes with mode "area" to
 * floor(size * factor) pixels first (nearest-like when magnifying), so its
 * zoom of 1.1 on 64 pixels is 70/64.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomZoom({ minZoom: 0.9, maxZoom: 1.1, p: 0.5 });
 * const img = { data: new Float32Array(16), width: 4, height: 4 };
 * console.log(t.apply(img, new data.Rng(0)).height); // 4
 * ```
 */
export class RandomZoom extends Transform {
  readonly #draw: AffineDraw;
  /** `minZoom`, `maxZoom` (default 0.9, 1.1), `interpolation`, `fill`, `p` (default 1). */
  constructor(params: { minZoom?: number; maxZoom?: number; p?: number } & WarpOptions = {}) {
    super(params, arguments.length, {
      keys: ["minZoom", "maxZoom", "interpolation", "fill"],
      p: 1,
      usage: "{ minZoom: 0.9, maxZoom: 1.1 }",
    });
    const scale = range(this.name, "minZoom/maxZoom", [
      params.minZoom ?? 0.9,
      params.maxZoom ?? 1.1,
    ], {
      above: 0,
    });
    const { interpolation, fill } = params;
    this.#draw = new AffineDraw(this.name, { scale, interpolation, fill }, "bilinear", false);
  }
  /** Draws a zoom factor, then `F.affine` with that scale. */
  protected run(image: Image, rng: Rng): Image {
    return this.#draw.apply(image, rng);
  }
}

/** Options of `Resize` (torchvision's, camelCase). */
export interface ResizeOptions {
  /** [height, width] exactly, or the smaller edge's length (the aspect ratio kept). */
  size: number | [number, number];
  /** "bilinear" (default), "bicubic" or "nearest". */
  interpolation?: ResizeInterpolation;
  /** With a number `size`: the longer edge's limit (shrinks both edges to keep to it). */
  maxSize?: number;
  /**
   * true low-pass filters while downsampling (bilinear and bicubic; see
   * `F.resize`): a 512 -> 224 CT slice then keeps no aliasing of fine
   * texture. Default false, torchvision 0.14's default for tensors; in a
   * `Compose` before `ToTensor` (torchvision's PIL stage, as an `ImageFolder`
   * pipeline) true, as PIL always antialiases.
   */
  antialias?: boolean;
}

/**
 * Resizes: `size: [h, w]` exactly, or a number for the smaller edge keeping
 * the aspect ratio (torchvision's `Resize`, with its `interpolation`,
 * `maxSize` and `antialias`, false by default as torchvision 0.14's for
 * tensors).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.Resize({ size: [32, 32] });
 * const img = { data: new Float32Array(64 * 48), width: 64, height: 48 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 32
 * const capped = new data.transforms.Resize({ size: 32, maxSize: 40, interpolation: "nearest" });
 * const out = capped.apply(img, new data.Rng(0));
 * console.log(out.height, out.width); // 30 40
 * const smooth = new data.transforms.Resize({ size: 16, antialias: true });
 * console.log(smooth.apply(img, new data.Rng(0)).height); // 16
 * ```
 */
export class Resize extends Transform {
  readonly #size: number | [number, number];
  readonly #interpolation: ResizeInterpolation;
  readonly #antialias: boolean;
  readonly #maxSize: number | null;
  /** `size`: [height, width] or the smaller edge; `interpolation`, `maxSize`, `antialias`. */
  constructor(params: ResizeOptions) {
    super(params, arguments.length, {
      keys: ["size", "interpolation", "maxSize", "antialias"],
      p: null,
      usage: "{ size: 224 }",
    });
    // torchvision's [s] (a list of one) is the smaller edge, as s.
    const given: unknown = params.size;
    const size = Array.isArray(given) && given.length === 1 ? given[0] : given;
    this.#size = typeof size === "number"
      ? toSize(size, this.name)[0]
      : toSize(size as [number, number], this.name);
    [this.#interpolation, this.#antialias] = resizeParams(
      this.name,
      params.interpolation,
      params.antialias,
    );
    this.#maxSize = null;
    if (params.maxSize !== undefined && params.maxSize !== null) {
      // torchvision's checks: only with one number, and above it.
      if (typeof this.#size !== "number") {
        throw new Error(
          `${this.name}: maxSize goes with a number size (the smaller edge), got size ` +
            `${fmt(size)}; write { size: ${this.#size[0]}, maxSize: ... } or leave maxSize out`,
        );
      }
      const max = toSize(params.maxSize, `${this.name}: maxSize`)[0];
      if (max <= this.#size) {
        throw new Error(
          `${this.name}: maxSize must be above size (the smaller edge), got maxSize ${max} ` +
            `and size ${this.#size}`,
        );
      }
      this.#maxSize = max;
    }
  }
  /** `F.resize` to the size, or the smaller edge to it. */
  protected run(image: Image): Image {
    const s = this.#size;
    if (typeof s !== "number") return resize(image, s, this.#interpolation, this.#antialias);
    const size = smallerEdgeSize(image.width, image.height, s, this.#maxSize);
    return resize(image, size, this.#interpolation, this.#antialias);
  }
}
