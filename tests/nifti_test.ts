/**
 * readNifti against nibabel (real files from nibabel's test data), against
 * volumes written here in every supported datatype, version and byte order
 * with known orientation, bad headers, and importLiTSVolumes end to end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { data } from "../mod.ts";

const { readNifti, importLiTSVolumes, LiTSDataset } = data;
const FIXTURES = new URL("./fixtures/nifti/", import.meta.url);

interface Expected {
  version: number;
  littleEndian: boolean;
  width: number;
  height: number;
  depth: number;
  frames: number;
  axcodes: string;
  sliceSums: number[];
  middle: number;
  middleValues: (number | null)[];
}

Deno.test("readNifti matches nibabel on its own test files", async () => {
  const expected: Record<string, Expected> = JSON.parse(
    await Deno.readTextFile(new URL("expected.json", FIXTURES)),
  );
  for (const [name, e] of Object.entries(expected)) {
    const vol = await readNifti(new URL(name, FIXTURES).pathname);
    assert.equal(vol.header.version, e.version, name);
    assert.equal(vol.header.littleEndian, e.littleEndian, name);
    assert.deepEqual([vol.width, vol.height, vol.depth, vol.frames], [
      e.width,
      e.height,
      e.depth,
      e.frames,
    ], name);
    assert.equal(vol.axcodes, e.axcodes, name);
    const sums = new Array(vol.depth).fill(NaN);
    for await (const { index, data: px } of vol.slices()) {
      sums[index] = px.reduce((s, v) => (Number.isNaN(v) ? s : s + v), 0);
    }
    sums.forEach((s, i) => {
      assert.ok(
        Math.abs(s - e.sliceSums[i]) <= 1e-4 * Math.max(1, Math.abs(e.sliceSums[i])),
        `${name} slice ${i}`,
      );
    });
    const mid = await vol.readSlice(e.middle);
    mid.forEach((v, i) => {
      const want = e.middleValues[i];
      if (want === null) assert.ok(Number.isNaN(v), `${name} [${i}] should be NaN`);
      else {assert.ok(
          Math.abs(v - want) <= 1e-4 * Math.max(1, Math.abs(want)),
          `${name} [${i}]: ${v} vs ${want}`,
        );}
    });
  }
});

type DType = "uint8" | "int8" | "int16" | "uint16" | "int32" | "uint32" | "float32" | "float64";
const CODES: Record<DType, [number, number]> = {
  uint8: [2, 1],
  int8: [256, 1],
  int16: [4, 2],
  uint16: [512, 2],
  int32: [8, 4],
  uint32: [768, 4],
  float32: [16, 4],
  float64: [64, 8],
};

interface WriteOptions {
  version?: 1 | 2;
  littleEndian?: boolean;
  dtype?: DType;
  dims: number[];
  values: number[];
  slope?: number;
  inter?: number;
  /** 3x4 sform (sform_code 1); default identity. */
  sform?: number[][];
}

/** Encodes a single-file NIfTI-1 or NIfTI-2 image. */
function encodeNifti(o: WriteOptions): Uint8Array {
  const v2 = o.version === 2;
  const le = o.littleEndian ?? true;
  const [code, bytes] = CODES[o.dtype ?? "int16"];
  const hsize = v2 ? 540 : 348;
  const offset = hsize + 4;
  const buf = new ArrayBuffer(offset + o.values.length * bytes);
  const v = new DataView(buf);
  const u8 = new Uint8Array(buf);
  const sform = o.sform ?? [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]];
  const dim = [o.dims.length, ...o.dims, ...Array(7 - o.dims.length).fill(1)];
  if (!v2) {
    v.setInt32(0, 348, le);
    dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
    v.setInt16(70, code, le);
    v.setInt16(72, bytes * 8, le);
    [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
    v.setFloat32(108, offset, le);
    v.setFloat32(112, o.slope ?? 0, le);
    v.setFloat32(116, o.inter ?? 0, le);
    v.setInt16(254, 1, le);
    sform.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, le)));
    u8.set([0x6e, 0x2b, 0x31, 0], 344);
  } else {
    v.setInt32(0, 540, le);
    u8.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
    v.setInt16(12, code, le);
    v.setInt16(14, bytes * 8, le);
    dim.forEach((d, i) => v.setBigInt64(16 + 8 * i, BigInt(d), le));
    [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, i) => v.setFloat64(104 + 8 * i, p, le));
    v.setBigInt64(168, BigInt(offset), le);
    v.setFloat64(176, o.slope ?? 0, le);
    v.setFloat64(184, o.inter ?? 0, le);
    v.setInt32(348, 1, le);
    sform.forEach((row, r) => row.forEach((x, c) => v.setFloat64(400 + 32 * r + 8 * c, x, le)));
  }
  const put: Record<DType, (at: number, x: number) => void> = {
    uint8: (at, x) => v.setUint8(at, x),
    int8: (at, x) => v.setInt8(at, x),
    int16: (at, x) => v.setInt16(at, x, le),
    uint16: (at, x) => v.setUint16(at, x, le),
    int32: (at, x) => v.setInt32(at, x, le),
    uint32: (at, x) => v.setUint32(at, x, le),
    float32: (at, x) => v.setFloat32(at, x, le),
    float64: (at, x) => v.setFloat64(at, x, le),
  };
  o.values.forEach((x, i) => put[o.dtype ?? "int16"](offset + i * bytes, x));
  return u8;
}

