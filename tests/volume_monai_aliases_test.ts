/**
 * What MONAI 1.3 accepts beyond the volume transforms' first names, against
 * reference numbers (tests/fixtures/volume_monai_aliases.json, written by
 * scripts/make_volume_monai_aliases_fixtures.py from MONAI's code paths in
 * PyTorch 1.13): the interpolation and padding names MONAI resolves
 * ("bilinear" and spline orders on Zoom/Resize, "trilinear" and scipy's
 * padding names on Rotate/Affine/Spacing), Zoom's numpy.pad modes,
 * `Affine`'s `alignCorners`, reversed [a, b] ranges in the Rand* transforms
 * (numpy's `uniform(a, b)`), `ScaleIntensityRangePercentiles` with null
 * bounds, `Resize`'s `sizeMode: "longest"`, and a short `spacing.pixdim`.
 * Then what MONAI refuses, refused here with what to write.
 *
 * The volumes are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import { checkSpacing } from "../src/data/volume_spacing.ts";
import { run, type VolumeCase, volumeCases, type VT } from "./volume_cases.ts";
import { fromStored, type StoredRecord, testDevice } from "./helpers.ts";

const V = data.transforms.volume;
const { fx, input, runCases: runList } = volumeCases<{
  torch: string;
  inputs: Record<string, StoredRecord>;
  cases: VolumeCase[];
  pixdim: { pixdim: number | number[]; out: number[] }[];
}>("volume_monai_aliases.json", 1e-5);

/** Each case whose name starts with `prefix`: built, applied, and rebuilt from its JSON spec. */
function runCases(prefix: string, least: number): void {
  const list = fx.cases.filter((c) => c.name.startsWith(prefix));
  assert.ok(list.length >= least, `${prefix}: ${list.length} cases`);
  runList(list);
}

Deno.test(`volume MONAI aliases fixtures: written by PyTorch ${fx.torch}`, () => {
  assert.ok(fx.torch.startsWith("1.13"));
  assert.ok(fx.cases.length >= 50);
});

Deno.test("volume Zoom/Resize: linear, bilinear and spline orders 0/1 as MONAI resolves them", () => {
  runCases("zoom mode", 12);
  runCases("resize mode", 2);
  // The same numbers as the torch name they resolve to.
  using x = input("a");
  const tri = run(new V.Zoom({ zoom: 1.4, mode: "trilinear" }), x, new data.Rng(0));
  for (const mode of ["bilinear", "linear", 1, "1"] as const) {
    assert.deepEqual(run(new V.Zoom({ zoom: 1.4, mode }), x, new data.Rng(0)), tri, String(mode));
  }
  const t = new V.RandZoom({ p: 1, mode: "bilinear", alignCorners: true });
  assert.equal(t.spec.mode, "bilinear");
});

Deno.test("volume Zoom: numpy.pad's linear_ramp, maximum, mean, median, minimum after shrinking", () => {
  runCases("zoom paddingMode", 10);
  // "empty" is numpy's uninitialized pad: 0 here.
  using x = input("a");
  const { shape, v } = run(new V.Zoom({ zoom: 0.5, paddingMode: "empty" }), x, new data.Rng(0));
  assert.deepEqual(shape, [2, 6, 7, 5]);
  assert.equal(v[0], 0);
});

Deno.test("volume Rotate: trilinear, linear, order 1 and scipy's padding names", () => {
  runCases("rotate mode", 7);
});

Deno.test("volume Affine: MONAI's names, and alignCorners", () => {
  runCases("affine mode", 3);
  runCases("affine alignCorners", 12);
  using x = input("a");
  const off = run(new V.Affine({ rotateParams: 0.3 }), x, new data.Rng(0));
  const on = run(new V.Affine({ rotateParams: 0.3, alignCorners: true }), x, new data.Rng(0));
  assert.notDeepEqual(on.v, off.v);
  assert.deepEqual(new V.Affine({ alignCorners: true }).spec, {
    name: "volume.Affine",
    alignCorners: true,
  });
});

