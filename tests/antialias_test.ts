/**
 * Antialiased and bicubic resizing against PyTorch 1.13 and torchvision
 * 0.14 (tests/fixtures/antialias.json, written by
 * scripts/make_antialias_fixtures.py): the host image ops (F.resize,
 * F.resizedCrop, Resize with a number size and maxSize) with bilinear and
 * bicubic, antialias on and off, and F.interpolate's antialiased modes,
 * output and the input's gradient of L = sum(out * G), on
 * `LITS_TEST_DEVICE`. Then the argument checks.
 */
import assert from "node:assert/strict";
import { data, functional as F, nn, type Tensor, tensor, zeros } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

const T = data.transforms;
type Image = { data: Float32Array; width: number; height: number };
type Mode = "bilinear" | "bicubic" | "nearest";
interface Fixture {
  images: Stored[];
  resize: {
    image: number;
    size: [number, number];
    interpolation: Mode;
    antialias: boolean;
    out: Stored;
  }[];
  resizedCrop: {
    image: number;
    box: [number, number, number, number];
    size: [number, number];
    interpolation: Mode;
    antialias: boolean;
    out: Stored;
  }[];
  resizeShort: {
    image: number;
    size: number;
    maxSize: number | null;
    interpolation: Mode;
    antialias: boolean;
    out: Stored;
  }[];
  interpolate: {
    name: string;
    opts: F.InterpolateOptions;
    input: Stored;
    out: Stored;
    G: Stored;
    grad: Stored;
  }[];
}
const fx = loadFixture<Fixture>("antialias.json");

const image = (i: number): Image => {
  const s = fx.images[i];
  return { data: Float32Array.from(s.data), width: s.shape[1], height: s.shape[0] };
};
/** An image's size and pixels against a stored [H, W] output. */
function assertImage(got: Image, want: Stored, what: string, atol = 2e-6): void {
  assert.deepEqual([got.height, got.width], want.shape, `${what}: size`);
  assertClose(got.data, want.data, { rtol: 1e-5, atol, what });
}
/** torch computes plain bilinear in float32 (its lambdas too), this library's in double. */
const atolOf = (c: { interpolation: string; antialias: boolean }) =>
  c.interpolation === "bilinear" && !c.antialias ? 1e-5 : 2e-6;
const label = (c: { interpolation: string; antialias: boolean }) =>
  `${c.interpolation}${c.antialias ? " antialias" : ""}`;

Deno.test("antialias: F.resize matches torchvision's F.resize on float tensors", () => {
  assert.ok(fx.resize.length >= 30);
  for (const c of fx.resize) {
    const src = image(c.image);
    const got = T.F.resize(src, c.size, c.interpolation, c.antialias);
    assertImage(
      got,
      c.out,
      `resize ${src.height}x${src.width} -> ${c.size} ${label(c)}`,
      atolOf(c),
    );
  }
});

Deno.test("antialias: antialiasing changes the downsampled pixels, as torch's", () => {
  // The stripes of image 0 alias without the filter: the fixture's two outputs differ.
  const src = image(0);
  const plain = T.F.resize(src, [14, 14], "bilinear", false);
  const aa = T.F.resize(src, [14, 14], "bilinear", true);
  const diff = plain.data.reduce((m, v, i) => Math.max(m, Math.abs(v - aa.data[i])), 0);
  assert.ok(diff > 0.1, `antialias changed pixels by at most ${diff}`);
  // A constant image stays constant (each output's weights sum to 1), bicubic included.
  const flat = { data: new Float32Array(37 * 23).fill(0.75), width: 23, height: 37 };
  for (const mode of ["bilinear", "bicubic"] as const) {
    const out = T.F.resize(flat, [10, 7], mode, true);
    assertClose(out.data, new Array(70).fill(0.75), { atol: 1e-6, what: `${mode} constant` });
  }
});

