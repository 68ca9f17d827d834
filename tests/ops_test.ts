/**
 * Tensor ops and F.* against PyTorch's numbers (tests/fixtures/ops.json,
 * written by scripts/make_fixtures.py): forward values, and the gradients
 * of L = sum(out * G) for a fixed random G.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, noGrad, ones, scope, type Tensor, tensor } from "../mod.ts";
import {
  assertClose,
  assertEqualValues,
  assertShape,
  fromStored,
  loadFixture,
  type Stored,
  testDevice,
} from "./helpers.ts";

interface OpCase {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: (Stored | null)[];
  out: Stored;
  extra?: Record<string, Stored>;
  G?: number[];
  grads?: (number[] | null)[];
}

type In = (Tensor | null)[];
// deno-lint-ignore no-explicit-any
type Op = (x: In, o: Record<string, any>) => Tensor;

const binary = (name: "add" | "sub" | "mul" | "div"): Op => (x, o) =>
  o.other !== undefined ? x[0]![name](o.other) : x[0]![name](x[1]!);

const OPS: Record<string, Op> = {
  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  neg: (x) => x[0]!.neg(),
  exp: (x) => x[0]!.exp(),
  log: (x) => x[0]!.log(),
  sqrt: (x) => x[0]!.sqrt(),
  pow: (x, o) => x[0]!.pow(o.exponent),
  relu: (x) => x[0]!.relu(),
  sigmoid: (x) => x[0]!.sigmoid(),
  tanh: (x) => x[0]!.tanh(),
  abs: (x) => x[0]!.abs(),
  maximum: (x) => x[0]!.maximum(x[1]!),
  minimum: (x) => x[0]!.minimum(x[1]!),
  sum: (x, o) => x[0]!.sum(o.dims, o.keepDim),
  mean: (x, o) => x[0]!.mean(o.dims, o.keepDim),
  max: (x, o) => x[0]!.max(o.dims, o.keepDim),
  min: (x, o) => x[0]!.min(o.dims, o.keepDim),
  amin: (x, o) => x[0]!.amin(o.dims, o.keepDim),
  argmax: (x, o) => x[0]!.argmax(o.dim, o.keepDim),
  softmax: (x, o) => x[0]!.softmax(o.dim),
  logSoftmax: (x, o) => x[0]!.logSoftmax(o.dim),
  matmul: (x) => x[0]!.matmul(x[1]!),
  linear: (x) => F.linear(x[0]!, x[1]!, x[2]),
  transpose: (x, o) => x[0]!.transpose(o.dims[0], o.dims[1]),
  permute: (x, o) => x[0]!.permute(...o.dims),
  reshape: (x, o) => x[0]!.reshape(...o.shape),
  transposeReshape: (x, o) => x[0]!.transpose(o.dims[0], o.dims[1]).reshape(...o.shape),
  flatten: (x, o) => x[0]!.flatten(o.start, o.end),
  narrow: (x, o) => x[0]!.narrow(o.dim, o.start, o.length),
  narrowExp: (x, o) => x[0]!.narrow(o.dim, o.start, o.length).exp(),
  slice: (x, o) => x[0]!.slice(o.start, o.end),
  unsqueeze: (x, o) => x[0]!.unsqueeze(o.dim),
  squeeze: (x, o) => x[0]!.squeeze(o.dim),
  expand: (x, o) => x[0]!.expand(...o.shape),
  transposeAdd: (x, o) => x[0]!.transpose(o.dims[0], o.dims[1]).add(x[1]!),
  permuteMul: (x, o) => x[0]!.permute(...o.dims).mul(x[1]!),
  transposeMatmul: (x, o) => x[0]!.transpose(o.dims[0], o.dims[1]).matmul(x[1]!),
  transposeSum: (x, o) => x[0]!.transpose(o.dims[0], o.dims[1]).sum(o.sumDim),
  narrowSoftmax: (x, o) => x[0]!.narrow(o.dim, o.start, o.length).softmax(o.softmaxDim),
  permuteContiguous: (x, o) => x[0]!.permute(...o.dims).contiguous(),
  reuse: (x) => x[0]!.mul(x[0]!).add(x[0]!),
  conv2d: (x, o) => F.conv2d(x[0]!, x[1]!, x[2], o),
  maxPool2d: (x, { kernel, ...o }) => F.maxPool2d(x[0]!, kernel, o),
  avgPool2d: (x, { kernel, ...o }) => F.avgPool2d(x[0]!, kernel, o),
  adaptiveAvgPool2d: (x, o) => F.adaptiveAvgPool2d(x[0]!, o.outputSize),
  batchNorm: (x, o) => F.batchNorm(x[0]!, x[1], x[2], x[3], x[4], o),
  batchNormSteps: (x, o) => {
    const [x1, x2, x3, x4, rm, rv, w, b] = x;
    for (const xi of [x1, x2, x3]) {
      F.batchNorm(xi!, rm, rv, w, b, { training: true, momentum: o.momentum });
    }
    return F.batchNorm(x4!, rm, rv, w, b, { training: false });
  },
  crossEntropy: (x, o) => F.crossEntropy(x[0]!, x[1]!, { ...o, weight: x[2] }),
};

/** Looser tolerances where PyTorch sums in another order (and on the GPU,
 * whose libraries sum in yet another order: 1e-4 relative, as the CUDA checks). */
