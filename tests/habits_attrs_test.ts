/**
 * Module attributes that PyTorch users assign after construction
 * (`bn.momentum = 0.01`, `m.p = 0.0`, `act.negative_slope = 0.2`,
 * `pool.ceil_mode = True`, `conv.padding_mode = "reflect"`,
 * `up.scale_factor = 4`, `bn.track_running_stats = False`): each is
 * assignable here in TypeScript (this file assigns them without casts),
 * checked as the constructor checks it, and read at the next forward, in
 * training and evaluation, with gradients and under noGrad, so forward (and
 * backward) give torch 1.13's numbers. Before, most were `readonly` (a cast
 * worked for some; ceilMode, paddingMode, the Upsample options and
 * trackRunningStats threw a TypeError; a new kernel size moved a pool's
 * stride with it; ReLU6's maxVal was ignored). Also: torch's snake_case
 * names throw naming ours, `String(m)` shows the new values, the models'
 * fused evaluation paths read them, and copies (AveragedModel, a
 * transformer's layers, SyncBatchNorm) keep or refuse them.
 * Fixture: tests/fixtures/habits_attrs.json (scripts/make_habits_attrs_fixtures.py).
 */
import assert from "node:assert/strict";
import {
  distributed,
  manualSeed,
  models,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord } from "./helpers.ts";
import { matchesOrt } from "./onnx_check.ts";

interface Case {
  name: string;
  x: StoredRecord;
  mode: "train" | "eval";
  steps: number;
  assign: Record<string, unknown>;
  out: StoredRecord;
  state?: Record<string, StoredRecord>;
  params?: Record<string, StoredRecord>;
  reads?: Record<string, StoredRecord>;
  g?: StoredRecord;
  grad?: StoredRecord;
}
const FX = loadFixture<{ cases: Case[] }>("habits_attrs.json");

/** A layer as torch's case builds it, and the case's assignments in our spelling. */
interface Ours<M extends nn.Module = nn.Module> {
  make: () => M;
  set: (m: M, params: Record<string, Tensor>) => void;
}
const c = <M extends nn.Module>(make: () => M, set: (m: M, p: Record<string, Tensor>) => void) =>
  ({ make, set }) as unknown as Ours;

