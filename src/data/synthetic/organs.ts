/**
 * The phantom's organs other than the liver and the bowel: retroperitoneum
 * (psoas, great vessels, kidneys), upper abdomen (stomach, spleen) and chest
 * (heart, lungs). Positions scale with the abdominal cavity's half-axes W, H.
 *
 * @module
 */
import type { BodyFrame, Structure } from "./anatomy.ts";

type Vec = readonly [number, number];

/** Psoas, iliac arteries, kidneys, aorta and IVC. */
export function retroperitoneum(c: BodyFrame): Structure[] {
  const { rng, m, j, W, H, L, pelvis, enhanced, blood, vein } = c;
  const tissues: Structure[] = [];
  // Retroperitoneum: psoas, great vessels, kidneys.
  for (const side of [-1, 1]) {
    tissues.push(
      m(
        "psoas",
        [pelvis - 160, -L + 20],
        [0, 0.3],
        [side * 0.38 * W, 0.5 * H],
        [side * 0.22 * W, 0.68 * H],
        [0.13 * W, 0.17 * H, side * 0.3],
        50,
      ),
    );
    tissues.push(
      m(
        "iliac artery",
        [pelvis - 120, pelvis + 60],
        [0, 0],
        [side * 0.33 * W, 0.45 * H],
        [side * 0.05 * W, 0.6 * H],
        [6, 6, 0],
        blood,
        0,
      ),
    );
    const top = side < 0 ? -L + rng.uniform(30, 60) : -L + rng.uniform(50, 80); // right kidney lower
    const kc: Vec = [side * (0.52 + j(0.05)) * W, (0.55 + j(0.05)) * H];
    const kr: [number, number, number] = [rng.uniform(24, 30), rng.uniform(18, 24), side * -0.5];
    tissues.push(
      m(
        "kidney",
        [top - 110, top],
        [0.35, 0.35],
        kc,
        kc,
        kr,
        enhanced ? rng.uniform(150, 190) : 35,
      ),
    );
    tissues.push(
      m(
        "renal sinus",
        [top - 85, top - 25],
        [0.4, 0.4],
        [kc[0] - side * 6, kc[1] - 3],
        [kc[0] - side * 6, kc[1] - 3],
        [kr[0] * 0.5, kr[1] * 0.45, kr[2]],
        enhanced ? 60 : 20,
      ),
    );
  }
  tissues.push(
    m(
      "aorta",
      [pelvis + 60, 400],
      [0, 0],
      [0.07 * W, 0.58 * H],
      [0.1 * W, 0.62 * H],
      [12, 12, 0],
      blood,
      0.01,
    ),
  );
  tissues.push(
    m(
      "ivc",
      [pelvis + 40, -15],
      [0, 0],
      [-0.12 * W, 0.55 * H],
      [-0.15 * W, 0.45 * H],
      [12, 9, 0.3],
      vein,
    ),
  );

  return tissues;
}

/** Stomach with its gas bubble, spleen, heart in pericardial fat, lungs with vessels. */
export function upperBodyOrgans(c: BodyFrame): Structure[] {
  const { rng, m, j, W, H, enhanced, liverHU } = c;
  const tissues: Structure[] = [];
  const sc: Vec = [0.3 * W, -0.2 * H];
  tissues.push(
    m(
      "stomach",
      [-130, -10],
      [0.4, 0.4],
      [sc[0] + 10, sc[1]],
      sc,
      [0.3 * W, 0.28 * H, 0.4],
      enhanced ? 70 : 40,
      0.08,
    ),
  );
  tissues.push(
    m(
      "gastric content",
      [-122, -18],
      [0.4, 0.4],
      [sc[0] + 10, sc[1]],
      sc,
      [0.24 * W, 0.21 * H, 0.4],
      rng.uniform(5, 25),
      0.08,
    ),
  );
  if (rng.chance(0.7)) {
    tissues.push(
      m(
        "gastric gas",
        [-70, -15],
        [0.4, 0.4],
        [sc[0], sc[1] - 0.1 * H],
        [sc[0], sc[1] - 0.1 * H],
        [0.18 * W, 0.1 * H, 0.3],
        -950,
        0.1,
      ),
    );
  }
  const spleenHU = enhanced ? liverHU + rng.uniform(-15, 12) : liverHU - rng.uniform(3, 10);
  tissues.push(
    m(
      "spleen",
      [-rng.uniform(100, 130), -rng.uniform(0, 20)],
      [0.4, 0.4],
      [0.6 * W, 0.4 * H],
      [0.62 * W, 0.3 * H],
      [0.2 * W, 0.36 * H, -0.6],
      spleenHU,
      0.08,
    ),
  );
  tissues.push(
    m(
      "pericardial fat",
      [0, 400],
      [0.15, 0],
      [0.12 * W, -0.18 * H],
      [0.12 * W, -0.18 * H],
      [0.48 * W, 0.5 * H, 0.5],
      -90,
      0.05,
    ),
  );
  tissues.push(
    m(
      "heart",
      [8, 400],
      [0.15, 0],
      [0.12 * W, -0.18 * H],
      [0.12 * W, -0.18 * H],
      [0.42 * W, 0.44 * H, 0.5],
      enhanced ? rng.uniform(130, 170) : 40,
      0.06,
    ),
  );
  for (const side of [-1, 1]) {
    tissues.push(
      m(
        "lung",
        [-rng.uniform(55, 75), 260],
        [0.6, 0],
        [side * 0.55 * W, 0.55 * H],
        [side * 0.5 * W, 0.0],
        [0.46 * W, 0.9 * H, side * 0.1],
        -860,
        0.05,
      ),
    );
    for (let k = 0; k < 5; k++) {
      const c: Vec = [side * rng.uniform(0.3, 0.7) * W, rng.uniform(-0.3, 0.5) * H];
      tissues.push(
        m(
          "lung vessel",
          [rng.uniform(-40, 40), rng.uniform(80, 260)],
          [0, 0],
          c,
          [c[0] + j(20), c[1] + j(20)],
          [rng.uniform(2, 4), rng.uniform(2, 4), 0],
          enhanced ? 120 : 40,
          0,
        ),
      );
    }
  }

  return tissues;
}
