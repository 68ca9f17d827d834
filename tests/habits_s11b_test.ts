/**
 * Inception v3 and GoogLeNet built without their auxiliary classifiers
 * (`auxLogits: false`), as torchvision 0.14 loads and evaluates them:
 * loadPretrained drops the weights' AuxLogits / aux1 / aux2 keys (as
 * `inception_v3(weights=..., aux_logits=False)` does) and leaves a head the
 * weights lack at its initialisation; strict loadStateDict still refuses,
 * naming the ways out; `deno task evaluate` (and predict, export) build the
 * model without the heads, which eval mode never runs, so inception_v3
 * evaluates below 299. Fixture: tests/fixtures/habits_s11b.json
 * (scripts/make_habits_s11b_fixtures.py).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { io, models, noGrad, type Tensor, train, zeros } from "../mod.ts";
import { inferenceModel } from "../src/train/inference_model.ts";
import { saveWeights } from "../src/train/checkpoint.ts";
import { buildModel, modelSpec } from "../src/train/setup.ts";
import { weightsLine } from "../src/train/weights.ts";
import { capture, withTinyLiTS } from "./train_data.ts";
import { loadFixture, messageOf } from "./helpers.ts";

interface Fixture {
  dropped: Record<"inception_v3" | "googlenet", { keys: string[]; kept: number }>;
  strictUnexpected: Record<"inception_v3" | "googlenet", { raises: boolean; unexpected: string[] }>;
  evalSides: { shapes: Record<string, number[]>; trainAt128Raises: boolean };
}
const FX = loadFixture<Fixture>("habits_s11b.json");

/** The builders, which take initWeights (false: skips torchvision's truncated-normal pass). */
const BUILD = { inception_v3: models.inceptionV3, googlenet: models.googlenet } as const;

/** An input [1, 1, side, side] of one value. */
function image(side: number): Tensor {
  return zeros([1, 1, side, side]).add(0.25);
}

Deno.test("loadPretrained: weights with AuxLogits into inception_v3 built without it drop them, as torchvision", () => {
  // initWeights: false skips torchvision's truncated-normal pass (values do not matter here).
  using imagenet = models.inceptionV3({ initWeights: false });
  using bare = models.inceptionV3({ auxLogits: false, initWeights: false });
  const r = models.loadPretrained(bare, imagenet.stateDict());
  const want = FX.dropped.inception_v3;
  assert.deepEqual(r.dropped.map((d) => d.name), want.keys);
  assert.equal(r.loaded.length, want.kept);
  assert.deepEqual([r.skipped, r.missingKeys, r.unexpectedKeys], [[], [], []]);
  assert.deepEqual(r.dropped[0].shape, [128, 768, 1, 1]);
  assert.match(
    r.dropped[0].reason,
    /^the model was built without its auxiliary classifier AuxLogits \(auxLogits: false\); torchvision's inception_v3\(weights=\.\.\., aux_logits=False\) drops it too$/,
  );
  assert.deepEqual(
    bare.stateDict().get("Mixed_7c.branch_pool.conv.weight")!.toArray(),
    imagenet.stateDict().get("Mixed_7c.branch_pool.conv.weight")!.toArray(),
  );

  // The CT fine-tune: one channel and three classes, fc left at init, the stem adapted.
  using ct = models.inceptionV3({
    auxLogits: false,
    inChannels: 1,
    numClasses: 3,
    initWeights: false,
  });
  const c = models.loadPretrained(ct, imagenet.stateDict());
  assert.equal(c.dropped.length, want.keys.length);
  assert.deepEqual(c.skipped.map((s) => s.name), ["fc.weight", "fc.bias"]);
  assert.deepEqual(c.adapted.map((a) => a.name), ["Conv2d_1a_3x3.conv.weight"]);
  assert.match(
    weightsLine(c, "inception.pth"),
    /; fc\.weight, fc\.bias left at init \(\[1000, 2048\] vs \[3, 2048\]\); 14 tensors dropped \(AuxLogits\.conv0\.conv\.weight, \.\.\.: auxiliary classifiers the model was built without\)$/,
  );

  // Any other unexpected key still fails strict, and only it is listed.
  const sd = new Map(imagenet.stateDict());
  using extra = zeros([2]);
  sd.set("extra.weight", extra);
  using strictModel = models.inceptionV3({ auxLogits: false, initWeights: false });
  const e = messageOf(() => models.loadPretrained(strictModel, sd));
  assert.match(e, /the weights do not fit this Inception3: unexpected keys \[extra\.weight\]\./);
  assert.doesNotMatch(e, /AuxLogits/);
  const loose = models.loadPretrained(strictModel, sd, { strict: false });
  assert.deepEqual(loose.unexpectedKeys, ["extra.weight"]);
  assert.equal(loose.dropped.length, want.keys.length);

  // A head set to null by hand (torchvision's own way: model.AuxLogits = None) is dropped too.
  using byHand = models.inceptionV3({ initWeights: false });
  byHand.AuxLogits = null;
  byHand.auxLogits = false;
  assert.equal(models.loadPretrained(byHand, imagenet.stateDict()).dropped.length, 14);
});

