/**
 * Nearest warps against torchvision 0.14 bit for bit, half-pixel ties
 * included (tests/fixtures/warp_nearest.json from
 * scripts/make_warp_nearest_fixtures.py): F.rotate, F.affine and the
 * geometric ops of the automatic augmentations on odd and even sizes, small
 * (torch's own bmm loop) and larger (BLAS's fused multiply-adds); then the
 * float32 helpers' corner cases, the pixel-matrix path and bad inputs.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import type { AugmentOpName } from "../src/data/transforms/functional/autoaugment.ts";
import {
  fma32,
  inverseAffineTheta,
  nearbyint,
  warpNearestTheta,
} from "../src/data/transforms/functional/warp.ts";
import { loadFixture } from "./helpers.ts";

const { F } = data.transforms;
type Image = { data: Float32Array; width: number; height: number };
interface Case {
  kind: "rotate" | "affine" | "op";
  width: number;
  height: number;
  fill: number;
  angle?: number;
  translate?: [number, number];
  scale?: number;
  shear?: [number, number];
  op?: AugmentOpName;
  magnitude?: number;
  out: number[];
}
const fx = loadFixture<{ cases: Case[] }>("warp_nearest.json");

/** The fixture's input: 1, 2, ..., w * h, so each output names its source pixel. */
const ramp = (w: number, h: number): Image => ({
  data: Float32Array.from({ length: w * h }, (_, i) => i + 1),
  width: w,
  height: h,
});

/** The library's op for a fixture case. */
function run(c: Case, img: Image): Image {
  const opts = { interpolation: "nearest" as const, fill: c.fill };
  if (c.kind === "rotate") return F.rotate(img, c.angle!, opts);
  if (c.kind === "affine") {
    return F.affine(img, {
      angle: c.angle,
      translate: c.translate,
      scale: c.scale,
      shear: c.shear,
      ...opts,
    });
  }
  return F.applyAugmentOp(img, c.op!, c.magnitude!, opts);
}

const label = (c: Case) =>
  `${c.kind} ${c.op ?? ""} ${c.magnitude ?? c.angle} ${JSON.stringify(c.shear ?? "")} ` +
  `${JSON.stringify(c.translate ?? "")} scale ${
    c.scale ?? 1
  } fill ${c.fill} on ${c.width}x${c.height}`;

Deno.test("nearest warps: torchvision's outputs bit for bit, ties included", () => {
  assert.ok(fx.cases.length > 200);
  let differ = 0, cases = 0;
  const where: string[] = [];
  for (const c of fx.cases) {
    const out = run(c, ramp(c.width, c.height));
    assert.equal(out.data.length, c.out.length, label(c));
    let bad = 0;
    for (let i = 0; i < c.out.length; i++) if (out.data[i] !== c.out[i]) bad++;
    if (bad) (differ += bad, cases++, where.push(`${label(c)}: ${bad}`));
  }
  assert.equal(differ, 0, `${differ} pixels differ in ${cases} cases:\n${where.join("\n")}`);
});

Deno.test("nearest warps: the fixture holds ties (a double-precision grid differs)", () => {
  // The exact positions' round half to even (what this library did before)
  // differs from torchvision's float32 grid in many cases: the fixture tests the ties.
  let differ = 0;
  for (const c of fx.cases) {
    if (c.kind !== "op" || c.op !== "ShearX" || c.width !== 32) continue;
    const img = ramp(c.width, c.height);
    const m = F.affineMatrix(c.width, c.height, {
      shear: [Math.atan(c.magnitude!) * (180 / Math.PI), 0],
    });
    m[2] = -0.5 - m[0] * -0.5 - m[1] * -0.5;
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const ix = nearbyint(m[0] * x + m[1] * y + m[2]), iy = y;
        const v = ix >= 0 && ix < c.width ? img.data[iy * c.width + ix] : c.fill;
        if (v !== c.out[y * c.width + x]) differ++;
      }
    }
  }
  assert.ok(differ > 50, `only ${differ} tie pixels`);
});

