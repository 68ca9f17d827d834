/**
 * The phantom's anatomy: one simulated patient as a set of 3D structures
 * (organs, vessels, bones, bowel) in millimetres, each a blob whose centre and
 * size change along the body axis. z = 0 is the liver dome; negative z runs
 * towards the pelvis. Image left is the patient's right (radiological view),
 * so the liver lies on the left and the spleen on the right.
 *
 * The numbers are rough adult anatomy (a 30-38 cm wide abdomen, a 14-20 cm
 * tall liver, 25 mm aorta, 11 cm kidneys) so that slices at 64-256 px show
 * what a CT slice shows at that size; HU values are textbook portal-venous
 * phase (or unenhanced for a share of patients).
 *
 * @module
 */
import { bowel } from "./bowel.ts";
import { liverParts } from "./liver.ts";
import { retroperitoneum, upperBodyOrgans } from "./organs.ts";
import type { Rng } from "./rng.ts";
import type { Blob } from "./shapes.ts";
import { skeleton } from "./skeleton.ts";

/** What a structure is, where painting treats it specially. */
export type Role = "tissue" | "liver" | "liverVessel" | "outsideLiver";

/** One 3D structure: a blob swept along z between `z0` and `z1`. */
export interface Structure {
  /** For debugging and tests. */
  name: string;
  /** Lowest z (mm). */
  z0: number;
  /** Highest z (mm). */
  z1: number;
  /** Fractions of the extent over which the ends round off (0 = cut flat). */
  ends: readonly [number, number];
  /** Centre (mm) at z0. */
  from: readonly [number, number];
  /** Centre (mm) at z1. */
  to: readonly [number, number];
  /** Half-axes (mm) and rotation at full size. */
  rx: number;
  /** Half-axis (mm). */
  ry: number;
  /** Rotation (radians). */
  rot: number;
  /** Outline wobble, see `Blob`. */
  wobble: readonly [number, number, number, number];
  /** Attenuation in HU. */
  hu: number;
  /** How painting treats it (default "tissue"). */
  role: Role;
}

/** Scanner and body settings of one patient. */
export interface Patient {
  /** Field of view (mm per image side). */
  fov: number;
  /** Body half-width and half-depth (mm), subcutaneous fat and muscle wall thickness. */
  body: { w: number; h: number; fat: number; wall: number; fatHU: number };
  /** Cranio-caudal liver length (mm). */
  liverLength: number;
  /** Contrast-enhanced (portal venous) or not. */
  enhanced: boolean;
  /** Liver parenchyma HU. */
  liverHU: number;
  /** Structures drawn before the liver, in order. */
  tissues: Structure[];
  /** The liver's parts (their union is the liver). */
  liver: Structure[];
  /** Vessels inside the liver (clipped to it). */
  liverVessels: Structure[];
  /** Drawn after the liver and removed from its mask (gallbladder, bones). */
  over: Structure[];
}

/** The blob of `s` at height `z`, or undefined outside its extent. */
export function blobAt(s: Structure, z: number): Blob | undefined {
  if (z < s.z0 || z > s.z1) return undefined;
  const u = s.z1 > s.z0 ? (z - s.z0) / (s.z1 - s.z0) : 0.5;
  // Ellipsoidal caps: the radius falls as sqrt(1 - d^2) over each end's share.
  const cap = (d: number, share: number) => {
    if (share <= 0 || d >= share) return 1;
    const q = 1 - d / share;
    return Math.sqrt(Math.max(0, 1 - q * q));
  };
  const k = cap(u, s.ends[0]) * cap(1 - u, s.ends[1]);
  if (k <= 0) return undefined;
  return {
    cx: s.from[0] + (s.to[0] - s.from[0]) * u,
    cy: s.from[1] + (s.to[1] - s.from[1]) * u,
    rx: s.rx * k,
    ry: s.ry * k,
    rot: s.rot,
    wobble: s.wobble,
  };
}

type Vec = readonly [number, number];

/** Shorthand for a structure; `wob` scales a random outline wobble. */
export function make(
  rng: Rng,
  name: string,
  z: [number, number],
  ends: readonly [number, number],
  from: Vec,
  to: Vec,
  r: [number, number, number],
  hu: number,
  wob = 0.04,
  role: Role = "tissue",
): Structure {
  const w = () => rng.uniform(-wob, wob);
  return {
    name,
    z0: z[0],
    z1: z[1],
    ends,
    from,
    to,
    rx: r[0],
    ry: r[1],
    rot: r[2],
    wobble: [w(), w(), w(), w()],
    hu,
    role,
  };
}

/** What every structure builder needs: the patient's random stream and body frame. */
export interface BodyFrame {
  /** The patient's random stream (builders draw from it in a fixed order). */
  rng: Rng;
  /** `make` bound to `rng`. */
  m: (...a: Parameters<typeof make> extends [Rng, ...infer R] ? R : never) => Structure;
  /** Uniform jitter in [-s, s]. */
  j: (s: number) => number;
  /** Abdominal cavity half-width and half-depth (mm). */
  W: number;
  /** Cavity half-depth (mm). */
  H: number;
  /** Body half-depth (mm). */
  h: number;
  /** Subcutaneous fat thickness (mm). */
  fat: number;
  /** Muscle wall thickness (mm). */
  wall: number;
  /** Liver length (mm). */
  L: number;
  /** Iliac crest height (mm). */
  pelvis: number;
  /** Contrast-enhanced scan. */
  enhanced: boolean;
  /** Liver HU. */
  liverHU: number;
  /** Arterial blood HU. */
  blood: number;
  /** Venous blood HU. */
  vein: number;
}

/**
 * Draws a patient: body habitus, contrast phase, liver size and HU, and every
 * organ's position with per-patient jitter. `unenhancedShare` is the chance
 * of an unenhanced scan (liver 50-70 HU instead of 90-130), `gallbladderShare`
 * that of a visible gallbladder.
 */
export function makePatient(rng: Rng, unenhancedShare: number, gallbladderShare = 0.75): Patient {
  const w = rng.uniform(140, 185);
  const h = w * rng.uniform(0.62, 0.78);
  const fat = rng.uniform(8, 32);
  const wall = rng.uniform(8, 13);
  const W = w - fat - wall; // abdominal cavity half-axes
  const H = h - fat - wall;
  const fov = 2 * w * rng.uniform(1.1, 1.28);
  const L = rng.uniform(140, 200);
  const enhanced = !rng.chance(unenhancedShare);
  const liverHU = enhanced ? rng.uniform(90, 130) : rng.uniform(50, 70);
  const blood = enhanced ? rng.uniform(150, 210) : rng.uniform(35, 48);
  const vein = enhanced ? rng.uniform(120, 160) : blood;
  const j = (s: number) => rng.uniform(-s, s);
  const m: BodyFrame["m"] = (...a) => make(rng, ...a);
  const pelvis = -L - rng.uniform(120, 170); // iliac crest level
  const c: BodyFrame = { rng, m, j, W, H, h, fat, wall, L, pelvis, enhanced, liverHU, blood, vein };
  // The builders draw from rng in this order; changing it changes every patient.
  const tissues = [...retroperitoneum(c), ...bowel(c), ...upperBodyOrgans(c)];
  const { liver, liverVessels, gallbladder } = liverParts(c, gallbladderShare);
  const over = [...gallbladder, ...skeleton(c)];
  return {
    fov,
    body: { w, h, fat, wall, fatHU: rng.uniform(-110, -90) },
    liverLength: L,
    enhanced,
    liverHU,
    tissues,
    liver,
    liverVessels,
    over,
  };
}
