/**
 * Captum's layer attributions (evaluation.LayerGradCam, LayerActivation,
 * LayerIntegratedGradients, LayerAttribution.interpolate) against PyTorch
 * 1.13 running Captum's algorithms written out
 * (tests/fixtures/layer_attribution.json, from
 * scripts/make_layer_attribution_fixtures.py) on a tiny residual conv net
 * with stored weights; memory, parameters' .grad and hooks after a call
 * (also a failed one); the errors for what Captum code would write.
 */
import assert from "node:assert/strict";
import {
  endStep,
  evaluation,
  functional as F,
  memoryStats,
  nn,
  noGrad,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertClose, fromStored, loadFixture, messageOf, type Stored } from "./helpers.ts";

type LayerName = "conv1" | "bn1" | "relu" | "conv2" | "relu2" | "conv3" | "relu3" | "fc";
interface Case {
  layer: LayerName;
  target: number | number[];
  attr: Stored;
  delta?: Stored;
  relu?: boolean;
  toInput?: boolean;
  dimSum?: boolean;
  baselines?: number | "base_one";
  nSteps?: number;
  method?: evaluation.IntegrationMethod;
  internalBatchSize?: number;
  multiplyByInputs?: boolean;
}
const fx = loadFixture<{
  state_dict: Record<string, Stored>;
  x: Stored;
  base_one: Stored;
  logits: Stored;
  grad_cam: Record<string, Case>;
  interpolate: Record<string, { dims: number[]; mode: "bilinear" | null; attr: Stored }>;
  activation: Record<string, Case>;
  integrated_gradients: Record<string, Case>;
}>("layer_attribution.json");

/** The generator's network: conv1 -> bn1 -> relu; relu2(conv2(h) + h); pools; conv3; fc. */
class Net extends nn.Module {
  conv1 = new nn.Conv2d(1, 4, 3, { padding: 1 });
  bn1 = new nn.BatchNorm2d(4);
  relu = new nn.ReLU();
  conv2 = new nn.Conv2d(4, 4, 3, { padding: 1 });
  relu2 = new nn.ReLU();
  conv3 = new nn.Conv2d(4, 6, 3, { padding: 1 });
  relu3 = new nn.ReLU();
  fc = new nn.Linear(54, 3);
  forward(x: Tensor): Tensor {
    let h = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    h = this.relu2.forward(this.conv2.forward(h).add(h));
    h = F.maxPool2d(h, 2);
    h = this.relu3.forward(this.conv3.forward(h));
    h = F.avgPool2d(h, 2);
    return this.fc.forward(h.flatten(1));
  }
}

function makeNet(): Net {
  const net = new Net();
  const sd = new Map(Object.entries(fx.state_dict).map(([k, v]) => [k, fromStored(v)]));
  net.loadStateDict(sd, { strict: false });
  sd.forEach((t) => t.dispose());
  return net.eval();
}

const net = makeNet();
const x = fromStored(fx.x);
const close = (t: Tensor, want: Stored, what: string, atol = 2e-6) => {
  assert.deepEqual(t.shape, want.shape, `${what}: shape`);
  assertClose(t, want.data, { rtol: 2e-5, atol, what });
};
/** Whether any of the net's modules still has a hook (its forward wrapped). */
const hooked = () => [...net.modules()].some((m) => Object.hasOwn(m, "forward"));

Deno.test("layer attribution: the network gives the generator's logits", () => {
  close(noGrad(() => net(x)), fx.logits, "logits");
});

