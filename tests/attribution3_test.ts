/**
 * Captum's GuidedBackprop, Deconvolution, GuidedGradCam, LayerConductance,
 * FeatureAblation, ShapleyValueSampling and ShapleyValues against PyTorch
 * 1.13 running Captum's algorithms written out
 * (tests/fixtures/attribution3.json, from
 * scripts/make_attribution3_fixtures.py) on a tiny conv net (a ReLU module
 * called twice, a ReLU input used elsewhere too, a functional variant) and
 * a torchvision Bottleneck; memory, parameters' .grad and hooks after a
 * call (also a failed one); the errors for what Captum code would write.
 */
import assert from "node:assert/strict";
import {
  endStep,
  evaluation,
  functional as F,
  manualSeed,
  memoryStats,
  models,
  nn,
  noGrad,
  randperm,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { resetWarnings } from "../src/eval/metrics/pairs.ts";
import { assertClose, fromStored, loadFixture, messageOf, type Stored } from "./helpers.ts";

type LayerName = "conv1" | "bn1" | "conv2" | "conv3" | "relu3" | "fc1";
type MaskName = "quads" | "blocks" | "per_example" | "thirds";
type BaseName = "base_one" | "base_each";
interface Case {
  layer: LayerName;
  target: number | number[];
  attr: Stored;
  delta?: Stored;
  mode?: "bilinear" | "bicubic" | null;
  toInput?: boolean;
  baselines?: number | BaseName;
  nSteps?: number;
  method?: evaluation.IntegrationMethod;
  internalBatchSize?: number;
  mask?: MaskName;
  perturbationsPerEval?: number;
}
const fx = loadFixture<{
  state_dict: Record<string, Stored>;
  block_state_dict: Record<string, Stored>;
  x: Stored;
  xb: Stored;
  base_one: Stored;
  base_each: Stored;
  masks: Record<MaskName, Stored>;
  logits: { net: Stored; block: Stored };
  modified_relu: Record<
    string,
    {
      net: "net" | "block";
      functional: boolean;
      target: number | number[];
      guided: Stored;
      deconv: Stored;
    }
  >;
  guided_grad_cam: Record<string, Case>;
  conductance: Record<string, Case>;
  ablation: Record<string, Case>;
  shapley: Record<string, Case>;
  shapley_per_permutation: {
    target: number[];
    mask: MaskName;
    baselines: BaseName;
    perturbationsPerEval: number;
    attr: Record<string, Stored>;
  };
}>("attribution3.json");

/** The generator's Net: a ReLU module called twice, relu3(a) + 0.25 a, a ReLU head. */
class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 4, 3, { padding: 1 });
  bn1 = new nn.BatchNorm2d(4);
  relu = new nn.ReLU();
  conv2 = new nn.Conv2d(4, 4, 3, { padding: 1 });
  conv3 = new nn.Conv2d(4, 6, 3, { padding: 1 });
  relu3 = new nn.ReLU();
  fc1 = new nn.Linear(54, 8);
  headRelu = new nn.ReLU();
  fc2 = new nn.Linear(8, 3);
  functional = false;
  forward(x: Tensor): Tensor {
    let h = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    h = this.relu.forward(this.conv2.forward(h).add(h));
    h = F.maxPool2d(h, 2);
    const a = this.conv3.forward(h);
    h = this.relu3.forward(a).add(a.mul(0.25));
    h = this.fc1.forward(F.avgPool2d(h, 2).flatten(1));
    h = this.functional ? F.relu(h) : this.headRelu.forward(h);
    return this.fc2.forward(h);
  }
}

function load(m: nn.Module, stored: Record<string, Stored>): void {
  const renamed = Object.entries(stored).map(([k, v]) =>
    [k.replace("head_relu", "headRelu"), fromStored(v)] as const
  );
  const sd = new Map(renamed);
  m.loadStateDict(sd, { strict: false });
  sd.forEach((t) => t.dispose());
}

function makeNet(): Net {
  const net = new Net();
  load(net, fx.state_dict);
  return net.eval();
}

