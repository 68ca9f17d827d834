/**
 * Transforms as PyTorch users call them: torchvision's photo augmentations
 * (ColorJitter, RandomResizedCrop, RandomPerspective, RandomInvert,
 * RandomPosterize, RandomSolarize) against torchvision 0.14's numbers
 * (tests/fixtures/habits_transforms.json from
 * scripts/make_habits_transform_fixtures.py), batch tensors, the default RNG
 * from manualSeed (transforms and DataLoader), and options checks.
 */
import assert from "node:assert/strict";
import { data, manualSeed, tensor } from "../mod.ts";
import { assertClose, loadFixture } from "./helpers.ts";
import { ToyDataset } from "./toy_dataset.ts";

const T = data.transforms;
const { F } = T;
type Image = { data: Float32Array; width: number; height: number };
interface Rec {
  width: number;
  height: number;
  data: number[];
}
type Box = { top: number; left: number; height: number; width: number };
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
const loose = (v: unknown) => v as never;
const body = make(
  24,
  20,
  (x, y) => (((x - 12) / 9) ** 2 + ((y - 10) / 7) ** 2 < 1 ? 0.3 + 0.02 * x : 0),
);

const fx = loadFixture<{
  brightness: { input: Rec; factor: number; out: number[] }[];
  contrast: { input: Rec; factor: number; out: number[] }[];
  invert: { input: Rec; out: number[] }[];
  solarize: { input: Rec; threshold: number; out: number[] }[];
  posterize: { input: Rec; bits: number; out: number[] }[];
  resized_crop: (Box & {
    input: Rec;
    size: [number, number];
    interpolation: "bilinear" | "nearest";
    out: number[];
  })[];
  perspective: {
    input: Rec;
    startpoints: [number, number][];
    endpoints: [number, number][];
    interpolation: "bilinear" | "nearest";
    fill: number | null;
    coeffs: number[];
    out: number[];
  }[];
  rrc_fallback: {
    width: number;
    height: number;
    scale: [number, number];
    ratio: [number, number];
    box: Box;
  }[];
  rrc_stats: {
    width: number;
    height: number;
    scale: [number, number];
    ratio: [number, number];
    draws: number;
    meanArea: number;
    meanLogRatio: number;
    fullImageShare: number;
  }[];
  perspective_stats: {
    width: number;
    height: number;
    distortionScale: number;
    draws: number;
    min: number[];
    max: number[];
    mean: number[];
  }[];
}>("habits_transforms.json");

Deno.test("colour ops match torchvision's F on [0, 1] floats", () => {
  const tol = { rtol: 1e-6, atol: 1e-6 };
  for (const c of fx.brightness) {
    assertClose(F.adjustBrightness(img(c.input), c.factor).data, c.out, {
      ...tol,
      what: `adjust_brightness ${c.factor}`,
    });
  }
  for (const c of fx.contrast) {
    assertClose(F.blendContrast(img(c.input), c.factor).data, c.out, {
      ...tol,
      what: `adjust_contrast ${c.factor}`,
    });
  }
  for (const c of fx.invert) assertClose(F.invert(img(c.input)).data, c.out, tol);
  for (const c of fx.solarize) {
    assertClose(F.solarize(img(c.input), c.threshold).data, c.out, {
      ...tol,
      what: `solarize ${c.threshold}`,
    });
  }
  // Posterize works on 8-bit levels: the results must be the same levels exactly.
  for (const c of fx.posterize) {
    assert.deepEqual(
      [...F.posterize(img(c.input), c.bits).data].map((v) => Math.round(v * 255)),
      c.out.map((v) => Math.round(v * 255)),
      `posterize ${c.bits} bits`,
    );
  }
});

Deno.test("valueRange: on [lo, hi] each colour op is torchvision's on (x - lo) / (hi - lo)", () => {
  const [lo, hi] = [-1000, 1400];
  const unit = img(fx.invert[0].input);
  const toHu = (im: Image): Image => ({ ...im, data: im.data.map((v) => lo + (hi - lo) * v) });
  const toUnit = (d: Float32Array) => [...d].map((v) => (v - lo) / (hi - lo));
  const r: [number, number] = [lo, hi];
  const tol = { rtol: 1e-5, atol: 2e-6 };
  for (const f of [0, 0.45, 1.7]) {
    assertClose(
      toUnit(F.adjustBrightness(toHu(unit), f, r).data),
      F.adjustBrightness(unit, f).data,
      tol,
    );
    assertClose(toUnit(F.blendContrast(toHu(unit), f, r).data), F.blendContrast(unit, f).data, tol);
  }
  assertClose(toUnit(F.invert(toHu(unit), r).data), F.invert(unit).data, tol);
  assertClose(
    toUnit(F.solarize(toHu(unit), lo + 0.6 * (hi - lo), r).data),
    F.solarize(unit, 0.6).data,
    tol,
  );
  const levels = (d: number[] | Float32Array) => [...d].map((v) => Math.round(v * 255));
  assert.deepEqual(
    levels(toUnit(F.posterize(toHu(unit), 3, r).data)),
    levels(F.posterize(unit, 3).data),
  );
  assert.throws(() => F.invert(unit, loose([1, 0])), /invert: valueRange must be \[lo, hi\]/);
  assert.throws(
    () => F.solarize(unit, 1.5),
    /solarize: threshold must be a finite number <= the range's top 1/,
  );
  assert.throws(() => F.posterize(unit, 9), /posterize: bits must be an integer in 0..8/);
});

