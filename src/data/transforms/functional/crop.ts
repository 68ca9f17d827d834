/**
 * Cropping, padding and erasing: ops that cut out, extend or blank a
 * rectangle of the image. Out-of-image regions read a fill value, so one
 * `crop` serves center crop, random crop and constant padding alike.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, fmt, roundHalfEven, scratchImage, toPadding, toSize } from "../image.ts";

/** A rectangle in pixel rows and columns. */
export interface Box {
  /** First row. */
  top: number;
  /** First column. */
  left: number;
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
}

/** How `pad` fills new pixels (torchvision's padding modes). */
export type PadMode = "constant" | "edge" | "reflect" | "symmetric";

/**
 * The rectangle [top, top + height) x [left, left + width); parts outside
 * the image read `fill` (as torchvision's `F.crop`, which pads with zeros).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * console.log([...data.transforms.F.crop(img, 0, 1, 2, 2).data]); // [2, 0, 4, 0]
 * ```
 */
export function crop(
  image: Image,
  top: number,
  left: number,
  height: number,
  width: number,
  fill = 0,
): Image {
  checkImage(image, "crop");
  if (![top, left, height, width].every(Number.isInteger) || height < 1 || width < 1) {
    throw new Error(
      `crop: top, left must be integers and height, width positive integers, got ` +
        `${fmt({ top, left, height, width })}`,
    );
  }
  const { data, width: w, height: h } = image;
  const out = scratchImage(width, height);
  out.data.fill(fill);
  // The overlap of the box with the image, copied row by row.
  const x0 = Math.max(0, left), x1 = Math.min(w, left + width);
  const y0 = Math.max(0, top), y1 = Math.min(h, top + height);
  if (x1 <= x0) return out;
  for (let y = y0; y < y1; y++) {
    out.data.set(data.subarray(y * w + x0, y * w + x1), (y - top) * width + (x0 - left));
  }
  return out;
}

/**
 * The central [height, width] region, offsets rounded as torchvision's
 * `F.center_crop` (a crop larger than the image pads with zeros).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(16).map((_, i) => i), width: 4, height: 4 };
 * console.log([...data.transforms.F.centerCrop(img, 2).data]); // [5, 6, 9, 10]
 * ```
 */
export function centerCrop(image: Image, size: number | [number, number]): Image {
  checkImage(image, "centerCrop");
  const [ch, cw] = toSize(size, "centerCrop");
  // Larger than the image: padded by the floor of half the deficit before
  // (torchvision pads [d // 2, (d + 1) // 2]); rounding -1.5 to even put the
  // image a row or column off where the deficit is 3 mod 4.
  const offset = (size: number, c: number) =>
    c > size ? -Math.floor((c - size) / 2) : roundHalfEven((size - c) / 2);
  return crop(image, offset(image.height, ch), offset(image.width, cw), ch, cw);
}

/**
 * Pads by [left, top, right, bottom] pixels (a number pads all sides,
 * [lr, tb] pads pairs), as torchvision's `F.pad(img, padding, fill,
 * padding_mode)`: "constant" (with `fill`), "edge", "reflect" (the edge
 * not repeated) or "symmetric" (the edge repeated).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2]), width: 2, height: 1 };
 * console.log([...data.transforms.F.pad(img, [1, 0, 1, 0], 0, "edge").data]); // [1, 1, 2, 2]
 * ```
 */