/**
 * A 5 x 4 x 3 volume whose voxel value tells its world position: with an
 * integer sform, value = 100 X + 10 Y + Z + 111 (X, Y, Z in 0..4 after the
 * affine). In radiological view X must fall along each row, Y fall down each
 * column and Z rise with the slice index, whatever the storage order.
 */
function worldVolume(sform: number[][], dims = [5, 4, 3]): number[] {
  const values: number[] = [];
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        const [X, Y, Z] = sform.map((r) => r[0] * i + r[1] * j + r[2] * k + r[3]);
        values.push(100 * X + 10 * Y + Z + 111);
      }
    }
  }
  return values;
}

async function write(bytes: Uint8Array, name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nifti_" });
  const path = join(dir, name);
  await Deno.writeFile(path, name.endsWith(".gz") ? gzipSync(bytes) : bytes);
  return path;
}

function checkRadiological(slices: Float32Array[], w: number, h: number): void {
  const dec = (v: number) => ({ X: Math.floor(v / 100), Y: Math.floor(v / 10) % 10, Z: v % 10 });
  slices.forEach((s, z) => {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const p = dec(s[r * w + c] - 111);
        if (c > 0) {
          assert.ok(p.X < dec(s[r * w + c - 1] - 111).X, `X must fall along a row (slice ${z})`);
        }
        if (r > 0) {
          assert.ok(
            p.Y < dec(s[(r - 1) * w + c] - 111).Y,
            `Y must fall down a column (slice ${z})`,
          );
        }
        if (z > 0) {
          assert.ok(
            p.Z > dec(slices[z - 1][r * w + c] - 111).Z,
            "Z must rise with the slice index",
          );
        }
      }
    }
  });
}

Deno.test("readNifti: every datatype, both versions and byte orders, scaling, gzip", async () => {
  const values = [0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103];
  const scaled = (x: number, slope: number, inter: number) => (slope ? x * slope + inter : x);
  for (const dtype of Object.keys(CODES) as DType[]) {
    for (const version of [1, 2] as const) {
      for (const littleEndian of [true, false]) {
        for (const [slope, inter] of [[0, 0], [2, -1024]]) {
          for (const name of ["v.nii", "v.nii.gz"]) {
            const path = await write(
              encodeNifti({ version, littleEndian, dtype, dims: [3, 2, 2], values, slope, inter }),
              name,
            );
            const vol = await readNifti(path);
            const what = `${dtype} v${version} ${
              littleEndian ? "LE" : "BE"
            } slope ${slope} ${name}`;
            assert.equal(vol.header.version, version, what);
            assert.equal(vol.header.littleEndian, littleEndian, what);
            const got: number[] = [];
            for await (const s of vol.slices()) got[s.index] = s.data.reduce((a, b) => a + b, 0);
            // Identity sform is RAS: columns and rows are flipped, slices kept.
            const want = [0, 1].map((k) =>
              values.slice(6 * k, 6 * k + 6).reduce((a, x) => a + scaled(x, slope, inter), 0)
            );
            assert.deepEqual(got, want, what);
            const first = await vol.readSlice(0);
            assert.deepEqual(
              [...first],
              [5, 4, 3, 2, 1, 0].map((x) => scaled(x, slope, inter)),
              what,
            );
          }
        }
      }
    }
  }
});

