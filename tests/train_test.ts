/**
 * The trainer in-process: the run folder's files, reproducibility with one
 * seed, memory flat over epochs, early stopping that restores the best
 * weights, a NaN loss and a real divergence, devices, and bad data folders.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  areDeterministicAlgorithmsEnabled,
  cudaAvailable,
  data,
  manualSeed,
  memoryStats,
  models,
  nn,
  optim,
  train,
  useDeterministicAlgorithms,
} from "../mod.ts";
import { trainEpoch } from "../src/train/epoch.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { buildSchedule } from "../src/train/setup.ts";
import { trainTestData } from "./train_data.ts";

async function config(overrides: Partial<train.TrainConfig> = {}): Promise<train.TrainConfig> {
  return train.checkConfig({
    ...train.DEFAULTS,
    data: await trainTestData(),
    out: join(await Deno.makeTempDir(), "run"),
    epochs: 3,
    imageSize: 16,
    batchSize: 16,
    augment: "none",
    seed: 7,
    logEvery: 2,
    ...overrides,
  });
}

async function records(dir: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(dir, "metrics.jsonl"));
  return text.trim().split("\n").map((l) => JSON.parse(l));
}

/** Records without wall-clock numbers. */
async function numbers(dir: string) {
  return (await records(dir)).map(({ seconds: _s, imagesPerSecond: _i, ...r }) => r);
}

Deno.test("fit writes config.json, metrics.jsonl, best and full checkpoints, and report.html", async () => {
  const c = await config({ dropout: 0.2, valEvery: 2 });
  const lines: string[] = [];
  const result = await train.fit(c, { log: (l) => lines.push(l) });
  const dir = result.paths.dir;
  const saved = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  assert.equal(saved.imageSize, 16);
  assert.equal(saved.data, c.data);
  assert.equal(saved.dropout, 0.2);
  const rs = await records(dir);
  const epochs = rs.filter((r) => r.type === "epoch");
  assert.deepEqual(epochs.map((r) => r.epoch), [1, 2, 3]);
  for (const key of ["trainLoss", "trainAcc", "valLoss", "valAcc", "lr", "seconds", "step"]) {
    assert.equal(typeof epochs[1][key], "number", key);
  }
  // --val-every 2: epoch 1 is not validated; epoch 3, the last, always is.
  assert.deepEqual(epochs.map((r) => r.valLoss === null), [true, false, false]);
  const steps = rs.filter((r) => r.type === "step");
  assert.ok(steps.length >= 4 && steps.every((r) => (r.step as number) % 2 === 0));
  assert.equal(rs.at(-1)!.type, "test");
  assert.equal(lines.filter((l) => l.startsWith("epoch")).length, 3);

  const ckpt = await train.loadCheckpoint(join(dir, "checkpoint.safetensors"));
  assert.equal(ckpt.info.epoch, 3);
  assert.equal(ckpt.info.loader.epoch, 3);
  assert.equal(ckpt.info.trainer.history.length, 3);
  assert.ok(ckpt.info.paramState.every((p) => p.step === ckpt.info.step));
  ckpt.dispose();
  const best = await train.loadWeights(join(dir, "best.safetensors"));
  assert.deepEqual(best.spec?.options, {
    inChannels: 1,
    numClasses: 3,
    imageSize: 16,
    dropout: 0.2,
    batchNorm: true, // the default
    globalPool: "max", // the default
  });
  // Inputs are standardised with the training split's pixel statistics, kept with the weights.
  assert.ok(best.spec!.normalize!.mean > 0 && best.spec!.normalize!.std > 0);
  best.dispose();
  const html = await Deno.readTextFile(join(dir, "report.html"));
  assert.ok(html.startsWith("<!doctype html>") && html.includes("<svg"));
});

