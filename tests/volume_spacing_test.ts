/**
 * `VolumeDataset({ spacing })`: MONAI 1.3's `Spacing(pixdim, mode,
 * padding_mode)` after `Orientation`, checked against torch 1.13's
 * `F.affine_grid` + `F.grid_sample` on the theta MONAI builds, for RAS,
 * LPS (flipped, kept and reoriented), sagittal, rotated and sheared files;
 * down- and upsampling, anisotropic targets, axes kept with pixdim <= 0, a
 * single number, targets within MONAI's 1e-3 tolerance (no resampling),
 * nearest on exact .5 ties; both modes and the three padding modes. Also the
 * separable passes against the 8-tap reference, the spec in loader workers,
 * and every bad option. Fixtures: scripts/make_volume_spacing_fixtures.py.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data } from "../mod.ts";
import { liveWorkers } from "../src/data/worker_pool.ts";
import {
  planSpacing,
  resampleGeneral,
  resampleSeparable,
  type SpacingSpec,
} from "../src/data/volume_spacing.ts";
import { assertClose, loadFixture, testDevice } from "./helpers.ts";
import { encodeNifti } from "./nifti_files.ts";

interface SpacingCase {
  file: string;
  spacing: string;
  pixdim: number | number[];
  mode: "bilinear" | "nearest";
  paddingMode: "border" | "zeros" | "reflection";
  shape: number[];
  resampled: boolean;
  newPixdim: number[];
  xform: number[][];
  out: number[];
}
const FIX = loadFixture<{
  dims: number[];
  files: {
    name: string;
    sform: number[][];
    zooms: number[];
    orientation: string | null;
    values: number[];
  }[];
  cases: SpacingCase[];
}>("volume_spacing.json");

// ---- float32 NIfTI-1 files, as the fixture script writes them ------------------------

const tmp = await Deno.makeTempDir({ prefix: "volume_spacing_" });
const paths = new Map<string, string>();
for (const f of FIX.files) {
  const path = join(tmp, `${f.name}.nii`);
  await Deno.writeFile(path, encodeNifti(FIX.dims, f.values, f.zooms, f.sform));
  paths.set(f.name, path);
}
const fileOf = (name: string) => FIX.files.find((f) => f.name === name)!;

function datasetFor(c: SpacingCase) {
  const f = fileOf(c.file);
  return new data.VolumeDataset([{ image: paths.get(c.file)!, label: 0 }], {
    orientation: f.orientation,
    spacing: { pixdim: c.pixdim, mode: c.mode, paddingMode: c.paddingMode },
  });
}

const label = (c: SpacingCase) =>
  `${c.file} ${c.spacing} ${JSON.stringify(c.pixdim)} ${c.mode}/${c.paddingMode}`;

// ---- against MONAI (torch's grid_sample) -------------------------------------------------

/**
 * The fixture's values, except (nearest) where a sample point `K j + c`
 * (MONAI's, from the fixture) lies within 1e-6 voxel of a half-voxel tie:
 * there MONAI's pick follows the float64 noise of its LAPACK solve and
 * normalization, so either neighbour is accepted (null).
 */
function expected(c: SpacingCase): (number | null)[] {
  if (c.mode !== "nearest") return c.out;
  const [md, mh, mw] = c.shape, k = c.xform;
  const want: (number | null)[] = [...c.out];
  for (let d = 0, o = 0; d < md; d++) {
    for (let h = 0; h < mh; h++) {
      for (let w = 0; w < mw; w++, o++) {
        const tie = k.some((row) => {
          const x = row[0] * d + row[1] * h + row[2] * w + row[3];
          return Math.abs(x - Math.floor(x) - 0.5) < 1e-6;
        });
        if (tie) want[o] = null;
      }
    }
  }
  return want;
}

Deno.test("VolumeDataset spacing: MONAI's Spacing output (shape, voxels, pixdim) for every fixture case", async () => {
  assert.ok(FIX.cases.length >= 80);
  let ties = 0, nearest = 0;
  for (const c of FIX.cases) {
    const { image } = await datasetFor(c).get(0);
    assert.deepEqual([image.depth, image.height, image.width], c.shape, label(c));
    const want = expected(c);
    if (c.mode === "nearest") {
      ties += want.filter((x) => x === null).length;
      nearest += want.length;
    }
    assertClose(image.data, want, { rtol: 1e-5, atol: 1e-4, what: label(c) });
    assertClose(image.spacing!, c.newPixdim, { rtol: 1e-9, atol: 0, what: `${label(c)} spacing` });
  }
  // Ties are the exception: the unit file's 1.0 -> 1.5 mm and centred grids.
  assert.ok(ties > 0 && ties < nearest / 4, `${ties} ties of ${nearest} nearest voxels`);
});

