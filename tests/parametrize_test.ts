/**
 * nn.utils.parametrize and nn.utils.parametrizations against PyTorch 1.13
 * (tests/fixtures/parametrize.json, from scripts/make_parametrize_fixtures.py):
 * custom parametrizations (one with a rightInverse, a chain, several
 * originals), orthogonal with each map on Linear and Conv2d, spectralNorm on
 * Linear, Conv2d and ConvTranspose2d over SGD steps (outputs, gradients, u and
 * v, state-dict keys and values), removal, cached, a parametrized Conv2d in
 * a ResNet Bottleneck and in a model with fused paths, and the errors.
 */
import assert from "node:assert/strict";
import {
  collectorStats,
  memoryStats,
  models,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type Stored } from "./helpers.ts";
import { isPlain } from "../src/models/plain.ts";

const P = nn.utils.parametrize;
type PL = nn.Linear & nn.utils.parametrize.Parametrized;
const PS = nn.utils.parametrizations;

type State = Record<string, Stored>;
interface Step {
  x: Stored;
  g: Stored;
  out: Stored;
  grads: State;
}
interface TrainCase {
  name: string;
  module: "linear" | "conv" | "convT";
  in: number;
  out: number;
  kernel?: number | [number, number];
  map?: "matrix_exp" | "cayley" | "householder";
  triv?: boolean;
  iters?: number;
  dim?: number;
  init: State;
  keys: string[];
  param_names: string[];
  registered: State;
  steps: Step[];
  after: State;
  eval: { x: Stored; out: Stored };
  removed_leave?: Stored;
  removed_original?: Stored;
  sigma?: number;
}
interface Fixture {
  custom: Record<string, Record<string, unknown>>;
  orthogonal: TrainCase[];
  spectral: TrainCase[];
  cached: { start: State; once: State; twice: State };
  bottleneck: {
    state: State;
    keys: string[];
    x: Stored;
    g: Stored;
    out: Stored;
    grad_x: Stored;
    grads: State;
  };
}
const fx = loadFixture<Fixture>("parametrize.json");

const TOL = { rtol: 1e-4, atol: 2e-5 };

function sd(state: State): Map<string, Tensor> {
  return new Map(Object.entries(state).map(([k, s]) => [k, fromStored(s)]));
}

function checkState(m: nn.Module, want: State, what: string, skip: string[] = []): void {
  const own = m.stateDict();
  for (const [k, s] of Object.entries(want)) {
    if (skip.includes(k)) continue;
    assertStored(own.get(k) ?? null, s, `${what}: ${k}`, TOL.rtol, TOL.atol);
  }
}

function make(c: TrainCase): nn.Module {
  const k = c.kernel ?? 1;
  const kernel: number | [number, number] = Array.isArray(k) ? [k[0], k[1]] : k;
  if (c.module === "linear") return new nn.Linear(c.in, c.out);
  if (c.module === "conv") return new nn.Conv2d(c.in, c.out, kernel);
  return new nn.ConvTranspose2d(c.in, c.out, kernel as number);
}

/** Loads torch's state after registration, runs the SGD steps and the eval forward, comparing. */
function train(c: TrainCase, m: nn.Module): void {
  const what = c.name;
  assert.deepEqual([...m.stateDict().keys()], c.keys, `${what}: state-dict keys`);
  assert.deepEqual([...m.namedParameters()].map(([k]) => k), c.param_names, `${what}: names`);
  m.loadStateDict(sd(c.registered));
  const params = new Map(m.namedParameters());
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  c.steps.forEach((s, i) => {
    opt.zeroGrad();
    const out = (m as unknown as (x: Tensor) => Tensor)(fromStored(s.x));
    assertStored(out, s.out, `${what} step ${i}: output`, TOL.rtol, TOL.atol);
    out.mul(fromStored(s.g)).sum().backward();
    for (const [k, g] of Object.entries(s.grads)) {
      assertStored(params.get(k)!.grad, g, `${what} step ${i}: grad ${k}`, 1e-3, 1e-4);
    }
    opt.step();
  });
  checkState(m, c.after, `${what}: after the steps`);
  m.eval();
  const out = noGrad(() => (m as unknown as (x: Tensor) => Tensor)(fromStored(c.eval.x)));
  assertStored(out, c.eval.out, `${what}: eval output`, TOL.rtol, TOL.atol);
  checkState(m, c.after, `${what}: eval leaves the state`);
}

class Symmetric extends nn.Module {
  forward(x: Tensor): Tensor {
    return x.triu().add(x.triu(1).mT);
  }
  rightInverse(a: Tensor): Tensor {
    return a.triu();
  }
}

class Scale extends nn.Module {
  forward(x: Tensor): Tensor {
    return x.mul(2);
  }
  rightInverse(y: Tensor): Tensor {
    return y.div(2);
  }
}