Deno.test("resizedCrop and perspective match torchvision's F.resized_crop and F.perspective", () => {
  for (const c of fx.resized_crop) {
    const out = F.resizedCrop(
      img(c.input),
      c.top,
      c.left,
      c.height,
      c.width,
      c.size,
      c.interpolation,
    );
    assert.deepEqual([out.height, out.width], c.size);
    assertClose(out.data, c.out, {
      rtol: 1e-5,
      atol: 1e-6,
      what: `resized_crop ${JSON.stringify(c)}`,
    });
  }
  for (const c of fx.perspective) {
    const coeffs = F.perspectiveCoefficients(c.startpoints, c.endpoints);
    assertClose(coeffs, c.coeffs, { rtol: 1e-4, atol: 1e-5, what: "perspective coefficients" });
    const out = F.perspective(
      img(c.input),
      c.startpoints,
      c.endpoints,
      c.interpolation,
      c.fill ?? undefined,
    );
    if (c.interpolation === "nearest") {
      // At an exact half-pixel tie torchvision's float32 grid may round
      // either way: every pixel that differs must be such a tie.
      const [a, b, cc, d, e, f, g, h] = coeffs;
      const w = c.input.width;
      out.data.forEach((v, i) => {
        if (Math.abs(v - c.out[i]) < 1e-6) return;
        const X = (i % w) + 0.5, Y = Math.floor(i / w) + 0.5, den = g * X + h * Y + 1;
        const sx = (a * X + b * Y + cc) / den - 0.5, sy = (d * X + e * Y + f) / den - 0.5;
        const tie = (s: number) => Math.abs(Math.abs(s - Math.floor(s)) - 0.5) < 1e-5;
        assert.ok(tie(sx) || tie(sy), `nearest pixel ${i} differs at source (${sx}, ${sy})`);
        out.data[i] = c.out[i];
      });
    }
    assertClose(out.data, c.out, {
      rtol: 1e-4,
      atol: 1e-4,
      what: `perspective ${c.interpolation} fill ${c.fill} to ${JSON.stringify(c.endpoints)}`,
    });
  }
  assert.throws(
    () => F.perspective(body, [[0, 0], [1, 1], [2, 2], [3, 3]], [[0, 0], [1, 1], [2, 2], [3, 3]]),
    /perspective: the corners .* are degenerate/,
  );
});

Deno.test("RandomResizedCrop.getParams: torchvision's fallback exactly, its draws statistically", () => {
  for (const c of fx.rrc_fallback) {
    const box = T.RandomResizedCrop.getParams(c.width, c.height, c.scale, c.ratio, new data.Rng(3));
    assert.deepEqual(box, c.box, `fallback ${c.width}x${c.height} ratio ${c.ratio}`);
  }
  for (const c of fx.rrc_stats) {
    const rng = new data.Rng(17);
    let area = 0, logRatio = 0, full = 0;
    for (let i = 0; i < c.draws; i++) {
      const b = T.RandomResizedCrop.getParams(c.width, c.height, c.scale, c.ratio, rng);
      assert.ok(
        b.top >= 0 && b.left >= 0 && b.top + b.height <= c.height && b.left + b.width <= c.width,
      );
      area += b.height * b.width / (c.height * c.width) / c.draws;
      logRatio += Math.log(b.width / b.height) / c.draws;
      if (b.height === c.height && b.width === c.width) full += 1 / c.draws;
    }
    // About 4 standard errors of the difference of two means of 20,000 draws.
    const what = `${c.width}x${c.height} scale ${c.scale} ratio ${c.ratio}`;
    assert.ok(Math.abs(area - c.meanArea) < 0.012, `${what}: mean area ${area} vs ${c.meanArea}`);
    assert.ok(
      Math.abs(logRatio - c.meanLogRatio) < 0.012,
      `${what}: log ratio ${logRatio} vs ${c.meanLogRatio}`,
    );
    assert.ok(
      Math.abs(full - c.fullImageShare) < 0.01,
      `${what}: whole image ${full} vs ${c.fullImageShare}`,
    );
  }
});

