/**
 * Captum's attribution methods (evaluation.Saliency, InputXGradient,
 * IntegratedGradients, Occlusion, NoiseTunnel) against PyTorch 1.13 running
 * Captum's algorithms written out (tests/fixtures/attribution.json, from
 * scripts/make_attribution_fixtures.py) on a tiny conv net with stored
 * weights; NoiseTunnel against the wrapped method on the same noise drawn
 * from this library's generator; memory, parameters' .grad and the model's
 * mode after a call; the errors for bad options.
 */
import assert from "node:assert/strict";
import {
  endStep,
  evaluation,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertClose, fromStored, loadFixture, messageOf, type Stored } from "./helpers.ts";

interface Case {
  target: number | number[];
  attr: Stored;
  delta?: Stored;
  abs?: boolean;
  method?: evaluation.IntegrationMethod;
  nSteps?: number;
  baselines?: number | string | null;
  internalBatchSize?: number;
  multiplyByInputs?: boolean;
  slidingWindowShapes?: number[];
  strides?: number | number[];
  perturbationsPerEval?: number;
}
const fx = loadFixture<{
  state_dict: Record<string, Stored>;
  x: Stored;
  base_one: Stored;
  base_batch: Stored;
  logits: Stored;
  cases: Record<string, Case> & {
    integrated_gradients: Record<string, Case>;
    occlusion: Record<string, Case>;
  };
}>("attribution.json");

/** The generator's network, with its weights, in evaluation mode. */
function makeNet(): nn.Sequential {
  const net = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.AvgPool2d(2),
    new nn.Flatten(),
    new nn.Linear(96, 3),
  );
  const sd = new Map(Object.entries(fx.state_dict).map(([k, v]) => [k, fromStored(v)]));
  net.loadStateDict(sd, { strict: false });
  sd.forEach((t) => t.dispose());
  return net.eval();
}

const net = makeNet();
const x = fromStored(fx.x);
const baselineOf = (b: Case["baselines"]): number | Tensor | undefined =>
  b === null || b === undefined
    ? undefined
    : typeof b === "number"
    ? b
    : fromStored(fx[b as "base_one"]);
const close = (t: Tensor, want: Stored, what: string, atol = 2e-6) =>
  assertClose(t, want.data, { rtol: 2e-5, atol, what });

Deno.test("attribution: the network gives the generator's logits", () => {
  close(noGrad(() => net(x)), fx.logits, "logits");
});

Deno.test("Saliency: |d score / d x| and the signed gradient, as Captum", () => {
  const sal = new evaluation.Saliency(net);
  const a = fx.cases.saliency_abs, s = fx.cases.saliency_signed;
  close(sal.attribute(x, { target: a.target as number }), a.attr, "saliency abs (default)");
  close(sal.attribute(x, { target: s.target, abs: false }), s.attr, "saliency signed");
  const labels = tensor(s.target as number[], undefined, { dtype: "int32" });
  close(sal.attribute(x, { target: labels, abs: false }), s.attr, "target as an int32 tensor");
  const one = tensor([a.target as number], undefined, { dtype: "int32" });
  close(sal.attribute(x, { target: one }), a.attr, "a one-element target tensor");
});

Deno.test("InputXGradient: x * d score / d x, as Captum", () => {
  const c = fx.cases.input_x_gradient;
  close(new evaluation.InputXGradient(net).attribute(x, { target: c.target }), c.attr, "ixg");
  const g = new evaluation.InputXGradient(net, false).attribute(x, { target: c.target });
  const grad = new evaluation.Saliency(net).attribute(x, { target: c.target, abs: false });
  assertClose(g, grad.toArray(), { what: "multiplyByInputs: false is the gradient" });
});

Deno.test("IntegratedGradients: every method and baseline kind, and Captum's delta", () => {
  const ig = new evaluation.IntegratedGradients(net);
  const raw = new evaluation.IntegratedGradients(net, false);
  for (const [name, c] of Object.entries(fx.cases.integrated_gradients)) {
    const [attr, delta] = (c.multiplyByInputs === false ? raw : ig).attribute(x, {
      target: c.target,
      baselines: baselineOf(c.baselines),
      nSteps: c.nSteps,
      method: c.method,
      internalBatchSize: c.internalBatchSize,
      returnConvergenceDelta: true,
    });
    close(attr, c.attr, `IG ${name}`);
    assertClose(delta, c.delta!.data, { rtol: 1e-4, atol: 2e-6, what: `IG ${name} delta` });
    if (name === "default") {
      close(ig.attribute(x, { target: c.target }), c.attr, "IG without the delta");
    }
  }
});

