/**
 * torchvision.transforms as a PyTorch user ports them, against torchvision
 * 0.14 (tests/fixtures/transforms_audit.json from
 * scripts/make_transforms_audit_fixtures.py), random draws pinned by calling
 * the functional ops with the drawn parameters: Resize on a float CT slice
 * and on ImageFolder's PIL path, CenterCrop past the edge, rotate / affine
 * (nearest by default, center, expand, fill), gaussian_blur in torchvision's
 * argument order, every padding mode, Grayscale / ToTensor /
 * ConvertImageDtype, Normalize, erase, RandomAffine's whole-pixel shifts.
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
const loose = (v: unknown) => v as never;
type Spec = Record<string, unknown>;
/** Float32 values written with 9 digits read back exactly as float32. */
const f32 = (a: number[]) => Float32Array.from(a);
const steps = (t: { spec: Spec }) => t.spec.transforms as Spec[];
type Interp = "bilinear" | "bicubic" | "nearest";

const fx = loadFixture<{
  ct: Rec;
  resize: {
    size: number | [number, number];
    max_size: number | null;
    interpolation: Interp;
    antialias: boolean;
    out: Rec;
  }[];
  pil_input: Rec;
  resize_pil: {
    size: number | [number, number];
    interpolation: Interp;
    pil: number[];
    tensor: number[];
    width: number;
    height: number;
  }[];
  small: Rec;
  center_crop: { size: [number, number]; out: Rec }[];
  affine: {
    op: "rotate" | "affine";
    angle: number;
    translate?: [number, number];
    scale?: number;
    shear?: [number, number];
    interpolation?: Interp;
    fill?: number;
    center?: [number, number];
    expand?: boolean;
    out: Rec;
  }[];
  blur: {
    kernel_size: number | [number, number];
    sigma: number | number[] | null;
    out: number[];
  }[];
  pad: {
    padding: number | number[];
    padding_mode: "constant" | "edge" | "reflect" | "symmetric";
    out: Rec;
  }[];
  grey: {
    rgb: number[];
    width: number;
    height: number;
    grayscale_then_to_tensor: number[];
    to_tensor_channels: number[];
  };
  identities: Record<string, boolean>;
  normalize: { mean: number; std: number; out: number[] };
  erase: { box: [number, number, number, number]; value: number; out: number[] };
  affine_stats: { all_whole: boolean; max_abs: [number, number] };
}>("transforms_audit.json");

Deno.test("Resize on a float CT slice: sizes, max_size, modes, antialias as torchvision 0.14", () => {
  const ct = img(fx.ct);
  for (const c of fx.resize) {
    const what = `Resize(${JSON.stringify(c.size)}, ${c.interpolation}, max_size ${c.max_size}, ` +
      `antialias ${c.antialias})`;
    const t = new T.Resize({
      size: c.size,
      interpolation: c.interpolation,
      ...(c.max_size === null ? {} : { maxSize: c.max_size }),
      ...(c.antialias ? { antialias: true } : {}),
    });
    const out = t.apply(ct, new data.Rng(0));
    assert.deepEqual([out.width, out.height], [c.out.width, c.out.height], what);
    // HU values of +-1000: float32 rounding of the sums.
    assertClose(out.data, c.out.data, { atol: 2e-3, rtol: 1e-5, what });
  }
  // torchvision's [s]: the smaller edge, as s.
  const one = new T.Resize({ size: loose([10]) }).apply(ct, new data.Rng(0));
  assert.deepEqual([one.width, one.height], [fx.resize[0].out.width, fx.resize[0].out.height]);
});