Deno.test("LayerGradCam: Captum's raw map, every option, layers given or by name", () => {
  for (const [name, c] of Object.entries(fx.grad_cam)) {
    const gc = new evaluation.LayerGradCam(net, net[c.layer]);
    const attr = gc.attribute(x, {
      target: c.target,
      reluAttributions: c.relu,
      attributeToLayerInput: c.toInput,
      attrDimSummation: c.dimSum,
    });
    close(attr, c.attr, `LayerGradCam ${name}`);
    assert.equal(hooked(), false, `${name}: the hook is off`);
  }
  // conv2's input also feeds the skip connection: its gradient takes both paths, as Captum's.
  const c = fx.grad_cam.conv2_input;
  const byName = new evaluation.LayerGradCam(net, "conv2");
  close(byName.attribute(x, { target: 1, attributeToLayerInput: true }), c.attr, "by name");
  // Under noGrad, as Captum (which enables gradients for its pass).
  const g = fx.grad_cam.conv3;
  close(
    noGrad(() => new evaluation.LayerGradCam(net, net.conv3).attribute(x, { target: [2, 0] })),
    g.attr,
    "under noGrad",
  );
});

Deno.test("LayerAttribution.interpolate: F.interpolate, nearest by default, as Captum", () => {
  const cam = new evaluation.LayerGradCam(net, net.conv3).attribute(x, { target: [2, 0] });
  for (const [name, c] of Object.entries(fx.interpolate)) {
    const up = c.mode === null
      ? evaluation.LayerAttribution.interpolate(cam, c.dims)
      : evaluation.LayerAttribution.interpolate(cam, c.dims, c.mode);
    close(up, c.attr, `interpolate ${name}`, 1e-5);
  }
  const b = fx.interpolate.bilinear;
  const kw = evaluation.LayerAttribution.interpolate(cam, b.dims, { interpolateMode: "bilinear" });
  close(kw, b.attr, "interpolateMode as Captum's keyword", 1e-5);
  close(evaluation.LayerAttribution.interpolate(cam, 12), fx.interpolate.nearest.attr, "one size");
  close(
    evaluation.LayerGradCam.interpolate(cam, x.shape.slice(2)),
    fx.interpolate.nearest.attr,
    "through a subclass, dims from the input's shape",
  );
  assert.match(
    messageOf(() => evaluation.LayerAttribution.interpolate(cam, [12, 12, 12])),
    /interpolateDims must give the 2 spatial sizes of \[2,1,6,6\].*input\.shape\.slice\(2\)/,
  );
  assert.match(
    messageOf(() => evaluation.LayerAttribution.interpolate(cam, [12, 12], "trilinear")),
    /trilinear.*5-D/,
  );
  assert.match(
    messageOf(() =>
      evaluation.LayerAttribution.interpolate(cam, [12, 12], { mode: "bilinear" } as never)
    ),
    /unknown option 'mode'.*interpolateMode/,
  );
});

Deno.test("LayerActivation: the layer's output or input, as Captum", () => {
  for (const [name, c] of Object.entries(fx.activation)) {
    const act = new evaluation.LayerActivation(net, net[c.layer]);
    close(act.attribute(x, { attributeToLayerInput: c.toInput }), c.attr, `activation ${name}`);
  }
  assert.equal(hooked(), false, "the hook is off");
});

Deno.test("LayerIntegratedGradients: methods, baselines, layer input, batches, delta", () => {
  for (const [name, c] of Object.entries(fx.integrated_gradients)) {
    const lig = new evaluation.LayerIntegratedGradients(net, net[c.layer], {
      multiplyByInputs: c.multiplyByInputs,
    });
    const [attr, delta] = lig.attribute(x, {
      target: c.target,
      baselines: c.baselines === "base_one" ? fromStored(fx.base_one) : c.baselines,
      nSteps: c.nSteps,
      method: c.method,
      internalBatchSize: c.internalBatchSize,
      attributeToLayerInput: c.toInput,
      returnConvergenceDelta: true,
    });
    close(attr, c.attr, `LIG ${name}`);
    assertClose(delta, c.delta!.data, { rtol: 1e-4, atol: 5e-6, what: `LIG ${name} delta` });
    assert.equal(hooked(), false, `${name}: the hooks are off`);
  }
  const c = fx.integrated_gradients.conv3;
  const lig = new evaluation.LayerIntegratedGradients(net, "conv3");
  assert.equal(lig.multipliesByInputs, true);
  close(lig.attribute(x, { target: c.target }), c.attr, "LIG without the delta");
  const whole = lig.attribute(x, { target: [2, 0], nSteps: 7 });
  const parts = lig.attribute(x, { target: [2, 0], nSteps: 7, internalBatchSize: 5 });
  assertClose(parts, whole.toArray(), { rtol: 1e-5, atol: 1e-7, what: "chunked steps" });
});

