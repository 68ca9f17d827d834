/**
 * Synthetic LiTS: determinism, patient-level splits, anatomy where it
 * belongs, the realistic preset's class mix, the written layout read back by
 * LiTSDataset, and that a tiny CNN learns the easy preset in seconds.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, manualSeed, nn, noGrad, optim, tensor } from "../mod.ts";
import { makePatient } from "../src/data/synthetic/anatomy.ts";
import { simulatePatient } from "../src/data/synthetic/patient.ts";
import { resolveSettings } from "../src/data/synthetic/presets.ts";
import { renderSlice } from "../src/data/synthetic/render.ts";
import { Rng } from "../src/data/synthetic/rng.ts";
import { splitPatients } from "../src/data/synthetic/writer.ts";
import { splitCounts } from "../src/data/split_shares.ts";

const { LiTSDataset, SYNTH_PRESETS, synthesizeLiTS } = data;

Deno.test("synthetic patients are deterministic per seed and differ across seeds", () => {
  const s = resolveSettings({ ...SYNTH_PRESETS.easy, slicesPerPatient: 16 });
  const a = simulatePatient(3, 7, s);
  const b = simulatePatient(3, 7, s);
  assert.deepEqual(a, b);
  const c = simulatePatient(3, 8, s);
  assert.notDeepEqual(a.map((x) => x.pixels), c.map((x) => x.pixels));
  assert.ok(a.every((x) => x.pixels.length === 64 * 64));
  // Slices run up the body: z increases from the pelvis to the chest.
  assert.ok(a.every((x, i) => i === 0 || x.z > a[i - 1].z));
});

Deno.test("anatomy: the liver sits on the image's left, the spleen on its right", () => {
  for (let i = 0; i < 5; i++) {
    const p = makePatient(new Rng(11, i), 0.25);
    const grid = { size: 96, fov: p.fov };
    const r = renderSlice(p, [], -p.liverLength * 0.4, grid, 0, new Rng(1));
    let sx = 0;
    let n = 0;
    r.liver.forEach((v, k) => {
      if (v) {
        sx += k % grid.size;
        n++;
      }
    });
    assert.ok(n > 100, `patient ${i}: liver has ${n} pixels`);
    assert.ok(sx / n < grid.size * 0.45, `patient ${i}: liver centroid column ${sx / n}`);
    const spleen = p.tissues.find((t) => t.name === "spleen")!;
    assert.ok(spleen.from[0] > 0);
    // HU values: liver enhanced 90-130 or unenhanced 50-70.
    assert.ok((p.liverHU >= 90 && p.liverHU <= 130) || (p.liverHU >= 50 && p.liverHU <= 70));
  }
});

Deno.test("splits are by patient, cover everyone once, and follow the shares", () => {
  const [train, val, test] = splitPatients(30, [0.7, 0.15, 0.15], 5);
  assert.deepEqual([train.length, val.length, test.length], [20, 5, 5]);
  assert.deepEqual([...train, ...val, ...test].sort((a, b) => a - b), [...Array(30).keys()]);
  assert.deepEqual(splitPatients(3, [0.7, 0.15, 0.15], 0).map((g) => g.length), [1, 1, 1]);
});

Deno.test("the realistic preset's class mix is about 69 / 18 / 13 %", () => {
  // 16 patients at the preset's 128^2 (about 1,600 slices) keep this test near 7 s.
  const s = resolveSettings({ ...SYNTH_PRESETS.realistic });
  const counts = [0, 0, 0];
  for (let i = 0; i < 16; i++) {
    for (const x of simulatePatient(i, 0, s)) counts[x.lesion ? 2 : x.liver ? 1 : 0]++;
  }
  const n = counts[0] + counts[1] + counts[2];
  const mix = counts.map((c) => c / n);
  const msg = `mix ${mix.map((v) => (100 * v).toFixed(1)).join(" / ")} over ${n} slices`;
  assert.ok(Math.abs(mix[0] - 0.69) < 0.04, msg);
  assert.ok(Math.abs(mix[1] - 0.18) < 0.04, msg);
  assert.ok(Math.abs(mix[2] - 0.13) < 0.04, msg);
});

Deno.test("synthesizeLiTS writes the course layout, reuses it, and rejects bad options", async () => {
  const out = await Deno.makeTempDir({ prefix: "synth_" });
  const opts = { out, preset: "easy" as const, patients: 5, slicesPerPatient: 10, seed: 3 };
  const summary = await synthesizeLiTS(opts);
  assert.equal(summary.reused, false);
  const seen = new Map<number, string>();
  for (const split of data.SPLITS) {
    const ds = new LiTSDataset({ root: out, split });
    assert.equal(ds.length, summary.splits[split].slices);
    assert.deepEqual(ds.classCounts(), summary.splits[split].classCounts);
    const { image } = await ds.get(0);
    assert.deepEqual([image.width, image.height], [64, 64]);
    const csv = await Deno.readTextFile(join(out, `${split}_classes.csv`));
    for (const line of csv.trim().split("\n").slice(1)) {
      const patient = Number(line.split(",")[3]);
      assert.ok(
        !seen.has(patient) || seen.get(patient) === split,
        `patient ${patient} in two splits`,
      );
      seen.set(patient, split);
    }
  }
  assert.equal(seen.size, 5);
  const again = await synthesizeLiTS(opts);
  assert.equal(again.reused, true);
  assert.deepEqual(again.classCounts, summary.classCounts);
  // Other settings replace the old files.
  const smaller = await synthesizeLiTS({ ...opts, patients: 3 });
  assert.equal(smaller.reused, false);
  const files = [...Deno.readDirSync(join(out, "train"))].length +
    [...Deno.readDirSync(join(out, "val"))].length +
    [...Deno.readDirSync(join(out, "test"))].length;
  assert.equal(files, smaller.classCounts.reduce((a, b) => a + b, 0));

  await assert.rejects(() => synthesizeLiTS({ out, preset: "hard" as "easy" }), /unknown preset/);
  await assert.rejects(() => synthesizeLiTS({ out, classMix: [1, 0, 0] }), /classMix/);
  await assert.rejects(() => synthesizeLiTS({ out, size: 8 }), /size/);
});

Deno.test("a tiny CNN learns the easy preset in seconds", async () => {
  manualSeed(0);
  const out = await Deno.makeTempDir({ prefix: "synth_easy_" });
  await synthesizeLiTS({ out, preset: "easy", seed: 1 });
  const load = async (splits: string[]) => {
    const sets = splits.map((split) => new LiTSDataset({ root: out, split }));
    const n = sets.reduce((s, d) => s + d.length, 0);
    const x = new Float32Array(n * 4096);
    const y = new Int32Array(n);
    let k = 0;
    for (const ds of sets) {
      for (let i = 0; i < ds.length; i++, k++) {
        const s = await ds.get(i);
        x.set(s.image.data, k * 4096);
        y[k] = s.label;
      }
    }
    return { x, y, n };
  };
  const train = await load(["train"]);
  const held = await load(["val", "test"]);
  const block = (i: number, o: number) => [
    new nn.Conv2d(i, o, 3, { padding: 1 }),
    new nn.BatchNorm2d(o),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
  ];
  const model = new nn.Sequential(
    ...block(1, 16),
    ...block(16, 32),
    ...block(32, 32),
    new nn.Flatten(),
    new nn.Linear(32 * 8 * 8, 3),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 2e-3 });
  const lossFn = new nn.CrossEntropyLoss();
  const rng = new Rng(0);
  const batch = 32;
  const start = performance.now();
  for (let epoch = 0; epoch < 10; epoch++) {
    const order = [...Array(train.n).keys()].sort(() => rng.uniform() - 0.5);
    for (let b = 0; b + batch <= train.n; b += batch) {
      const idx = order.slice(b, b + batch);
      const xb = new Float32Array(batch * 4096);
      idx.forEach((i, k) => xb.set(train.x.subarray(i * 4096, (i + 1) * 4096), k * 4096));
      opt.zeroGrad();
      const loss = lossFn.forward(
        model.forward(tensor(xb, [batch, 1, 64, 64])),
        tensor(Int32Array.from(idx, (i) => train.y[i]), [batch], { dtype: "int32" }),
      );
      loss.backward();
      opt.step();
    }
  }
  opt.zeroGrad();
  model.eval();
  const pred = noGrad(() => model.forward(tensor(held.x, [held.n, 1, 64, 64])).argmax(1).toArray());
  const acc = held.y.reduce((s, y, i) => s + (pred[i] === y ? 1 : 0), 0) / held.n;
  const seconds = (performance.now() - start) / 1000;
  // About 0.9 is typical; the majority class alone would give about 0.4.
  assert.ok(acc >= 0.8, `held-out accuracy ${acc.toFixed(3)} after ${seconds.toFixed(1)} s`);
});

Deno.test("shares that rounding cannot honour never put a patient in two splits", () => {
  // 90 % asked for validation of 5 patients: round(4.5) + 1 test once left train at -1
  // and slice(0, -1) handed four patients to train and to validation.
  for (
    const [n, shares, counts] of [
      [5, [0.05, 0.9, 0.05], [1, 3, 1]],
      [3, [0.05, 0.05, 0.9], [1, 1, 1]],
      [3, [0, 0.5, 0.5], [0, 1, 2]],
      [4, [0, 0.5, 0.5], [0, 2, 2]],
      [2, [0.5, 0.5, 0], [1, 1, 0]],
    ] as [number, number[], number[]][]
  ) {
    const groups = splitPatients(n, shares, 1);
    assert.deepEqual(groups.map((g) => g.length), counts, `${n} patients, ${shares}`);
    assert.deepEqual(groups.flat().sort((a, b) => a - b), [...Array(n).keys()]);
  }
  for (const bad of [[0.7, -0.2, 0.5], [0, 0, 0], [0.5, 0.5], [0.7, NaN, 0.3]]) {
    assert.throws(() => splitPatients(10, bad, 1), /split shares must be three non-negative/);
  }
  // The LiTS importer's rule (no minimum of one): a zero train share gets no volume,
  // where round(1.5) + round(1.5) once gave volume 0 to train and to test.
  assert.deepEqual(splitCounts(3, [0, 0.5, 0.5], false), [0, 1, 2]);
  assert.deepEqual(splitCounts(131, [0.7, 0.15, 0.15], false), [91, 20, 20]);
});

Deno.test("synthesizeLiTS never deletes or overwrites files it did not write", async () => {
  const base = await Deno.makeTempDir();
  const small = { preset: "easy", patients: 3, slicesPerPatient: 4, size: 16 } as const;
  const ours = join(base, "ours");
  await data.synthesizeLiTS({ out: ours, ...small });
  // A file of the user's among the slices: regenerating used to delete the split folder.
  await Deno.writeTextFile(join(ours, "train", "my_slice.png"), "mine");
  await assert.rejects(
    data.synthesizeLiTS({ out: ours, ...small, seed: 1 }),
    /holds files it did not write \(.*my_slice\.png\)/,
  );
  assert.equal(await Deno.readTextFile(join(ours, "train", "my_slice.png")), "mine");
  // A real dataset (labels of another writer): its labels files used to be overwritten.
  const real = join(base, "real");
  await Deno.mkdir(join(real, "train"), { recursive: true });
  const labels = "filename,liver_visible,lesion_visible\nvolume-0_slice_1.png,1,0\n";
  await Deno.writeTextFile(join(real, "train_classes.csv"), labels);
  await assert.rejects(data.synthesizeLiTS({ out: real, ...small }), /train_classes\.csv/);
  assert.equal(await Deno.readTextFile(join(real, "train_classes.csv")), labels);
});