Deno.test("the same seed gives the same metrics; another seed does not", async () => {
  // On a GPU, as in PyTorch, only with deterministic algorithms: cuDNN's
  // fastest convolutions may sum in a different order on each call.
  const before = areDeterministicAlgorithmsEnabled();
  useDeterministicAlgorithms(before || cudaAvailable());
  try {
    const a = await train.fit(await config({ dropout: 0.3, augment: "ct", balanced: true }), {
      report: false,
    });
    const b = await train.fit(await config({ dropout: 0.3, augment: "ct", balanced: true }), {
      report: false,
    });
    const c = await train.fit(
      await config({ dropout: 0.3, augment: "ct", balanced: true, seed: 8 }),
      { report: false },
    );
    assert.deepEqual(await numbers(a.paths.dir), await numbers(b.paths.dir));
    assert.notDeepEqual(await numbers(a.paths.dir), await numbers(c.paths.dir));
  } finally {
    useDeterministicAlgorithms(before);
  }
});

const bf16Level = new Int32Array(1);
const noBf16 = cpuLib().lits_bf16_support?.(bf16Level) !== 0 || bf16Level[0] === 0;

Deno.test({
  name: "precision bf16: the run records it and trains under autocast, close to fp32's",
  ignore: noBf16,
  async fn() {
    const fp32 = await train.fit(await config({ epochs: 2 }), { report: false });
    const bf16 = await train.fit(await config({ epochs: 2, precision: "bf16" }), { report: false });
    const saved = JSON.parse(await Deno.readTextFile(join(bf16.paths.dir, "config.json")));
    assert.equal(saved.precision, "bf16");
    const losses = async (dir: string) =>
      (await records(dir)).filter((r) => r.type === "step").map((r) => r.loss as number);
    const a = await losses(fp32.paths.dir), b = await losses(bf16.paths.dir);
    assert.equal(a.length, b.length);
    // The first step's loss: the same weights and batch, only rounding apart.
    assert.notEqual(a[0], b[0]);
    assert.ok(Math.abs(a[0] - b[0]) < 1e-2 * a[0], `first loss ${a[0]} vs ${b[0]}`);
    const test = async (dir: string) => (await records(dir)).find((r) => r.type === "test")!;
    const ta = await test(fp32.paths.dir), tb = await test(bf16.paths.dir);
    assert.ok(Math.abs((ta.loss as number) - (tb.loss as number)) < 0.1, `${ta.loss} ${tb.loss}`);
  },
});

Deno.test("memory is flat over training epochs and evaluations", async () => {
  const root = await trainTestData();
  const ds = new data.LiTSDataset({ root, split: "train" });
  const resize = [{ name: "Resize", size: [16, 16] }];
  const loader = new data.DataLoader(ds, { batchSize: 16, shuffle: true, transform: resize });
  const evalLoader = new data.DataLoader(ds, { batchSize: 32, transform: resize });
  manualSeed(1);
  using model = models.create("simple", { imageSize: 16, batchNorm: true });
  const optimizer = new optim.Adam(model.parameters()) as never;
  const cfg = await config();
  const ctx = {
    model,
    optimizer,
    lossFn: new nn.CrossEntropyLoss(),
    schedule: buildSchedule({ ...cfg, scheduler: "onecycle" }, optimizer, loader.length),
    loader,
    progress: train.silentProgress,
    onLog: () => {},
    logEvery: 1,
  };
  const inUse: number[] = [];
  let step = 0;
  for (let epoch = 1; epoch <= 4; epoch++) {
    step = (await trainEpoch(ctx, epoch, 4, step)).step;
    await train.evaluateModel(model, evalLoader, { keepMistakes: 3 });
    inUse.push(memoryStats().bytesInUse);
  }
  // Epoch 1 creates Adam's moments; after that nothing may accumulate.
  assert.deepEqual(inUse.slice(1), [inUse[1], inUse[1], inUse[1]], `bytes in use: ${inUse}`);
  ds.close();
});