Deno.test("readNifti orients slices from the header: flips and permuted axes", async () => {
  const affines: number[][][] = [
    [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], // RAS
    [[-1, 0, 0, 4], [0, -1, 0, 3], [0, 0, 1, 0]], // LPS (DICOM-like)
    [[-1, 0, 0, 4], [0, 1, 0, 0], [0, 0, -1, 2]], // LAI: slices stored top-down
    [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0]], // i and j swapped (ARS)
    [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]], // slice axis first (sagittal-like storage)
  ];
  for (const sform of affines) {
    const dims = [5, 4, 3];
    for (const name of ["o.nii", "o.nii.gz"]) {
      const path = await write(
        encodeNifti({ dims, values: worldVolume(sform, dims), sform }),
        name,
      );
      const vol = await readNifti(path);
      const streamed: Float32Array[] = [];
      for await (const s of vol.slices()) streamed[s.index] = s.data;
      const random = await Promise.all([...Array(vol.depth).keys()].map((i) => vol.readSlice(i)));
      assert.deepEqual(streamed, random, `${JSON.stringify(sform)} ${name}`);
      checkRadiological(streamed, vol.width, vol.height);
      vol.close();
    }
  }
});

Deno.test("readNifti reports bad headers and truncated data by file", async () => {
  const good = encodeNifti({ dims: [2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8] });
  const mutate = (f: (v: DataView, u: Uint8Array) => void) => {
    const u = good.slice();
    f(new DataView(u.buffer), u);
    return u;
  };
  const cases: [Uint8Array, string, RegExp][] = [
    [mutate((v) => v.setInt32(0, 123, true)), "a.nii", /bad NIfTI header: sizeof_hdr/],
    [mutate((_, u) => u.set([0x78, 0x78, 0x78], 344)), "b.nii", /bad NIfTI header: magic/],
    [mutate((v) => v.setInt16(40, 0, true)), "c.nii", /bad NIfTI header: dim\[0\]/],
    [mutate((v) => v.setInt16(44, -3, true)), "d.nii", /bad NIfTI header: dimensions/],
    [mutate((v) => v.setInt16(70, 32, true)), "e.nii", /bad NIfTI header: datatype 32/],
    [mutate((v) => v.setInt16(72, 8, true)), "f.nii", /bad NIfTI header: bitpix/],
    [mutate((v) => v.setFloat32(108, 100, true)), "g.nii", /bad NIfTI header: vox_offset/],
    [good.subarray(0, good.length - 3), "h.nii", /truncated/],
    [good.subarray(0, 100), "i.nii", /bad NIfTI header: file is too short/],
    // gzip under a plain .nii name: said, not "sizeof_hdr is 559903".
    [gzipSync(good), "l.nii", /bad NIfTI header: the file is gzip-compressed: name it \.nii\.gz/],
    // A slope with an intercept that is not a number: unknown values (nibabel refuses it too).
    [
      encodeNifti({ dims: [2, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8], slope: 2, inter: NaN }),
      "m.nii",
      /bad NIfTI header: scl_slope is 2 but scl_inter is NaN/,
    ],
  ];
  for (const [bytes, name, re] of cases) {
    const path = await write(bytes, name);
    await assert.rejects(() => readNifti(path), (e: Error) => {
      assert.match(e.message, re);
      assert.ok(e.message.includes(path), e.message);
      return true;
    });
  }
  // A truncated gzip shows up when the slices are read.
  const gz = await write(good.subarray(0, good.length - 4), "j.nii.gz");
  const vol = await readNifti(gz);
  await assert.rejects(async () => {
    for await (const _ of vol.slices()) { /* read all */ }
  }, /j\.nii\.gz: file is truncated/);
  const corrupt = join(await Deno.makeTempDir(), "k.nii.gz");
  await Deno.writeFile(corrupt, gzipSync(good).subarray(0, 30));
  await assert.rejects(() => readNifti(corrupt), /k\.nii\.gz/);
  await assert.rejects(
    () => readNifti("/nonexistent/volume-0.nii"),
    /volume-0\.nii: file not found/,
  );
});

