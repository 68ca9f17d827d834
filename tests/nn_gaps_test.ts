/**
 * The torch.nn gaps the nn docs audit found, closed and checked against
 * PyTorch 1.13 (tests/fixtures/nn_gaps.json, written by
 * scripts/make_nn_gaps_fixtures.py): the activations SELU, CELU, GLU,
 * Hardtanh, Hardshrink, Softshrink, Softsign, Tanhshrink, Threshold,
 * LogSigmoid, RReLU and AlphaDropout (as modules and F functions; values and
 * the gradients of L = sum(out * G), the kinks included), ChannelShuffle,
 * Bilinear, F.conv2d's "same" padding of even kernels, ParameterList and
 * ParameterDict; then the containers read as torch's (`dict[key]`,
 * `list.slice(1)` for `list[1:]`) and the errors that name our spelling.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, nn, optim, randn, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, messageOf, type StoredRecord } from "./helpers.ts";

interface Case {
  name: string;
  inputs: StoredRecord[];
  out: StoredRecord;
  g: StoredRecord;
  grads: (StoredRecord | null)[];
  fn?: string;
  args?: number[];
  dim?: number;
  groups?: number;
  dilation?: number | [number, number];
}

interface AlphaCase {
  p: number;
  scale: number;
  shift: number;
  dropped: number;
  keptFraction: number;
}

const fx = loadFixture<{
  activations: Case[];
  glu: Case[];
  alphaDropout: AlphaCase[];
  channelShuffle: Case[];
  bilinear: Case[];
  bilinearInit: { bound: number; weightShape: number[]; keys: string[] };
  conv2dSame: Case[];
  parameterContainers: { stateDict: string[]; namedParameters: string[] };
}>("nn_gaps.json");

/** Runs `run` on the case's inputs; checks its output and the gradients of sum(out * G). */
function check(c: Case, run: (...xs: Tensor[]) => Tensor, what: string, rtol = 1e-5, atol = 1e-6) {
  const xs = c.inputs.map((s) => fromStored(s, { requiresGrad: true }));
  const out = run(...xs);
  assertStored(out, c.out, `${what}: out`, rtol, atol);
  out.mul(fromStored(c.g)).sum().backward();
  xs.forEach((x, i) => {
    const want = c.grads[i];
    if (want) assertStored(x.grad, want, `${what}: grad ${i}`, rtol, atol);
  });
}

// deno-lint-ignore no-explicit-any
type AnyFn = (...a: any[]) => Tensor;
const FUNCTIONS: Record<string, AnyFn> = {
  hardtanh: F.hardtanh,
  hardshrink: F.hardshrink,
  softshrink: F.softshrink,
  threshold: F.threshold,
  softsign: F.softsign,
  tanhshrink: F.tanhshrink,
  logsigmoid: F.logsigmoid,
  selu: F.selu,
  celu: F.celu,
  rrelu: (x: Tensor, ...a: number[]) => F.rrelu(x, a[0] ?? 1 / 8, a[1] ?? 1 / 3, false),
};
// deno-lint-ignore no-explicit-any
const MODULES: Record<string, new (...a: any[]) => nn.Module> = {
  hardtanh: nn.Hardtanh,
  hardshrink: nn.Hardshrink,
  softshrink: nn.Softshrink,
  threshold: nn.Threshold,
  softsign: nn.Softsign,
  tanhshrink: nn.Tanhshrink,
  logsigmoid: nn.LogSigmoid,
  selu: nn.SELU,
  celu: nn.CELU,
  rrelu: nn.RReLU,
};

Deno.test("activations: F and nn forms equal torch's, values and gradients at the kinks", () => {
  for (const c of fx.activations) {
    const args = c.args ?? [];
    check(c, (x) => FUNCTIONS[c.fn!](x, ...args), `F.${c.name}`);
    const m = new MODULES[c.fn!](...args).eval();
    check(c, (x) => m(x), `nn ${c.name}`);
  }
});

