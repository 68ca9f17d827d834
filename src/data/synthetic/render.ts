/**
 * Paints one axial slice of a simulated patient into a HU raster, with the
 * liver and lesion masks that the labels come from. Painting is back to
 * front: air, table, body fat, muscle wall, abdominal fat, organs, liver,
 * liver vessels, lesions, then what lies over the liver (gallbladder, bones).
 *
 * @module
 */
import { blobAt, type Patient, type Structure } from "./anatomy.ts";
import { crossSection, type Lesion } from "./lesions.ts";
import type { Rng } from "./rng.ts";
import { type Blob, type Grid, rasterize } from "./shapes.ts";

/** A painted slice at render resolution. */
export interface SliceRaster {
  /** Pixel size and field of view. */
  grid: Grid;
  /** Attenuation (HU), row-major. */
  hu: Float32Array;
  /** 1 where liver (lesions included). */
  liver: Uint8Array;
  /** 1 where lesion. */
  lesion: Uint8Array;
  /** 1 inside the body's muscle wall: organs are clipped to it. */
  cavity: Uint8Array;
}

/** The body's outline at full size: a slightly squared, flat-backed ellipse. */
function bodyBlob(p: Patient, inset: number, back = 0): Blob {
  // `back` thickens the posterior side (the back muscles are the thickest).
  return {
    cx: 0,
    cy: -back / 2,
    rx: p.body.w - inset,
    ry: p.body.h - inset - back / 2,
    rot: 0,
    wobble: [0.02, 0, 0, -0.03],
  };
}

function paint(r: SliceRaster, s: Structure, z: number): void {
  const blob = blobAt(s, z);
  if (blob) rasterize(r.grid, blob, painter(r, s));
}

/** What a pixel inside a structure gets, by the structure's role. */
function painter(r: SliceRaster, s: Structure): (i: number) => void {
  const { hu, liver, lesion, cavity } = r;
  const v = s.hu;
  switch (s.role) {
    case "tissue":
      return (i) => {
        if (cavity[i]) hu[i] = v;
      };
    case "liver":
      return (i) => {
        if (!cavity[i]) return;
        hu[i] = v;
        liver[i] = 1;
      };
    case "liverVessel":
      return (i) => {
        if (liver[i]) hu[i] = v;
      };
    case "outsideLiver":
      return (i) => {
        hu[i] = v;
        liver[i] = 0;
        lesion[i] = 0;
      };
  }
}

/** Adds a lesion's cross-section at z: soft-edged HU offset, optional rim, clipped to the liver. */
function paintLesion(r: SliceRaster, l: Lesion, z: number): void {
  const k = crossSection(l, (z - l.z) / l.c);
  if (k <= 0) return;
  const blob: Blob = {
    cx: l.x,
    cy: l.y,
    rx: l.a * k,
    ry: l.b * k,
    rot: l.rot,
    wobble: [0.05, 0, 0, 0.04],
  };
  const { hu, liver, lesion } = r;
  rasterize(r.grid, blob, (i, t) => {
    if (!liver[i]) return;
    // Full contrast inside 70 % of the radius, fading to none at the edge.
    const w = t < 0.7 ? 1 : (1 - t) / 0.3;
    hu[i] += l.delta * w + (l.rim !== 0 && t > 0.72 && t < 0.95 ? l.rim : 0);
    lesion[i] = 1;
  });
}

/**
 * Slow texture: a coarse grid of normal values, bilinearly upsampled and
 * added to soft tissue (not air or lung), so organs are not flat.
 */
function addTexture(r: SliceRaster, amplitude: number, rng: Rng): void {
  if (amplitude <= 0) return;
  const g = 7;
  const coarse = rng.fillNormal(new Float32Array(g * g), amplitude);
  const { size } = r.grid;
  const scale = (g - 1) / (size - 1);
  for (let row = 0; row < size; row++) {
    const fy = row * scale;
    const y0 = Math.min(g - 2, Math.floor(fy));
    const ty = fy - y0;
    for (let col = 0; col < size; col++) {
      const i = row * size + col;
      if (r.hu[i] < -300) continue;
      const fx = col * scale;
      const x0 = Math.min(g - 2, Math.floor(fx));
      const tx = fx - x0;
      const a = coarse[y0 * g + x0] * (1 - tx) + coarse[y0 * g + x0 + 1] * tx;
      const b = coarse[(y0 + 1) * g + x0] * (1 - tx) + coarse[(y0 + 1) * g + x0 + 1] * tx;
      r.hu[i] += a * (1 - ty) + b * ty;
    }
  }
}

/** Paints the slice at height z (mm) on `grid`; `rng` drives the texture. */
export function renderSlice(
  p: Patient,
  lesions: readonly Lesion[],
  z: number,
  grid: Grid,
  textureHU: number,
  rng: Rng,
): SliceRaster {
  const n = grid.size * grid.size;
  const r: SliceRaster = {
    grid,
    hu: new Float32Array(n).fill(-1000),
    liver: new Uint8Array(n),
    lesion: new Uint8Array(n),
    cavity: new Uint8Array(n),
  };
  const fill = (blob: Blob, v: number) => rasterize(grid, blob, (i) => r.hu[i] = v);
  fill({ cx: 0, cy: p.body.h + 22, rx: p.body.w * 0.9, ry: 4, rot: 0, wobble: [0, 0, 0, 0] }, 60);
  fill(bodyBlob(p, 0), p.body.fatHU);
  fill(bodyBlob(p, p.body.fat), 50);
  rasterize(grid, bodyBlob(p, p.body.fat + p.body.wall, p.body.wall), (i) => {
    r.hu[i] = -85;
    r.cavity[i] = 1;
  });
  for (const s of p.tissues) paint(r, s, z);
  for (const s of p.liver) paint(r, s, z);
  for (const s of p.liverVessels) paint(r, s, z);
  for (const l of lesions) paintLesion(r, l, z);
  for (const s of p.over) paint(r, s, z);
  addTexture(r, textureHU, rng);
  return r;
}

/** Liver pixels at z on `grid`, from the liver's outline alone (for planning). */
export function liverArea(p: Patient, z: number, grid: Grid): number {
  const mask = new Uint8Array(grid.size * grid.size);
  for (const s of p.liver) {
    const blob = blobAt(s, z);
    if (blob) rasterize(grid, blob, (i) => mask[i] = 1);
  }
  let count = 0;
  for (let i = 0; i < mask.length; i++) count += mask[i];
  return count;
}
