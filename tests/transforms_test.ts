/**
 * Image transforms: functional ops against PyTorch's numbers
 * (tests/fixtures/transforms.json from scripts/make_transform_fixtures.py),
 * exact small cases, the composable transforms' determinism, specs and
 * parameter checks, and the `ct` preset.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import { assertClose, loadFixture } from "./helpers.ts";

const T = data.transforms;
const { F } = T;
type Image = { data: Float32Array; width: number; height: number };

interface Rec {
  width: number;
  height: number;
  data: number[];
}
const img = (r: Rec): Image => ({
  data: Float32Array.from(r.data),
  width: r.width,
  height: r.height,
});
const make = (w: number, h: number, f: (x: number, y: number) => number): Image => {
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = f(x, y);
  return { data: d, width: w, height: h };
};
/** Parameters as untyped JSON would give them. */
const loose = (params: object) => params as never;
const ramp = (w: number, h: number) => make(w, h, (x, y) => y * w + x);

const fx = loadFixture<{
  resize: { input: Rec; size: [number, number]; out: number[] }[];
  affine: {
    op: "rotate" | "affine";
    params: {
      angle: number;
      translate?: [number, number];
      scale?: number;
      shear?: [number, number];
    };
    input: Rec;
    out: number[];
  }[];
  blur: { input: Rec; kernelSize: number; sigma: number; out: number[] }[];
  contrast: { input: Rec; gamma: number; out: number[] }[];
}>("transforms.json");

Deno.test("resize matches F.interpolate(bilinear, align_corners=False)", () => {
  for (const c of fx.resize) {
    const out = F.resize(img(c.input), c.size);
    assert.deepEqual([out.height, out.width], c.size);
    assertClose(out.data, c.out, { rtol: 1e-5, atol: 1e-6, what: `resize to ${c.size}` });
  }
});

Deno.test("rotate and affine match torchvision (grid_sample, zeros padding)", () => {
  for (const c of fx.affine) {
    const input = img(c.input);
    // The fixture is torchvision's bilinear (F.rotate and F.affine default to nearest).
    const out = c.op === "rotate"
      ? F.rotate(input, c.params.angle, { interpolation: "bilinear" })
      : F.affine(input, { ...c.params, interpolation: "bilinear" });
    assertClose(out.data, c.out, {
      rtol: 1e-4,
      atol: 1e-5,
      what: `${c.op} ${JSON.stringify(c.params)}`,
    });
  }
});

Deno.test("gaussianBlur matches torchvision's gaussian_blur (reflect padding)", () => {
  for (const c of fx.blur) {
    const out = F.gaussianBlur(img(c.input), c.kernelSize, c.sigma);
    assertClose(out.data, c.out, {
      rtol: 1e-5,
      atol: 1e-6,
      what: `blur k${c.kernelSize} s${c.sigma}`,
    });
  }
});

Deno.test("adjustContrast matches MONAI's AdjustContrast within the table's error", () => {
  for (const c of fx.contrast) {
    const out = F.adjustContrast(img(c.input), c.gamma);
    assertClose(out.data, c.out, { rtol: 0, atol: 3e-3, what: `gamma ${c.gamma}` });
  }
});