Deno.test("antialias: F.resizedCrop and Resize with a number size match torchvision", () => {
  for (const c of fx.resizedCrop) {
    const [top, left, h, w] = c.box;
    const got = T.F.resizedCrop(
      image(c.image),
      top,
      left,
      h,
      w,
      c.size,
      c.interpolation,
      c.antialias,
    );
    assertImage(got, c.out, `resizedCrop ${c.box} -> ${c.size} ${label(c)}`, atolOf(c));
  }
  for (const c of fx.resizeShort) {
    const t = new T.Resize({
      size: c.size,
      interpolation: c.interpolation,
      antialias: c.antialias,
      ...(c.maxSize === null ? {} : { maxSize: c.maxSize }),
    });
    const got = t.apply(image(c.image), new data.Rng(0));
    assertImage(got, c.out, `Resize ${c.size} ${label(c)}`, atolOf(c));
    assert.equal(t.spec.antialias, c.antialias);
  }
});

Deno.test("antialias: Resize and RandomResizedCrop pass interpolation and antialias on", () => {
  const c = fx.resize.find((c) => c.interpolation === "bicubic" && c.antialias)!;
  const t = new T.Resize({ size: c.size, interpolation: "bicubic", antialias: true });
  assertImage(t.apply(image(c.image), new data.Rng(0)), c.out, "Resize bicubic antialias");
  // Rebuilt from its spec (as a loader worker does), it resizes the same way.
  const again = T.fromSpec(JSON.parse(JSON.stringify(t.spec)));
  assertImage(again.apply(image(c.image), new data.Rng(0)), c.out, "Resize from its spec");

  const src = image(0);
  const opts = { size: 9, scale: [0.3, 0.9] as [number, number] };
  for (const interpolation of ["bilinear", "bicubic"] as const) {
    const rrc = new T.RandomResizedCrop({ ...opts, interpolation, antialias: true });
    const out = rrc.apply(src, new data.Rng(3));
    const b = T.RandomResizedCrop.getParams(32, 32, opts.scale, [3 / 4, 4 / 3], new data.Rng(3));
    const want = T.F.resizedCrop(
      src,
      b.top,
      b.left,
      b.height,
      b.width,
      [9, 9],
      interpolation,
      true,
    );
    const plain = T.F.resizedCrop(src, b.top, b.left, b.height, b.width, [9, 9], interpolation);
    assert.deepEqual([...out.data], [...want.data], `RandomResizedCrop ${interpolation}`);
    assert.notDeepEqual([...out.data], [...plain.data], `${interpolation}: antialias ignored`);
  }
});

Deno.test(`antialias: F.interpolate antialias and gradients match torch (${testDevice})`, () => {
  const tol = testDevice === "cpu" ? { rtol: 1e-5, atol: 2e-6 } : { rtol: 1e-4, atol: 1e-5 };
  for (const c of fx.interpolate) {
    const x = fromStored(c.input, { requiresGrad: true, device: testDevice });
    const out = F.interpolate(x, c.opts);
    assert.deepEqual(out.shape, c.out.shape, `${c.name}: shape`);
    assertClose(out, c.out.data, { ...tol, what: `${c.name}: out` });
    const g = fromStored(c.G, { device: testDevice });
    out.mul(g).sum().backward();
    assertClose(x.grad as Tensor, c.grad.data, { ...tol, what: `${c.name}: grad` });
  }
});