function tolerances(c: OpCase): { rtol: number; atol: number; grtol: number; gatol: number } {
  const t = baseTolerances(c);
  if (testDevice === "cpu") return t;
  const up = (x: number) => Math.max(x, 1e-4);
  return { rtol: up(t.rtol), atol: up(t.atol), grtol: up(t.grtol), gatol: up(t.gatol) };
}

function baseTolerances(c: OpCase): { rtol: number; atol: number; grtol: number; gatol: number } {
  if (c.op === "conv2d" || c.op.startsWith("batchNorm")) {
    return { rtol: 1e-5, atol: 1e-5, grtol: 1e-4, gatol: 1e-4 };
  }
  if (c.op === "crossEntropy" || c.op.includes("atmul") || c.op === "linear") {
    return { rtol: 1e-5, atol: 1e-5, grtol: 1e-5, gatol: 1e-5 };
  }
  return { rtol: 1e-5, atol: 1e-6, grtol: 1e-5, gatol: 1e-6 };
}

const fixture = loadFixture<{ torch: string; cases: OpCase[] }>("ops.json");

for (const c of fixture.cases) {
  Deno.test(`ops: ${c.name}`, () => {
    const op = OPS[c.op];
    assert.ok(op, `no op '${c.op}' in the test table`);
    const tol = tolerances(c);
    scope(() => {
      const inputs = c.inputs.map((
        s,
      ) => (s === null ? null : fromStored(s, { device: testDevice })));
      const out = op(inputs, c.opts);
      assertShape(out, c.out.shape, `${c.name}: output shape`);
      if (c.out.dtype === "int32") {
        assert.equal(out.dtype, "int32", `${c.name}: dtype`);
        assertEqualValues(out, c.out.data, `${c.name}: output`);
      } else {
        assert.equal(out.dtype, "float32", `${c.name}: dtype`);
        assertClose(out, c.out.data, { rtol: tol.rtol, atol: tol.atol, what: `${c.name}: output` });
      }
      for (const [key, s] of Object.entries(c.extra ?? {})) {
        const t = key === "runningMean"
          ? inputs[c.op === "batchNormSteps" ? 4 : 1]
          : inputs[c.op === "batchNormSteps" ? 5 : 2];
        assertClose(t!, s.data, { rtol: 1e-5, atol: 1e-6, what: `${c.name}: ${key}` });
      }
      if (c.G && c.grads) {
        out.backward(tensor(Float32Array.from(c.G), [...c.out.shape], { device: testDevice }));
        c.grads.forEach((g, i) => {
          const t = inputs[i];
          if (g === null) {
            if (t !== null && !t.requiresGrad) {
              assert.equal(t.grad, null, `${c.name}: input ${i} got a gradient`);
            }
            return;
          }
          assert.ok(t?.grad, `${c.name}: input ${i} has no gradient`);
          assertShape(t.grad, t.shape, `${c.name}: gradient ${i} shape`);
          assertClose(t.grad, g, {
            rtol: tol.grtol,
            atol: tol.gatol,
            what: `${c.name}: gradient of input ${i}`,
          });
        });
      }
    });
  });
}