Deno.test("nearest warps: fma32 rounds the exact sum, not the double one", () => {
  const a = 1 + 2 ** -12; // a * a = 1 + 2^-11 + 2^-24: a float32 midpoint, exact in double
  const p = a * a;
  assert.equal(p, 1 + 2 ** -11 + 2 ** -24);
  // The double sum p + 2^-100 is p, a tie that float32 rounding sends to even (down).
  assert.equal(Math.fround(p + 2 ** -100), 1 + 2 ** -11);
  assert.equal(fma32(p, 2 ** -100), 1 + 2 ** -11 + 2 ** -23);
  assert.equal(fma32(p, -(2 ** -100)), 1 + 2 ** -11);
  assert.equal(fma32(p, 0), 1 + 2 ** -11); // an exact tie: to even
  assert.equal(fma32(3 * 0.5, 0.25), 1.75);
  assert.equal(fma32(0.1 * 3, 0), Math.fround(0.1 * 3));
});

Deno.test("nearest warps: nearbyint ties to even, both signs", () => {
  const cases: [number, number][] = [
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [-0.5, 0],
    [-1.5, -2],
    [-2.5, -2],
    [0.49999997, 0],
    [2.6, 3],
    [-2.6, -3],
    [7, 7],
  ];
  for (const [u, want] of cases) assert.equal(nearbyint(u) + 0, want, `nearbyint(${u})`);
});

Deno.test("nearest warps: torchvision's matrix, its pixel form and the identity", () => {
  // inverseAffineTheta is _get_inverse_affine_matrix: a pure translation moves by -t.
  const moved = inverseAffineTheta([0, 0], 0, [2, -1], 1, [0, 0]).map((v) => v + 0);
  assert.deepEqual(moved, [1, 0, -2, 0, 1, 1]);
  const t = inverseAffineTheta([-4, -3], 0, [0, 0], 1, [10, 0]);
  assert.ok(Math.abs(t[1] - Math.tan(Math.PI / 18)) < 1e-15 && t[0] === 1 && t[4] === 1);
  const img = ramp(7, 5);
  assert.deepEqual([...warpNearestTheta(img, [1, 0, 0, 0, 1, 0]).data], [...img.data]);
  assert.deepEqual(
    [...F.warpAffine(img, [1, 0, 0, 0, 1, 0], { interpolation: "nearest" }).data],
    [...img.data],
  );
  // A pixel matrix (shift by one column) through the same float32 grid.
  const shifted = F.warpAffine(img, [1, 0, -1, 0, 1, 0], { interpolation: "nearest", fill: -7 });
  for (let y = 0; y < 5; y++) {
    assert.deepEqual(
      [...shifted.data.slice(y * 7, y * 7 + 7)],
      [-7, ...img.data.slice(y * 7, y * 7 + 6)],
    );
  }
  // The pixel-matrix path and F.affine agree on the fixture's rotations by 90 degrees.
  for (const [w, h] of [[8, 6], [33, 17]]) {
    const a = F.rotate(ramp(w, h), 90, { interpolation: "nearest" });
    const b = F.warpAffine(ramp(w, h), F.affineMatrix(w, h, { angle: -90 }), {
      interpolation: "nearest",
    });
    assert.deepEqual([...b.data], [...a.data], `${w}x${h}`);
  }
});

Deno.test("nearest warps: NaN and huge parameters read fill, bad inputs throw", () => {
  const img = ramp(6, 4);
  const nan = warpNearestTheta(img, [NaN, 0, 0, 0, 1, 0], -1);
  assert.ok(nan.data.every((v) => v === -1));
  const far = F.affine(img, { translate: [1e30, 0], interpolation: "nearest", fill: 9 });
  assert.ok(far.data.every((v) => v === 9));
  assert.throws(
    () => F.affine(img, { scale: 0, interpolation: "nearest" }),
    /affine: scale must be a positive number/,
  );
  assert.throws(
    () =>
      F.rotate({ data: new Float32Array(3), width: 2, height: 2 }, 10, {
        interpolation: "nearest",
      }),
    /rotate: image has 3 values/,
  );
  assert.throws(
    () => warpNearestTheta({ data: new Float32Array(3), width: 2, height: 2 }, [1, 0, 0, 0, 1, 0]),
    /warpNearestTheta/,
  );
  assert.throws(
    () => F.applyAugmentOp(img, "ShearX", NaN, { interpolation: "nearest" }),
    /magnitude of ShearX must be a finite number/,
  );
});