Deno.test("antialias: bad arguments say what to write", () => {
  const img = { data: new Float32Array(64), width: 8, height: 8 };
  const loose = (v: unknown) => v as never;
  const cases: [() => unknown, RegExp][] = [
    [
      () => T.F.resize(img, 4, "bilinear", loose("yes")),
      /resize: antialias must be true or false, got "yes"/,
    ],
    [() => T.F.resize(img, 4, "bilinear", loose(1)), /antialias must be true or false, got 1/],
    [
      () => T.F.resize(img, 4, "nearest", true),
      /resize: antialias goes with interpolation "bilinear" or "bicubic"/,
    ],
    [
      () => T.F.resize(img, 4, loose("cubic")),
      /resize: interpolation must be "bilinear", "bicubic", "nearest" or "nearest-exact", got "cubic"/,
    ],
    [
      () => (T.F.resize as (...a: unknown[]) => unknown)(img, 4, "bilinear", null, true),
      /resize: takes \(image, size, interpolation, antialias\), got 5 .*maxSize/,
    ],
    [
      () => T.F.resizedCrop(img, 0, 0, 4, 4, 2, "bilinear", loose("on")),
      /resizedCrop: antialias must be true or false/,
    ],
    [
      () => T.F.resizedCrop(img, 0, 0, 4, 4, 2, "nearest", true),
      /resizedCrop: antialias goes with/,
    ],
    [
      () => new T.Resize({ size: 4, antialias: loose("true") }),
      /Resize: antialias must be true or false, got "true"/,
    ],
    [
      () => new T.Resize({ size: 4, interpolation: loose("area") }),
      /Resize: interpolation must be "bilinear", "bicubic", "nearest" or "nearest-exact"/,
    ],
    [
      () => new T.Resize({ size: 4, interpolation: "nearest", antialias: true }),
      /Resize: antialias goes with/,
    ],
    [
      () => new T.RandomResizedCrop({ size: 4, antialias: loose(0) }),
      /RandomResizedCrop: antialias must be true or false, got 0/,
    ],
    [
      () => new T.RandomResizedCrop({ size: 4, interpolation: "nearest", antialias: true }),
      /RandomResizedCrop: antialias goes with/,
    ],
  ];
  for (const [fn, re] of cases) assert.throws(fn, re);
  // Python's None is the default: plain resizing.
  const none = new T.Resize({ size: 4, antialias: loose(null) }).apply(img, new data.Rng(0));
  assert.deepEqual([none.width, none.height], [4, 4]);

  const x = zeros([1, 1, 8, 8]);
  const x3 = zeros([1, 1, 8]);
  const tensorCases: [() => unknown, RegExp][] = [
    [
      () => F.interpolate(x, { size: 4, antialias: true }),
      /interpolate: antialias is only supported for the bilinear and bicubic modes .* got mode "nearest"/,
    ],
    [
      () => F.interpolate(x, { size: 4, mode: "area", antialias: true }),
      /only supported for the bilinear and bicubic modes/,
    ],
    [
      () => F.interpolate(x3, { size: 4, mode: "linear", antialias: true }),
      /only supported for the bilinear and bicubic modes/,
    ],
    [
      () => F.interpolate(x, { size: 4, mode: "bilinear", antialias: loose("yes") }),
      /interpolate: antialias must be a boolean, got "yes"/,
    ],
    [
      () => new nn.Upsample({ size: 4, mode: "bilinear", antialias: true }),
      /nn.Upsample: antialias is not an option of torch's nn.Upsample; call F.interpolate/,
    ],
  ];
  for (const [fn, re] of tensorCases) assert.throws(fn, re);
  // antialias: false (and torch's None) change nothing.
  assert.deepEqual(F.interpolate(x, { size: 4, mode: "bicubic", antialias: false }).shape, [
    1,
    1,
    4,
    4,
  ]);
  assert.deepEqual(F.interpolate(x, { size: 4, mode: "bilinear", antialias: loose(null) }).shape, [
    1,
    1,
    4,
    4,
  ]);
});

Deno.test("antialias with a scaleFactor that keeps a size (1.19 on 5): resampled at 1 / scale, as torch's", () => {
  const x = tensor([[[[0, 0, 1, 0, 0]]]], undefined, { requiresGrad: true });
  const y = F.interpolate(x, { scaleFactor: 1.19, mode: "bilinear", antialias: true });
  // torch 1.13: F.interpolate(x, scale_factor=1.19, mode="bilinear", antialias=True)
  assertClose(y, [0, 0, 0.6008403301239014, 0.5588235855102539, 0], { atol: 1e-6 });
  const cubic = F.interpolate(x, { scaleFactor: 1.19, mode: "bicubic", antialias: true });
  assertClose(cubic, [
    0,
    -0.06777989864349365,
    0.6970751881599426,
    0.6422120928764343,
    -0.0706503689289093,
  ], {
    atol: 1e-6,
  });
  y.mul(tensor([0, 1, 2, 3, 4], [...y.shape])).sum().backward();
  // (y * arange(5)).sum().backward() in torch.
  assertClose(x.grad!, [
    0.23949575424194336,
    1.558823585510254,
    2.8781514167785645,
    4.197478294372559,
    1.1260509490966797,
  ], {
    atol: 1e-6,
  });
});