Deno.test("GLU: F.glu and nn.GLU halve dim as torch's", () => {
  for (const c of fx.glu) {
    check(c, (x) => F.glu(x, c.dim), c.name);
    check(c, (x) => new nn.GLU(c.dim!)(x), `nn ${c.name}`);
  }
  assert.match(messageOf(() => F.glu(randn([2, 3]))), /size 3, and it must be even/);
});

Deno.test("activations: torch's keywords as options, and errors naming what to write", () => {
  const x = tensor([-3, -1, 0, 2, 5]);
  assert.deepEqual(
    new nn.Hardtanh({ minVal: -2, maxVal: 3 })(x).toArray(),
    new nn.Hardtanh(-2, 3)(x).toArray(),
  );
  assert.deepEqual(new nn.Threshold({ threshold: 0, value: 7 })(x).toList(), [7, 7, 7, 2, 5]);
  assert.equal(new nn.CELU({ alpha: 2, inplace: true }).alpha, 2);
  assert.equal(new nn.Softshrink({ lambd: 1 }).lambd, 1);
  assert.equal(new nn.GLU({ dim: 1 }).dim, 1);
  assert.equal(new nn.SELU(true).inplace, true);
  assert.match(messageOf(() => new nn.Hardtanh(1, -1)), /maxVal -1 must be greater than minVal 1/);
  // deno-lint-ignore no-explicit-any
  assert.match(messageOf(() => new (nn.Threshold as any)(0.1)), /value is required/);
  assert.match(messageOf(() => new nn.Hardtanh({ min_val: 0 } as never)), /unknown option/);
  assert.match(messageOf(() => new nn.Softshrink(-1)), /lambd must be >= 0/);
  assert.match(messageOf(() => new nn.CELU(0)), /other than 0/);
  assert.match(messageOf(() => new nn.RReLU(0.5, 0.1)), /lower 0.5 is greater than upper 0.1/);
  assert.match(messageOf(() => new nn.AlphaDropout(2)), /p must be in \[0, 1\]/);
  // deno-lint-ignore no-explicit-any
  assert.match(messageOf(() => (F.hardtanh as any)(x, -1, 1, true)), /no inplace/);
  // deno-lint-ignore no-explicit-any
  assert.match(messageOf(() => (F as any).alpha_dropout(x)), /F\.alphaDropout/);
  // deno-lint-ignore no-explicit-any
  assert.match(messageOf(() => (F as any).channel_shuffle(x)), /F\.channelShuffle/);
});

Deno.test("RReLU: random slopes in [lower, upper) in training, the gradient their slope", () => {
  manualSeed(3);
  const x = randn([2000]).requiresGrad_(true);
  const m = new nn.RReLU(0.1, 0.3);
  const y = m(x);
  y.sum().backward();
  const xv = x.toArray(), yv = y.toArray(), gv = x.grad!.toArray();
  const slopes: number[] = [];
  for (let i = 0; i < xv.length; i++) {
    if (xv[i] > 0) {
      assert.equal(yv[i], xv[i]);
      assert.equal(gv[i], 1);
    } else {
      const s = yv[i] / xv[i];
      assert.ok(s >= 0.1 - 1e-6 && s < 0.3 + 1e-6, `slope ${s}`);
      assert.ok(Math.abs(gv[i] - s) < 1e-5);
      slopes.push(s);
    }
  }
  const mean = slopes.reduce((a, b) => a + b, 0) / slopes.length;
  assert.ok(Math.abs(mean - 0.2) < 0.01, `mean slope ${mean}`);
  // Evaluation: the mean slope, as torch's; F.rrelu's training defaults to false, as torch's.
  assert.deepEqual(m.eval()(tensor([-10, 1])).toArray(), new Float32Array([-2, 1]));
  assert.deepEqual(F.rrelu(tensor([-10]), 0.1, 0.3).toArray(), new Float32Array([-2]));
});

