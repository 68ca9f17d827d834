/**
 * DICOM: one image (`readDicom`) or one series from a folder
 * (`readDicomSeries`), in real units (Hounsfield units for CT).
 *
 * @module
 */
export type { DicomImage, DicomMeta, DicomSeries } from "./types.ts";
export { readDicom, type ReadDicomOptions } from "./read.ts";
export { readDicomSeries, type ReadDicomSeriesOptions } from "./series.ts";
export { type PixelEncoding, TRANSFER_SYNTAXES, type TransferSyntax } from "./transfer_syntax.ts";
