/**
 * Review of `x.view` on non-contiguous tensors and of nn.utils.parametrize
 * against PyTorch 1.13 (tests/fixtures/review_view.json, from
 * scripts/make_review_view_fixtures.py): `unflatten` of a non-contiguous
 * tensor is a view (strides, writes, gradients); a spectral norm's u and v
 * move once per forward, not at `String(model)`, a shape getter or a
 * transposed convolution's `outputSize`; exportOnnx leaves a training
 * model's u and v alone; functionalCall substitutes a parametrized weight;
 * the fusion helpers name `removeParametrizations`.
 */
import assert from "node:assert/strict";
import { nn, onnx, optim, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type Stored } from "./helpers.ts";
import { apply, base, flat, type Op } from "./view_ops.ts";

const P = nn.utils.parametrize;
const PS = nn.utils.parametrizations;

interface UnflattenCase {
  base: number[];
  ops: Op[];
  dim: number;
  sizes: number[];
  outShape: number[];
  strides: number[];
  offset: number;
  values: number[];
  baseAfterWrite: number[];
  grad: number[];
}
type State = Record<string, Stored>;
interface SpectralCase {
  name: string;
  module: "convT2d" | "convT1d" | "conv1d" | "conv3d" | "embedding" | "bilinear";
  outputSize?: number[];
  init: State;
  registered: State;
  steps: { xs: Stored[]; g: Stored; out: Stored }[];
  after: State;
}
interface Fixture {
  unflatten: UnflattenCase[];
  spectral: SpectralCase[];
  functionalCall: { state: State; w: Stored; x: Stored; out: Stored };
}
const fx = loadFixture<Fixture>("review_view.json");

// ---- 1. unflatten of a non-contiguous tensor is a view ----

Deno.test("unflatten: a view of a non-contiguous tensor, as torch's (strides, writes, gradients)", () => {
  for (const c of fx.unflatten) {
    const what = `[${c.base}] ${JSON.stringify(c.ops)}.unflatten(${c.dim}, [${c.sizes}])`;
    const b = base(c.base);
    const y = apply(b, c.ops).unflatten(c.dim, c.sizes);
    assert.deepEqual(
      [y.shape, y.stride(), y.storageOffset(), flat(y)],
      [c.outShape, c.strides, c.offset, c.values],
      what,
    );
    assert.equal(y.storage, b.storage, `${what}: shares memory`);
    y.add_(100);
    assert.deepEqual(flat(b), c.baseAfterWrite, `${what}: the write reaches the base`);
    const g = base(c.base, true);
    const yy = apply(g, c.ops).unflatten(c.dim, c.sizes);
    yy.mul(base(c.outShape).add(1)).sum().backward();
    assert.deepEqual(flat(g.grad!), c.grad, `${what}: gradient`);
  }
});

// ---- 2. spectral norm: one power iteration per forward, none at a print or shape read ----

function make(kind: SpectralCase["module"]): nn.Module {
  if (kind === "convT2d") return new nn.ConvTranspose2d(2, 3, 3, { stride: 2 });
  if (kind === "convT1d") return new nn.ConvTranspose1d(2, 3, 3, { stride: 2 });
  if (kind === "conv1d") return new nn.Conv1d(2, 3, 3);
  if (kind === "conv3d") return new nn.Conv3d(2, 3, 2);
  if (kind === "embedding") return new nn.Embedding(6, 4);
  return new nn.Bilinear(3, 4, 5);
}

const sd = (s: State) => new Map(Object.entries(s).map(([k, v]) => [k, fromStored(v)]));

/** Every shape getter the layer has (torch's print and attribute reads compute no weight). */
const SHAPE_GETTERS = [
  "inChannels",
  "outChannels",
  "kernelSize",
  "numEmbeddings",
  "embeddingDim",
  "in1Features",
  "in2Features",
  "outFeatures",
];

