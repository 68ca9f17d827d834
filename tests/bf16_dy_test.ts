/**
 * A convolution's dy held in bf16 between a batch norm's backward and the
 * convolution's (`src/tensor/ops/bf16_grad.ts`, `native/cpu/bf16_dy.c`):
 * the batch norm writes exactly its fp32 dx rounded to bf16 (RNE); the
 * convolution's backward from those bf16 values gives the same bits as from
 * the same values in fp32, on the 1x1 shapes it reads them as they are and
 * on the shapes it widens them first; in a training step under autocast
 * the gradients are the same bits with and without it (LITS_BF16_DY=off),
 * and a gradient with a second consumer is summed in fp32. Ignored, with
 * the reason, on a CPU without AVX512_BF16.
 */
import assert from "node:assert/strict";
import { autocast, functional as F, manualSeed, randn, type Tensor } from "../mod.ts";
import { lastError } from "../src/ffi/native.ts";
import { firstDifference, randoms, rounded } from "./bf16_ref.ts";
import { bf16Convolutions, coefs, type Geo, resolve } from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

const { lib, bwdData, bwdFilter, noBf16 } = bf16Convolutions("bf16_dy_test");
const ignore = noBf16 || !lib.lits_conv2d_bf16dy_takes;

const p = (x: ArrayBufferView | null) => (x === null ? null : Deno.UnsafePointer.of(x));

interface Case {
  name: string;
  g: Geo;
  /** Whether the kernels read a bf16 dy as it is (else they widen it). */
  native: boolean;
  /** A deferred transform of x in the filter gradient. */
  xform?: boolean;
}

const CASES: Case[] = [
  {
    name: "1x1 at 32^2 (tiles)",
    g: { n: 2, c: 64, h: 32, w: 32, k: 48, r: 1, s: 1 },
    native: true,
  },
  {
    name: "1x1 of small images, odd k and pixels (segmented sum)",
    g: { n: 5, c: 24, h: 9, w: 9, k: 33, r: 1, s: 1 },
    native: true,
    xform: true,
  },
  {
    name: "1x1 23x23, odd c and pixels",
    g: { n: 3, c: 17, h: 23, w: 23, k: 20, r: 1, s: 1 },
    native: true,
  },
  {
    name: "1x1 256 at 64^2 (streamed dx)",
    g: { n: 4, c: 64, h: 64, w: 64, k: 256, r: 1, s: 1 },
    native: true,
    xform: true,
  },
  {
    name: "3x3 (widened)",
    g: { n: 2, c: 8, h: 12, w: 12, k: 16, r: 3, s: 3, ph: 1, pw: 1 },
    native: false,
  },
  {
    name: "1x1 stride 2 (widened)",
    g: { n: 2, c: 16, h: 10, w: 10, k: 16, r: 1, s: 1, sh: 2, sw: 2 },
    native: false,
  },
  {
    name: "grouped 1x1 (widened)",
    g: { n: 2, c: 16, h: 9, w: 9, k: 32, r: 1, s: 1, groups: 2 },
    native: false,
  },
];

