/**
 * The volume transforms (data.transforms.volume) against reference numbers
 * (tests/fixtures/volume_transforms.json, written by
 * scripts/make_volume_transform_fixtures.py from PyTorch 1.13 and numpy):
 * Resize against F.interpolate, flips / rot90 / pads / crops exactly against
 * torch.flip, torch.rot90, F.pad and slicing at MONAI's boxes, the intensity
 * transforms against MONAI's formulas in float32. Each case also runs
 * rebuilt from its JSON spec. The random transforms and the argument checks
 * are in volume_transforms_random_test.ts.
 *
 * The volumes are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { data, type Tensor } from "../mod.ts";
import {
  assertClose,
  assertEqualValues,
  fromStored,
  loadFixture,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

const V = data.transforms.volume;

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  x: StoredRecord;
  out: StoredRecord;
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("volume_transforms.json");

/** Ops whose output only moves (or pads) voxels, or is float32 arithmetic we repeat exactly. */
const EXACT = new Set([
  "Flip",
  "Rotate90",
  "SpatialPad",
  "CenterSpatialCrop",
  "ResizeWithPadOrCrop",
  "CropForeground",
  "ScaleIntensityRange",
]);

function check(c: Case, y: Tensor, what: string): void {
  assert.deepEqual([...y.shape], c.out.shape, `${what}: shape`);
  assert.equal(y.device, testDevice, `${what}: device`);
  // 9 significant digits: Math.fround gives back the exact float32.
  const want = (c.out.data as number[]).map(Math.fround);
  if (EXACT.has(c.op)) assertEqualValues(y, want, what);
  // NormalizeIntensity's statistics are summed in another order than numpy's: ~1 ulp of them.
  else if (c.op === "NormalizeIntensity") assertClose(y, want, { rtol: 1e-5, atol: 1e-5, what });
  else assertClose(y, want, { rtol: 1e-5, atol: 1e-6, what });
}

function runCases(ops: string[]): void {
  const cases = fx.cases.filter((c) => ops.includes(c.op));
  assert.ok(cases.length > 0);
  for (const c of cases) {
    using x = fromStored(c.x, { device: testDevice });
    const before = [...x.toArray()];
    // deno-lint-ignore no-explicit-any
    const Ctor = (V as any)[c.op] as new (o: unknown) => data.transforms.volume.VolumeTransform;
    const t = new Ctor(structuredClone(c.opts));
    using y = t.apply(x, new data.Rng(0));
    check(c, y, c.name);
    // Rebuilt in a "worker": from the JSON of its spec.
    const again = V.fromSpec(JSON.parse(JSON.stringify(t.spec)));
    using z = again.apply(x, new data.Rng(1));
    check(c, z, `${c.name} (from spec)`);
    // The input is neither returned nor changed.
    assert.notEqual(y, x);
    assertEqualValues(x, before, `${c.name}: input unchanged`);
  }
}

Deno.test(`volume fixtures: written by PyTorch ${fx.torch}`, () => {
  assert.ok(fx.torch.startsWith("1.13"));
  assert.ok(fx.cases.length >= 60);
});

Deno.test("volume Resize: F.interpolate trilinear (both alignCorners), nearest, nearest-exact, area", () => {
  runCases(["Resize"]);
});

Deno.test("volume Flip and Rotate90: torch.flip and torch.rot90, exactly", () => {
  runCases(["Flip", "Rotate90"]);
});

Deno.test("volume pads and crops: F.pad and slicing at MONAI's boxes, exactly", () => {
  runCases(["SpatialPad", "CenterSpatialCrop", "ResizeWithPadOrCrop", "CropForeground"]);
});

Deno.test("volume ScaleIntensityRange and NormalizeIntensity: MONAI's formulas in float32", () => {
  runCases(["ScaleIntensityRange", "NormalizeIntensity"]);
});

Deno.test("volume Resize: a volume already of the size comes back unchanged (as MONAI)", () => {
  const c = fx.cases.find((k) => k.op === "Resize")!;
  using x = fromStored(c.x, { device: testDevice });
  for (const mode of ["trilinear", "nearest", "area"] as const) {
    using y = new V.Resize({ spatialSize: [-1, 0, -1], mode }).apply(x);
    assertEqualValues(y, x.toArray(), mode);
  }
});

Deno.test("volume CropForeground: no foreground gives the whole volume", () => {
  using x = fromStored({ shape: [1, 2, 2, 2], data: [0, -1, 0, 0, -3, 0, 0, 0] }, {
    device: testDevice,
  });
  using y = new V.CropForeground().apply(x);
  assert.deepEqual(y.shape, [1, 2, 2, 2]);
  assertEqualValues(y, x.toArray());
});

Deno.test("volume Compose: transforms in order, as plain data", () => {
  const x3 = Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => i);
  using x = fromStored({ shape: [2, 3, 4, 5], data: [...x3] }, { device: testDevice });
  const flip = new V.Flip({ spatialAxis: 2 }),
    crop = new V.SpatialPad({ spatialSize: [3, 4, 7], method: "end" });
  using a = V.compose([flip, crop]).apply(x);
  using b = V.compose([crop, flip]).apply(x);
  using f = flip.apply(x);
  using fc = crop.apply(f);
  assertEqualValues(a, fc.toArray(), "flip then pad");
  assert.notDeepEqual([...a.toArray()], [...b.toArray()]);
  // Nested, and from specs.
  const nested = V.compose([V.compose([flip]), {
    name: "volume.SpatialPad",
    spatialSize: [3, 4, 7],
    method: "end",
  }]);
  using n = nested.apply(x);
  assertEqualValues(n, fc.toArray(), "nested");
  assert.deepEqual(JSON.parse(JSON.stringify(nested.spec)), {
    name: "volume.Compose",
    transforms: [
      { name: "volume.Compose", transforms: [{ name: "volume.Flip", spatialAxis: 2 }] },
      { name: "volume.SpatialPad", spatialSize: [3, 4, 7], method: "end" },
    ],
  });
  using e = V.compose([]).apply(x);
  assertEqualValues(e, x3, "empty compose");
  assert.notEqual(e, x);
});

Deno.test("volume registry: every exported class is registered under volume.<class name>", () => {
  const classes = Object.entries(V).filter(([, v]) =>
    typeof v === "function" && v.prototype instanceof V.VolumeTransform
  );
  for (const [key, cls] of classes) assert.equal((cls as { name: string }).name, key);
  assert.deepEqual(
    classes.map(([k]) => `volume.${k}`).sort(),
    [...V.transformNames()].sort(),
  );
  assert.equal(V.transformNames().length, 34);
  // Not 2-D transforms: the 2-D registry and Compose do not take them.
  assert.ok(!data.transforms.transformNames().some((n) => n.startsWith("volume.")));
  for (const [, cls] of classes) {
    assert.ok(!((cls as { prototype: object }).prototype instanceof data.transforms.Transform));
  }
});
