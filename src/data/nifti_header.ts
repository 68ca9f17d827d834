/**
 * NIfTI-1 and NIfTI-2 headers: parsing either byte order, checking them, and
 * the voxel-to-world affine (sform, else qform, else pixel spacing) with the
 * orientation it implies.
 *
 * @module
 */

/** The voxel types the reader supports, by NIfTI datatype code. */
export const NIFTI_DATATYPES: Readonly<Record<number, { name: string; bytes: number }>> = {
  2: { name: "uint8", bytes: 1 },
  4: { name: "int16", bytes: 2 },
  8: { name: "int32", bytes: 4 },
  16: { name: "float32", bytes: 4 },
  64: { name: "float64", bytes: 8 },
  256: { name: "int8", bytes: 1 },
  512: { name: "uint16", bytes: 2 },
  768: { name: "uint32", bytes: 4 },
};

/** A parsed NIfTI header (the fields this library uses). */
export interface NiftiHeader {
  /** 1 or 2. */
  version: 1 | 2;
  /** Byte order of the file. */
  littleEndian: boolean;
  /** Size of each dimension, `dim[1..dim[0]]` (x, y, z, t, ...). */
  dims: number[];
  /** Voxel spacing per dimension (`pixdim[1..]`). */
  pixdim: number[];
  /** Datatype code (see `NIFTI_DATATYPES`). */
  datatype: number;
  /** Bits per voxel. */
  bitpix: number;
  /** Byte offset of the voxel data. */
  voxOffset: number;
  /** Value scaling: value = raw * slope + inter (slope 0 or NaN: no scaling). */
  sclSlope: number;
  /** Value offset. */
  sclInter: number;
  /** qform and sform codes (0 = unset). */
  qformCode: number;
  /** sform code. */
  sformCode: number;
  /** The 3x4 voxel-to-world (RAS+ mm) affine, row-major. */
  affine: number[][];
  /** Description text. */
  descrip: string;
  /** Header size in bytes (348 or 540). */
  headerSize: number;
}

/** Reads and checks a header from the first bytes of a file; `source` names the file in errors. */
export function parseNiftiHeader(bytes: Uint8Array, source: string): NiftiHeader {
  const bad = (what: string) => new Error(`${source}: bad NIfTI header: ${what}`);
  if (bytes.length < 348) throw bad(`file has ${bytes.length} bytes, a header needs 348`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let littleEndian = true;
  let size = view.getInt32(0, true);
  if (size !== 348 && size !== 540) {
    littleEndian = false;
    size = view.getInt32(0, false);
  }
  if (size !== 348 && size !== 540) {
    throw bad(`sizeof_hdr is ${view.getInt32(0, true)}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`);
  }
  const le = littleEndian;
  const text = (at: number, n: number) => {
    const raw = bytes.subarray(at, at + n);
    const end = raw.indexOf(0);
    return new TextDecoder("latin1").decode(end < 0 ? raw : raw.subarray(0, end));
  };
  let h: Omit<NiftiHeader, "affine" | "dims" | "pixdim"> & { dim: number[]; pix: number[] };
  let quat: number[];
  let srow: number[][];
  if (size === 348) {
    const magic = text(344, 4);
    if (magic !== "n+1" && magic !== "ni1") {
      throw bad(`magic is ${JSON.stringify(magic)}, expected "n+1"`);
    }
    h = {
      version: 1,
      littleEndian,
      dim: Array.from({ length: 8 }, (_, i) => view.getInt16(40 + 2 * i, le)),
      pix: Array.from({ length: 8 }, (_, i) => view.getFloat32(76 + 4 * i, le)),
      datatype: view.getInt16(70, le),
      bitpix: view.getInt16(72, le),
      voxOffset: view.getFloat32(108, le),
      sclSlope: view.getFloat32(112, le),
      sclInter: view.getFloat32(116, le),
      qformCode: view.getInt16(252, le),
      sformCode: view.getInt16(254, le),
      descrip: text(148, 80),
      headerSize: 348,
    };
    quat = Array.from({ length: 6 }, (_, i) => view.getFloat32(256 + 4 * i, le));
    srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => view.getFloat32(280 + 16 * r + 4 * c, le)));
  } else {
    if (bytes.length < 540) throw bad(`file has ${bytes.length} bytes, a NIfTI-2 header needs 540`);
    const magic = text(4, 8);
    if (!magic.startsWith("n+2") && !magic.startsWith("ni2")) {
      throw bad(`magic is ${JSON.stringify(magic.slice(0, 3))}, expected "n+2"`);
    }
    const i64 = (at: number) => Number(view.getBigInt64(at, le));
    h = {
      version: 2,
      littleEndian,
      dim: Array.from({ length: 8 }, (_, i) => i64(16 + 8 * i)),
      pix: Array.from({ length: 8 }, (_, i) => view.getFloat64(104 + 8 * i, le)),
      datatype: view.getInt16(12, le),
      bitpix: view.getInt16(14, le),
      voxOffset: i64(168),
      sclSlope: view.getFloat64(176, le),
      sclInter: view.getFloat64(184, le),
      qformCode: view.getInt32(344, le),
      sformCode: view.getInt32(348, le),
      descrip: text(240, 80),
      headerSize: 540,
    };
    quat = Array.from({ length: 6 }, (_, i) => view.getFloat64(352 + 8 * i, le));
    srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => view.getFloat64(400 + 32 * r + 8 * c, le)));
  }
  const rank = h.dim[0];
  if (!(rank >= 1 && rank <= 7)) throw bad(`dim[0] is ${rank}, expected 1..7`);
  const dims = h.dim.slice(1, 1 + rank);
  if (dims.some((d) => !(Number.isSafeInteger(d) && d >= 1))) {
    throw bad(`dimensions ${dims.join("x")} must all be >= 1`);
  }
  const type = NIFTI_DATATYPES[h.datatype];
  if (!type) {
    throw bad(
      `datatype ${h.datatype} is not supported (uint8, int16, int32, float32, float64, int8, uint16, uint32)`,
    );
  }
  if (h.bitpix !== 8 * type.bytes) {
    throw bad(`bitpix ${h.bitpix} does not match datatype ${type.name}`);
  }
  if (!(Number.isSafeInteger(h.voxOffset) && h.voxOffset >= 0)) {
    throw bad(`vox_offset ${h.voxOffset} is not a byte offset`);
  }
  const pixdim = h.pix.slice(1, 1 + rank).map((
    v,
  ) => (Number.isFinite(v) && v !== 0 ? Math.abs(v) : 1));
  const { dim: _d, pix: _p, ...rest } = h;
  return { ...rest, dims, pixdim, affine: affineOf(h, pixdim, quat, srow) };
}

