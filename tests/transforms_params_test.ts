/**
 * Transform parameters as JSON specs and ported MONAI code give them: flags
 * that must be booleans, the `ct` preset's options, padding that is left
 * out, values shown as the user wrote them, MONAI's factor range, the gamma
 * table's accuracy over every gamma, and the train command's window warning.
 */
import assert from "node:assert/strict";
import { data, train } from "../mod.ts";

const T = data.transforms;
/** Parameters as untyped JSON would give them. */
const loose = <T>(v: unknown) => v as T;

Deno.test("boolean flags refuse strings and numbers instead of reading their truthiness", () => {
  const cases: [() => unknown, RegExp][] = [
    [
      () => new T.ScaleIntensityRange(loose({ aMin: -200, aMax: 250, clip: "false" })),
      /ScaleIntensityRange: clip must be true or false, got "false"/,
    ],
    [
      () => T.fromSpec({ name: "ScaleIntensityRange", aMin: 0, aMax: 1, clip: 1 }),
      /clip must be true or false, got 1/,
    ],
    [
      () => new T.RandomGaussianNoise(loose({ std: 0.1, sampleStd: "false" })),
      /RandomGaussianNoise: sampleStd must be true or false/,
    ],
    [
      () => new T.RandomCrop(loose({ size: 2, padIfNeeded: 0 })),
      /RandomCrop: padIfNeeded must be true or false, got 0/,
    ],
  ];
  for (const [make, message] of cases) assert.throws(make, message);
  const hu = { data: new Float32Array([-1000, 25, 1000]), width: 3, height: 1 };
  const unclipped = new T.ScaleIntensityRange({ aMin: -200, aMax: 250, clip: false }).apply(hu);
  assert.ok(unclipped.data[0] < 0 && unclipped.data[2] > 1);
});

Deno.test("the ct preset refuses unknown options and arguments that are not its options", () => {
  assert.throws(() => T.ct(loose({ strenght: 2 })), /transforms\.ct: unknown option 'strenght'/);
  assert.throws(() => T.ct(loose({ normalise: { mean: 0, std: 1 } })), /unknown option/);
  assert.throws(() => T.ct(loose(2)), /transforms\.ct/);
  assert.throws(() => T.ct(loose(null)), /transforms\.ct/);
  assert.throws(() => loose<(a: unknown, b: unknown) => unknown>(T.ct)({}, {}), /transforms\.ct/);
  assert.deepEqual(T.ct({ strength: 0 }).spec.transforms, []);
});

Deno.test("Pad without a usable padding names the parameter", () => {
  const message = /Pad: padding must be a non-negative integer, \[lr, tb\] or \[l, t, r, b\]/;
  for (const params of [{}, { padding: null }, { padding: { l: 1 } }, { padding: "2" }]) {
    assert.throws(() => new T.Pad(loose(params)), message, JSON.stringify(params));
  }
  assert.throws(() => T.fromSpec({ name: "Pad" }), message);
});

Deno.test("errors show NaN and Infinity as written, and a factor range as the user gave it", () => {
  assert.throws(() => new T.RandomGaussianNoise({ std: NaN }), /std must be .*, got NaN$/);
  assert.throws(() => new T.RandomGamma({ gamma: [1, Infinity] }), /got Infinity$/);
  // MONAI's RandScaleIntensity(factors=1): scales in [0, 2].
  const t = new T.RandomShiftScaleIntensity({ factors: 1 });
  const out = t.apply({ data: new Float32Array([1]), width: 1, height: 1 }, new data.Rng(3));
  assert.ok(out.data[0] >= 0 && out.data[0] <= 2);
  assert.throws(
    () => new T.RandomShiftScaleIntensity({ factors: 1.5 }),
    /factors must be a finite number >= -1, got -1\.5 \(factors: 1\.5 means \[-1\.5, 1\.5\]\)/,
  );
});

Deno.test("adjustContrast is within 1e-4 of the range of MONAI's exact power for every gamma", () => {
  // Cubed spacing crowds pixels near the minimum, where the table's chords err most.
  const n = 50_000, lo = -1024, range = 4095;
  const image = { data: new Float32Array(n), width: n, height: 1 };
  for (let i = 0; i < n; i++) image.data[i] = lo + range * (i / (n - 1)) ** 3;
  for (const gamma of [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.1, 1.9, 2, 4.5, 19, 20, 30]) {
    const out = T.F.adjustContrast(image, gamma);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const exact = Math.pow((image.data[i] - lo) / (range + 1e-7), gamma) * range + lo;
      worst = Math.max(worst, Math.abs(out.data[i] - exact) / range);
    }
    assert.ok(worst < 1e-4, `gamma ${gamma}: ${worst} of the range`);
  }
});

Deno.test("windowWarning says how much of [0, 1] a window wider than the data's HU fills", () => {
  assert.equal(train.windowWarning([25, 125], [-200, 250]), null);
  assert.equal(train.windowWarning([-200, 250], [-200, 250]), null);
  const wide = train.windowWarning([-1000, 1000], [-200, 250]);
  assert.match(wide!, /--input-window -1000,1000 reaches outside the -200\.\.250 HU/);
  assert.match(wide!, /fill \[0\.400, 0\.625\] of \[0, 1\]/);
  assert.match(train.windowWarning([300, 400], [-200, 250])!, /fill none of/);
});