Deno.test("planSpacing: MONAI's voxel transform solve(A, N), output shape and no-resampling test", () => {
  // Files read in their own order: the affine after orientation is the sform.
  const cases = FIX.cases.filter((c) =>
    c.mode === "bilinear" && fileOf(c.file).orientation === null
  );
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    const p = typeof c.pixdim === "number" ? [c.pixdim, c.pixdim, c.pixdim] : c.pixdim;
    const spec: SpacingSpec = {
      pixdim: p as [number, number, number],
      mode: "bilinear",
      paddingMode: "border",
    };
    const plan = planSpacing(FIX.dims, fileOf(c.file).sform, spec);
    assert.deepEqual(plan.shape, c.shape, label(c));
    assert.equal(plan.resample, c.resampled, label(c));
    for (let r = 0; r < 3; r++) {
      const what = `${label(c)} row ${r}`;
      assertClose([...plan.k[r], plan.c[r]], c.xform[r], { rtol: 1e-9, atol: 1e-9, what });
    }
  }
  // A LiTS geometry: 99 gaps of 5 mm are 247.5 gaps of 2 mm, and numpy rounds 248.5 to 248
  // (torch's output for MONAI's Spacing, scripts/make_volume_spacing_fixtures.py --time).
  const lits = planSpacing([512, 512, 100], [[0.7, 0, 0, -180], [0, 0.7, 0, -170], [0, 0, 5, 40]], {
    pixdim: [1.5, 1.5, 2],
    mode: "bilinear",
    paddingMode: "border",
  });
  assert.deepEqual(lits.shape, [239, 239, 248]);
  assert.deepEqual(lits.c, [0, 0, 0]);
});

Deno.test("VolumeDataset spacing: a kept volume is the oriented volume itself; spacing reaches the loader on the test device", async () => {
  const keep = FIX.cases.find((c) => !c.resampled)!;
  const f = fileOf(keep.file);
  const item = [{ image: paths.get(keep.file)!, label: 0 }];
  const plain = await new data.VolumeDataset(item, { orientation: f.orientation }).get(0);
  const kept = await datasetFor(keep).get(0);
  assert.deepEqual(kept.image.data, plain.image.data);
  // A resampled batch through the loader, on LITS_TEST_DEVICE.
  const c = FIX.cases.find((c) =>
    c.file === "RAS" && c.spacing === "down" && c.mode === "bilinear"
  )!;
  const loader = new data.DataLoader(datasetFor(c), { batchSize: 1, device: testDevice });
  for await (using b of loader) {
    assert.deepEqual(b.images.shape, [1, 1, ...c.shape]);
    assertClose(b.images.toArray() as Float32Array, c.out, { rtol: 1e-5, atol: 1e-4 });
  }
});

Deno.test("VolumeDataset spacing: the option travels in the worker spec; workers resample alike", async () => {
  const cs = FIX.cases.filter((c) =>
    c.spacing === "down" && c.mode === "nearest" && c.paddingMode === "zeros" &&
    c.shape.join() === "4,4,6"
  );
  assert.ok(cs.length >= 3);
  const ds = new data.VolumeDataset(
    cs.map((c, label) => ({ image: paths.get(c.file)!, label })),
    {
      orientation: "RAS",
      spacing: { pixdim: [1.5, 1.5, 2], mode: "nearest", paddingMode: "zeros" },
    },
  );
  const spec = ds.workerSpec().spec;
  assert.deepEqual(spec.spacing, { pixdim: [1.5, 1.5, 2], mode: "nearest", paddingMode: "zeros" });
  assert.deepEqual(ds.spacing, spec.spacing);
  // Files read with orientation RAS in the fixture (not the oblique one: nearest on its ties).
  const ras = cs.filter((c) => c.file === "RAS" || c.file === "LPS_to_RAS");
  const want = new Float32Array(ras.flatMap((c) => c.out));
  const sub = new data.VolumeDataset(
    ras.map((c, label) => ({ image: paths.get(c.file)!, label })),
    {
      orientation: "RAS",
      spacing: { pixdim: [1.5, 1.5, 2], mode: "nearest", paddingMode: "zeros" },
    },
  );
  for (const workers of [0, 2]) {
    const loader = new data.DataLoader(sub, { batchSize: ras.length, workers });
    for await (using b of loader) {
      assert.deepEqual(b.images.shape, [ras.length, 1, 4, 4, 6]);
      assertClose(b.images.toArray() as Float32Array, want, {
        rtol: 1e-5,
        atol: 1e-4,
        what: `workers: ${workers}`,
      });
    }
  }
  assert.equal(liveWorkers(), 0);
});

// ---- the separable passes against grid_sample's 8 taps -----------------------------------

