/**
 * Float32 single-file NIfTI-1 volumes written by the tests (as nibabel
 * writes them: a 348-byte header, "n+1\0", data at byte 352, sform code 1),
 * for tests/persistent_dataset_test.ts, tests/cache_dataset_test.ts and
 * tests/volume_spacing_test.ts.
 *
 * @module
 */

/** The sform of a voxel size `pixdim`: no rotation, origin 0. */
export function diagonalSform(pixdim: number[]): number[][] {
  return [[pixdim[0], 0, 0, 0], [0, pixdim[1], 0, 0], [0, 0, pixdim[2], 0]];
}

/**
 * A float32 NIfTI-1 of `dims` (i fastest): voxel n is values[n], or
 * value(i, j, k) when a function; voxel size `pixdim`, affine `sform` (3 rows
 * of 4; the diagonal of `pixdim` when left out).
 */
export function encodeNifti(
  dims: number[],
  values: ArrayLike<number> | ((i: number, j: number, k: number) => number),
  pixdim: number[],
  sform: number[][] = diagonalSform(pixdim),
): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  const buf = new ArrayBuffer(352 + 4 * count);
  const v = new DataView(buf);
  v.setInt32(0, 348, true);
  [3, ...dims, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, 16, true);
  v.setInt16(72, 32, true);
  [1, ...pixdim, 1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true);
  v.setInt16(254, 1, true);
  sform.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, true)));
  new Uint8Array(buf).set([0x6e, 0x2b, 0x31, 0], 344);
  for (let n = 0; n < count; n++) {
    const value = typeof values === "function"
      ? values(
        n % dims[0],
        Math.floor(n / dims[0]) % dims[1],
        Math.floor(n / (dims[0] * dims[1])),
      )
      : values[n];
    v.setFloat32(352 + 4 * n, value, true);
  }
  return new Uint8Array(buf);
}