// The inference kernel of batchNorm (no gradient recorded) against the same numbers.
for (const c of fixture.cases.filter((c) => c.op === "batchNorm" && !c.opts.training)) {
  Deno.test(`ops: ${c.name} under noGrad (inference kernel)`, () => {
    noGrad(() => {
      const inputs = c.inputs.map((
        s,
      ) => (s === null ? null : fromStored(s, { device: testDevice })));
      const out = OPS.batchNorm(inputs, c.opts);
      assert.equal(out.requiresGrad, false);
      assertClose(out, c.out.data, { rtol: 1e-5, atol: 1e-5, what: c.name });
    });
  });
}

Deno.test("ops: number operands agree with tensor operands", () => {
  scope(() => {
    const x = tensor([[1.5, -2, 3], [0.25, 4, -8]]);
    const k = tensor([2.5]).reshape([]);
    for (const name of ["add", "sub", "mul", "div"] as const) {
      assertClose(x[name](2.5), x[name](k).toArray(), { what: name });
    }
  });
});

Deno.test("ops: backward accumulates into .grad over two passes", () => {
  scope(() => {
    const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
    x.mul(x).sum().backward();
    x.mul(3).sum().backward();
    assertClose(x.grad!, [2 + 3, 4 + 3, 6 + 3], { what: "accumulated grad" });
  });
});

Deno.test("ops: gradient of a reused view input (x.transpose used twice)", () => {
  scope(() => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
    const t = x.transpose(0, 1);
    t.mul(t).add(t).sum().backward();
    assertClose(x.grad!, [3, 5, 7, 9, 11, 13], { what: "grad" });
  });
});

// ---- dropout: semantics only (the generator is not torch's) ----

Deno.test("dropout: eval mode is the identity (and p = 0 in training)", () => {
  scope(() => {
    const x = tensor(Float32Array.from({ length: 50 }, (_, i) => i - 25), [5, 10], {
      requiresGrad: true,
    });
    const y = F.dropout(x, 0.5, false);
    assertClose(y, x.toArray(), { rtol: 0, atol: 0, what: "eval output" });
    const z = F.dropout(x, 0, true);
    assertClose(z, x.toArray(), { rtol: 0, atol: 0, what: "p = 0 output" });
  });
});

Deno.test("dropout: training zeroes about p of the elements and scales the rest by 1/(1-p)", () => {
  for (const p of [0.1, 0.5, 0.8]) {
    scope(() => {
      manualSeed(123);
      const n = 20000;
      const x = tensor(Float32Array.from({ length: n }, (_, i) => 1 + (i % 7)), [100, 200]);
      const xs = x.toArray();
      const y = F.dropout(x, p, true).toArray();
      let zeros = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] === 0) zeros++;
        else {
          const expected = xs[i] / (1 - p);
          assert.ok(
            Math.abs(y[i] - expected) <= 1e-5 * expected,
            `p ${p}: kept element ${i} is ${y[i]}, expected ${expected}`,
          );
        }
      }
      const frac = zeros / n;
      // 5 standard deviations of a binomial proportion.
      const sd = Math.sqrt(p * (1 - p) / n);
      assert.ok(Math.abs(frac - p) < 5 * sd, `p ${p}: zeroed fraction ${frac}`);
    });
  }
});

Deno.test("dropout: p = 1 zeroes everything", () => {
  scope(() => {
    const y = F.dropout(ones([4, 5]), 1, true).toArray();
    assert.ok(y.every((v) => v === 0), `got [${Array.from(y)}]`);
  });
});

Deno.test("dropout: the same seed gives the same mask; another seed another one", () => {
  scope(() => {
    const x = ones([64, 64]);
    manualSeed(7);
    const a = F.dropout(x, 0.3, true).toArray();
    manualSeed(7);
    const b = F.dropout(x, 0.3, true).toArray();
    assertClose(b, a, { rtol: 0, atol: 0, what: "same seed" });
    const c = F.dropout(x, 0.3, true).toArray(); // the generator moved on
    assert.ok(c.some((v, i) => v !== a[i]), "a second call gave the same mask");
    manualSeed(8);
    const d = F.dropout(x, 0.3, true).toArray();
    assert.ok(d.some((v, i) => v !== a[i]), "another seed gave the same mask");
  });
});

