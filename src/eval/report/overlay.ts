/**
 * Grad-CAM heat maps drawn over a grey slice, as pytorch-grad-cam's
 * `show_cam_on_image` does: the map through the jet colour map (blue = 0,
 * red = 1; cv2's COLORMAP_JET), blended half and half with the slice.
 *
 * @module
 */
import type { ReportImage } from "./types.ts";

/** Jet colour of v in [0, 1] as [r, g, b] in [0, 1]. */
export function jet(v: number): [number, number, number] {
  const c = (x: number) => Math.max(0, Math.min(1, x));
  const t = c(v) * 4;
  return [c(1.5 - Math.abs(t - 3)), c(1.5 - Math.abs(t - 2)), c(1.5 - Math.abs(t - 1))];
}

/**
 * The slice (min-max scaled to [0, 1]) blended with the jet colours of
 * `heat` (values in [0, 1], the slice's size): channel-first RGB in [0, 1],
 * `imageWeight` of the slice and the rest of the heat map.
 *
 * @throws {RangeError} When the two images differ in size.
 */
export function overlayHeatmap(
  image: ReportImage,
  heat: ReportImage,
  imageWeight = 0.5,
): ReportImage {
  const { width, height } = image;
  const plane = width * height;
  if (heat.width !== width || heat.height !== height || heat.data.length !== plane) {
    throw new RangeError(
      `heat map ${heat.width}x${heat.height} does not match its image ${width}x${height}`,
    );
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < plane; i++) {
    const v = image.data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = hi > lo ? 1 / (hi - lo) : 0;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    const grey = (image.data[i] - lo) * scale;
    const rgb = jet(heat.data[i]);
    for (let c = 0; c < 3; c++) {
      out[c * plane + i] = imageWeight * grey + (1 - imageWeight) * rgb[c];
    }
  }
  return { data: out, width, height };
}