class SplitSum extends nn.Module {
  forward(a: Tensor, b: Tensor): Tensor {
    return a.add(b);
  }
  rightInverse(z: Tensor): Tensor[] {
    return [z.triu(), z.tril(-1)];
  }
}

Deno.test("parametrize: a symmetric weight with a rightInverse, as torch", () => {
  const c = fx.custom.symmetric as Record<string, unknown>;
  const m = new nn.Linear(4, 4) as PL;
  m.loadStateDict(sd(c.init as State));
  const before = m.weight;
  P.registerParametrization(m, "weight", new Symmetric());
  assert.equal(m.constructor.name, "ParametrizedLinear");
  assert.ok(m instanceof nn.Linear);
  assert.equal(m.parametrizations.weight.original, before, "the same Parameter object");
  assert.deepEqual([...m.stateDict().keys()], c.keys);
  assert.deepEqual([...m.namedParameters()].map(([k]) => k), c.param_names);
  checkState(m, c.registered as State, "registered");
  assertStored(m.weight, c.weight as Stored, "weight");
  const out = m(fromStored(c.x as Stored));
  assertStored(out, c.out as Stored, "output");
  out.mul(fromStored(c.g as Stored)).sum().backward();
  const params = new Map(m.namedParameters());
  for (const [k, g] of Object.entries(c.grads as State)) {
    assertStored(params.get(k)!.grad, g, `grad ${k}`);
  }
  m.weight = fromStored(c.assign as Stored);
  checkState(m, c.assigned as State, "assigned");
  assertStored(m.weight, c.assigned_weight as Stored, "assigned weight");
});

Deno.test("parametrize: a chain of two, assignment and removal, as torch", () => {
  const c = fx.custom.chain as Record<string, unknown>;
  const m = new nn.Linear(4, 4) as PL;
  m.loadStateDict(sd(c.init as State));
  P.registerParametrization(m, "weight", new Symmetric());
  P.registerParametrization(m, "weight", new Scale());
  assert.equal(m.parametrizations.weight.length, 2);
  assert.deepEqual([...m.stateDict().keys()], c.keys);
  checkState(m, c.registered as State, "registered");
  assertStored(m.weight, c.weight as Stored, "weight");
  m.weight = fromStored(c.assign as Stored);
  checkState(m, c.assigned as State, "assigned");
  P.removeParametrizations(m, "weight", true);
  assert.equal(m.constructor, nn.Linear);
  assert.equal(P.isParametrized(m), false);
  assert.equal("parametrizations" in m, false);
  assert.deepEqual([...m.stateDict().keys()], c.removed_keys);
  checkState(m, c.removed as State, "removed");
});

Deno.test("parametrize: a rightInverse with two tensors registers original0 and original1", () => {
  const c = fx.custom.multi as Record<string, unknown>;
  const m = new nn.Linear(3, 3);
  m.loadStateDict(sd(c.init as State));
  P.registerParametrization(m, "weight", new SplitSum());
  assert.deepEqual([...m.stateDict().keys()], c.keys);
  checkState(m, c.registered as State, "registered");
  assertStored(m.weight, c.weight as Stored, "weight");
  assert.throws(
    () => P.removeParametrizations(m, "weight", { leaveParametrized: false }),
    /Cannot leave unparametrized/,
  );
  P.removeParametrizations(m, "weight");
  assert.deepEqual([...m.stateDict().keys()], c.removed_keys);
  checkState(m, c.removed as State, "removed");
  assert.ok(m.weight instanceof nn.Parameter);
});

for (const c of fx.orthogonal) {
  Deno.test(`parametrizations.orthogonal: ${c.name}, as torch over SGD steps`, () => {
    const register = (m: nn.Module) =>
      PS.orthogonal(m, "weight", c.map ?? null, { useTrivialization: c.triv ?? true });
    const m = make(c);
    m.loadStateDict(sd(c.init));
    register(m);
    // The base of a non-square matrix is completed with random columns: torch's are loaded.
    const [rows, cols] = (m as PL).parametrizations.weight.original.shape.slice(-2);
    checkState(
      m,
      c.registered,
      "registration",
      rows === cols ? [] : ["parametrizations.weight.0.base"],
    );
    train(c, m);
    for (const leave of [true, false]) {
      const r = make(c);
      register(r);
      r.loadStateDict(sd(c.after));
      P.removeParametrizations(r, "weight", leave);
      const want = leave ? c.removed_leave! : c.removed_original!;
      assertStored((r as nn.Linear).weight, want, `removed (leave ${leave})`, TOL.rtol, TOL.atol);
      assert.deepEqual([...r.stateDict().keys()].sort(), Object.keys(c.init).sort());
    }
  });
}

