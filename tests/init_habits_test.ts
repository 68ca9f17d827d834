/**
 * nn.init as a PyTorch user calls it: calculate_gain's table and its
 * refusals, the argument checks of the plain fills, the Xavier, truncated
 * normal, orthogonal, eye and dirac fills (PyTorch 1.13's definitions,
 * checked statistically or exactly), and model flags that must be booleans.
 */
import assert from "node:assert/strict";
import { manualSeed, models, nn, tensor, zeros } from "../mod.ts";

const { init } = nn;
const loose = <T>(v: unknown) => v as T;
const stats = (values: Float32Array | Int32Array) => {
  const a = Float64Array.from(values);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  return {
    mean,
    std,
    min: a.reduce((m, v) => Math.min(m, v)),
    max: a.reduce((m, v) => Math.max(m, v)),
  };
};

Deno.test("calculateGain: PyTorch's table; unknown names and bad slopes throw instead of giving 1", () => {
  assert.equal(init.calculateGain("selu"), 0.75);
  assert.equal(init.calculateGain("tanh"), 5 / 3);
  assert.equal(init.calculateGain("conv2d"), 1);
  assert.equal(init.calculateGain("relu"), Math.SQRT2);
  assert.ok(Math.abs(init.calculateGain("leaky_relu", null) - 1.41414) < 1e-5);
  assert.ok(Math.abs(init.calculateGain("leaky_relu", 0.2) - Math.sqrt(2 / 1.04)) < 1e-12);
  for (const name of ["Tanh", "relu6", "gelu"]) {
    assert.throws(() => init.calculateGain(loose(name)), /unsupported nonlinearity/, name);
  }
  for (const slope of ["x", true, NaN, { a: 0.2 }]) {
    assert.throws(
      () => init.calculateGain("leaky_relu", loose(slope)),
      /negative_slope .* is not a valid number/,
    );
  }
  // Kaiming takes every name calculateGain does: tanh's std is 5/3 / sqrt(fan_in).
  manualSeed(0);
  const w = init.kaimingNormal_(zeros([256, 64, 3, 3]), { nonlinearity: "tanh" });
  const { std } = stats(w.toArray());
  const want = 5 / 3 / Math.sqrt(64 * 9);
  assert.ok(Math.abs(std / want - 1) < 0.01, `${std} vs ${want}`);
});