Deno.test("RandomPerspective.getParams: torchvision's ranges exactly, uniform within them", () => {
  for (const c of fx.perspective_stats) {
    const rng = new data.Rng(5);
    const min = Array(8).fill(Infinity), max = Array(8).fill(-Infinity), mean = Array(8).fill(0);
    for (let i = 0; i < c.draws; i++) {
      const [start, end] = T.RandomPerspective.getParams(c.width, c.height, c.distortionScale, rng);
      assert.deepEqual(start, [[0, 0], [c.width - 1, 0], [c.width - 1, c.height - 1], [
        0,
        c.height - 1,
      ]]);
      end.flat().forEach((v, k) => {
        min[k] = Math.min(min[k], v);
        max[k] = Math.max(max[k], v);
        mean[k] += v / c.draws;
      });
    }
    assert.deepEqual(min, c.min, `min corners ${c.width}x${c.height} d ${c.distortionScale}`);
    assert.deepEqual(max, c.max, `max corners ${c.width}x${c.height} d ${c.distortionScale}`);
    mean.forEach((m, k) =>
      assert.ok(Math.abs(m - c.mean[k]) < 0.2, `mean corner coordinate ${k}: ${m} vs ${c.mean[k]}`)
    );
  }
});

Deno.test("ColorJitter: the drawn factors and order, then exactly the functional ops", () => {
  const t = new T.ColorJitter({ brightness: 0.3, contrast: [0.5, 1.5] });
  let brightFirst = 0;
  for (let s = 0; s < 400; s++) {
    const p = T.ColorJitter.getParams([0.7, 1.3], [0.5, 1.5], new data.Rng(s));
    assert.ok(p.brightnessFactor! >= 0.7 && p.brightnessFactor! < 1.3);
    assert.ok(p.contrastFactor! >= 0.5 && p.contrastFactor! < 1.5);
    if (p.order[0] === "brightness") brightFirst++;
    let want: Image = body;
    for (const op of p.order) {
      want = op === "brightness"
        ? F.adjustBrightness(want, p.brightnessFactor!)
        : F.blendContrast(want, p.contrastFactor!);
    }
    if (s < 20) assert.deepEqual([...t.apply(body, new data.Rng(s)).data], [...want.data]);
  }
  assert.ok(brightFirst > 160 && brightFirst < 240, `brightness first ${brightFirst} / 400`);
  // A single number b means [max(0, 1 - b), 1 + b], as torchvision's _check_input.
  const wide = new T.ColorJitter({ brightness: 1.5 });
  const outs = [0, 1, 2, 3, 4, 5].map((s) => wide.apply(body, new data.Rng(s)).data);
  assert.ok(outs.every((d) => d.every((v) => v >= 0 && v <= 1)), "clamped to [0, 1]");
  const hu = new T.ColorJitter({ contrast: 0.5, valueRange: [-1000, 1000] });
  const huImg = { ...body, data: body.data.map((v) => v * 1000) };
  assert.ok(hu.apply(huImg, new data.Rng(1)).data.some((v) => v > 1), "HU range not clamped to 1");
});

Deno.test("the new transforms: fromSpec round trip, deterministic in the Rng, p as documented", () => {
  const all = [
    new T.ColorJitter({ brightness: 0.2, contrast: 0.2 }),
    new T.RandomResizedCrop({ size: [12, 16], scale: [0.3, 1], interpolation: "nearest" }),
    new T.RandomPerspective({ distortionScale: 0.4, p: 1, fill: 0.1 }),
    new T.RandomInvert(),
    new T.RandomPosterize({ bits: 3 }),
    new T.RandomSolarize({ threshold: 0.4, p: 0.8 }),
  ];
  for (const t of all) {
    assert.ok(T.transformNames().includes(t.name), t.name);
    const rebuilt = T.fromSpec(JSON.parse(JSON.stringify(t)));
    assert.deepEqual(rebuilt.spec, t.spec);
    for (let i = 0; i < 4; i++) {
      assert.deepEqual([...rebuilt.apply(body, new data.Rng(i)).data], [
        ...t.apply(body, new data.Rng(i)).data,
      ]);
    }
  }
  assert.equal(new T.RandomInvert().p, 0.5);
  assert.equal(new T.RandomPosterize({ bits: 2 }).p, 0.5);
  assert.equal(new T.RandomSolarize({ threshold: 0.5 }).p, 0.5);
  assert.equal(new T.RandomPerspective().p, 0.5);
  assert.equal(new T.ColorJitter({ brightness: 0.1 }).p, 1);
  const crop = new T.RandomResizedCrop({ size: 10 }).apply(body, new data.Rng(2));
  assert.deepEqual([crop.width, crop.height], [10, 10]);
});

