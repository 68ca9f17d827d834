/**
 * `deno task predict` end to end on a checkpoint trained here for one epoch
 * on tiny synthetic data (64 x 64 slices, a 16 x 16 model with batch norm and
 * standardisation): what fit records about its data; a PNG of the test split
 * (probabilities equal to the evaluation pipeline's); a folder (a slice of
 * another size, a skipped text file); a NIfTI volume written here, whose
 * slices must get exactly the probabilities of the PNGs `importLiTSVolumes`
 * makes from it; a DICOM file; the CSV, the page and the summary; and bad
 * input: a PNG or NIfTI that is not one, a missing input, a checkpoint
 * without preprocessing and no flags, each an Error naming the file with
 * nothing written in --out; `--precision bf16` against fp32, and a bad
 * precision. Also `deno task evaluate` on a split with a slice of another
 * size.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, models, noGrad, tensor, train } from "../mod.ts";
import { capture, quickFlags, trainTestData } from "./train_data.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { loadInputs } from "../src/predict/inputs.ts";
import type { PredictPreprocessing } from "../src/predict/preprocess.ts";

/** A NIfTI-1 int16 volume [w, h, d] (1 mm voxels, identity orientation: LAS after the reader). */
function nifti(values: Int16Array, w: number, h: number, d: number): Uint8Array {
  const buf = new ArrayBuffer(352 + values.length * 2);
  const v = new DataView(buf);
  v.setInt32(0, 348, true);
  [3, w, h, d, 1, 1, 1, 1].forEach((x, i) => v.setInt16(40 + 2 * i, x, true));
  v.setInt16(70, 4, true); // int16
  v.setInt16(72, 16, true);
  [1, 1, 1, 1].forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true);
  new Uint8Array(buf).set([0x6e, 0x2b, 0x31, 0], 344); // "n+1"
  values.forEach((x, i) => v.setInt16(352 + 2 * i, x, true));
  return new Uint8Array(buf);
}

/** A CT-like volume: air, a body disk, a brighter "liver" blob on the middle slices. */
function phantom(w: number, h: number, d: number): { hu: Int16Array; seg: Int16Array } {
  const hu = new Int16Array(w * h * d), seg = new Int16Array(w * h * d);
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (z * h + y) * w + x;
        const body = (x - w / 2) ** 2 + (y - h / 2) ** 2 < (0.4 * w) ** 2;
        const liver = z > 0 && z < d - 1 &&
          (x - 0.35 * w) ** 2 + (y - 0.45 * h) ** 2 < (0.15 * w) ** 2;
        hu[i] = !body ? -1000 : liver ? 60 + ((x * 7 + y * 3 + z) % 20) : ((x + 2 * y) % 40) - 20;
        seg[i] = liver ? 1 : 0;
      }
    }
  }
  return { hu, seg };
}

/**
 * A tiny implicit-VR little-endian CT DICOM (no preamble), w x h uint16 with
 * a -1024 rescale; with `z`, an axial slice of one series at that height.
 */
