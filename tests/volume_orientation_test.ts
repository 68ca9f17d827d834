/**
 * `VolumeDataset({ orientation })`: MONAI's `Orientation(axcodes)` after
 * `LoadImage`, checked against nibabel (`io_orientation` + `ornt_transform`
 * + `apply_orientation`, `as_closest_canonical`) on files in RAS, LPS, LAS,
 * LAI, oblique (closest axes), sagittal (ASL, PIR) and permuted storage,
 * `.nii` and `.nii.gz`, with the spacing after reorientation; the one
 * float32 rounding of scaled voxels (nibabel's `get_fdata()`); and
 * `ScaleIntensityRange` bit for bit against numpy float32, NaN, infinities
 * and signed zeros included. Fixtures: scripts/make_volume_orientation_fixtures.py.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { data, tensor } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import { windowInto } from "../src/data/transforms/volume/intensity.ts";
import { ioOrientation } from "../src/data/volume_orientation.ts";
import { assertBits, loadFixture, type StoredNumber, storedNumber, testDevice } from "./helpers.ts";

const V = data.transforms.volume;

interface Target {
  shape: number[];
  codes: number[];
  spacing: number[];
}
const FIX = loadFixture<{
  dims: number[];
  zooms: number[];
  cases: {
    name: string;
    sform: number[][];
    axcodes: string;
    ornt: number[][];
    targets: Record<string, Target>;
  }[];
  scaled: {
    dtype: "int16" | "float32" | "float64";
    slope: number;
    inter: number;
    raw: number[];
    values: number[];
  }[];
  window: {
    x: StoredNumber[];
    cases: { args: [number, number, number, number, boolean]; out: StoredNumber[] }[];
  };
}>("volume_orientation.json");

// ---- NIfTI files written here (as the fixture script writes them) ----------

interface NiftiOptions {
  dims: number[];
  /** Stored values, i fastest (the file's order). */
  values: ArrayLike<number>;
  dtype?: "int16" | "float32" | "float64";
  sform: number[][];
  pixdim?: number[];
  slope?: number;
  inter?: number;
  bigEndian?: boolean;
}

const TYPES = { int16: [4, 2], float32: [16, 4], float64: [64, 8] } as const;

/** A single-file NIfTI-1 image: a 352-byte header, then the voxels. */
function encodeNifti(o: NiftiOptions): Uint8Array {
  const [code, bytes] = TYPES[o.dtype ?? "int16"];
  const le = !o.bigEndian;
  const count = o.dims.reduce((a, b) => a * b, 1);
  const buf = new ArrayBuffer(352 + count * bytes);
  const v = new DataView(buf);
  v.setInt32(0, 348, le);
  [o.dims.length, ...o.dims, ...Array(7 - o.dims.length).fill(1)]
    .forEach((d, i) => v.setInt16(40 + 2 * i, d, le));
  v.setInt16(70, code, le);
  v.setInt16(72, bytes * 8, le);
  const pix = [1, ...(o.pixdim ?? []), ...Array(7 - (o.pixdim ?? []).length).fill(1)];
  pix.forEach((p, i) => v.setFloat32(76 + 4 * i, p, le));
  v.setFloat32(108, 352, le);
  v.setFloat32(112, o.slope ?? 0, le);
  v.setFloat32(116, o.inter ?? 0, le);
  v.setInt16(254, 1, le);
  o.sform.forEach((row, r) => row.forEach((x, c) => v.setFloat32(280 + 16 * r + 4 * c, x, le)));
  new Uint8Array(buf).set([0x6e, 0x2b, 0x31, 0], 344);
  for (let n = 0; n < count; n++) {
    const x = o.values[n], at = 352 + bytes * n;
    if (o.dtype === "float64") v.setFloat64(at, x, le);
    else if (o.dtype === "float32") v.setFloat32(at, x, le);
    else v.setInt16(at, x, le);
  }
  return new Uint8Array(buf);
}

const tmp = await Deno.makeTempDir({ prefix: "volume_orientation_" });
let fileNo = 0;

async function writeNifti(o: NiftiOptions, ext = ".nii"): Promise<string> {
  const path = join(tmp, `o${fileNo++}${ext}`);
  const bytes = encodeNifti(o);
  await Deno.writeFile(path, ext.endsWith(".gz") ? gzipSync(bytes) : bytes);
  return path;
}

/** 100 i + 10 j + k at voxel (i, j, k), in file order (i fastest). */
function codes(dims: number[]): Int16Array {
  const [ni, nj, nk] = dims;
  const out = new Int16Array(ni * nj * nk);
  for (let k = 0, n = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) out[n++] = 100 * i + 10 * j + k;
  }
  return out;
}

