/**
 * `importLiTSVolumes`: the LiTS challenge's NIfTI volumes (`volume-N.nii`,
 * `segmentation-N.nii`, optionally gzipped) to the course's slice layout
 * (`<out>/<split>/*.png` and `<out>/<split>_classes.csv`), split by volume so
 * that no patient's slices leak between splits.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { encodeGreyPng } from "./image_decode.ts";
import type { Image } from "./types.ts";
import { readNifti } from "./nifti.ts";
import { Rng } from "./synthetic/rng.ts";
import { type CallContract, checkContract } from "../options.ts";
import { checkShares, splitCounts } from "./split_shares.ts";

/** Options of `importLiTSVolumes`. */
export interface ImportLiTSOptions {
  /** Folder holding the challenge's files (searched recursively). */
  source: string;
  /** Output folder (created if missing). */
  out: string;
  /** HU window mapped to 0..255 (default [-200, 250]). */
  window?: [number, number];
  /** Output side in pixels (default 256, as the course). */
  size?: number;
  /** Shares of volumes for [train, val, test] (default [0.7, 0.15, 0.15]). */
  split?: [number, number, number];
  /** Seed of the volume shuffle before splitting (default 0). */
  seed?: number;
  /** Fewest liver pixels at output size for `liver_visible` (default 1). */
  minLiverPixels?: number;
  /** Fewest tumour pixels at output size for `lesion_visible` (default 1). */
  minLesionPixels?: number;
  /** Keep every n-th slice (default 1: all). */
  sliceStep?: number;
  /** Called after each volume with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** What `importLiTSVolumes` wrote. */
export interface ImportLiTSSummary {
  /** Volume ids per split. */
  volumes: Record<"train" | "val" | "test", number[]>;
  /** Slices per split. */
  slices: Record<"train" | "val" | "test", number>;
  /** Class counts over all splits [no liver, liver, liver + lesion]. */
  classCounts: number[];
}

/** Finds `volume-N` / `segmentation-N` pairs under `dir`: N -> paths. */
export async function findLiTSPairs(
  dir: string,
): Promise<Map<number, { volume: string; seg: string }>> {
  const volumes = new Map<number, string>();
  const segs = new Map<number, string>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      const m = /^(volume|segmentation)-(\d+)\.nii(\.gz)?$/.exec(e.name);
      if (e.isFile && m) (m[1] === "volume" ? volumes : segs).set(Number(m[2]), p);
    }
  };
  try {
    await walk(resolve(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${dir}: source folder not found`);
    throw e;
  }
  const pairs = new Map<number, { volume: string; seg: string }>();
  for (const [id, volume] of [...volumes].sort((a, b) => a[0] - b[0])) {
    const seg = segs.get(id);
    if (!seg) throw new Error(`${volume}: no segmentation-${id}.nii(.gz) next to it`);
    pairs.set(id, { volume, seg });
  }
  if (pairs.size === 0) throw new Error(`${dir}: no volume-N.nii(.gz) files found`);
  return pairs;
}

/**
 * A CT slice in Hounsfield units as the importer writes it to PNG:
 * box-averaged (when shrinking) or sampled (when growing) to w x h, per
 * axis, clipped to the window [lo, hi] and scaled to 0..255, rounded.
 * `predict` makes its inputs from a scan the same way.
 */
export function windowedSlice(hu: Image, w: number, h: number, window: [number, number]) {
  const { data, width: sw, height: sh } = hu;
  const [lo, hi] = window;
  const k = 255 / (hi - lo);
  const out = new Float32Array(w * h);
  for (let r = 0; r < h; r++) {
    const y0 = Math.floor((r * sh) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((r + 1) * sh) / h));
    for (let c = 0; c < w; c++) {
      const x0 = Math.floor((c * sw) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((c + 1) * sw) / w));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += data[y * sw + x];
      out[r * w + c] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  for (let i = 0; i < out.length; i++) {
    const v = out[i];
    out[i] = Math.round(((v < lo ? lo : v > hi ? hi : v) - lo) * k);
  }
  return out;
}

/** Output pixels of label >= 1 and == 2, sampling the mask at output pixel centres. */
function maskCounts(seg: Float32Array, w: number, h: number, size: number): [number, number] {
  let liver = 0;
  let tumour = 0;
  for (let r = 0; r < size; r++) {
    const y = Math.min(h - 1, Math.floor(((r + 0.5) * h) / size));
    for (let c = 0; c < size; c++) {
      const v = Math.round(seg[y * w + Math.min(w - 1, Math.floor(((c + 0.5) * w) / size))]);
      if (v >= 1) liver++;
      if (v === 2) tumour++;
    }
  }
  return [liver, tumour];
}

const IMPORT_LITS_VOLUMES: CallContract<ImportLiTSOptions> = {
  where: "data.importLiTSVolumes",
  most: 1,
  known: [
    "source",
    "out",
    "window",
    "size",
    "split",
    "seed",
    "minLiverPixels",
    "minLesionPixels",
    "sliceStep",
    "onProgress",
  ],
  usage: 'data.importLiTSVolumes({ source: "LiTS17", out: "data/lits", size: 256 })',
};

/**
 * Throws where `out` already holds a dataset: importing over it overwrote
 * its labels files and mixed old and new slices (a re-import killed half way
 * left one volume in two splits, in a folder that looked complete).
 */
async function checkEmptyTarget(out: string): Promise<void> {
  const found: string[] = [];
  for (const split of ["train", "val", "test"]) {
    const csv = join(out, `${split}_classes.csv`);
    if (await Deno.stat(csv).catch(() => null)) found.push(csv);
    try {
      for await (const _ of Deno.readDir(join(out, split))) {
        found.push(join(out, split) + "/");
        break;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  if (found.length > 0) {
    throw new Error(
      `importLiTSVolumes: ${out} already holds a dataset (${found.slice(0, 3).join(", ")}); ` +
        "importing would overwrite or mix it: delete it first, or choose another out folder",
    );
  }
}

/**
 * Converts LiTS volumes to the course's layout: each axial slice windowed to
 * 0..255, resized to `size`^2 and written as `volume-N_slice-KKK.png`; labels
 * from the segmentation at the same size (1 = liver, 2 = tumour). Volumes are
 * read one slice at a time. Slice K counts from the most inferior.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * // A 4 x 4 x 2 int16 volume and its segmentation, written as NIfTI-1.
 * const nifti = (values: number[]) => {
 *   const buf = new ArrayBuffer(352 + values.length * 2);
 *   const v = new DataView(buf);
 *   v.setInt32(0, 348, true);
 *   [3, 4, 4, 2, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
 *   v.setInt16(70, 4, true); // int16
 *   v.setInt16(72, 16, true);
 *   [1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
 *   v.setFloat32(108, 352, true);
 *   new Uint8Array(buf).set([0x6e, 0x2b, 0x31, 0], 344); // "n+1"
 *   values.forEach((x, i) => v.setInt16(352 + 2 * i, x, true));
 *   return new Uint8Array(buf);
 * };
 * const source = await Deno.makeTempDir();
 * await Deno.writeFile(`${source}/volume-0.nii`, nifti([...Array(32).keys()].map((i) => i * 10)));
 * await Deno.writeFile(`${source}/segmentation-0.nii`, nifti([...Array(32)].map((_, i) => i < 16 ? 0 : 1)));
 * const out = await Deno.makeTempDir();
 * const summary = await data.importLiTSVolumes({ source, out, size: 4, split: [1, 0, 0] });
 * console.log(summary.classCounts); // [1, 1, 0]
 * ```
 */
export async function importLiTSVolumes(options: ImportLiTSOptions): Promise<ImportLiTSSummary> {
  checkContract(IMPORT_LITS_VOLUMES, arguments.length, options);
  for (const key of ["source", "out"] as const) {
    if (typeof options?.[key] !== "string") {
      throw new Error(
        `data.importLiTSVolumes: ${key} is required (a folder); write ${IMPORT_LITS_VOLUMES.usage}`,
      );
    }
  }
  const [lo, hi] = options.window ?? [-200, 250];
  const size = options.size ?? 256;
  const step = options.sliceStep ?? 1;
  const shares = options.split ?? [0.7, 0.15, 0.15];
  const minLiver = options.minLiverPixels ?? 1;
  const minLesion = options.minLesionPixels ?? 1;
  if (!(hi > lo)) throw new RangeError(`importLiTSVolumes: window [${lo}, ${hi}] is empty`);
  if (!(Number.isInteger(size) && size >= 1)) {
    throw new RangeError(`importLiTSVolumes: size ${size}`);
  }
  if (!(Number.isInteger(step) && step >= 1)) {
    throw new RangeError(`importLiTSVolumes: sliceStep ${step}`);
  }
  checkShares(shares, "importLiTSVolumes");
  const pairs = await findLiTSPairs(options.source);
  const ids = [...pairs.keys()];
  const rng = new Rng(options.seed ?? 0, 0x11751);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  const [nTrain, nVal] = splitCounts(ids.length, shares, false);
  const groups = {
    train: ids.slice(0, nTrain),
    val: ids.slice(nTrain, nTrain + nVal),
    test: ids.slice(nTrain + nVal),
  };
  const summary: ImportLiTSSummary = {
    volumes: { train: [], val: [], test: [] },
    slices: { train: 0, val: 0, test: 0 },
    classCounts: [0, 0, 0],
  };
  const out = resolve(options.out);
  await checkEmptyTarget(out);
  let done = 0;
  for (const split of ["train", "val", "test"] as const) {
    const dir = join(out, split);
    await Deno.mkdir(dir, { recursive: true });
    const lines = ["filename,liver_visible,lesion_visible,volume,slice"];
    for (const id of groups[split].sort((a, b) => a - b)) {
      const { volume, seg } = pairs.get(id)!;
      const vol = await readNifti(volume);
      let mask = await readNifti(seg);
      if (mask.axcodes !== vol.axcodes) {
        // Reoriented each by its own header, the label would leave its tissue
        // (a mask saved with an identity affine beside an LAI image: liver on
        // the air slice). Voxel by voxel, as the challenge's arrays pair.
        console.warn(
          `${seg}: its header's orientation ${mask.axcodes} differs from ${volume}'s ` +
            `${vol.axcodes}; paired voxel by voxel, in the volume's orientation`,
        );
        mask = mask.inOrientationOf(vol);
      }
      if (vol.width !== mask.width || vol.height !== mask.height || vol.depth !== mask.depth) {
        throw new Error(
          `${seg}: ${mask.width}x${mask.height}x${mask.depth} does not match ` +
            `${volume} (${vol.width}x${vol.height}x${vol.depth})`,
        );
      }
      const masks = mask.slices();
      const rows: string[] = [];
      for await (const { index, data } of vol.slices()) {
        const next = await masks.next();
        const segSlice = !next.done && next.value.index === index
          ? next.value.data
          : await mask.readSlice(index);
        if (index % step !== 0) continue;
        const hu = { data, width: vol.width, height: vol.height };
        const pixels = new Uint8Array(windowedSlice(hu, size, size, [lo, hi]));
        const [liverPx, tumourPx] = maskCounts(segSlice, vol.width, vol.height, size);
        const lesion = tumourPx >= minLesion;
        const liver = lesion || liverPx >= minLiver;
        const name = `volume-${id}_slice-${String(index).padStart(3, "0")}.png`;
        await Deno.writeFile(join(dir, name), encodeGreyPng(pixels, size, size));
        rows.push(
          `${name},${liver ? "True" : "False"},${lesion ? "True" : "False"},${id},${index}`,
        );
        summary.classCounts[lesion ? 2 : liver ? 1 : 0]++;
      }
      await masks.return(undefined);
      vol.close();
      mask.close();
      rows.sort();
      lines.push(...rows);
      summary.volumes[split].push(id);
      summary.slices[split] += rows.length;
      options.onProgress?.(++done, ids.length);
    }
    await Deno.writeTextFile(join(out, `${split}_classes.csv`), lines.join("\n") + "\n");
  }
  return summary;
}
