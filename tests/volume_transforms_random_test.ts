/**
 * The random volume transforms (data.transforms.volume.Rand*): the same Rng
 * stream gives the same volume, a transform rebuilt from its JSON spec
 * gives the same volume, p = 0 never and p = 1 always applies, and the
 * draws have the right statistics over many volumes. Then the argument and
 * input checks of every volume transform, each an Error that says what to
 * write, and the separation of volume and 2-D pipelines.
 *
 * The volumes are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { data, type Tensor, tensor } from "../mod.ts";
import { assertEqualValues, moments, testDevice } from "./helpers.ts";

const V = data.transforms.volume;
type VT = data.transforms.volume.VolumeTransform;

/** A [C, D, H, W] volume on the test device with values 1, 2, 3, ... (no zeros). */
function ramp(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, (_, i) => i + 1), shape, { device: testDevice });
}

function values(t: Tensor): number[] {
  return [...t.toArray()];
}

/** The output of `t` on `x`, as plain numbers and shape (the tensor disposed). */
function run(t: VT, x: Tensor, rng: data.Rng): { shape: number[]; v: number[] } {
  using y = t.apply(x, rng);
  assert.equal(y.device, testDevice);
  return { shape: [...y.shape], v: values(y) };
}

const RANDOM: VT[] = [
  new V.RandFlip({ p: 0.5, spatialAxis: [0, 2] }),
  new V.RandRotate90({ p: 0.5, maxK: 3, spatialAxes: [1, 2] }),
  new V.RandSpatialCrop({ roiSize: [2, 3, 2] }),
  new V.RandSpatialCrop({ roiSize: [1, 2, 2], randomSize: true, maxRoiSize: [3, -1, 3] }),
  new V.RandScaleIntensity({ factors: 0.2, p: 0.5, channelWise: true }),
  new V.RandShiftIntensity({ offsets: [-1, 2], p: 0.5 }),
  new V.RandGaussianNoise({ p: 0.5, mean: 0.1, std: 0.3 }),
];

Deno.test("volume random: same Rng stream -> same volume; from the JSON spec -> same volume", () => {
  using x = ramp([2, 3, 4, 5]);
  for (const t of RANDOM) {
    const again = V.fromSpec(JSON.parse(JSON.stringify(t.spec)));
    const outs = new Set<string>();
    for (let s = 0; s < 12; s++) {
      const a = run(t, x, data.Rng.forSample(7, 0, s));
      const b = run(t, x, data.Rng.forSample(7, 0, s));
      const c = run(again, x, data.Rng.forSample(7, 0, s));
      assert.deepEqual(a, b, `${t.name}: same stream`);
      assert.deepEqual(a, c, `${t.name}: rebuilt from spec`);
      outs.add(JSON.stringify(a));
    }
    // Different streams give different volumes (a flip has only two).
    assert.ok(outs.size >= 2, `${t.name}: ${outs.size} distinct outputs in 12 draws`);
  }
});

Deno.test("volume random: without rng, manualSeed's stream makes it reproducible", async () => {
  const { manualSeed } = await import("../mod.ts");
  using x = ramp([1, 3, 4, 5]);
  const t = V.compose(RANDOM);
  manualSeed(3);
  using a = t.apply(x);
  manualSeed(3);
  using b = t.apply(x);
  assertEqualValues(b, a.toArray());
});

Deno.test("volume random: p = 0 never applies, p = 1 always does", () => {
  using x = ramp([2, 3, 4, 5]);
  const base = values(x);
  const makers: ((p: number) => VT)[] = [
    (p) => new V.RandFlip({ p }),
    (p) => new V.RandRotate90({ p }),
    (p) => new V.RandScaleIntensity({ factors: [0.5, 0.6], p }),
    (p) => new V.RandShiftIntensity({ offsets: [1, 2], p }),
    (p) => new V.RandGaussianNoise({ p, std: 1, sampleStd: false }),
  ];
  for (const make of makers) {
    const never = make(0), always = make(1);
    for (let s = 0; s < 20; s++) {
      const y = run(never, x, new data.Rng(s));
      assert.deepEqual(y.shape, [2, 3, 4, 5]);
      assert.deepEqual(y.v, base, `${never.name} p = 0`);
      assert.notDeepEqual(run(always, x, new data.Rng(s)).v, base, `${always.name} p = 1`);
    }
  }
  // MONAI's default prob is 0.1.
  for (const t of [new V.RandFlip(), new V.RandRotate90(), new V.RandGaussianNoise()]) {
    assert.equal(t.p, 0.1);
  }
  assert.equal(new V.RandScaleIntensity({ factors: 0.1 }).p, 0.1);
  assert.equal(new V.RandShiftIntensity({ offsets: 0.1 }).p, 0.1);
});