function dicom(
  hu: Int16Array,
  w: number,
  h: number,
  z?: number,
  o: { orientation?: string; enhancedZ?: number[] } = {},
): Uint8Array {
  const el = (g: number, e: number, v: number[]) => [
    g & 255,
    g >> 8,
    e & 255,
    e >> 8,
    v.length & 255,
    (v.length >> 8) & 255,
    v.length >> 16,
    0,
    ...v,
  ];
  const ascii = (s: string) => [...(s.length % 2 ? s + " " : s)].map((c) => c.charCodeAt(0));
  const u16 = (n: number) => [n & 255, n >> 8];
  // A sequence item (FFFE,E000) of explicit length, in implicit VR.
  const item = (v: number[]) => [0xfe, 0xff, 0x00, 0xe0, ...el(0, 0, v).slice(4)];
  const px: number[] = [];
  for (const v of hu) px.push(...u16((v + 1024) & 0xffff));
  const orientation = ascii(o.orientation ?? "1\\0\\0\\0\\1\\0");
  const where = z === undefined ? [] : [
    ...el(0x0020, 0x000e, ascii("1.2.826.0.1.3680043.2.1125.1")),
    ...el(0x0020, 0x0032, ascii(`0\\0\\${z}`)),
    ...el(0x0020, 0x0037, orientation),
  ];
  // Enhanced CT: frames, the rescale and each frame's position only in the
  // functional groups (shared, and per frame).
  const frames = o.enhancedZ;
  const rescale = frames ? [] : [
    ...el(0x0028, 0x1052, ascii("-1024")),
    ...el(0x0028, 0x1053, ascii("1")),
  ];
  const groups = !frames ? [] : [
    ...el(
      0x5200,
      0x9229,
      item([
        ...el(0x0020, 0x9116, item(el(0x0020, 0x0037, orientation))),
        ...el(
          0x0028,
          0x9145,
          item([
            ...el(0x0028, 0x1052, ascii("-1024")),
            ...el(0x0028, 0x1053, ascii("1")),
          ]),
        ),
      ]),
    ),
    ...el(
      0x5200,
      0x9230,
      frames.flatMap((fz) =>
        item(el(0x0020, 0x9113, item(el(0x0020, 0x0032, ascii(`0\\0\\${fz}`)))))
      ),
    ),
  ];
  return new Uint8Array([
    ...el(0x0008, 0x0060, ascii("CT")),
    ...where,
    ...el(0x0028, 0x0002, u16(1)),
    ...el(0x0028, 0x0004, ascii("MONOCHROME2")),
    ...(frames ? el(0x0028, 0x0008, ascii(String(frames.length))) : []),
    ...el(0x0028, 0x0010, u16(h)),
    ...el(0x0028, 0x0011, u16(w)),
    ...el(0x0028, 0x0100, u16(16)),
    ...el(0x0028, 0x0101, u16(16)),
    ...el(0x0028, 0x0102, u16(15)),
    ...el(0x0028, 0x0103, u16(0)),
    ...rescale,
    ...groups,
    ...el(0x7fe0, 0x0010, px),
  ]);
}

function readCsv(text: string): string[][] {
  return text.trim().split("\n").map((l) => l.split(","));
}

/** Whether this CPU runs bf16 products (else autocast runs fp32 and says so). */
function cpuHasBf16(): boolean {
  const lib = cpuLib(), level = new Int32Array(1);
  return lib.lits_bf16_support !== null && lib.lits_bf16_support(level) === 0 && level[0] > 0;
}

/** One trained run shared by the tests below. */
let run: Promise<string> | null = null;
function trainedRun(): Promise<string> {
  run ??= (async () => {
    const dataDir = await trainTestData();
    const out = join(await Deno.makeTempDir(), "run");
    const r = await capture(train.trainMain, quickFlags(dataDir, out, 1));
    assert.equal(r.code, 0, r.stderr);
    return out;
  })();
  return run;
}