Deno.test("flips, crops, pads and erase give exact pixels", () => {
  const a = ramp(3, 2); // [0 1 2; 3 4 5]
  assert.deepEqual([...F.hflip(a).data], [2, 1, 0, 5, 4, 3]);
  assert.deepEqual([...F.vflip(a).data], [3, 4, 5, 0, 1, 2]);
  assert.deepEqual([...F.hflip(F.hflip(a)).data], [...a.data]);
  assert.deepEqual([...F.crop(a, -1, 1, 2, 3).data], [0, 0, 0, 1, 2, 0]);
  // torchvision rounds (H - h) / 2 half to even: (5 - 2) / 2 = 1.5 -> 2, (4 - 1) / 2 = 1.5 -> 2.
  const c = F.centerCrop(ramp(4, 5), [2, 1]);
  assert.deepEqual([...c.data], [10, 14]);
  // Larger than the image: torchvision pads floor(deficit / 2) before, so a
  // 7 x 8 crop of 5 x 4 rows x columns puts pixel (0, 0) at row 1, column 1
  // (rounding -1.5 to even put it at 2, 2).
  const big = F.centerCrop(ramp(5, 4), [7, 8]);
  assert.equal(big.data[1 * 8 + 1], 0);
  assert.equal(big.data[4 * 8 + 5], 19); // pixel (3, 4), the last
  assert.equal(big.data.filter((v) => v !== 0).length, 19);
  assert.deepEqual([...F.pad(a, 1, 9).data.slice(0, 7)], [9, 9, 9, 9, 9, 9, 0]);
  assert.deepEqual([...F.pad(a, [1, 0, 1, 0], 0, "reflect").data], [1, 0, 1, 2, 1, 4, 3, 4, 5, 4]);
  assert.deepEqual([...F.pad(a, [0, 1, 0, 0], 0, "edge").data], [0, 1, 2, 0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...F.erase(a, 1, 1, 1, 2, -1).data], [0, 1, 2, 3, -1, -1]);
  assert.deepEqual([...a.data], [0, 1, 2, 3, 4, 5], "inputs are never modified");
});

Deno.test("foreground crop finds the body's bounding box", () => {
  const body = make(10, 8, (x, y) => (x >= 2 && x <= 6 && y >= 3 && y <= 5 ? 0.8 : 0.02));
  assert.deepEqual(F.foregroundBox(body, 0.1), { top: 3, left: 2, height: 3, width: 5 });
  assert.deepEqual(F.foregroundBox(body, 0.1, 2), { top: 1, left: 0, height: 7, width: 9 });
  const cropped = new T.CropForeground().apply(body, new data.Rng(0));
  assert.equal(cropped.width, 5);
  assert.ok(cropped.data.every((v) => v === Math.fround(0.8)));
  const air = make(4, 4, () => 0);
  assert.equal(F.foregroundBox(air, 0.1), null);
  assert.equal(F.cropForeground(air, { threshold: 0.1 }), air);
});

Deno.test("intensity ops: MONAI's ScaleIntensityRange, normalize, shift and scale", () => {
  const hu = { data: new Float32Array([-1000, -200, 25, 250, 3000]), width: 5, height: 1 };
  assertClose(F.scaleIntensityRange(hu, -200, 250, 0, 1, true).data, [0, 0, 0.5, 1, 1]);
  assertClose(F.scaleIntensityRange(hu, -200, 250, 0, 1, false).data.slice(0, 1), [-800 / 450]);
  assertClose(F.normalize(hu, 25, 225).data, [-1025 / 225, -1, 0, 1, 2975 / 225]);
  assertClose(F.scaleShift({ data: new Float32Array([1, 2]), width: 2, height: 1 }, 3, -1).data, [
    2,
    5,
  ]);
  assert.throws(
    () => F.scaleIntensityRange(hu, 1, 1, 0, 1),
    /scaleIntensityRange: needs finite aMin != aMax/,
  );
  assert.throws(() => F.normalize(hu, 0, 0), /normalize: needs std > 0/);
});

Deno.test("warps: identity is exact, zoom 1 is identity, elastic with alpha 0 is identity", () => {
  const a = make(7, 5, (x, y) => Math.sin(x + 2 * y));
  assert.deepEqual([...F.warpAffine(a, [1, 0, 0, 0, 1, 0]).data], [...a.data]);
  assertClose(F.zoom(a, 1).data, a.data, { atol: 1e-6 });
  assertClose(F.rotate(a, 0).data, a.data, { atol: 1e-6 });
  assertClose(F.elastic(a, 0, 3, new data.Rng(1)).data, a.data, { atol: 1e-6 });
  const nearest = F.affine(a, { translate: [1, 0], interpolation: "nearest", fill: -5 });
  assert.deepEqual([...nearest.data.slice(0, 3)], [-5, a.data[0], a.data[1]]);
  // Zooming out shows the fill at the border; zooming in does not.
  assert.equal(F.zoom(make(16, 16, () => 1), 0.5, { fill: 0 }).data[0], 0);
  assert.equal(F.zoom(make(16, 16, () => 1), 1.5).data[0], 1);
});

