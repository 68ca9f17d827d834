/**
 * The commands: `--help`, every kind of bad command line (exit code 2),
 * `deno task evaluate` on good, foreign and corrupt checkpoints, resume
 * rules, a full disk while writing a checkpoint (injected, and for real on a
 * tiny tmpfs where it can be mounted), a NaN loss's exit code, and
 * `deno task experiment regularization` end to end on tiny data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, io, models, tensor, train } from "../mod.ts";
import { quickFlags, trainTestData } from "./train_data.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { countCallsAsync } from "./helpers.ts";
import { weightsSpec } from "../src/train/flag_specs.ts";

const bf16Level = new Int32Array(1);
const noBf16 = cpuLib().lits_bf16_support?.(bf16Level) !== 0 || bf16Level[0] === 0;

const script = (name: string) => new URL(`../scripts/${name}.ts`, import.meta.url).pathname;

/** Runs a script in a subprocess. */
async function run(name: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script(name), ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Calls a command's main in-process, capturing what it prints. */
async function capture(main: (args: string[]) => Promise<number>, args: string[]) {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await main(args);
    return { code, stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("--help lists every flag with its default", async () => {
  const { code, stdout } = await capture(train.trainMain, ["--help"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "data",
      "model",
      "epochs",
      "batch-size",
      "lr",
      "optimizer",
      "weight-decay",
      "dropout",
      "batch-norm",
      "augment",
      "scheduler",
      "early-stopping",
      "image-size",
      "balanced",
      "device",
      "workers",
      "seed",
      "out",
      "resume",
      "val-every",
    ]
  ) {
    assert.match(stdout, new RegExp(`--(\\[no-\\])?${flag}\\b`), flag);
  }
  assert.match(stdout, /--epochs N +epochs to train \(default: \d+\)/);
  assert.match(
    stdout,
    /--model NAME +simple, alexnet, vgg11, (.+, )?squeezenet1_1, resnet18, resnet34, resnet50, (.+, )?densenet121, densenet161, densenet169, densenet201(, .+)? \(default: simple\)/,
  );
});

Deno.test("bad command lines: a clear message and exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--foo"], /unknown flag --foo; see --help/],
    [["--epoch", "3"], /unknown flag --epoch \(did you mean --epochs\?\)/],
    [["--amp"], /unknown flag --amp \(mixed precision is --precision bf16\)/],
    [["--precision", "--epochs", "1"], /--precision needs a value \(fp32, bf16\); see --help/],
    [["--epochs"], /--epochs needs a value; see --help/],
    [["--fp16"], /unknown flag --fp16 \(mixed precision is --precision bf16\)/],
    [["--lr", "-1"], /--lr -1: must be a number > 0/],
    [["--lr", "abc"], /--lr "abc": not a number/],
    [
      ["--model", "foo"],
      /--model "foo": must be one of simple, alexnet, vgg11, .*resnet18, resnet34, resnet50, .*densenet121/,
    ],
    [["--epochs", "0"], /--epochs 0: must be an integer >= 1/],
    [["--epochs", "2.5"], /--epochs "2.5": must be an integer/],
    [
      ["--optimizer", "lbfgs"],
      /--optimizer "lbfgs": must be one of adam, adamw, sgd, rmsprop, nadam, radam/,
    ],
    [
      ["--scheduler", "linear"],
      /--scheduler "linear": must be one of none, step, cosine, plateau, onecycle/,
    ],
    [["--dropout", "1.5"], /--dropout 1.5: must be a probability/],
    [["--label-smoothing", "1.5"], /--label-smoothing 1.5: must be a number in \[0, 1\]/],
    [["--mixup-alpha", "-1"], /--mixup-alpha -1: must be a number >= 0 \(0: off\)/],
    [["--cutmix-alpha", "abc"], /--cutmix-alpha "abc": not a number/],
    [["--model", "resnet18", "--dropout", "0.2"], /model resnet18 has no dropout/],
    [["--image-size", "8"], /--image-size 8: model simple needs images of at least 16/],
    [["--device", "tpu"], /--device "tpu": must be one of auto, cpu, cuda/],
    [["--precision", "fp16"], /--precision "fp16": must be one of fp32, bf16/],
    [["--batch-size"], /--batch-size needs a value; see --help/],
    [["--augment", "Sharpen"], /--augment: unknown transform "Sharpen"/],
    [["--augment", "Normalize"], /Normalize needs parameters/],
    // It crops to the body: the run failed in its first batch, images of differing sizes.
    [["--augment", "CropForeground"], /CropForeground changes the image size \(32x32 -> 18x18\)/],
    [["train"], /Unexpected argument 'train'; flags take the form --name value/],
    [["--balanced=yes"], /--balanced takes no value: write --balanced, or leave it out/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await capture(train.trainMain, args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, pattern, args.join(" "));
  }
  // The process itself exits with 2.
  const p = await run("train", ["--lr", "-1"]);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /^error: --lr -1: must be a number > 0/);
});

