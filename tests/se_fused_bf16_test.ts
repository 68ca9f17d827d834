/**
 * Squeeze-and-excitation folded into the convolutions around it in
 * evaluation under bf16 autocast (`lits.h`'s
 * lits_conv2d_forward_epilogue_pool_bf16_f32,
 * lits_squeeze_excitation_gate_bf16_f32 and
 * lits_conv2d_forward_epilogue_scaled_bf16_f32): the depthwise output the
 * bits of the fp32 kernel on bf16-rounded operands, its plane means those
 * of that output, the gate that of its two convolutions on rounded
 * operands (float64 reference), the projection the bits of the bf16
 * convolution of the product written first; EfficientNet's logits within
 * bf16's rounding of the modules under autocast, which they replace; the
 * kernels' refusals (bad arguments, LITS_BF16=off). Ignored without bf16
 * kernels (a CPU without AVX512_BF16, or the CUDA library, which has no
 * fused kernels).
 */
import assert from "node:assert/strict";
import { autocast, manualSeed, models, noGrad, randn, scope, type Tensor, tensor } from "../mod.ts";
import { conv2dBatchNormAct } from "../src/tensor/ops/conv_epilogue.ts";
import { squeezeExcitationGate } from "../src/tensor/ops/squeeze_excitation.ts";
import { bf16Unavailable } from "../src/tensor/autocast.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { bf16 } from "./bf16_ref.ts";
import {
  assertBits,
  assertNearMean,
  countCalls,
  randomEvalStats,
  testDevice,
  withEnv,
  withoutSymbols,
} from "./helpers.ts";
import { smallEfficientNet } from "./se_small_net.ts";

const POOL = "lits_conv2d_forward_epilogue_pool_bf16_f32";
const GATE = "lits_squeeze_excitation_gate_bf16_f32";
const SCALED = "lits_conv2d_forward_epilogue_scaled_bf16_f32";
const KERNELS = [POOL, GATE, SCALED];
const FP32 = [
  "lits_conv2d_forward_epilogue_pool_f32",
  "lits_squeeze_excitation_gate_f32",
  "lits_conv2d_forward_epilogue_scaled_f32",
];
const ignore = testDevice !== "cpu" || bf16Unavailable(cpuLib(), "cpu") !== null;
const bf = <T>(fn: () => T): T => autocast("bfloat16", fn);

/** The tensor with its values rounded to bf16 (kept as fp32). */
function rounded(t: Tensor): Tensor {
  return tensor(Array.from(t.toArray(), bf16), [...t.shape]);
}

Deno.test({
  name: "se fused bf16: the depthwise output is the fp32 kernel's on rounded operands, its means",
  ignore,
  fn() {
    for (
      const [shape, k, stride] of [
        [[2, 5, 37, 37], 3, 1], // rows of 37: vectors along a row
        [[3, 6, 8, 8], 3, 1], // two rows a vector
        [[2, 4, 21, 19], 5, 2],
        [[2, 3, 16, 16], 5, 2], // the channels-last kernel (rounding as it copies), then a pass
      ] as const
    ) {
      noGrad(() =>
        scope(() => {
          manualSeed(shape.reduce((a: number, b) => a + b, k));
          const ch = shape[1], x = randn([...shape]).mul(2), w = randn([ch, 1, k, k]);
          const stats = randomEvalStats(ch);
          const opts = { stride, padding: k >> 1, groups: ch };
          const n = shape[0], pooled = randn([n, ch]);
          const y = bf(() => conv2dBatchNormAct(x, w, null, opts, stats, "silu", null, { pooled }));
          assert.ok(y !== null, `${shape}: the bf16 form applies`);
          const want = conv2dBatchNormAct(rounded(x), rounded(w), null, opts, stats, "silu", null)!;
          const what = `${shape} ${k}x${k}/${stride}`;
          assertBits(y.toArray() as Float32Array, want.toArray() as Float32Array, what);
          const plain = conv2dBatchNormAct(x, w, null, opts, stats, "silu", null)!;
          assert.ok(
            (y.toArray() as Float32Array).some((v, i) => v !== plain.toArray()[i]),
            `${what}: rounded, unlike fp32`,
          );
          const yv = y.toArray() as Float32Array, plane = y.shape[2] * y.shape[3];
          const got = pooled.toArray() as Float32Array;
          for (let p = 0; p < n * ch; p++) {
            let s = 0;
            for (let j = 0; j < plane; j++) s += yv[p * plane + j];
            const mean = s / plane;
            assert.ok(Math.abs(got[p] - mean) <= 1e-5 * (Math.abs(mean) + 1), `${what}: mean ${p}`);
          }
        })
      );
    }
  },
});