Deno.test("volume RandFlip: applies with frequency p, flipping the axes asked", () => {
  using x = ramp([1, 2, 2, 3]);
  using flipped = new V.Flip({ spatialAxis: [0, 2] }).apply(x);
  const base = values(x), want = values(flipped);
  const t = new V.RandFlip({ p: 0.3, spatialAxis: [0, 2] });
  let hits = 0;
  const n = 2000;
  for (let s = 0; s < n; s++) {
    const y = run(t, x, new data.Rng(s)).v;
    if (JSON.stringify(y) === JSON.stringify(want)) hits++;
    else assert.deepEqual(y, base);
  }
  // Binomial(2000, 0.3): sd 20.5; 5 sd either side.
  assert.ok(Math.abs(hits - 0.3 * n) < 103, `hits ${hits}`);
});

Deno.test("volume RandRotate90: k uniform in 1..maxK", () => {
  using x = ramp([1, 3, 3, 2]);
  const byK = [1, 2, 3].map((k) => {
    using r = new V.Rotate90({ k, spatialAxes: [0, 1] }).apply(x);
    return JSON.stringify(values(r));
  });
  const counts = [0, 0, 0];
  const t = new V.RandRotate90({ p: 1 });
  for (let s = 0; s < 1500; s++) {
    const k = byK.indexOf(JSON.stringify(run(t, x, new data.Rng(s)).v));
    assert.ok(k >= 0);
    counts[k]++;
  }
  for (const c of counts) assert.ok(Math.abs(c - 500) < 92, `counts ${counts}`); // 5 sd
  const one = new V.RandRotate90({ p: 1, maxK: 1 });
  for (let s = 0; s < 20; s++) assert.equal(JSON.stringify(run(one, x, new data.Rng(s)).v), byK[0]);
});

/** The corner [z, y, x] of a crop of `ramp(shape)` (values 1.. locate it). */
function corner(v: number[], shape: number[]): number[] {
  const [, , h, w] = shape;
  const i = v[0] - 1;
  return [Math.floor(i / (h * w)), Math.floor(i / w) % h, i % w];
}

Deno.test("volume RandSpatialCrop: every corner equally often; sizes, centre and clamping", () => {
  const shape = [1, 4, 5, 6];
  using x = ramp(shape);
  const t = new V.RandSpatialCrop({ roiSize: [2, 3, 6] });
  const counts = new Map<string, number>();
  for (let s = 0; s < 1800; s++) {
    const y = run(t, x, new data.Rng(s));
    assert.deepEqual(y.shape, [1, 2, 3, 6]);
    const c = corner(y.v, shape);
    // The crop is the box at that corner.
    const want: number[] = [];
    for (let z = 0; z < 2; z++) {
      for (let r = 0; r < 3; r++) {
        for (let q = 0; q < 6; q++) want.push(((c[0] + z) * 5 + c[1] + r) * 6 + c[2] + q + 1);
      }
    }
    assert.deepEqual(y.v, want);
    counts.set(String(c), (counts.get(String(c)) ?? 0) + 1);
  }
  // 3 x 3 x 1 corners, 200 each expected (sd 13.3).
  assert.equal(counts.size, 9);
  for (const n of counts.values()) assert.ok(Math.abs(n - 200) < 67, `${[...counts.values()]}`);
  // randomCenter false: the centre crop.
  const centre = new V.RandSpatialCrop({ roiSize: [2, 3, 4], randomCenter: false });
  using cc = new V.CenterSpatialCrop({ roiSize: [2, 3, 4] }).apply(x);
  assert.deepEqual(run(centre, x, new data.Rng(0)).v, values(cc));
  // A roi larger than the volume keeps that axis whole (MONAI: no padding).
  assert.deepEqual(run(new V.RandSpatialCrop({ roiSize: [9, 2, 9] }), x, new data.Rng(0)).shape, [
    1,
    4,
    2,
    6,
  ]);
  // randomSize: sizes uniform in roiSize..maxRoiSize (default the volume).
  const sized = new V.RandSpatialCrop({ roiSize: [2, 5, 1], randomSize: true });
  const seen = new Set<string>();
  for (let s = 0; s < 300; s++) {
    const [, d, h, w] = run(sized, x, new data.Rng(s)).shape;
    assert.ok(d >= 2 && d <= 4 && h === 5 && w >= 1 && w <= 6);
    seen.add(`${d},${w}`);
  }
  assert.equal(seen.size, 3 * 6);
  assert.throws(
    () => new V.RandSpatialCrop({ roiSize: [5, 1, 1], randomSize: true }).apply(x),
    /roiSize \[5,1,1\] is larger than the largest size \[4,5,6\]/,
  );
});