Deno.test("Resize before ToTensor antialiases as PIL (ImageFolder's path); after it, as tensors", () => {
  const px = fx.pil_input;
  // What ImageFolder gives for an 8-bit file: pixels / 255.
  const input = {
    data: Float32Array.from(px.data, (v) => v / 255),
    width: px.width,
    height: px.height,
  };
  for (const c of fx.resize_pil) {
    const what = `Resize(${JSON.stringify(c.size)}, ${c.interpolation})`;
    const resize = { size: c.size, interpolation: c.interpolation };
    const pil = T.compose([new T.Resize(resize), new T.ToTensor()]);
    assert.equal(steps(pil)[0].antialias, true, what);
    const a = pil.apply(input, new data.Rng(0));
    assert.deepEqual([a.width, a.height], [c.width, c.height], what);
    // PIL rounds its output to 8 bits; upsampling bicubic also clamps (no overshoot).
    const atol = c.interpolation === "bicubic" ? 1.5 / 255 : 1 / 255;
    assertClose(a.data, c.pil, { atol, what: `${what} before ToTensor` });
    const tensor = T.compose([new T.ToTensor(), new T.Resize(resize)]);
    assert.equal(steps(tensor)[1].antialias, undefined);
    assertClose(tensor.apply(input, new data.Rng(0)).data, c.tensor, {
      atol: 1e-6,
      what: `${what} after ToTensor`,
    });
  }
  // PIL's nearest is F.interpolate's "nearest-exact"; an explicit antialias is kept.
  const near = T.compose([new T.Resize({ size: 8, interpolation: "nearest" }), new T.ToTensor()]);
  assert.equal(steps(near)[0].interpolation, "nearest-exact");
  const kept = T.compose([new T.Resize({ size: 8, antialias: false }), new T.ToTensor()]);
  assert.equal(steps(kept)[0].antialias, false);
  const rrc = new T.Compose([
    new T.RandomApply([new T.RandomResizedCrop({ size: 8 })], { p: 0.5 }),
    new T.ToTensor(),
  ]);
  assert.equal((steps(rrc)[0].transforms as Spec[])[0].antialias, true);
  // The rewritten spec rebuilds to the same pipeline.
  assert.deepEqual(T.fromSpec(JSON.parse(JSON.stringify(rrc.spec))).spec, rrc.spec);
});

Deno.test("CenterCrop smaller and larger than the image (zero padding), as F.center_crop", () => {
  const small = img(fx.small);
  for (const c of fx.center_crop) {
    const out = new T.CenterCrop({ size: c.size }).apply(small, new data.Rng(0));
    assert.deepEqual([out.width, out.height], [c.out.width, c.out.height]);
    assertClose(out.data, f32(c.out.data), { atol: 0, rtol: 0, what: `CenterCrop ${c.size}` });
  }
});

Deno.test("rotate / affine: nearest by default, bilinear, fill, center, expand, torch's positional form", () => {
  const small = img(fx.small);
  for (const c of fx.affine) {
    const what = JSON.stringify({ ...c, out: undefined });
    let out: Image;
    if (c.op === "rotate") {
      const opts = {
        ...(c.interpolation ? { interpolation: c.interpolation as "bilinear" } : {}),
        ...(c.expand ? { expand: true } : {}),
        ...(c.center ? { center: c.center } : {}),
        ...(c.fill !== undefined ? { fill: c.fill } : {}),
      };
      out = F.rotate(small, c.angle, opts);
      // torchvision's positional form gives the same pixels.
      const positional = F.rotate(
        small,
        c.angle,
        (c.interpolation ?? "nearest") as "nearest",
        c.expand ?? false,
        c.center ?? null,
        c.fill === undefined ? null : [c.fill],
      );
      assert.deepEqual([...positional.data], [...out.data], `${what} positional`);
    } else {
      out = F.affine(
        small,
        c.angle,
        c.translate!,
        c.scale!,
        c.shear!,
        c.interpolation as "bilinear" | undefined,
        c.fill ?? null,
        c.center ?? null,
      );
      const named = F.affine(small, {
        angle: c.angle,
        translate: c.translate,
        scale: c.scale,
        shear: c.shear,
        interpolation: c.interpolation as "bilinear" | undefined,
        fill: c.fill,
        center: c.center,
      });
      assert.deepEqual([...named.data], [...out.data], `${what} options object`);
    }
    assert.deepEqual([out.width, out.height], [c.out.width, c.out.height], what);
    const exact = (c.interpolation ?? "nearest") === "nearest";
    assertClose(out.data, f32(c.out.data), {
      atol: exact ? 0 : 2e-5,
      rtol: exact ? 0 : 1e-4,
      what,
    });
  }
});