for (const t of CASES) {
  Deno.test({
    name: `conv2d backward from a bf16 dy: ${t.name}, the same bits as from its fp32 values`,
    ignore,
    fn: () => {
      const g = resolve(t.g);
      const takes = new Int32Array(1);
      assert.equal(lib.lits_conv2d_bf16dy_takes!(g.params, takes), 0, lastError(lib));
      assert.equal(takes[0], t.native ? 1 : 0, "lits_conv2d_bf16dy_takes");
      const x = randoms(g.n * g.c * g.h * g.w, 3);
      const w = randoms(g.k * (g.c / g.groups) * g.r * g.s, 5);
      const { half, wide } = rounded(randoms(g.n * g.k * g.oh * g.ow, 7));
      const coef = t.xform ? coefs(g.c) : null;
      const relu = t.xform ? 1 : 0;
      const dx32 = new Float32Array(x.length).fill(NaN), dx16 = dx32.slice();
      const dw32 = new Float32Array(w.length).fill(NaN), dw16 = dw32.slice();
      assert.equal(bwdData!(g.params, p(w), p(wide), p(dx32)), 0, lastError(lib));
      assert.equal(
        lib.lits_conv2d_backward_data_bf16dy_f32!(g.params, p(w), p(half), p(dx16)),
        0,
        lastError(lib),
      );
      assert.equal(bwdFilter!(g.params, p(x), p(coef), relu, p(wide), p(dw32)), 0, lastError(lib));
      assert.equal(
        lib.lits_conv2d_backward_filter_bf16dy_f32!(
          g.params,
          p(x),
          p(coef),
          relu,
          p(half),
          p(dw16),
        ),
        0,
        lastError(lib),
      );
      assert.equal(firstDifference(dx16, dx32), -1, "dx");
      assert.equal(firstDifference(dw16, dw32), -1, "dW");
      assert.ok(dx32.every(Number.isFinite) && dw32.every(Number.isFinite));
    },
  });
}

/** n, c, hw: small and odd; streamed with unaligned channel starts. */
const BN_CASES = [[2, 3, 49], [3, 5, 279621]] as const;

for (const [n, c, hw] of BN_CASES) {
  for (const masked of [false, true]) {
    Deno.test({
      name: `batchnorm2d backward writing dx in bf16 [${n}, ${c}, ${hw}]${
        masked ? " with a ReLU's mask" : ""
      }: fp32's dx rounded, the same parameter gradients`,
      ignore,
      fn: () => {
        const len = n * c * hw;
        const x = randoms(len, 11), dy = randoms(len, 13), gamma = randoms(c, 17);
        const mean = randoms(c, 19).map((v) => v / 8),
          invstd = randoms(c, 23).map((v) => 1 + v / 4);
        const mask = masked ? coefs(c) : null;
        const dx32 = new Float32Array(len), dx16 = new Uint16Array(len).fill(0xffff);
        const [dg32, db32, dg16, db16] = [0, 1, 2, 3].map(() => new Float32Array(c));
        const tail = (dx: ArrayBufferView, dg: Float32Array, db: Float32Array) =>
          [p(gamma), p(mean), p(invstd), p(dx), p(dg), p(db), n, c, hw, 1e-5] as const;
        const st32 = mask
          ? lib.lits_batchnorm2d_backward_relu_f32!(p(x), p(dy), p(mask), ...tail(dx32, dg32, db32))
          : lib.lits_batchnorm2d_backward_f32(p(x), p(dy), ...tail(dx32, dg32, db32));
        assert.equal(st32, 0, lastError(lib));
        assert.equal(
          lib.lits_batchnorm2d_backward_bf16dx_f32!(
            p(x),
            p(dy),
            p(mask),
            ...tail(dx16, dg16, db16),
          ),
          0,
          lastError(lib),
        );
        const { half } = rounded(dx32);
        const at = half.findIndex((v, i) => v !== dx16[i]);
        assert.equal(at, -1, at < 0 ? "" : `dx[${at}]: ${dx16[at]} against ${half[at]}`);
        assert.equal(firstDifference(dg16, dg32), -1, "dgamma");
        assert.equal(firstDifference(db16, db32), -1, "dbeta");
      },
    });
  }
}

