/**
 * PyTorch habits, names and promises (issue 12, parts 8 and 11): torchinfo's
 * collapsed container rows in `models.summary`, `deno task experiment
 * regularization --weight-decay X --dropout P`, the warning for a split with
 * an empty class, and the defaults of `deno task train`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { models, train } from "../mod.ts";
import { parseExperimentArgs } from "../src/train/experiment_cli.ts";
import { emptyClassWarnings } from "../src/train/data.ts";
import { trainTestData } from "./train_data.ts";

// ------------------------------------------------------------ summary

/** Parameters of torchvision's conv (no bias) and BatchNorm2d (weight, bias). */
const conv = (cin: number, cout: number, k: number) => cin * cout * k * k;
const bn = (c: number) => 2 * c;
/** A BasicBlock of resnet18: two 3x3 convs with batch norm, a 1x1 downsample when needed. */
const basic = (cin: number, cout: number) =>
  conv(cin, cout, 3) + bn(cout) + conv(cout, cout, 3) + bn(cout) +
  (cin !== cout ? conv(cin, cout, 1) + bn(cout) : 0);

Deno.test("summary: a container at the depth limit shows all its parameters (torchinfo)", () => {
  const net = models.resnet18({ inChannels: 3, numClasses: 1000 });
  const s = models.summary(net, [1, 3, 64, 64], { maxDepth: 1 });
  const row = (name: string) => s.rows.find((r) => r.name === name)!;
  // layer1: four 3x3 convs of 64 channels (4 x 36,864 = 147,456) and their four batch norms.
  assert.equal(basic(64, 64) * 2, 147_456 + 512);
  assert.equal(row("layer1").params, 147_968);
  assert.equal(row("layer2").params, basic(64, 128) + basic(128, 128));
  assert.equal(row("layer2").params, 525_568);
  assert.equal(row("layer3").params, 2_099_712);
  assert.equal(row("layer4").params, 8_393_728);
  assert.equal(row("").params, 0, "the model's own row: its children are listed");
  // The rows at the limit add up to the model, as in torchinfo's table.
  assert.equal(s.rows.reduce((n, r) => n + r.params, 0), s.totalParams);
  assert.equal(s.totalParams, 11_689_512);
  assert.match(s.toString(), /layer1 \(Sequential\)\s+\[1, 64, 16, 16\]\s+147,968/);

  // One level deeper layer1 is expanded ("--"), and each block is collapsed.
  const d2 = models.summary(net, [1, 3, 64, 64], { maxDepth: 2 });
  const row2 = (name: string) => d2.rows.find((r) => r.name === name)!;
  assert.equal(row2("layer1").params, 0);
  assert.match(d2.toString(), /layer1 \(Sequential\)\s+\[1, 64, 16, 16\]\s+--/);
  assert.equal(row2("layer1.0").params, basic(64, 64));
  assert.equal(row2("layer2.0").params, basic(64, 128));
  assert.equal(d2.rows.reduce((n, r) => n + r.params, 0), d2.totalParams);
  // Leaves keep their own count at any depth; all depths: containers show "--".
  const all = models.summary(net, [1, 3, 64, 64]);
  assert.equal(all.rows.find((r) => r.name === "layer1")!.params, 0);
  assert.equal(all.rows.find((r) => r.name === "layer1.0.conv1")!.params, conv(64, 64, 3));
  // maxDepth 0: the model alone, with everything.
  const d0 = models.summary(net, [1, 3, 64, 64], { maxDepth: 0 });
  assert.deepEqual(d0.rows.map((r) => [r.name, r.params]), [["", 11_689_512]]);
  net.dispose();
});

Deno.test("summary: torchinfo's depth, bad maxDepth and extra arguments say what to write", () => {
  const net = models.simpleCNN({ imageSize: 16 });
  const call = models.summary as (...a: unknown[]) => unknown;
  assert.throws(() => call(net, [1, 1, 16, 16], { depth: 2 }), /'depth' is 'maxDepth' here/);
  assert.throws(() => call(net, [1, 1, 16, 16], { maxDepth: -1 }), /maxDepth must be an integer/);
  assert.throws(() => call(net, [1, 1, 16, 16], { maxDepth: 1.5 }), /maxDepth must be an integer/);
  assert.throws(() => call(net, [1, 1, 16, 16], { max_depth: 1 }), /write 'maxDepth'/);
  assert.throws(() => call(net, [1, 1, 16, 16], 2), /expected an options object/);
  assert.throws(() => call(net, [1, 1, 16, 16], {}, 2), /takes at most 3 arguments/);
  net.dispose();
});

// ------------------------------------------------------------ experiment flags