/** The best affine, as nibabel picks it: sform, then qform, then spacing alone. */
function affineOf(
  h: { sformCode: number; qformCode: number; pix: number[]; dim: number[] },
  pixdim: number[],
  quat: number[],
  srow: number[][],
): number[][] {
  const [dx, dy, dz] = [pixdim[0] ?? 1, pixdim[1] ?? 1, pixdim[2] ?? 1];
  if (h.sformCode !== 0) return srow;
  if (h.qformCode !== 0) {
    const [b, c, d, qx, qy, qz] = quat;
    const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
    const qfac = h.pix[0] < 0 ? -1 : 1;
    const R = [
      [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
      [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
      [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
    ];
    return R.map((row, r) => [row[0] * dx, row[1] * dy, row[2] * dz * qfac, [qx, qy, qz][r]]);
  }
  // No orientation stored: nibabel's (and Analyze's) default, x flipped
  // (radiological storage) and the volume centred on the origin.
  const n = [h.dim[1] ?? 1, h.dim[2] ?? 1, h.dim[3] ?? 1];
  return [
    [-dx, 0, 0, dx * (n[0] - 1) / 2],
    [0, dy, 0, -dy * (n[1] - 1) / 2],
    [0, 0, dz, -dz * (n[2] - 1) / 2],
  ];
}

/**
 * For each voxel axis i, j, k: the world axis it runs along most (0 = x
 * R/L, 1 = y A/P, 2 = z S/I) and its sign, as nibabel's `io_orientation`
 * assigns them (each world axis used once). `axcodes` names the direction of
 * increasing index ("R", "A", "S" or "L", "P", "I").
 */
export function orientationOf(
  affine: number[][],
): { world: number[]; sign: number[]; axcodes: string } {
  const cols = [0, 1, 2].map((j) => [0, 1, 2].map((r) => affine[r][j]));
  const world = [-1, -1, -1];
  const sign = [1, 1, 1];
  const used = new Set<number>();
  // Assign greedily by the largest remaining direction cosine.
  const cands: [number, number, number][] = [];
  cols.forEach((c, j) => {
    const norm = Math.hypot(...c) || 1;
    c.forEach((v, r) => cands.push([Math.abs(v) / norm, j, r]));
  });
  cands.sort((a, b) => b[0] - a[0]);
  for (const [, j, r] of cands) {
    if (world[j] >= 0 || used.has(r)) continue;
    world[j] = r;
    used.add(r);
    sign[j] = cols[j][r] < 0 ? -1 : 1;
  }
  const names = [["R", "L"], ["A", "P"], ["S", "I"]];
  const axcodes = world.map((r, j) => names[r][sign[j] > 0 ? 0 : 1]).join("");
  return { world, sign, axcodes };
}