function makeBlock(): nn.Sequential {
  const block = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(true),
    new models.Bottleneck(8, 2),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Linear(8, 3),
  );
  load(block, fx.block_state_dict);
  return block.eval();
}

const net = makeNet();
const block = makeBlock();
const x = fromStored(fx.x);
const xb = fromStored(fx.xb);
const baselineOf = (b: number | BaseName | undefined) =>
  typeof b === "string" ? fromStored(fx[b]) : b;
const maskOf = (m: MaskName | undefined) => m === undefined ? undefined : fromStored(fx.masks[m]);
const close = (t: Tensor, want: Stored, what: string, atol = 2e-6) => {
  assert.deepEqual(t.shape, want.shape, `${what}: shape`);
  assertClose(t, want.data, { rtol: 2e-5, atol, what });
};
/** Whether any module of the net or the block still has a hook (its forward wrapped). */
const hooked = () =>
  [...net.modules(), ...block.modules()].some((m) => Object.hasOwn(m, "forward"));

/** Runs `fn` and returns what it warned (console.warn), the warnings reset first. */
function warnings(fn: () => void): string[] {
  resetWarnings();
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...a: unknown[]) => void seen.push(a.join(" "));
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return seen;
}

Deno.test("attribution3: the networks give the generator's logits", () => {
  close(noGrad(() => net(x)), fx.logits.net, "net logits");
  close(noGrad(() => block.forward(xb)), fx.logits.block, "block logits");
});

Deno.test("GuidedBackprop and Deconvolution: Captum's ReLU rules, shared and inplace ReLUs", () => {
  for (const [name, c] of Object.entries(fx.modified_relu)) {
    const model = c.net === "block" ? block : net;
    const input = c.net === "block" ? xb : x;
    net.functional = c.functional;
    const seen = warnings(() => {
      const gbp = new evaluation.GuidedBackprop(model).attribute(input, { target: c.target });
      close(gbp, c.guided, `GuidedBackprop ${name}`);
      const dec = new evaluation.Deconvolution(model).attribute(input, { target: c.target });
      close(dec, c.deconv, `Deconvolution ${name}`);
    });
    net.functional = false;
    if (c.functional) {
      assert.match(seen.join("\n"), /1 ReLU\(s\) in this model run as functions/);
    } else assert.deepEqual(seen, [], `${name}: no warning`);
    assert.equal(hooked(), false, `${name}: the hooks are off`);
  }
  // Under noGrad, as Captum's (which enables gradients for its pass).
  const c = fx.modified_relu.net;
  close(
    noGrad(() => new evaluation.GuidedBackprop(net).attribute(x, { target: c.target })),
    c.guided,
    "GuidedBackprop under noGrad",
  );
  // A model without ReLU modules: the plain gradient, with a warning.
  const lin = new nn.Sequential(new nn.Flatten(), new nn.Linear(144, 3)).eval();
  const seen = warnings(() => {
    const g = new evaluation.GuidedBackprop(lin).attribute(x, { target: 1 });
    const s = new evaluation.Saliency(lin).attribute(x, { target: 1, abs: false });
    assertClose(g, s.toArray(), { what: "no ReLU: the gradient" });
  });
  assert.match(seen.join("\n"), /no nn.ReLU module ran/);
});