for (const c of fx.spectral) {
  Deno.test(`spectralNorm: ${c.name}, printed and its shape read each step, as torch`, () => {
    const m = make(c.module);
    m.loadStateDict(sd(c.init));
    PS.spectralNorm(m);
    m.loadStateDict(sd(c.registered)); // torch's random u and v
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const fields = m as unknown as Record<string, unknown>;
    c.steps.forEach((s, i) => {
      assert.match(String(m), /^Parametrized/);
      for (const k of SHAPE_GETTERS) void fields[k];
      opt.zeroGrad();
      const xs: unknown[] = s.xs.map((x) => fromStored(x));
      if (c.outputSize) xs.push(c.outputSize);
      const out = (m as unknown as (...a: unknown[]) => Tensor)(...xs);
      assertStored(out, s.out, `${c.name} step ${i}: output`, 1e-4, 2e-5);
      out.mul(fromStored(s.g)).sum().backward();
      opt.step();
    });
    const own = m.stateDict();
    for (const [k, want] of Object.entries(c.after)) {
      assertStored(own.get(k) ?? null, want, `${c.name}: ${k} after the steps`, 1e-4, 2e-5);
    }
  });
}

Deno.test("spectralNorm: a batch norm reads its parametrized weight once per forward", () => {
  let reads = 0;
  class Count extends nn.Module {
    forward(x: Tensor): Tensor {
      reads++;
      return x.mul(1);
    }
  }
  const bn = P.registerParametrization(new nn.BatchNorm2d(2), "weight", new Count());
  reads = 0;
  bn.forward(base([2, 2, 2, 2]));
  assert.equal(reads, 1, "forward");
  reads = 0;
  assert.match(String(bn), /affine=true/);
  assert.equal(bn.affine, true);
  assert.equal(reads, 0, "print and affine compute nothing");
});

// ---- 3. exportOnnx reads a training model's parametrized weights in eval mode ----

Deno.test("exportOnnx: a spectrally normalised layer in training mode keeps its u and v, as torch's export", () => {
  const conv = PS.spectralNorm(new nn.Conv2d(1, 2, 3));
  const model = new nn.Sequential(conv, new nn.Flatten(), new nn.Linear(72, 2));
  const before = [...model.stateDict()].map(([k, t]) => [k, flat(t)]);
  const bytes = onnx.exportOnnx(model, { inputShape: [1, 1, 8, 8] });
  assert.ok(bytes.length > 0);
  assert.deepEqual([...model.stateDict()].map(([k, t]) => [k, flat(t)]), before);
  // The modes are the model's own again.
  assert.ok([...model.modules()].every((m) => m.training));
});

// ---- 4. functionalCall with a parametrized tensor's name, as torch 1.13 ----

Deno.test("functionalCall: { weight } of a parametrized layer is the weight the call reads, as torch 1.13", () => {
  const c = fx.functionalCall;
  const m = PS.orthogonal(new nn.Linear(3, 3));
  m.loadStateDict(sd(c.state));
  const w = fromStored(c.w, { requiresGrad: true });
  const out = nn.utils.stateless.functionalCall(m, { weight: w }, [fromStored(c.x)]) as Tensor;
  assertStored(out, c.out, "output", 1e-5, 1e-6);
  out.sum().backward();
  assert.ok(w.grad !== null, "the gradient reaches the given weight");
  // The parametrization is back after the call.
  assert.ok(P.isParametrized(m, "weight"));
  const q = m.weight;
  const eye = q.matmul(q.mT);
  assert.ok(eye.sub(tensor([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3])).abs().max().item() < 1e-5);
});

// ---- 5. errors ----

Deno.test("fuseConvBnEval / fuseLinearBnEval: a parametrized weight names removeParametrizations", () => {
  const conv = PS.orthogonal(new nn.Conv2d(2, 2, 1, { bias: false })).eval();
  const bn = new nn.BatchNorm2d(2).eval();
  assert.throws(
    () => nn.utils.fuseConvBnEval(conv, bn),
    /conv\.weight is parametrized.*removeParametrizations\(conv, "weight"\)/s,
  );
  const fc = PS.orthogonal(new nn.Linear(2, 2)).eval();
  assert.throws(
    () => nn.utils.fuseLinearBnEval(fc, new nn.BatchNorm1d(2).eval()),
    /linear\.weight is parametrized.*removeParametrizations\(linear, "weight"\)/s,
  );
  const pbn = PS.spectralNorm(new nn.BatchNorm2d(2)).eval();
  assert.throws(
    () => nn.utils.fuseConvBnEval(new nn.Conv2d(2, 2, 1).eval(), pbn),
    /bn\.weight is parametrized/,
  );
});
