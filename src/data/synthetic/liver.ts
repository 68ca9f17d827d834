/**
 * The phantom's liver: right lobe, left lobe crossing the midline anteriorly
 * and caudate lobe (their union is the liver mask), vessels inside it
 * (brighter than the liver when enhanced, darker when not: lesion look-alikes)
 * and, in some patients, the fluid-dark gallbladder beneath it.
 *
 * @module
 */
import type { BodyFrame, Structure } from "./anatomy.ts";

type Vec = readonly [number, number];

/** The liver's parts, its vessels and (with probability `gallbladderShare`) the gallbladder. */
export function liverParts(
  c: BodyFrame,
  gallbladderShare: number,
): { liver: Structure[]; liverVessels: Structure[]; gallbladder: Structure[] } {
  const { rng, m, j, W, H, L, enhanced, liverHU } = c;
  const gallbladder: Structure[] = [];
  // The liver: right lobe, left lobe crossing the midline anteriorly, caudate.
  const liver = [
    m(
      "right lobe",
      [-L, 0],
      [0.55, 0.3],
      [-0.6 * W, 0.22 * H],
      [-0.38 * W, 0.08 * H],
      [0.43 * W * rng.uniform(0.9, 1.1), 0.74 * H, 0.2 + j(0.1)],
      liverHU,
      0.07,
      "liver",
    ),
    m(
      "left lobe",
      [-0.62 * L, -0.06 * L],
      [0.5, 0.5],
      [0.02 * W, -0.45 * H],
      [0.14 * W, -0.4 * H],
      [0.36 * W * rng.uniform(0.8, 1.2), 0.25 * H, 0.35],
      liverHU,
      0.08,
      "liver",
    ),
    m(
      "caudate lobe",
      [-0.55 * L, -0.15 * L],
      [0.4, 0.4],
      [-0.05 * W, 0.32 * H],
      [-0.07 * W, 0.3 * H],
      [0.13 * W, 0.12 * H, 0],
      liverHU,
      0.05,
      "liver",
    ),
  ];
  const liverVessels: Structure[] = [];
  const vesselHU = enhanced ? liverHU + rng.uniform(25, 55) : liverHU - rng.uniform(15, 28);
  for (let k = 0, n = rng.int(6, 11); k < n; k++) {
    const z0 = rng.uniform(-0.85 * L, -0.2 * L);
    const c0: Vec = [rng.uniform(-0.75, 0.1) * W, rng.uniform(-0.45, 0.5) * H];
    const r = rng.uniform(2.5, 6);
    liverVessels.push(
      m(
        "liver vessel",
        [z0, z0 + rng.uniform(25, 70)],
        [0, 0],
        c0,
        [c0[0] + j(30), c0[1] + j(30)],
        [r, r * rng.uniform(0.6, 1), rng.uniform(0, 3)],
        vesselHU,
        0,
        "liverVessel",
      ),
    );
  }
  if (rng.chance(gallbladderShare)) {
    gallbladder.push(
      m(
        "gallbladder",
        [-L + 5, -L + rng.uniform(55, 85)],
        [0.4, 0.3],
        [-0.28 * W, -0.3 * H],
        [-0.3 * W, -0.2 * H],
        [rng.uniform(12, 18), rng.uniform(22, 32), 0.6],
        rng.uniform(0, 15),
        0.05,
        "outsideLiver",
      ),
    );
  }

  return { liver, liverVessels, gallbladder };
}