Deno.test("AlphaDropout: torch's kept scale and shift and dropped value; eval is the identity", () => {
  for (const c of fx.alphaDropout) {
    manualSeed(11);
    const x = randn([4000]).add(2).requiresGrad_(true);
    const y = new nn.AlphaDropout(c.p)(x);
    y.mul(3).sum().backward();
    const xv = x.toArray(), yv = y.toArray(), gv = x.grad!.toArray();
    let kept = 0;
    for (let i = 0; i < xv.length; i++) {
      if (Math.abs(yv[i] - c.dropped) < 1e-5 && gv[i] === 0) continue;
      kept++;
      assert.ok(Math.abs(yv[i] - (c.scale * xv[i] + c.shift)) < 1e-5, `p ${c.p} [${i}]`);
      assert.ok(Math.abs(gv[i] - 3 * c.scale) < 1e-5);
    }
    assert.ok(Math.abs(kept / xv.length - (1 - c.p)) < 0.03, `kept ${kept}`);
    assert.equal(F.alphaDropout(x, c.p), x); // training defaults to false, as torch's F
  }
  const drop = new nn.AlphaDropout(0.5).eval();
  assert.deepEqual(drop(tensor([1, 2])).toArray(), new Float32Array([1, 2]));
});

Deno.test("ChannelShuffle: F.channelShuffle and nn.ChannelShuffle as torch's", () => {
  for (const c of fx.channelShuffle) {
    check(c, (x) => F.channelShuffle(x, c.groups!), c.name);
    check(c, (x) => new nn.ChannelShuffle(c.groups!)(x), `nn ${c.name}`);
  }
  assert.match(messageOf(() => F.channelShuffle(randn([1, 5, 2]), 2)), /not divisible by groups 2/);
  assert.match(messageOf(() => F.channelShuffle(randn([2, 4]), 2)), /at least 3 dims/);
});

Deno.test("Bilinear: F.bilinear as torch's; nn.Bilinear's init and names", () => {
  for (const c of fx.bilinear) {
    check(c, (a, b, w, bias) => F.bilinear(a, b, w, bias ?? null), c.name, 1e-5, 1e-5);
  }
  const m = new nn.Bilinear(20, 30, 40);
  assert.deepEqual([...m.weight.shape], fx.bilinearInit.weightShape);
  assert.deepEqual([...m.stateDict().keys()], fx.bilinearInit.keys);
  const bound = fx.bilinearInit.bound;
  for (const p of [m.weight, m.bias!]) {
    assert.ok(p.abs().max().item() <= bound && p.abs().max().item() > 0.9 * bound);
  }
  assert.equal(new nn.Bilinear(2, 3, 4, { bias: false }).bias, null);
  assert.match(
    messageOf(() => m(randn([3, 20]), randn([3, 29]))),
    /sizes do not match/,
  );
});

Deno.test("F.conv2d: 'same' padding of an even kernel pads one more after, as torch's", () => {
  for (const c of fx.conv2dSame) {
    check(
      c,
      (x, w, b) => F.conv2d(x, w, b ?? null, { padding: "same", dilation: c.dilation }),
      c.name,
      1e-4,
      1e-5,
    );
  }
});