Deno.test("warpAffine's shortcuts (body box, border taps) equal a plain per-pixel bilinear", () => {
  // A body on air, so most outputs take the "outside the content box" path.
  const body = make(
    40,
    30,
    (x, y) => (((x - 18) / 12) ** 2 + ((y - 16) / 9) ** 2 < 1 ? 0.3 + 0.01 * x : 0),
  );
  const slow = (img: Image, m: number[], fill: number) => {
    const at = (x: number, y: number) =>
      x >= 0 && x < img.width && y >= 0 && y < img.height ? img.data[y * img.width + x] : fill;
    return make(img.width, img.height, (x, y) => {
      const sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
      const fx = Math.floor(sx), fy = Math.floor(sy), lx = sx - fx, ly = sy - fy;
      const top = at(fx, fy) * (1 - lx) + at(fx + 1, fy) * lx;
      const bot = at(fx, fy + 1) * (1 - lx) + at(fx + 1, fy + 1) * lx;
      return top * (1 - ly) + bot * ly;
    });
  };
  const cases = [
    { angle: 17, translate: [3, -2], scale: 1.3, shear: [4, 0] },
    { angle: -40, translate: [-12, 5], scale: 0.7, shear: [0, 0] },
    { angle: 90, translate: [0, 0], scale: 1, shear: [0, 0] },
    { angle: 3, translate: [30, 0], scale: 2.5, shear: [0, 0] },
  ] as const;
  for (const fill of [0, 0.25]) {
    for (const c of cases) {
      const p = {
        ...c,
        translate: [...c.translate] as [number, number],
        shear: [...c.shear] as [number, number],
      };
      const m = F.affineMatrix(40, 30, p);
      assertClose(F.warpAffine(body, m, { fill }).data, slow(body, m, fill).data, {
        rtol: 1e-5,
        atol: 1e-6,
        what: `${JSON.stringify(c)} fill ${fill}`,
      });
    }
  }
  assert.ok(
    F.warpAffine(make(5, 5, () => 0), [1, 0, 0, 0, 1, 0], { fill: 0 }).data.every((v) => v === 0),
  );
});

Deno.test("Rng: per-sample streams are reproducible and well spread", () => {
  const a = data.Rng.forSample(7, 2, 100), b = data.Rng.forSample(7, 2, 100);
  const xs = Array.from({ length: 50 }, () => a.uniform());
  assert.deepEqual(xs, Array.from({ length: 50 }, () => b.uniform()));
  assert.notEqual(data.Rng.forSample(7, 2, 101).uniform(), data.Rng.forSample(7, 2, 100).uniform());
  assert.notEqual(data.Rng.forSample(7, 3, 100).uniform(), data.Rng.forSample(7, 2, 100).uniform());
  const r = new data.Rng(3);
  const n = new Float32Array(200_000);
  r.fillNormal(n, 1, 2);
  const mean = n.reduce((s, v) => s + v, 0) / n.length;
  const sd = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
  assert.ok(Math.abs(mean - 1) < 0.02 && Math.abs(sd - 2) < 0.02, `mean ${mean} sd ${sd}`);
  // The bulk normal sampler advances the same stream as nextUint32 (one word per 2 values).
  const bulk = new data.Rng(9), single = new data.Rng(9);
  bulk.addNormal(new Float32Array(10), 1, new Float32Array(10));
  for (let k = 0; k < 5; k++) single.nextUint32();
  assert.equal(bulk.nextUint32(), single.nextUint32());
  const ints = new Set(Array.from({ length: 1000 }, () => r.int(3, 7)));
  assert.deepEqual([...ints].sort(), [3, 4, 5, 6]);
  const boxMuller = Array.from({ length: 20_000 }, () => r.normal(0, 1));
  const m2 = boxMuller.reduce((s, v) => s + v * v, 0) / boxMuller.length;
  assert.ok(Math.abs(m2 - 1) < 0.05, `E[z^2] ${m2}`);
});