/** Each fixture case written as .nii and .nii.gz. */
async function caseFiles() {
  const out: { name: string; ext: string; path: string; c: (typeof FIX.cases)[number] }[] = [];
  for (const c of FIX.cases) {
    for (const ext of [".nii", ".nii.gz"]) {
      const path = await writeNifti(
        { dims: FIX.dims, values: codes(FIX.dims), sform: c.sform, pixdim: FIX.zooms },
        ext,
      );
      out.push({ name: c.name, ext, path, c });
    }
  }
  return out;
}

// ---- Orientation ---------------------------------------------------------------

Deno.test("ioOrientation: nibabel's io_orientation of every fixture affine (closest axes when oblique)", () => {
  for (const c of FIX.cases) {
    assert.deepEqual(ioOrientation(c.sform), c.ornt, c.name);
  }
  // A zero column has no direction (nibabel: NaN).
  assert.deepEqual(ioOrientation([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 2, 0]]), [
    [0, 1],
    null,
    [2, 1],
  ]);
});

Deno.test("VolumeDataset orientation: nibabel's reoriented voxels and spacing for RAS, LPS, PLI, SAR", async () => {
  const files = await caseFiles();
  for (const target of ["RAS", "LPS", "PLI", "SAR"]) {
    const ds = new data.VolumeDataset(
      files.map((f, label) => ({ image: f.path, label })),
      { orientation: target },
    );
    assert.equal(ds.orientation, target);
    for (const [n, f] of files.entries()) {
      const want = f.c.targets[target];
      const what = `${f.name}${f.ext} -> ${target}`;
      const { image } = await ds.get(n);
      assert.deepEqual([image.depth, image.height, image.width], want.shape, what);
      assert.deepEqual([...image.data], want.codes, what);
      assert.deepEqual(image.spacing, want.spacing, `${what} spacing`);
    }
  }
});

Deno.test("VolumeDataset orientation: none keeps the file's order and spacing; workers reorient alike", async () => {
  const files = await caseFiles();
  const items = files.map((f, label) => ({ image: f.path, label }));
  const plain = new data.VolumeDataset(items);
  assert.equal(plain.orientation, null);
  for (const [n, f] of files.entries()) {
    const { image } = await plain.get(n);
    assert.deepEqual([image.depth, image.height, image.width], FIX.dims, f.name);
    assert.deepEqual(image.spacing, FIX.zooms.map(Math.fround));
    const [ni, nj, nk] = FIX.dims, want: number[] = [];
    for (let i = 0; i < ni; i++) {
      for (let j = 0; j < nj; j++) for (let k = 0; k < nk; k++) want.push(100 * i + 10 * j + k);
    }
    assert.deepEqual([...image.data], want, `${f.name}${f.ext}`);
  }
  // Same-shape RAS volumes (the permuted files give other shapes) batch in workers.
  const ras = files.filter((f) => f.c.targets.RAS.shape.join() === "5,4,3");
  const ds = new data.VolumeDataset(ras.map((f, label) => ({ image: f.path, label })), {
    orientation: "RAS",
  });
  assert.deepEqual(ds.workerSpec().spec.orientation, "RAS");
  const want = new Float32Array(ras.flatMap((f) => f.c.targets.RAS.codes));
  for (const workers of [0, 2]) {
    const loader = new data.DataLoader(ds, { batchSize: ras.length, workers });
    for await (using b of loader) {
      assert.deepEqual(b.images.shape, [ras.length, 1, 5, 4, 3]);
      assert.deepEqual(b.images.toArray(), want, `workers: ${workers}`);
    }
  }
  assert.equal(liveWorkers(), 0);
});

Deno.test("VolumeDataset: spacing survives transforms that keep voxel size, not ones that resample", async () => {
  const c = FIX.cases.find((x) => x.name === "ASL")!;
  const path = await writeNifti({
    dims: FIX.dims,
    values: codes(FIX.dims),
    sform: c.sform,
    pixdim: FIX.zooms,
  });
  const item = [{ image: path, label: 0 }];
  const window = new V.ScaleIntensityRange({ aMin: 0, aMax: 500 });
  const kept = new data.VolumeDataset(item, {
    orientation: "RAS",
    transform: [
      window,
      new V.NormalizeIntensity(),
      new V.ScaleIntensity(),
      new V.ThresholdIntensity({ threshold: 0.5 }),
      new V.ShiftIntensity({ offset: 1 }),
      new V.AdjustContrast({ gamma: 2 }),
      new V.ScaleIntensityRangePercentiles({ lower: 5, upper: 95, bMin: 0, bMax: 1 }),
      new V.GaussianSmooth(),
      new V.GaussianSharpen(),
    ],
  });
  assert.deepEqual((await kept.get(0)).image.spacing, c.targets.RAS.spacing);
  const zoomed = new data.VolumeDataset(item, { transform: [new V.Zoom({ zoom: 1.5 })] });
  assert.equal((await zoomed.get(0)).image.spacing, undefined);
  // Crops, pads and flips keep voxel size; Rotate90 swaps the two axes of its plane.
  const [sd, sh, sw] = c.targets.RAS.spacing;
  const cropped = new data.VolumeDataset(item, {
    orientation: "RAS",
    transform: [
      new V.CropForeground({ margin: 1 }),
      new V.SpatialPad({ spatialSize: [9, 9, 9] }),
      new V.CenterSpatialCrop({ roiSize: [4, 4, 4] }),
      new V.Flip({ spatialAxis: 0 }),
    ],
  });
  assert.deepEqual((await cropped.get(0)).image.spacing, [sd, sh, sw]);
  const turned = (k: number, spatialAxes: [number, number]) =>
    new data.VolumeDataset(item, {
      orientation: "RAS",
      transform: [window, new V.Rotate90({ k, spatialAxes })],
    }).get(0);
  assert.deepEqual((await turned(1, [0, 2])).image.spacing, [sw, sh, sd]);
  assert.deepEqual((await turned(-1, [-2, -1])).image.spacing, [sd, sw, sh]);
  assert.deepEqual((await turned(2, [0, 1])).image.spacing, [sd, sh, sw]);
  const resized = new data.VolumeDataset(item, {
    orientation: "RAS",
    transform: [window, new V.Resize({ spatialSize: [4, 4, 4] })],
  });
  assert.equal((await resized.get(0)).image.spacing, undefined);
});

