/**
 * Specs keep NaN and the infinities through JSON: `JSON.stringify` writes
 * them as null, which silently changed a pipeline rebuilt with
 * `fromSpec(JSON.parse(JSON.stringify(t.spec)))` (a volume pad's `value:
 * NaN` came back as 0). Specs now write them as "NaN", "Infinity" and
 * "-Infinity", and `fromSpec` reads those back, for every transform class
 * with such a field (the volume pads' `value`), nested in a Compose too;
 * structured clone (the loader's workers) still gets plain numbers.
 * Volumes are made on `LITS_TEST_DEVICE`.
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import { testDevice } from "./helpers.ts";

const T = data.transforms, V = T.volume;
const NON_FINITE = [NaN, Infinity, -Infinity];

/**
 * Every transform class whose spec can hold a non-finite number, with a spec
 * that puts `v` there (found by trying NaN and the infinities in every
 * parameter of every registered class; the 2-D classes take none).
 */
const VOLUME_CASES = (v: number) => [
  { name: "volume.SpatialPad", spatialSize: [3, 5, 4], value: v },
  { name: "volume.ResizeWithPadOrCrop", spatialSize: [1, 5, 6], value: v },
  { name: "volume.CropForeground", threshold: 0.5, margin: 2, allowSmaller: false, value: v },
];

/** A [1, 2, 3, 2] volume with a bright centre. */
function volume() {
  const x = new Float32Array(12).map((_, i) => (i === 5 || i === 6 ? 2 : i / 12));
  return tensor(x, [1, 2, 3, 2], { device: testDevice });
}

/** The output's float32 bits, NaN included. */
function bits(t: data.transforms.volume.VolumeTransform): Uint32Array {
  using x = volume();
  using y = t.apply(x, new data.Rng(0));
  return new Uint32Array(Float32Array.from(y.toArray()).buffer);
}

Deno.test("spec JSON: the volume pads' NaN and infinite value survive, same output bits", () => {
  for (const v of NON_FINITE) {
    for (const spec of VOLUME_CASES(v)) {
      const t = V.fromSpec(spec);
      const json = JSON.stringify(t.spec);
      assert.ok(json.includes(`"value":"${v}"`), json);
      const back = V.fromSpec(JSON.parse(json));
      assert.deepEqual(back.spec, t.spec, spec.name);
      assert.equal(Object.is(back.spec.value, v), true);
      const want = bits(t);
      assert.ok(new Float32Array(want.buffer).some((x) => Object.is(x, v)), `${spec.name} pads`);
      assert.deepEqual(bits(back), want, `${spec.name} value ${v}`);
      // The transform's own JSON form (JSON.stringify(t)) too.
      assert.deepEqual(bits(V.fromSpec(JSON.parse(JSON.stringify(t)))), want);
    }
  }
});

Deno.test("spec JSON: nested in a Compose, at every level", () => {
  const pipeline = V.compose([
    { name: "volume.Flip", spatialAxis: 0 },
    { name: "volume.SpatialPad", spatialSize: [3, 4, 4], value: -Infinity },
    { name: "volume.ResizeWithPadOrCrop", spatialSize: [4, 4, 5], value: NaN },
  ]);
  const want = bits(pipeline);
  for (const json of [JSON.stringify(pipeline.spec), JSON.stringify(pipeline)]) {
    const back = V.fromSpec(JSON.parse(json));
    assert.deepEqual(back.spec, pipeline.spec);
    assert.deepEqual(bits(back), want);
  }
  // The list alone, and one spec taken out of it.
  const list = JSON.parse(JSON.stringify(pipeline.spec.transforms));
  assert.deepEqual(list[1].value, "-Infinity");
  assert.deepEqual(bits(V.compose(list)), want);
  const inner = (pipeline.spec.transforms as Record<string, unknown>[])[2];
  assert.equal(JSON.stringify(inner), JSON.stringify({ ...inner, value: "NaN" }));
});

Deno.test("spec JSON: specs stay plain data; finite specs are as before", () => {
  const t = new V.SpatialPad({ spatialSize: [3, 5, 4], value: NaN });
  const spec = t.spec;
  // Structured clone (the loader's workers) keeps the number and drops nothing it needs.
  const cloned = structuredClone(spec);
  assert.ok(Number.isNaN(cloned.value));
  assert.deepEqual(Object.keys(spec), ["name", "spatialSize", "value"]);
  assert.deepEqual(bits(V.fromSpec(cloned)), bits(t));
  // A spec without NaN or infinities gets nothing added.
  const finite = new V.SpatialPad({ spatialSize: [3, 5, 4], value: -1000 }).spec;
  assert.deepEqual(Object.getOwnPropertyNames(finite), ["name", "spatialSize", "value"]);
  assert.equal(
    JSON.stringify(finite),
    '{"name":"volume.SpatialPad","spatialSize":[3,5,4],"value":-1000}',
  );
  const flip = T.compose([{ name: "RandomHorizontalFlip", p: 0.5 }]).spec;
  assert.equal(
    JSON.stringify(flip),
    '{"name":"Compose","transforms":[{"name":"RandomHorizontalFlip","p":0.5}]}',
  );
  // The user's spec is not changed by fromSpec's reading.
  const given = { name: "volume.SpatialPad", spatialSize: [3, 5, 4], value: "Infinity" };
  V.fromSpec(given);
  assert.equal(given.value, "Infinity");
});

Deno.test("spec JSON: null where a number belongs is refused, not read as 0", () => {
  // What JSON.stringify made of NaN before specs kept it.
  for (const spec of VOLUME_CASES(NaN)) {
    assert.throws(
      () => V.fromSpec(JSON.parse(JSON.stringify({ ...spec, value: null }))),
      /value must be a number \(NaN and Infinity too\), got null \(a spec's JSON writes NaN/,
    );
  }
  assert.throws(
    () => V.fromSpec({ name: "volume.SpatialPad", spatialSize: [3, 5, 4], value: "nan" }),
    /value must be a number .*got "nan"/,
  );
  // 2-D fromSpec reads the strings too: a finite-only parameter then names the number.
  assert.throws(
    () => T.fromSpec({ name: "Normalize", mean: "NaN", std: 1 }),
    /Normalize: mean must be a finite number, got NaN/,
  );
});