Deno.test("NoiseTunnel around a layer method: the layer's shape, the method without noise", () => {
  const gc = new evaluation.LayerGradCam(net, net.conv3);
  const c = fx.grad_cam.conv3;
  close(
    new evaluation.NoiseTunnel(gc).attribute(x, { stdevs: 0, ntSamples: 2, target: c.target }),
    c.attr,
    "NoiseTunnel(LayerGradCam) without noise",
  );
  // conv3's input [N, 4, 6, 6] has as many elements as the image [N, 1, 12, 12].
  const act = new evaluation.NoiseTunnel(new evaluation.LayerActivation(net, net.conv3));
  const a = act.attribute(x, { stdevs: 0, ntSamples: 3, attributeToLayerInput: true });
  close(a, fx.activation.conv3_input.attr, "NoiseTunnel(LayerActivation) keeps [N, 4, 6, 6]");
  const lig = new evaluation.LayerIntegratedGradients(net, net.conv3);
  const l = fx.integrated_gradients.conv3;
  const [attr, delta] = new evaluation.NoiseTunnel(lig).attribute(x, {
    stdevs: 0,
    ntSamples: 2,
    target: l.target,
    returnConvergenceDelta: true,
  });
  close(attr, l.attr, "NoiseTunnel(LayerIntegratedGradients) without noise");
  assert.deepEqual(delta.shape, [4]);
});

/** The net after its first block, so that a Sequential can hold the same modules. */
class Rest extends nn.Module {
  constructor(readonly net: Net) {
    super();
  }
  forward(h: Tensor): Tensor {
    const n = this.net;
    h = n.relu2.forward(n.conv2.forward(h).add(h));
    h = F.avgPool2d(n.relu3.forward(n.conv3.forward(F.maxPool2d(h, 2))), 2);
    return n.fc.forward(h.flatten(1));
  }
}

Deno.test("layer attribution: in a Sequential, which frees each layer's output without grad", () => {
  const seq = new nn.Sequential(net.conv1, net.bn1, net.relu, new Rest(net)).eval();
  const a = fx.integrated_gradients.conv3_input_trapezoid;
  const ligSeq = new evaluation.LayerIntegratedGradients(seq, net.bn1);
  const ligNet = new evaluation.LayerIntegratedGradients(net, net.bn1);
  const opts = { target: [1, 2], nSteps: 6, baselines: 0.1 };
  const want = ligNet.attribute(x, opts);
  assertClose(ligSeq.attribute(x, opts), want.toArray(), { what: "LIG in a Sequential" });
  assertClose(
    noGrad(() => ligSeq.attribute(x, opts)),
    want.toArray(),
    { what: "LIG in a Sequential under noGrad" },
  );
  const act = new evaluation.LayerActivation(seq, net.conv1).attribute(x);
  const own = new evaluation.LayerActivation(net, net.conv1).attribute(x);
  assertClose(act, own.toArray(), { what: "LayerActivation in a Sequential" });
  const gc = new evaluation.LayerGradCam(seq, "1").attribute(x, { target: a.target });
  const gcNet = new evaluation.LayerGradCam(net, net.bn1).attribute(x, { target: a.target });
  assertClose(gc, gcNet.toArray(), { what: "LayerGradCam in a Sequential, layer by name" });
  endStep();
});