/** One instance of every registered transform, with non-default parameters. */
function everyTransform() {
  return [
    new T.Resize({ size: [12, 10] }),
    new T.Resize({ size: 8 }),
    new T.CenterCrop({ size: 10 }),
    new T.RandomCrop({ size: [10, 12], padding: 2, p: 0.9 }),
    new T.CropForeground({ threshold: 0.3, margin: 1 }),
    new T.Pad({ padding: [1, 2, 3, 4], mode: "reflect" }),
    new T.RandomHorizontalFlip(),
    new T.RandomVerticalFlip({ p: 0.7 }),
    new T.RandomRotation({ degrees: [-20, 5], fill: 0.1 }),
    new T.RandomAffine({
      degrees: 10,
      translate: [0.1, 0.05],
      scale: [0.8, 1.2],
      shear: [-5, 5, -2, 2],
    }),
    new T.RandomZoom({ minZoom: 0.8, maxZoom: 1.3, p: 0.6 }),
    new T.ElasticTransform({ alpha: 20, sigma: 3 }),
    new T.RandomGaussianNoise({ std: 0.05, p: 0.8 }),
    new T.GaussianBlur({ sigma: [0.5, 1.5], kernelSize: 5 }),
    new T.RandomShiftScaleIntensity({ offsets: 0.1, factors: [-0.2, 0.1] }),
    new T.RandomGamma({ gamma: [0.8, 1.2] }),
    new T.ScaleIntensityRange({ aMin: 0.2, aMax: 0.8, clip: true }),
    new T.Normalize({ mean: 0.4, std: 0.2 }),
    new T.RandomErasing({ p: 1, value: "random" }),
    new T.RandomResizedCrop({ size: [10, 12], scale: [0.3, 1] }),
    new T.RandomPerspective({ distortionScale: 0.4, p: 1 }),
    new T.ColorJitter({ brightness: 0.2, contrast: 0.2 }),
    new T.RandomInvert({ p: 1 }),
    new T.RandomPosterize({ bits: 3, p: 1 }),
    new T.RandomSolarize({ threshold: 0.4, p: 1 }),
    new T.RandomAdjustSharpness({ sharpnessFactor: 2, p: 0.7 }),
    new T.RandomAutocontrast({ p: 1 }),
    new T.RandomEqualize({ p: 1 }),
    new T.AutoAugment({ policy: "cifar10" }),
    new T.RandAugment({ numOps: 2, magnitude: 9 }),
    new T.TrivialAugmentWide(),
    new T.AugMix({ severity: 3 }),
    new T.RandomApply([new T.RandomInvert({ p: 1 })], { p: 0.5 }),
    new T.RandomChoice([new T.RandomHorizontalFlip({ p: 1 }), new T.RandomVerticalFlip({ p: 1 })], {
      p: [2, 1],
    }),
    new T.RandomOrder([new T.RandomInvert({ p: 1 }), new T.Normalize({ mean: 0.1, std: 2 })]),
    new T.ToTensor(),
    new T.Grayscale(),
    new T.RandomGrayscale({ p: 0.5 }),
    new T.ConvertImageDtype({ dtype: "float32" }),
    T.ct({ size: 12, normalize: { mean: 0.3, std: 0.3 } }),
  ];
}

