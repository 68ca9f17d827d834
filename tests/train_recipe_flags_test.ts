/**
 * The training CLI's flags from torchvision's classification reference
 * recipe: --lr-warmup-epochs/-method/-decay, --model-ema/-steps/-decay,
 * --clip-grad-norm, --norm-weight-decay, --bias-weight-decay and --momentum.
 * Against torch 1.13 and torchvision 0.14 (tests/fixtures/recipe_flags.json,
 * written by scripts/make_recipe_flags_fixtures.py): the lr of each epoch
 * under a warm-up, the model and EMA weights of train_one_epoch with
 * clipping, momentum and the EMA's update schedule, and set_weight_decay's
 * groups. Then whole runs: the flags in --help and config.json, their
 * checks (exit 2), EMA lines in metrics.jsonl, best_ema.safetensors read by
 * evaluate, and --resume continuing the EMA exactly.
 *
 * Tensors and runs are on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { models, nn, optim, type Tensor, train } from "../mod.ts";
import { capture, quickFlags, trainTestData } from "./train_data.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";
import { buildOptimizer, buildSchedule, currentLr } from "../src/train/setup.ts";
import { trainEpoch } from "../src/train/epoch.ts";
import type { DataLoader } from "../src/data/loader.ts";

interface Schedule {
  lr: number;
  epochs: number;
  warmupEpochs: number;
  method: "linear" | "constant";
  decay: number;
  scheduler: "cosine" | "step" | "none";
  lrs: number[];
}
type State = Record<string, StoredRecord>;
interface EmaCase {
  clip: number | null;
  warmupEpochs: number;
  emaSteps: number;
  emaDecay: number;
  epochs: number;
  batchSize: number;
  adjustedDecay: number;
  init: State;
  batches: { images: StoredRecord; labels: StoredRecord }[];
  epochStates: { model: State; ema: State }[];
}
interface Grouping {
  model: "resnet18" | "norms";
  weightDecay: number;
  normWeightDecay: number | null;
  biasWeightDecay: number | null;
  groups: { weightDecay: number; names: string[] }[];
}
const FIX = loadFixture<{ schedules: Schedule[]; ema: EmaCase[]; weightDecay: Grouping[] }>(
  "recipe_flags.json",
);

const config = (over: Partial<train.TrainConfig>): train.TrainConfig =>
  train.checkConfig({ ...train.DEFAULTS, ...over });

/** The lr of each epoch of a config's schedule, with `valLoss(epoch)` as each validation's loss. */
function epochLrs(c: train.TrainConfig, valLoss: (epoch: number) => number = () => 1) {
  using model = new nn.Linear(2, 2);
  const opt = buildOptimizer(c, model);
  const schedule = buildSchedule(c, opt, 4);
  const lrs: number[] = [];
  for (let e = 1; e <= c.epochs; e++) {
    lrs.push(currentLr(opt));
    schedule.afterEpoch(valLoss(e));
  }
  opt.dispose();
  return lrs;
}

const close = (a: number[], b: number[], what: string) => {
  assert.equal(a.length, b.length, what);
  a.forEach((v, i) =>
    assert.ok(Math.abs(v - b[i]) <= 1e-7 + 1e-6 * Math.abs(b[i]), `${what}: ${a}`)
  );
};

Deno.test("warm-up: the lr of each epoch is torch's LinearLR/ConstantLR + SequentialLR", () => {
  for (const s of FIX.schedules) {
    const c = config({
      optimizer: "sgd",
      lr: s.lr,
      epochs: s.epochs,
      scheduler: s.scheduler,
      lrWarmupEpochs: s.warmupEpochs,
      lrWarmupMethod: s.method,
      lrWarmupDecay: s.decay,
    });
    close(epochLrs(c), s.lrs, `${s.method} ${s.warmupEpochs} + ${s.scheduler}`);
  }
  // Without a warm-up the schedules are today's.
  close(epochLrs(config({ lr: 0.1, epochs: 3, scheduler: "none" })), [0.1, 0.1, 0.1], "none");
});

