/**
 * A parsed DICOM image's pixel data to stored values (BitsStored bits from
 * HighBit down, sign-extended when PixelRepresentation is 1), and those to
 * real units with the modality rescale. Native pixels are read in place;
 * encapsulated frames go through `decodeFrame`.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm parser; deno.json has no import map
import dicomParser from "npm:dicom-parser@1.8.21";
import { decodeFrame } from "./codecs.ts";
import { type DataSet, type DicomElement, type ParsedDicom, TAG } from "./parse.ts";
import { transferSyntaxOf } from "./transfer_syntax.ts";

/** Stored values of one frame, before the rescale. */
export interface StoredFrame {
  values: Float64Array<ArrayBuffer>;
  width: number;
  height: number;
}

/** The pixel module's fields, checked. */
interface PixelModule {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
  frames: number;
}

function pixelModule(ds: DataSet, source: string): PixelModule {
  const el = ds.elements[TAG.pixelData];
  if (!el) {
    const modality = ds.elements[TAG.modality] ? ds.string(TAG.modality) : undefined;
    const float = ds.elements[TAG.floatPixelData] || ds.elements[TAG.doublePixelData];
    throw new Error(
      `${source}: not an image: ` +
        (float
          ? "it has float pixel data (7FE0,0008/0009), which this reader does not decode"
          : `no PixelData (7FE0,0010)${modality ? `; Modality is ${modality}` : ""}`),
    );
  }
  const us = (tag: string) => (ds.elements[tag] ? ds.uint16(tag) : undefined);
  const rows = us(TAG.rows);
  const columns = us(TAG.columns);
  const bitsAllocated = us(TAG.bitsAllocated);
  if (!rows || !columns || !bitsAllocated) {
    throw new Error(`${source}: PixelData without Rows, Columns or BitsAllocated`);
  }
  const samples = us(TAG.samplesPerPixel) ?? 1;
  const photometric = ds.elements[TAG.photometric] ? ds.string(TAG.photometric)?.trim() : "";
  if (samples !== 1 || (photometric && !photometric.startsWith("MONOCHROME"))) {
    throw new Error(
      `${source}: a colour image (SamplesPerPixel ${samples}, PhotometricInterpretation ` +
        `${photometric || "absent"}); this reader takes grey (MONOCHROME) images only`,
    );
  }
  if (![8, 16, 32].includes(bitsAllocated)) {
    throw new Error(`${source}: BitsAllocated ${bitsAllocated} is not supported (8, 16 or 32)`);
  }
  const bitsStored = us(TAG.bitsStored) ?? bitsAllocated;
  const highBit = us(TAG.highBit) ?? bitsStored - 1;
  if (
    bitsStored < 1 || bitsStored > bitsAllocated || highBit + 1 < bitsStored ||
    highBit >= bitsAllocated
  ) {
    throw new Error(
      `${source}: inconsistent BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`,
    );
  }
  if (ds.elements[TAG.modalityLut] && !ds.elements[TAG.rescaleSlope]) {
    throw new Error(
      `${source}: a Modality LUT Sequence (0028,3000) is not supported, only a rescale`,
    );
  }
  const nFrames = ds.elements[TAG.frames] ? ds.intString(TAG.frames) : 1;
  const frames = nFrames && Number.isFinite(nFrames) && nFrames > 0 ? nFrames : 1;
  const signed = (us(TAG.pixelRepresentation) ?? 0) === 1;
  return { rows, columns, bitsAllocated, bitsStored, highBit, signed, frames };
}

/** The compressed bytes of frame `frame`, as cornerstone's loader finds them. */
function encapsulatedFrame(
  ds: DataSet,
  el: DicomElement,
  frame: number,
  frames: number,
): Uint8Array {
  const fragments = el.fragments ?? [];
  if (frames <= 1) {
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length);
  }
  if (el.basicOffsetTable?.length) return dicomParser.readEncapsulatedImageFrame(ds, el, frame);
  if (fragments.length === frames) {
    return dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, frame, 1);
  }
  const table = dicomParser.createJPEGBasicOffsetTable(ds, el);
  return dicomParser.readEncapsulatedImageFrame(ds, el, frame, table);
}

