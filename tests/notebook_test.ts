/**
 * A community fine-tuning notebook ported line by line (ImageFolder slices,
 * weighted CrossEntropyLoss, SGD parameter groups, ReduceLROnPlateau on
 * macro-F1, torch.save of a checkpoint dict, sklearn's report and ROC AUC):
 * what the port needed. Numbers from scripts/make_notebook_fixtures.py
 * (PyTorch 1.13, sklearn 1.2.1).
 */
import assert from "node:assert/strict";
import { data, io, metrics, nn, optim, tensor } from "../mod.ts";
import { assertClose, loadFixture, messageOf } from "./helpers.ts";

interface Fixture {
  ckpt: {
    pth: string;
    init: { weight: number[]; bias: number[] };
    best_f1: number;
    epoch: number;
    x2: number[];
    y2: number[];
    loss2: number;
    weight_after: number[];
    bias_after: number[];
    class_weights: number[];
  };
  numpy_array: string;
  metrics: { y: number[]; pred: number[]; probs: number[][]; auc_ovr: number; report: string };
}
const FX = loadFixture<Fixture>("notebook.json");
const decodeBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

Deno.test("io.load: a notebook's torch.save'd checkpoint with sklearn's numpy.float64 best_f1 loads", () => {
  const c = io.decodePth(decodeBase64(FX.ckpt.pth), "best.pth") as Record<string, never>;
  assert.equal(c.epoch, 3);
  assert.equal(c.best_f1, FX.ckpt.best_f1); // numpy.float64 -> the same double
  assert.deepEqual(c.scalars, {
    f4: 0.25,
    f2: -1.5,
    i8: -7,
    i4: 123456,
    u1: 200,
    b: true,
    big: 1e300,
  });
});

Deno.test("io.load: resuming model and SGD (groups, momentum) from torch's checkpoint dict continues as torch", () => {
  const c = io.decodePth(decodeBase64(FX.ckpt.pth), "best.pth") as Record<string, never>;
  const model = new nn.Linear(4, 3);
  const opt = new optim.SGD([{ params: [model.weight], options: { lr: 1e-2 } }, {
    params: [model.bias!],
  }], { lr: 1e-1, momentum: 0.9, weightDecay: 1e-4 });
  model.loadStateDict(c.model_state_dict);
  opt.loadStateDict(c.optimizer_state_dict);
  const crit = new nn.CrossEntropyLoss({ weight: tensor(FX.ckpt.class_weights) });
  opt.zeroGrad();
  const loss = crit(
    model(tensor(Float32Array.from(FX.ckpt.x2), [6, 4])),
    tensor(
      Int32Array.from(FX.ckpt.y2),
      [6],
    ),
  );
  loss.backward();
  opt.step();
  assertClose([loss.item()], [FX.ckpt.loss2], { what: "loss after resume" });
  assertClose(model.weight, FX.ckpt.weight_after, { what: "weight after the resumed step" });
  assertClose(model.bias!, FX.ckpt.bias_after, { what: "bias after the resumed step" });
});

Deno.test("io.load: a numpy array in a checkpoint is still refused by name", () => {
  const m = messageOf(() => io.decodePth(decodeBase64(FX.numpy_array), "arr.pth"));
  assert.match(m, /^pth arr\.pth: a numpy value \(numpy\.core\.multiarray\._reconstruct\)/);
});

Deno.test("metrics.rocAucScore(y, probs, { multiClass: 'ovr' }) is sklearn's roc_auc_score", () => {
  const { y, probs, auc_ovr } = FX.metrics;
  assertClose([metrics.rocAucScore(y, probs, { multiClass: "ovr" })], [auc_ovr], {
    rtol: 1e-12,
    atol: 1e-12,
  });
  assert.equal(metrics.rocAuc(y, probs, { multiClass: "ovr" }), metrics.rocAuc(y, probs));
  assert.match(
    messageOf(() => metrics.rocAuc(y, probs, { multiClass: "ovo" } as never)),
    /multiClass "ovo" \(sklearn's one-vs-one, Hand and Till\) is not implemented/,
  );
  assert.match(
    messageOf(() => metrics.rocAuc(y, probs, { multiClass: "raise" } as never)),
    /multiClass must be "ovr"/,
  );
  assert.equal(metrics.averagePrecisionScore, metrics.averagePrecision);
});

Deno.test("metrics.classificationReport prints sklearn's text, as print(classification_report(...))", () => {
  const { y, pred, report } = FX.metrics;
  const r = metrics.classificationReport(y, pred, {
    targetNames: ["benign", "malignant", "normal"],
    digits: 4,
    zeroDivision: 0,
  });
  assert.equal(String(r), report);
  assert.equal(`${r}`, report);
  assert.equal(Deno.inspect(r), report);
  // The fields are as before: JSON and deep equality see no methods.
  assert.equal(JSON.parse(JSON.stringify(r)).accuracy, r.accuracy);
  assert.deepEqual({ ...r }, JSON.parse(JSON.stringify(r)));
});

Deno.test("transforms.Normalize takes the notebook's const MEAN = [0.35] (a number[]), as torchvision", () => {
  const MEAN = [0.35], STD = [0.25];
  const t = new data.transforms.Normalize({ mean: MEAN, std: STD });
  const out = t.apply({ data: new Float32Array([0.35, 0.6]), width: 2, height: 1 });
  assertClose(out.data, [0, 1]);
  assert.match(
    messageOf(() => new data.transforms.Normalize({ mean: [0.5, 0.5, 0.5], std: STD })),
    /mean has 3 values/,
  );
});