Deno.test("VolumeDataset orientation: bad codes and affines without a direction give Errors", async () => {
  const bad = (options: unknown, re: RegExp) =>
    assert.throws(() => new data.VolumeDataset([], options as never), re);
  bad({ orientation: "ras" }, /orientation codes are capitals: write "RAS"/);
  bad({ orientation: "RAX" }, /orientation "RAX" is not three axis codes .* R\/L, A\/P, S\/I/);
  bad({ orientation: "RLS" }, /orientation "RLS" is not three axis codes/);
  bad({ orientation: "RASI" }, /orientation "RASI" is not three axis codes/);
  bad({ orientation: ["R", "A", "S"] }, /orientation must be axis codes.*\(write "RAS"\)/);
  bad({ orientation: 3 }, /orientation must be axis codes, e.g. orientation: "RAS"/);
  bad({ axcodes: "LPS" }, /unknown option 'axcodes'.*write \{ orientation: "LPS" \}/);
  bad({ orient: "RAS" }, /unknown option 'orient'/);

  const flat = await writeNifti({
    dims: [2, 2, 2],
    values: new Int16Array(8),
    sform: [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]],
  });
  const item = [{ image: flat, label: 0 }];
  await assert.rejects(
    new data.VolumeDataset(item, { orientation: "RAS" }).get(0),
    /item 0: .*: the affine maps voxel axis 1 to no direction.*leave orientation out/,
  );
  assert.equal((await new data.VolumeDataset(item).get(0)).image.data.length, 8);
  assert.equal(
    (await new data.VolumeDataset(item, { orientation: null }).get(0)).image.data.length,
    8,
  );
});

// ---- Scaled voxels: one rounding --------------------------------------------

Deno.test("VolumeDataset: scaled voxels as nibabel's get_fdata() rounded once to float32; either byte order", async () => {
  for (const s of FIX.scaled) {
    for (const bigEndian of [false, true]) {
      const path = await writeNifti({
        dims: FIX.dims,
        values: s.raw,
        dtype: s.dtype,
        sform: FIX.cases[0].sform,
        slope: s.slope,
        inter: s.inter,
        bigEndian,
      });
      const { image } = await new data.VolumeDataset([{ image: path, label: 0 }]).get(0);
      assertBits(
        image.data,
        new Float32Array(s.values),
        `${s.dtype} * ${s.slope} + ${s.inter}${bigEndian ? " (big-endian)" : ""}`,
      );
    }
  }
});

// ---- ScaleIntensityRange --------------------------------------------------------

Deno.test("ScaleIntensityRange: numpy float32's window bit for bit (NaN, infinities, signed zeros)", () => {
  const x = new Float32Array(FIX.window.x.map(storedNumber));
  for (const { args, out } of FIX.window.cases) {
    const want = new Float32Array(out.map(storedNumber));
    const y = new Float32Array(x.length);
    windowInto(x, y, ...args);
    assertBits(y, want, `window ${args}`);
    // Through the public transform, on the test device.
    const [aMin, aMax, bMin, bMax, clip] = args;
    const t = new V.ScaleIntensityRange({ aMin, aMax, bMin, bMax, clip });
    using vol = tensor(x, [1, 1, 4, 16], { device: testDevice });
    using got = t.apply(vol);
    assertBits(got.toArray() as Float32Array, want, `apply ${args}`);
  }
  // A subarray (not at offset 0 of its buffer) is windowed in place of its own range only.
  const buf = new Float32Array(8).fill(7);
  windowInto(new Float32Array([-1, 2, 0.5]), buf.subarray(3, 6), 0, 1, 0, 1, true);
  assert.deepEqual([...buf], [7, 7, 7, 0, 1, 0.5, 7, 7]);
});