Deno.test("dropout: the gradient is the mask (scaled) times the upstream gradient", () => {
  scope(() => {
    manualSeed(99);
    const n = 600;
    const x = tensor(Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 5)), [20, 30], {
      requiresGrad: true,
    });
    const gData = Float32Array.from({ length: n }, (_, i) => Math.sin(i) + 2);
    const p = 0.4;
    const y = F.dropout(x, p, true);
    const ys = y.toArray(), xs = x.toArray();
    y.backward(tensor(gData, [20, 30]));
    const g = x.grad!.toArray();
    for (let i = 0; i < n; i++) {
      const mask = ys[i] === 0 ? 0 : 1 / (1 - p);
      if (ys[i] !== 0) assert.ok(Math.abs(ys[i] - xs[i] * mask) < 1e-5 * ys[i]);
      assert.ok(
        Math.abs(g[i] - gData[i] * mask) <= 1e-5 * Math.abs(gData[i] * mask) + 1e-7,
        `element ${i}: grad ${g[i]}, expected ${gData[i] * mask}`,
      );
    }
  });
});

// memoryStats() is process-wide and `deno test --parallel` runs files in one
// process, so this checks the tensors themselves rather than byte counts.
Deno.test("ops: a scope frees what the cases allocate, gradients included", () => {
  const made: Tensor[] = [];
  const kept = scope(() => {
    const x = tensor(Float32Array.from({ length: 60 }, (_, i) => i / 10), [3, 4, 5], {
      requiresGrad: true,
    });
    const s = x.softmax(1);
    const y = s.mul(x).sum([0, 2]);
    y.sum().backward();
    made.push(x, s, y, x.grad!);
    return y.detach().mul(2);
  });
  for (const t of made) assert.equal(t.isAlive, false, `tensor [${t.shape}] outlived its scope`);
  assert.equal(kept.isAlive, true);
  assertShape(kept, [4]);
  kept.dispose();
});

Deno.test("matmul follows torch.matmul: vectors, and broadcast batch dimensions, with gradients", () => {
  // a = arange(n).reshape(shape) / 10 - 0.3; y = a @ b; y.sum().backward()
  // -> shape, y.sum(), a.grad.sum(), b.grad.sum(), y.flatten()[:3] (PyTorch 1.13)
  const cases: [number[], number[], number[], number, number, number, number[]][] = [
    [[3], [3], [], 0.14, -0.6, -0.6, [0.14]],
    [[2, 3], [3], [2], 0.1, -1.2, -0.3, [0.14, -0.04]],
    [[3], [3, 2], [2], 0.14, -0.3, -1.2, [0.1, 0.04]],
    [[4, 2, 3], [1, 3, 5], [4, 2, 5], 44.8, 48, 102, [-0.02, -0.08, -0.14]],
    [[2, 3], [2, 3, 2], [2, 2, 2], 0.02, 6, -1.2, [0.1, 0.04, 0.01]],
    [[2, 1, 2, 3], [3, 3, 2], [2, 3, 2, 2], 10.86, 39.6, 18, [0.1, 0.04, 0.01]],
  ];
  const ramp = (shape: number[]) => {
    const n = shape.reduce((p, d) => p * d, 1);
    const v = Array.from({ length: n }, (_, i) => i / 10 - 0.3);
    return tensor(v, shape, { requiresGrad: true });
  };
  for (const [sa, sb, shape, total, ga, gb, first] of cases) {
    const a = ramp(sa), b = ramp(sb);
    const y = a.matmul(b);
    assert.deepEqual(y.shape, shape, `[${sa}] @ [${sb}]`);
    y.sum().backward();
    const near = (x: number, want: number) => Math.abs(x - want) < 1e-4;
    assert.ok(near(y.sum().item(), total), `[${sa}] @ [${sb}] sum ${y.sum().item()}`);
    assert.ok(near(a.grad!.sum().item(), ga), `[${sa}] @ [${sb}] a.grad`);
    assert.ok(near(b.grad!.sum().item(), gb), `[${sa}] @ [${sb}] b.grad`);
    const flat = Array.from(y.toArray()).slice(0, 3);
    flat.forEach((v, i) => assert.ok(near(v, first[i]), `[${sa}] @ [${sb}] y[${i}] ${v}`));
  }
  assert.throws(
    () => tensor([1, 2]).matmul(tensor([1, 2, 3])),
    /shapes \[2\] and \[3\] do not multiply/,
  );
  assert.throws(() => tensor(2).matmul(tensor([1])), /at least one dimension/);
  assert.throws(
    () => ramp([2, 2, 3]).matmul(ramp([3, 3, 2])),
    /matmul: shapes \[2\] and \[3\] cannot be broadcast/,
  );
});
