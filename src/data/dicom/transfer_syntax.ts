/**
 * The DICOM transfer syntaxes this reader knows, by UID: how the pixel data
 * is stored (native little or big endian, or encapsulated and compressed)
 * and which codec decodes it.
 *
 * @module
 */

/** How a transfer syntax stores its pixel data. */
export type PixelEncoding =
  | "native"
  | "rle"
  | "jpeg-lossless"
  | "jpeg-baseline"
  | "jpeg-ls"
  | "jpeg-2000"
  | "unsupported";

/** A transfer syntax: its name and how its pixel data is decoded. */
export interface TransferSyntax {
  /** The standard's name, e.g. "RLE Lossless". */
  name: string;
  /** Which decoder its pixel data needs. */
  encoding: PixelEncoding;
  /** True for explicit VR big endian (the native pixels are big endian too). */
  bigEndian?: boolean;
}

/** Transfer syntaxes by UID (PS3.6 Annex A). */
export const TRANSFER_SYNTAXES: Readonly<Record<string, TransferSyntax>> = {
  "1.2.840.10008.1.2": { name: "Implicit VR Little Endian", encoding: "native" },
  "1.2.840.10008.1.2.1": { name: "Explicit VR Little Endian", encoding: "native" },
  "1.2.840.10008.1.2.1.99": { name: "Deflated Explicit VR Little Endian", encoding: "native" },
  "1.2.840.10008.1.2.2": {
    name: "Explicit VR Big Endian",
    encoding: "native",
    bigEndian: true,
  },
  "1.2.840.10008.1.2.5": { name: "RLE Lossless", encoding: "rle" },
  "1.2.840.10008.1.2.4.50": { name: "JPEG Baseline (Process 1)", encoding: "jpeg-baseline" },
  // Process 2 and 4 carries 8-bit (decoded here) or 12-bit data (refused by the decoder).
  "1.2.840.10008.1.2.4.51": { name: "JPEG Extended (Process 2 and 4)", encoding: "jpeg-baseline" },
  "1.2.840.10008.1.2.4.57": { name: "JPEG Lossless (Process 14)", encoding: "jpeg-lossless" },
  "1.2.840.10008.1.2.4.70": {
    name: "JPEG Lossless, First-Order Prediction (Process 14, SV1)",
    encoding: "jpeg-lossless",
  },
  "1.2.840.10008.1.2.4.80": { name: "JPEG-LS Lossless", encoding: "jpeg-ls" },
  "1.2.840.10008.1.2.4.81": { name: "JPEG-LS Near-Lossless", encoding: "jpeg-ls" },
  "1.2.840.10008.1.2.4.90": { name: "JPEG 2000 (Lossless Only)", encoding: "jpeg-2000" },
  "1.2.840.10008.1.2.4.91": { name: "JPEG 2000", encoding: "jpeg-2000" },
  "1.2.840.10008.1.2.4.201": {
    name: "High-Throughput JPEG 2000 (Lossless Only)",
    encoding: "unsupported",
  },
  "1.2.840.10008.1.2.4.202": {
    name: "High-Throughput JPEG 2000 with RPCL Lossless",
    encoding: "unsupported",
  },
  "1.2.840.10008.1.2.4.203": { name: "High-Throughput JPEG 2000", encoding: "unsupported" },
  "1.2.840.10008.1.2.4.100": { name: "MPEG2 Main Profile", encoding: "unsupported" },
  "1.2.840.10008.1.2.4.102": { name: "MPEG-4 AVC/H.264", encoding: "unsupported" },
  "1.2.840.10008.1.2.4.110": { name: "JPEG XL Lossless", encoding: "unsupported" },
  "1.2.840.10008.1.2.4.112": { name: "JPEG XL", encoding: "unsupported" },
};

/** The transfer syntax of `uid`, or an Error naming the file and the UID. */
export function transferSyntaxOf(uid: string, source: string): TransferSyntax {
  const ts = TRANSFER_SYNTAXES[uid];
  if (!ts) throw new Error(`${source}: unknown transfer syntax ${uid}: cannot decode its pixels`);
  return ts;
}