Deno.test("warm-up then plateau: the plateau counts only the validations after the warm-up", () => {
  const c = config({
    lr: 0.1,
    epochs: 8,
    scheduler: "plateau",
    lrWarmupEpochs: 2,
    lrWarmupMethod: "linear",
    lrWarmupDecay: 0.1,
  });
  // Every validation 1: the first after the warm-up (epoch 3) is the best, epochs 4, 5 and
  // 6 are three without improvement (patience 2): the rate drops after epoch 6.
  close(epochLrs(c), [0.01, 0.055, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01], "plateau");
  // Its position survives a checkpoint (JSON) mid-way.
  using model = new nn.Linear(2, 2);
  const a = buildOptimizer(c, model), b = buildOptimizer(c, model);
  const sa = buildSchedule(c, a, 4), sb = buildSchedule(c, b, 4);
  for (let e = 0; e < 4; e++) sa.afterEpoch(1);
  sb.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
  b.paramGroups[0].options.lr = currentLr(a); // the optimizer's own state dict carries it
  const la: number[] = [], lb: number[] = [];
  for (let e = 4; e < 8; e++) {
    sa.afterEpoch(1);
    sb.afterEpoch(1);
    la.push(currentLr(a));
    lb.push(currentLr(b));
  }
  assert.deepEqual(lb, la);
  a.dispose();
  b.dispose();
});

Deno.test("optim.setWeightDecay: torchvision's set_weight_decay groups", () => {
  const norms = () =>
    new nn.Sequential(
      new nn.Conv2d(1, 4, 3),
      new nn.GroupNorm(2, 4),
      new nn.InstanceNorm2d(4, { affine: true }),
      new nn.LocalResponseNorm(2),
      new nn.BatchNorm2d(4),
      new nn.Linear(8, 8),
      new nn.LayerNorm(8),
      new nn.Linear(8, 3, { bias: false }),
    );
  using resnet = models.create("resnet18", { numClasses: 3 });
  using small = norms();
  for (const g of FIX.weightDecay) {
    const model = g.model === "resnet18" ? resnet : small;
    const names = new Map([...model.namedParameters()].map(([n, p]) => [p as Tensor, n]));
    const groups = optim.setWeightDecay(model, g.weightDecay, {
      normWeightDecay: g.normWeightDecay,
      biasWeightDecay: g.biasWeightDecay,
    });
    assert.deepEqual(
      groups.map((x) => ({
        weightDecay: x.options.weightDecay,
        names: x.params.map((p) => names.get(p)),
      })),
      g.groups,
      `${g.model} norm ${g.normWeightDecay} bias ${g.biasWeightDecay}`,
    );
  }
  // A frozen parameter is left out, as torchvision's requires_grad test.
  (small[0] as nn.Conv2d).weight.requiresGrad = false;
  assert.equal(optim.setWeightDecay(small, 0)[0].params.length, 12);
  // Bad calls say what to write.
  const bad: [() => unknown, RegExp][] = [
    [() => optim.setWeightDecay({} as never, 0), /expected the nn\.Module .* got an Object/],
    [() => optim.setWeightDecay(small, -1), /weightDecay must be a number >= 0, got number -1/],
    [() => optim.setWeightDecay(small, NaN), /weightDecay must be a number >= 0/],
    [
      () => optim.setWeightDecay(small, 0, { normWeightDecay: "0" as never }),
      /normWeightDecay must be a number >= 0, got string 0/,
    ],
    [() => optim.setWeightDecay(small, 0, { biasWeightDecay: Infinity }), /biasWeightDecay/],
    [() => optim.setWeightDecay(small, 0, { norm_weight_decay: 0 } as never), /normWeightDecay/],
    [() => (optim.setWeightDecay as (...a: unknown[]) => unknown)(small, 0, {}, 1), /at most 3/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
});

/** A loader of fixed batches, on the test device, fresh tensors every epoch. */
function fixedLoader(batches: EmaCase["batches"]): DataLoader {
  return {
    length: batches.length,
    async *[Symbol.asyncIterator]() {
      for (const b of batches) {
        const images = fromStored(b.images, { device: testDevice });
        const labels = fromStored(b.labels, { device: testDevice });
        yield {
          images,
          labels,
          [Symbol.dispose]: () => {
            images.dispose();
            labels.dispose();
          },
        };
      }
    },
  } as unknown as DataLoader;
}

function assertState(got: Map<string, Tensor>, want: State, what: string) {
  assert.deepEqual([...got.keys()], Object.keys(want), `${what}: keys`);
  for (const [k, t] of got) assertStored(t.to("cpu"), want[k], `${what} ${k}`, 1e-4, 1e-5);
}

Deno.test("model EMA, clipping, momentum: train_one_epoch of torchvision's train.py", async () => {
  for (const c of FIX.ema) {
    const what = `clip ${c.clip}, warm-up ${c.warmupEpochs}`;
    const decay = train.emaDecay(config({
      modelEma: true,
      batchSize: c.batchSize,
      epochs: c.epochs,
      modelEmaSteps: c.emaSteps,
      modelEmaDecay: c.emaDecay,
    }));
    assert.ok(Math.abs(decay - c.adjustedDecay) < 1e-12, `adjusted decay ${decay}`);
    const make = () => new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3));
    using model = make();
    model.loadStateDict(new Map(Object.entries(c.init).map(([k, v]) => [k, fromStored(v)])));
    model.to(testDevice);
    const optimizer = new optim.SGD(model.parameters(), {
      lr: 0.5,
      momentum: 0.9,
      weightDecay: 0.01,
    });
    using ema = new optim.swaUtils.ExponentialMovingAverage(model, decay, { copy: make });
    const ctx = {
      model,
      optimizer: optimizer as never,
      lossFn: new nn.CrossEntropyLoss(),
      schedule: { afterStep() {}, afterEpoch() {}, stateDict: () => null, loadStateDict() {} },
      loader: fixedLoader(c.batches),
      progress: train.silentProgress,
      onLog: () => {},
      logEvery: 1000,
      clipGradNorm: c.clip,
      ema: { average: ema, model, every: c.emaSteps, warmupEpochs: c.warmupEpochs },
    };
    let step = 0;
    for (let epoch = 1; epoch <= c.epochs; epoch++) {
      step = (await trainEpoch(ctx, epoch, c.epochs, step)).step;
      assertState(
        model.stateDict(),
        c.epochStates[epoch - 1].model,
        `${what} epoch ${epoch} model`,
      );
      assertState(ema.stateDict(), c.epochStates[epoch - 1].ema, `${what} epoch ${epoch} EMA`);
    }
    optimizer.dispose();
  }
});

