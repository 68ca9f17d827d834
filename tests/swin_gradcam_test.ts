/**
 * Grad-CAM on channels-last layers ([N, H, W, C]: a Swin Transformer's, a
 * ConvNeXt block's LayerNorm, Linears and GELU) against pytorch-grad-cam's
 * computation with its Swin tutorial's reshape_transform, written out in
 * torch 1.13 on a reduced torchvision Swin and ConvNeXt
 * (tests/fixtures/swin_gradcam.json, from
 * scripts/make_swin_gradcam_fixtures.py); the default layers of both
 * (pytorch-grad-cam's `layers[-1].blocks[-1].norm1` and `features[-1]`);
 * Captum's LayerGradCam and GuidedGradCam refusing channels-last maps;
 * a forward that permutes where the tree cannot see asking for a
 * reshapeTransform.
 */
import assert from "node:assert/strict";
import { evaluation, models, nn, type Tensor } from "../mod.ts";
import { runGradCam } from "../src/eval/gradcam.ts";
import { assertClose, fromStored, loadFixture, type Stored } from "./helpers.ts";

interface Case {
  layer: string;
  channelsLast: boolean;
  target: number[] | null;
  method: "gradcam" | "gradcam++";
  targets: number[];
  mapShape: number[];
  logits: Stored;
  maps: number[];
}

interface Fixture {
  input: Stored;
  swin: {
    config: models.SwinConfig;
    options: models.SwinOptions;
    index: Stored;
    weights: Record<string, Stored>;
    cases: Case[];
  };
  convnext: {
    setting: [number, number | null, number][];
    options: models.ConvNeXtOptions;
    weights: Record<string, Stored>;
    cases: Case[];
  };
}

const FX = loadFixture<Fixture>("swin_gradcam.json");

/** `net` with the fixture's weights (the shared relative_position_index for each block). */
function loaded<M extends nn.Module>(net: M, weights: Record<string, Stored>, index?: Stored): M {
  const state = new Map<string, Tensor>();
  for (const k of net.stateDict().keys()) {
    const s = k.endsWith("relative_position_index") ? index : weights[k];
    assert.ok(s !== undefined, `fixture has ${k}`);
    state.set(k, fromStored(s));
  }
  net.loadStateDict(state, { strict: true });
  for (const t of state.values()) t.dispose();
  return net.eval();
}

const BUILD = {
  swin: () =>
    loaded(
      new models.SwinTransformer(FX.swin.config, FX.swin.options),
      FX.swin.weights,
      FX.swin.index,
    ),
  convnext: () => {
    const setting = FX.convnext.setting.map(([i, o, n]) => new models.CNBlockConfig(i, o, n));
    return loaded(new models.ConvNeXt(setting, FX.convnext.options), FX.convnext.weights);
  },
};

/** Largest difference between our maps and the fixture's (stored as round(v * 1e4)). */
function worst(maps: ArrayLike<number>, c: Case): number {
  let w = 0;
  for (let i = 0; i < maps.length; i++) w = Math.max(w, Math.abs(maps[i] - c.maps[i] / 1e4));
  return w;
}

for (const family of ["swin", "convnext"] as const) {
  for (const c of FX[family].cases) {
    const what = `${c.method} at ${c.layer} ([${c.mapShape}]${
      c.channelsLast ? " from channels-last" : ""
    })`;
    Deno.test(`swin_gradcam: ${family}, ${what}, is pytorch-grad-cam's`, () => {
      using net = BUILD[family]();
      using x = fromStored(FX.input);
      const options = { layer: c.layer, target: c.target ?? undefined, method: c.method };
      const r = runGradCam(net, x, options);
      assert.deepEqual(r.targets, c.targets);
      assertClose(r.logits, c.logits.data as number[], { rtol: 1e-4, atol: 1e-5, what: "logits" });
      const w = worst(r.maps, c);
      assert.ok(w < 2e-4, `heat maps differ by ${w}`);
      assert.ok(Math.max(...r.maps) > 0.99 && Math.min(...r.maps) === 0, "a scaled map");
      if (!c.channelsLast) return;
      // pytorch-grad-cam's Swin tutorial transform, written by the user: the same maps.
      const reshapeTransform = (t: Tensor) =>
        t.reshape(t.shape[0], t.shape[1], t.shape[2], t.shape[3]).transpose(2, 3).transpose(1, 2);
      using mine = evaluation.gradCam(net, x, { ...options, reshapeTransform });
      assert.deepEqual(mine.toArray(), r.maps);
      // Read as [N, C, H, W] (what gradCam did before): another map, far from torch's.
      const raw = runGradCam(net, x, { ...options, reshapeTransform: (t: Tensor) => t });
      assert.ok(worst(raw.maps, c) > 0.05, "the channels-last map read as channels-first");
    });
  }
}

