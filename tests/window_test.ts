/**
 * `--input-window`: the Hounsfield window a run clips its inputs to. The flag and
 * config checks, the transform's placement, the statistics taken after it,
 * a resumed old run keeping its own (no) window, and `evaluate` applying
 * the window the checkpoint records (its test loss equals fit's).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
// deno-lint-ignore no-import-prefix -- the encoder of the 16-bit PNGs
import { encode as encodePng } from "npm:fast-png@8";
import { data, train } from "../mod.ts";
import { compose } from "../src/data/transforms/compose.ts";
import { pixelStats } from "../src/train/data.ts";
import { openSplit } from "../src/train/data.ts";
import { resumeConfig } from "../src/train/cli.ts";
import { capture, fitAndEvaluateTestLoss, quickFlags, trainTestData } from "./train_data.ts";

Deno.test("--input-window: parsed in HU, none turns it off, bad values name the flag", () => {
  assert.deepEqual(train.DEFAULTS.inputWindow, [25, 125]);
  assert.deepEqual(train.parseTrainArgs(["--input-window", "-50,200"]).config.inputWindow, [
    -50,
    200,
  ]);
  assert.equal(train.parseTrainArgs(["--input-window", "none"]).config.inputWindow, null);
  for (const bad of ["150,0", "0,0", "a,b", "1", "1,2,3", ",5"]) {
    assert.throws(
      () => train.parseTrainArgs(["--input-window", bad]),
      (e: Error) => e.name === "UsageError" && e.message.startsWith(`--input-window "${bad}"`),
      bad,
    );
  }
  assert.throws(
    () => train.checkConfig({ ...train.DEFAULTS, inputWindow: [5] as never }),
    /--input-window \[5\]: must be \[low, high\] in HU/,
  );
  assert.match(train.trainHelp(), /--input-window LO,HI .*\(default: 25,125\)/);
});

Deno.test("windowTransform maps HU through the data's window; it comes before augmentation", () => {
  const w = train.windowTransform([0, 150], [-200, 250]);
  assert.equal(w.name, "ScaleIntensityRange");
  assert.ok(Math.abs(w.aMin - 200 / 450) < 1e-12 && Math.abs(w.aMax - 350 / 450) < 1e-12);
  const t = train.runTransforms("RandomGamma", 64, 128, 128, { mean: 0.1, std: 0.2 }, w);
  assert.deepEqual(t.train.map((s) => s.name), [
    "Resize",
    "ScaleIntensityRange",
    "RandomGamma",
    "Normalize",
  ]);
  assert.deepEqual(t.eval.map((s) => s.name), ["Resize", "ScaleIntensityRange", "Normalize"]);
});

Deno.test("dataWindow: synthetic_lits.json's window, else the course's; a broken file is an Error", async () => {
  const dir = await Deno.makeTempDir();
  assert.deepEqual(train.dataWindow(dir), [-200, 250]);
  const file = join(dir, "synthetic_lits.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify({ summary: { settings: { window: [-100, 300] } } }),
  );
  assert.deepEqual(train.dataWindow(dir), [-100, 300]);
  await Deno.writeTextFile(file, JSON.stringify({ summary: { settings: { window: [3] } } }));
  assert.throws(() => train.dataWindow(dir), /synthetic_lits\.json: summary\.settings\.window/);
  await Deno.writeTextFile(file, "{");
  assert.throws(() => train.dataWindow(dir), /synthetic_lits\.json: not readable JSON/);
});

Deno.test("pixelStats after a window are those of the clipped, rescaled pixels", async () => {
  const ds = openSplit(await trainTestData(), "train");
  try {
    const w = { aMin: 0.4, aMax: 0.8 };
    const step = Math.max(1, Math.floor(ds.length / 256));
    let sum = 0, sq = 0, n = 0;
    for (let i = 0; i < ds.length; i += step) {
      for (const raw of ds.getSync(i).image.data) {
        const v = Math.min(1, Math.max(0, (raw - 0.4) / 0.4));
        sum += v, sq += v * v, n++;
      }
    }
    const s = pixelStats(ds, 256, w);
    assert.ok(Math.abs(s.mean - sum / n) < 1e-4, `${s.mean} vs ${sum / n}`);
    assert.ok(Math.abs(s.std - Math.sqrt(sq / n - (sum / n) ** 2)) < 1e-4);
    assert.notDeepEqual(s, pixelStats(ds, 256));
  } finally {
    ds.close();
  }
});

Deno.test("pixelStats refuses images the window leaves flat (16-bit PNGs low in their range)", async () => {
  // Values 0..255 saved as 16-bit: over 0..65535 all fall below a 25..125 HU window.
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "train"));
  await Deno.writeTextFile(
    join(root, "train_classes.csv"),
    "filename,liver_visible,lesion_visible\na.png,1,0\n",
  );
  const sixteen = new Uint16Array([0, 80, 160, 255]);
  await Deno.writeFile(
    join(root, "train", "a.png"),
    encodePng({ width: 2, height: 2, channels: 1, depth: 16, data: sixteen }),
  );
  const ds = new data.LiTSDataset({ root, split: "train", normalize: "none" });
  assert.throws(
    () => pixelStats(ds, 256, { aMin: 0.5, aMax: 0.72 }),
    /the train images are one flat value after the intensity window .* check their bit depth and value range \(16-bit PNGs are read over 0\.\.65535\)/,
  );
  ds.close();
});

Deno.test("a run records its window; evaluate applies it (same test loss as fit)", async () => {
  const data = await trainTestData();
  for (const window of ["0,150", "none"]) {
    const out = join(await Deno.makeTempDir(), "run");
    const r = await capture(train.trainMain, [
      ...quickFlags(data, out, 1),
      "--input-window",
      window,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assert.deepEqual(config.inputWindow, window === "none" ? null : [0, 150]);
    // The record says how the slices were scaled (it said "minmax" for both).
    const weights = await train.loadWeights(join(out, "best.safetensors"));
    assert.equal(weights.spec?.preprocessing?.scaling, window === "none" ? "minmax" : "none");
    weights.dispose();
    const loss = await fitAndEvaluateTestLoss(out);
    assert.ok(Math.abs(loss.evaluate - loss.fit) < 1e-4, `${window}: ${JSON.stringify(loss)}`);
  }
});

Deno.test("--resume of a run from before --input-window keeps it off", async () => {
  const out = await Deno.makeTempDir();
  const old: Record<string, unknown> = { ...train.DEFAULTS, out };
  delete old.inputWindow;
  await Deno.writeTextFile(join(out, "config.json"), JSON.stringify(old));
  const config = await resumeConfig({ ...train.DEFAULTS, out }, new Set(["out"]));
  assert.equal(config.inputWindow, null);
});

Deno.test("an input window is taken in HU: a slice that does not span the PNG's range is not stretched first", async () => {
  // One slice of the course's [-200, 250] HU PNGs, pixels 30..200 only
  // (HU -147 .. 153): min-max scaled before the window, as runs did, its 24
  // HU pixel read as 0.32 of a 25..125 window instead of 0.
  const root = await Deno.makeTempDir();
  await Deno.mkdir(join(root, "train"));
  const pixels = [30, 127, 128, 142, 156, 200];
  await Deno.writeFile(
    join(root, "train", "a.png"),
    data.encodeGreyPng(Uint8Array.from(pixels), pixels.length, 1),
  );
  await Deno.writeTextFile(
    join(root, "train_classes.csv"),
    "filename,liver_visible,lesion_visible\na.png,1,0\n",
  );
  const w = train.windowTransform([25, 125], [-200, 250]);
  const ds = openSplit(root, "train", train.sliceScaling([w]));
  try {
    const got = compose([w]).apply(ds.getSync(0).image, new data.Rng(0)).data;
    const want = pixels.map((p) => {
      const hu = -200 + (p / 255) * 450;
      return Math.min(1, Math.max(0, (hu - 25) / 100));
    });
    got.forEach((v, i) =>
      assert.ok(Math.abs(v - want[i]) < 1e-5, `pixel ${pixels[i]}: ${v} vs ${want[i]}`)
    );
  } finally {
    ds.close();
  }
  assert.equal(train.sliceScaling([{ name: "Resize", size: [8, 8] }]), "minmax");
});

Deno.test("a run without normalisation is refused too when the window leaves its images flat", async () => {
  const root = await Deno.makeTempDir();
  const png = encodePng({
    width: 16,
    height: 16,
    channels: 1,
    depth: 16,
    data: new Uint16Array(256).map((_, i) => i),
  });
  for (const split of ["train", "val", "test"]) {
    await Deno.mkdir(join(root, split));
    const rows = ["filename,liver_visible,lesion_visible"];
    for (const [k, label] of [[0, "0,0"], [1, "1,0"], [2, "1,1"]] as const) {
      await Deno.writeFile(join(root, split, `s${k}.png`), png);
      rows.push(`s${k}.png,${label}`);
    }
    await Deno.writeTextFile(join(root, `${split}_classes.csv`), rows.join("\n") + "\n");
  }
  const out = join(await Deno.makeTempDir(), "run");
  const r = await capture(train.trainMain, [...quickFlags(root, out, 1), "--no-normalize"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the train images are one flat value after the intensity window/);
});