Deno.test("--help and config.json: the recipe flags with torchvision's defaults", () => {
  const help = train.trainHelp();
  for (
    const [flag, shown] of [
      ["lr-warmup-epochs N", "0"],
      ["lr-warmup-method NAME", "constant"],
      ["lr-warmup-decay X", "0.01"],
      ["\\[no-\\]model-ema", "false"],
      ["model-ema-steps N", "32"],
      ["model-ema-decay X", "0.99998"],
      ["clip-grad-norm X", "off"],
      ["norm-weight-decay X", "--weight-decay's"],
      ["bias-weight-decay X", "--weight-decay's"],
      ["momentum X", "0.9 with sgd, 0 with rmsprop"],
    ]
  ) {
    assert.match(help, new RegExp(`--${flag} .*\\(default: ${shown}\\)`), flag);
  }
  // Today's runs are unchanged: SGD's momentum stays 0.9, RMSprop's torch's 0, one group.
  const sgd = train.parseTrainArgs(["--optimizer", "sgd"]).config;
  assert.equal(sgd.momentum, 0.9);
  assert.equal(train.parseTrainArgs(["--optimizer", "rmsprop"]).config.momentum, 0);
  assert.equal(train.parseTrainArgs([]).config.momentum, null);
  using model = models.create("simple", { imageSize: 16, batchNorm: true });
  for (
    const [args, momentum] of [[["--optimizer", "sgd"], 0.9], [["--optimizer", "rmsprop"], 0], [
      ["--optimizer", "rmsprop", "--momentum", "0.5"],
      0.5,
    ], [["--optimizer", "sgd", "--momentum", "0"], 0]] as const
  ) {
    const opt = buildOptimizer(train.parseTrainArgs(args).config, model);
    assert.equal(opt.paramGroups.length, 1);
    assert.equal(
      (opt.paramGroups[0].options as { momentum?: number }).momentum,
      momentum,
      `${args}`,
    );
    opt.dispose();
  }
  // A momentum of null (API runs, older config.json) is the CLI's 0.9 for sgd.
  const api = buildOptimizer({ ...train.DEFAULTS, optimizer: "sgd" }, model);
  assert.equal((api.paramGroups[0].options as { momentum?: number }).momentum, 0.9);
  api.dispose();
  const grouped = buildOptimizer(
    train.parseTrainArgs([
      "--optimizer",
      "sgd",
      "--weight-decay",
      "1e-4",
      "--norm-weight-decay",
      "0",
      "--bias-weight-decay",
      "0.5",
    ]).config,
    model,
  );
  assert.deepEqual(grouped.paramGroups.map((g) => g.options.weightDecay), [1e-4, 0, 0.5]);
  grouped.dispose();
});