const OURS: Record<string, Ours> = {
  bn_momentum: c(() => new nn.BatchNorm2d(3), (m) => m.momentum = 0.5),
  bn_momentum_none: c(() => new nn.BatchNorm2d(3), (m) => m.momentum = null),
  bn_eps_train: c(() => new nn.BatchNorm2d(3), (m) => m.eps = 0.5),
  bn_eps_eval: c(() => new nn.BatchNorm2d(3), (m) => m.eps = 0.5),
  bn_track_false_train: c(() => new nn.BatchNorm2d(3), (m) => m.trackRunningStats = false),
  bn_track_false_eval: c(() => new nn.BatchNorm2d(3), (m) => m.trackRunningStats = false),
  bn_stats_none_eval: c(() => new nn.BatchNorm2d(3), (m) => {
    m.trackRunningStats = false;
    m.runningMean = null;
    m.runningVar = null;
  }),
  bn1d_momentum: c(() => new nn.BatchNorm1d(3), (m) => m.momentum = 0.9),
  in_eps: c(() => new nn.InstanceNorm2d(3), (m) => m.eps = 0.5),
  ln_eps: c(() => new nn.LayerNorm(4), (m) => m.eps = 0.5),
  gn_eps: c(() => new nn.GroupNorm(2, 4), (m) => m.eps = 0.5),
  dropout_p0: c(() => new nn.Dropout(0.5), (m) => m.p = 0),
  dropout_p1: c(() => new nn.Dropout(0.5), (m) => m.p = 1),
  dropout1d_p0: c(() => new nn.Dropout1d(0.5), (m) => m.p = 0),
  dropout2d_p0: c(() => new nn.Dropout2d(0.5), (m) => m.p = 0),
  dropout3d_p1: c(() => new nn.Dropout3d(0.5), (m) => m.p = 1),
  alpha_dropout_p0: c(() => new nn.AlphaDropout(0.5), (m) => m.p = 0),
  stochastic_depth_p0: c(() => new nn.StochasticDepth(0.5, "row"), (m) => m.p = 0),
  leaky_relu_slope: c(() => new nn.LeakyReLU(), (m) => m.negativeSlope = 0.2),
  elu_alpha: c(() => new nn.ELU(), (m) => m.alpha = 2),
  celu_alpha: c(() => new nn.CELU(), (m) => m.alpha = 2),
  gelu_tanh: c(() => new nn.GELU(), (m) => m.approximate = "tanh"),
  softplus: c(() => new nn.Softplus(), (m) => {
    m.beta = 2;
    m.threshold = 1;
  }),
  hardtanh: c(() => new nn.Hardtanh(), (m) => {
    m.minVal = -0.5;
    m.maxVal = 0.5;
  }),
  hardshrink: c(() => new nn.Hardshrink(), (m) => m.lambd = 1),
  softshrink: c(() => new nn.Softshrink(), (m) => m.lambd = 1),
  threshold: c(() => new nn.Threshold(0.1, 20), (m) => {
    m.threshold = 0.5;
    m.value = -1;
  }),
  rrelu_eval: c(() => new nn.RReLU(), (m) => {
    m.lower = 0.5;
    m.upper = 0.7;
  }),
  softmax_dim: c(() => new nn.Softmax(1), (m) => m.dim = 0),
  log_softmax_dim: c(() => new nn.LogSoftmax(1), (m) => m.dim = 0),
  glu_dim: c(() => new nn.GLU(), (m) => m.dim = 0),
  flatten_start: c(() => new nn.Flatten(), (m) => m.startDim = 0),
  flatten_end: c(() => new nn.Flatten(), (m) => m.endDim = 2),
  max_pool_ceil: c(() => new nn.MaxPool2d(2), (m) => m.ceilMode = true),
  max_pool_kernel: c(() => new nn.MaxPool2d(2), (m) => m.kernelSize = 3),
  max_pool_stride: c(() => new nn.MaxPool2d(3), (m) => m.stride = 1),
  max_pool_padding: c(() => new nn.MaxPool2d(3, { stride: 2 }), (m) => m.padding = 1),
  max_pool_dilation: c(() => new nn.MaxPool2d(2, { stride: 1 }), (m) => m.dilation = 2),
  avg_pool_ceil: c(() => new nn.AvgPool2d(2), (m) => m.ceilMode = true),
  avg_pool_count_include_pad: c(
    () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }),
    (m) => m.countIncludePad = false,
  ),
  avg_pool_divisor: c(() => new nn.AvgPool2d(2), (m) => m.divisorOverride = 3),
  avg_pool_kernel: c(() => new nn.AvgPool2d(2), (m) => m.kernelSize = 3),
  adaptive_avg_pool_size: c(() => new nn.AdaptiveAvgPool2d(1), (m) => m.outputSize = 2),
  max_pool1d_ceil: c(() => new nn.MaxPool1d(2), (m) => m.ceilMode = true),
  max_pool1d_kernel: c(() => new nn.MaxPool1d(2), (m) => m.kernelSize = 3),
  avg_pool1d_ceil: c(() => new nn.AvgPool1d(2), (m) => m.ceilMode = true),
  max_pool3d_ceil: c(() => new nn.MaxPool3d(2), (m) => m.ceilMode = true),
  avg_pool3d_kernel: c(() => new nn.AvgPool3d(2), (m) => m.kernelSize = 3),
  conv_padding_mode: c(
    () => new nn.Conv2d(2, 2, 3, { padding: 1 }),
    (m) => m.paddingMode = "reflect",
  ),
  conv_stride: c(() => new nn.Conv2d(2, 2, 3), (m) => m.stride = [2, 2]),
  conv_weight_one_channel: c(
    () => new nn.Conv2d(3, 2, 3),
    (m, p) => m.weight = new nn.Parameter(p.weight),
  ),
  conv1d_stride: c(() => new nn.Conv1d(2, 2, 3), (m) => m.stride = [2]),
  conv1d_padding_mode: c(
    () => new nn.Conv1d(2, 2, 3, { padding: 1 }),
    (m) => m.paddingMode = "circular",
  ),
  conv3d_dilation: c(() => new nn.Conv3d(1, 1, 2), (m) => m.dilation = [2, 2, 2]),
  conv_transpose_stride: c(() => new nn.ConvTranspose2d(2, 1, 3), (m) => m.stride = [2, 2]),
  conv_transpose1d_padding: c(() => new nn.ConvTranspose1d(2, 1, 3), (m) => m.padding = [1]),
  linear_bias_none: c(() => new nn.Linear(3, 2), (m) => m.bias = null),
  upsample_scale: c(() => new nn.Upsample({ scaleFactor: 2 }), (m) => m.scaleFactor = 3),
  upsample_mode: c(() => new nn.Upsample({ scaleFactor: 2 }), (m) => m.mode = "bilinear"),
  upsample_align: c(
    () => new nn.Upsample({ scaleFactor: 2, mode: "bilinear" }),
    (m) => m.alignCorners = true,
  ),
  upsample_size: c(() => new nn.Upsample({ size: 3 }), (m) => m.size = [4, 5]),
};

