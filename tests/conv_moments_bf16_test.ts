/**
 * A convolution's output moments under bf16 autocast
 * (`lits_conv2d_forward_moments_bf16_f32`, native/cpu/conv_bf16.c and the
 * bf16 GEMM's micro-kernels, bf16_gemm.c): the y of the plain bf16 forward,
 * bit for bit; per channel the mean and M2 of y against float64 sums,
 * gathered as the micro-kernels write y (1x1 layers of one and several
 * images a tile, edge rows and columns, a K of several passes, groups, a
 * mean hundreds of standard deviations from zero, a transformed input) or by
 * a pass over y (a bias, 3x3 layers, oneDNN's small images, more threads
 * than one thread's tiles); gathered, the same bits for 1, 2 and 3 threads; the bad calls; and ResNet-50's training
 * step under autocast, every batch norm's statistics from its convolution's
 * moments as from the pass.
 */
import assert from "node:assert/strict";
import { autocast, manualSeed, models, randn, scope, tensor, zeros } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { assertBits, countCalls } from "./helpers.ts";
import { bf16Convolutions } from "./conv_ref.ts";
import {
  assertRefusesBadCalls,
  assertSameForThreads,
  checkingEachLayer,
  loss,
  type MomentsCase,
  momentsReference,
} from "./moments_ref.ts";

const lib = cpuLib();
const ignore = bf16Convolutions("conv_moments_bf16_test").noBf16 ||
  lib.lits_conv2d_forward_moments_bf16_f32 === null;
const ptr = (a: Float64Array) => Deno.UnsafePointer.of(a);

/** (offset: 1 is added to the weights too.) */
interface Case extends MomentsCase {
  groups?: number;
  bias?: boolean;
  /** Taken by a pass over y, not gathered. */
  pass?: boolean;
}

const cases: Case[] = [
  { name: "1x1, 64 -> 37 channels (edge rows), 16 x 16", n: 3, c: 64, h: 16, w: 16, k: 37, r: 1 },
  { name: "1x1, 29 x 29 (edge columns)", n: 3, c: 8, h: 29, w: 29, k: 20, r: 1 },
  {
    name: "1x1, batch 1 (more threads than one thread's tiles: a pass)",
    n: 1,
    c: 8,
    h: 29,
    w: 29,
    k: 20,
    r: 1,
    pass: true,
  },
  {
    name: "1x1, 64 x 64 (streamed rows), transformed input",
    n: 3,
    c: 32,
    h: 64,
    w: 64,
    k: 48,
    r: 1,
    transformed: true,
  },
  { name: "1x1, 4 x 4 (oneDNN's: a pass)", n: 9, c: 24, h: 4, w: 4, k: 30, r: 1, pass: true },
  { name: "1x1, 600 channels (two K passes)", n: 2, c: 600, h: 8, w: 8, k: 40, r: 1 },
  {
    name: "1x1 stride 2 (tiles of several images), mean hundreds of standard deviations from zero",
    n: 12,
    c: 512,
    h: 16,
    w: 16,
    k: 16,
    r: 1,
    stride: 2,
    offset: 100,
  },
  { name: "1x1 in 4 groups", n: 2, c: 32, h: 12, w: 12, k: 64, r: 1, groups: 4 },
  {
    name: "1x1 with a bias (a pass)",
    n: 2,
    c: 16,
    h: 10,
    w: 10,
    k: 24,
    r: 1,
    bias: true,
    pass: true,
  },
  { name: "3x3 (a pass)", n: 2, c: 64, h: 20, w: 20, k: 64, r: 3, pad: 1, offset: 20, pass: true },
];

interface Run {
  y: Float32Array;
  plain: Float32Array;
  moments: Float64Array;
}

/** The bf16 moments forward and the plain bf16 forward on the same inputs. */
function run(c: Case): Run {
  return scope(() => {
    manualSeed(5);
    const s = c.stride ?? 1, p = c.pad ?? 0, g = c.groups ?? 1;
    const x = randn([c.n, c.c, c.h, c.w]).add(c.offset ?? 0);
    // (bf16 keeps 8 bits: x = 1e4 + noise would round to a constant.)
    const w = randn([c.k, c.c / g, c.r, c.r]).mul(0.2).add(c.offset ? 1 : 0);
    const coef = c.transformed ? randn([3 * c.c]).abs().add(0.2) : null;
    const bias = c.bias ? randn([c.k]) : null;
    const oh = Math.floor((c.h + 2 * p - c.r) / s) + 1,
      ow = Math.floor((c.w + 2 * p - c.r) / s) + 1;
    const y = zeros([c.n, c.k, oh, ow]), plain = zeros([c.n, c.k, oh, ow]);
    const params = new Int32Array([c.n, c.c, c.h, c.w, c.k, c.r, c.r, s, s, p, p, 1, 1, g]);
    const moments = new Float64Array(2 * c.k);
    const args = [x.ptr, coef?.ptr ?? null, coef ? 1 : 0, w.ptr, bias?.ptr ?? null] as const;
    const st = lib.lits_conv2d_forward_moments_bf16_f32!(params, ...args, y.ptr, ptr(moments));
    assert.equal(st, 0, lastError(lib));
    assert.equal(lib.lits_conv2d_forward_bf16_f32!(params, ...args, plain.ptr), 0);
    return { y: y.toArray() as Float32Array, plain: plain.toArray() as Float32Array, moments };
  });
}