Deno.test("every transform: deterministic in its Rng, rebuilt identically from its JSON spec", () => {
  const names = new Set<string>();
  const input = make(
    16,
    14,
    (x, y) => (((x - 8) / 6) ** 2 + ((y - 7) / 5) ** 2 < 1 ? 0.5 + 0.02 * x : 0),
  );
  for (const t of everyTransform()) {
    names.add(t.name);
    const spec = JSON.parse(JSON.stringify(t));
    const rebuilt = T.fromSpec(spec);
    assert.deepEqual(rebuilt.spec, t.spec, t.name);
    for (let i = 0; i < 5; i++) {
      const a = t.apply(input, data.Rng.forSample(1, 0, i));
      const b = rebuilt.apply(input, data.Rng.forSample(1, 0, i));
      assert.deepEqual([a.width, a.height], [b.width, b.height], t.name);
      assert.deepEqual([...a.data], [...b.data], `${t.name}: same seed, same output`);
      assert.ok(a.data.every(Number.isFinite), `${t.name}: finite`);
      assert.equal(a.data.length, a.width * a.height, t.name);
    }
  }
  assert.deepEqual(
    [...names].sort(),
    T.transformNames().filter((n) => n !== "Compose").concat("Compose").sort(),
  );
});

Deno.test("p: 0 never applies, 1 always; random transforms really vary", () => {
  const input = make(8, 8, (x, y) => x + y);
  const off = new T.RandomAffine({ degrees: 30, p: 0 });
  assert.equal(off.apply(input, new data.Rng(0)), input);
  const flip = new T.RandomHorizontalFlip({ p: 1 });
  assert.deepEqual([...flip.apply(input, new data.Rng(0)).data], [...F.hflip(input).data]);
  const half = new T.RandomVerticalFlip();
  let applied = 0;
  for (let i = 0; i < 400; i++) if (half.apply(input, new data.Rng(i)) !== input) applied++;
  assert.ok(applied > 150 && applied < 250, `p = 0.5 applied ${applied} / 400`);
  const rot = new T.RandomRotation({ degrees: 30, interpolation: "bilinear" });
  const outs = new Set([0, 1, 2].map((i) => rot.apply(input, new data.Rng(i)).data.join()));
  assert.equal(outs.size, 3);
});

Deno.test("noise and erasing draw what they promise", () => {
  const flat = make(128, 128, () => 0.5);
  const noisy = new T.RandomGaussianNoise({ std: 0.1, sampleStd: false }).apply(
    flat,
    new data.Rng(4),
  );
  const sd = Math.sqrt(noisy.data.reduce((s, v) => s + (v - 0.5) ** 2, 0) / noisy.data.length);
  assert.ok(Math.abs(sd - 0.1) < 0.003, `noise std ${sd}`);
  const erased = new T.RandomErasing({ p: 1, scale: [0.1, 0.2], value: 0 }).apply(
    flat,
    new data.Rng(5),
  );
  const zeros = erased.data.filter((v) => v === 0).length / erased.data.length;
  assert.ok(zeros >= 0.09 && zeros <= 0.21, `erased fraction ${zeros}`);
});

