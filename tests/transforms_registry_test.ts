/**
 * The transforms' registry and public surface: `fromSpec` knows exactly the
 * exported transform classes, each under its class name, so exporting a
 * class is what registers it; specs saved before the files were reorganised
 * still load; `F` exports the functional ops and nothing internal.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import type { Image } from "../src/data/types.ts";

const T = data.transforms;

/** The transform classes `data.transforms` exports, by export name. */
function exportedClasses(): [string, { name: string }][] {
  return Object.entries(T).filter(([, v]) =>
    typeof v === "function" && v.prototype instanceof T.Transform
  ) as [string, { name: string }][];
}

Deno.test("registry: fromSpec knows exactly the exported transform classes, by class name", () => {
  const exported = exportedClasses();
  // A class exported under another name would write specs fromSpec cannot read.
  for (const [key, cls] of exported) assert.equal(cls.name, key);
  assert.deepEqual(exported.map(([key]) => key).sort(), [...T.transformNames()].sort());
  assert.equal(new Set(T.transformNames()).size, T.transformNames().length);
  // The spec names an instance writes are the same names.
  assert.equal(new T.Resize({ size: 4 }).spec.name, "Resize");
  assert.equal(T.compose([]).spec.name, "Compose");
});

Deno.test("registry: specs saved before the reorganisation still load, unchanged", () => {
  // The 25 names of the hand-written registry this replaced (saved specs use them): all kept.
  const before = (
    "Compose Resize CenterCrop RandomCrop CropForeground Pad RandomHorizontalFlip " +
    "RandomVerticalFlip RandomRotation RandomAffine RandomZoom ElasticTransform " +
    "RandomGaussianNoise GaussianBlur RandomShiftScaleIntensity RandomGamma " +
    "ScaleIntensityRange Normalize RandomErasing RandomResizedCrop RandomPerspective " +
    "ColorJitter RandomInvert RandomPosterize RandomSolarize"
  ).split(" ");
  const names = T.transformNames();
  assert.deepEqual(before.filter((n) => !names.includes(n)), []);
  // Added since: torchvision's automatic augmentations, its colour ops and random containers.
  assert.deepEqual(names.filter((n) => !before.includes(n)).sort(), [
    "AugMix",
    "AutoAugment",
    "ConvertImageDtype",
    "Grayscale",
    "RandAugment",
    "RandomAdjustSharpness",
    "RandomApply",
    "RandomAutocontrast",
    "RandomChoice",
    "RandomEqualize",
    "RandomGrayscale",
    "RandomOrder",
    "ToTensor",
    "TrivialAugmentWide",
  ]);
  // ct({ size: 12, normalize }) as the previous layout wrote it.
  const saved = JSON.parse(
    '{"name":"Compose","transforms":[{"name":"CropForeground","threshold":0.1,"margin":4},' +
      '{"name":"Resize","size":[12,12]},{"name":"RandomAffine","degrees":10,' +
      '"translate":[0.05,0.05],"scale":[0.9,1.1],"p":0.5},{"name":"RandomShiftScaleIntensity",' +
      '"offsets":0.05,"factors":0.1,"p":0.5},{"name":"RandomGamma",' +
      '"gamma":[0.8695652173913044,1.15],"p":0.3},{"name":"RandomGaussianNoise","std":0.02,' +
      '"p":0.5},{"name":"Normalize","mean":0.3,"std":0.3}]}',
  );
  const loaded = T.fromSpec(saved);
  assert.deepEqual(loaded.spec, saved);
  // ct now writes its bilinear warp out: RandomAffine's default is torchvision's nearest.
  const now = structuredClone(saved);
  now.transforms[2] = { ...now.transforms[2], interpolation: "bilinear" };
  assert.deepEqual(T.ct({ size: 12, normalize: { mean: 0.3, std: 0.3 } }).spec, now);
  assert.throws(() => T.fromSpec({ name: "constructor" }), /unknown transform 'constructor'/);
});

Deno.test("public surface: data.transforms and F export what they did, nothing internal", () => {
  const classes = exportedClasses().map(([key]) => key);
  const rest = Object.keys(T).filter((k) => !classes.includes(k)).sort();
  // MixUp and CutMix mix a batch after the loader: not Transforms (no spec), so not registered;
  // `volume` holds the [C, D, H, W] transforms, a family of their own.
  assert.deepEqual(rest, [
    "CutMix",
    "F",
    "MixUp",
    "Transform",
    "compose",
    "ct",
    "fromSpec",
    "transformNames",
    "volume",
  ]);
  const ops = (
    "adjustBrightness adjustContrast adjustSharpness affine affineMatrix applyAugmentOp augMix " +
    "autocontrast blendContrast centerCrop crop cropForeground displace elastic elasticField " +
    "equalize erase foregroundBox gaussianBlur gaussianKernel gaussianNoise hflip invert " +
    "normalize pad perspective perspectiveCoefficients posterize resize resizedCrop rotate " +
    "scaleIntensityRange scaleShift solarize vflip warpAffine zoom"
  ).split(" ");
  assert.deepEqual(Object.keys(T.F).sort(), ops);
});

/** A transform written outside the library, as a user would. */
class ClipAbove extends T.Transform {
  readonly #hi: number;
  constructor(params: { hi?: number } = {}) {
    super(params, arguments.length, { keys: ["hi"], p: null, usage: "{ hi: 1 }" });
    this.#hi = params.hi ?? 1;
  }
  protected run(image: Image): Image {
    return { ...image, data: image.data.map((v) => Math.min(v, this.#hi)) };
  }
}

Deno.test("a subclass's name, spec and errors come from its class name", () => {
  const t = new ClipAbove({ hi: 0.5 });
  assert.deepEqual(t.spec, { name: "ClipAbove", hi: 0.5 });
  const img = { data: new Float32Array([0.25, 0.75]), width: 2, height: 1 };
  assert.deepEqual([...t.apply(img, new data.Rng(0)).data], [0.25, 0.5]);
  assert.throws(
    () => Reflect.construct(ClipAbove, [{ hi: 1 }, 2]),
    /ClipAbove: takes at most 1 arguments, got 2; .*new transforms\.ClipAbove\(\{ hi: 1 \}\)/,
  );
  assert.throws(() => new ClipAbove({ lo: 0 } as never), /ClipAbove: unknown parameter 'lo'/);
  assert.throws(() => new ClipAbove({ p: 0.5 } as never), /ClipAbove: unknown parameter 'p'/);
  // Not a library class: fromSpec refuses it rather than building something else.
  assert.throws(() => T.fromSpec(t.spec), /unknown transform 'ClipAbove'/);
});

Deno.test("fromSpec: a volume transform's spec in a 2-D pipeline says where it belongs", () => {
  const spec = new T.volume.RandFlip({ p: 1, spatialAxis: 0 }).spec;
  assert.throws(
    () => T.fromSpec(spec as never),
    /volume transform .*data\.transforms\.volume\.fromSpec/,
  );
  assert.equal(T.volume.fromSpec(spec).name, "volume.RandFlip");
});

Deno.test("fromSpec: a MONAI volume transform's name without its prefix says how to write it", () => {
  assert.throws(
    () => T.fromSpec({ name: "RandFlip", p: 1 } as never),
    /'RandFlip' is one of MONAI's volume transforms here: write \{ name: "volume\.RandFlip"/,
  );
  assert.throws(
    () => T.fromSpec({ name: "NoSuchThing" } as never),
    /unknown transform 'NoSuchThing'/,
  );
});