Deno.test("bad recipe flags: a clear message and exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--lr-warmup-epochs", "-1"], /--lr-warmup-epochs -1: must be an integer >= 0/],
    [["--lr-warmup-epochs", "1.5"], /--lr-warmup-epochs/],
    [["--lr-warmup-epochs", "3", "--epochs", "3"], /must be less than --epochs \(3\)/],
    [
      ["--lr-warmup-epochs", "1", "--scheduler", "onecycle"],
      /onecycle warms up by itself .*give --scheduler cosine, step, plateau or none/,
    ],
    [
      ["--lr-warmup-epochs", "1", "--lr-warmup-method", "cosine"],
      /--lr-warmup-method.*linear, constant/,
    ],
    [
      ["--lr-warmup-epochs", "1", "--lr-warmup-decay", "0"],
      /--lr-warmup-decay 0: must be a number in \(0, 1\]/,
    ],
    [["--lr-warmup-epochs", "1", "--lr-warmup-decay", "1.5"], /in \(0, 1\]/],
    [["--lr-warmup-epochs", "1", "--lr-warmup-decay", "nan"], /--lr-warmup-decay/],
    [["--lr-warmup-decay", "0.1"], /--lr-warmup-decay 0\.1: acts only with --lr-warmup-epochs N/],
    [["--lr-warmup-method", "constant"], /acts only with --lr-warmup-epochs N/],
    // At their defaults too: torchvision's recipe with the main flag forgotten.
    [["--lr-warmup-method", "linear", "--lr-warmup-decay", "0.01"], /acts only with/],
    [
      ["--model-ema-steps", "32", "--model-ema-decay", "0.99998"],
      /--model-ema-steps 32: acts only with --model-ema/,
    ],
    [["--model-ema", "--model-ema-steps", "0"], /--model-ema-steps 0: must be an integer >= 1/],
    [
      ["--model-ema", "--model-ema-decay", "1"],
      /--model-ema-decay 1: must be a number in \[0, 1\)/,
    ],
    [["--model-ema", "--model-ema-decay", "-0.1"], /--model-ema-decay/],
    [["--model-ema-steps", "4"], /--model-ema-steps 4: acts only with --model-ema/],
    [["--model-ema-decay", "0.999"], /acts only with --model-ema/],
    [["--clip-grad-norm", "0"], /--clip-grad-norm 0: must be a number > 0/],
    [["--clip-grad-norm", "-1"], /--clip-grad-norm/],
    [["--clip-grad-norm", "inf"], /--clip-grad-norm/],
    [["--norm-weight-decay", "-1"], /--norm-weight-decay -1: must be a number >= 0/],
    [["--bias-weight-decay", "nan"], /--bias-weight-decay/],
    [["--momentum", "0.9"], /--optimizer adamw has no momentum: its betas/],
    [["--momentum", "0.9", "--optimizer", "nadam"], /nadam has no momentum/],
    [["--momentum", "1", "--optimizer", "sgd"], /--momentum 1: must be a number in \[0, 1\)/],
    [["--momentum", "-0.5", "--optimizer", "rmsprop"], /--momentum/],
  ];
  for (const [args, message] of cases) {
    const r = await capture(train.trainMain, args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  }
  assert.throws(
    () => train.emaDecay({ ...train.DEFAULTS, epochs: 0 }),
    /train\.emaDecay: config\.epochs must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => train.emaDecay({ ...train.DEFAULTS, modelEmaDecay: NaN }),
    /config\.modelEmaDecay must be a number in \[0, 1\)/,
  );
  assert.throws(
    () => (train.emaDecay as (...a: unknown[]) => number)(train.DEFAULTS, 1),
    /at most 1/,
  );
  // The same checks for a config given to fit (the API).
  assert.throws(
    () => train.checkConfig({ ...train.DEFAULTS, modelEma: "yes" as never }),
    /--model-ema/,
  );
  assert.throws(
    () =>
      train.checkConfig({ ...train.DEFAULTS, lrWarmupEpochs: 2, lrWarmupDecay: "0.5" as never }),
    /--lr-warmup-decay "0\.5"/,
  );
});