export function pad(
  image: Image,
  padding: number | readonly number[],
  fill = 0,
  mode: PadMode = "constant",
): Image {
  checkImage(image, "pad");
  const [l, t, r, b] = toPadding(padding, "pad");
  const { data, width: w, height: h } = image;
  if (mode === "constant") return crop(image, -t, -l, h + t + b, w + l + r, fill);
  if (mode !== "edge" && mode !== "reflect" && mode !== "symmetric") {
    throw new Error(
      `pad: padding mode must be constant, edge, reflect or symmetric, got ${fmt(mode)}`,
    );
  }
  // torch's reflect needs padding < size, symmetric <= size (one reflection).
  const most = mode === "reflect" ? [w - 1, h - 1] : mode === "symmetric" ? [w, h] : null;
  if (most && (l > most[0] || r > most[0] || t > most[1] || b > most[1])) {
    throw new Error(
      `pad: ${mode} padding ${fmt([l, t, r, b])} must be ${
        mode === "reflect" ? "smaller than" : "at most"
      } the image ${w}x${h} on each side`,
    );
  }
  const index = (i: number, n: number) =>
    mode === "edge"
      ? Math.min(n - 1, Math.max(0, i))
      : mode === "reflect"
      ? (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i)
      : (i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i);
  const ow = w + l + r, oh = h + t + b;
  const out = scratchImage(ow, oh);
  for (let y = 0; y < oh; y++) {
    const sy = index(y - t, h) * w;
    for (let x = 0; x < ow; x++) out.data[y * ow + x] = data[sy + index(x - l, w)];
  }
  return out;
}

/**
 * The bounding box of pixels above `threshold`, grown by `margin` pixels
 * and clipped to the image; null when no pixel is above it.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 0, 0, 0, 1, 0, 0, 0, 0]), width: 3, height: 3 };
 * console.log(data.transforms.F.foregroundBox(img, 0.5)); // { top: 1, left: 1, height: 1, width: 1 }
 * ```
 */
export function foregroundBox(image: Image, threshold = 0, margin = 0): Box | null {
  checkImage(image, "foregroundBox");
  const { data, width: w, height: h } = image;
  let x0 = w, x1 = -1, y0 = h, y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let first = -1, last = -1;
    for (let x = 0; x < w; x++) {
      if (data[row + x] > threshold) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 === h) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  if (y1 < 0) return null;
  const top = Math.max(0, y0 - margin), left = Math.max(0, x0 - margin);
  const bottom = Math.min(h, y1 + 1 + margin), right = Math.min(w, x1 + 1 + margin);
  return { top, left, height: bottom - top, width: right - left };
}

/**
 * Crops to the body: the bounding box of pixels above `threshold` plus a
 * margin (MONAI's `CropForeground`); an image with no foreground is
 * returned unchanged.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 0, 0, 0, 1, 1, 0, 0, 0]), width: 3, height: 3 };
 * const body = data.transforms.F.cropForeground(img, { threshold: 0.5 });
 * console.log(body.width, body.height); // 2 1
 * ```
 */
export function cropForeground(
  image: Image,
  opts: { threshold?: number; margin?: number } = {},
): Image {
  const box = foregroundBox(image, opts.threshold ?? 0, opts.margin ?? 0);
  return box ? crop(image, box.top, box.left, box.height, box.width) : image;
}

/**
 * Sets the rectangle to `value` (a number, or per-pixel values of the
 * box's size), as torchvision's `F.erase`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([1, 2, 3, 4]), width: 2, height: 2 };
 * console.log([...data.transforms.F.erase(img, 0, 0, 1, 2, 0).data]); // [0, 0, 3, 4]
 * ```
 */
export function erase(
  image: Image,
  top: number,
  left: number,
  height: number,
  width: number,
  value: number | Float32Array = 0,
): Image {
  checkImage(image, "erase");
  const { width: w, height: h } = image;
  if (
    ![top, left, height, width].every(Number.isInteger) || top < 0 || left < 0 ||
    height < 1 || width < 1 || top + height > h || left + width > w
  ) {
    throw new Error(`erase: box ${fmt({ top, left, height, width })} is not inside ${w}x${h}`);
  }
  if (typeof value !== "number" && value.length !== height * width) {
    throw new Error(`erase: ${value.length} values do not fill a ${height}x${width} box`);
  }
  const out = { data: image.data.slice(), width: w, height: h };
  for (let y = 0; y < height; y++) {
    const o = (top + y) * w + left;
    if (typeof value === "number") out.data.fill(value, o, o + width);
    else out.data.set(value.subarray(y * width, (y + 1) * width), o);
  }
  return out;
}