Deno.test("a batch tensor [N, 1, H, W]: each sample its own draw, same kind back", () => {
  const n = 3, [w, h] = [body.width, body.height];
  const pixels = new Float32Array(n * w * h);
  for (let i = 0; i < n; i++) pixels.set(body.data.map((v) => v + 0.1 * i), i * w * h);
  using batch = tensor(pixels, [n, 1, h, w]);
  const t = T.compose([new T.RandomRotation({ degrees: 40 }), new T.Resize({ size: [10, 12] })]);
  using out = t.apply(batch, new data.Rng(9));
  assert.deepEqual(out.shape, [n, 1, 10, 12]);
  assert.equal(out.device, "cpu");
  const got = out.toArray();
  const rng = new data.Rng(9);
  for (let i = 0; i < n; i++) {
    const sample = { data: pixels.slice(i * w * h, (i + 1) * w * h), width: w, height: h };
    const want = t.apply(sample, rng.split());
    assert.deepEqual([...got.subarray(i * 120, (i + 1) * 120)], [...want.data], `sample ${i}`);
  }
  // Same input pixels, different draws: the samples differ.
  using same = tensor(new Float32Array(2 * w * h).fill(0).map((_, k) => body.data[k % (w * h)]), [
    2,
    1,
    h,
    w,
  ]);
  const two = new T.RandomRotation({ degrees: 40 }).apply(same, new data.Rng(1)).toArray();
  assert.notDeepEqual([...two.subarray(0, w * h)], [...two.subarray(w * h)]);

  const bad: [unknown, RegExp][] = [
    [
      body.data,
      /RandomInvert\.apply: expected an Image .* or a float32 Tensor \[N, 1, H, W\], got a Float32Array; wrap the pixels/,
    ],
    [3, /RandomInvert\.apply: expected an Image .*, got number 3/],
    [{ data: new Float32Array(5), width: 2, height: 2 }, /RandomInvert\.apply: image has 5 values/],
  ];
  const inv = new T.RandomInvert({ p: 1 });
  for (const [input, re] of bad) assert.throws(() => inv.apply(loose(input), new data.Rng(0)), re);
  using chw = tensor(new Float32Array(w * h), [1, h, w]);
  assert.throws(
    () => inv.apply(chw),
    /a batch tensor must be \[N, 1, H, W\].*got \[1, 20, 24\]; for one image write x\.reshape\(\[1, 1, 20, 24\]\)/,
  );
  using rgb = tensor(new Float32Array(3 * w * h), [1, 3, h, w]);
  assert.throws(() => inv.apply(rgb), /one grey channel\), got \[1, 3, 20, 24\]/);
  using ints = tensor(new Int32Array(4), [1, 1, 2, 2], { dtype: "int32" });
  assert.throws(() => inv.apply(ints), /must be float32, got int32/);
  assert.throws(() => inv.apply(body, loose(42)), /rng must be a data\.Rng .*got 42/);
  // Samples that come out in different sizes cannot be stacked.
  using mixed = tensor(new Float32Array(2 * 16).map((_, k) => (k < 16 ? (k === 5 ? 1 : 0) : 1)), [
    2,
    1,
    4,
    4,
  ]);
  assert.throws(
    () => new T.CropForeground({ threshold: 0.5 }).apply(mixed),
    /CropForeground\.apply: sample 1 came out 4x4 .* sample 0 1x1/,
  );
});

Deno.test("no rng: the stream manualSeed seeds (reproducible, advancing); explicit rngs unchanged", () => {
  const t = T.compose([new T.RandomPerspective({ p: 1 }), new T.ColorJitter({ brightness: 0.4 })]);
  manualSeed(0);
  const a1 = t.apply(body).data.slice(), a2 = t.apply(body).data.slice();
  manualSeed(0);
  assert.deepEqual([...t.apply(body).data], [...a1]);
  assert.deepEqual([...t.apply(body).data], [...a2]);
  assert.notDeepEqual([...a1], [...a2], "each call takes new numbers");
  manualSeed(123);
  const explicit = t.apply(body, new data.Rng(4)).data.slice();
  manualSeed(0);
  assert.deepEqual([...t.apply(body, new data.Rng(4)).data], [...explicit]);
});