Deno.test("fit records how its images were made; predict on a PNG equals the evaluation pipeline", async () => {
  const runDir = await trainedRun();
  const ckpt = join(runDir, "best.safetensors");
  const w = await train.loadWeights(ckpt);
  const spec = w.spec!;
  w.dispose();
  assert.deepEqual(spec.preprocessing, {
    window: [-200, 250],
    dataSize: [64, 64],
    scaling: "none", // a window: slices over 255, not min-max scaled (train.sliceScaling)
    transforms: [
      { ...train.windowTransform(train.DEFAULTS.inputWindow!, [-200, 250]) },
      { name: "Normalize", ...spec.normalize },
    ],
  });
  assert.ok(spec.normalize && spec.options.imageSize === 16);

  const dataDir = await trainTestData();
  const ds = new data.LiTSDataset({ root: dataDir, split: "test" });
  const out = join(await Deno.makeTempDir(), "pred");
  const files = [0, 5].map((i) => ds.path(i));
  const r = await capture(train.predictMain, ["--checkpoint", ckpt, "--out", out, ...files]);
  assert.equal(r.code, 0, r.stderr);
  const rows = readCsv(await Deno.readTextFile(join(out, "predictions.csv")));
  assert.deepEqual(rows[0], ["input", "slice", "prediction", "p0", "p1", "p2"]);
  assert.equal(rows.length, 3);

  // The same slices through the run's own evaluation transforms.
  const transform = data.transforms.compose(train.evalTransforms(spec, 64, 64));
  const w2 = await train.loadWeights(ckpt);
  using model = models.create(spec.name, spec.options).eval();
  model.loadStateDict(w2.state);
  w2.dispose();
  [0, 5].forEach((i, k) => {
    const img = transform.apply(ds.getSync(i).image, new data.Rng(0));
    const probs = noGrad(() =>
      model.forward(tensor(img.data, [1, 1, 16, 16])).softmax(1).toArray()
    );
    assert.equal(rows[k + 1][0], files[k]);
    assert.equal(rows[k + 1][1], "0");
    const p = rows[k + 1].slice(3).map(Number);
    probs.forEach((q, c) =>
      assert.ok(Math.abs(q - p[c]) < 2e-6, `${files[k]} p${c}: ${q} vs ${p[c]}`)
    );
    let best = 0;
    probs.forEach((q, c) => (best = q > probs[best] ? c : best));
    assert.equal(rows[k + 1][2], String(best));
  });
  ds.close();
  assert.match(
    r.stdout,
    /simple from .*window \[-200, 250\] HU, training images 64x64, model input 16x16, then ScaleIntensityRange\(aMin 0\.5, aMax 0\.7222, bMin 0, bMax 1, clip true\), then Normalize\(mean [\d.]+, std [\d.]+\)/,
  );
  assert.match(r.stdout, /\d+ slices: \d+ no liver, \d+ liver, \d+ liver \+ lesion/);
  const html = await Deno.readTextFile(join(out, "predictions.html"));
  assert.equal([...html.matchAll(/<img /g)].length, 4, "plain + Grad-CAM per slice");
  assert.equal([...html.matchAll(/class="cam"/g)].length, 2);
});

Deno.test("predict --precision bf16: the fp32 run's probabilities within bf16's rounding, and says so", async () => {
  const ckpt = join(await trainedRun(), "best.safetensors");
  const ds = new data.LiTSDataset({ root: await trainTestData(), split: "test" });
  const files = [0, 3, 5, 8].map((i) => ds.path(i));
  ds.close();
  const probs: Record<string, number[][]> = {};
  for (const precision of ["fp32", "bf16"]) {
    const out = join(await Deno.makeTempDir(), "pred");
    const r = await capture(train.predictMain, [
      "--checkpoint",
      ckpt,
      "--out",
      out,
      "--precision",
      precision,
      ...files,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(/, bf16 autocast,/.test(r.stdout), precision === "bf16", r.stdout);
    const rows = readCsv(await Deno.readTextFile(join(out, "predictions.csv"))).slice(1);
    probs[precision] = rows.map((row) => row.slice(3).map(Number));
  }
  // Inputs and weights rounded to bf16 (8 bits): softmax outputs move by a few
  // hundredths at most on this 16 x 16 model, and never by 0 on every slice where
  // bf16 ran (a run that silently stayed fp32 would match to the last digit).
  let moved = 0;
  probs.fp32.forEach((p, i) =>
    p.forEach((q, c) => {
      const d = Math.abs(q - probs.bf16[i][c]);
      assert.ok(d < 0.05, `${files[i]} p${c}: ${q} (fp32) vs ${probs.bf16[i][c]} (bf16)`);
      moved = Math.max(moved, d);
    })
  );
  if (cpuHasBf16()) assert.ok(moved > 0, "bf16 gave fp32's probabilities exactly");
});

Deno.test("predict --cam gradcam++: Grad-CAM++ heat maps, named on the page; other methods refused", async () => {
  const ckpt = join(await trainedRun(), "best.safetensors");
  const ds = new data.LiTSDataset({ root: await trainTestData(), split: "test" });
  const file = ds.path(0);
  ds.close();
  const out = join(await Deno.makeTempDir(), "pred");
  const r = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--out",
    out,
    "--cam",
    "gradcam++",
    file,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /, Grad-CAM\+\+ heat maps\)/);
  assert.match(await Deno.readTextFile(join(out, "predictions.html")), /Grad-CAM\+\+ heat maps/);
  const bad = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--out",
    out,
    "--cam",
    "scorecam",
    file,
  ]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--cam.*gradcam, gradcam\+\+/);
});