Deno.test("IntegratedGradients: internalBatchSize and multiplyByInputs: false", () => {
  const ig = new evaluation.IntegratedGradients(net);
  const whole = ig.attribute(x, { target: [2, 0], nSteps: 7 });
  // 5 examples per pass: 2 steps of the 2 images, then the rest.
  const parts = ig.attribute(x, { target: [2, 0], nSteps: 7, internalBatchSize: 5 });
  assertClose(parts, whole.toArray(), { rtol: 1e-5, atol: 1e-7, what: "chunked steps" });
  const c = fx.cases.integrated_gradients.riemann_right;
  const raw = new evaluation.IntegratedGradients(net, { multiplyByInputs: false });
  assert.equal(raw.multipliesByInputs, false);
  const g = raw.attribute(x, { target: c.target, nSteps: 8, method: "riemann_right" });
  close(noGrad(() => g.mul(x)), c.attr, "gradients times x");
});

Deno.test("Occlusion: windows, strides, cut-off windows, baselines, batched evaluations", () => {
  const occ = new evaluation.Occlusion(net);
  for (const [name, c] of Object.entries(fx.cases.occlusion)) {
    const attr = occ.attribute(x, {
      slidingWindowShapes: c.slidingWindowShapes!,
      strides: c.strides,
      baselines: baselineOf(c.baselines),
      target: c.target,
      perturbationsPerEval: c.perturbationsPerEval,
    });
    close(attr, c.attr, `occlusion ${name}`, 1e-6);
  }
});

Deno.test("NoiseTunnel: the wrapped method on the library's noise, combined as Captum", () => {
  const sal = new evaluation.Saliency(net);
  const nt = new evaluation.NoiseTunnel(sal);
  const samples = 3, stdev = 0.2, seed = 7;
  /** Mean and mean square of the copies' saliency, the noise drawn in `parts` copies at a time. */
  const reference = (parts: number[]) => {
    manualSeed(seed);
    const mean = new Float32Array(512), sq = new Float32Array(512);
    for (const b of parts) {
      const noisy = x.repeatInterleave(b, 0).add(randn([2 * b, 1, 16, 16]).mul(stdev));
      const target = [...Array(b).fill(2), ...Array(b).fill(0)];
      const each = sal.attribute(noisy, { target, abs: false }).toArray();
      for (let i = 0; i < 2; i++) {
        for (let k = 0; k < b; k++) {
          for (let e = 0; e < 256; e++) {
            const v = each[(i * b + k) * 256 + e];
            mean[i * 256 + e] += v / samples;
            sq[i * 256 + e] += (v * v) / samples;
          }
        }
      }
    }
    return { mean, sq, vargrad: sq.map((s, i) => s - mean[i] * mean[i]) };
  };
  const opts = { ntSamples: samples, stdevs: stdev, target: [2, 0], abs: false };
  const whole = reference([samples]);
  manualSeed(seed);
  assertClose(nt.attribute(x, opts), whole.mean, { rtol: 1e-4, atol: 1e-6, what: "smoothgrad" });
  manualSeed(seed);
  const sqGot = nt.attribute(x, { ...opts, ntType: "smoothgrad_sq" });
  assertClose(sqGot, whole.sq, { rtol: 1e-4, atol: 1e-7, what: "smoothgrad_sq" });
  const parts = reference([2, 1]);
  manualSeed(seed);
  const vg = nt.attribute(x, { ...opts, ntType: "vargrad", ntSamplesBatchSize: 2 });
  assertClose(vg, parts.vargrad, { rtol: 1e-3, atol: 1e-7, what: "vargrad, 2 copies a pass" });
  assert.ok(Math.max(...vg.toArray()) > 1e-5, "the noise varies the saliency");
  // No noise: the method itself; IG's delta comes per noisy copy.
  const ig = new evaluation.IntegratedGradients(net);
  const c = fx.cases.integrated_gradients.riemann_middle;
  const [attr, delta] = new evaluation.NoiseTunnel(ig).attribute(x, {
    stdevs: 0,
    ntSamples: 2,
    target: c.target,
    nSteps: 8,
    method: "riemann_middle",
    returnConvergenceDelta: true,
  });
  close(attr, c.attr, "NoiseTunnel(IG) without noise");
  assert.deepEqual(delta.shape, [4]);
  const d = c.delta!.data as number[];
  assertClose(delta, [d[0], d[0], d[1], d[1]], { rtol: 1e-4, atol: 2e-6, what: "delta per copy" });
});

