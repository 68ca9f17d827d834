/**
 * PyTorch habits ported line by line: each call below is what a PyTorch
 * user naturally writes; each must throw an Error that says what to write
 * (never run with a default silently), and the corrected call must work.
 * One case or more per file that checks its options.
 */
import assert from "node:assert/strict";
import {
  arange,
  data,
  evaluation,
  functional as F,
  io,
  metrics,
  models,
  nn,
  ones,
  optim,
  rand,
  randn,
  tensor,
  train,
  zeros,
} from "../mod.ts";

// deno-lint-ignore no-explicit-any
type Loose = any;
const loose = <T>(f: T) => f as Loose;

function throwsWith(f: () => unknown, ...patterns: RegExp[]): void {
  let message = "";
  try {
    f();
  } catch (e) {
    message = (e as Error).message;
  }
  assert.ok(message !== "", "expected an Error");
  for (const p of patterns) assert.match(message, p);
}

const dataset = {
  length: 5,
  get: (i: number) =>
    Promise.resolve({ image: { data: new Float32Array(4), width: 2, height: 2 }, label: i % 2 }),
};

Deno.test("optim.Adam: weight_decay, positional lr, a misspelled key", () => {
  const params = new nn.Linear(2, 2).parameters();
  // torch.optim.Adam(params, lr=1e-4, weight_decay=1e-5)
  throwsWith(
    () => new optim.Adam(params, loose({ lr: 1e-4, weight_decay: 1e-5 })),
    /optim\.Adam: unknown option 'weight_decay' \(write 'weightDecay'\)/,
    /known options: lr, betas, eps, weightDecay/,
  );
  // torch.optim.Adam(params, 1e-4)
  throwsWith(
    () => new optim.Adam(params, loose(1e-4)),
    /expected an options object, got number 0\.0001/,
    /new optim\.Adam\(params, \{ lr: 1e-4/,
  );
  throwsWith(
    () => new optim.Adam(params, loose({ weightDecy: 1e-5 })),
    /did you mean 'weightDecay'\?/,
  );
  throwsWith(() => new optim.AdamW(params, loose({ momentum: 0.9 })), /unknown option 'momentum'/);
  const opt = new optim.Adam(params, { lr: 1e-4, weightDecay: 1e-5 });
  assert.equal(opt.paramGroups[0].options.lr, 1e-4);
  assert.equal(opt.paramGroups[0].options.weightDecay, 1e-5);
});

Deno.test("optim.SGD and param groups: PyTorch's { params, lr } and a missing lr", () => {
  const a = new nn.Linear(2, 2).parameters(), b = new nn.Linear(2, 2).parameters();
  throwsWith(
    () => new optim.SGD(a, loose(0.1)),
    /write it as new optim\.SGD\(params, \{ lr: 0\.01/,
  );
  throwsWith(() => new optim.SGD(a, loose(undefined)), /optim\.SGD: lr is required/);
  throwsWith(() => new (optim.SGD as Loose)(a, { lr: 0.1 }, 0.9), /takes at most 2 arguments/);
  throwsWith(
    () => new optim.SGD(loose([{ params: a }, { params: b, lr: 1e-3 }]), { lr: 0.1 }),
    /param group 1 has lr beside params; hyper-parameters go in options/,
  );
  throwsWith(
    () => new optim.SGD(loose([{ params: a, options: { learning_rate: 1 } }]), { lr: 0.1 }),
    /param group 0: unknown option 'learning_rate'/,
  );
  const opt = new optim.SGD(loose([{ params: a }, { params: b, options: { lr: 1e-3 } }]), {
    lr: 0.1,
    momentum: 0.9,
  });
  assert.deepEqual(opt.paramGroups.map((g) => g.options.lr), [0.1, 1e-3]);
  assert.equal(opt.paramGroups[1].options.momentum, 0.9);
});

Deno.test("schedulers: positional step_size, snake_case keys, step(epoch)", () => {
  const opt = new optim.SGD(new nn.Linear(2, 2).parameters(), { lr: 1 });
  throwsWith(() => new optim.StepLR(opt, loose(30)), /new optim\.StepLR\(opt, \{ stepSize: 30/);
  throwsWith(() => new optim.StepLR(opt, loose({ step_size: 30 })), /write 'stepSize'/);
  throwsWith(() => new optim.CosineAnnealingLR(opt, loose({ T_max: 10 })), /write 'tMax'/);
  throwsWith(() => new optim.CosineAnnealingLR(opt, loose(undefined)), /options are required/);
  throwsWith(
    () =>
      new optim.OneCycleLR(opt, loose({ maxLr: 0.1, totalSteps: 10, anneal_strategy: "linear" })),
    /unknown option 'anneal_strategy'/,
  );
  const s = new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 });
  throwsWith(() => loose(s).step(3), /StepLR\.step: takes at most 0 arguments/);
  s.step();
  assert.deepEqual(s.lastLr, [0.5]);
});

Deno.test("nn.Conv2d: positional stride and padding; other layers", () => {
  // nn.Conv2d(1, 16, 3, 1, 1)
  throwsWith(
    () => new (nn.Conv2d as Loose)(1, 16, 3, 1, 1),
    /nn\.Conv2d: torch's positional arguments after the kernel size \(stride, padding\)/,
    /new nn\.Conv2d\(1, 16, 3, \{ stride: 1, padding: 1 \}\)/,
  );
  // The user's own values, not an example's (the recipes' nn.Conv2d(1, 32, 3, 1)).
  throwsWith(
    () => new nn.Conv2d(1, 32, 3, loose(2)),
    /write new nn\.Conv2d\(1, 32, 3, \{ stride: 2 \}\)/,
  );
  throwsWith(() => new nn.Conv2d(1, 16, 3, loose({ padding_mode: "zeros" })), /'padding_mode'/);
  const conv = new nn.Conv2d(1, 16, 3, { stride: 2, padding: 1 });
  assert.deepEqual(conv.forward(zeros([1, 1, 8, 8])).shape, [1, 16, 4, 4]);

  throwsWith(() => new nn.Linear(4, 2, loose(false)), /new nn\.Linear\(4, 2, \{ bias: false \}\)/);
  throwsWith(
    () => new nn.BatchNorm2d(4, loose({ track_running_stats: false })),
    /'trackRunningStats'/,
  );
  // nn.MaxPool2d(3, 2): kernel 3, stride 2 in PyTorch
  throwsWith(() => new nn.MaxPool2d(3, loose(2)), /new nn\.MaxPool2d\(3, \{ stride: 2/);
  throwsWith(() => new nn.MaxPool2d(3, loose({ countIncludePad: false })), /unknown option/);
  throwsWith(() => new nn.AvgPool2d(2, loose({ divisor_override: 1 })), /'divisor_override'/);
  throwsWith(() => new (nn.AdaptiveAvgPool2d as Loose)(1, 1), /nn\.AdaptiveAvgPool2d\(\[1, 1\]\)/);
  throwsWith(() => new (nn.Dropout as Loose)(0.5, true, 1), /nn\.Dropout: takes at most 2/);
  throwsWith(() => new (nn.Dropout as Loose)(0.5, "yes"), /inplace must be true or false/);
  // torch's nn.Dropout(p=0.5) as an options object is taken
  assert.equal(new nn.Dropout(loose({ p: 0.25 })).p, 0.25);
  throwsWith(() => new nn.Flatten(loose({ startDim: 1 })), /startDim must be an integer/);
  assert.deepEqual(
    new nn.MaxPool2d(3, { stride: 2, padding: 1 }).forward(zeros([1, 1, 8, 8])).shape,
    [
      1,
      1,
      4,
      4,
    ],
  );
});

Deno.test("nn.CrossEntropyLoss and F.crossEntropy: label_smoothing", () => {
  throwsWith(
    () => new nn.CrossEntropyLoss(loose({ label_smoothing: 0.1 })),
    /nn\.CrossEntropyLoss: unknown option 'label_smoothing' \(write 'labelSmoothing'\)/,
  );
  const logits = tensor([[2, 0, 0]]), target = tensor(new Int32Array([0]), [1]);
  throwsWith(() => F.crossEntropy(logits, target, loose({ ignore_index: 1 })), /'ignoreIndex'/);
  const a = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(logits, target).item();
  const b = new nn.CrossEntropyLoss().forward(logits, target).item();
  assert.ok(a > b, "label smoothing took effect");
});

Deno.test("functional ops and init: options checked", () => {
  const x = randn([1, 2, 6, 6]), w = randn([2, 2, 3, 3]);
  throwsWith(() => loose(F.conv2d)(x, w, null, 1, 1), /conv2d: takes at most 4 arguments/);
  throwsWith(() => F.conv2d(x, w, null, loose({ Padding: 1 })), /write 'padding'/);
  throwsWith(() => F.maxPool2d(x, 2, loose(2)), /F\.maxPool2d\(x, 3, \{ stride: 2/);
  throwsWith(() => F.avgPool2d(x, 2, loose({ count_include_pad: false })), /'countIncludePad'/);
  throwsWith(() => loose(F.adaptiveAvgPool2d)(x, 1, 1), /at most 2 arguments/);
  throwsWith(
    () => F.batchNorm(x, null, null, null, null, loose({ train: true })),
    /unknown option 'train'.*known options: training, momentum, eps/,
  );
  throwsWith(() => loose(F.dropout)(x, 0.5, true, false), /dropout: takes at most 3/);
  throwsWith(
    () => nn.init.kaimingUniform_(zeros([2, 2]), loose(Math.sqrt(5))),
    /expected an options/,
  );
  throwsWith(() => nn.init.kaimingNormal_(zeros([2, 2]), loose({ mode: "fanIn" })), /mode must be/);
  throwsWith(
    () => nn.init.kaimingNormal_(zeros([2, 2]), loose({ nonlinearity: "relu6" })),
    /nonlinearity/,
  );
  assert.equal(F.conv2d(x, w, null, { padding: 1 }).shape[2], 6);
});

Deno.test("creation and backward: torch's keyword arguments", () => {
  // torch.zeros(2, 3), torch.rand(2, 3), torch.arange(5, dtype=torch.int32)
  throwsWith(
    () => zeros(loose(2), loose(3)),
    /zeros: the shape is one list of sizes/,
    /zeros\(\[2, 3\]/,
  );
  throwsWith(() => rand(loose(2), loose(3)), /rand\(\[2, 3\]\)/);
  throwsWith(() => randn([2], loose({ requires_grad: true })), /write 'requiresGrad'/);
  throwsWith(() => ones([2], loose({ dtype: "int32", device: "cpu", grad: true })), /'grad'/);
  throwsWith(() => arange(5, loose({ dtype: "int32" })), /arange: end must be a number/);
  // torch.tensor([1, 2], requires_grad=True): the options may come second
  assert.ok(tensor([1, 2], loose({ requiresGrad: true })).requiresGrad);
  throwsWith(() => tensor([1, 2], loose({ requires_grad: true })), /write 'requiresGrad'/);
  throwsWith(() => tensor([1, 2], loose("x")), /second argument is the shape \(or the options\)/);
  assert.equal(arange(0, 5, 1, { dtype: "int32" }).dtype, "int32");
  const x = tensor([1, 2], undefined, { requiresGrad: true });
  const y = x.mul(x).sum();
  // loss.backward(retain_graph=True)
  throwsWith(
    () => y.backward(loose({ retainGraph: true })),
    /first argument is the gradient tensor/,
  );
  throwsWith(() => y.backward(undefined, loose({ retain_graph: true })), /write 'retainGraph'/);
  y.backward(undefined, { retainGraph: true });
  assert.deepEqual([...x.grad!.toArray()], [2, 4]);
});

Deno.test("data.DataLoader: batch_size, drop_last, num_workers, positional batch size", () => {
  throwsWith(
    () => new data.DataLoader(dataset, loose({ batch_size: 2 })),
    /data\.DataLoader: unknown option 'batch_size' \(write 'batchSize'\)/,
  );
  throwsWith(() => new data.DataLoader(dataset, loose({ drop_last: true })), /write 'dropLast'/);
  throwsWith(
    () => new data.DataLoader(dataset, loose({ num_workers: 2 })),
    /did you mean 'workers'/,
  );
  throwsWith(
    () => new data.DataLoader(dataset, loose({ prefetch_factor: 2 })),
    /did you mean 'prefetch'/,
  );
  throwsWith(
    () => new data.DataLoader(dataset, loose(2)),
    /new data\.DataLoader\(dataset, \{ batchSize/,
  );
  const loader = new data.DataLoader(dataset, { batchSize: 2, dropLast: true });
  assert.equal(loader.length, 2);
});

Deno.test("samplers, datasets and writers check their options", async () => {
  throwsWith(() => new data.RandomSampler(5, loose({ num_samples: 2 })), /write 'numSamples'/);
  // WeightedRandomSampler(weights, num_samples, replacement=False)
  throwsWith(
    () => new data.WeightedRandomSampler([1, 1], 2, loose(false)),
    /\{ replacement: false \}/,
  );
  throwsWith(
    () => data.classBalancedSampler([0, 1], loose({ replacement: true })),
    /'replacement'/,
  );
  throwsWith(() => new (data.SequentialSampler as Loose)(3, true), /at most 1 arguments/);
  throwsWith(() => new data.LiTSDataset(loose("data/lits")), /new data\.LiTSDataset\(\{ root/);
  throwsWith(
    () => new data.LiTSDataset(loose({ root: "x", split: "train", transform: 1 })),
    /'transform'/,
  );
  throwsWith(() => new data.LiTSDataset(loose({ root: "x" })), /split is required/);
  await assert.rejects(
    () => data.synthesizeLiTS(loose({ out: "/nonexistent", slices_per_patient: 3 })),
    /write 'slicesPerPatient'/,
  );
  await assert.rejects(() => data.synthesizeLiTS(loose({ preset: "easy" })), /out .* is required/);
  await assert.rejects(
    () => data.importLiTSVolumes(loose({ source: "a", out: "b", slice_step: 2 })),
    /write 'sliceStep'/,
  );
});

Deno.test("models: num_classes, positional options, imageSize through create", () => {
  throwsWith(() => models.resnet18(loose({ num_classes: 3 })), /write 'numClasses'/);
  throwsWith(() => models.resnet50(loose({ pretrained: true })), /unknown option 'pretrained'/);
  throwsWith(() => models.alexnet(loose(3)), /models\.alexnet\(\{ inChannels: 1/);
  throwsWith(() => models.simpleCNN(loose({ image_size: 64 })), /write 'imageSize'/);
  throwsWith(() => models.create("simple", loose({ batch_norm: true })), /write 'batchNorm'/);
  throwsWith(() => models.create("resnet18", { dropout: 0.5 }), /resnet18 has no option 'dropout'/);
  throwsWith(() => loose(models.create)("simple", {}, 3), /at most 2 arguments/);
  assert.equal(
    (models.create("resnet18", { inChannels: 1, numClasses: 3, imageSize: 32 }) as models.ResNet)
      .fc.outFeatures,
    3,
  );
});

Deno.test("metrics and report: sklearn's keyword names", async () => {
  const y = [0, 1, 1, 0], s = [0.1, 0.9, 0.6, 0.4];
  throwsWith(() => metrics.rocCurve(y, s, loose({ pos_label: 1 })), /write 'posLabel'/);
  throwsWith(
    () => metrics.rocCurve(y, s, loose({ drop_intermediate: false })),
    /'dropIntermediate'/,
  );
  throwsWith(() => metrics.precisionRecallCurve(y, s, loose(1)), /\{ posLabel: 2/);
  throwsWith(
    () => metrics.rocAuc(y, s, loose({ multi_class: "ovr" })),
    /unknown option 'multi_class'/,
  );
  throwsWith(
    () => metrics.averagePrecision(y, s, loose({ average: "mean" })),
    /"macro", "weighted", "micro"/,
  );
  throwsWith(
    () => metrics.classificationReport(y, y, loose({ target_names: ["a", "b"] })),
    /'target_names'/,
  );
  const report = metrics.classificationReport(y, y);
  throwsWith(() => metrics.formatClassificationReport(report, loose(4)), /\{ digits: 4 \}/);
  const reportData = {
    title: "t",
    classNames: ["a", "b"],
    history: [],
    yTrue: y,
    yPred: y,
    scores: [0.9, 0.1, 0.1, 0.9, 0.4, 0.6, 0.6, 0.4],
  };
  await assert.rejects(
    () => evaluation.renderReport(reportData, loose({ max_misclassified: 4 })),
    /write 'maxMisclassified'/,
  );
  await assert.rejects(
    () => evaluation.renderReport(loose({ ...reportData, misclassifed: [] })),
    /renderReport data: unknown option 'misclassifed' \(did you mean 'misclassified'\?\)/,
  );
  assert.ok((await evaluation.renderReport(reportData, { maxMisclassified: 4 })).length > 0);
});

Deno.test("io and train: options and full configs", async () => {
  const w = tensor([1, 2]);
  throwsWith(() => io.encodeSafetensors({ w }, loose({ int_type: "I32" })), /write 'intType'/);
  const bytes = io.encodeSafetensors({ w });
  throwsWith(
    () => io.decodeSafetensors(bytes, loose({ device: "cpu" })),
    /second argument is the source name/,
  );
  await assert.rejects(
    () => io.loadSafetensors("x", loose({ map_location: "cpu" })),
    /'map_location'/,
  );
  await assert.rejects(
    () => io.saveSafetensors("x", { w }, loose("pt")),
    /expected an options object/,
  );
  assert.deepEqual([
    ...io.decodeSafetensors(bytes, "<bytes>", { device: "cpu" }).get("w")!.toArray(),
  ], [1, 2]);

  throwsWith(
    () => train.checkConfig(loose({ ...train.DEFAULTS, weight_decay: 1e-5 })),
    /unknown option 'weight_decay' \(write 'weightDecay'\)/,
  );
  throwsWith(
    () => train.checkConfig(loose({ model: "simple", epochs: 1 })),
    /config lacks data, batchSize/,
  );
  await assert.rejects(
    () => train.fit(loose({ ...train.DEFAULTS, batch_size: 8 })),
    /train\.fit: config: unknown option 'batch_size' \(write 'batchSize'\)/,
  );
  await assert.rejects(
    () => train.fit({ ...train.DEFAULTS }, loose({ resume: true, verbose: 1 })),
    /'verbose'/,
  );
  await assert.rejects(
    () => train.writeFileAtomic("/nonexistent/x", new Uint8Array(1), loose(true)),
    /\{ checkpoint: true \}/,
  );
  const model = models.create("simple", { imageSize: 16 });
  const opt = new optim.Adam(model.parameters());
  await assert.rejects(
    () => train.saveCheckpoint("/nonexistent/x", model, opt, loose({ model: {}, epoch: 0 })),
    /fields lack step, scheduler/,
  );
  const ds = {
    ...dataset,
    get: (i: number) =>
      Promise.resolve({
        image: { data: new Float32Array(256), width: 16, height: 16 },
        label: i % 2,
      }),
  };
  await assert.rejects(
    () => train.evaluateModel(model, new data.DataLoader(ds), loose({ keep_mistakes: 3 })),
    /write 'keepMistakes'/,
  );
  model.loadStateDict(model.stateDict(), { strict: true });
  throwsWith(() => model.loadStateDict(model.stateDict(), loose(false)), /\{ strict: false \}/);
});