Deno.test("volume ScaleIntensityRangePercentiles and ScaleIntensityRange: null bounds are MONAI's None", () => {
  runCases("percentiles", 8);
  using x = input("a");
  const t = new V.ScaleIntensityRange({ aMin: -1, aMax: 3, bMin: null, bMax: null });
  const plain = new V.ScaleIntensityRange({ aMin: -1, aMax: 3 });
  assert.deepEqual(run(t, x, new data.Rng(0)), run(plain, x, new data.Rng(0)));
  const clipped = run(
    new V.ScaleIntensityRange({ aMin: -1, aMax: 3, bMin: 0, bMax: null, clip: true }),
    x,
    new data.Rng(0),
  );
  assert.ok(clipped.v.every((v) => v >= 0) && clipped.v.some((v) => v > 1));
  // bMin left out beside a null bMax is None too: MONAI's clip(img, None, None) fails.
  assert.throws(
    () => new V.ScaleIntensityRange({ aMin: -1, aMax: 3, bMax: null, clip: true }),
    /clip needs bMin or bMax/,
  );
});

Deno.test("volume Resize: sizeMode longest scales the longest side, rounding as Python", () => {
  runCases("resize longest", 4);
  using x = input("a"); // [2, 6, 7, 5]
  const y = run(new V.Resize({ spatialSize: 14, sizeMode: "longest" }), x, new data.Rng(0));
  assert.deepEqual(y.shape, [2, 12, 14, 10]);
  // 6 * 3 / 7 = 2.57 -> 3, 5 * 3 / 7 = 2.14 -> 2; and a half rounds to even: 5 * 7 / 14 = 2.5 -> 2.
  using w = fromStored(fx.inputs.b, { device: testDevice }); // [1, 5, 9, 6]
  assert.deepEqual(
    run(new V.Resize({ spatialSize: 3, sizeMode: "longest" }), x, new data.Rng(0)).shape,
    [2, 3, 3, 2],
  );
  assert.deepEqual(
    run(new V.Resize({ spatialSize: 18, sizeMode: "longest" }), w, new data.Rng(0)).shape,
    [1, 10, 18, 12],
  );
  using h = fromStored({ shape: [1, 5, 14, 6], data: new Array(420).fill(1) }, {
    device: testDevice,
  });
  const half = V.fromSpec({ name: "volume.Resize", spatialSize: 7, sizeMode: "longest" });
  assert.deepEqual(run(half, h, new data.Rng(0)).shape, [1, 2, 7, 3]);
});

Deno.test("volume spacing: a short pixdim repeats its last value, a long one is cut, as MONAI's", () => {
  for (const { pixdim, out } of fx.pixdim) {
    assert.deepEqual(checkSpacing("t", { pixdim }).pixdim, out, JSON.stringify(pixdim));
  }
  const s = checkSpacing("t", { pixdim: [2, 3], mode: "trilinear", paddingMode: "reflect" });
  assert.deepEqual(s, { pixdim: [2, 3, 3], mode: "bilinear", paddingMode: "reflection" });
  assert.equal(checkSpacing("t", { pixdim: 1, mode: "1" }).mode, "bilinear");
  assert.equal(checkSpacing("t", { pixdim: 1, paddingMode: "nearest" }).paddingMode, "border");
  assert.equal(checkSpacing("t", { pixdim: 1, paddingMode: "constant" }).paddingMode, "zeros");
});

/** A random transform with a reversed range, and the deterministic one at the same draws. */
interface RandCase {
  t: VT;
  det: (r: data.Rng) => VT;
}