/** Masks and sign-extends `count` samples of `bytesPerSample` bytes each. */
function toStored(
  bytes: Uint8Array,
  bytesPerSample: number,
  littleEndian: boolean,
  count: number,
  px: PixelModule,
): Float64Array<ArrayBuffer> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(count);
  const shift = px.highBit + 1 - px.bitsStored;
  const bits = px.bitsStored;
  const top = 2 ** bits;
  const half = top / 2;
  for (let i = 0; i < count; i++) {
    const raw = bytesPerSample === 1
      ? bytes[i]
      : bytesPerSample === 2
      ? view.getUint16(2 * i, littleEndian)
      : view.getUint32(4 * i, littleEndian);
    // Division rather than >>> keeps 32-bit values unsigned and exact.
    const v = Math.floor(raw / 2 ** shift) % top;
    out[i] = px.signed && v >= half ? v - top : v;
  }
  return out;
}

/** Stored values of frame `frame` of a parsed image; `source` names the file in errors. */
export async function storedValues(
  parsed: ParsedDicom,
  frame: number,
  source: string,
): Promise<StoredFrame> {
  const ds = parsed.dataSet;
  const px = pixelModule(ds, source);
  if (!(Number.isInteger(frame) && frame >= 0 && frame < px.frames)) {
    throw new RangeError(`${source}: frame ${frame} out of range [0, ${px.frames})`);
  }
  const ts = transferSyntaxOf(parsed.transferSyntax, source);
  const el = ds.elements[TAG.pixelData]!;
  const width = px.columns;
  const height = px.rows;
  const count = width * height;
  const bytesPerSample = px.bitsAllocated / 8;
  if (ts.encoding === "unsupported") {
    throw new Error(
      `${source}: no decoder for transfer syntax ${ts.name} (${parsed.transferSyntax})`,
    );
  }
  if (ts.encoding === "native") {
    if (el.encapsulatedPixelData) {
      throw new Error(
        `${source}: encapsulated pixel data in a native transfer syntax (${ts.name})`,
      );
    }
    const frameBytes = count * bytesPerSample;
    const have = Math.min(el.length, ds.byteArray.length - el.dataOffset);
    if (have < (frame + 1) * frameBytes) {
      throw new Error(
        `${source}: pixel data has ${have} bytes, but ${
          px.frames > 1 ? `frame ${frame} of ` : ""
        }` +
          `${height} rows x ${width} columns x ${px.bitsAllocated} bits needs ` +
          `${(frame + 1) * frameBytes} (truncated file?)`,
      );
    }
    const raw = ds.byteArray.subarray(el.dataOffset + frame * frameBytes);
    return { values: toStored(raw, bytesPerSample, !ts.bigEndian, count, px), width, height };
  }
  if (!el.encapsulatedPixelData) {
    throw new Error(`${source}: ${ts.name} needs encapsulated pixel data, but it is native`);
  }
  let compressed: Uint8Array;
  try {
    compressed = encapsulatedFrame(ds, el, frame, px.frames);
  } catch (e) {
    throw new Error(`${source}: cannot find frame ${frame} in the encapsulated pixel data (${e})`, {
      cause: e,
    });
  }
  const decoded = await decodeFrame(
    ts.encoding,
    compressed,
    width,
    height,
    bytesPerSample,
    ts.name,
    source,
  );
  if (decoded.width !== width || decoded.height !== height) {
    throw new Error(
      `${source}: ${ts.name} frame is ${decoded.width}x${decoded.height}, ` +
        `but the header says ${width}x${height}`,
    );
  }
  if (decoded.bytes.length < count * decoded.bytesPerSample) {
    throw new Error(`${source}: ${ts.name} frame decoded to too few samples`);
  }
  return {
    values: toStored(decoded.bytes, decoded.bytesPerSample, true, count, px),
    width,
    height,
  };
}