Deno.test("runs: no overwriting an existing run; --resume keeps the run's configuration", async () => {
  const data = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  assert.equal((await capture(train.trainMain, quickFlags(data, out, 1))).code, 0);
  const again = await capture(train.trainMain, quickFlags(data, out, 1));
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already holds a run; continue it with --resume/);
  const changed = await capture(train.trainMain, ["--resume", "--out", out, "--lr", "0.1"]);
  assert.equal(changed.code, 2);
  assert.match(changed.stderr, /--lr 0\.1 differs from the run's 0\.001/);
  const bf16 = await capture(train.trainMain, ["--resume", "--out", out, "--precision", "bf16"]);
  assert.equal(bf16.code, 2);
  assert.match(bf16.stderr, /--precision "bf16" differs from the run's "fp32"/);
  const fine = await capture(train.trainMain, ["--resume", "--out", out, "--workers", "1"]);
  assert.equal(fine.code, 0, fine.stderr);
  assert.match(fine.stdout, /resuming .* after epoch 1/);
  // A checkpoint of another model in the run folder is refused, not half-loaded.
  const other = join(await Deno.makeTempDir(), "other");
  assert.equal(
    (await capture(train.trainMain, [...quickFlags(data, other, 1), "--no-batch-norm"])).code,
    0,
  );
  await Deno.copyFile(join(other, "checkpoint.safetensors"), join(out, "checkpoint.safetensors"));
  const swapped = await capture(train.trainMain, ["--resume", "--out", out]);
  assert.equal(swapped.code, 1);
  assert.match(
    swapped.stderr,
    /checkpoint .* is of model .*"batchNorm":false.* but the run's config\.json builds/,
  );
  const none = await capture(train.trainMain, ["--resume", "--out", await Deno.makeTempDir()]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /is not a run folder \(no config\.json\)/);
});

Deno.test("evaluate: a run's checkpoints; another model's and corrupt ones are refused", async () => {
  const data = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  assert.equal((await capture(train.trainMain, quickFlags(data, out, 2))).code, 0);
  for (const file of ["best.safetensors", "checkpoint.safetensors"]) {
    const r = await capture(train.evaluateMain, [
      "--checkpoint",
      join(out, file),
      "--split",
      "val",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /macro avg/);
    assert.ok((await Deno.readTextFile(join(out, "report-val.html"))).includes("<svg"));
  }
  // --precision bf16: the same evaluation under autocast (the bf16 kernels
  // ran; the printed losses, 4 decimals, may be equal: 2.6e-5 apart here),
  // a loss a rounding apart.
  const bf16Names = Object.keys(cpuLib()).filter((k) => /^lits_conv2d_.*_bf16_f32$/.test(k));
  const loss = async (precision: string): Promise<[number, number]> => {
    const args = ["--checkpoint", join(out, "best.safetensors"), "--precision", precision];
    const [r, calls] = await countCallsAsync(bf16Names, () => capture(train.evaluateMain, args));
    assert.equal(r.code, 0, r.stderr);
    return [Number(/loss (\d+\.\d+)/.exec(r.stdout)![1]), calls];
  };
  const [[fp32, fp32Calls], [bf16, bf16Calls]] = [await loss("fp32"), await loss("bf16")];
  assert.equal(fp32Calls, 0, "fp32 ran bf16 convolutions");
  if (!noBf16) assert.ok(bf16Calls > 0, "--precision bf16 ran no bf16 convolution");
  assert.ok(Math.abs(bf16 - fp32) < 0.01 * fp32, `${bf16} vs ${fp32}`);
  // --out at the weights once replaced them with the report: refused before any work.
  const weights = join(out, "best.safetensors");
  const before = await Deno.readFile(weights);
  for (const o of [weights, join(out, "checkpoint.safetensors"), join(out, "notes.txt")]) {
    const r = await capture(train.evaluateMain, ["--checkpoint", weights, "--out", o]);
    assert.equal(r.code, 2, o);
    assert.match(r.stderr, /--out .*: the output is a \.html file; give a name ending in \.html/);
  }
  assert.deepEqual(await Deno.readFile(weights), before);
  const other = await capture(train.evaluateMain, [
    "--checkpoint",
    join(out, "best.safetensors"),
    "--model",
    "alexnet",
  ]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /holds a simple model, not alexnet/);
  // A state dict of another model, given as the simple CNN.
  const dir = await Deno.makeTempDir();
  using net = models.create("resnet18", { inChannels: 1, numClasses: 3 });
  await io.saveSafetensors(join(dir, "resnet.safetensors"), net.stateDict());
  const foreign = await capture(train.evaluateMain, [
    "--checkpoint",
    join(dir, "resnet.safetensors"),
    "--model",
    "simple",
    "--data",
    data,
    "--image-size",
    "16",
  ]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /does not fit model simple .*missing .*features\.0\.weight/s);
  const bytes = await Deno.readFile(join(out, "checkpoint.safetensors"));
  await Deno.writeFile(join(dir, "cut.safetensors"), bytes.subarray(0, bytes.length - 100));
  const cut = await capture(train.evaluateMain, ["--checkpoint", join(dir, "cut.safetensors")]);
  assert.equal(cut.code, 1);
  assert.match(cut.stderr, /is corrupt/);
  using w = tensor(new Float32Array([1]), [1]);
  await io.saveSafetensors(join(dir, "plain.safetensors"), { w });
  const plain = await capture(train.evaluateMain, ["--checkpoint", join(dir, "plain.safetensors")]);
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /no lits model metadata .*give --model/);
  const missing = await capture(train.evaluateMain, ["--split", "test"]);
  assert.equal(missing.code, 2);
});

Deno.test("a full disk while writing a checkpoint: exit 1, the previous checkpoint survives, resume works", async () => {
  const data = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  const p = await run("train", quickFlags(data, out, 3), {
    LITS_TRAIN_FAULT: "checkpoint-write=2",
  });
  assert.equal(p.code, 1, p.stderr);
  assert.match(p.stderr, /cannot write .*checkpoint\.safetensors: No space left on device/);
  const c = await train.loadCheckpoint(join(out, "checkpoint.safetensors"));
  assert.equal(c.info.epoch, 1);
  c.dispose();
  assert.ok(![...Deno.readDirSync(out)].some((e) => e.name.includes(".tmp-")));
  const resumed = await run("train", [...quickFlags(data, out, 3), "--resume"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /after epoch 1[\s\S]*epoch 3\/3/);
});

Deno.test("a really full disk (a 3 MB tmpfs, where mount is allowed)", async (t) => {
  const mnt = await Deno.makeTempDir();
  const mount = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt],
    stderr: "null",
    stdout: "null",
  }).output().catch(() => ({ success: false }));
  if (!mount.success) {
    await Deno.remove(mnt);
    return void t.step({ name: "skipped: mount not permitted", ignore: true, fn: () => {} });
  }
  try {
    // One epoch writes best (0.5 MB) + checkpoint (1.6 MB); the next cannot fit its temporaries.
    const p = await run("train", quickFlags(await trainTestData(), join(mnt, "run"), 4));
    assert.equal(p.code, 1, p.stdout + p.stderr);
    assert.match(
      p.stderr,
      /cannot write .*(checkpoint|best)\.safetensors.*(No space left|os error 28)/,
    );
    const c = await train.loadCheckpoint(join(mnt, "run", "checkpoint.safetensors"));
    assert.ok(c.info.epoch >= 1);
    c.dispose();
  } finally {
    await new Deno.Command("umount", { args: [mnt] }).output();
    await Deno.remove(mnt, { recursive: true });
  }
});

