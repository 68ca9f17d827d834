/**
 * The phantom's bowel: small-bowel loops and colon in the lower abdomen,
 * filled with fluid, gas or (in some patients) positive oral contrast, plus
 * bladder and rectum in the pelvis: the clutter a classifier must ignore.
 *
 * @module
 */
import type { BodyFrame, Structure } from "./anatomy.ts";

type Vec = readonly [number, number];

/** Bowel loops, colon, bladder and rectum. */
export function bowel(c: BodyFrame): Structure[] {
  const { rng, m, j, W, H, L, pelvis, enhanced } = c;
  const tissues: Structure[] = [];
  // Bowel: small-bowel loops and colon in the lower abdomen, with fluid, gas
  // or (in some patients) positive oral contrast.
  const oral = rng.chance(0.3);
  const loops = rng.int(40, 60);
  for (let k = 0; k < loops; k++) {
    const z0 = rng.uniform(pelvis - 80, -L + 10);
    const z1 = z0 + rng.uniform(25, 80);
    const c0: Vec = [rng.uniform(-0.8, 0.8) * W, rng.uniform(-0.8, 0.35) * H];
    const c1: Vec = [c0[0] + j(25), c0[1] + j(25)];
    const r = rng.uniform(10, 24);
    const content = rng.chance(0.2)
      ? -950
      : oral && rng.chance(0.5)
      ? rng.uniform(180, 300)
      : rng.uniform(5, 30);
    tissues.push(
      m(
        "bowel wall",
        [z0, z1],
        [0.3, 0.3],
        c0,
        c1,
        [r, r * rng.uniform(0.7, 1), rng.uniform(0, 3)],
        enhanced ? 80 : 40,
        0.1,
      ),
    );
    tissues.push(
      m(
        "bowel content",
        [z0 + 3, z1 - 3],
        [0.3, 0.3],
        c0,
        c1,
        [r - 3, (r - 3) * 0.8, rng.uniform(0, 3)],
        content,
        0.1,
      ),
    );
  }
  for (const side of [-1, 1]) {
    const c: Vec = [side * 0.72 * W, 0.05 * H];
    tissues.push(
      m(
        "colon",
        [pelvis - 20, -L + (side < 0 ? 20 : 90)],
        [0.1, 0.2],
        c,
        [c[0] - side * 10, c[1]],
        [22, 20, 0],
        rng.uniform(-400, -100),
        0.12,
      ),
    );
  }
  tissues.push(
    m(
      "transverse colon",
      [-L - 60, -L + 10],
      [0.4, 0.4],
      [0, -0.6 * H],
      [0.05 * W, -0.55 * H],
      [0.6 * W, 0.09 * H, 0],
      rng.uniform(-400, -100),
      0.15,
    ),
  );
  tissues.push(
    m("bladder", [pelvis - 220, pelvis - 90], [0.4, 0.5], [0, -0.3 * H], [0, -0.35 * H], [
      0.3 * W,
      0.3 * H,
      0,
    ], rng.uniform(0, 15)),
  );
  tissues.push(
    m(
      "rectum",
      [pelvis - 240, pelvis - 60],
      [0, 0.3],
      [0, 0.6 * H],
      [0, 0.55 * H],
      [16, 14, 0],
      rng.chance(0.5) ? -900 : 30,
      0.1,
    ),
  );

  return tissues;
}