Deno.test("attribution: memory stays flat; parameters' .grad and the model's mode unchanged", () => {
  const methods: [string, () => Tensor | [Tensor, Tensor]][] = [
    ["saliency", () => new evaluation.Saliency(net).attribute(x, { target: 1 })],
    ["ig", () =>
      new evaluation.IntegratedGradients(net).attribute(x, {
        target: [0, 1],
        nSteps: 4,
        returnConvergenceDelta: true,
      })],
    ["occlusion", () =>
      new evaluation.Occlusion(net).attribute(x, {
        slidingWindowShapes: [1, 8, 8],
        strides: [1, 8, 8],
        target: 2,
      })],
    ["noise", () =>
      new evaluation.NoiseTunnel(new evaluation.InputXGradient(net)).attribute(x, {
        ntSamples: 2,
        target: 0,
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
    // Inside a scope the result is the scope's, freed with it.
    scope(() => void run());
    assert.equal(memoryStats().bytesInUse, before, `${name}: inside a scope`);
    assert.ok(params.every((p) => p.grad === null), `${name}: no .grad`);
    assert.ok(params.every((p) => p.requiresGrad), `${name}: parameters still require grad`);
    assert.equal(net.training, false, `${name}: still in evaluation mode`);
  }
  // Under noGrad, as Captum (which enables gradients for its pass).
  const r = noGrad(() => new evaluation.Saliency(net).attribute(x, { target: 1 }).toArray());
  assertClose(r, fx.cases.saliency_abs.attr.data, { rtol: 2e-5, atol: 2e-6, what: "noGrad" });
  endStep();
});

Deno.test("attribution: a function of the input, and a model that gives one score per example", () => {
  const probs = new evaluation.Saliency((t: Tensor) => net(t).softmax(1));
  const a = probs.attribute(x, { target: 1 });
  assert.deepEqual(a.shape, [2, 1, 16, 16]);
  const score = (t: Tensor) => net(t).select(1, 2);
  const s = new evaluation.IntegratedGradients(score);
  const want = new evaluation.IntegratedGradients(net).attribute(x, { target: 2, nSteps: 8 });
  assertClose(s.attribute(x, { nSteps: 8 }), want.toArray(), { what: "one score per example" });
  assert.match(
    messageOf(() => s.attribute(x, { target: 1 })),
    /one score per example.*leave target out/,
  );
});

Deno.test("attribution: bad inputs are Errors that say what to write", () => {
  const ig = new evaluation.IntegratedGradients(net);
  const sal = new evaluation.Saliency(net);
  const occ = new evaluation.Occlusion(net);
  assert.match(
    messageOf(() => sal.attribute(x, { target: 3 })),
    /target 3 is out of range: the model has 3 classes/,
  );
  assert.match(
    messageOf(() => sal.attribute(x, { target: [0, 1, 2] })),
    /3 targets for 2 examples/,
  );
  assert.match(messageOf(() => sal.attribute(x, { target: -1 })), /class index/);
  assert.match(messageOf(() => sal.attribute(x)), /3 scores per example; name the class.*target/);
  assert.match(
    messageOf(() => sal.attribute(x, { target: tensor([0.0, 1.0]) })),
    /int32.*\.int\(\)/,
  );
  assert.match(
    messageOf(() => ig.attribute(x, { target: 0, baselines: randn([3, 1, 16, 16]) })),
    /baselines \[3,1,16,16\] do not broadcast to the input \[2,1,16,16\].*\[1, 1, 16, 16\]/,
  );
  assert.match(
    messageOf(() => ig.attribute(x, { target: 0, nSteps: 0 })),
    /nSteps must be an integer >= 1, got 0/,
  );
  assert.match(
    messageOf(() => ig.attribute(x, { target: 0, nSteps: 1, method: "riemann_left" })),
    /needs nSteps >= 2/,
  );
  assert.match(
    messageOf(() => ig.attribute(x, { target: 0, method: "riemann" as never })),
    /method must be one of "riemann_left".*"gausslegendre", got "riemann"/,
  );
  assert.match(
    messageOf(() => ig.attribute(x, { target: 0, n_steps: 10 } as never)),
    /unknown option 'n_steps'.*nSteps/,
  );
  assert.match(messageOf(() => ig.attribute(x, 1 as never)), /options object/);
  assert.match(
    messageOf(() => sal.attribute(x, { target: 0, additionalForwardArgs: [1] as never })),
    /additionalForwardArgs is not supported/,
  );
  assert.match(
    messageOf(() => occ.attribute(x, { slidingWindowShapes: [4, 4], target: 0 })),
    /slidingWindowShapes must be one positive integer per dimension.*3 for an input \[N, 1, 16, 16\]/,
  );
  assert.match(
    messageOf(() => occ.attribute(x, { slidingWindowShapes: [1, 4, 4], strides: 5, target: 0 })),
    /stride 5 is larger than the window 4/,
  );
  assert.match(
    messageOf(() => occ.attribute(x, { slidingWindowShapes: [1, 17, 4], target: 0 })),
    /exceeds the input's/,
  );
  const nt = new evaluation.NoiseTunnel(sal);
  assert.match(
    messageOf(() => nt.attribute(x, { ntType: "smooth" as never, target: 0 })),
    /ntType must be/,
  );
  assert.match(
    messageOf(() => nt.attribute(x, { ntSamples: 0, target: 0 })),
    /ntSamples must be an integer >= 1/,
  );
  assert.match(
    messageOf(() => nt.attribute(x, { target: 0, returnConvergenceDelta: true } as never)),
    /Saliency has no convergence delta/,
  );
  const training = makeNet().train();
  assert.match(
    messageOf(() => new evaluation.Saliency(training).attribute(x, { target: 0 })),
    /training mode.*model\.eval\(\)/,
  );
  assert.equal(training.training, true, "the failed call left the mode alone");
  assert.match(messageOf(() => new evaluation.Saliency(3 as never)), /expected a model/);
  assert.match(messageOf(() => sal.attribute([x] as never, { target: 0 })), /several inputs/);
  endStep();
});