for (const c of cases) {
  Deno.test({
    name: `bf16 conv moments: ${c.name}: the plain bf16 forward's y, float64's moments`,
    ignore,
    fn() {
      const { y, plain, moments } = run(c);
      assertBits(y, plain, "y");
      const want = momentsReference(y, c.n, c.k);
      for (let ch = 0; ch < c.k; ch++) {
        const [m, q] = [moments[2 * ch], moments[2 * ch + 1]];
        const [wm, wq] = [want[2 * ch], want[2 * ch + 1]];
        const std = Math.sqrt(wq / (y.length / c.k));
        const what = `channel ${ch}: mean ${m} vs ${wm}, M2 ${q} vs ${wq}`;
        // Gathered: fp32 differences from the tile's first value, summed in
        // double per write; the pass: float chunk sums (batchnorm.c).
        const [tm, tq] = c.pass ? [1e-5, 1e-6] : [1e-6, 1e-9];
        assert.ok(Math.abs(m - wm) <= tm * std + tq * Math.abs(wm), what);
        assert.ok(Math.abs(q - wq) <= tm * wq, what);
      }
    },
  });
}

Deno.test({
  name: "bf16 conv moments: a NaN in x reaches the moments of the channels it reaches",
  ignore,
  fn() {
    scope(() => {
      const x = randn([2, 8, 6, 6]), w = randn([5, 8, 1, 1]);
      const bad = tensor((x.toArray() as Float32Array).map((v, i) => i === 40 ? NaN : v), [
        ...x.shape,
      ]);
      const y = zeros([2, 5, 6, 6]), m = new Float64Array(10);
      const params = new Int32Array([2, 8, 6, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
      const f = lib.lits_conv2d_forward_moments_bf16_f32!;
      assert.equal(f(params, bad.ptr, null, 0, w.ptr, null, y.ptr, ptr(m)), 0);
      assert.ok(m.every((v, i) => i % 2 === 0 ? Number.isNaN(v) : true), `${m}`);
    });
  },
});

Deno.test({
  name: "bf16 conv moments: gathered, the same bits with 1, 2 and 3 threads",
  ignore,
  fn() {
    assertSameForThreads(cases.filter((c) => !c.pass), run);
  },
});

Deno.test({
  name: "bf16 conv moments: bad calls are refused with a message, moments untouched",
  ignore,
  fn() {
    scope(() => assertRefusesBadCalls(GATHER[0]));
  },
});

/** The bf16 gathering forwards: of an fp32 x, and of a residual block's output held as bf16. */
const GATHER = ["lits_conv2d_forward_moments_bf16_f32", "lits_conv2d_forward_bf16x_f32"];
const FROM = ["lits_batchnorm2d_stats_from_moments_f32"];

Deno.test({
  name:
    "bf16 conv moments: ResNet-50's training step under autocast takes them at every batch norm",
  ignore,
  fn() {
    manualSeed(3);
    const net = models.resnet50({ inChannels: 1, numClasses: 3 });
    const x = randn([4, 1, 64, 64]), labels = tensor(new Int32Array([0, 2, 1, 0]), [4]);
    const state = new Map([...net.stateDict()].map(([k, v]) => [k, v.clone().keep()]));
    const step = () => autocast("bfloat16", () => loss(net, x, labels));
    const [[[got, layers], gathered], from] = countCalls(
      FROM,
      () => countCalls(GATHER, () => checkingEachLayer(GATHER, step)),
    );
    assert.deepEqual([layers, gathered, from], [53, 53, 53], "checked, gathered, used");
    assert.ok(Number.isFinite(got), `loss ${got}`);
    // Not the loss against the pass's: at batch 4 and 64 x 64, bf16's rounding
    // makes this loss move by percents when one batch norm's statistics move
    // by 1e-7 (float64 moments scaled by 1 + 1e-7: 1.778 -> 1.830).
    net.loadStateDict(state);
    const was = setFusion(false); // plain ops: the statistics pass
    try {
      assert.equal(countCalls(GATHER, step)[1], 0);
    } finally {
      setFusion(was);
    }
  },
});