/** Our value of a buffer torch's case reads back. */
function read(m: nn.Module, name: string): Tensor {
  const t = m.stateDict().get(name);
  assert.ok(t, `${name} is missing from the state dict`);
  return t;
}

/** The case's layer, loaded with torch's state, assigned, in the case's mode. */
function build(fx: Case): nn.Module {
  const ours = OURS[fx.name];
  const m = ours.make();
  if (fx.state) {
    m.loadStateDict(new Map(Object.entries(fx.state).map(([k, s]) => [k, fromStored(s)])));
  }
  const params = Object.fromEntries(
    Object.entries(fx.params ?? {}).map(([k, s]) => [k, fromStored(s)]),
  );
  ours.set(m, params);
  return m.train(fx.mode === "train");
}

Deno.test("every fixture case has its layer and assignment here, and no other", () => {
  assert.deepEqual(FX.cases.map((fx) => fx.name).sort(), Object.keys(OURS).sort());
});

for (const fx of FX.cases) {
  Deno.test(`habits: ${fx.name} assigned after construction gives torch's numbers`, () => {
    const m = build(fx);
    const x = fromStored(fx.x, { requiresGrad: fx.grad !== undefined });
    let y!: Tensor;
    for (let i = 0; i < fx.steps; i++) y = m(x) as Tensor;
    assertStored(y, fx.out, `${fx.name}: output`, 1e-5, 1e-5);
    for (const [name, want] of Object.entries(fx.reads ?? {})) {
      assertStored(read(m, name), want, `${fx.name}: ${name}`, 1e-5, 1e-6);
    }
    if (fx.grad) {
      y.mul(fromStored(fx.g!)).sum().backward();
      assertStored(x.grad, fx.grad, `${fx.name}: input gradient`, 1e-5, 1e-5);
    }
    if (fx.mode === "eval") {
      // Again without gradients: the prepared-weight and fused evaluation paths.
      const fresh = build(fx);
      const z = noGrad(() => fresh(fromStored(fx.x)) as Tensor);
      assertStored(z, fx.out, `${fx.name}: output under noGrad`, 1e-5, 1e-5);
    }
  });
}

/** `fn` throws an Error whose message matches `re`. */
function refuses(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) =>
    e instanceof Error && re.test(e.message) || (() => {
      throw new Error(`message ${JSON.stringify((e as Error).message)} does not match ${re}`);
    })());
}