Deno.test("a NaN loss: exit code 3 and the step in the message", async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const p = await run("train", quickFlags(await trainTestData(), out, 3), {
    LITS_TRAIN_FAULT: "nan-loss=7",
  });
  assert.equal(p.code, 3);
  assert.match(
    p.stderr,
    /loss became NaN at step 7 \(epoch 2\); training stopped\. The last good checkpoint/,
  );
});

Deno.test("experiment regularization: six runs, one page with the overlay plot, a Markdown table", async () => {
  const out = join(await Deno.makeTempDir(), "exp");
  const bad = await capture(train.experimentMain, ["dropout-only"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /give one experiment name: regularization/);
  const r = await capture(train.experimentMain, [
    "regularization",
    "--data",
    await trainTestData(),
    "--epochs",
    "2",
    "--image-size",
    "16",
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const md = await Deno.readTextFile(join(out, "results.md"));
  for (
    const label of [
      "no regularisation",
      "L2",
      "dropout 0.5",
      "L2 + dropout",
      "batch norm",
      "ct augmentation",
    ]
  ) {
    assert.match(md, new RegExp(`\\| ${label.replace("+", "\\+")}[^|]* \\|`), label);
  }
  assert.equal(md.split("\n").filter((l) => /^\| [^|]+ \| [12] \|/.test(l)).length, 12, md);
  assert.match(md, /seed \d+, fp32, data /, "the header says the precision");
  const html = await Deno.readTextFile(join(out, "experiment.html"));
  assert.match(html, /seed \d+, fp32, same data/);
  assert.match(html, /id="chart-overlay"/);
  assert.ok((html.match(/<path/g) ?? []).length > 12, "the overlay plot has its lines");
  // Again into the same folder: refused before any variant trains.
  const again = await capture(train.experimentMain, ["regularization", "--out", out]);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /already holds a finished experiment \(none, .*\); choose another --out/,
  );
});

Deno.test("an interrupted experiment continues with --resume: begun arms resume, the rest start", async () => {
  const root = await Deno.makeTempDir();
  await data.synthesizeLiTS({ out: root, preset: "easy", patients: 4, slicesPerPatient: 8 });
  const base = train.experimentBase({ data: root, epochs: 1, imageSize: 16 });
  const arms = train.REGULARIZATION.slice(0, 2);
  const whole = await train.runExperiment(arms, base, await Deno.makeTempDir());
  // As if stopped during the second arm: only the first has run.
  const out = await Deno.makeTempDir();
  await train.runExperiment(arms.slice(0, 1), base, out);
  await assert.rejects(
    () => train.runExperiment(arms, base, out),
    /holds an interrupted experiment \(arms started: none\); continue it with --resume/,
  );
  const lines: string[] = [];
  const resumed = await train.runExperiment(arms, base, out, (l) => lines.push(l), {
    resume: true,
  });
  assert.deepEqual(
    resumed.map((r) => r.result.test.macroF1),
    whole.map((r) => r.result.test.macroF1),
  );
  assert.ok(lines.some((l) => /\(none\), resumed/.test(l)));
  assert.ok(!lines.some((l) => /\(l2\), resumed/.test(l)));
});

Deno.test("--optimizer adam or sgd defaults to weight decay 0 (0.5 is AdamW's decoupled decay)", () => {
  // torch.optim.Adam / SGD: weight_decay=0; AdamW's 0.5 as an L2 penalty was far stronger.
  assert.equal(train.parseTrainArgs([]).config.weightDecay, 0.5);
  assert.equal(train.parseTrainArgs(["--optimizer", "adam"]).config.weightDecay, 0);
  assert.equal(train.parseTrainArgs(["--optimizer", "sgd"]).config.weightDecay, 0);
  const given = ["--optimizer", "adam", "--weight-decay", "0.1"];
  assert.equal(train.parseTrainArgs(given).config.weightDecay, 0.1);
});

Deno.test("metrics.jsonl: onecycle's epoch lr is its last step's; the test line names its weights' epoch", async () => {
  const data = await trainTestData();
  const out = join(await Deno.makeTempDir(), "run");
  const flags = [...quickFlags(data, out, 2), "--scheduler", "onecycle", "--log-every", "1"];
  const r = await capture(train.trainMain, flags);
  assert.equal(r.code, 0, r.stderr);
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n")
    .map((l) => JSON.parse(l));
  for (const e of lines.filter((l) => l.type === "epoch")) {
    const last = lines.filter((l) => l.type === "step" && l.step === e.step)[0];
    assert.equal(e.lr, last.lr, `epoch ${e.epoch}: the rate its last step used`);
  }
  const test = lines.find((l) => l.type === "test");
  assert.equal(test.weightsEpoch, 2);
});

Deno.test("settings that can never act together get a warning (early stopping, plateau)", () => {
  const warn = (patch: Partial<train.TrainConfig>) =>
    train.planWarnings({ ...train.DEFAULTS, ...patch });
  // One validation: early stopping needs patience + 1.
  assert.match(
    warn({ epochs: 5, valEvery: 100, earlyStopping: 3 }).join("\n"),
    /--early-stopping 3 can never stop this run: it has 1 validation \(--epochs 5, --val-every 100\), and stopping needs 4/,
  );
  assert.deepEqual(warn({ epochs: 5, valEvery: 1, earlyStopping: 3 }), []);
  // Plateau lowers at the 3rd bad validation: 4 validations at least.
  assert.match(
    warn({ scheduler: "plateau", epochs: 4, valEvery: 3 }).join("\n"),
    /plateau can never lower the learning rate: it has 2 validations/,
  );
  assert.match(
    warn({ scheduler: "plateau", epochs: 20, earlyStopping: 2 }).join("\n"),
    /--early-stopping 2 stops the run at or before the plateau schedule's first lowering/,
  );
  assert.deepEqual(warn({ scheduler: "plateau", epochs: 20, earlyStopping: 5 }), []);
  assert.deepEqual(warn({}), []);
});

Deno.test("train refuses an --out whose files a run would overwrite, an empty --out, and 100000 workers", async () => {
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(join(out, "report.html"), "mine");
  const data = await trainTestData();
  const r = await capture(train.trainMain, quickFlags(data, out, 1));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /holds report\.html, which a run would overwrite; choose another --out/);
  assert.equal(await Deno.readTextFile(join(out, "report.html")), "mine");
  assert.deepEqual((await Array.fromAsync(Deno.readDir(out))).map((e) => e.name), ["report.html"]);
  // --out "" used to mean "not given": a run in ./runs.
  const empty = await capture(train.trainMain, ["--out", ""]);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /--out "": needs a value/);
  assert.throws(
    () => train.parseTrainArgs(["--workers", "100000"]),
    /--workers 100000: must be at most 64/,
  );
});