Deno.test("experiment regularization: --weight-decay and --dropout reach the arms' configs", () => {
  const p = parseExperimentArgs([
    "regularization",
    "--weight-decay",
    "3e-5",
    "--dropout",
    "0.25",
    "--epochs",
    "2",
  ]);
  assert.deepEqual(p.strengths, { weightDecay: 3e-5, dropout: 0.25 });
  const configs = train.experimentConfigs(
    train.EXPERIMENTS[p.name](p.strengths),
    p.base,
    "/tmp/x",
  );
  const by = Object.fromEntries(configs.map((c) => [c.out.split("/").pop()!, c]));
  assert.deepEqual(Object.keys(by), [
    "none",
    "l2",
    "dropout",
    "l2-dropout",
    "batchnorm",
    "augment",
  ]);
  assert.equal(by.none.weightDecay, 0);
  assert.equal(by.none.dropout, 0);
  assert.equal(by.l2.weightDecay, 3e-5);
  assert.equal(by.l2.dropout, 0);
  assert.equal(by.dropout.dropout, 0.25);
  assert.equal(by.dropout.weightDecay, 0);
  assert.deepEqual([by["l2-dropout"].weightDecay, by["l2-dropout"].dropout], [3e-5, 0.25]);
  assert.ok(configs.every((c) => c.epochs === 2));
  assert.ok(configs.every((c) => c.precision === "fp32"));
  const bf16 = parseExperimentArgs(["regularization", "--precision", "bf16"]);
  const arms = train.experimentConfigs(
    train.EXPERIMENTS.regularization(bf16.strengths),
    bf16.base,
    "/tmp/x",
  );
  assert.ok(arms.every((c) => c.precision === "bf16"));

  // Without the flags: the course's weight decay 1e-5 and dropout 0.5.
  const d = parseExperimentArgs(["regularization"]);
  assert.deepEqual(d.strengths, { weightDecay: 1e-5, dropout: 0.5 });
  assert.equal(train.REGULARIZATION[1].overrides.weightDecay, 1e-5);
  assert.match(train.REGULARIZATION[1].label, /weight decay 1e-5/);
});

Deno.test("experiment --help lists --weight-decay and --dropout; bad values exit 2", async () => {
  const out: string[] = [], err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    assert.equal(await train.experimentMain(["--help"]), 0);
    assert.match(out.join("\n"), /--weight-decay X .*\(default: 0\.00001\)/);
    assert.match(out.join("\n"), /--dropout P .*\(default: 0\.5\)/);
    for (
      const [args, message] of [
        [["--weight-decay", "abc"], /--weight-decay "abc": not a number/],
        [["--weight-decay", "0"], /--weight-decay 0: must be a number > 0/],
        [["--dropout", "1"], /--dropout 1: must be a probability in \(0, 1\)/],
        [
          ["--weight_decay", "1e-5"],
          /unknown flag --weight_decay \(did you mean --weight-decay\?\)/,
        ],
      ] as const
    ) {
      err.length = 0;
      assert.equal(await train.experimentMain(["regularization", ...args]), 2, args.join(" "));
      assert.match(err.join("\n"), message);
    }
  } finally {
    console.log = log;
    console.error = error;
  }
});

// ------------------------------------------------------------ empty classes

Deno.test("emptyClassWarnings: one line per empty class, naming the split and the class", () => {
  const split = (counts: number[]) => ({ classCounts: () => counts });
  const names = ["no liver", "liver", "liver + lesion"];
  assert.deepEqual(
    emptyClassWarnings({ train: split([5, 3, 2]), val: split([4, 1, 1]) }, names),
    [],
  );
  const w = emptyClassWarnings(
    { train: split([5, 3, 0]), val: split([4, 0, 0]), test: split([1, 1, 1]) },
    names,
  );
  assert.equal(w.length, 3);
  assert.match(
    w[0],
    /the train split has no slices of class 2 \(liver \+ lesion\): the model cannot learn it/,
  );
  assert.match(
    w[1],
    /the val split has no slices of class 1 \(liver\): its recall and F1 are reported as 0/,
  );
  assert.match(w[2], /the val split has no slices of class 2 \(liver \+ lesion\)/);
});

Deno.test("fit warns once when a split has no slices of a class", async () => {
  // The shared tiny data set, with every lesion label in val switched off.
  const root = join(await Deno.makeTempDir(), "data");
  const source = await trainTestData();
  await Deno.mkdir(root);
  for (const split of ["train", "val", "test"]) {
    await Deno.symlink(join(source, split), join(root, split));
    let csv = await Deno.readTextFile(join(source, `${split}_classes.csv`));
    if (split === "val") {
      assert.match(csv, /,True,True,/, "the val split has lesions to remove");
      csv = csv.replace(/,True,True,/g, ",True,False,");
    }
    await Deno.writeTextFile(join(root, `${split}_classes.csv`), csv);
  }
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => warnings.push(a.join(" "));
  try {
    await train.fit(
      {
        ...train.DEFAULTS,
        data: root,
        out: join(root, "..", "run"),
        epochs: 2,
        imageSize: 16,
        batchSize: 16,
      },
      { report: false },
    );
  } finally {
    console.warn = warn;
  }
  // Once per run (not per epoch or validation); the tiny data's test split has no lesion either.
  assert.deepEqual(
    warnings.map((w) => w.match(/the (\w+) split has no slices of class (\d)/)?.slice(1)),
    [["val", "2"], ["test", "2"]],
    warnings.join("\n"),
  );
  assert.match(warnings[0], /class 2 \(liver \+ lesion\).*counts per class \[\d+,\d+,0\]/);
});

// ------------------------------------------------------------ train defaults

Deno.test("train defaults: batch norm is the simple model's default only", () => {
  const simple = train.parseTrainArgs([]).config;
  assert.equal(simple.batchNorm, true);
  assert.equal(train.parseTrainArgs(["--model", "resnet18"]).config.batchNorm, false);
  assert.equal(train.parseTrainArgs(["--model", "alexnet"]).config.batchNorm, false);
  assert.equal(train.parseTrainArgs(["--no-batch-norm"]).config.batchNorm, false);
  assert.throws(
    () => train.parseTrainArgs(["--model", "alexnet", "--batch-norm"]),
    /--batch-norm true: only the simple model takes it .*--no-batch-norm/,
  );
  // From code, train.DEFAULTS with another model says what to write.
  assert.throws(
    () => train.checkConfig({ ...train.DEFAULTS, model: "resnet18" }),
    /batchNorm: false over train\.DEFAULTS/,
  );
});