Deno.test("the plain fills check their arguments as PyTorch does", () => {
  const w = zeros([4]);
  const cases: [() => unknown, RegExp][] = [
    [
      () => init.normal_(w, loose({ std: 0.01 })),
      /normal_: mean must be a number.*write nn\.init\.normal_\(w, 0, 0\.01\)/,
    ],
    [() => init.uniform_(w, loose({ a: -0.1, b: 0.1 })), /uniform_: low must be a number/],
    [() => loose<(...a: unknown[]) => unknown>(init.uniform_)(w, -1, 1, 7), /takes at most 3/],
    [() => loose<(...a: unknown[]) => unknown>(init.zeros_)(w, 5), /zeros_: takes at most 1/],
    [() => loose<(t: unknown) => unknown>(init.constant_)(w), /constant_: value must be a number/],
    [
      () => init.kaimingNormal_(loose(undefined)),
      /kaimingNormal_: the first argument must be a tensor/,
    ],
    [() => init.uniform_(w, 0, Infinity), /beyond float32's range/],
    [() => init.uniform_(w, -3e38, 3e38), /beyond float32's range/],
    [() => init.constant_(w, 1e39), /value 1e\+39 cannot be converted to float32 without overflow/],
    [
      () => init.constant_(tensor(new Int32Array(2), [2]), 1e12),
      /cannot be converted to int32 without overflow/,
    ],
  ];
  for (const [call, message] of cases) assert.throws(call, message);
  assert.deepEqual([...w.toArray()], [0, 0, 0, 0], "a refused fill writes nothing");
});

Deno.test("xavierUniform_ and xavierNormal_: PyTorch's bound and std, with gain", () => {
  manualSeed(1);
  const [fanIn, fanOut] = [64 * 9, 128 * 9];
  const bound = 2 * Math.sqrt(6 / (fanIn + fanOut));
  const u = stats(init.xavierUniform_(zeros([128, 64, 3, 3]), { gain: 2 }).toArray());
  assert.ok(u.max <= bound && u.min >= -bound && u.max > 0.99 * bound);
  const n = stats(init.xavierNormal_(zeros([128, 64, 3, 3])).toArray());
  const std = Math.sqrt(2 / (fanIn + fanOut));
  assert.ok(Math.abs(n.std / std - 1) < 0.01 && Math.abs(n.mean) < 0.01 * std);
  assert.throws(() => init.xavierUniform_(zeros([4])), /fan needs at least 2 dimensions/);
});

Deno.test("truncNormal_ draws N(mean, std) within [a, b]; a cut with almost no mass is refused", () => {
  manualSeed(2);
  const s = stats(init.truncNormal_(zeros([200_000])).toArray());
  // N(0, 1) cut at +-2: std 0.8796.
  assert.ok(s.min >= -2 && s.max <= 2 && Math.abs(s.mean) < 0.01);
  assert.ok(Math.abs(s.std - 0.8796) < 0.005, `${s.std}`);
  const v = stats(
    init.truncNormal_(zeros([10_000]), { mean: 1, std: 0.02, a: 1, b: 1.04 }).toArray(),
  );
  assert.ok(v.min >= 1 && v.max <= 1.04);
  assert.throws(() => init.truncNormal_(zeros([10]), { a: 10, b: 11 }), /holds too little/);
  assert.throws(() => init.truncNormal_(zeros([10]), { a: 1, b: -1 }), /a < b/);
});

Deno.test("orthogonal_ gives orthonormal rows or columns, times gain, for 2-D and conv weights", () => {
  manualSeed(3);
  for (
    const [shape, gain] of [[[3, 5], 1], [[5, 3], 2], [[4, 2, 3, 3], 1]] as [number[], number][]
  ) {
    const w = init.orthogonal_(zeros(shape), { gain });
    const flat = w.reshape([shape[0], -1]);
    const gram = shape[0] <= flat.shape[1]
      ? flat.matmul(flat.transpose(0, 1))
      : flat.transpose(0, 1).matmul(flat);
    const g = gram.toArray(), k = gram.shape[0];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        assert.ok(
          Math.abs(g[i * k + j] - (i === j ? gain * gain : 0)) < 1e-5,
          `${shape} ${i},${j}`,
        );
      }
    }
  }
  assert.throws(() => init.orthogonal_(zeros([4])), /needs 2 or more dimensions/);
});

Deno.test("eye_ and dirac_ as PyTorch's", () => {
  assert.deepEqual([...init.eye_(zeros([3, 2])).toArray()], [1, 0, 0, 1, 0, 0]);
  assert.throws(() => init.eye_(zeros([2, 2, 2])), /only 2-D/);
  // torch.nn.init.dirac_(torch.empty(4, 2, 3), groups=2): ones at [0,0,1], [2,0,1], [1,1,1], [3,1,1].
  const d = Float64Array.from(init.dirac_(zeros([4, 2, 3]), 2).toArray());
  const ones = [...d.keys()].filter((i) => d[i] === 1);
  assert.deepEqual(ones, [1, 10, 13, 22]);
  assert.equal(d.reduce((s, v) => s + v, 0), 4);
  assert.throws(
    () => init.dirac_(zeros([3, 2, 3]), 2),
    /groups \(the second argument.*must be an integer >= 1 dividing/,
  );
});

Deno.test('model flags must be booleans: "false" from a config would switch them on', () => {
  assert.throws(
    () => models.resnet18(loose({ zeroInitResidual: "false" })),
    /zeroInitResidual must be true or false, got "false"/,
  );
  assert.throws(() => models.simpleCNN(loose({ batchNorm: 0 })), /batchNorm must be true or false/);
});