Deno.test("early stopping ends the run and the test metrics are those of the best weights", async () => {
  const c = await config({ epochs: 12, earlyStopping: 1, lr: 0.03 });
  const result = await train.fit(c, { report: false });
  assert.ok(result.stoppedEarly, "val loss never rose: make the run overfit harder");
  assert.ok(result.history.length < 12);
  assert.ok(result.bestEpoch < result.history.length);
  const losses = result.history.map((h) => h.valLoss as number);
  assert.equal(Math.min(...losses), losses[result.bestEpoch - 1]);
  // Evaluate best.safetensors by itself: the same test loss as the run reported.
  const best = await train.loadWeights(join(result.paths.dir, "best.safetensors"));
  using model = models.create(best.spec!.name, best.spec!.options);
  model.loadStateDict(best.state);
  best.dispose();
  const test = new data.LiTSDataset({ root: c.data!, split: "test" });
  const loader = new data.DataLoader(test, {
    batchSize: 64,
    transform: train.evalTransforms(best.spec!, test.width, test.height),
  });
  const e = await train.evaluateModel(model, loader);
  assert.equal(e.loss, result.test.loss);
  test.close();
});

Deno.test("a NaN loss stops training at that step and keeps the last good checkpoint", async () => {
  const c = await config({ epochs: 4 });
  // 75 train slices in batches of 16: 5 steps per epoch; step 13 is in epoch 3.
  Deno.env.set("LITS_TRAIN_FAULT", "nan-loss=13");
  try {
    await assert.rejects(
      train.fit(c, { report: false }),
      (e: train.DivergedError) => {
        assert.ok(e instanceof train.DivergedError);
        assert.equal(e.step, 13);
        assert.equal(e.epoch, 3);
        assert.match(
          e.message,
          /became NaN at step 13 \(epoch 3\).*checkpoint\.safetensors, is kept/,
        );
        return true;
      },
    );
  } finally {
    Deno.env.delete("LITS_TRAIN_FAULT");
  }
  const ckpt = await train.loadCheckpoint(join(c.out, "checkpoint.safetensors"));
  assert.equal(ckpt.info.epoch, 2);
  ckpt.dispose();
  const last = (await records(c.out)).at(-1)!;
  assert.deepEqual(last, { type: "stop", epoch: 3, step: 13, loss: "NaN" });
});

Deno.test("a real divergence (SGD at lr 1e6) stops with the step; no checkpoint was written", async () => {
  const c = await config({ optimizer: "sgd", lr: 1e6 });
  await assert.rejects(
    train.fit(c, { report: false }),
    /loss became (NaN|Infinity|-Infinity) at step \d+ \(epoch 1\).*No checkpoint/,
  );
  await assert.rejects(Deno.stat(join(c.out, "checkpoint.safetensors")), Deno.errors.NotFound);
});

Deno.test("a divergence at an epoch's last step (one step per epoch) stops before validation numbers, best or checkpoint", async () => {
  // Its loss was finite; the update made the weights overflow the next forward.
  const c = await config({ optimizer: "sgd", lr: 1e30, batchSize: 75, epochs: 2 });
  await assert.rejects(
    train.fit(c, { report: false }),
    /the (validation loss|weights \(.*\)) became (NaN|Infinity|-Infinity) at step 1 \(epoch 1\).*No checkpoint/,
  );
  await assert.rejects(Deno.stat(join(c.out, "checkpoint.safetensors")), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(join(c.out, "best.safetensors")), Deno.errors.NotFound);
  assert.equal((await records(c.out)).at(-1)!.type, "stop");
});

Deno.test("--device auto trains on the cpu without CUDA; cuda says why it cannot", async () => {
  const lines: string[] = [];
  await train.fit(await config({ epochs: 1, device: "auto" }), {
    report: false,
    log: (l) => lines.push(l),
  });
  const expected = cudaAvailable() ? "cuda" : "cpu";
  assert.ok(lines.some((l) => l.includes(`device ${expected}`)), lines.join("\n"));
  if (!cudaAvailable()) {
    await assert.rejects(
      train.fit(await config({ device: "cuda" })),
      /--device cuda: device 'cuda' is unavailable/,
    );
  }
});

Deno.test("a data folder not in the layout: the error lists what is missing", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "train"));
  await Deno.writeTextFile(join(dir, "val_classes.csv"), "filename,liver_visible,lesion_visible\n");
  await assert.rejects(
    train.fit(await config({ data: dir })),
    /not in the Clean_LiTS layout: missing train_classes\.csv .*val\/ .*test\/ .*test_classes\.csv/,
  );
  await assert.rejects(train.fit(await config({ data: join(dir, "nope") })), /does not exist/);
});