Deno.test("a bad value is refused where it is assigned, with the constructor's check, and the old one stays", () => {
  const bn = new nn.BatchNorm2d(3);
  refuses(() => bn.momentum = 2, /nn\.BatchNorm2d: momentum must be in \[0, 1\] or null, got 2/);
  refuses(() => bn.eps = 0, /nn\.BatchNorm2d: eps must be > 0, got 0/);
  assert.deepEqual([bn.momentum, bn.eps], [0.1, 1e-5]);
  refuses(
    () => (bn.trackRunningStats as unknown) = "no",
    /trackRunningStats must be true or false/,
  );
  const drop = new nn.Dropout(0.2);
  refuses(() => drop.p = 1.5, /nn\.Dropout: p must be a number in \[0, 1\], got 1\.5/);
  refuses(() => (drop.inplace as unknown) = 1, /nn\.Dropout: inplace must be true or false, got 1/);
  assert.equal(drop.p, 0.2);
  refuses(() => new nn.LeakyReLU().negativeSlope = NaN, /negativeSlope must be a finite number/);
  refuses(
    () => (new nn.GELU().approximate as unknown) = "fast",
    /approximate must be "none" or "tanh"/,
  );
  refuses(() => new nn.Softmax(1).dim = 0.5, /nn\.Softmax: dim must be an integer, got 0\.5/);
  refuses(() => new nn.ELU().alpha = Infinity, /nn\.ELU: alpha must be a finite number/);
  refuses(() => new nn.CELU().alpha = 0, /nn\.CELU: alpha must be a finite number other than 0/);
  refuses(() => new nn.Softshrink().lambd = -1, /nn\.Softshrink: lambd must be >= 0/);
  refuses(
    () => (new nn.ReLU().inplace as unknown) = "yes",
    /nn\.ReLU: inplace must be true or false/,
  );
  refuses(() => new nn.LayerNorm(4).eps = -1, /nn\.LayerNorm: eps must be a finite number >= 0/);
  const pool = new nn.MaxPool2d(2);
  refuses(() => (pool.ceilMode as unknown) = 1, /nn\.MaxPool2d: ceilMode must be true or false/);
  refuses(() => pool.kernelSize = 0, /nn\.MaxPool2d: kernel size must be integers >= 1, got 0/);
  refuses(() => pool.stride = [1, 2, 3] as never, /nn\.MaxPool2d: stride must be a number or 2/);
  refuses(() => new nn.AvgPool2d(2).divisorOverride = 0, /divisorOverride must be a nonzero/);
  refuses(
    () => (new nn.Conv2d(1, 1, 3).paddingMode as unknown) = "mirror",
    /nn\.Conv2d: paddingMode must be one of zeros, reflect, replicate, circular, got "mirror"/,
  );
  refuses(
    () => new nn.ConvTranspose2d(1, 1, 3, { stride: 2, outputPadding: 1 }).stride = 1,
    /nn\.ConvTranspose2d: outputPadding 1,1 must be smaller than either stride/,
  );
  // Hardtanh's bounds are checked alone on assignment, their order at forward (torch: when built).
  const ht = new nn.Hardtanh();
  ht.minVal = 2;
  refuses(() => ht(tensor([0])), /maxVal 1 must be greater than minVal 2/);
  ht.maxVal = 3;
  assert.deepEqual(ht(tensor([0, 5])).toList(), [2, 3]);
});

Deno.test("Upsample: size and scaleFactor are one or the other; switching says how", () => {
  const up = new nn.Upsample({ size: 4 });
  refuses(() => up.scaleFactor = 2, /has a size already.*write up\.size = undefined first/);
  refuses(() => up.mode = "bicubc" as never, /unknown mode "bicubc"/);
  refuses(() => up.alignCorners = true, /alignCorners can only be set with the linear/);
  up.size = undefined;
  refuses(() => up(randn([1, 1, 2, 2])), /neither a size nor a scale factor.*up\.scaleFactor = 2/);
  up.scaleFactor = 2;
  assert.deepEqual(up(randn([1, 1, 2, 2])).shape, [1, 1, 4, 4]);
  assert.equal(String(up), 'Upsample(scaleFactor=2, mode="nearest")');
  refuses(() => (up.options as { mode: string }).mode = "bilinear", /not extensible|read.only/);
});