Deno.test("bad parameters fail at construction, naming the transform", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new T.Resize({ size: -3 }), /^Error: Resize: size must be a positive integer/],
    [() => new T.CenterCrop({ size: [0, 4] }), /CenterCrop: size/],
    [
      () => new T.RandomCrop({ size: 4, p: 1.5 }),
      /RandomCrop: p must be a probability in \[0, 1\], got 1.5/,
    ],
    [
      () => new T.RandomHorizontalFlip({ p: -0.1 }),
      /RandomHorizontalFlip: p must be a probability/,
    ],
    [() => new T.Pad({ padding: -1 }), /Pad: padding must be a non-negative integer/],
    [
      () => new T.RandomRotation({ degrees: [10, -10] }),
      /RandomRotation: degrees range must have lo <= hi/,
    ],
    [
      () => new T.RandomAffine({ translate: [2, 0] }),
      /RandomAffine: translate must be a finite number >= 0 <= 1/,
    ],
    [
      () => new T.RandomAffine({ scale: [0, 1] }),
      /RandomAffine: scale must be a finite number > 0/,
    ],
    [() => new T.RandomZoom({ minZoom: 1.2, maxZoom: 1.1 }), /RandomZoom: minZoom\/maxZoom range/],
    [() => new T.GaussianBlur({ sigma: 1, kernelSize: 4 }), /GaussianBlur: kernelSize must be odd/],
    [() => new T.GaussianBlur({ sigma: -1 }), /GaussianBlur: sigma must be a finite number > 0/],
    [() => new T.RandomGaussianNoise({ std: -0.1 }), /RandomGaussianNoise: std must be/],
    [() => new T.RandomGamma({ gamma: [0, 2] }), /RandomGamma: gamma must be a finite number > 0/],
    [
      () => new T.ScaleIntensityRange({ aMin: 3, aMax: 3 }),
      /ScaleIntensityRange: aMin and aMax must differ/,
    ],
    [() => new T.Normalize({ mean: 0, std: 0 }), /Normalize: std must be a finite number > 0/],
    [
      () => new T.RandomErasing({ scale: [0.5, 2] }),
      /RandomErasing: scale must be a finite number >= 0 <= 1/,
    ],
    [() => new T.ElasticTransform({ sigma: 0 }), /ElasticTransform: sigma must be/],
    [
      () => new T.Normalize(loose({ mean: 0, std: 1, sdt: 2 })),
      /Normalize: unknown parameter 'sdt'/,
    ],
    [() => new T.Resize(loose({ size: 4, p: 0.5 })), /Resize: unknown parameter 'p'/],
    [() => T.fromSpec({ name: "Sharpen" }), /unknown transform 'Sharpen'/],
    [() => T.compose([{ name: "RandomCrop", size: 0 }]), /RandomCrop: size/],
    [() => T.ct({ strength: -1 }), /ct preset: strength/],
  ];
  for (const [fn, re] of cases) {
    assert.throws(fn, (e: Error) => re.test(`${e}`) || re.test(e.message));
  }
  const small = new T.RandomCrop({ size: 32 });
  assert.throws(() => small.apply(make(8, 8, () => 0), new data.Rng(0)), /RandomCrop: crop 32x32/);
});

Deno.test("ct preset: documented steps only, keeps size, mild changes", () => {
  const t = T.ct();
  const names = t.transforms.map((s) => s.name);
  assert.deepEqual(names, [
    "RandomAffine",
    "RandomShiftScaleIntensity",
    "RandomGamma",
    "RandomGaussianNoise",
  ]);
  const affine = t.spec.transforms as { name: string; degrees?: number; shear?: unknown }[];
  assert.ok((affine[0].degrees ?? 0) <= 15 && affine[0].shear === undefined);
  const body = make(64, 64, (x, y) => (((x - 32) / 28) ** 2 + ((y - 32) / 22) ** 2 < 1 ? 0.6 : 0));
  let meanAbs = 0;
  for (let i = 0; i < 20; i++) {
    const out = t.apply(body, data.Rng.forSample(0, 0, i));
    assert.deepEqual([out.width, out.height], [64, 64]);
    meanAbs += out.data.reduce((s, v, k) => s + Math.abs(v - body.data[k]), 0) / out.data.length /
      20;
  }
  assert.ok(meanAbs > 0.005 && meanAbs < 0.15, `mean |change| ${meanAbs}`);
  assert.equal(T.ct({ strength: 0 }).apply(body, new data.Rng(0)), body);
  const sized = T.ct({ size: [32, 48] }).apply(body, new data.Rng(1));
  assert.deepEqual([sized.height, sized.width], [32, 48]);
});