Deno.test("--model takes torchvision's spellings; --dropout goes to every model that has one", () => {
  const m = train.parseTrainArgs(["--model", "MobileNet_V2", "--dropout", "0.3"]).config;
  assert.deepEqual([m.model, m.dropout, m.batchNorm, m.globalPool], [
    "mobilenetv2",
    0.3,
    false,
    "none",
  ]);
  const s = train.parseTrainArgs(["--model", "SimpleCNN"]).config;
  assert.deepEqual([s.model, s.batchNorm, s.globalPool], ["simple", true, "max"]);
  assert.equal(
    train.parseTrainArgs(["--model", "efficientnet_b0", "--dropout", "0.1"]).config.dropout,
    0.1,
  );
  assert.throws(
    () => train.parseTrainArgs(["--model", "densenet121", "--dropout", "0.3"]),
    /model densenet121 has no dropout \(simple, alexnet, vgg11, .*, squeezenet1_1, mobilenetv2, efficientnetb0, .*, mobilenetv3small, .*, vit_h_14, .*, googlenet do\)/,
  );
  assert.deepEqual(
    [
      models.canonicalName("MobileNet_V2"),
      models.canonicalName("VGG16_BN"),
      models.canonicalName("Inception_V3"),
      models.canonicalName("inception_v4"),
    ],
    ["mobilenetv2", "vgg16bn", "inception_v3", null],
  );
  assert.deepEqual(
    [models.takesOption("alexnet", "dropout"), models.takesOption("resnet18", "dropout")],
    [true, false],
  );
});

Deno.test("--optimizer in any case; evaluate's --model takes torchvision's spellings too", () => {
  const a = train.parseTrainArgs(["--optimizer", "AdamW"]).config;
  assert.deepEqual([a.optimizer, a.weightDecay], ["adamw", 0.5]);
  const r = train.parseTrainArgs(["--optimizer", "RMSProp"]).config;
  assert.deepEqual([r.optimizer, r.weightDecay], ["rmsprop", 0]);
  const spec = weightsSpec(null, { checkpoint: "w.safetensors", model: "MobileNet_V2" }, "--model");
  assert.equal(spec.name, "mobilenetv2");
  assert.throws(
    () => weightsSpec(null, { checkpoint: "w.safetensors", model: "inception_v4" }, "--model"),
    /--model "inception_v4": must be one of simple, alexnet/,
  );
  assert.throws(
    () => train.parseTrainArgs(["--model", "densenet121", "--dropout", "0.2"]),
    /its dropRate \(after each dense layer\) is models\.create's option/,
  );
});