Deno.test({
  name: "se fused bf16: the gate is its convolutions' on rounded operands",
  ignore,
  fn() {
    noGrad(() =>
      scope(() => {
        manualSeed(4);
        const n = 3, c = 40, sq = 10;
        const pooled = randn([n, c]);
        const fc1 = { weight: randn([sq, c, 1, 1]), bias: randn([sq]) };
        const fc2 = { weight: randn([c, sq, 1, 1]), bias: randn([c]) };
        const gate = bf(() => squeezeExcitationGate(pooled, fc1, "silu", fc2));
        assert.ok(gate !== null, "the bf16 form applies");
        const fp32 = squeezeExcitationGate(pooled, fc1, "silu", fc2)!.toArray();
        const [p, w1, b1, w2, b2] = [pooled, fc1.weight, fc1.bias, fc2.weight, fc2.bias]
          .map((t) => Array.from(t.toArray()));
        const got = gate.toArray();
        let moved = 0;
        for (let i = 0; i < n; i++) {
          const h = Array.from({ length: sq }, (_, j) => {
            let s = 0;
            for (let q = 0; q < c; q++) s += bf16(w1[j * c + q]) * bf16(p[i * c + q]);
            const v = s + b1[j];
            return bf16(v / (1 + Math.exp(-v)));
          });
          for (let ch = 0; ch < c; ch++) {
            let s = 0;
            for (let j = 0; j < sq; j++) s += bf16(w2[ch * sq + j]) * h[j];
            const want = 1 / (1 + Math.exp(-(s + b2[ch])));
            assert.ok(Math.abs(got[i * c + ch] - want) < 1e-5, `gate ${i} ${ch}`);
            moved = Math.max(moved, Math.abs(got[i * c + ch] - fp32[i * c + ch]));
          }
        }
        assert.ok(moved > 1e-4, `the operands were rounded (${moved} from fp32's gate)`);
      })
    );
  },
});

Deno.test({
  name: "se fused bf16: the projection is the bf16 convolution of the product written first",
  ignore,
  fn() {
    noGrad(() =>
      scope(() => {
        manualSeed(5);
        const x = randn([3, 24, 9, 9]), w = randn([16, 24, 1, 1]), scale = randn([3, 24]);
        const stats = randomEvalStats(16), r = randn([3, 16, 9, 9]);
        const y = bf(() => conv2dBatchNormAct(x, w, null, {}, stats, "none", r, { xScale: scale }));
        assert.ok(y !== null, "the bf16 form applies");
        const product = x.mul(scale.reshape([3, 24, 1, 1]));
        const want = bf(() => conv2dBatchNormAct(product, w, null, {}, stats, "none", r))!;
        assertBits(y.toArray() as Float32Array, want.toArray() as Float32Array, "projection");
      })
    );
  },
});

const smallNet = () => smallEfficientNet("cpu");

Deno.test({
  name: "se fused bf16: EfficientNet under autocast folds every block's SE, within bf16 rounding",
  ignore,
  fn() {
    using net = smallNet();
    const blocks = [...net.modules()].filter((m) => m instanceof models.MBConv).length;
    using x = randn([3, 1, 40, 40]);
    const forward = () =>
      noGrad(() => scope(() => (bf(() => net(x)) as Tensor).toArray() as Float32Array));
    for (const k of KERNELS) assert.equal(countCalls([k], forward)[1], blocks, k);
    assert.equal(countCalls(FP32, forward)[1], 0, "no fp32 form under autocast");
    const fused = forward();
    const modules = withoutSymbols(KERNELS, forward);
    const fp32 = noGrad(() => scope(() => (net(x) as Tensor).toArray() as Float32Array));
    // The same rounded operands but for the gate's and pool's order of sums.
    assertNearMean(fused, modules, 2e-3, "logits against the modules under autocast");
    let far = 0;
    fused.forEach((v, i) => far = Math.max(far, Math.abs(v - fp32[i])));
    assert.ok(far > 1e-4, `bf16 logits differ from fp32's (${far})`);
  },
});

Deno.test({
  name: "se fused bf16: the kernels refuse bad arguments, and run nothing with LITS_BF16=off",
  ignore,
  fn() {
    const lib = cpuLib();
    const buf = new Float32Array(64), p = Deno.UnsafePointer.of(buf);
    const gate = lib.lits_squeeze_excitation_gate_bf16_f32!;
    assert.notEqual(gate(p, p, null, p, null, p, 2, 4, 2, 4), 0);
    assert.match(lastError(lib), /act must be 0, 1, 2 or 3, got 4/);
    assert.notEqual(gate(null, p, null, p, null, p, 2, 4, 2, 3), 0);
    assert.match(lastError(lib), /pooled, w1, w2 or gate is NULL/);
    // n c h w k r s stride_h stride_w pad_h pad_w dil_h dil_w groups
    const params = new Int32Array([1, 2, 4, 4, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    const pool = lib.lits_conv2d_forward_epilogue_pool_bf16_f32!;
    assert.notEqual(pool(params, p, null, 0, p, null, null, null, null, 0, p, null), 0);
    assert.match(lastError(lib), /pooled is NULL/);
    assert.notEqual(pool(params, p, null, 0, p, null, null, null, null, 7, p, p), 0);
    assert.match(lastError(lib), /relu must be 0, 1, 2 or 3, got 7/);
    const scaled = lib.lits_conv2d_forward_epilogue_scaled_bf16_f32!;
    assert.notEqual(scaled(params, p, null, p, null, null, null, null, 0, p), 0);
    assert.match(lastError(lib), /x or x_scale is NULL/);
    params[1] = -2; // a bad geometry: the convolution's own check
    assert.notEqual(scaled(params, p, p, p, null, null, null, null, 0, p), 0);
    assert.match(lastError(lib), /lits_conv2d_forward_epilogue_scaled_bf16_f32/);
    params[1] = 2;
    withEnv({ LITS_BF16: "off" }, () => {
      assert.equal(gate(p, p, null, p, null, p, 2, 4, 2, 3), 3);
      assert.match(lastError(lib), /LITS_BF16=off.*lits_squeeze_excitation_gate_f32/);
      assert.equal(scaled(params, p, p, p, null, null, null, null, 0, p), 3);
      assert.match(lastError(lib), /lits_conv2d_forward_epilogue_scaled_f32/);
      assert.equal(pool(params, p, null, 0, p, null, null, null, null, 0, p, p), 3);
      assert.match(lastError(lib), /lits_conv2d_forward_f32/);
    });
  },
});