const REVERSED: RandCase[] = [
  {
    t: new V.RandRotate({ p: 1, rangeX: [0.3, 0.1], rangeY: -0.2 }),
    det: (r) =>
      new V.Rotate({ angle: [r.uniform(0.3, 0.1), r.uniform(-0.2, 0.2), r.uniform(0, 0)] }),
  },
  {
    t: new V.RandZoom({ p: 1, minZoom: 1.3, maxZoom: 0.8, mode: "trilinear" }),
    det: (r) => new V.Zoom({ zoom: r.uniform(1.3, 0.8), mode: "trilinear" }),
  },
  {
    t: new V.RandAffine({ p: 1, rotateRange: [[0.2, -0.1], -0.3], translateRange: -1.5 }),
    det: (r) =>
      new V.Affine({
        rotateParams: [r.uniform(0.2, -0.1), r.uniform(0.3, -0.3)],
        translateParams: [r.uniform(1.5, -1.5)],
      }),
  },
  {
    t: new V.RandGaussianSmooth({ p: 1, sigmaX: [1.5, 0.5], sigmaY: [1, 1], sigmaZ: [0.9, 0.2] }),
    det: (r) =>
      new V.GaussianSmooth({ sigma: [r.uniform(1.5, 0.5), r.uniform(1, 1), r.uniform(0.9, 0.2)] }),
  },
  {
    t: new V.RandGaussianSharpen({
      p: 1,
      sigma1X: [1, 0.5],
      sigma1Y: [0.6, 0.6],
      sigma1Z: [0.6, 0.6],
      sigma2X: [0.5, 0.2],
      sigma2Y: 0.3,
      sigma2Z: 0.3,
      alpha: [30, 10],
    }),
    det: (r) => {
      const s1 = [r.uniform(1, 0.5), r.uniform(0.6, 0.6), r.uniform(0.6, 0.6)];
      const s2 = [r.uniform(0.5, 0.2), r.uniform(0.3, s1[1]), r.uniform(0.3, s1[2])];
      return new V.GaussianSharpen({ sigma1: s1, sigma2: s2, alpha: r.uniform(30, 10) });
    },
  },
];

Deno.test("volume Rand*: a reversed [a, b] range draws numpy's uniform(a, b), as MONAI", () => {
  using x = input("b");
  for (const { t, det } of REVERSED) {
    const outs = new Set<string>();
    for (let s = 0; s < 6; s++) {
      const got = run(t, x, new data.Rng(s));
      const want = run(det(new data.Rng(s)), x, new data.Rng(99));
      assert.deepEqual(got, want, `${t.name} ${JSON.stringify(t.spec)} seed ${s}`);
      outs.add(JSON.stringify(got.v.slice(0, 4)));
    }
    assert.ok(outs.size > 1, `${t.name}: draws vary`);
    const again = V.fromSpec(JSON.parse(JSON.stringify(t.spec)));
    assert.deepEqual(run(again, x, new data.Rng(3)), run(t, x, new data.Rng(3)));
  }
  // RandBiasField's coefficients come from coeffRange unsorted too: [0.1, 0] draws in (0, 0.1].
  const bias = new V.RandBiasField({ p: 1, coeffRange: [0.1, 0] });
  assert.deepEqual(bias.spec, { name: "volume.RandBiasField", p: 1, coeffRange: [0.1, 0] });
  run(bias, x, new data.Rng(0));
});

