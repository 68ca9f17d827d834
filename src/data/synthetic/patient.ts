/**
 * One simulated patient from anatomy to labelled 8-bit slices: choose the
 * scan's extent so that the liver covers the target share of slices, plan
 * lesions for the target share of lesion slices, then paint, blur, add noise,
 * window, downsample and label every slice.
 *
 * @module
 */
import { makePatient } from "./anatomy.ts";
import { addNoise, blur121, downsampledCount, toUint8MinMax, windowDownsample } from "./imaging.ts";
import { planLesions } from "./lesions.ts";
import type { SynthSettings } from "./presets.ts";
import { liverArea, renderSlice } from "./render.ts";
import { Rng } from "./rng.ts";

/** One generated slice. */
export interface SynthSlice {
  /** 8-bit grey pixels, `size * size`, row-major. */
  pixels: Uint8Array;
  /** Liver visible (at least minLiverPixels, or any labelled lesion). */
  liver: boolean;
  /** Lesion visible (at least minLesionPixels). */
  lesion: boolean;
  /** Height of the slice (mm, 0 = liver dome). */
  z: number;
}

/** Painting happens at this multiple of the output size, then averages down. */
const SUPERSAMPLE = 2;

/**
 * Simulates patient `index` of the dataset with `seed`: the same pair always
 * gives the same slices. Slices run from the pelvis (first) to the chest.
 */
export function simulatePatient(
  index: number,
  seed: number,
  s: Required<SynthSettings>,
): SynthSlice[] {
  const rng = new Rng(seed, index);
  const p = makePatient(rng, s.unenhancedShare, s.gallbladderShare);
  const n = Math.max(4, Math.round(s.slicesPerPatient * rng.uniform(0.85, 1.15)));
  const out = { size: s.size, fov: p.fov };
  const liverShare = Math.min(0.95, (s.classMix[1] + s.classMix[2]) * rng.uniform(0.85, 1.15));
  // Lesion slices as a share of liver slices; one patient in ten has none
  // and the rest make up for it, so the dataset's mix stays on target.
  const lesionShare = s.classMix[2] / (s.classMix[1] + s.classMix[2]);
  const patientLesionShare = lesionShare === 0 || rng.chance(0.1)
    ? 0
    : Math.min(0.9, (lesionShare / 0.9) * rng.uniform(0.6, 1.4));

  // The scan covers `span` mm, a share `above` of the non-liver part above
  // the dome. Rescale the span until the liver is on the target share of
  // slices (the liver's tips fall below the pixel threshold, so the labelled
  // length is shorter than the liver).
  const above = rng.uniform(0.25, 0.4);
  let span = p.liverLength / liverShare;
  let zs: number[] = [];
  let liverSlices: number[] = [];
  for (let iter = 0; iter < 4; iter++) {
    const rest = Math.max(0, span - p.liverLength);
    const top = above * rest;
    const bottom = -p.liverLength - (1 - above) * rest;
    zs = Array.from({ length: n }, (_, i) => bottom + ((i + 0.5) * (top - bottom)) / n);
    liverSlices = zs.flatMap((z, i) => liverArea(p, z, out) >= s.minLiverPixels ? [i] : []);
    const got = liverSlices.length / n;
    if (got === 0 || Math.abs(got - liverShare) * n < 0.75) break;
    span *= got / liverShare;
  }

  const lesions = planLesions(p, zs, liverSlices, patientLesionShare, {
    diameterMM: s.lesionDiameterMM,
    contrastHU: s.lesionContrastHU,
    hyperdenseShare: s.hyperdenseShare,
    minPixels: s.minLesionPixels,
    pixelMM: p.fov / s.size,
    power: s.lesionShapePower,
  }, rng);

  const noise = rng.uniform(s.noiseHU[0], s.noiseHU[1]);
  const render = { size: s.size * SUPERSAMPLE, fov: p.fov };
  return zs.map((z, i) => {
    // Each slice has its own stream: slices do not depend on each other.
    const srng = new Rng(seed, 0x40000000 + index * 4096 + i);
    const r = renderSlice(p, lesions, z, render, s.textureHU, srng);
    blur121(r.hu, render.size);
    addNoise(r.hu, noise, srng);
    const pixels = toUint8MinMax(windowDownsample(r.hu, render.size, SUPERSAMPLE, s.window));
    const lesion = downsampledCount(r.lesion, render.size, SUPERSAMPLE) >= s.minLesionPixels;
    const liver = lesion || downsampledCount(r.liver, render.size, SUPERSAMPLE) >= s.minLiverPixels;
    return { pixels, liver, lesion, z };
  });
}
