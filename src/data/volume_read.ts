/**
 * `VolumeDataset`'s read of one item: MONAI's `LoadImage` (NibabelReader)
 * + `EnsureChannelFirst`, then `Orientation` and `Spacing`, from one NIfTI
 * file or a list of them, as a [C, D, H, W] volume.
 *
 * Channels, as MONAI 1.3 makes them:
 * - a list of files is stacked as channels, in order (NibabelReader's
 *   `_stack_images`); every file must have the first one's spatial shape
 *   and affine (its `_copy_compatible_dict`: `np.allclose`, rtol 1e-5, atol
 *   1e-8, else a RuntimeError; here an Error naming both files and what
 *   differs);
 * - a file's 4th dimension ([X, Y, Z, T], NIfTI's dim[0] = 4) becomes its
 *   channels ([T, X, Y, Z]: `EnsureChannelFirst` moves nibabel's last axis
 *   first), and so does NIfTI's 5th, the vector dimension, when dim[4] is 1
 *   ([X, Y, Z, 1, C], as NibabelReader with `squeeze_non_spatial_dims`);
 *   two non-spatial dimensions above 1 are refused;
 * - a list of 4-D files is concatenated along their channels (MONAI's
 *   `np.concatenate` at the channel axis); a list may also mix 3-D and
 *   4-D files (C is the sum of the files' channels, in file order), where
 *   MONAI concatenates [X, Y, Z, 1] with [X, Y, Z, T] files and refuses a
 *   3-D file among 4-D ones: every file is on the one checked grid, so the
 *   channels cannot be misaligned.
 *
 * One resampling grid for all channels: orientation and spacing come from
 * the first file's affine (MONAI keeps the first file's metadata).
 *
 * @module
 */
import { type NiftiVolume, readNifti } from "./nifti.ts";
import type { Volume } from "./types.ts";
import { gatherVoxels } from "./volume_gather.ts";
import { axcodesToOrnt, ioOrientation, type Ornt, orntTransform } from "./volume_orientation.ts";
import { resampleToSpacing, type SpacingSpec } from "./volume_spacing.ts";

/** `np.allclose`'s default tolerances, which MONAI's check of a list's affines uses. */
const RTOL = 1e-5, ATOL = 1e-8;

/** The channels of one file: its one non-spatial dimension above 1, or 1. */
function channelsOf(path: string, dims: readonly number[]): number {
  if (dims.length < 3) {
    throw new Error(
      `${path} is a ${dims.length}-D NIfTI (${dims.join("x")}); VolumeDataset reads 3-D volumes`,
    );
  }
  const many = dims.map((d, a) => [d, a + 1]).slice(3).filter(([d]) => d > 1);
  if (many.length > 1) {
    throw new Error(
      `${path} is a ${dims.length}-D NIfTI (${dims.join("x")}): dimensions ` +
        `${many.map(([, a]) => a).join(" and ")} are both above 1; VolumeDataset reads one ` +
        `non-spatial dimension as channels (the 4th, or NIfTI's 5th with dim[4] = 1): split ` +
        `the file so that one of them remains`,
    );
  }
  return many.length > 0 ? many[0][0] : 1;
}

/** "[[a, b, c, d], ...]" with 6 significant digits, for the messages. */
function showAffine(affine: number[][]): string {
  return `[${affine.map((row) => `[${row.map((v) => +v.toPrecision(6)).join(", ")}]`).join(", ")}]`;
}

/**
 * Throws unless every file of a list agrees with the first (MONAI's
 * `_copy_compatible_dict`: affine, then spatial shape).
 */
function checkList(vols: readonly NiftiVolume[]): void {
  const first = vols[0];
  const shape0 = first.header.dims.slice(0, 3), a0 = first.header.affine;
  vols.forEach((v, f) => {
    if (f === 0) return;
    const both = `image ${f} (${v.path}) and image 0 (${first.path})`;
    const shape = v.header.dims.slice(0, 3);
    const sameShape = shape.every((n, a) => n === shape0[a]);
    const a = v.header.affine;
    const sameAffine = a.every((row, r) =>
      row.every((x, c) => Math.abs(x - a0[r][c]) <= ATOL + RTOL * Math.abs(a0[r][c]))
    );
    const stack = "an item's files are stacked as channels of one grid (MONAI's LoadImage)";
    if (!sameShape) {
      throw new Error(
        `${both} differ in spatial shape: ${shape.join("x")} vs ${shape0.join("x")}` +
          (sameAffine ? "" : ", and in affine") +
          `; ${stack}: resample them onto one grid first (e.g. with MONAI's ResampleToMatch) ` +
          `or give them to separate items`,
      );
    }
    if (!sameAffine) {
      throw new Error(
        `${both} differ in affine (voxel-to-world): ${showAffine(a)} vs ${showAffine(a0)} ` +
          `(MONAI's np.allclose: rtol 1e-5, atol 1e-8); ${stack}, and voxels of ` +
          `misaligned files would be paired as if they were the same place: resample one ` +
          `onto the other's grid first (e.g. with MONAI's ResampleToMatch)`,
      );
    }
  });
}

