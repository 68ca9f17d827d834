/**
 * A convolution's output moments for the batch norm in training that reads
 * it (`lits_conv2d_forward_moments_f32`, native/cpu/conv_moments.c;
 * `lits_batchnorm2d_stats_from_moments_f32`; src/tensor/ops/batch_moments.ts):
 * the same y as the plain forward; per channel the mean and M2 of y against
 * float64 sums, gathered as y is written by the packed GEMM (1x1 layers,
 * strided or not, im2col tiles; edge rows and columns; a mean 10^4 standard
 * deviations from zero; a transformed input and a bias) and by the stem
 * kernel (rows of a partial last block, channels not a multiple of its 8),
 * or by a pass over y (Winograd F(4x4) and F(2x2)); gathered, the same
 * bits for 1, 2 and 3 threads; batch statistics from them
 * as from the pass; the bad calls; and the models that use it (ResNet,
 * Sequential) against the statistics pass.
 */
import assert from "node:assert/strict";
import {
  functional as F,
  manualSeed,
  models,
  nn,
  randn,
  scope,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { STATUS } from "../src/ffi/codes.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { withMoments } from "../src/tensor/ops/batch_moments.ts";
import { assertBits, AVX512, countCalls, withEnv } from "./helpers.ts";
import {
  assertRefusesBadCalls,
  assertSameForThreads,
  checkingEachLayer,
  loss,
  type MomentsCase,
  momentsReference,
} from "./moments_ref.ts";

const lib = cpuLib();
const ptr = (a: Float64Array) => Deno.UnsafePointer.of(a);

/** (transformed: with a bias too.) */
interface Case extends MomentsCase {
  /** Gathered as y is written (on AVX-512 CPUs), not by a pass over y. */
  gathered: boolean;
  /** Set while it runs (the native side reads these on every call). */
  env?: Record<string, string>;
}

const cases: Case[] = [
  {
    name: "1x1, 64 -> 37 channels (edge rows)",
    n: 3,
    c: 64,
    h: 16,
    w: 16,
    k: 37,
    r: 1,
    gathered: true,
  },
  {
    name: "1x1, batch 1, one input channel, 29 x 29 (edge columns)",
    n: 1,
    c: 1,
    h: 29,
    w: 29,
    k: 20,
    r: 1,
    gathered: true,
  },
  {
    name: "1x1 stride 2, mean far from zero",
    n: 4,
    c: 24,
    h: 16,
    w: 16,
    k: 16,
    r: 1,
    stride: 2,
    offset: 1e4,
    gathered: true,
  },
  {
    name: "5x5 im2col tiles, transformed input, bias",
    n: 2,
    c: 6,
    h: 16,
    w: 32,
    k: 13,
    r: 5,
    pad: 2,
    transformed: true,
    gathered: true,
  },
  {
    name: "3x3 Winograd F(4x4), 30 x 34 (a pass)",
    n: 2,
    c: 64,
    h: 30,
    w: 34,
    k: 64,
    r: 3,
    pad: 1,
    offset: 20,
    gathered: false,
  },
  {
    name: "3x3 Winograd F(2x2) (a pass)",
    n: 2,
    c: 64,
    h: 32,
    w: 32,
    k: 64,
    r: 3,
    pad: 1,
    env: { LITS_WINOGRAD_TILE: "2" },
    gathered: false,
  },
  {
    name: "7x7 stride-2 stem, one input channel, 19 columns, 13 channels (rows gathered)",
    n: 2,
    c: 1,
    h: 40,
    w: 38,
    k: 13,
    r: 7,
    stride: 2,
    pad: 3,
    offset: 50,
    gathered: true,
  },
];

interface Run {
  y: Float32Array;
  plain: Float32Array;
  moments: Float64Array;
}

/** The moments forward and the plain one on the same inputs. */
function run(c: Case, nan = false): Run {
  return withEnv(c.env ?? {}, () =>
    scope(() => {
      manualSeed(5);
      const s = c.stride ?? 1, p = c.pad ?? 0;
      let x = randn([c.n, c.c, c.h, c.w]).add(c.offset ?? 0);
      if (nan) {
        x = tensor((x.toArray() as Float32Array).map((v, i) => i === 7 ? NaN : v), [...x.shape]);
      }
      const w = randn([c.k, c.c, c.r, c.r]).mul(0.2);
      const coef = c.transformed ? randn([3 * c.c]).abs().add(0.2) : null;
      const bias = c.transformed ? randn([c.k]) : null;
      const oh = Math.floor((c.h + 2 * p - c.r) / s) + 1,
        ow = Math.floor((c.w + 2 * p - c.r) / s) + 1;
      const y = zeros([c.n, c.k, oh, ow]), plain = zeros([c.n, c.k, oh, ow]);
      const params = new Int32Array([c.n, c.c, c.h, c.w, c.k, c.r, c.r, s, s, p, p, 1, 1, 1]);
      const moments = new Float64Array(2 * c.k);
      const args = [x.ptr, coef?.ptr ?? null, coef ? 1 : 0, w.ptr, bias?.ptr ?? null] as const;
      assert.equal(lib.lits_conv2d_forward_moments_f32!(params, ...args, y.ptr, ptr(moments)), 0);
      assert.equal(lib.lits_conv2d_forward_f32(params, ...args, plain.ptr), 0);
      return {
        y: y.toArray() as Float32Array,
        plain: plain.toArray() as Float32Array,
        moments,
      };
    }));
}

for (const c of cases) {
  Deno.test(`conv moments: ${c.name}: the plain forward's y, float64's moments`, () => {
    const { y, plain, moments } = run(c);
    assertBits(y, plain, "y");
    const want = momentsReference(y, c.n, c.k);
    // The GEMM's double sums are far closer than the pass's float chunk sums.
    const tight = c.gathered && AVX512;
    for (let ch = 0; ch < c.k; ch++) {
      const [m, q] = [moments[2 * ch], moments[2 * ch + 1]];
      const [wm, wq] = [want[2 * ch], want[2 * ch + 1]];
      const std = Math.sqrt(wq / (y.length / c.k));
      const what = `channel ${ch}: mean ${m} vs ${wm}, M2 ${q} vs ${wq}`;
      const err = tight ? 1e-10 * (std + Math.abs(wm)) : 1e-5 * std + 1e-6 * Math.abs(wm);
      assert.ok(Math.abs(m - wm) <= err, what);
      assert.ok(Math.abs(q - wq) <= (tight ? 1e-10 : 1e-5) * wq, what);
    }
  });
}

Deno.test("conv moments: a NaN in x reaches the moments of the channels it reaches", () => {
  for (const c of [cases[0], cases[4], cases[5], cases[6]]) {
    const { y, plain, moments } = run(c, true);
    assertBits(y, plain, c.name);
    const want = momentsReference(y, c.n, c.k);
    want.forEach((v, i) =>
      assert.equal(Number.isNaN(moments[i]), Number.isNaN(v), `${c.name} ${i}`)
    );
    assert.ok(moments.some(Number.isNaN), c.name);
  }
});

// Gathered moments: tiles laid out as for one thread. (A pass's y need not
// be: the CPU kernels are deterministic for a given thread count, and
// Winograd's blocks follow it; with OpenBLAS's GEMMs for its planes, as on
// AMD below 128 channels, their last bits move with it.)
Deno.test("conv moments: gathered, the same bits with 1, 2 and 3 threads", () => {
  assertSameForThreads(cases.filter((c) => c.gathered), run);
});

/** Batch statistics of x [n, c, hw] by the pass and from moments: outputs of each. */
function statistics(x: Tensor, moments: Float64Array | null): Float32Array[] {
  const [n, c] = x.shape, hw = x.numel() / (n * c);
  const outs = [zeros([c]).add(0.5), zeros([c]).add(2), zeros([c]), zeros([c]), zeros([3 * c])];
  const [rm, rv, sm, si, coef] = outs;
  const gamma = randn([c]), beta = randn([c]);
  const tail = [gamma.ptr, beta.ptr, rm.ptr, rv.ptr, sm.ptr, si.ptr, coef.ptr, n, c, hw] as const;
  const st = moments
    ? lib.lits_batchnorm2d_stats_from_moments_f32!(ptr(moments), ...tail, 0.1, 1e-5)
    : lib.lits_batchnorm2d_stats_f32!(x.ptr, ...tail, 0.1, 1e-5);
  assert.equal(st, 0, lastError(lib));
  return outs.map((t) => t.toArray() as Float32Array);
}

Deno.test("batch statistics from moments: the pass's bits from a pass's moments, close from the GEMM's", () => {
  for (const c of [cases[5], cases[0], cases[2], cases[4]]) {
    scope(() => {
      const { y, moments } = run(c);
      const oh = y.length / (c.n * c.k);
      const x = tensor(y, [c.n, c.k, oh]);
      manualSeed(1);
      const want = statistics(x, null);
      manualSeed(1);
      const got = statistics(x, moments);
      const names = ["running mean", "running var", "mean", "invstd", "coef"];
      got.forEach((g, i) => {
        if (!c.gathered || !AVX512) return assertBits(g, want[i], `${c.name}: ${names[i]}`);
        g.forEach((v, j) => {
          const tol = 1e-5 * Math.max(1, Math.abs(want[i][j]));
          assert.ok(
            Math.abs(v - want[i][j]) <= tol,
            `${c.name}: ${names[i]} ${j}: ${v} vs ${want[i][j]}`,
          );
        });
      });
    });
  }
});

Deno.test("conv moments and statistics from moments: bad calls are refused with a message", () => {
  scope(() => {
    assertRefusesBadCalls("lits_conv2d_forward_moments_f32");

    const g = lib.lits_batchnorm2d_stats_from_moments_f32!;
    const [sm, si, coef] = [zeros([2]), zeros([2]), zeros([6])];
    const moments = new Float64Array([1, 8, 2, -1e-9]); // M2 rounded below zero: variance 0
    const out = [sm.ptr, si.ptr, coef.ptr] as const;
    assert.equal(g(null, null, null, null, null, ...out, 4, 2, 4, 0.1, 1e-5), STATUS.errArgument);
    assert.match(lastError(lib), /moments, coef, save_mean or save_invstd is NULL/);
    assert.equal(
      g(ptr(moments), null, null, null, null, ...out, 1, 2, 1, 0.1, 1e-5),
      STATUS.errArgument,
    );
    assert.match(lastError(lib), /more than 1 value per channel/);
    assert.equal(
      g(ptr(moments), null, null, null, null, ...out, 4, 2, 4, NaN, 1e-5),
      STATUS.errArgument,
    );
    assert.match(lastError(lib), /momentum is NaN/);
    assert.equal(g(ptr(moments), null, null, null, null, ...out, 4, 2, 4, 0.1, 1e-5), 0);
    const invstd = si.toArray() as Float32Array;
    assert.ok(Math.abs(invstd[0] - 1 / Math.sqrt(0.5 + 1e-5)) < 1e-6, `${invstd}`);
    assert.ok(Math.abs(invstd[1] - 1 / Math.sqrt(1e-5)) < 1e-2, `${invstd}`);
  });
});

const GATHER = ["lits_conv2d_forward_moments_f32"];
const FROM = ["lits_batchnorm2d_stats_from_moments_f32"];
const PASS = ["lits_batchnorm2d_stats_f32"];

Deno.test("ResNet-50 training: every batch norm takes its convolution's moments, as the pass would", () => {
  manualSeed(3);
  const net = models.resnet50({ inChannels: 1, numClasses: 3 });
  // 64 x 64: the last stage's batch norms see 16 values a channel (with 2, as at
  // 32 x 32 and batch 2, any rounding decides the loss). The gradients of so
  // small a batch swing with any rounding (OpenBLAS's convolutions against
  // ours: 20% and more), so each layer's statistics are checked instead.
  const x = randn([4, 1, 64, 64]), labels = tensor(new Int32Array([0, 2, 1, 0]), [4]);
  const state = new Map([...net.stateDict()].map(([k, v]) => [k, v.clone().keep()]));
  const [[[got, layers], gathered], from] = countCalls(
    FROM,
    () => countCalls(GATHER, () => checkingEachLayer(GATHER[0], () => loss(net, x, labels))),
  );
  assert.deepEqual([layers, gathered, from], [53, 53, 53], "gathered, checked, used");
  net.loadStateDict(state);
  const was = setFusion(false); // plain ops: the statistics pass
  try {
    const [want, passes] = countCalls(GATHER, () => loss(net, x, labels));
    assert.equal(passes, 0);
    assert.ok(Math.abs(got - want) <= 1e-4 * Math.abs(want), `loss ${got} vs ${want}`);
  } finally {
    setFusion(was);
  }
});

Deno.test("Sequential: a Conv2d before a BatchNorm2d in training gathers; other orders and evaluation do not", () => {
  manualSeed(4);
  const x = randn([4, 3, 12, 12]);
  const run = (net: nn.Sequential) =>
    countCalls(FROM, () => countCalls(PASS, () => scope(() => net.forward(x).toArray())));
  const conv = () => new nn.Conv2d(3, 8, 1);
  const [[a, passA], fromA] = run(new nn.Sequential(conv(), new nn.BatchNorm2d(8)));
  assert.deepEqual([fromA, passA], [1, 0]);
  const [[, passB], fromB] = run(new nn.Sequential(conv(), new nn.ReLU(), new nn.BatchNorm2d(8)));
  assert.deepEqual([fromB, passB], [0, 1]);
  const evaluated = new nn.Sequential(conv(), new nn.BatchNorm2d(8));
  evaluated.eval();
  const [, gathered] = countCalls(GATHER, () => scope(() => evaluated.forward(x).toArray()));
  assert.equal(gathered, 0);
  assert.equal((a as Float32Array).length, 4 * 8 * 144);
});

Deno.test("batch moments: a batch norm reading anything but that whole output takes the pass", () => {
  scope(() => {
    manualSeed(6);
    const x = randn([2, 3, 10, 10]), w = randn([6, 3, 1, 1]);
    const bn = (t: Tensor) =>
      F.batchNorm(t, null, null, null, null, { training: true }).toArray() as Float32Array;
    // Another tensor (here a slice of the output) keeps them unused; a second read finds none.
    const [[, pass1], from1] = countCalls(FROM, () =>
      countCalls(PASS, () => {
        const y = withMoments(() => F.conv2d(x, w, null));
        bn(y.narrow(0, 0, 1));
        const a = bn(y);
        const b = bn(y);
        assertBits(a, b, "both reads of y");
      }));
    assert.deepEqual([from1, pass1], [1, 2]);
  });
});