Deno.test("resampleSeparable: the three 1-D passes equal grid_sample's 8 taps on a diagonal transform", () => {
  const shape = [9, 11, 7];
  const src = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < src.length; i++) src[i] = Math.sin(i * 0.37) * 50 + (i % 13);
  // Flipped first axis, an upsampled, a downsampled and a kept-size axis; the
  // shifted grid reaches past both ends of every axis.
  const affine = [[-0.7, 0, 0, 3], [0, 0.9, 0, -2], [0, 0, 3.3, 1]];
  const base = planSpacing(shape, affine, {
    pixdim: [1.1, 0.4, 3.3],
    mode: "bilinear",
    paddingMode: "border",
  });
  assert.deepEqual(base.shape, [6, 24, 7]);
  const shifted = { ...base, c: [-1.3, -0.8, 0.45] };
  for (const plan of [base, shifted]) {
    for (const mode of ["bilinear", "nearest"] as const) {
      for (const padding of ["border", "zeros", "reflection"] as const) {
        const fast = resampleSeparable(src, shape, plan, mode, padding);
        const slow = resampleGeneral(src, shape, plan, mode, padding);
        const what = `${mode}/${padding} c ${plan.c}`;
        assertClose(fast, slow, { rtol: 1e-6, atol: 1e-5, what });
      }
    }
  }
  // The zeros padding does zero something, and reflection differs from border.
  const z = resampleSeparable(src, shape, shifted, "bilinear", "zeros");
  const b = resampleSeparable(src, shape, shifted, "bilinear", "border");
  const r = resampleSeparable(src, shape, shifted, "bilinear", "reflection");
  assert.ok(z.some((x, i) => x !== b[i]) && r.some((x, i) => x !== b[i]));
});

// ---- bad options ------------------------------------------------------------------------

Deno.test("VolumeDataset spacing: bad options give Errors that say what to write", async () => {
  const bad = (options: unknown, re: RegExp) =>
    assert.throws(() => new data.VolumeDataset([], options as never), re);
  bad(
    { pixdim: [1.5, 1.5, 2] },
    /unknown option 'pixdim'.*write \{ spacing: \{ pixdim: \[1.5, 1.5, 2\] \} \}/,
  );
  bad({ pixdim: 2 }, /write \{ spacing: \{ pixdim: 2 \} \}/);
  bad(
    { spacing: [1.5, 1.5, 2] },
    /spacing is an options object .* write spacing: \{ pixdim: \[1.5, 1.5, 2\] \}/,
  );
  bad({ spacing: 1.5 }, /write spacing: \{ pixdim: 1.5 \}/);
  bad({ spacing: "1.5" }, /spacing: expected an options object/);
  bad({ spacing: {} }, /pixdim \(the target voxel size\) is required/);
  bad({ spacing: { pixdim: NaN } }, /pixdim must be one finite number .* got NaN/);
  bad({ spacing: { pixdim: Infinity } }, /pixdim must be one finite number .* got Infinity/);
  bad({ spacing: { pixdim: [] } }, /got an empty list \(MONAI fails on it too\)/);
  bad({ spacing: { pixdim: [1, NaN, 2] } }, /entry 1 is number NaN/);
  bad({ spacing: { pixdim: [1, "2", 2] } }, /entry 1 is the string "2"/);
  bad({ spacing: { pixdim: "1.5" } }, /pixdim must be one finite number/);
  bad(
    { spacing: { pixdim: 1, mode: "cubic" } },
    /spacing: mode must be "bilinear" .* or "nearest", got "cubic"/,
  );
  bad(
    { spacing: { pixdim: 1, mode: "bicubic" } },
    /bicubic interpolation only supports 4D input.*write "bilinear"/,
  );
  bad(
    { spacing: { pixdim: 1, mode: 1 } },
    /MONAI runs spline order 1 through scipy's map_coordinates.*write "bilinear"/,
  );
  bad(
    { spacing: { pixdim: 1, paddingMode: "edge" } },
    /paddingMode must be one of "zeros", "border", "reflection".*write "border"/,
  );
  bad(
    { spacing: { pixdim: 1, padding_mode: "zeros" } },
    /unknown option 'padding_mode' \(write 'paddingMode'\)/,
  );
  bad(
    { spacing: { pixdim: 1, diagonal: true } },
    /spacing: unknown option 'diagonal'.*known options: pixdim, mode, paddingMode/,
  );
  // null and undefined are no spacing.
  assert.equal(new data.VolumeDataset([], { spacing: null }).spacing, null);
  assert.equal(new data.VolumeDataset([]).spacing, null);
  assert.deepEqual(new data.VolumeDataset([], { spacing: { pixdim: 2 } }).spacing, {
    pixdim: [2, 2, 2],
    mode: "bilinear",
    paddingMode: "border",
  });
  // A singular affine has no spacing to resample from: an Error naming the item, no crash.
  const flat = join(tmp, "flat.nii");
  const singular = [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]];
  await Deno.writeFile(flat, encodeNifti([2, 2, 2], new Float32Array(8), [1, 1, 1], singular));
  await assert.rejects(
    new data.VolumeDataset([{ image: flat, label: 0 }], { spacing: { pixdim: 2 } }).get(0),
    /item 0: .*affine's 3x3 part .* is singular.*leave spacing out/,
  );
});