Deno.test("volume RandScaleIntensity / RandShiftIntensity: draws uniform in the range, per channel", () => {
  using x = ramp([2, 2, 2, 2]);
  const xs = values(x);
  for (const channelWise of [false, true]) {
    const scale = new V.RandScaleIntensity({ factors: [0.3, -0.1], p: 1, channelWise });
    const shift = new V.RandShiftIntensity({ offsets: -2, p: 1, channelWise });
    const fs: number[] = [], os: number[] = [];
    let differ = 0;
    for (let s = 0; s < 2000; s++) {
      const y = run(scale, x, new data.Rng(s)).v;
      const f0 = y[0] / xs[0] - 1, f1 = y[8] / xs[8] - 1;
      // One factor for all voxels of a channel: y = f32(x * f32(1 + f)).
      for (let i = 0; i < 16; i++) {
        const f = Math.fround(1 + (i < 8 ? f0 : f1));
        assert.ok(Math.abs(y[i] - xs[i] * f) <= 1e-6 * xs[i] * 4);
      }
      if (Math.abs(f0 - f1) > 1e-5) differ++;
      fs.push(f0);
      const z = run(shift, x, new data.Rng(s)).v;
      os.push(z[0] - xs[0]);
      for (let i = 0; i < 8; i++) assert.ok(Math.abs(z[i] - xs[i] - (z[0] - xs[0])) < 1e-5);
    }
    assert.equal(differ > 0, channelWise, `channelWise ${channelWise}`);
    // factors [0.3, -0.1] are sorted to [-0.1, 0.3] (MONAI's); -2 means [-2, 2].
    const m = moments(fs), o = moments(os);
    assert.ok(m.min >= -0.1 - 1e-6 && m.max <= 0.3 + 1e-6);
    assert.ok(Math.abs(m.mean - 0.1) < 0.01 && Math.abs(m.variance - 0.16 / 12) < 0.002);
    assert.ok(o.min >= -2 - 1e-5 && o.max <= 2 + 1e-5);
    assert.ok(Math.abs(o.mean) < 0.1 && Math.abs(o.variance - 16 / 12) < 0.15);
  }
});

Deno.test("volume RandGaussianNoise: noise of the mean and std asked; std drawn in [0, std]", () => {
  using x = tensor(new Float32Array(4096).fill(2), [1, 16, 16, 16], { device: testDevice });
  const fixed = new V.RandGaussianNoise({ p: 1, mean: 0.5, std: 0.2, sampleStd: false });
  const m = moments(run(fixed, x, new data.Rng(1)).v.map((v) => v - 2));
  assert.ok(Math.abs(m.mean - 0.5) < 0.02 && Math.abs(Math.sqrt(m.variance) - 0.2) < 0.01);
  // sampleStd: std ~ U(0, 0.3), so E[var] = 0.09 / 3 and the stds fill [0, 0.3].
  const t = new V.RandGaussianNoise({ p: 1, std: 0.3 });
  const stds: number[] = [];
  for (let s = 0; s < 300; s++) {
    stds.push(Math.sqrt(moments(run(t, x, new data.Rng(s)).v.map((v) => v - 2)).variance));
  }
  const st = moments(stds);
  assert.ok(st.max < 0.31 && st.min < 0.02 && st.max > 0.28, `${st.min} ${st.max}`);
  assert.ok(Math.abs(st.mean - 0.15) < 0.02, `${st.mean}`);
  assert.ok(Math.abs(moments(stds.map((s) => s * s)).mean - 0.03) < 0.005);
});

