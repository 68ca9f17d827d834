/**
 * Four PyTorch habits: the strides of tensors with a zero-size dimension
 * (torch's, through views and reshapes), weightNorm on a frozen weight
 * (weight_g and weight_v trainable, as torch's new Parameters), `deno task
 * train --model inception_v3 --image-size 128` refused as a bad flag (exit
 * 2), and loadPretrained into Inception v3 / GoogLeNet of another class
 * count (the auxiliary classifiers left at their initialisation, as `fc`).
 * Fixture: tests/fixtures/habits_s11.json (scripts/make_habits_s11_fixtures.py).
 */
import assert from "node:assert/strict";
import { models, nn, type Tensor, train, zeros } from "../mod.ts";
import { parseTrainArgs } from "../src/train/flags.ts";
import { DEFAULTS } from "../src/train/config.ts";
import { UsageError } from "../src/train/errors.ts";
import { openRunData } from "../src/train/session.ts";
import { loadFixture, messageOf } from "./helpers.ts";
import { withTinyLiTS } from "./train_data.ts";

type Op = [string, ...unknown[]];
interface StrideCase {
  shape: number[];
  ops: Op[];
  outShape: number[];
  strides: number[];
  contiguous: boolean;
}
interface Flags {
  requiresGrad: boolean;
  gradIsNone: boolean;
}
interface Fixture {
  strides: StrideCase[];
  weightNorm: {
    frozenLinear: { g: Flags; v: Flags; names: string[] };
    frozenConvDimNone: { g: Flags; v: Flags; names: string[] };
    weightWithGrad: { g: Flags; v: Flags };
    removedFrozen: { weight: Flags; names: string[] };
  };
}
const fixture = loadFixture<Fixture>("habits_s11.json");

/** The fixture's ops as we spell them. */
function apply(x: Tensor, ops: Op[]): Tensor {
  for (const [name, ...a] of ops) {
    const n = a as number[];
    if (name === "t") x = x.transpose(n[0], n[1]);
    else if (name === "permute") x = x.permute(a[0] as number[]);
    else if (name === "view") x = x.view(a[0] as number[]);
    else if (name === "reshape") x = x.reshape(a[0] as number[]);
    else if (name === "flatten") x = x.flatten(n[0]);
    else if (name === "unsqueeze") x = x.unsqueeze(n[0]);
    else if (name === "squeeze") x = a.length ? x.squeeze(n[0]) : x.squeeze();
    else if (name === "expand") x = x.expand(a[0] as number[]);
    else if (name === "narrow") x = x.narrow(n[0], n[1], n[2]);
    else if (name === "contiguous") x = x.contiguous();
    else throw new Error(`unknown op ${name}`);
  }
  return x;
}

Deno.test("empty tensors: stride() and isContiguous as torch's, through views and reshapes", () => {
  assert.ok(fixture.strides.length > 100);
  for (const c of fixture.strides) {
    const what = `zeros([${c.shape}]) ${JSON.stringify(c.ops)}`;
    const y = apply(zeros(c.shape), c.ops);
    assert.deepEqual(y.shape, c.outShape, `${what}: shape`);
    assert.deepEqual(y.stride(), c.strides, `${what}: stride()`);
    assert.equal(y.isContiguous, c.contiguous, `${what}: isContiguous`);
  }
  // The issue's case, and empty results of ops that do work stay usable.
  assert.deepEqual(zeros([2, 0]).stride(), [1, 1]);
  const a = zeros([0, 3]).t(), b = zeros([2, 0]).t();
  assert.deepEqual(a.matmul(b).toList(), [[0, 0], [0, 0], [0, 0]]);
  assert.deepEqual(a.sum(1).toList(), [0, 0, 0]);
});

Deno.test("weightNorm: a frozen weight gives trainable weight_g and weight_v, as torch's", () => {
  const w = fixture.weightNorm;
  const flagsOf = (p: Tensor): Flags => ({ requiresGrad: p.requiresGrad, gradIsNone: !p.grad });
  const fields = (m: nn.Module) => m as unknown as Record<string, Tensor>;

  const fc = new nn.Linear(3, 2);
  fc.weight.requiresGrad = false;
  nn.utils.weightNorm(fc);
  assert.deepEqual(flagsOf(fields(fc).weight_g), w.frozenLinear.g, "weight_g");
  assert.deepEqual(flagsOf(fields(fc).weight_v), w.frozenLinear.v, "weight_v");
  assert.deepEqual([...fc.namedParameters()].map(([n]) => n), w.frozenLinear.names);
  // Both train: a backward reaches them.
  fc.forward(zeros([1, 3]).add(1)).sum().backward();
  assert.ok(fields(fc).weight_v.grad !== null && fields(fc).weight_g.grad !== null);

  const conv = new nn.Conv2d(2, 3, 3);
  conv.weight.requiresGrad = false;
  nn.utils.weightNorm(conv, "weight", null);
  assert.deepEqual(flagsOf(fields(conv).weight_g), w.frozenConvDimNone.g);
  assert.deepEqual(flagsOf(fields(conv).weight_v), w.frozenConvDimNone.v);
  assert.deepEqual([...conv.namedParameters()].map(([n]) => n), w.frozenConvDimNone.names);

  // The weight's gradient is not the direction's: weight_v starts without one.
  const withGrad = new nn.Linear(3, 2);
  withGrad.forward(zeros([1, 3]).add(1)).sum().backward();
  nn.utils.weightNorm(withGrad);
  assert.deepEqual(flagsOf(fields(withGrad).weight_g), w.weightWithGrad.g);
  assert.deepEqual(flagsOf(fields(withGrad).weight_v), w.weightWithGrad.v);

  // removeWeightNorm: a trainable weight without a gradient, even from frozen g and v.
  const removed = nn.utils.weightNorm(new nn.Linear(3, 2));
  removed.forward(zeros([1, 3]).add(1)).sum().backward();
  fields(removed).weight_g.requiresGrad = false;
  fields(removed).weight_v.requiresGrad = false;
  nn.utils.removeWeightNorm(removed);
  assert.deepEqual(flagsOf(removed.weight), w.removedFrozen.weight);
  assert.deepEqual([...removed.namedParameters()].map(([n]) => n), w.removedFrozen.names);
});

