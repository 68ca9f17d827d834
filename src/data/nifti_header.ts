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

/** A field's place in a header: its byte offset and stored type. */
type Field = readonly [offset: number, type: "i16" | "i32" | "i64" | "f32" | "f64"];

/**
 * The fields' places in NIfTI-1 (348 bytes) and NIfTI-2 (540 bytes): the
 * same fields, at other offsets and mostly in wider types. An array's values
 * follow one another from its offset (srow: 3 rows of 4).
 */
const FIELDS = {
  dim: [[40, "i16"], [16, "i64"]],
  pix: [[76, "f32"], [104, "f64"]],
  datatype: [[70, "i16"], [12, "i16"]],
  bitpix: [[72, "i16"], [14, "i16"]],
  voxOffset: [[108, "f32"], [168, "i64"]],
  sclSlope: [[112, "f32"], [176, "f64"]],
  sclInter: [[116, "f32"], [184, "f64"]],
  qformCode: [[252, "i16"], [344, "i32"]],
  sformCode: [[254, "i16"], [348, "i32"]],
  quat: [[256, "f32"], [352, "f64"]],
  srow: [[280, "f32"], [400, "f64"]],
} as const satisfies Record<string, readonly [nifti1: Field, nifti2: Field]>;

const WIDTH = { i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 } as const;

/** Value `i` of a field (0 for a scalar). */
function readField(view: DataView, [at, type]: Field, le: boolean, i: number): number {
  const o = at + i * WIDTH[type];
  switch (type) {
    case "i16":
      return view.getInt16(o, le);
    case "i32":
      return view.getInt32(o, le);
    case "i64":
      return Number(view.getBigInt64(o, le));
    case "f32":
      return view.getFloat32(o, le);
    case "f64":
      return view.getFloat64(o, le);
  }
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
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      throw bad("the file is gzip-compressed: name it .nii.gz (or gunzip it)");
    }
    throw bad(`sizeof_hdr is ${view.getInt32(0, true)}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`);
  }
  const text = (at: number, n: number) => {
    const raw = bytes.subarray(at, at + n);
    const end = raw.indexOf(0);
    return new TextDecoder("latin1").decode(end < 0 ? raw : raw.subarray(0, end));
  };
  const version: 1 | 2 = size === 348 ? 1 : 2;
  if (version === 1) {
    const magic = text(344, 4);
    if (magic !== "n+1" && magic !== "ni1") {
      throw bad(`magic is ${JSON.stringify(magic)}, expected "n+1"`);
    }
  } else {
    if (bytes.length < 540) throw bad(`file has ${bytes.length} bytes, a NIfTI-2 header needs 540`);
    const magic = text(4, 8);
    if (!magic.startsWith("n+2") && !magic.startsWith("ni2")) {
      throw bad(`magic is ${JSON.stringify(magic.slice(0, 3))}, expected "n+2"`);
    }
  }
  const get = (name: keyof typeof FIELDS, i = 0) =>
    readField(view, FIELDS[name][version - 1], littleEndian, i);
  const many = (name: keyof typeof FIELDS, n: number) =>
    Array.from({ length: n }, (_, i) => get(name, i));
  const h = {
    version,
    littleEndian,
    dim: many("dim", 8),
    pix: many("pix", 8),
    datatype: get("datatype"),
    bitpix: get("bitpix"),
    voxOffset: get("voxOffset"),
    sclSlope: get("sclSlope"),
    sclInter: get("sclInter"),
    qformCode: get("qformCode"),
    sformCode: get("sformCode"),
    descrip: text(version === 1 ? 148 : 240, 80),
    headerSize: size,
  };
  // A valid slope with an intercept that is not a number leaves the values
  // unknown (nibabel refuses it too), where a slope of 0 or NaN means none.
  if (Number.isFinite(h.sclSlope) && h.sclSlope !== 0 && !Number.isFinite(h.sclInter)) {
    throw bad(`scl_slope is ${h.sclSlope} but scl_inter is ${h.sclInter}: the scaling is unknown`);
  }
  const quat = many("quat", 6);
  const s = many("srow", 12);
  const srow = [0, 4, 8].map((r) => s.slice(r, r + 4));
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