Deno.test("ParameterList and ParameterDict: registered under torch's names, moved, trained", () => {
  class Net extends nn.Module {
    params = new nn.ParameterList([randn([2, 3]), new nn.Parameter(randn([3]))]);
    pd = new nn.ParameterDict({ scale: tensor([1, 1, 1]), shift: tensor([0, 0, 0]) });
    fc = new nn.Linear(3, 2);
    forward(x: Tensor): Tensor {
      const h = x.matmul(this.params[0]).add(this.params[-1]);
      return this.fc(h.mul(this.pd.scale).add(this.pd["shift"]));
    }
  }
  const net = new Net();
  const want = fx.parameterContainers;
  assert.deepEqual([...net.stateDict().keys()], want.stateDict);
  assert.deepEqual([...net.namedParameters()].map(([n]) => n), want.namedParameters);
  assert.equal(net.params.length, 2);
  assert.equal(net.pd.length, 2);
  assert.ok(net.params[0] instanceof nn.Parameter && net.pd.get("scale") instanceof nn.Parameter);
  assert.deepEqual([...net.pd.keys()], ["scale", "shift"]);
  // An optimizer steps them.
  const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
  net(randn([4, 2])).sum().backward();
  const before = net.pd.shift.toArray().slice();
  opt.step();
  assert.notDeepEqual(net.pd.shift.toArray(), before);
  // A plain tensor assigned to an entry is made a Parameter (torch's __setitem__).
  net.params[1] = randn([3]);
  net.pd.scale = tensor([2, 2, 2]);
  assert.ok(net.params[1] instanceof nn.Parameter && net.pd.scale instanceof nn.Parameter);
  assert.equal(net.parameters().length, 6);
  net.params.append(randn([1]));
  net.pd.set("extra", randn([1]));
  assert.deepEqual(
    [...net.stateDict().keys()].filter((k) => !k.startsWith("fc")),
    ["params.0", "params.1", "params.2", "pd.scale", "pd.shift", "pd.extra"],
  );
  // Loading a state dict writes into them.
  const sd = new Map([...net.stateDict()].map(([k, v]) => [k, v.detach().mul(0)]));
  net.loadStateDict(sd);
  assert.equal(net.pd.scale.abs().sum().item(), 0);
  // What plain JavaScript would leave unregistered throws, naming the fix.
  // deno-lint-ignore no-explicit-any
  (net.params as any)[5] = randn([1]);
  assert.match(messageOf(() => net.parameters()), /list\.append\(t\)/);
  // deno-lint-ignore no-explicit-any
  delete (net.params as any)[5];
  net.pd.bias = randn([2]);
  assert.match(messageOf(() => net.stateDict()), /dict\.set\("bias", tensor\)/);
  delete net.pd.bias;
  net.pd.bias = new nn.Parameter(randn([2])); // a Parameter under a new key is adopted
  assert.ok(net.pd.has("bias"));
  assert.match(messageOf(() => new nn.ParameterDict({ keys: randn([1]) })), /names a member/);
  assert.match(messageOf(() => new nn.ParameterDict({ "0": randn([1]) })), /ParameterList/);
  assert.match(messageOf(() => net.params(randn([1]))), /no forward/);
});

Deno.test("ModuleDict: dict[key] reads, assigns and deletes as torch's", () => {
  class Net extends nn.Module {
    choices = new nn.ModuleDict({ conv: new nn.Conv2d(2, 4, 3), pool: new nn.MaxPool2d(2) });
    forward(x: Tensor, choice: string): Tensor {
      return this.choices[choice](x);
    }
  }
  const net = new Net();
  assert.deepEqual(net(randn([1, 2, 6, 6]), "conv").shape, [1, 4, 4, 4]);
  assert.deepEqual(net(randn([1, 2, 6, 6]), "pool").shape, [1, 2, 3, 3]);
  const d = net.choices;
  assert.equal(d.conv, d.get("conv"));
  assert.equal(d.length, 2);
  assert.ok("conv" in d && d.has("conv") && !d.has("nope"));
  // Assignment adds at the end, replaces in place; both registered.
  d["act"] = new nn.ReLU();
  d.extra = new nn.Linear(2, 2);
  const lin = new nn.Linear(3, 3);
  d["conv"] = lin;
  assert.deepEqual([...d.keys()], ["conv", "pool", "act", "extra"]);
  assert.equal(d.get("conv"), lin);
  assert.deepEqual(
    [...net.stateDict().keys()],
    ["choices.conv.weight", "choices.conv.bias", "choices.extra.weight", "choices.extra.bias"],
  );
  assert.deepEqual([...d.items()].map(([k]) => k), [...d.keys()]);
  assert.deepEqual([...d.values()].map((m) => m.constructor.name), [
    "Linear",
    "MaxPool2d",
    "ReLU",
    "Linear",
  ]);
  delete d.extra;
  assert.deepEqual([...d.keys()], ["conv", "pool", "act"]);
  assert.equal(d.pop("act").constructor.name, "ReLU");
  assert.equal(d.act, undefined);
  // A key named as a member is kept, read with get(); the member stays.
  d.set("keys", new nn.ReLU());
  assert.equal(typeof d.keys, "function");
  assert.equal(d.get("keys").constructor.name, "ReLU");
  assert.deepEqual([...d.keys()], ["conv", "pool", "keys"]);
  // Deep equality and JSON see the modules as before.
  assert.deepEqual(Object.keys(d).filter((k) => k !== "training"), []);
  d.clear();
  assert.equal(d.length, 0);
  assert.equal(d.conv, undefined);
});

