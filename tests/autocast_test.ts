/**
 * `autocast("bfloat16", fn)` against PyTorch 1.13's CPU autocast
 * (tests/fixtures/autocast.json, scripts/make_autocast_fixtures.py): the
 * ops' outputs and gradients at bf16's tolerance, and, tightly, that the
 * ops really round their inputs (autocast equals fp32 on bf16-rounded
 * inputs, and differs from fp32 on the inputs as they are). The scoping
 * rules, the bad calls, and the fallback where the CPU has no bf16.
 * The numeric tests are ignored, with the reason, on a CPU without
 * AVX512_BF16. `LITS_TEST_DEVICE=cuda` runs them on the GPU (whose
 * convolutions round their outputs to bf16, as PyTorch's do).
 */
import assert from "node:assert/strict";
import {
  addmm,
  autocast,
  autocastDtype,
  baddbmm,
  einsum,
  full,
  functional as F,
  io,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { backend } from "../src/tensor/device.ts";
import {
  assertClose,
  fromStored as fromStoredOnCpu,
  loadFixture,
  type Stored,
  testDevice,
} from "./helpers.ts";
import { bf16 } from "./bf16_ref.ts";

interface Case {
  inputs: Stored[];
  out: Stored;
  out_dtype: string;
  G: Stored;
  grads: Stored[];
  fp32: { out: Stored; grads: Stored[] };
  options?: { stride: number; padding: number; groups: number };
}
/** An op at the edge of PyTorch's autocast list: its inputs, and what PyTorch made of them. */
interface RuleCase {
  inputs: Stored[];
  out: Stored;
  out_dtype: "float32" | "bfloat16";
  fp32: Stored;
}
interface ModelCase {
  state: Record<string, Stored>;
  x: Stored;
  y: number[];
  logits: Stored;
  loss: number;
  grads: Record<string, Stored>;
  fp32: { logits: Stored; grads: Record<string, Stored> };
  running: Record<string, Stored>;
}
const fx = loadFixture<{
  conv2d: Record<string, Case>;
  linear: Case;
  matmul: Case;
  bmm: Case;
  model: ModelCase;
  rules: Record<string, RuleCase>;
  more: { conv1d: Case; conv3d: Case; addmm: Case; baddbmm: Case };
}>("autocast.json");

const level = new Int32Array(1);
const dev = testDevice, lib = backend(dev);
const fromStored = (s: Stored, options: { requiresGrad?: boolean } = {}) =>
  fromStoredOnCpu(s, { ...options, device: dev });
const noBf16 = lib.lits_bf16_support === null || lib.lits_bf16_support(level) !== 0 ||
  level[0] === 0;
if (noBf16) {
  console.log(`autocast_test: numeric tests ignored: no bf16 kernels on ${dev} here`);
}

/** max |values|: bf16's tolerance is relative to the scale of the result. */
function scale(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/** max |a - b|. */
function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Close to PyTorch's autocast result: within bf16's tolerance (1e-2 of the
 * result's scale), or, where PyTorch's own result strays farther from its
 * fp32 one (1.13's bmm sums in bf16; its batch norm and ReLU backward run
 * on bf16 gradients), within twice that spread, while ours strays from
 * PyTorch's fp32 result by no more than 1.5 times PyTorch's own spread.
 */
function closeToTorch(actual: Tensor, torch: Stored, fp32: Stored, what: string): void {
  assert.deepEqual(actual.shape, torch.shape, what);
  const ours = actual.toArray(), tol = 1e-2 * scale(torch.data);
  const spread = distance(torch.data, fp32.data);
  assertClose(ours, torch.data, { rtol: 0, atol: Math.max(tol, 2 * spread), what });
  const ourSpread = distance(ours, fp32.data);
  assert.ok(
    ourSpread <= Math.max(tol, 1.5 * spread),
    `${what}: ${ourSpread} from PyTorch's fp32 result, PyTorch's autocast ${spread}`,
  );
}

/** The tensor with its values rounded to bf16 (and kept as fp32). */
function rounded(t: Tensor): Tensor {
  return tensor(Array.from(t.toArray(), bf16), [...t.shape], { device: dev });
}

/**
 * Runs `op` under autocast and checks its output and input gradients
 * (upstream gradient G) against PyTorch; then that it rounds its inputs:
 * autocast equals fp32 on the rounded inputs (to fp32 sums' error), and
 * fp32 on the inputs as they are is measurably farther.
 */
function checkOp(c: Case, op: (...xs: Tensor[]) => Tensor, what: string): void {
  const xs = c.inputs.map((s) => fromStored(s, { requiresGrad: true }));
  const y = autocast("bfloat16", () => op(...xs));
  assert.equal(y.dtype, "float32");
  closeToTorch(y, c.out, c.fp32.out, `${what} output`);
  y.mul(fromStored(c.G)).sum().backward(); // outside autocast, as in PyTorch
  xs.forEach((x, i) => closeToTorch(x.grad!, c.grads[i], c.fp32.grads[i], `${what} grad ${i}`));
  // fp32 on the rounded operands (and the rounded upstream gradient for
  // the backward): what autocast computes, up to the order of fp32 sums.
  const xr = xs.map((x, i) => (i < 2 ? rounded(x) : x.detach()).requiresGrad_(true));
  const exact = op(...xr);
  exact.mul(rounded(fromStored(c.G))).sum().backward();
  // A GPU rounds its products to bf16 as well, before the bias is added in
  // fp32: there the outputs are compared without the bias, each within half
  // a bf16 step of itself (at most 2^-8 of the value).
  const unbiased = (t: Tensor) =>
    dev === "cpu" || xs.length < 3 || xs[2].ndim !== 1 // (addmm's third is no bias)
      ? t
      : noGrad(() => t.sub(xs[2].detach().reshape(t.shape.map((d, i) => (i === 1 ? d : 1)))));
  const pairs: [Tensor, Tensor, string][] = [
    [unbiased(y), unbiased(exact), "output"],
    [xs[0].grad!, xr[0].grad!, "grad 0"],
    [xs[1].grad!, xr[1].grad!, "grad 1"],
  ];
  const rtol = dev === "cpu" ? 0 : 2 ** -8;
  for (const [ours, ref, part] of pairs) {
    const r = ref.toArray(), tight = 2e-6 * scale(r);
    assertClose(ours, r, { rtol, atol: tight, what: `${what} ${part}: fp32 of rounded inputs` });
  }
  // ...and measurably not fp32 on the operands as they are (on the CPU,
  // whose outputs are not rounded again, so the difference is the inputs').
  if (dev !== "cpu") return;
  const plain = noGrad(() => op(...xs)).toArray(), tight = 2e-6 * scale(plain);
  const far = distance(y.toArray(), plain);
  assert.ok(far > 20 * tight, `${what}: autocast ${far} from fp32, as if it did not round`);
}

for (const [name, c] of Object.entries(fx.conv2d)) {
  Deno.test({
    name: `autocast: conv2d ${name} against PyTorch's CPU autocast (output, dx, dw, db)`,
    ignore: noBf16,
    fn: () => checkOp(c, (x, w, b) => F.conv2d(x, w, b, c.options), `conv2d ${name}`),
  });
}

Deno.test({
  name: "autocast: linear, matmul and bmm against PyTorch's CPU autocast",
  ignore: noBf16,
  fn() {
    checkOp(fx.linear, (x, w, b) => F.linear(x, w, b), "linear");
    checkOp(fx.matmul, (a, b) => a.matmul(b), "matmul");
    checkOp(fx.bmm, (a, b) => a.matmul(b), "bmm");
  },
});

/** Our call of each rules case (einsum's cases name their equation). */
function ruleOp(name: string): (...xs: Tensor[]) => Tensor {
  if (name.startsWith("einsum ")) return (...xs) => einsum(name.slice(7), ...xs);
  const ops: Record<string, (...xs: Tensor[]) => Tensor> = {
    dot: (a, b) => a.dot(b),
    mv: (a, b) => a.mv(b),
    outer: (a, b) => a.outer(b),
    bilinear: (a, b, w, c) => F.bilinear(a, b, w, c),
    conv_transpose2d: (x, w) => F.convTranspose2d(x, w),
    prelu: (x, w) => F.prelu(x, w),
    "matmul 1-D": (a, b) => a.matmul(b),
    "matmul 2-D 1-D": (a, b) => a.matmul(b),
    inner: (a, b) => a.inner(b),
  };
  return ops[name];
}

Deno.test({
  name: "autocast: the ops at the edge of PyTorch's list round, or stay fp32, as its own do",
  ignore: noBf16,
  fn() {
    for (const [name, c] of Object.entries(fx.rules)) {
      const op = ruleOp(name);
      assert.ok(op, `no call for ${name}`);
      const xs = c.inputs.map((s) => fromStored(s));
      const mixed = autocast("bfloat16", () => op(...xs)), plain = op(...xs);
      closeToTorch(mixed, c.out, c.fp32, name);
      const same = distance(mixed.toArray(), plain.toArray()) === 0;
      // PyTorch's bfloat16 output says it rounded; float32 that it did not.
      assert.equal(same, c.out_dtype === "float32", `${name}: PyTorch gives ${c.out_dtype}`);
    }
  },
});

Deno.test({
  name: "autocast: conv1d, conv3d, addmm and baddbmm against PyTorch's CPU autocast",
  ignore: noBf16,
  fn() {
    const m = fx.more;
    checkOp(m.conv1d, (x, w, b) => F.conv1d(x, w, b, { padding: 1 }), "conv1d");
    checkOp(m.conv3d, (x, w, b) => F.conv3d(x, w, b, { stride: [1, 2, 2], padding: 1 }), "conv3d");
    // PyTorch rounds the added input too; ours adds it in fp32, as a bias (within bf16's step).
    const scaled = { beta: 0.5, alpha: 2 };
    checkOp(m.addmm, (a, b, i) => addmm(i, a, b, scaled), "addmm");
    checkOp(m.baddbmm, (a, b, i) => baddbmm(i, a, b, scaled), "baddbmm");
  },
});

/** The fixture's model: Conv-BN-ReLU-pool-Conv-ReLU-avgpool-Linear. */
function fixtureModel(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1, bias: false }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(8, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Linear(16, 3),
  );
}

function loadedModel(): nn.Sequential {
  const model = fixtureModel().to(dev);
  const sd = new Map(Object.entries(fx.model.state).map(([k, s]) => [k, fromStored(s)]));
  model.loadStateDict(sd, { strict: false }); // num_batches_tracked is int64 in PyTorch
  return model;
}

Deno.test({
  name: "autocast: a model's loss and every parameter's gradient against PyTorch's autocast",
  ignore: noBf16,
  fn() {
    const m = fx.model;
    const model = loadedModel();
    model.train();
    const x = fromStored(m.x), y = tensor(m.y, undefined, { dtype: "int32", device: dev });
    const { logits, loss } = autocast("bfloat16", () => {
      const logits = model.forward(x);
      return { logits, loss: F.crossEntropy(logits, y) };
    });
    closeToTorch(logits, m.logits, m.fp32.logits, "logits");
    assert.ok(Math.abs(loss.item() - m.loss) <= 1e-2 * Math.abs(m.loss), `loss ${loss.item()}`);
    loss.backward();
    for (const [name, p] of model.namedParameters()) {
      assert.equal(p.grad!.dtype, "float32", name);
      closeToTorch(p.grad!, m.grads[name], m.fp32.grads[name], `grad ${name}`);
    }
    const sd = model.stateDict();
    for (const [name, s] of Object.entries(m.running)) {
      assertClose(sd.get(name)!, s.data, { rtol: 0, atol: 1e-2 * scale(s.data), what: name });
    }
  },
});

Deno.test({
  name: "autocast: a model trained under it saves fp32 state and loads into a fresh one",
  ignore: noBf16,
  async fn() {
    const model = loadedModel();
    const x = fromStored(fx.model.x),
      y = tensor(fx.model.y, undefined, { dtype: "int32", device: dev });
    const loss = autocast("bfloat16", () => F.crossEntropy(model.forward(x), y));
    loss.backward();
    new optim.SGD(model.parameters(), { lr: 0.1 }).step();
    const sd = model.stateDict();
    for (const [name, t] of sd) {
      if (!name.endsWith("num_batches_tracked")) assert.equal(t.dtype, "float32", name);
    }
    const path = await Deno.makeTempFile({ suffix: ".safetensors" });
    try {
      await io.saveSafetensors(path, sd);
      const fresh = fixtureModel().to(dev);
      fresh.loadStateDict(await io.loadSafetensors(path));
      model.eval();
      fresh.eval();
      const a = autocast("bfloat16", () => noGrad(() => model.forward(x)));
      const b = autocast("bfloat16", () => noGrad(() => fresh.forward(x)));
      assert.deepEqual(Array.from(b.toArray()), Array.from(a.toArray()));
    } finally {
      await Deno.remove(path);
    }
  },
});

Deno.test("autocast: scoping (nesting, enabled: false, exceptions, async chains)", async () => {
  assert.equal(autocastDtype(), null);
  autocast("bfloat16", () => {
    assert.equal(autocastDtype(), "bfloat16");
    autocast("bfloat16", () => assert.equal(autocastDtype(), null), { enabled: false });
    assert.equal(autocastDtype(), "bfloat16");
  });
  assert.throws(() =>
    autocast("bfloat16", () => {
      throw new Error("inside");
    }), /inside/);
  assert.equal(autocastDtype(), null);
  // Two chains at once: each keeps its own state through its awaits.
  const tick = () => new Promise((r) => setTimeout(r, 1));
  const seen: (string | null)[] = [];
  await Promise.all([
    autocast("bfloat16", async () => {
      for (let i = 0; i < 3; i++) {
        await tick();
        seen.push(autocastDtype());
        autocast("bfloat16", () => seen.push(autocastDtype()), { enabled: false });
      }
    }),
    (async () => {
      for (let i = 0; i < 3; i++) {
        await tick();
        assert.equal(autocastDtype(), null);
      }
    })(),
  ]);
  assert.deepEqual(seen, ["bfloat16", null, "bfloat16", null, "bfloat16", null]);
  assert.equal(autocastDtype(), null);
});

Deno.test("autocast: bad calls say what to write", () => {
  const fn = () => 1;
  const bad: [() => unknown, RegExp][] = [
    [() => autocast("cpu" as "bfloat16", fn), /the dtype, got the device 'cpu'/],
    // torch.autocast("cpu", dtype=torch.bfloat16) ported word for word.
    [
      () => autocast("cpu" as "bfloat16", fn, { dtype: "bfloat16" } as never),
      /the first argument is the dtype, got the device 'cpu'.*autocast\("bfloat16"/,
    ],
    [() => (autocast as (f: unknown) => unknown)(fn), /the dtype, got a function/],
    [
      () => autocast({ device_type: "cpu", dtype: "bfloat16" } as never, fn),
      /the first argument is the dtype, got an options object.*autocast\("bfloat16"/,
    ],
    [() => autocast("bfloat16", fn, { dtype: "bfloat16" } as never), /dtype is the first arg/],
    [() => autocast("bfloat16", fn, { device_type: "cpu" } as never), /no 'device_type' option/],
    // Not "did you mean 'enabled'": that would turn autocast off.
    [
      () => autocast("bfloat16", fn, { cache_enabled: false } as never),
      /^(?!.*did you mean).*no 'cache_enabled' option: no bf16 copy of a weight is cached/,
    ],
    [() => autocast("bfloat16", fn, { cacheEnabled: false } as never), /no 'cacheEnabled'/],
    [() => autocast("float16" as "bfloat16", fn), /float16 autocast is not offered.*bfloat16/],
    [() => autocast("bf16" as "bfloat16", fn), /unknown dtype "bf16"/],
    [() => autocast("bfloat16", 3 as unknown as () => number), /expected a function/],
    [() => autocast("bfloat16", fn, { enable: false } as never), /unknown option 'enable'/],
    [() => autocast("bfloat16", fn, { enabled: 1 } as never), /enabled must be true or false/],
    [() => (autocast as (...a: unknown[]) => unknown)("bfloat16", fn, {}, 4), /at most 3/],
    [() => autocast("bfloat16", () => Promise.resolve(1)), /write `await autocast/],
  ];
  for (const [call, message] of bad) assert.throws(call, message);
  assert.equal(autocastDtype(), null);
});

Deno.test("PyTorch's .to(torch.bfloat16) habit: the error says it is a dtype and names autocast", () => {
  using x = randn([2, 3]);
  const fc = new nn.Linear(3, 2);
  const before = fc.weight.toArray();
  const to = (t: { to(d: never): unknown }, arg: unknown) => () => t.to(arg as never);
  const to2 = (t: { to(d: never): unknown }, ...args: unknown[]) => () =>
    (t.to as (...a: unknown[]) => unknown).apply(t, args);
  const cases: [() => unknown, RegExp][] = [
    [to(x, "bfloat16"), /unknown device 'bfloat16'.*is a dtype.*autocast\("bfloat16"/],
    [to(x, "half"), /'half' is a dtype/],
    [to(fc, "bfloat16"), /'bfloat16' is a dtype.*autocast/],
    [to(x, { dtype: "bfloat16" }), /not an options object \(for bfloat16 .*autocast/],
    [to(x, { device: "cpu" }), /takes the device name itself, as in \.to\("cuda"\)/],
    [to(x, "tpu"), /^Error: unknown device 'tpu': expected 'cpu' or 'cuda'$/],
    [to(fc, "tpu"), /unknown device 'tpu'/],
    // x.to("cpu", torch.bfloat16) and .to(device, non_blocking=True): the rest is not dropped.
    [to2(x, "cpu", "bfloat16"), /Tensor\.to: takes one argument.*'bfloat16' is a dtype.*autocast/],
    [to2(fc, "cpu", "bfloat16"), /Module\.to: takes one argument.*'bfloat16' is a dtype/],
    [to2(x, "cpu", { nonBlocking: true }), /takes one argument, the device .* got 2; non_blocking/],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, (e: Error) => message.test(String(e)), String(message));
  }
  // Nothing was moved or changed.
  assert.equal(fc.weight.device, "cpu");
  assert.deepEqual(fc.weight.toArray(), before);
  fc.dispose();
});

Deno.test("autocast: without bf16 kernels the ops say so once and run in fp32", async () => {
  const script = `
    import { autocast, nn, randn, manualSeed } from "${new URL("../mod.ts", import.meta.url)}";
    manualSeed(3);
    const fc = new nn.Linear(6, 2), conv = new nn.Conv2d(2, 3, 3);
    const x = randn([4, 6]), z = randn([1, 2, 5, 5]);
    const a = [fc.forward(x), conv.forward(z)].map((t) => Array.from(t.toArray()));
    const b = autocast("bfloat16", () => [fc.forward(x), conv.forward(z), fc.forward(x)])
      .map((t) => Array.from(t.toArray()));
    console.log(JSON.stringify(a[0]) === JSON.stringify(b[0]) &&
      JSON.stringify(a[1]) === JSON.stringify(b[1]) ? "same" : "differ");`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { LITS_BF16: "off" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout),
    stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(stdout.trim(), "same");
  const lines = stderr.split("\n").filter((l) => l.includes("autocast(bfloat16)"));
  assert.deepEqual(lines, [
    "autocast(bfloat16): this CPU has no AVX512_BF16 (or LITS_BF16=off); " +
    "convolutions and matmuls run in float32",
  ]);
});

Deno.test({
  name: "autocast: the fp32 path outside it is bit for bit what it was",
  ignore: noBf16,
  fn() {
    const conv = new nn.Conv2d(4, 6, 3, { padding: 1 }).to(dev);
    const fc = new nn.Linear(5, 3).to(dev);
    const x = randn([2, 4, 8, 8]).to(dev), z = randn([3, 5]).to(dev);
    const before = [conv.forward(x), fc.forward(z)].map((t) => Array.from(t.toArray()));
    autocast("bfloat16", () => [conv.forward(x), fc.forward(z)]);
    const after = [conv.forward(x), fc.forward(z)].map((t) => Array.from(t.toArray()));
    assert.deepEqual(after, before);
  },
});

Deno.test("empty products are zeros (or the bias), as PyTorch's, with and without autocast", () => {
  const run = (bf16: boolean) => {
    const go = <T>(fn: () => T) => bf16 ? autocast("bfloat16", fn) : fn();
    // Stale values in the allocator's cache must not show through.
    full([2, 3], 7).dispose();
    full([2, 2, 4], 7).dispose();
    const a = randn([2, 0]).requiresGrad_(true), b = randn([0, 3]);
    const y = go(() => a.matmul(b));
    assert.deepEqual(Array.from(y.toArray()), [0, 0, 0, 0, 0, 0]);
    y.sum().backward();
    assert.deepEqual(a.grad!.shape, [2, 0]);
    const z = go(() => zeros([2, 2, 0]).matmul(zeros([2, 0, 4])));
    assert.deepEqual(Array.from(z.toArray()), new Array(16).fill(0));
    assert.deepEqual(go(() => zeros([2, 3]).matmul(zeros([3, 0]))).shape, [2, 0]);
    assert.deepEqual(go(() => zeros([2, 2, 3]).matmul(zeros([2, 3, 0]))).shape, [2, 2, 0]);
    const bias = tensor([1, 2, 3]);
    const l = go(() => F.linear(zeros([2, 0]), zeros([3, 0]), bias));
    assert.deepEqual(Array.from(l.toArray()), [1, 2, 3, 1, 2, 3]);
  };
  run(false);
  if (!noBf16) run(true);
});