const warmup = ["--lr-warmup-epochs", "1"];
const recipe = [
  "--optimizer",
  "sgd",
  "--lr",
  "0.05",
  "--clip-grad-norm",
  "1",
  "--norm-weight-decay",
  "0",
  "--bias-weight-decay",
  "0",
  "--device",
  testDevice,
];
const ema = (steps = 2) => [
  "--model-ema",
  "--model-ema-steps",
  String(steps),
  "--model-ema-decay",
  "0.99",
];

async function lines(dir: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(join(dir, "metrics.jsonl"));
  return text.trim().split("\n").map((l) => JSON.parse(l));
}
/** The lines without their timings. */
const timeless = (ls: Record<string, unknown>[]) =>
  ls.map((l) => ({ ...l, seconds: undefined, imagesPerSecond: undefined }));

Deno.test("a run with the recipe flags: torch's warm-up lrs, EMA lines, best_ema.safetensors", async () => {
  const data = await trainTestData();
  const tmp = await Deno.makeTempDir();
  const out = join(tmp, "ema"), plain = join(tmp, "plain");
  const r = await capture(train.trainMain, [
    ...quickFlags(data, out, 3),
    ...recipe,
    ...warmup,
    ...ema(),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /EMA val loss \d\.\d+ acc/);
  assert.match(r.stdout, /test of the model EMA .*loss (\d\.\d+)/);
  const saved = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
  assert.deepEqual(
    [saved.lrWarmupEpochs, saved.lrWarmupMethod, saved.lrWarmupDecay, saved.modelEma],
    [1, "constant", 0.01, true],
  );
  assert.deepEqual(
    [saved.modelEmaSteps, saved.modelEmaDecay, saved.clipGradNorm, saved.momentum],
    [2, 0.99, 1, 0.9],
  );
  assert.deepEqual([saved.normWeightDecay, saved.biasWeightDecay], [0, 0]);
  const ls = await lines(out);
  const cli = FIX.schedules.find((s) => s.lr === 0.05)!;
  close(ls.filter((l) => l.type === "epoch").map((l) => l.lr as number), cli.lrs, "epoch lrs");
  const emaLines = ls.filter((l) => l.type === "ema");
  assert.deepEqual(emaLines.map((l) => l.epoch), [1, 2, 3]);
  const emaTest = ls.find((l) => l.type === "ema_test")!;
  assert.equal(ls.filter((l) => l.type === "test").length, 1); // the model's alone
  // report.html draws the EMA's validations beside the model's, and its test accuracy.
  const page = await Deno.readTextFile(join(out, "report.html"));
  assert.match(page, /EMA validation/);
  assert.match(page, /EMA test accuracy/);
  assert.ok(page.includes(`macro F1 ${(emaTest.macroF1 as number).toFixed(3)}`), "EMA's F1");
  // best_ema.safetensors: the EMA's weights at its lowest validation loss, which evaluate reads.
  const best = Math.min(...emaLines.map((l) => l.valLoss as number));
  const bestEpoch = emaLines.find((l) => l.valLoss === best)!.epoch;
  const w = await train.loadWeights(join(out, "best_ema.safetensors"));
  assert.deepEqual([w.metadata.weights, Number(w.metadata.epoch)], ["ema", bestEpoch]);
  w.dispose();
  const e = await capture(train.evaluateMain, [
    "--checkpoint",
    join(out, "best_ema.safetensors"),
    "--split",
    "test",
    "--device",
    testDevice,
  ]);
  assert.equal(e.code, 0, e.stderr);
  // It says whose weights it measured, and keeps the model's own report beside its own.
  assert.match(e.stdout, new RegExp(`weights: the model EMA \\(epoch ${bestEpoch}, val loss`));
  assert.match(e.stdout, /report: .*report-test-ema\.html/);
  const png = [...Deno.readDirSync(join(data, "test"))].find((f) => f.name.endsWith(".png"))!;
  const p1 = await capture(train.predictMain, [
    "--checkpoint",
    join(out, "best_ema.safetensors"),
    "--out",
    join(tmp, "predictions"),
    join(data, "test", png.name),
  ]);
  assert.equal(p1.code, 0, p1.stderr);
  assert.match(p1.stdout, /best_ema\.safetensors/);
  if (bestEpoch === 3) {
    const loss = Number(e.stdout.match(/macro ROC AUC \S+\s+loss (\d+\.\d+)/)![1]);
    assert.ok(Math.abs(loss - (emaTest.loss as number)) < 1e-4, `${loss} ${emaTest.loss}`);
  }
  // The EMA only watches: the model trains as without it, and best.safetensors is its own.
  const p = await capture(train.trainMain, [...quickFlags(data, plain, 3), ...recipe, ...warmup]);
  assert.equal(p.code, 0, p.stderr);
  const modelLines = (dir: string) =>
    lines(dir).then((x) =>
      timeless(
        x.filter((l) => l.type === "epoch" || l.type === "step" || (l.type === "test" && !l.tag)),
      )
    );
  assert.deepEqual(await modelLines(out), await modelLines(plain));
  assert.ok(!(await lines(plain)).some((l) => l.type === "ema" || l.tag === "ema"));
  await assert.rejects(Deno.stat(join(plain, "best_ema.safetensors")));
});

Deno.test("--resume continues the model EMA exactly; its flags cannot change", async () => {
  const data = await trainTestData();
  const tmp = await Deno.makeTempDir();
  const whole = join(tmp, "whole"), cut = join(tmp, "cut");
  // No warm-up: it restarts the average at every update, which would hide a lost one.
  const flags = (out: string) => [...quickFlags(data, out, 2), ...recipe, ...ema(1)];
  assert.equal((await capture(train.trainMain, flags(whole))).code, 0);
  // A full disk at the second checkpoint: the run stops after epoch 1's.
  const script = new URL("../scripts/train.ts", import.meta.url).pathname;
  const died = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...flags(cut)],
    env: { LITS_TRAIN_FAULT: "checkpoint-write=2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(died.code, 1, new TextDecoder().decode(died.stderr));
  const changed = await capture(train.trainMain, [
    "--resume",
    "--out",
    cut,
    "--model-ema-steps",
    "4",
  ]);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /--model-ema-steps 4 differs from the run's 1/);
  const off = await capture(train.trainMain, ["--resume", "--out", cut, "--no-model-ema"]);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /--model-ema false differs from the run's true/);
  const resumed = await capture(train.trainMain, ["--resume", "--out", cut]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /after epoch 1/);
  assert.deepEqual(timeless(await lines(cut)), timeless(await lines(whole)));
  const a = await train.loadCheckpoint(join(whole, "checkpoint.safetensors"));
  const b = await train.loadCheckpoint(join(cut, "checkpoint.safetensors"));
  try {
    assert.ok(a.emaState.size > 0);
    assert.deepEqual([...b.emaState.keys()], [...a.emaState.keys()]);
    for (const [k, t] of a.emaState) {
      assert.deepEqual([...b.emaState.get(k)!.toArray()], [...t.toArray()], k);
    }
    assert.equal(a.info.trainer.bestEmaEpoch, b.info.trainer.bestEmaEpoch);
  } finally {
    a.dispose();
    b.dispose();
  }
  const bytes = async (dir: string) => await Deno.readFile(join(dir, "best_ema.safetensors"));
  assert.deepEqual(await bytes(cut), await bytes(whole));
});

Deno.test("--norm-weight-decay on a model with no normalisation layer warns that it acts on nothing", async () => {
  const data = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  const flags = [...quickFlags(data, out, 1), "--no-batch-norm", "--norm-weight-decay", "0"];
  const r = await capture(train.trainMain, flags);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /--norm-weight-decay 0 acts on no parameter: simple has no normalisation layer/,
  );
});