Deno.test("predict: a folder (another size, a stray file), a NIfTI volume equal to its imported PNGs, a DICOM file and series", async () => {
  const runDir = await trainedRun();
  const ckpt = join(runDir, "best.safetensors");
  const tmp = await Deno.makeTempDir();
  // A folder: a 40 x 40 slice, a copy of a 64 x 64 test slice, and notes.txt.
  const folder = join(tmp, "slices");
  await Deno.mkdir(folder);
  const px = new Uint8Array(40 * 40).map((_, i) => (i * 37) % 256);
  await Deno.writeFile(join(folder, "a_small.png"), data.encodeGreyPng(px, 40, 40));
  const ds = new data.LiTSDataset({ root: await trainTestData(), split: "test" });
  await Deno.copyFile(ds.path(3), join(folder, "b_copy.png"));
  ds.close();
  await Deno.writeTextFile(join(folder, "notes.txt"), "not an image");

  // A 128 x 128 x 5 volume with its segmentation, imported at 64 x 64 as LiTS is.
  const src = join(tmp, "lits");
  await Deno.mkdir(src);
  const { hu, seg } = phantom(128, 128, 5);
  await Deno.writeFile(join(src, "volume-0.nii"), nifti(hu, 128, 128, 5));
  await Deno.writeFile(join(src, "segmentation-0.nii"), nifti(seg, 128, 128, 5));
  const imported = join(tmp, "imported");
  await data.importLiTSVolumes({ source: src, out: imported, size: 64, split: [1, 0, 0] });
  const pngs = [...Array(5).keys()].map((k) =>
    join(imported, "train", `volume-0_slice-${String(k).padStart(3, "0")}.png`)
  );
  // A single DICOM slice: slice 2 of the volume as the reader gives it.
  const vol = await data.readNifti(join(src, "volume-0.nii"));
  const slice2 = await vol.readSlice(2);
  await Deno.writeFile(join(tmp, "slice2.dcm"), dicom(Int16Array.from(slice2), 128, 128));
  // A DICOM series of slices 0-2, named in the reverse order of their positions.
  const series = join(tmp, "series");
  await Deno.mkdir(series);
  for (const k of [0, 1, 2]) {
    const px = Int16Array.from(await vol.readSlice(k));
    await Deno.writeFile(join(series, `IM${2 - k}`), dicom(px, 128, 128, 2.5 * k));
  }
  vol.close();

  const out = join(tmp, "pred");
  const volume = join(src, "volume-0.nii");
  const r = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--out",
    out,
    folder,
    volume,
    ...pngs,
    join(tmp, "slice2.dcm"),
    series,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rows = readCsv(await Deno.readTextFile(join(out, "predictions.csv"))).slice(1);
  const byInput = (input: string) => rows.filter((row) => row[0] === input);
  assert.equal(byInput(join(folder, "a_small.png")).length, 1);
  assert.equal(byInput(join(folder, "b_copy.png")).length, 1);
  const volRows = byInput(volume);
  assert.deepEqual(volRows.map((row) => row[1]), ["0", "1", "2", "3", "4"]);
  // Windowed as the importer windows: the same probabilities as its PNGs, to the digit.
  pngs.forEach((png, k) => assert.deepEqual(byInput(png)[0].slice(2), volRows[k].slice(2), png));
  assert.deepEqual(byInput(join(tmp, "slice2.dcm"))[0].slice(2), volRows[2].slice(2));
  // The series in position order, not file-name order.
  assert.deepEqual(
    byInput(series).map((row) => row.slice(1)),
    volRows.slice(0, 3).map((row) => row.slice(1)),
  );
  assert.match(
    r.stdout,
    /note: .*slices: skipped 1 file\(s\) that are not PNG, JPEG, NIfTI or DICOM/,
  );
  assert.match(
    r.stdout,
    new RegExp(`volume-0\\.nii \\(5 slices\\): liver on slices [\\d, -]+|none`),
  );
  const html = await Deno.readTextFile(join(out, "predictions.html"));
  assert.match(html, /class="strip"/);
  assert.match(html, /Liver \(liver or liver \+ lesion\) on slices <b>/);
  assert.match(html, /NIfTI 128x128x5, LAS/);
  assert.match(html, /DICOM CT 128x128/);
  assert.match(html, /DICOM series 128x128x3, CT, spacing 2\.50 mm/);
  assert.equal([...html.matchAll(/class="cam"/g)].length, 2 + 5 + 5 + 1 + 3);
});