Deno.test("train CLI: inception_v3 below 299 pixels is a bad --image-size (exit 2), not a crash", () => {
  const refused = (args: string[]) => {
    try {
      parseTrainArgs(args);
    } catch (e) {
      return e;
    }
    assert.fail(`${args.join(" ")} was accepted`);
  };
  for (const size of ["128", "75", "50", "298"]) {
    const e = refused(["--model", "inception_v3", "--image-size", size]);
    assert.ok(e instanceof UsageError, `--image-size ${size}: ${e}`);
    assert.equal(e.exitCode, 2);
    assert.match(
      e.message,
      new RegExp(
        `^--image-size ${size}: model inception_v3's auxiliary classifier \\(AuxLogits, run ` +
          "in training\\) needs images of at least 299 pixels; give --image-size 299$",
      ),
    );
  }
  // torchvision's spelling too; 299 and up, and the data's own size (0), pass the flag check.
  assert.ok(refused(["--model", "Inception_V3", "--image-size", "128"]) instanceof UsageError);
  for (const size of ["299", "320", "0"]) {
    const { config } = parseTrainArgs(["--model", "inception_v3", "--image-size", size]);
    assert.equal(config.imageSize, Number(size));
  }
  // The model's own refusal says the same.
  assert.match(
    messageOf(() => models.create("inception_v3", { imageSize: 128 })),
    /inception_v3's auxiliary classifier \(AuxLogits, run in training\) needs images of at least 299 pixels, got imageSize 128; give --image-size 299/,
  );
  // GoogLeNet's aux heads pool adaptively: small sides stay allowed.
  assert.equal(parseTrainArgs(["--model", "googlenet", "--image-size", "64"]).config.imageSize, 64);
});

Deno.test("train: inception_v3 (or any model) on data below its side without --image-size is a UsageError", async () => {
  await withTinyLiTS(32, async (root) => {
    const config = {
      ...DEFAULTS,
      data: root,
      model: "inception_v3",
      imageSize: 0,
      batchNorm: false,
      globalPool: "none" as const,
    };
    await assert.rejects(
      () => openRunData(train.checkConfig(config), () => {}),
      (e: unknown) =>
        e instanceof UsageError &&
        /the images are 32x32 and model inception_v3's auxiliary classifier .* at least 299 pixels; give --image-size 299/
          .test(e.message),
    );
    // Any model's smallest side, as the flag's check says it (AlexNet's 63).
    await assert.rejects(
      () => openRunData(train.checkConfig({ ...config, model: "alexnet" }), () => {}),
      (e: unknown) =>
        e instanceof UsageError &&
        /the images are 32x32 and model alexnet needs images of at least \d+ pixels; give --image-size \d+ or more/
          .test(e.message),
    );
  });
});

Deno.test("loadPretrained: Inception v3 and GoogLeNet of 3 classes leave their aux classifiers too", () => {
  // initWeights: false skips torchvision's truncated-normal pass (the values do not matter here).
  using imagenet = models.inceptionV3({ initWeights: false });
  using net = models.inceptionV3({ numClasses: 3, inChannels: 1, initWeights: false });
  const before = net.stateDict().get("AuxLogits.fc.weight")!.toArray().slice();
  const report = models.loadPretrained(net, imagenet.stateDict());
  assert.deepEqual(report.skipped.map((s) => s.name), [
    "AuxLogits.fc.weight",
    "AuxLogits.fc.bias",
    "fc.weight",
    "fc.bias",
  ]);
  assert.match(
    report.skipped[0].reason,
    /^the auxiliary classifier AuxLogits\.fc: \[1000, 768\] in the weights, \[3, 768\] in the model \(another class count\)$/,
  );
  assert.deepEqual(net.stateDict().get("AuxLogits.fc.weight")!.toArray(), before);
  assert.ok(report.loaded.includes("AuxLogits.conv1.conv.weight"));
  assert.deepEqual(report.adapted.map((a) => a.name), ["Conv2d_1a_3x3.conv.weight"]);

  using g1000 = models.googlenet();
  using g3 = models.googlenet({ numClasses: 3 });
  const r = models.loadPretrained(g3, g1000.stateDict());
  assert.deepEqual(r.skipped.map((s) => s.name), [
    "aux1.fc2.weight",
    "aux1.fc2.bias",
    "aux2.fc2.weight",
    "aux2.fc2.bias",
    "fc.weight",
    "fc.bias",
  ]);
  assert.ok(r.loaded.includes("aux1.fc1.weight") && r.loaded.includes("aux2.conv.conv.weight"));
  // The same class count loads the aux classifiers; `classifier: null` turns the rule off.
  using same = models.googlenet();
  const all = models.loadPretrained(same, g1000.stateDict());
  assert.equal(all.skipped.length, 0);
  assert.ok(all.loaded.includes("aux1.fc2.weight"));
  using off = models.googlenet({ numClasses: 3 });
  assert.match(
    messageOf(() => models.loadPretrained(off, g1000.stateDict(), { classifier: null })),
    /'aux1\.fc2\.weight' \[1000, 1024\] in the weights, \[3, 1024\] in the model/,
  );
});