Deno.test("volume inputs: a [C, D, H, W] float32 tensor, else an Error that says what to write", () => {
  const t = new V.Flip();
  const cases: [unknown, RegExp][] = [
    [{ data: new Float32Array(4), width: 2, height: 2 }, /2-D Image .*data\.transforms/],
    [new Float32Array(8), /got a Float32Array/],
    [null, /got null/],
    [tensor(new Float32Array(8), [2, 2, 2]), /no channel: write x\.unsqueeze\(0\)/],
    [tensor(new Float32Array(8), [1, 1, 2, 2, 2]), /batch: apply to each volume/],
    [tensor(new Float32Array(4), [2, 2]), /2-D image goes to the 2-D data\.transforms/],
    [tensor(new Int32Array(8), [1, 2, 2, 2]), /must be float32, got int32.*x\.float\(\)/],
    [tensor(new Float32Array(0), [1, 0, 2, 2]), /has no voxels/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => t.apply(input as Tensor), re);
    if (input !== null && typeof input === "object" && "dispose" in input) {
      (input as Tensor).dispose();
    }
  }
  using x = ramp([1, 2, 2, 2]);
  assert.throws(() => t.apply(x, 3 as unknown as data.Rng), /rng must be a data\.Rng/);
  // The 2-D transforms refuse a volume (their batch is [N, 1, H, W]).
  using v = ramp([1, 3, 4, 4]);
  assert.throws(
    () => new data.transforms.RandomHorizontalFlip({ p: 1 }).apply(v),
    /must be \[N, 1, H, W\]/,
  );
});