Deno.test({
  name: "bf16 dy: bad arguments are refused with the function's name",
  ignore,
  fn: () => {
    const y = new Float32Array(4), h = new Uint16Array(4);
    assert.notEqual(lib.lits_bf16_widen_f32!(p(h), p(y), -1), 0);
    assert.match(lastError(lib), /lits_bf16_widen_f32: n=-1/);
    assert.notEqual(lib.lits_bf16_widen_f32!(null, p(y), 4), 0);
    const g = resolve({ n: 1, c: 2, h: 2, w: 2, k: 2, r: 1, s: 1 });
    assert.notEqual(lib.lits_conv2d_backward_data_bf16dy_f32!(g.params, p(y), null, p(y)), 0);
    assert.match(lastError(lib), /lits_conv2d_backward_data_bf16dy_f32: weight, dy or dx is NULL/);
    assert.notEqual(lib.lits_conv2d_bf16dy_takes!(g.params, null), 0);
    const bad = resolve({ n: 1, c: 3, h: 2, w: 2, k: 2, r: 1, s: 1, groups: 2 });
    assert.notEqual(
      lib.lits_conv2d_backward_filter_bf16dy_f32!(bad.params, p(y), null, 0, p(h), p(y)),
      0,
    );
    assert.match(lastError(lib), /lits_conv2d_backward_filter_bf16dy_f32/);
    assert.notEqual(
      lib.lits_batchnorm2d_backward_bf16dx_f32!(
        p(y),
        p(y),
        null,
        null,
        p(y),
        p(y),
        null,
        null,
        null,
        1,
        1,
        4,
        1e-5,
      ),
      0,
    );
    assert.match(lastError(lib), /lits_batchnorm2d_backward_bf16dx_f32: dx is NULL/);
  },
});

/**
 * conv1x1 -> batch norm -> ReLU (with `relu`) -> conv1x1 under autocast;
 * with `second`, the first convolution's output also feeds the loss
 * directly. Returns the parameters' gradients and the first convolution's
 * output gradient.
 */
function step(second: boolean, relu = true) {
  const x = randn([2, 16, 12, 12], { requiresGrad: true });
  const w1 = randn([32, 16, 1, 1], { requiresGrad: true });
  const w2 = randn([8, 32, 1, 1], { requiresGrad: true });
  const gamma = randn([32], { requiresGrad: true }), beta = randn([32], { requiresGrad: true });
  const act = relu ? F.relu : (t: Tensor) => t;
  const y = autocast("bfloat16", () => F.conv2d(x, w1));
  y.retainGrad();
  const out = autocast(
    "bfloat16",
    () => F.conv2d(act(F.batchNorm(y, null, null, gamma, beta, { training: true })), w2),
  );
  let loss = out.square().mean();
  if (second) loss = loss.add(y.mean());
  loss.backward();
  return {
    grads: [x, w1, w2, gamma, beta].map((t) => t.grad!.toArray() as Float32Array),
    dy: y.grad!.toArray() as Float32Array,
  };
}

/** Whether every value is a bf16 (its low 16 bits zero). */
const allBf16 = (v: Float32Array) => new Uint32Array(v.buffer).every((b) => (b & 0xffff) === 0);

/** step(second, relu) with the same random values, LITS_BF16_DY set to env. */
const seeded = (env: string | undefined, second: boolean, relu = true) =>
  withEnv({ LITS_BF16_DY: env }, () => {
    manualSeed(41);
    return step(second, relu);
  });

for (const relu of [true, false]) {
  Deno.test({
    name: `bf16 dy in a training step (${
      relu ? "a ReLU's mask applied in the batch norm's backward" : "no ReLU"
    }): the same gradients, and the batch norm's dx held in bf16`,
    ignore,
    fn: () => {
      const off = seeded("off", false, relu), on = seeded(undefined, false, relu);
      assert.ok(allBf16(on.dy), "the convolution's dy was not held in bf16");
      assert.ok(!allBf16(off.dy), "LITS_BF16_DY=off: dy in fp32");
      off.grads.forEach((g, i) => assert.equal(firstDifference(on.grads[i], g), -1, `grad ${i}`));
    },
  });
}

Deno.test({
  name: "bf16 dy with a second consumer: the gradients summed in fp32, as close as bf16 allows",
  ignore,
  fn: () => {
    const off = seeded("off", true), on = seeded(undefined, true);
    assert.ok(!allBf16(on.dy), "the sum of the two gradients is fp32");
    off.grads.forEach((g, i) => {
      let e = 0, r = 0;
      g.forEach((
        v,
        j,
      ) => (e = Math.max(e, Math.abs(v - on.grads[i][j])), r = Math.max(r, Math.abs(v))));
      assert.ok(e <= 1e-2 * r, `grad ${i}: ${e} of ${r}`);
    });
  },
});