Deno.test("RandomRotation / RandomAffine: torchvision's defaults, center, expand, whole-pixel shifts", () => {
  const small = img(fx.small);
  // degrees [a, a] pins the draw: the class is F.rotate with nearest, as torchvision's.
  for (const c of fx.affine.filter((c) => c.op === "rotate")) {
    const t = new T.RandomRotation({
      degrees: [c.angle, c.angle],
      ...(c.interpolation ? { interpolation: c.interpolation as "bilinear" } : {}),
      ...(c.expand ? { expand: true } : {}),
      ...(c.center ? { center: c.center } : {}),
      ...(c.fill !== undefined ? { fill: [c.fill] as [number] } : {}),
    });
    const out = t.apply(small, new data.Rng(3));
    assert.deepEqual([out.width, out.height], [c.out.width, c.out.height]);
    const exact = (c.interpolation ?? "nearest") === "nearest";
    assertClose(out.data, f32(c.out.data), { atol: exact ? 0 : 2e-5, rtol: exact ? 0 : 1e-4 });
  }
  const c = fx.affine.find((c) => c.op === "affine" && c.center && c.fill !== undefined)!;
  const t = new T.RandomAffine({
    degrees: [-c.angle, -c.angle],
    center: c.center,
    fill: c.fill,
    scale: [c.scale!, c.scale!],
    shear: [c.shear![0], c.shear![0], c.shear![1], c.shear![1]],
  });
  // No translate: the draw is pinned; angle sign: RandomAffine's degrees are F.affine's angle.
  const want = F.affine(small, {
    angle: -c.angle,
    scale: c.scale,
    shear: c.shear,
    center: c.center,
    fill: c.fill,
  });
  assert.deepEqual([...t.apply(small, new data.Rng(0)).data], [...want.data]);
  // Translations are whole pixels within fraction * size, as torchvision's get_params.
  assert.ok(fx.affine_stats.all_whole);
  const shifts = new T.RandomAffine({ degrees: 0, translate: [0.1, 0.1] });
  const wide = { data: new Float32Array(45 * 37), width: 45, height: 37 };
  wide.data[18 * 45 + 22] = 1;
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const out = shifts.apply(wide, new data.Rng(i));
    const at = out.data.indexOf(1);
    assert.ok(at >= 0, "a whole-pixel shift keeps the pixel's value exactly");
    const dx = (at % 45) - 22, dy = Math.floor(at / 45) - 18;
    assert.ok(
      Math.abs(dx) <= fx.affine_stats.max_abs[0] && Math.abs(dy) <= fx.affine_stats.max_abs[1],
    );
    seen.add(`${dx},${dy}`);
  }
  assert.ok(seen.size > 20);
  // The ct preset keeps its bilinear warp, now written out.
  const spec = steps(T.ct()).find((s) => s.name === "RandomAffine")!;
  assert.equal(spec.interpolation, "bilinear");
});