for (const c of fx.spectral) {
  Deno.test(`parametrizations.spectralNorm: ${c.name}, as torch over SGD steps`, () => {
    const m = make(c);
    m.loadStateDict(sd(c.init));
    PS.spectralNorm(m, "weight", c.iters ?? 1, 1e-12, c.dim);
    // u and v are drawn from this library's generator: after 16 power iterations sigma is close.
    const w = m as PL;
    const orig = w.parametrizations.weight.original;
    const ratio = noGrad(() => orig.abs().sum().item() / w.weight.abs().sum().item());
    assert.ok(Math.abs(ratio - c.sigma!) < 2e-2 * c.sigma!, `sigma ${ratio} vs ${c.sigma}`);
    checkState(m, c.registered, "registration", [
      "parametrizations.weight.0._u",
      "parametrizations.weight.0._v",
    ]);
    train(c, m);
  });
}

Deno.test("parametrize: printing a spectrally normalised layer runs no power iteration", () => {
  const m = PS.spectralNorm(new nn.Linear(5, 4));
  m.loadStateDict(sd(fx.cached.start));
  assert.match(String(m), /ParametrizedLinear\(\n {2}inFeatures=5, outFeatures=4/);
  assert.deepEqual([m.inFeatures, m.outFeatures], [5, 4]);
  checkState(m, fx.cached.start, "u and v untouched");
});

Deno.test("parametrize.cached: the weight is computed once inside, at each read outside", () => {
  const m = PS.spectralNorm(new nn.Linear(5, 4));
  m.loadStateDict(sd(fx.cached.start));
  P.cached(() => {
    assert.equal(m.weight, m.weight);
  });
  checkState(m, fx.cached.once, "one power iteration inside cached");
  assert.notEqual(m.weight, m.weight);
  checkState(m, fx.cached.twice, "two more outside");
});

Deno.test("parametrize.cached: an async block keeps the cache until it settles", async () => {
  const m = PS.orthogonal(new nn.Linear(3, 3));
  const same = await P.cached(async () => {
    const a = m.weight;
    await Promise.resolve();
    return a === m.weight;
  });
  assert.equal(same, true);
  assert.notEqual(m.weight, m.weight);
});

Deno.test("parametrize: parametrized convs in a ResNet Bottleneck (eval, fused output) as torch", () => {
  const c = fx.bottleneck;
  const b = new models.Bottleneck(8, 2);
  PS.spectralNorm(b.conv3);
  PS.orthogonal(b.conv2);
  assert.deepEqual([...b.stateDict().keys()], c.keys);
  b.loadStateDict(sd(c.state));
  b.eval();
  assert.equal(isPlain(b.conv3, nn.Conv2d), false, "the fused output path is off");
  const x = fromStored(c.x, { requiresGrad: true });
  const out = b(x);
  assertStored(out, c.out, "output", TOL.rtol, TOL.atol);
  out.mul(fromStored(c.g)).sum().backward();
  assertStored(x.grad, c.grad_x, "input gradient", 1e-3, 1e-4);
  const params = new Map(b.namedParameters());
  for (const [k, g] of Object.entries(c.grads)) {
    assertStored(params.get(k)!.grad, g, `grad ${k}`, 1e-3, 1e-4);
  }
});

Deno.test("parametrize: a model's fused path and input check see the parametrized weight once", () => {
  let calls = 0;
  class Counted extends nn.Module {
    forward(x: Tensor): Tensor {
      calls++;
      return x.mul(0.5);
    }
  }
  const net = new models.SimpleCNN({ imageSize: 16, globalPool: "avg" }).eval();
  const x = randn([2, 1, 16, 16]);
  P.registerParametrization(net.features[0] as nn.Conv2d, "weight", new Counted());
  calls = 0;
  const y = noGrad(() => net(x));
  assert.equal(calls, 1, "one read of the weight per forward");
  P.removeParametrizations(net.features[0] as nn.Conv2d, "weight");
  const fused = noGrad(() => net(x));
  assert.ok(isPlain(net.features[0] as nn.Conv2d, nn.Conv2d));
  assert.ok(noGrad(() => y.sub(fused).abs().max().item()) < 1e-5);
});

Deno.test("parametrize: an optimizer made before keeps training the original", () => {
  const fc = new nn.Linear(3, 3) as PL;
  const opt = new optim.SGD(fc.parameters(), { lr: 0.1 });
  P.registerParametrization(fc, "weight", new Symmetric());
  const before = fc.parametrizations.weight.original.clone();
  fc(randn([2, 3])).sum().backward();
  opt.step();
  assert.ok(noGrad(() => fc.parametrizations.weight.original.sub(before).abs().max().item()) > 0);
});

Deno.test("parametrize: errors name torch's rule and what to write", () => {
  const fc = () => new nn.Linear(3, 3);
  assert.throws(
    () => P.registerParametrization(fc(), "wieght", new Symmetric()),
    /does not have a parameter, a buffer, or a parametrized element with name 'wieght' \(its parameters: weight, bias\)/,
  );
  assert.throws(
    () => P.registerParametrization(new nn.BatchNorm2d(3), "running_mean", new Scale()),
    /'running_mean' of BatchNorm2d is a buffer/,
  );
  class Transpose extends nn.Module {
    forward(x: Tensor): Tensor {
      return x.mT;
    }
  }
  assert.throws(
    () => P.registerParametrization(new nn.Linear(3, 4), "weight", new Transpose()),
    /may not change the shape of the tensor[^]*unparametrized shape: \[4,3\][^]*unsafe: true/,
  );
  const t = P.registerParametrization(new nn.Linear(3, 4), "weight", new Transpose(), {
    unsafe: true,
  });
  assert.deepEqual(t.weight.shape, [3, 4]);
  class Flat extends nn.Module {
    forward(x: Tensor): Tensor {
      return x;
    }
    rightInverse(x: Tensor): Tensor {
      return x.flatten();
    }
  }
  assert.throws(
    () => P.registerParametrization(fc(), "weight", new Flat()),
    /rightInverse returned a tensor of shape \[9\] for an original of shape \[3,3\]/,
  );
  const s = P.registerParametrization(fc(), "weight", new Symmetric());
  assert.throws(() => {
    s.weight = randn([4, 4]);
  }, /has shape \[4,4\] while `original` has shape \[3,3\]/);
  assert.throws(() => {
    t.weight = randn([3, 4]);
  }, /parametrization Transpose does not implement right_inverse/);
  class Snake extends nn.Module {
    forward(x: Tensor): Tensor {
      return x;
    }
    right_inverse(x: Tensor): Tensor {
      return x;
    }
  }
  assert.throws(
    () => P.registerParametrization(fc(), "weight", new Snake()),
    /name the method rightInverse/,
  );
  assert.throws(
    () => P.registerParametrization(fc(), "weight", ((x: Tensor) => x) as unknown as nn.Module),
    /wrap the function/,
  );
  assert.throws(
    () => P.registerParametrization(fc(), "weight", new Scale(), { unsafe: 1 as never }),
    /unsafe must be true or false/,
  );
  assert.throws(
    () => P.removeParametrizations(fc(), "weight"),
    /Module Linear does not have a parametrization on weight/,
  );
  assert.throws(() => PS.orthogonal(fc(), "weight", "qr" as never), /has to be one of/);
  assert.throws(() => PS.orthogonal(fc(), "bias"), /Expected a matrix or batch of matrices/);
  assert.throws(() => PS.spectralNorm(fc(), "weight", 0), /n_power_iterations to be positive/);
  assert.throws(() => PS.spectralNorm(fc(), "weight", 1, 1e-12, 2), /Dimension out of range/);
  assert.throws(() => PS.spectralNorm(fc(), "wieght"), /has no parameter or buffer/);
  assert.throws(
    () => P.register_parametrization(),
    /write nn.utils.parametrize.registerParametrization/,
  );
  assert.throws(() => PS.spectral_norm(), /write nn.utils.parametrizations.spectralNorm/);
});

Deno.test("parametrize: typeBeforeParametrizations, isParametrized and cached's argument", () => {
  const m = PS.orthogonal(new nn.Linear(2, 2));
  assert.equal(P.typeBeforeParametrizations(m), nn.Linear);
  assert.equal(P.typeBeforeParametrizations(new nn.ReLU()), nn.ReLU);
  assert.equal(P.isParametrized(m), true);
  assert.equal(P.isParametrized(m, "bias"), false);
  assert.throws(() => P.cached(5 as never), /cached\(\(\) => model\(x\)\)/);
  const w = tensor([[1, 0], [0, 1]]);
  m.weight = w;
  assert.ok(noGrad(() => m.weight.sub(w).abs().max().item()) < 1e-6);
});

Deno.test("parametrize: a training loop that disposes nothing stays flat", () => {
  const net = new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 6));
  PS.spectralNorm(net[0] as nn.Linear);
  PS.orthogonal(net[2] as nn.Linear, "weight", "cayley");
  const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
  const x = randn([4, 8]);
  let at = { bytes: 0, watched: 0 };
  for (let step = 0; step < 60; step++) {
    opt.zeroGrad();
    net(x).sum().backward();
    opt.step();
    if (step === 10) {
      at = { bytes: memoryStats().bytesInUse, watched: collectorStats().bytesWatched };
    }
  }
  assert.equal(memoryStats().bytesInUse - at.bytes, 0, "native bytes");
  assert.equal(collectorStats().bytesWatched - at.watched, 0, "bytes left to the collector");
});