Deno.test("volume MONAI aliases: what MONAI refuses is refused, saying what to write", () => {
  const bad: [() => unknown, RegExp][] = [
    [
      () => new V.Zoom({ zoom: 1.1, mode: "bicubic" as never }),
      /bicubic mode needs 4D input; write "trilinear"/,
    ],
    [() => new V.Zoom({ zoom: 1.1, mode: 3 as never }), /resolves it to "bicubic"/],
    [
      () => new V.Resize({ spatialSize: 4, mode: 2 as never }),
      /spline order 2 has no F.interpolate mode/,
    ],
    [() => new V.Zoom({ zoom: 1.1, mode: "cubic" as never }), /mode must be "area", "nearest"/],
    [
      () => new V.Zoom({ zoom: 1.1, paddingMode: "zeros" as never }),
      /refuses grid_sample's "zeros": write "constant"/,
    ],
    [() => new V.Zoom({ zoom: 1.1, paddingMode: "mirror" as never }), /paddingMode must be one of/],
    [() => new V.Rotate({ angle: 1, mode: "nearest-exact" as never }), /write "nearest"/],
    [() => new V.Rotate({ angle: 1, mode: 0 as never }), /resolves it to "nearest-exact"/],
    [
      () => new V.Rotate({ angle: 1, mode: "bicubic" as never }),
      /bicubic interpolation only supports 4D input/,
    ],
    [
      () => new V.Rotate({ angle: 1, mode: "area" as never }),
      /grid_sample has none: write "bilinear"/,
    ],
    [() => new V.Rotate({ angle: 1, paddingMode: "edge" as never }), /write "border"/],
    [() => new V.Rotate({ angle: 1, paddingMode: "mirror" as never }), /write "reflection"/],
    [
      () => new V.Affine({ mode: 1 as never }),
      /spline order 1 through scipy's map_coordinates.*write "bilinear"/,
    ],
    [() => new V.Affine({ mode: "0" as never }), /spline order 0 through scipy.*write "nearest"/],
    [() => new V.RandAffine({ mode: 3 as never }), /scipy's map_coordinates/],
    [() => new V.RandAffine({ alignCorners: true } as never), /alignCorners/],
    [() => new V.RandAffine({ rotateRange: [[0.1, 0.2, 0.3]] as never }), /an \[a, b\] pair/],
    [() => new V.RandRotate({ rangeX: [0.1, Number.NaN] }), /rangeX/],
    [() => new V.RandGaussianSmooth({ sigmaX: [-0.5, 1] }), /sigmaX/],
    [
      () => new V.Resize({ spatialSize: [4, 4, 4], sizeMode: "longest" }),
      /spatialSize must be one integer/,
    ],
    [
      () => new V.Resize({ spatialSize: 4, sizeMode: "max" as never }),
      /sizeMode must be "all" or "longest"/,
    ],
    [
      () =>
        new V.ScaleIntensityRangePercentiles({
          lower: 5,
          upper: 95,
          bMin: null,
          bMax: 1,
          relative: true,
        }),
      /relative needs bMin and bMax/,
    ],
    [
      () =>
        new V.ScaleIntensityRangePercentiles({
          lower: 5,
          upper: 95,
          bMin: null,
          bMax: null,
          clip: true,
        }),
      /clip needs bMin or bMax/,
    ],
    [
      () => new V.ScaleIntensityRangePercentiles({ lower: 5, upper: 95 } as never),
      /bMin and bMax are required/,
    ],
    [
      () => new V.ScaleIntensityRange({ aMin: 0, aMax: 1, bMin: null, bMax: null, clip: true }),
      /clip needs bMin or bMax/,
    ],
    [() => checkSpacing("t", { pixdim: [] }), /empty list/],
    [() => checkSpacing("t", { pixdim: 1, mode: 1 as never }), /spline order 1 through scipy/],
    [() => checkSpacing("t", { pixdim: 1, paddingMode: "edge" as never }), /write "border"/],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
  // Resize "longest" that would empty an axis: torch's F.interpolate refuses, and so does this.
  using x = fromStored({ shape: [1, 1, 40, 2], data: new Array(80).fill(0) }, {
    device: testDevice,
  });
  assert.throws(
    () => new V.Resize({ spatialSize: 10, sizeMode: "longest" }).apply(x),
    /makes axis 0 of 1 voxels 0 voxels/,
  );
});

Deno.test("ScaleIntensityRange with one bound given: MONAI's None for the other, clip at the one given", () => {
  const V = data.transforms.volume;
  const x = tensor(new Float32Array([-5, 0, 5, 10, 20]), [1, 1, 1, 5]);
  // MONAI 1.3: (x - a_min) / (a_max - a_min); the second scaling only with both bounds;
  // clip = torch.clamp(img, b_min, b_max), here with b_max 2 above every value.
  const scaled = [-0.5, 0, 0.5, 1, 2];
  for (const o of [{ bMax: 2 }, { bMax: 2, clip: true }, { bMin: -1 }]) {
    assert.deepEqual(
      [...new V.ScaleIntensityRange({ aMin: 0, aMax: 10, ...o }).apply(x).toArray()],
      scaled,
    );
  }
  const low = new V.ScaleIntensityRange({ aMin: 0, aMax: 10, bMin: 0, clip: true });
  assert.deepEqual([...low.apply(x).toArray()], [0, 0, 0.5, 1, 2]);
  // Both left out: 0 and 1, the same numbers; the spec keeps what was written.
  assert.deepEqual(
    [...new V.ScaleIntensityRange({ aMin: 0, aMax: 10 }).apply(x).toArray()],
    scaled,
  );
  assert.deepEqual(
    V.fromSpec(JSON.parse(JSON.stringify(low.spec))).apply(x).toArray(),
    low.apply(x).toArray(),
  );
});
