/**
 * The phantom's bones and back muscles: vertebrae with discs, spinal canal
 * and laminae, paraspinal muscles, ribs around the upper abdomen and chest,
 * iliac wings and femoral heads. Bright distractors that also clip the liver.
 *
 * @module
 */
import type { BodyFrame, Structure } from "./anatomy.ts";

type Vec = readonly [number, number];

/** Bones (and the back muscles beside the spine), drawn over everything else. */
export function skeleton(c: BodyFrame): Structure[] {
  const { rng, m, j, W, H, h, fat, wall, L, pelvis } = c;
  const over: Structure[] = [];
  // Bones: vertebrae with discs, ribs around the upper abdomen and chest, pelvis.
  // Vertebral body 60 mm in front of the back's fat; canal, laminae and the
  // back muscles behind it, in the thick posterior wall.
  const spineY = h - fat - 60;
  for (const side of [-1, 1]) {
    over.push(
      m(
        "paraspinal muscle",
        [pelvis - 100, 400],
        [0, 0],
        [side * 30, h - fat - 24],
        [side * 30, h - fat - 24],
        [22, 18, side * 0.3],
        55,
        0.05,
        "outsideLiver",
      ),
    );
  }
  for (let z = pelvis - 300; z < 400; z += 35) {
    const sacrum = z < pelvis;
    const rw = sacrum ? 42 : 22;
    over.push(
      m(
        "vertebral body",
        [z, z + 28],
        [0, 0],
        [0, spineY],
        [0, spineY],
        [rw, 17, 0],
        650,
        0.02,
        "outsideLiver",
      ),
    );
    over.push(
      m(
        "cancellous bone",
        [z, z + 28],
        [0, 0],
        [0, spineY],
        [0, spineY],
        [rw - 4, 13, 0],
        230,
        0.02,
        "outsideLiver",
      ),
    );
    over.push(
      m(
        "disc",
        [z + 28, z + 35],
        [0, 0],
        [0, spineY],
        [0, spineY],
        [rw, 17, 0],
        85,
        0.02,
        "outsideLiver",
      ),
    );
  }
  over.push(
    m(
      "spinal canal",
      [pelvis - 300, 400],
      [0, 0],
      [0, spineY + 32],
      [0, spineY + 32],
      [9, 8, 0],
      15,
      0,
      "outsideLiver",
    ),
  );
  over.push(
    m(
      "lamina",
      [pelvis - 300, 400],
      [0, 0],
      [0, spineY + 46],
      [0, spineY + 46],
      [20, 7, 0],
      450,
      0.1,
      "outsideLiver",
    ),
  );
  for (let z = -L - 70; z < 400; z += rng.uniform(24, 32)) {
    for (const side of [-1, 1]) {
      for (let k = 0; k < 6; k++) {
        // phi runs from the back (0) round the side towards the front (pi).
        const phi = 0.55 + k * 0.42 + j(0.08);
        const c: Vec = [side * Math.sin(phi) * (W + wall * 0.5), Math.cos(phi) * (H + wall * 0.5)];
        const along = Math.atan2(-Math.sin(phi) * H, side * Math.cos(phi) * W);
        over.push(
          m(
            "rib",
            [z + k * 2.5, z + k * 2.5 + rng.uniform(14, 20)],
            [0.3, 0.3],
            c,
            c,
            [7, 4.5, along],
            500,
            0.05,
            "outsideLiver",
          ),
        );
      }
    }
  }
  for (const side of [-1, 1]) {
    over.push(
      m(
        "iliac wing",
        [pelvis - 130, pelvis],
        [0, 0.3],
        [side * 0.5 * W, 0.6 * H],
        [side * 0.62 * W, 0.35 * H],
        [0.3 * W, 10, side * 0.7],
        450,
        0.1,
        "outsideLiver",
      ),
    );
    over.push(
      m(
        "femoral head",
        [pelvis - 330, pelvis - 220],
        [0.4, 0.4],
        [side * 0.55 * W, 0.05 * H],
        [side * 0.55 * W, 0.05 * H],
        [24, 24, 0],
        400,
        0.02,
        "outsideLiver",
      ),
    );
  }
  return over;
}