Deno.test("predict: bad inputs and checkpoints name the file and leave --out unwritten", async () => {
  const runDir = await trainedRun();
  const ckpt = join(runDir, "best.safetensors");
  const tmp = await Deno.makeTempDir();
  const good = join(tmp, "good.png");
  await Deno.writeFile(good, data.encodeGreyPng(new Uint8Array(64 * 64).fill(9), 64, 64));
  const fakePng = join(tmp, "fake.png");
  await Deno.writeTextFile(fakePng, "this is text, not a PNG");
  const fakeNii = join(tmp, "fake.nii.gz");
  await Deno.writeTextFile(fakeNii, "this is text, not NIfTI");
  const cutNii = join(tmp, "cut.nii");
  const { hu } = phantom(32, 32, 2);
  await Deno.writeFile(cutNii, nifti(hu, 32, 32, 2).subarray(0, 1000));
  const fakeDcm = join(tmp, "fake.dcm");
  await Deno.writeTextFile(fakeDcm, "this is text, not DICOM");
  const odd = join(tmp, "table.csv");
  await Deno.writeTextFile(odd, "a,b\n1,2\n");
  const out = join(tmp, "out");
  const cases: [string[], number, RegExp][] = [
    [[fakePng], 1, /fake\.png: not a PNG or JPEG file/],
    [[fakeNii], 1, /fake\.nii\.gz/],
    [[cutNii], 1, /cut\.nii.*truncated/],
    [[join(tmp, "missing.png")], 1, /missing\.png: no such file or folder/],
    [[odd], 1, /table\.csv: not a PNG, JPEG, NIfTI or DICOM file/],
    [[fakeDcm], 1, /fake\.dcm/],
    [[join(tmp, "empty")], 1, /empty: no such file/],
  ];
  for (const [inputs, code, pattern] of cases) {
    const r = await capture(train.predictMain, [
      "--checkpoint",
      ckpt,
      "--out",
      out,
      good,
      ...inputs,
    ]);
    assert.equal(r.code, code, `${inputs}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.ok(
      !(await Deno.stat(out).then(() => true, () => false)),
      `${inputs}: --out was written`,
    );
  }
  await Deno.mkdir(join(tmp, "empty"));
  const empty = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--out",
    out,
    join(tmp, "empty"),
  ]);
  assert.match(empty.stderr, /empty: no PNG, JPEG, NIfTI or DICOM files in the folder/);
  const none = await capture(train.predictMain, ["--checkpoint", ckpt]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give at least one INPUT/);
  const badWindow = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--window",
    "250,-200",
    good,
  ]);
  assert.equal(badWindow.code, 2);
  assert.match(badWindow.stderr, /--window "250,-200": give two numbers LO,HI with LO < HI/);
  const badPrecision = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--out",
    out,
    "--precision",
    "fp16",
    good,
  ]);
  assert.equal(badPrecision.code, 2);
  assert.match(badPrecision.stderr, /--precision "fp16": must be one of fp32, bf16/);
  assert.ok(!(await Deno.stat(out).then(() => true, () => false)), "--out was written");

  // A checkpoint from before preprocessing was recorded: both flags are required.
  const w = await train.loadWeights(ckpt);
  const { preprocessing: _, ...oldSpec } = w.spec!;
  using model = models.create(oldSpec.name, oldSpec.options);
  model.loadStateDict(w.state);
  w.dispose();
  const old = join(tmp, "old.safetensors");
  await train.saveWeights(old, model, oldSpec);
  const noFlags = await capture(train.predictMain, ["--checkpoint", old, "--out", out, good]);
  assert.equal(noFlags.code, 2);
  assert.match(
    noFlags.stderr,
    /old\.safetensors does not record how its training images were made .*give --window LO,HI .* and --image-size N/,
  );
  const oneFlag = await capture(train.predictMain, [
    "--checkpoint",
    old,
    "--window",
    "-200,250",
    good,
  ]);
  assert.match(oneFlag.stderr, /give --image-size N/);
  assert.doesNotMatch(oneFlag.stderr, /give --window/);
  assert.ok(!(await Deno.stat(out).then(() => true, () => false)));
  const withFlags = await capture(train.predictMain, [
    "--checkpoint",
    old,
    "--out",
    out,
    "--window",
    "-200,250",
    "--image-size",
    "64",
    good,
  ]);
  assert.equal(withFlags.code, 0, withFlags.stderr);
  const fresh = await capture(train.predictMain, [
    "--checkpoint",
    ckpt,
    "--out",
    join(tmp, "o2"),
    good,
  ]);
  assert.equal(
    await Deno.readTextFile(join(out, "predictions.csv")),
    await Deno.readTextFile(join(tmp, "o2", "predictions.csv")),
    "the flags stand in for the record exactly",
  );
  assert.equal(fresh.code, 0);
});

Deno.test("evaluate: a slice of another size in the split is resized, not refused", async () => {
  const runDir = await trainedRun();
  const src = await trainTestData();
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "val"));
  const csv = (await Deno.readTextFile(join(src, "val_classes.csv"))).trim().split("\n");
  for (const line of csv.slice(1)) {
    const name = line.split(",")[0];
    await Deno.copyFile(join(src, "val", name), join(root, "val", name));
  }
  // The second slice, replaced by a 100 x 100 version of itself.
  const second = csv[2].split(",")[0];
  const img = data.decodeImage(await Deno.readFile(join(src, "val", second)), second);
  const big = data.transforms.F.resize(img, [100, 100]);
  await Deno.writeFile(
    join(root, "val", second),
    data.encodeGreyPng(Uint8Array.from(big.data, (v) => Math.round(v)), 100, 100),
  );
  await Deno.writeTextFile(join(root, "val_classes.csv"), csv.join("\n") + "\n");
  const r = await capture(train.evaluateMain, [
    "--checkpoint",
    join(runDir, "best.safetensors"),
    "--data",
    root,
    "--split",
    "val",
    "--out",
    join(root, "report.html"),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /macro avg/);
  assert.match(r.stdout, new RegExp(`on ${root} \\(val, ${csv.length - 1} slices, fp32\\)`));
  const html = await Deno.readTextFile(join(root, "report.html"));
  // The mistakes grid carries Grad-CAM overlays when there are mistakes.
  if (/id="mistakes"/.test(html)) assert.match(html, /class="cam"/);
});

Deno.test("predict's inputs: a 4-D NIfTI gives its first volume and a note that says so", async () => {
  const w = 8, h = 8, d = 2, frames = 3;
  const values = Int16Array.from({ length: w * h * d * frames }, (_, i) => (i % 97) - 40);
  const bytes = nifti(values, w, h, d);
  const v = new DataView(bytes.buffer);
  v.setInt16(40, 4, true); // dim[0]: four dimensions
  v.setInt16(48, frames, true); // dim[4]
  const path = join(await Deno.makeTempDir(), "phases.nii");
  await Deno.writeFile(path, bytes);
  const notes: string[] = [];
  const items = await loadInputs([path], windowedPrep(w), notes);
  assert.equal(items[0].slices.length, d);
  assert.match(
    notes.join("\n"),
    /phases\.nii: 3 volumes along the dimensions after the 3rd; predicted on the first only/,
  );
});

/** Predict's preprocessing of `size`-pixel slices in the course's HU window, nothing after. */
function windowedPrep(size: number): PredictPreprocessing {
  return { window: [-200, 250], dataSize: [size, size], imageSize: size, transforms: [] };
}

/** The windowed model inputs predict makes of `paths`, and its notes. */
async function inputsOf(paths: string[], size: number) {
  const notes: string[] = [];
  const items = await loadInputs(paths, windowedPrep(size), notes);
  return { slices: items[0].slices.map((s) => Array.from(s.image.input)), notes };
}

Deno.test("predict's DICOM inputs: a feet-first series and an enhanced CT give the radiological view in HU", async () => {
  const w = 6, h = 4, d = 3;
  // Head-first supine as stored: columns toward the patient's left, slice z at 10 z mm.
  const hfs = (k: number) => Int16Array.from({ length: w * h }, (_, i) => -300 + 40 * i + 7 * k);
  const mirror = (a: Int16Array) =>
    Int16Array.from(a, (_, i) => a[Math.floor(i / w) * w + (w - 1 - (i % w))]);
  const tmp = await Deno.makeTempDir();
  const head = join(tmp, "hfs"), feet = join(tmp, "ffs");
  await Deno.mkdir(head);
  await Deno.mkdir(feet);
  for (let k = 0; k < d; k++) {
    await Deno.writeFile(join(head, `${k}.dcm`), dicom(hfs(k), w, h, 10 * k));
    // Feet-first: the same anatomy, columns toward the right (mirrored),
    // files named from the top down.
    await Deno.writeFile(
      join(feet, `${d - 1 - k}.dcm`),
      dicom(mirror(hfs(k)), w, h, 10 * k, { orientation: "-1\\0\\0\\0\\1\\0" }),
    );
  }
  const want = await inputsOf([head], w);
  const got = await inputsOf([feet], w);
  assert.deepEqual(got.slices, want.slices);
  assert.match(got.notes.join("\n"), /flipped left-right into the radiological view/);
  // Enhanced CT: three frames stored from the top down, the rescale and the
  // positions only in the functional groups (HU were 1024 too high before).
  const frames = Int16Array.from([2, 1, 0].flatMap((k) => [...hfs(k)]));
  const enhanced = join(tmp, "enhanced.dcm");
  await Deno.writeFile(enhanced, dicom(frames, w, h, undefined, { enhancedZ: [20, 10, 0] }));
  const e = await inputsOf([enhanced], w);
  assert.deepEqual(e.slices, want.slices);
  assert.match(e.notes.join("\n"), /stored from superior to inferior; taken from inferior/);
});

Deno.test("predict's NIfTI inputs: values that are not CT Hounsfield units get a note", async () => {
  const w = 8, h = 8, d = 2;
  const dir = await Deno.makeTempDir();
  const prep = windowedPrep(w);
  // An MR volume (values in the thousands, no air): every voxel clips to the window's top.
  const mr = join(dir, "t1.nii");
  await Deno.writeFile(
    mr,
    nifti(Int16Array.from({ length: w * h * d }, (_, i) => 7000 + i), w, h, d),
  );
  const ct = join(dir, "ct.nii");
  await Deno.writeFile(
    ct,
    nifti(Int16Array.from({ length: w * h * d }, (_, i) => -1000 + 11 * i), w, h, d),
  );
  const notes: string[] = [];
  await loadInputs([mr, ct], prep, notes);
  assert.equal(notes.length, 1, notes.join("\n"));
  assert.match(notes[0], /t1\.nii: values 7000\.\.7127 do not look like CT Hounsfield units/);
});

Deno.test("predict into a folder whose predictions.html is a folder: refused first, earlier predictions kept", async () => {
  const runDir = await trainedRun();
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(join(out, "predictions.csv"), "earlier\n");
  await Deno.mkdir(join(out, "predictions.html"));
  const ds = new data.LiTSDataset({ root: await trainTestData(), split: "test" });
  const r = await capture(train.predictMain, [
    "--checkpoint",
    join(runDir, "best.safetensors"),
    "--out",
    out,
    ds.path(0),
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /predictions\.html is a folder/);
  // It used to delete the earlier predictions.csv and leave a temporary file.
  assert.equal(await Deno.readTextFile(join(out, "predictions.csv")), "earlier\n");
  assert.deepEqual((await Array.fromAsync(Deno.readDir(out))).map((e) => e.name).sort(), [
    "predictions.csv",
    "predictions.html",
  ]);
  // writeFileAtomic onto a folder: a clear error, and no temporary file left beside it.
  await assert.rejects(
    train.writeFileAtomic(join(out, "predictions.html"), new Uint8Array([1])),
    /cannot write .*predictions\.html/,
  );
  assert.equal((await Array.fromAsync(Deno.readDir(out))).length, 2);
});