Deno.test("GuidedGradCam: guided backprop times the upsampled ReLU'd map, Captum's modes", () => {
  for (const [name, c] of Object.entries(fx.guided_grad_cam)) {
    const ggc = new evaluation.GuidedGradCam(net, net[c.layer]);
    const attr = ggc.attribute(x, {
      target: c.target,
      interpolateMode: c.mode ?? undefined,
      attributeToLayerInput: c.toInput,
    });
    close(attr, c.attr, `GuidedGradCam ${name}`, 1e-5);
    assert.equal(hooked(), false, `${name}: the hooks are off`);
  }
  const c = fx.guided_grad_cam.conv3;
  close(
    new evaluation.GuidedGradCam(net, "conv3").attribute(x, { target: c.target }),
    c.attr,
    "layer by name, nearest by default",
    1e-5,
  );
  assert.match(
    messageOf(() => new evaluation.GuidedGradCam(net, net.fc1).attribute(x, { target: 0 })),
    /layer's output \[2,8\] cannot be upsampled to the input \[2,1,12,12\].*empty tensor/,
  );
  assert.equal(hooked(), false, "the hooks are off after the throw");
  assert.match(
    messageOf(() => new evaluation.GuidedGradCam(((t: Tensor) => net(t)) as never, net.conv3)),
    /needs the model itself \(an nn.Module/,
  );
});

Deno.test("LayerConductance: Captum's points, methods, baselines, layer input, batches, delta", () => {
  for (const [name, c] of Object.entries(fx.conductance)) {
    const lc = new evaluation.LayerConductance(net, net[c.layer]);
    const seen = warnings(() => {
      const [attr, delta] = lc.attribute(x, {
        target: c.target,
        baselines: baselineOf(c.baselines),
        nSteps: c.nSteps,
        method: c.method,
        internalBatchSize: c.internalBatchSize,
        attributeToLayerInput: c.toInput,
        returnConvergenceDelta: true,
      });
      close(attr, c.attr, `LayerConductance ${name}`, 5e-6);
      assertClose(delta, c.delta!.data, { rtol: 1e-4, atol: 5e-6, what: `LC ${name} delta` });
    });
    if (c.internalBatchSize === 2) assert.match(seen.join(), /less than twice the 2 examples/);
    assert.equal(hooked(), false, `${name}: the hook is off`);
  }
  const c = fx.conductance.conv3;
  const lc = new evaluation.LayerConductance(net, "conv3");
  close(lc.attribute(x, { target: c.target }), c.attr, "without the delta, by name", 5e-6);
  const whole = lc.attribute(x, { target: [2, 0], nSteps: 7 });
  for (const batch of [4, 6, 9, 100]) {
    const parts = lc.attribute(x, { target: [2, 0], nSteps: 7, internalBatchSize: batch });
    assertClose(parts, whole.toArray(), { rtol: 1e-5, atol: 1e-7, what: `chunks of ${batch}` });
  }
  // Completeness: with many steps the attributions add up to F(x) - F(x').
  const [, delta] = lc.attribute(x, { target: 1, nSteps: 200, returnConvergenceDelta: true });
  assert.ok(delta.abs().max().item() < 2e-3, `delta ${delta.toArray()}`);
});

Deno.test("FeatureAblation: masks (shared, per example, with gaps), baselines, batches", () => {
  for (const [name, c] of Object.entries(fx.ablation)) {
    const attr = new evaluation.FeatureAblation(net).attribute(x, {
      target: c.target,
      baselines: baselineOf(c.baselines),
      featureMask: maskOf(c.mask),
      perturbationsPerEval: c.perturbationsPerEval,
    });
    close(attr, c.attr, `FeatureAblation ${name}`, 5e-6);
  }
  // The model as a function; every perturbationsPerEval gives the same.
  const c = fx.ablation.blocks;
  for (const perturbationsPerEval of [1, 16, 40]) {
    const attr = new evaluation.FeatureAblation((t: Tensor) => net(t)).attribute(x, {
      target: c.target,
      baselines: 0.5,
      featureMask: maskOf("blocks"),
      perturbationsPerEval,
    });
    close(attr, c.attr, `FeatureAblation, ${perturbationsPerEval} per pass`, 5e-6);
  }
});

Deno.test("ShapleyValues and ShapleyValueSampling: every permutation, the generator's draws", () => {
  for (const [name, c] of Object.entries(fx.shapley)) {
    const attr = new evaluation.ShapleyValues(net).attribute(x, {
      target: c.target,
      baselines: baselineOf(c.baselines),
      featureMask: maskOf(c.mask),
      perturbationsPerEval: c.perturbationsPerEval,
    });
    close(attr, c.attr, `ShapleyValues ${name}`, 5e-6);
  }
  // Sampling: the mean of the drawn permutations' own attributions.
  const p = fx.shapley_per_permutation;
  const options = {
    target: p.target,
    featureMask: maskOf(p.mask),
    baselines: baselineOf(p.baselines),
    perturbationsPerEval: p.perturbationsPerEval,
  };
  for (const [seed, nSamples] of [[3, 1], [7, 5], [11, 12]]) {
    manualSeed(seed);
    const drawn = Array.from({ length: nSamples }, () => [...randperm(3).toArray()].join(""));
    const want = new Float64Array(p.attr["012"].data.length);
    for (const d of drawn) p.attr[d].data.forEach((v, i) => want[i] += v / nSamples);
    manualSeed(seed);
    const attr = new evaluation.ShapleyValueSampling(net).attribute(x, { ...options, nSamples });
    assertClose(attr, want, { rtol: 2e-5, atol: 5e-6, what: `sampling, seed ${seed}` });
  }
  // Efficiency: each example's features (3 x 3 blocks: 9 elements each) add up to F(x) - F(0).
  manualSeed(1);
  const attr = new evaluation.ShapleyValueSampling(net).attribute(x, {
    target: [0, 2],
    featureMask: maskOf("blocks"),
    nSamples: 3,
    perturbationsPerEval: 4,
  });
  const sums = attr.reshape([2, -1]).sum(1).div(9).toArray();
  const logits = noGrad(() => net(x)).toArray(), zero = noGrad(() => net(x.mul(0))).toArray();
  const gain = [logits[0] - zero[0], logits[5] - zero[5]];
  assertClose(sums, gain, { rtol: 1e-4, atol: 1e-5, what: "efficiency" });
});

Deno.test("attribution3: memory flat, .grad untouched, hooks off after a throw, eval mode", () => {
  const featureMask = maskOf("quads");
  const methods: [string, () => Tensor | [Tensor, Tensor]][] = [
    ["guided", () => new evaluation.GuidedBackprop(net).attribute(x, { target: 1 })],
    ["deconv", () => new evaluation.Deconvolution(block).attribute(xb, { target: [0, 1] })],
    ["guidedGc", () => new evaluation.GuidedGradCam(net, net.conv3).attribute(x, { target: 2 })],
    ["conductance", () =>
      new evaluation.LayerConductance(net, net.conv2).attribute(x, {
        target: [0, 1],
        nSteps: 4,
        internalBatchSize: 6,
        returnConvergenceDelta: true,
      })],
    ["ablation", () =>
      new evaluation.FeatureAblation(net).attribute(x, {
        target: 1,
        featureMask,
        perturbationsPerEval: 3,
      })],
    ["shapley", () =>
      new evaluation.ShapleyValueSampling(net).attribute(x, {
        target: 1,
        featureMask,
        nSamples: 2,
      })],
  ];
  const params = [...net.parameters(), ...block.parameters()];
  const free = (r: Tensor | [Tensor, Tensor]) =>
    (Array.isArray(r) ? r : [r]).forEach((t) => t.dispose());
  for (const [name, run] of methods) {
    free(run());
    const before = memoryStats().bytesInUse;
    for (let i = 0; i < 3; i++) free(run());
    assert.equal(memoryStats().bytesInUse, before, `${name}: bytes in use`);
    scope(() => void run());
    assert.equal(memoryStats().bytesInUse, before, `${name}: inside a scope`);
    assert.ok(params.every((p) => p.grad === null), `${name}: no .grad`);
    assert.ok(params.every((p) => p.requiresGrad), `${name}: parameters still require grad`);
    assert.equal(hooked(), false, `${name}: hooks off`);
  }
  for (
    const run of [
      () => new evaluation.GuidedBackprop(net).attribute(x, { target: 5 }),
      () => new evaluation.Deconvolution(block).attribute(xb, { target: 5 }),
      () => new evaluation.GuidedGradCam(net, net.conv3).attribute(x, { target: 5 }),
      () => new evaluation.LayerConductance(net, net.conv3).attribute(x, { target: 5 }),
      () => new evaluation.FeatureAblation(net).attribute(x, { target: 5 }),
      () => new evaluation.ShapleyValues(net).attribute(x, { target: 5, featureMask }),
    ]
  ) {
    assert.match(messageOf(run), /target 5 is out of range: the model has 3 classes/);
    assert.equal(hooked(), false, "hooks off after a throw");
  }
  const training = makeNet().train();
  for (
    const run of [
      () => new evaluation.GuidedBackprop(training).attribute(x, { target: 0 }),
      () => new evaluation.LayerConductance(training, "conv3").attribute(x, { target: 0 }),
      () => new evaluation.FeatureAblation(training).attribute(x, { target: 0 }),
    ]
  ) assert.match(messageOf(run), /training mode.*model\.eval\(\)/);
  endStep();
});

Deno.test("attribution3: what Captum code writes gives Errors that say what to write", () => {
  const gbp = new evaluation.GuidedBackprop(net);
  assert.match(messageOf(() => gbp.attribute(x, 3 as never)), /\{ target: 3 \}/);
  assert.match(
    messageOf(() => new evaluation.GuidedBackprop(((t: Tensor) => net(t).softmax(1)) as never)),
    /needs the model itself \(an nn.Module.*make a Module/,
  );
  const ablator = new evaluation.FeatureAblation(net);
  assert.match(
    messageOf(() => ablator.attribute(x, { target: 0, feature_mask: 1 } as never)),
    /unknown option 'feature_mask'.*featureMask/,
  );
  assert.match(
    messageOf(() => ablator.attribute(x, { target: 0, featureMask: maskOf("quads")!.float() })),
    /featureMask must hold int32 feature indices, got float32.*mask\.int\(\)/,
  );
  assert.match(
    messageOf(() =>
      ablator.attribute(x, {
        target: 0,
        featureMask: tensor([0, 1, 2], [1, 3], { dtype: "int32" }),
      })
    ),
    /featureMask \[1,3\] does not broadcast to the input \[2,1,12,12\]/,
  );
  assert.match(
    messageOf(() =>
      ablator.attribute(x, {
        target: 0,
        featureMask: tensor([0, 100000], [1, 1, 1, 2], { dtype: "int32" }).expand([1, 1, 12, 2])
          .repeat([1, 1, 1, 6]),
      })
    ),
    /indices run from 0 to 100000.*number the features 0, 1, 2/,
  );
  const sv = new evaluation.ShapleyValues(net);
  assert.match(messageOf(() => sv.attribute(x, { target: 0 })), /144 features have 144! perm/);
  assert.match(
    messageOf(() => sv.attribute(x, { target: 0, nSamples: 5 } as never)),
    /unknown option 'nSamples'/,
  );
  assert.match(
    messageOf(() => sv.attribute(x, { target: 0, featureMask: maskOf("quads")!.sub(1).int() })),
    /featureMask holds -1; features are numbered 0, 1, 2/,
  );
  const svs = new evaluation.ShapleyValueSampling(net);
  const gaps = maskOf("quads")!.mul(2).int();
  const seen = warnings(() => void svs.attribute(x, { target: 0, featureMask: gaps, nSamples: 1 }));
  assert.match(seen.join(), /lacks some of the indices 0 \.\. 6/);
  const lc = new evaluation.LayerConductance(net, net.conv3);
  assert.match(
    messageOf(() => lc.attribute(x, { target: 0, method: "riemann" as never })),
    /method must be one of "riemann_left"/,
  );
  assert.match(messageOf(() => lc.attribute(x, { target: 0, nSteps: 0 })), /nSteps must be/);
  // A layer called twice in a pass (the shared ReLU) is refused, as the other layer methods.
  assert.match(
    messageOf(() => new evaluation.LayerConductance(net, net.relu).attribute(x, { target: 0 })),
    /runs more than once per forward pass/,
  );
  endStep();
});