Deno.test("F.gaussianBlur(image, kernelSize, sigma?) in torchvision's order; GaussianBlur takes [kx, ky]", () => {
  const small = img(fx.small);
  for (const c of fx.blur) {
    const what = `gaussian_blur(${JSON.stringify(c.kernel_size)}, ${JSON.stringify(c.sigma)})`;
    assertClose(F.gaussianBlur(small, c.kernel_size, c.sigma).data, c.out, { atol: 1e-6, what });
    if (c.sigma !== null) {
      const s = Array.isArray(c.sigma) ? c.sigma : [c.sigma, c.sigma];
      if (s[0] === s[1]) {
        const t = new T.GaussianBlur({ kernelSize: c.kernel_size, sigma: s[0] });
        assertClose(t.apply(small, new data.Rng(0)).data, c.out, { atol: 1e-6, what });
      }
    }
  }
  const pair = new T.GaussianBlur({ kernelSize: [3, 5], sigma: [1, 1] });
  assert.equal(pair.apply(small, new data.Rng(0)).width, small.width);
  assert.throws(() => F.gaussianBlur(small, 1.5, 5), /odd positive integers.*torchvision's order/);
  assert.throws(() => new T.GaussianBlur({ kernelSize: [3, 4] }), /kernelSize must be odd/);
});

Deno.test("Pad / F.pad: constant, edge, reflect, symmetric (paddingMode, torchvision's name)", () => {
  const small = img(fx.small);
  for (const c of fx.pad) {
    const what = `pad(${JSON.stringify(c.padding)}, ${c.padding_mode})`;
    const fill = c.padding_mode === "constant" ? 0.5 : 0;
    const out = F.pad(small, c.padding, fill, c.padding_mode);
    assert.deepEqual([out.width, out.height], [c.out.width, c.out.height], what);
    assertClose(out.data, f32(c.out.data), { atol: 0, rtol: 0, what });
    const t = new T.Pad({ padding: c.padding, fill, paddingMode: c.padding_mode });
    assertClose(t.apply(small, new data.Rng(0)).data, f32(c.out.data), { atol: 0, rtol: 0, what });
  }
  // The older `mode` still works; both at once is refused.
  const old = new T.Pad({ padding: 1, mode: "edge" }).apply(small, new data.Rng(0));
  assert.deepEqual([...old.data], [...F.pad(small, 1, 0, "edge").data]);
  assert.throws(() => new T.Pad({ padding: 1, mode: "edge", paddingMode: "edge" }), /not both/);
  assert.throws(() => F.pad(small, 9, 0, "reflect"), /smaller than the image/);
  // RandomCrop pads with its paddingMode: a full-size crop of a reflect-padded image.
  const crop = new T.RandomCrop({ size: [13, 15], padding: 2, paddingMode: "reflect" });
  assert.deepEqual([...crop.apply(small, new data.Rng(0)).data], [
    ...F.pad(small, 2, 0, "reflect").data,
  ]);
});

Deno.test("ToTensor, Grayscale, ConvertImageDtype, RandomGrayscale: identities on grey float32 images", () => {
  const small = img(fx.small);
  assert.ok(Object.values(fx.identities).every(Boolean));
  for (
    const t of [
      new T.ToTensor(),
      new T.Grayscale(),
      new T.Grayscale({ numOutputChannels: 1 }),
      new T.ConvertImageDtype({ dtype: "float32" }),
      new T.RandomGrayscale({ p: 1 }),
    ]
  ) {
    assert.deepEqual([...t.apply(small, new data.Rng(0)).data], [...small.data], t.name);
    assert.deepEqual(T.fromSpec(JSON.parse(JSON.stringify(t.spec))).spec, t.spec);
  }
  assert.throws(() => new T.Grayscale({ numOutputChannels: 3 }), /one grey channel/);
  assert.throws(() => new T.ConvertImageDtype({ dtype: "uint8" }), /only dtype "float32"/);
  // Undivided 8-bit pixels (decodeImage's scale) are refused, not passed on as 0..255.
  const raw = { data: new Float32Array([0, 12, 255, 40]), width: 2, height: 2 };
  assert.throws(() => new T.ToTensor().apply(raw), /divides uint8 images by 255/);
});

Deno.test("Normalize([m], [s]), F.normalize with lists, F.erase, flips", () => {
  const small = img(fx.small);
  const n = fx.normalize;
  const t = new T.Normalize({ mean: [n.mean], std: [n.std] });
  assertClose(t.apply(small, new data.Rng(0)).data, n.out, { atol: 1e-6 });
  assertClose(F.normalize(small, [n.mean], [n.std]).data, n.out, { atol: 1e-6 });
  assert.throws(() => F.normalize(small, [0.485, 0.456, 0.406], [0.2, 0.2, 0.2]), /one channel/);
  const [i, j, h, w] = fx.erase.box;
  assertClose(F.erase(small, i, j, h, w, fx.erase.value).data, f32(fx.erase.out), {
    atol: 0,
    rtol: 0,
  });
  // RandomErasing takes torchvision's per-channel value list of one.
  assert.deepEqual(new T.RandomErasing({ value: [0.5] }).spec.value, [0.5]);
  const flipped = new T.RandomHorizontalFlip({ p: 1 }).apply(small, new data.Rng(0));
  assert.equal(flipped.data[0], small.data[small.width - 1]);
});

Deno.test("options a torchvision user writes are taken, or refused with what to write", () => {
  const small = img(fx.small);
  // Formerly dropped without a word.
  assert.throws(() => F.rotate(small, 10, loose({ expnd: true })), /unknown option 'expnd'/);
  assert.throws(
    () => F.affine(small, loose({ angle: 10, expand: true })),
    /unknown option 'expand'/,
  );
  assert.throws(
    () => (F.affine as (...a: unknown[]) => unknown)(small, 10, [1, 1]),
    /positional form/,
  );
  assert.throws(
    () => new T.RandomAffine({ degrees: 5, interpolation: loose("bicubic") }),
    /bicubic/,
  );
  assert.throws(() => new T.RandomRotation({ degrees: 5, fill: loose([0, 0, 0]) }), /one channel/);
  // zoom (MONAI's) stays bilinear by default.
  const z = F.zoom(small, 1.3);
  assert.deepEqual([...z.data], [
    ...F.affine(small, { scale: 1.3, interpolation: "bilinear" }).data,
  ]);
});
