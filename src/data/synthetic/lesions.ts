/**
 * Liver lesions: 3D ellipsoids placed inside the liver, sized log-uniformly
 * (many small, few large, as in LiTS), and planned so that a patient's share
 * of lesion slices meets a target: lesions are added one at a time until the
 * slices whose lesion cross-section is big enough to be labelled reach it.
 *
 * @module
 */
import { blobAt, type Patient } from "./anatomy.ts";
import type { Rng } from "./rng.ts";
import { inside } from "./shapes.ts";

/** One lesion: an ellipsoid with a HU offset from the liver around it. */
export interface Lesion {
  /** Centre (mm). */
  x: number;
  /** Centre (mm). */
  y: number;
  /** Centre (mm). */
  z: number;
  /** Half-axes (mm): in-plane a, b (rotated by `rot`) and along z, c. */
  a: number;
  /** Half-axis (mm). */
  b: number;
  /** Half-axis along z (mm). */
  c: number;
  /** In-plane rotation (radians). */
  rot: number;
  /** HU added to the liver inside the lesion (negative: hypodense). */
  delta: number;
  /** HU added in a thin rim (peripheral enhancement); 0 for none. */
  rim: number;
  /** Shape along z: 2 = ellipsoid, larger = flatter ends (a cylinder in the limit). */
  power: number;
}

/**
 * How much of its full in-plane size a lesion keeps at `d` (distance from
 * its centre along z over its half-height): (1 - |d|^p)^(1/p), 0 outside.
 */
export function crossSection(lesion: Lesion, d: number): number {
  const q = Math.abs(d);
  if (q >= 1) return 0;
  return lesion.power === 2
    ? Math.sqrt(1 - q * q)
    : Math.pow(1 - Math.pow(q, lesion.power), 1 / lesion.power);
}

/** What lesion planning needs from the settings. */
export interface LesionPlan {
  /** Lesion diameter range (mm), log-uniform. */
  diameterMM: [number, number];
  /** Hypodense contrast range (HU). */
  contrastHU: [number, number];
  /** Share of hyperdense lesions. */
  hyperdenseShare: number;
  /** Fewest output pixels for a lesion slice label. */
  minPixels: number;
  /** Output pixel size (mm). */
  pixelMM: number;
  /** Lesion shape along z (see `Lesion.power`). */
  power: number;
}

/** A point inside the liver at height z, at least `margin` (fraction) inside; undefined if none found. */
function pointInLiver(
  p: Patient,
  z: number,
  rng: Rng,
  margin: number,
): [number, number] | undefined {
  const blobs = p.liver.map((s) => blobAt(s, z)).filter((b) => b !== undefined);
  if (blobs.length === 0) return undefined;
  for (let attempt = 0; attempt < 40; attempt++) {
    // Pick a lobe by area so big lobes get most lesions.
    const areas = blobs.map((b) => b.rx * b.ry);
    let pick = rng.uniform(0, areas.reduce((s, v) => s + v, 0));
    const blob = blobs.find((_, i) => (pick -= areas[i]) < 0) ?? blobs[0];
    const r = Math.max(blob.rx, blob.ry);
    const x = blob.cx + rng.uniform(-r, r);
    const y = blob.cy + rng.uniform(-r, r);
    if (inside(blob, x, y, margin)) return [x, y];
  }
  return undefined;
}

/** Slices (indices) where `lesion`'s cross-section covers at least minPixels output pixels. */
function labelledSlices(lesion: Lesion, zs: readonly number[], plan: LesionPlan): number[] {
  const out: number[] = [];
  const pixelArea = plan.pixelMM * plan.pixelMM;
  for (let i = 0; i < zs.length; i++) {
    const k = crossSection(lesion, (zs[i] - lesion.z) / lesion.c);
    const area = (Math.PI * lesion.a * lesion.b * k * k) / pixelArea;
    if (area >= plan.minPixels) out.push(i);
  }
  return out;
}

/**
 * Lesions for a patient whose slices sit at heights `zs`, so that about
 * `target` of the slices in `liverSlices` (indices into zs) show a lesion.
 */
export function planLesions(
  p: Patient,
  zs: readonly number[],
  liverSlices: readonly number[],
  target: number,
  plan: LesionPlan,
  rng: Rng,
): Lesion[] {
  const lesions: Lesion[] = [];
  const want = Math.round(target * liverSlices.length);
  const covered = new Set<number>();
  for (let tries = 0; covered.size < want && tries < 60; tries++) {
    const d = rng.logUniform(plan.diameterMM[0], plan.diameterMM[1]);
    const zIndex = liverSlices[rng.int(0, liverSlices.length)];
    const z = zs[zIndex] + rng.uniform(-0.5, 0.5) * (zs.length > 1 ? zs[1] - zs[0] : 0);
    const at = pointInLiver(p, z, rng, plan.power > 2 ? 0.5 : 0.25);
    if (!at) continue;
    const hyper = rng.chance(plan.hyperdenseShare);
    const lesion: Lesion = {
      x: at[0],
      y: at[1],
      z,
      a: (d / 2) * rng.uniform(0.8, 1.2),
      b: (d / 2) * rng.uniform(0.8, 1.2),
      c: (d / 2) * rng.uniform(0.8, 1.2),
      rot: rng.uniform(0, Math.PI),
      delta: hyper ? rng.uniform(15, 40) : -rng.uniform(plan.contrastHU[0], plan.contrastHU[1]),
      rim: !hyper && d > 15 && rng.chance(0.3) ? rng.uniform(20, 45) : 0,
      power: plan.power,
    };
    const adds = labelledSlices(lesion, zs, plan).filter((i) => !covered.has(i));
    // A lesion that would overshoot the target by more than half of what it
    // adds is redrawn (usually smaller), so big lesions do not skew the mix.
    if (covered.size + adds.length - want > Math.max(1, adds.length / 2) && tries < 50) continue;
    lesions.push(lesion);
    for (const i of adds) covered.add(i);
  }
  // Some tiny lesions below the labelling size, as real scans have: they
  // change pixels but not labels, which keeps the task honest (not in the
  // flat-ended, easy setting).
  for (let k = plan.power > 2 ? 0 : rng.int(0, 3); k > 0 && liverSlices.length > 0; k--) {
    const z = zs[liverSlices[rng.int(0, liverSlices.length)]];
    const at = pointInLiver(p, z, rng, 0.2);
    const r = rng.uniform(1.5, 2.5);
    if (at) {
      lesions.push({
        x: at[0],
        y: at[1],
        z,
        a: r,
        b: r,
        c: r,
        rot: 0,
        delta: -plan.contrastHU[0],
        rim: 0,
        power: 2,
      });
    }
  }
  return lesions;
}