Deno.test("DataLoader without seed: manualSeed fixes order and augmentation; seed still wins", async () => {
  const ds = new ToyDataset({ length: 12, size: 8 });
  const opts = { batchSize: 4, shuffle: true, transform: [new T.ColorJitter({ brightness: 0.5 })] };
  const epoch = async (loader: data.DataLoader) => {
    const out: number[][] = [];
    for await (using b of loader) out.push([...b.indices, ...b.images.toArray()]);
    return out;
  };
  manualSeed(7);
  const a = new data.DataLoader(ds, opts);
  manualSeed(7);
  const b = new data.DataLoader(ds, { ...opts, workers: 1 });
  assert.equal(a.seed, b.seed);
  assert.ok(Number.isSafeInteger(a.seed));
  assert.deepEqual(
    await epoch(b),
    await epoch(a),
    "same manualSeed, same batches (workers rebuild ColorJitter)",
  );
  manualSeed(8);
  assert.notEqual(new data.DataLoader(ds, opts).seed, a.seed);
  assert.equal(new data.DataLoader(ds, { ...opts, seed: 0 }).seed, 0);
});

Deno.test("options: checkArity and checkOptions on every transform constructor", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => new T.Resize(loose(224)),
      /Resize: expected an options object, got number 224; write it as new transforms\.Resize\(\{ size: 224 \}\)/,
    ],
    [
      () => Reflect.construct(T.Normalize, [0.5, 0.25]),
      /Normalize: takes at most 1 arguments, got 2; .*new transforms\.Normalize\(\{ mean: 0\.5, std: 0\.25 \}\)/,
    ],
    [
      () => new T.GaussianBlur(loose({ kernel_size: 5 })),
      /GaussianBlur: unknown parameter 'kernel_size' \(write 'kernelSize'\)/,
    ],
    [
      () => new T.RandomPerspective(loose({ distortion_scale: 0.2 })),
      /unknown parameter 'distortion_scale' \(write 'distortionScale'\)/,
    ],
    [
      () => new T.RandomResizedCrop(loose([224])),
      /RandomResizedCrop: expected an options object, got an array/,
    ],
    [
      () => new T.RandomResizedCrop({ size: 8, antialias: loose("true") }),
      /RandomResizedCrop: antialias must be true or false, got "true"/,
    ],
    [() => new T.RandomResizedCrop(loose({})), /RandomResizedCrop: size must be/],
    [
      () => new T.RandomResizedCrop({ size: 8, scale: [1, 0.5] }),
      /RandomResizedCrop: scale range must have lo <= hi/,
    ],
    [
      () => new T.RandomPerspective({ distortionScale: 1.5 }),
      /RandomPerspective: distortionScale must be a finite number >= 0 <= 1/,
    ],
    [
      () => new T.ColorJitter({ brightness: 0.2, saturation: 0.4 }),
      /ColorJitter: saturation 0.4 needs colour channels; a CT slice is one grey channel/,
    ],
    [
      () => new T.ColorJitter({ contrast: 0.2, hue: 0.1 }),
      /ColorJitter: hue 0.1 needs colour channels/,
    ],
    [() => new T.ColorJitter({}), /ColorJitter: with no brightness or contrast it changes nothing/],
    [
      () => new T.ColorJitter({ brightness: -1 }),
      /ColorJitter: brightness as a single number must be finite and >= 0/,
    ],
    [() => new T.RandomPosterize(loose({})), /RandomPosterize: bits must be an integer/],
    [
      () => new T.RandomSolarize({ threshold: 2 }),
      /RandomSolarize: threshold must be a finite number <= 1/,
    ],
    [
      () => new T.RandomInvert({ valueRange: loose([0]) }),
      /RandomInvert: valueRange must be \[lo, hi\]/,
    ],
    [() => new T.Compose(loose(5)), /Compose: expected an options object, got number 5/],
    [
      () => Reflect.construct(T.Compose, [{ transforms: [] }, 1]),
      /Compose: takes at most 1 arguments/,
    ],
  ];
  for (const [fn, re] of cases) assert.throws(fn, re);
  // Neutral colour options are accepted, as torchvision's defaults.
  new T.ColorJitter({ brightness: 0.1, saturation: 0, hue: 0 });
  // torchvision's positional Compose([t1, t2]).
  const c = new T.Compose([new T.RandomInvert({ p: 1 }), { name: "Normalize", mean: 0, std: 2 }]);
  assert.deepEqual([...c.apply({ data: new Float32Array([0, 1]), width: 2, height: 1 }).data], [
    0.5,
    0,
  ]);
});