Deno.test("torch's snake_case attribute names throw naming ours, instead of adding a property nothing reads", () => {
  const loose = (m: unknown) => m as Record<string, unknown>;
  const cases: [unknown, string, RegExp][] = [
    [
      new nn.LeakyReLU(),
      "negative_slope",
      /nn\.LeakyReLU has no \.negative_slope to assign: write act\.negativeSlope/,
    ],
    [
      new nn.MaxPool2d(2),
      "ceil_mode",
      /nn\.MaxPool2d has no \.ceil_mode to assign: write pool\.ceilMode/,
    ],
    [new nn.AvgPool2d(2), "count_include_pad", /write pool\.countIncludePad/],
    [new nn.MaxPool1d(2), "kernel_size", /write pool\.kernelSize/],
    [new nn.AvgPool3d(2), "ceil_mode", /write pool\.ceilMode/],
    [new nn.AdaptiveAvgPool2d(1), "output_size", /write pool\.outputSize/],
    [new nn.Flatten(), "start_dim", /write flatten\.startDim/],
    [new nn.Hardtanh(), "max_val", /write act\.maxVal/],
    [new nn.Upsample({ scaleFactor: 2 }), "scale_factor", /write up\.scaleFactor/],
    [new nn.BatchNorm2d(2), "track_running_stats", /write bn\.trackRunningStats/],
    [new nn.BatchNorm2d(2), "running_mean", /write norm\.runningMean \(assignable/],
  ];
  for (const [m, name, re] of cases) {
    refuses(() => loose(m)[name] = 1, re);
    refuses(() => loose(m)[name], /has no \./);
  }
});

Deno.test("ReLU6's bounds are fixed: reading gives torch's 0 and 6, assigning names nn.Hardtanh", () => {
  const act = new nn.ReLU6();
  assert.deepEqual([act.minVal, act.maxVal], [0, 6]);
  refuses(
    () => (act as unknown as { maxVal: number }).maxVal = 3,
    /nn\.ReLU6: maxVal is fixed at 6.*new nn\.Hardtanh\(0, 3\)/,
  );
  refuses(() => (act as unknown as { max_val: number }).max_val = 3, /nn\.Hardtanh/);
  assert.equal(String(act), "ReLU6(inplace=false)");
  act.inplace = true;
  assert.equal(String(act), "ReLU6(inplace=true)");
});

Deno.test("String(m), stateDict and a copy's settings see the assigned values", () => {
  const bn = new nn.BatchNorm2d(3);
  bn.momentum = 0.01;
  bn.eps = 1e-3;
  bn.trackRunningStats = false;
  assert.equal(
    String(bn),
    "BatchNorm2d(numFeatures=3, eps=0.001, momentum=0.01, affine=true, trackRunningStats=false)",
  );
  // Dropped running statistics leave the state dict, as torch's None buffers.
  bn.runningMean = null;
  bn.runningVar = null;
  assert.deepEqual([...bn.stateDict().keys()], ["weight", "bias", "num_batches_tracked"]);
  refuses(() => bn.trackRunningStats = true, /has no running statistics to track/);
  refuses(() => bn.runningMean = randn([4]), /runningMean must be null or a float32 tensor \[3\]/);
  bn.runningMean = randn([3]);
  assert.deepEqual([...bn.stateDict().keys()][2], "running_mean");
  const pool = new nn.MaxPool2d(2);
  pool.kernelSize = 3;
  pool.ceilMode = true;
  assert.equal(
    String(pool),
    "MaxPool2d(kernelSize=3, stride=2, padding=0, dilation=1, ceilMode=true, returnIndices=false)",
  );
  const act = new nn.LeakyReLU();
  act.negativeSlope = 0.2;
  assert.equal(String(act), "LeakyReLU(negativeSlope=0.2, inplace=false)");
  assert.deepEqual(JSON.parse(JSON.stringify(act)).negativeSlope, 0.2);
});

/** `m`'s output with its fused paths, then with a no-op hook on every conv and norm (module by module). */
function fusedAndPlain(m: nn.Module, x: Tensor): [Tensor, Tensor] {
  const fused = noGrad(() => m(x) as Tensor);
  const hooks = [...m.modules()]
    .filter((k) => k instanceof nn.Conv2d || k instanceof nn.BatchNorm2d)
    .map((k) => k.registerForwardHook(() => {}));
  const plain = noGrad(() => m(x) as Tensor);
  hooks.forEach((h) => h.remove());
  return [fused, plain];
}

Deno.test("ResNet-18's fused evaluation (stem, blocks) reads batch norms' eps and model surgery as assigned", () => {
  manualSeed(11);
  using net = models.resnet18({ inChannels: 1, numClasses: 3 }).eval();
  const x = randn([1, 1, 64, 64]);
  const [before] = fusedAndPlain(net, x);
  net.bn1.eps = 0.5; // the stem's fused kernel
  const bn = (path: string) => net.getSubmodule(path) as nn.BatchNorm2d;
  bn("layer1.0.bn2").eps = 0.5; // a block's fused output
  bn("layer4.1.bn1").eps = 0.25;
  const [fused, plain] = fusedAndPlain(net, x);
  assert.ok(fused.sub(before).abs().max().item() > 1e-3, "the assignment changed nothing");
  assert.ok(fused.sub(plain).abs().max().item() < 1e-5);
  // torchvision's small-input surgery: stride-1 stem, no max pool, a new head.
  net.conv1.stride = [1, 1];
  net.maxpool.ceilMode = true;
  (net as unknown as { maxpool: nn.Module }).maxpool = new nn.Identity();
  net.fc = new nn.Linear(512, 5);
  const [f2, p2] = fusedAndPlain(net, randn([2, 1, 32, 32]));
  assert.deepEqual(f2.shape, [2, 5]);
  assert.ok(f2.sub(p2).abs().max().item() < 1e-5);
});

Deno.test("AveragedModel refuses a zoo model whose settings changed since it was made (its copy was silently the old one)", () => {
  manualSeed(12);
  using net = models.create("resnet18", { numClasses: 3 });
  net.getSubmodule("conv1").train(); // no change: still copied
  using same = new optim.swaUtils.AveragedModel(net);
  assert.ok(same);
  (net.getSubmodule("conv1") as nn.Conv2d).stride = [1, 1];
  refuses(
    () => new optim.swaUtils.AveragedModel(net),
    /the model was changed since models\.create\("resnet18", \.\.\.\) made it \('conv1''s settings differ\)/,
  );
});

Deno.test("a transformer's copies of its layer keep settings assigned on it (torch's deepcopy)", () => {
  manualSeed(13);
  const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.1 });
  layer.norm1.eps = 0.5;
  layer.dropout1.p = 0;
  const encoder = new nn.TransformerEncoder(layer, 2);
  for (const copy of encoder.layers) {
    const l = copy as nn.TransformerEncoderLayer;
    assert.deepEqual([l.norm1.eps, l.norm2.eps, l.dropout1.p, l.dropout2.p], [0.5, 1e-5, 0, 0.1]);
  }
});

Deno.test("convertSyncBatchnorm keeps an assigned trackRunningStats", () => {
  const bn = new nn.BatchNorm2d(2);
  bn.trackRunningStats = false;
  bn.momentum = 0.3;
  const sync = distributed.convertSyncBatchnorm(bn) as unknown as nn.BatchNormBase;
  assert.deepEqual([sync.trackRunningStats, sync.momentum], [false, 0.3]);
});

Deno.test("ONNX export reads the assigned values (runs in ONNX Runtime as our forward)", async () => {
  manualSeed(14);
  const act = new nn.LeakyReLU();
  act.negativeSlope = 0.3;
  const pool = new nn.MaxPool2d(2);
  pool.kernelSize = 3;
  pool.ceilMode = true;
  const bn = new nn.BatchNorm2d(3);
  bn.eps = 0.7;
  const conv = new nn.Conv2d(2, 3, 3);
  conv.stride = [2, 1];
  const ops = await matchesOrt(new nn.Sequential(conv, bn, act, pool), [2, 11, 11]);
  assert.deepEqual(ops, ["Conv", "BatchNormalization", "LeakyRelu", "MaxPool", "Flatten"]);
});