Deno.test("loadPretrained: GoogLeNet without aux1 / aux2 drops them; weights without them leave them at init", () => {
  using imagenet = models.googlenet({ initWeights: false });
  using bare = models.googlenet({ auxLogits: false, initWeights: false });
  const r = models.loadPretrained(bare, imagenet.stateDict());
  assert.deepEqual(r.dropped.map((d) => d.name), FX.dropped.googlenet.keys);
  assert.equal(r.loaded.length, FX.dropped.googlenet.kept);
  assert.match(r.dropped.at(-1)!.reason, /auxiliary classifier aux2 .*googlenet\(weights=\.\.\.\)/);

  // The other way: torchvision's googlenet(weights=...) state dict has no aux heads;
  // a model that trains them gets them whole at their initialisation, listed.
  using withAux = models.googlenet({ numClasses: 3, initWeights: false });
  const before = withAux.stateDict().get("aux1.fc1.weight")!.toArray().slice();
  const w = models.loadPretrained(withAux, bare.stateDict());
  const auxKeys = FX.dropped.googlenet.keys;
  assert.deepEqual(w.skipped.map((s) => s.name), [...auxKeys, "fc.weight", "fc.bias"]);
  assert.match(
    w.skipped[0].reason,
    /^the auxiliary classifier aux1: none of it in the weights \(saved without it, as torchvision's googlenet\(weights=\.\.\.\) state dict is\)$/,
  );
  assert.deepEqual(withAux.stateDict().get("aux1.fc1.weight")!.toArray(), before);
  assert.equal(w.loaded.length, FX.dropped.googlenet.kept - 2); // fc of another class count
  assert.match(
    weightsLine(w, "g.pth"),
    /fc\.weight, fc\.bias left at init \(\[1000, 1024\] vs \[3, 1024\]\); aux1\.conv\.conv\.weight, .* aux2\.fc2\.bias left at init \(not in the weights\)$/,
  );
  // classifier: null turns the rule off: the heads are missing keys.
  assert.match(
    messageOf(() => models.loadPretrained(withAux, bare.stateDict(), { classifier: null })),
    /missing keys \[aux1\.conv\.conv\.weight, /,
  );
  // A head with some keys in the weights is not new: what it lacks is missing.
  const partial = new Map(bare.stateDict());
  partial.set("aux1.fc1.weight", imagenet.stateDict().get("aux1.fc1.weight")!);
  assert.match(
    messageOf(() => models.loadPretrained(withAux, partial)),
    /missing keys \[aux1\.conv\.conv\.weight, .*aux1\.fc1\.bias\]/,
  );
});

Deno.test("loadStateDict (strict) refuses aux keys as torch does, naming auxLogits, loadPretrained and strict: false", () => {
  for (const name of ["inception_v3", "googlenet"] as const) {
    using full = BUILD[name]({ initWeights: false });
    using bare = BUILD[name]({ auxLogits: false, initWeights: false });
    const want = FX.strictUnexpected[name];
    assert.ok(want.raises);
    const e = messageOf(() => bare.loadStateDict(full.stateDict()));
    assert.ok(
      e.startsWith(
        `loadStateDict: missing keys [], unexpected keys [${want.unexpected.join(", ")}]; `,
      ),
      e,
    );
    assert.match(e, /was built without its auxiliary classifiers? .*\(auxLogits: false\)/);
    assert.match(e, /build it with auxLogits: true to load them/);
    assert.match(e, /models\.loadPretrained\(model, stateDict\)/);
    assert.match(e, /model\.loadStateDict\(stateDict, \{ strict: false \}\)$/);
    assert.deepEqual(
      bare.loadStateDict(full.stateDict(), { strict: false }).unexpectedKeys,
      want.unexpected,
    );

    // The other way: a state dict saved without the heads, into a model that has them.
    const m = messageOf(() => full.loadStateDict(bare.stateDict()));
    assert.match(
      m,
      /the state dict has none of this (Inception3|GoogLeNet)'s auxiliary classifiers? /,
    );
    assert.match(m, /build the model with auxLogits: false/);
  }
  // Other weights get no hint: the heads are not all that is missing.
  using g = models.googlenet({ initWeights: false });
  using r18 = models.resnet18();
  assert.doesNotMatch(messageOf(() => g.loadStateDict(r18.stateDict())), /auxLogits/);
});

Deno.test("inference model: inception_v3 and googlenet without aux heads give the eval outputs of the model with them", () => {
  // torchvision's Inception3 with its head evaluates at any side from 75 (the head runs in training only).
  assert.deepEqual(FX.evalSides.shapes, { "75": [1, 3], "128": [1, 3], "298": [1, 3] });
  assert.ok(FX.evalSides.trainAt128Raises);
  for (const [name, side] of [["inception_v3", 128], ["googlenet", 64]] as const) {
    // Built with the heads (no imageSize: the 299 rule is a training one), then evaluated.
    using full = BUILD[name]({ inChannels: 1, numClasses: 3, initWeights: false });
    full.eval();
    const spec = { name, options: { inChannels: 1, numClasses: 3, imageSize: side } };
    using bare = inferenceModel(spec, full.stateDict(), "test weights");
    bare.eval();
    assert.equal(bare.stateDict().size, FX.dropped[name].kept);
    noGrad(() => {
      using x = image(side);
      using a = full.forward(x) as Tensor;
      using b = bare.forward(x) as Tensor;
      assert.deepEqual(b.shape, [1, 3]);
      assert.ok(a.toArray().some((v) => v !== 0), "a zero output compares nothing");
      assert.deepEqual(b.toArray(), a.toArray(), name);
    });
    if (name === "googlenet") {
      // A state dict saved without the heads loads too.
      using again = inferenceModel(spec, bare.stateDict(), "test weights");
      assert.equal(again.stateDict().size, FX.dropped[name].kept);
      continue;
    }
    // inception_v3 down to 75, as torchvision's eval; training at 128 with the
    // head is what is refused (torch raises too).
    noGrad(() => {
      using x = image(75);
      using y = bare.forward(x) as Tensor;
      assert.deepEqual(y.shape, FX.evalSides.shapes["75"]);
    });
    full.train();
    using small = zeros([2, 1, 128, 128]);
    assert.match(messageOf(() => full.forward(small)), /too small for AuxLogits/);
  }
  // Other weights still fail loudly, naming the checkpoint.
  using r18 = models.resnet18({ inChannels: 1, numClasses: 3 });
  assert.match(
    messageOf(() =>
      inferenceModel(
        { name: "googlenet", options: { inChannels: 1, numClasses: 3, imageSize: 64 } },
        r18.stateDict(),
        "checkpoint r18.safetensors",
      )
    ),
    /^checkpoint r18\.safetensors does not fit model googlenet .*missing keys \[conv1\.conv\.weight/,
  );
});

Deno.test("evaluate: inception_v3 at --image-size 128 and googlenet without aux keys run; a run's checkpoint refuses another --image-size", async () => {
  await withTinyLiTS(40, async (root, dir) => {
    {
      using inc = models.inceptionV3({ inChannels: 1, numClasses: 3, initWeights: false });
      await io.saveSafetensors(join(dir, "inception.safetensors"), inc.stateDict());
      using g = models.googlenet({
        inChannels: 1,
        numClasses: 3,
        auxLogits: false,
        initWeights: false,
      });
      await io.saveSafetensors(join(dir, "googlenet.safetensors"), g.stateDict());
    }
    const evaluate = (file: string, model: string, size: string) =>
      capture(train.evaluateMain, [
        "--checkpoint",
        join(dir, file),
        "--model",
        model,
        "--image-size",
        size,
        "--data",
        root,
        "--split",
        "test",
        "--out",
        join(dir, "report.html"),
      ]);
    const inc = await evaluate("inception.safetensors", "inception_v3", "128");
    assert.equal(inc.code, 0, inc.stderr);
    assert.match(inc.stdout, /^inception_v3 on .* \(test, 4 slices, fp32\)/m);
    const g = await evaluate("googlenet.safetensors", "googlenet", "64");
    assert.equal(g.code, 0, g.stderr);
    // Below Inception's own minimum (75): a bad flag (exit 2), as train's.
    const tiny = await evaluate("inception.safetensors", "inception_v3", "64");
    assert.equal(tiny.code, 2);
    assert.match(
      tiny.stderr,
      /--image-size 64: model inception_v3 needs images of at least 75 pixels/,
    );

    // A checkpoint that records its model: --image-size would be ignored, so another is refused.
    const spec = modelSpec({ ...train.DEFAULTS, model: "simple" }, 16);
    using simple = buildModel(spec);
    await saveWeights(join(dir, "best.safetensors"), simple, spec);
    const args = [
      "--checkpoint",
      join(dir, "best.safetensors"),
      "--data",
      root,
      "--out",
      join(dir, "r.html"),
    ];
    const other = await capture(train.evaluateMain, [...args, "--image-size", "32"]);
    assert.equal(other.code, 2);
    assert.match(
      other.stderr,
      /--image-size 32: checkpoint .*best\.safetensors records its model, simple on 16x16 images .*--image-size is for a state dict without lits metadata: leave it out/,
    );
    const same = await capture(train.evaluateMain, [...args, "--image-size", "16"]);
    assert.equal(same.code, 0, same.stderr);
  });
});