Deno.test("swin_gradcam: the default layers are pytorch-grad-cam's (Swin: the last block's norm1; ConvNeXt: features[-1])", () => {
  using x = fromStored(FX.input);
  using swin = BUILD.swin();
  assert.equal(evaluation.gradCamLayer(swin), "features.3.1.norm1");
  assert.equal(evaluation.gradCamLayer(models.swinT()), "features.7.1.norm1");
  const swinCase = FX.swin.cases.find((c) => c.layer === "features.3.1.norm1" && !c.target)!;
  using cam = evaluation.gradCam(swin, x);
  assert.ok(worst(cam.toArray(), swinCase) < 2e-4, "Swin's default map");
  using convnext = BUILD.convnext();
  // The last block's output is the last stage's: pytorch-grad-cam's model.features[-1].
  assert.equal(evaluation.gradCamLayer(convnext), "features.3.1");
  const cnCase = FX.convnext.cases.find((c) => c.layer === "features.3")!;
  using cnCam = evaluation.gradCam(convnext, x);
  assert.ok(worst(cnCam.toArray(), cnCase) < 2e-4, "ConvNeXt's default map");
});

Deno.test("swin_gradcam: Captum's LayerGradCam and GuidedGradCam refuse channels-last maps and name a channels-first layer", () => {
  using x = fromStored(FX.input);
  using swin = BUILD.swin();
  using convnext = BUILD.convnext();
  const refusals: [nn.Module, string, boolean, RegExp][] = [
    [
      swin,
      "features.3.1.norm1",
      false,
      /output \[2, 4, 3, 8\] is not channels-first \(its axes are \[N, H, W, C\]\).*layer: "features\.3\.1\.norm1".*such as "permute"/,
    ],
    [swin, "features.2", false, /output \[2, 4, 3, 8\].*such as "permute"/],
    [swin, "permute", true, /input \[2, 4, 3, 8\] is not channels-first.*such as "permute"/],
    [
      convnext,
      "features.1.0.block.4",
      false,
      /output \[2, 7, 5, 16\].*layer: "features\.1\.0\.block\.4".*such as "features\.1\.0\.block"/,
    ],
    [
      convnext,
      "features.1.0.block.6",
      true,
      /input \[2, 7, 5, 4\].*such as "features\.1\.0\.block\.6"/,
    ],
  ];
  for (const [net, layer, toInput, re] of refusals) {
    const gc = new evaluation.LayerGradCam(net, layer);
    assert.throws(() => gc.attribute(x, { target: 1, attributeToLayerInput: toInput }), re);
    const guided = new evaluation.GuidedGradCam(net, layer);
    assert.throws(() => guided.attribute(x, { target: 1, attributeToLayerInput: toInput }), re);
  }
  // A function as the forward: a LayerNorm's own map is known to be channels-last.
  const f = (t: Tensor) => swin.forward(t);
  const norm = [...swin.namedModules()].find(([n]) => n === "features.3.1.norm1")![1];
  assert.throws(
    () => new evaluation.LayerGradCam(f, norm).attribute(x, { target: 0 }),
    /output \[2, 4, 3, 8\] is not channels-first.*layer: "layer"/,
  );
  // Channels-first layers still work, at the layer's size.
  for (
    const [net, layer, shape] of [[swin, "permute", [2, 1, 4, 3]], [
      convnext,
      "features.1.0.block",
      [2, 1, 7, 5],
    ]] as const
  ) {
    using attr = new evaluation.LayerGradCam(net, layer).attribute(x, { target: 1 });
    assert.deepEqual(attr.shape, shape);
  }
});

/** A block whose forward permutes its own way: the tree cannot tell its inner layers' axes. */
class Tokens extends nn.Module {
  conv = new nn.Conv2d(1, 4, 4, { stride: 4 });
  last = new models.Permute([0, 2, 3, 1]);
  act = new nn.GELU();
  first = new models.Permute([0, 3, 1, 2]);
  pool = new nn.AdaptiveAvgPool2d(1);
  head = new nn.Linear(4, 3);
  forward(x: Tensor): Tensor {
    const y = this.first.forward(this.act.forward(this.last.forward(this.conv.forward(x))));
    return this.head.forward(this.pool.forward(y).flatten(1));
  }
}

Deno.test("swin_gradcam: a layer inside a forward that permutes asks for a reshapeTransform", () => {
  using x = fromStored(FX.input);
  const net = new Tokens().eval();
  assert.throws(
    () => evaluation.gradCam(net, x, { layer: "act" }),
    /gradCam: layer 'act' gives \[2,7,5,4\] inside a module whose forward permutes its axes.*reshapeTransform: \(t\) => t\.permute\(0, 3, 1, 2\)/,
  );
  using cam = evaluation.gradCam(net, x, {
    layer: "act",
    reshapeTransform: (t: Tensor) => t.permute(0, 3, 1, 2),
  });
  assert.deepEqual(cam.shape, [2, 28, 20]);
  // The convolution's map is channels-first whatever the forward does.
  evaluation.gradCam(net, x, { layer: "conv" }).dispose();
  assert.throws(
    () => new evaluation.LayerGradCam(net, "act").attribute(x, { target: 0 }),
    /output \[2, 7, 5, 4\] is not channels-first \(its axes are permuted by a forward that cannot be read\)/,
  );
  for (const t of net.stateDict().values()) t.dispose();
});
