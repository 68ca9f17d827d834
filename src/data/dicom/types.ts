/**
 * The shapes `readDicom` and `readDicomSeries` return.
 *
 * @module
 */

/** Header fields of one DICOM image; a field the file lacks is null. */
export interface DicomMeta {
  /** (0008,0060), e.g. "CT", "MR". */
  modality: string | null;
  /** (0018,5100), e.g. "HFS" (head first, supine). */
  patientPosition: string | null;
  /** (0020,0032) ImagePositionPatient: the centre of the first pixel, in mm. */
  imagePosition: number[] | null;
  /** (0020,0037) ImageOrientationPatient: row then column direction cosines. */
  imageOrientation: number[] | null;
  /** (0028,0030) PixelSpacing in mm: [between rows, between columns]. */
  pixelSpacing: [number, number] | null;
  /** (0018,0050) in mm. */
  sliceThickness: number | null;
  /** (0020,000E). */
  seriesInstanceUid: string | null;
  /** (0020,0013). */
  instanceNumber: number | null;
  /** (0028,1050), the first value if there are several. */
  windowCenter: number | null;
  /** (0028,1051), the first value if there are several. */
  windowWidth: number | null;
  /** (0028,1053); null means 1 was used. */
  rescaleSlope: number | null;
  /** (0028,1052); null means 0 was used. */
  rescaleIntercept: number | null;
  /** (0002,0010) transfer syntax UID, e.g. "1.2.840.10008.1.2.5" (RLE Lossless). */
  transferSyntax: string;
  /** (0028,0004), "MONOCHROME2" or "MONOCHROME1" (values are never inverted here). */
  photometricInterpretation: string | null;
  /** (0028,0008) NumberOfFrames; 1 for a single-frame file. */
  frames: number;
  /** Which frame `data` holds (0-based). */
  frame: number;
}

/** One DICOM image: `width * height` values, row-major. */
export interface DicomImage {
  /**
   * Stored values x RescaleSlope + RescaleIntercept: Hounsfield units for
   * CT, the stored values when the file has no rescale.
   */
  data: Float32Array;
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** Header fields. */
  meta: DicomMeta;
}

/** The slices of one series, sorted along the slice normal. */
export interface DicomSeries {
  /** Slices from the lowest to the highest position along the normal. */
  slices: DicomImage[];
  /** Each slice's position along the normal (row x column cosines), in mm. */
  positions: number[];
  /** The typical (median) distance between neighbouring slices, in mm. */
  spacing: number;
  /** (0020,000E) of the series. */
  seriesInstanceUid: string | null;
  /** The path of each slice's file, in the order of `slices`. */
  files: string[];
  /** Skipped files, uneven gaps and missing slices, one sentence each. */
  warnings: string[];
}