Deno.test("ModuleList and Sequential: negative indices and slices as torch's list[1:]", () => {
  const a = new nn.Linear(2, 3), b = new nn.ReLU(), c = new nn.Linear(3, 1);
  const list = new nn.ModuleList([a, b, c]);
  assert.equal(list[-1], c);
  const tail = list.slice(1);
  assert.ok(tail instanceof nn.ModuleList);
  assert.equal(tail.length, 2);
  assert.equal(tail[0], b);
  assert.equal(list.slice(0, -1)[-1], b);
  const seq = new nn.Sequential(a, b, c);
  assert.equal(seq[-1], c);
  const body = seq.slice(0, -1);
  assert.ok(body instanceof nn.Sequential);
  assert.deepEqual(body(randn([4, 2])).shape, [4, 3]);
  const rest = seq.slice(1);
  assert.equal(rest[0], b);
  assert.equal(rest[1], c); // by position, renumbered (torch keeps the numbers 1, 2)
  assert.deepEqual([...rest.stateDict().keys()], ["1.weight", "1.bias"]);
  const named = new nn.Sequential({ fc: a, act: b, out: c });
  assert.deepEqual([...named.slice(1).namedChildren()].map(([k]) => k), ["act", "out"]);
  assert.match(
    messageOf(() => new nn.Sequential([a, b] as never)),
    /write new nn\.Sequential\(a, b\) or new nn\.Sequential\(\.\.\.layers\)/,
  );
});

Deno.test("ConvTranspose2d, MaxUnpool2d, StochasticDepth: torch's keywords as options", () => {
  const up = new nn.ConvTranspose2d(2, 2, 3, { stride: 2, padding: 1 });
  const x = randn([1, 2, 4, 4]);
  assert.deepEqual(up(x, { outputSize: [8, 8] }).toArray(), up(x, [8, 8]).toArray());
  assert.match(messageOf(() => up(x, { output_size: [8, 8] } as never)), /unknown option/);
  const up1 = new nn.ConvTranspose1d(1, 1, 3, { stride: 2 });
  const x1 = randn([1, 1, 4]);
  assert.deepEqual(up1(x1, { outputSize: [10] }).toArray(), up1(x1, [10]).toArray());
  const pool = new nn.MaxPool2d(2, { returnIndices: true }), unpool = new nn.MaxUnpool2d(2);
  const input = randn([1, 1, 5, 5]);
  const [v, i] = pool(input) as unknown as [Tensor, Tensor];
  assert.deepEqual(unpool(v, i, { outputSize: input.shape }).shape, [1, 1, 5, 5]);
  const sd = new nn.StochasticDepth({ p: 0.2, mode: "batch" });
  assert.equal(sd.p, 0.2);
  assert.equal(sd.mode, "batch");
  assert.match(
    messageOf(() => new nn.StochasticDepth({ p: 0.2, mode: "row" }, "row" as never)),
    /options object alone/,
  );
});