Deno.test("importLiTSVolumes writes the course layout, split by volume", async () => {
  const source = await Deno.makeTempDir({ prefix: "lits_src_" });
  await Deno.mkdir(join(source, "batch 1"));
  // 8 x 8 x 4 volumes: slice z has liver (label 1) from z >= 1 and tumour (2) at z == 2.
  const dims = [8, 8, 4];
  const n = 8 * 8 * 4;
  const vol = [...Array(n).keys()].map((i) => (i % 64) * 10 - 300);
  const seg = [...Array(n).keys()].map((i) => {
    const z = Math.floor(i / 64);
    return z === 0 ? 0 : z === 2 && i % 64 < 16 ? 2 : 1;
  });
  for (const id of [0, 1, 2, 3]) {
    const ext = id % 2 ? ".nii.gz" : ".nii";
    const dir = id < 2 ? source : join(source, "batch 1");
    for (const [name, values] of [["volume", vol], ["segmentation", seg]] as const) {
      const bytes = encodeNifti({
        dims,
        values: [...values],
        dtype: name === "volume" ? "int16" : "uint8",
      });
      await Deno.writeFile(join(dir, `${name}-${id}${ext}`), id % 2 ? gzipSync(bytes) : bytes);
    }
  }
  const out = await Deno.makeTempDir({ prefix: "lits_out_" });
  const summary = await importLiTSVolumes({ source, out, size: 4, split: [0.5, 0.25, 0.25] });
  assert.deepEqual(Object.values(summary.volumes).map((v) => v.length), [2, 1, 1]);
  assert.deepEqual(
    [...summary.volumes.train, ...summary.volumes.val, ...summary.volumes.test].sort(),
    [0, 1, 2, 3],
  );
  assert.deepEqual(summary.classCounts, [4, 8, 4]);
  for (const split of ["train", "val", "test"]) {
    const ds = new LiTSDataset({ root: out, split });
    assert.equal(ds.length, 4 * summary.volumes[split as "train"].length);
    assert.equal(ds.width, 4);
    assert.deepEqual([...ds.labels.slice(0, 4)], [0, 1, 2, 1]);
    // Values -300..330 HU windowed to [-200, 250]: dark in one corner, saturated in the other.
    const raw = new LiTSDataset({ root: out, split, normalize: "none" });
    const px = (await raw.get(0)).image.data;
    assert.ok(px.every((v) => v >= 0 && v <= 1) && px[0] > px[15], `${px}`);
  }
  const csv = await Deno.readTextFile(join(out, "train_classes.csv"));
  assert.match(
    csv,
    /^filename,liver_visible,lesion_visible,volume,slice\nvolume-\d_slice-000\.png,False,False,\d,0\n/,
  );

  // Importing again over it: it overwrote the labels and mixed old and new slices.
  await assert.rejects(
    () => importLiTSVolumes({ source, out, size: 8 }),
    /already holds a dataset .*train_classes\.csv.*: delete it first, or choose another out/,
  );
  assert.equal(await Deno.readTextFile(join(out, "train_classes.csv")), csv);

  // Bad sources: a volume without its segmentation, shapes that differ.
  await Deno.remove(join(source, "batch 1", "segmentation-2.nii"));
  await assert.rejects(
    () => importLiTSVolumes({ source, out }),
    /volume-2\.nii: no segmentation-2/,
  );
  await Deno.writeFile(
    join(source, "batch 1", "segmentation-2.nii"),
    encodeNifti({ dims: [8, 8, 3], values: seg.slice(0, 192), dtype: "uint8" }),
  );
  const fresh = await Deno.makeTempDir({ prefix: "lits_out_" });
  await assert.rejects(
    () => importLiTSVolumes({ source, out: fresh }),
    /segmentation-2\.nii: 8x8x3 does not match/,
  );
  await assert.rejects(() => importLiTSVolumes({ source: out, out }), /no volume-N\.nii/);
});

Deno.test("importLiTSVolumes pairs a mask whose header's orientation differs voxel by voxel, and says so", async () => {
  // An LAI volume (slices stored superior to inferior) whose only tissue is
  // in voxel slice 0, and a mask on the same grid, liver in that slice, whose
  // header says RAS (saved with an identity affine). Each reoriented by its
  // own header, the liver landed on the air slice.
  const source = await Deno.makeTempDir({ prefix: "lits_src_" });
  const dims = [8, 8, 4], n = 8 * 8 * 4;
  const lai = [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 0]];
  const tissue = (i: number) => i < 64;
  await Deno.writeFile(
    join(source, "volume-0.nii"),
    encodeNifti({
      dims,
      sform: lai,
      values: [...Array(n).keys()].map((i) => tissue(i) ? 60 : -1000),
    }),
  );
  await Deno.writeFile(
    join(source, "segmentation-0.nii"),
    encodeNifti({
      dims,
      dtype: "uint8",
      values: [...Array(n).keys()].map((i) => tissue(i) ? 1 : 0),
    }),
  );
  const out = await Deno.makeTempDir({ prefix: "lits_out_" });
  const warned: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => warned.push(a.join(" "));
  try {
    await importLiTSVolumes({ source, out, size: 8, split: [1, 0, 0] });
  } finally {
    console.warn = warn;
  }
  assert.match(
    warned.join("\n"),
    /segmentation-0\.nii: its header's orientation RAS differs from .*volume-0\.nii's LAI; paired voxel by voxel/,
  );
  const ds = new LiTSDataset({ root: out, split: "train", normalize: "none" });
  for (let i = 0; i < ds.length; i++) {
    const { image, label } = await ds.get(i);
    const hasTissue = image.data.some((v) => v > 0);
    assert.equal(label === 1, hasTissue, `slice ${i}: label ${label}, tissue ${hasTissue}`);
  }
});
