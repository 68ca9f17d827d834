/**
 * The synthetic phantom's one drawing primitive: a "blob", an ellipse whose
 * outline wobbles by a few low harmonics, so organs look organic instead of
 * geometric. Everything is in millimetres with the image centre at (0, 0),
 * x towards the image's right (the patient's left) and y downwards
 * (posterior), as a CT slice is displayed.
 *
 * @module
 */

/** An ellipse with a wobbling outline, in millimetres. */
export interface Blob {
  /** Centre. */
  cx: number;
  /** Centre. */
  cy: number;
  /** Half-axis along the blob's own x. */
  rx: number;
  /** Half-axis along the blob's own y. */
  ry: number;
  /** Rotation in radians. */
  rot: number;
  /** Outline wobble: radius factor 1 + h0 cos 2t + h1 sin 2t + h2 cos 3t + h3 sin 3t. */
  wobble: readonly [number, number, number, number];
}

/** A square pixel grid over a square field of view. */
export interface Grid {
  /** Pixels per side. */
  size: number;
  /** Field of view per side, millimetres. */
  fov: number;
}

/**
 * Calls `visit(index, t)` for every pixel whose centre lies inside `blob`,
 * where `t` in [0, 1) is how far out the pixel is (0 at the centre, 1 on the
 * outline): painters use it for soft edges and rims.
 */
export function rasterize(grid: Grid, blob: Blob, visit: (index: number, t: number) => void): void {
  const { size, fov } = grid;
  const [h0, h1, h2, h3] = blob.wobble;
  const reach = Math.max(blob.rx, blob.ry) *
    (1 + Math.abs(h0) + Math.abs(h1) + Math.abs(h2) + Math.abs(h3));
  if (!(reach > 0)) return;
  const mm = fov / size;
  const toPixel = (v: number) => (v + fov / 2) / mm - 0.5;
  const c0 = Math.max(0, Math.floor(toPixel(blob.cx - reach)));
  const c1 = Math.min(size - 1, Math.ceil(toPixel(blob.cx + reach)));
  const r0 = Math.max(0, Math.floor(toPixel(blob.cy - reach)));
  const r1 = Math.min(size - 1, Math.ceil(toPixel(blob.cy + reach)));
  const cos = Math.cos(blob.rot);
  const sin = Math.sin(blob.rot);
  const irx = 1 / blob.rx;
  const iry = 1 / blob.ry;
  const wobbly = h0 !== 0 || h1 !== 0 || h2 !== 0 || h3 !== 0;
  for (let row = r0; row <= r1; row++) {
    const dy = (row + 0.5) * mm - fov / 2 - blob.cy;
    for (let col = c0; col <= c1; col++) {
      const dx = (col + 0.5) * mm - fov / 2 - blob.cx;
      const u = (dx * cos + dy * sin) * irx;
      const v = (dy * cos - dx * sin) * iry;
      const r = Math.sqrt(u * u + v * v);
      let edge = 1;
      if (wobbly && r > 0) {
        // cos/sin of 2t and 3t from cos t, sin t by the double/triple-angle forms.
        const c = u / r;
        const s = v / r;
        const c2 = c * c - s * s;
        const s2 = 2 * s * c;
        const c3 = c * (4 * c * c - 3);
        const s3 = s * (3 - 4 * s * s);
        edge = 1 + h0 * c2 + h1 * s2 + h2 * c3 + h3 * s3;
      }
      if (r < edge) visit(row * size + col, r / edge);
    }
  }
}

/** Whether the point (x, y) mm lies inside `blob`. */
export function inside(blob: Blob, x: number, y: number, margin = 0): boolean {
  const dx = x - blob.cx;
  const dy = y - blob.cy;
  const cos = Math.cos(blob.rot);
  const sin = Math.sin(blob.rot);
  const u = (dx * cos + dy * sin) / blob.rx;
  const v = (dy * cos - dx * sin) / blob.ry;
  const r = Math.sqrt(u * u + v * v);
  if (r === 0) return margin < 1;
  const c = u / r;
  const s = v / r;
  const [h0, h1, h2, h3] = blob.wobble;
  const edge = 1 + h0 * (c * c - s * s) + h1 * 2 * s * c + h2 * c * (4 * c * c - 3) +
    h3 * s * (3 - 4 * s * s);
  return r < edge - margin;
}

/** A blob scaled about its centre by `k`. */
export function scaled(blob: Blob, k: number): Blob {
  return { ...blob, rx: blob.rx * k, ry: blob.ry * k };
}