Deno.test("layer attribution: memory flat, .grad untouched, hooks off after a throw", () => {
  const methods: [string, () => Tensor | [Tensor, Tensor]][] = [
    ["gradcam", () => new evaluation.LayerGradCam(net, net.conv3).attribute(x, { target: 1 })],
    ["activation", () => new evaluation.LayerActivation(net, net.relu2).attribute(x)],
    ["lig", () =>
      new evaluation.LayerIntegratedGradients(net, net.conv2).attribute(x, {
        target: [0, 1],
        nSteps: 4,
        returnConvergenceDelta: true,
      })],
  ];
  const params = net.parameters();
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
  // A throw inside the pass (a target out of range) leaves no hook behind.
  for (
    const run of [
      () => new evaluation.LayerGradCam(net, net.conv3).attribute(x, { target: 5 }),
      () => new evaluation.LayerIntegratedGradients(net, net.conv3).attribute(x, { target: 5 }),
    ]
  ) {
    assert.match(messageOf(run), /target 5 is out of range: the model has 3 classes/);
    assert.equal(hooked(), false, "hooks off after a throw");
  }
  endStep();
});

Deno.test("layer attribution: what Captum code writes gives Errors that say what to write", () => {
  const gc = new evaluation.LayerGradCam(net, net.conv3);
  assert.match(
    messageOf(() => gc.attribute(x, 3 as never)),
    /target goes in the options.*\{ target: 3 \}/,
  );
  assert.match(
    messageOf(() => gc.attribute(x, tensor([1, 2], undefined, { dtype: "int32" }) as never)),
    /\{ target: labels \}/,
  );
  assert.match(messageOf(() => gc.attribute(x)), /3 scores per example; name the class/);
  assert.match(
    messageOf(() => gc.attribute(x, { target: 0, relu_attributions: true } as never)),
    /unknown option 'relu_attributions'.*reluAttributions/,
  );
  assert.match(
    messageOf(() => new evaluation.LayerGradCam(net, "layer4")),
    /Net has no layer 'layer4'; its layers are conv1, bn1/,
  );
  assert.match(
    messageOf(() => new evaluation.LayerGradCam(net, [net.conv2, net.conv3] as never)),
    /one layer at a time/,
  );
  assert.match(
    messageOf(() => new evaluation.LayerIntegratedGradients(net, net.conv3, false as never)),
    /Captum's third positional is device_ids.*\{ multiplyByInputs: false \}/,
  );
  assert.match(
    messageOf(() => new evaluation.LayerGradCam(net, net.conv3, [0, 1] as never)),
    /device_ids.*not supported/,
  );
  // A layer the model never calls, and a module that runs twice in one pass.
  const stray = new nn.Conv2d(4, 6, 3);
  assert.match(
    messageOf(() => new evaluation.LayerGradCam(net, stray).attribute(x, { target: 0 })),
    /did not run in the forward pass/,
  );
  const twice = new nn.Sequential(new nn.Linear(4, 4), new nn.ReLU(), new nn.Linear(4, 3)).eval();
  const shared = twice[1];
  const f = (t: Tensor) => twice[2].forward(shared.forward(twice[0].forward(shared.forward(t))));
  assert.match(
    messageOf(() =>
      new evaluation.LayerActivation(f, shared).attribute(fromStored(fx.x).reshape([-1, 4]))
    ),
    /runs more than once per forward pass/,
  );
  assert.equal(Object.hasOwn(shared, "forward"), false, "the hook is off");
  // A 1-D layer output has no channel dim for Grad-CAM.
  const score = (t: Tensor) => net(t).select(1, 0);
  const flat = new nn.Sequential(new nn.Flatten(0));
  assert.match(
    messageOf(() =>
      new evaluation.LayerGradCam((t: Tensor) => flat.forward(score(t)), flat).attribute(x)
    ),
    /needs channels in dim 1/,
  );
  const training = makeNet().train();
  assert.match(
    messageOf(() => new evaluation.LayerGradCam(training, training.conv3).attribute(x)),
    /training mode.*model\.eval\(\)/,
  );
  endStep();
});