Deno.test("volume options: bad values are Errors naming the transform and what to write", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new V.Resize({ spatialSize: [4, NaN, 4] }), /volume\.Resize: spatialSize must be/],
    [() => new V.Resize({ spatialSize: [4, 4] as never }), /\[depth, height, width\]/],
    [() => new V.Resize({ spatialSize: 4, mode: "bicubic" as never }), /write "trilinear"/],
    [
      () => new V.Resize({ spatialSize: 4, mode: "nearest", alignCorners: true }),
      /"trilinear" only/,
    ],
    [() => new V.Resize({ spatial_size: 4 } as never), /write 'spatialSize'/],
    [() => new V.Resize({ spatialSize: 4, antiAliasing: true } as never), /unknown parameter/],
    [() => new V.Flip({ spatialAxis: 3 }), /spatial axes 0, 1, 2.*channel axis is not spatial/],
    [() => new V.Flip({ spatialAxis: [0, -3] }), /names an axis twice/],
    [() => new V.Flip({ spatialAxis: 0.5 }), /spatialAxis must hold spatial axes/],
    [() => new V.Rotate90({ spatialAxes: [1] as never }), /two spatial axes/],
    [() => new V.Rotate90({ spatialAxes: [1, 1] }), /twice/],
    [() => new V.Rotate90({ k: 1.5 }), /k must be an integer/],
    [() => new V.RandRotate90({ maxK: 0 }), /maxK must be an integer >= 1/],
    [() => new V.RandFlip({ p: 1.5 }), /p must be a probability in \[0, 1\], got 1\.5/],
    [() => new V.RandFlip({ p: NaN }), /got NaN/],
    [() => new V.RandFlip({ prob: 0.5 } as never), /write 'p': MONAI's prob/],
    [() => new V.Rotate({ angle: 0.1, prob: 1 } as never), /'prob' \(Rotate has no p: it always/],
    [
      () => new V.RandRotate90({ keys: ["img"], p: 0.8 } as never),
      /'keys' \(MONAI's dictionary transforms take keys; these are its array transforms/,
    ],
    [
      () => new V.RandFlip({ allow_missing_keys: true } as never),
      /'allow_missing_keys' \(MONAI's dictionary/,
    ],
    [() => new V.Flip({ p: 0.5 } as never), /Flip has no p/],
    [() => new V.RandSpatialCrop({ roiSize: 4, p: 0.5 } as never), /RandSpatialCrop has no p/],
    [() => new V.RandSpatialCrop({ roiSize: 4, maxRoiSize: 8 }), /with randomSize: true only/],
    [() => new V.RandSpatialCrop({ roiSize: "4" as never }), /roiSize must be an integer/],
    [
      () => new V.ScaleIntensityRange({ aMin: NaN, aMax: 1 }),
      /aMin must be a finite number, got NaN/,
    ],
    [() => new V.ScaleIntensityRange({ aMin: 1, aMax: 1 }), /aMin and aMax must differ/],
    [
      () => new V.ScaleIntensityRange({ aMin: 0, aMax: 1, clip: "yes" as never }),
      /clip must be true or false/,
    ],
    [() => new V.NormalizeIntensity({ subtrahend: [1, 2] }), /needs channelWise: true/],
    [() => new V.NormalizeIntensity({ divisor: Infinity }), /divisor must be a finite number/],
    [() => new V.RandScaleIntensity({ factors: [1, 2, 3] as never }), /\[lo, hi\] pair/],
    [() => new V.RandScaleIntensity({} as never), /factors must be a number/],
    [() => new V.RandShiftIntensity({ offsets: NaN }), /offsets must be a finite number/],
    [() => new V.RandGaussianNoise({ std: -1 }), /std must be a finite number >= 0/],
    [
      () => new V.SpatialPad({ spatialSize: 4, mode: "zeros" as never }),
      /mode must be one of .*write "constant"/,
    ],
    [() => new V.SpatialPad({ spatialSize: 4, method: "both" as never }), /"symmetric" or "end"/],
    [() => new V.CropForeground({ selectFn: (v: number) => v > 0 } as never), /write threshold/],
    [() => new V.CropForeground({ margin: -1 }), /margin must be an integer >= 0/],
    [
      () => new V.CropForeground({ margin: [1, 2] as never }),
      /margin must be a number or \[D, H, W\]/,
    ],
    [() => new V.CropForeground({ channelIndices: "0" as never }), /channelIndices must be/],
    [() => new (V.Flip as never as new (...a: unknown[]) => VT)({}, {}), /at most 1 arguments/],
    [() => new (V.Resize as never as new (a: unknown) => VT)(64), /expected an options object/],
    [
      () => V.fromSpec({ name: "Resize", size: 4 }),
      /'Resize' is a 2-D transform.*Write name: "volume\.Resize"/,
    ],
    [() => V.fromSpec({ name: "RandomAffine" }), /'RandomAffine' is a 2-D transform/],
    [() => V.fromSpec({ name: "volume.Nope" }), /unknown volume transform 'volume\.Nope'/],
    [
      () => V.fromSpec({ name: "volume.Spacingd" }),
      /MONAI's Spacing: the dataset's option: new data\.VolumeDataset\(items, \{ spacing/,
    ],
    [
      () => V.fromSpec({ name: "volume.RandFlipd" }),
      /dictionary transform RandFlipd is the array transform "volume\.RandFlip"/,
    ],
    [() => V.fromSpec({ name: "EnsureChannelFirstd" }), /reads each file channel-first/],
    [() => V.fromSpec(null as never), /a spec is \{ name: "volume\.X"/],
    [
      () => V.compose([new data.transforms.RandomHorizontalFlip()] as never),
      /RandomHorizontalFlip is a 2-D transform/,
    ],
    [() => new V.Compose({ transforms: 3 } as never), /transforms must be an array/],
    // A volume transform in a 2-D pipeline: the 2-D registry does not know volume names.
    [
      () => data.transforms.compose([new V.Flip() as never]),
      /'volume\.Flip' is a volume transform/,
    ],
    [
      () => data.transforms.fromSpec({ name: "volume.Flip" }),
      /'volume\.Flip' is a volume transform/,
    ],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
  // Checks that need the volume: channels and per-channel lists.
  using x = ramp([2, 2, 2, 2]);
  assert.throws(
    () => new V.CropForeground({ channelIndices: 2 }).apply(x),
    /channelIndices has 2, but the volume \[2,2,2,2\] has 2 channels/,
  );
  assert.throws(
    () => new V.NormalizeIntensity({ subtrahend: [1, 2, 3], channelWise: true }).apply(x),
    /subtrahend has 3 values for a volume of 2 channels/,
  );
});