/**
 * @internal The voxels of one item's NIfTI file(s) as [C, D, H, W]: the
 * files' index order [i, j, k] (MONAI's and nibabel's), or with `axcodes`
 * reoriented as MONAI's `Orientation(axcodes)` (flips and an axis
 * permutation from the first file's affine, as nibabel's `ornt_transform`),
 * with the voxel spacing along D, H, W (`pixdim` permuted alike), then
 * resampled as MONAI's `Spacing` when `resample` is given (every channel
 * on one grid).
 */
export async function readVolume(
  paths: string | readonly string[],
  axcodes: string | null,
  resample: SpacingSpec | null,
): Promise<Volume> {
  const list = typeof paths === "string" ? [paths] : paths;
  const opened = await Promise.allSettled(list.map((p) => readNifti(p)));
  const vols = opened.flatMap((o) => o.status === "fulfilled" ? [o.value] : []);
  try {
    const failed = opened.find((o) => o.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const channels = vols.map((v) => channelsOf(v.path, v.header.dims));
    if (vols.length > 1) checkList(vols);
    const vol = vols[0];
    const { dims, pixdim, affine } = vol.header;
    const n = [dims[0], dims[1], dims[2]];
    const fileStride = [1, n[0], n[0] * n[1]];
    // Per file axis: the output axis it becomes and whether it is reversed.
    let to: Ornt = [[0, 1], [1, 1], [2, 1]];
    if (axcodes !== null) {
      const from = ioOrientation(affine);
      const lost = from.findIndex((o) => o === null);
      if (lost >= 0) {
        throw new Error(
          `${vol.path}: the affine maps voxel axis ${lost} to no direction ` +
            `(${JSON.stringify(affine.map((r) => r.slice(0, 3)))}), so it has no orientation; ` +
            `leave orientation out to read the file's order`,
        );
      }
      to = orntTransform(from as Ornt, axcodesToOrnt(axcodes));
    }
    const size = [0, 0, 0], stride = [0, 0, 0], spacing: [number, number, number] = [1, 1, 1];
    // The affine after reorientation (nibabel's affine @ inv_ornt_aff), for Spacing.
    const moved = affine.map((row) => [0, 0, 0, row[3]]);
    let base = 0;
    to.forEach(([o, sign], f) => {
      size[o] = n[f];
      spacing[o] = pixdim[f] ?? 1;
      stride[o] = sign * fileStride[f];
      if (sign < 0) base += (n[f] - 1) * fileStride[f];
      moved.forEach((row, r) => {
        row[o] = sign * affine[r][f];
        if (sign < 0) row[3] += (n[f] - 1) * affine[r][f];
      });
    });
    const count = channels.reduce((a, b) => a + b, 0);
    let data: Float32Array;
    if (count === 1) data = gatherVoxels(await vol.rawFileOrder(), base, size, stride);
    else {
      // File after file (one file's raw voxels in memory at a time), channel after channel.
      const per = n[0] * n[1] * n[2];
      data = new Float32Array(count * per);
      let at = 0;
      for (let f = 0; f < vols.length; f++) {
        const raw = await vols[f].rawFileOrder(0, channels[f]);
        for (let c = 0; c < channels[f]; c++, at += per) {
          gatherVoxels(raw, base + c * per, size, stride, data.subarray(at, at + per));
        }
      }
    }
    const volume: Volume = {
      data,
      channels: count,
      depth: size[0],
      height: size[1],
      width: size[2],
      spacing,
    };
    if (!resample) return volume;
    return count === 1
      ? { ...resampleToSpacing(volume, moved, resample), channels: 1 }
      : resampleChannels(volume, moved, resample);
  } finally {
    for (const v of vols) v.close();
  }
}

/** MONAI's `Spacing` on every channel of `v`, one grid for all. */
function resampleChannels(v: Volume, affine: number[][], spec: SpacingSpec): Volume {
  const c = v.channels ?? 1, per = v.depth * v.height * v.width;
  let data: Float32Array | null = null;
  let out: Volume | null = null;
  for (let k = 0; k < c; k++) {
    const one = { ...v, data: v.data.subarray(k * per, (k + 1) * per), channels: 1 };
    const r = resampleToSpacing(one, affine, spec);
    if (r.data === one.data) return { ...v, spacing: r.spacing }; // MONAI changes nothing
    data ??= new Float32Array(c * r.data.length);
    data.set(r.data, k * r.data.length);
    out = r;
  }
  return { ...out!, data: data!, channels: c };
}
