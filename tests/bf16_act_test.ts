/**
 * A residual block's output held in bf16 in training under autocast
 * (`native/cpu/bf16_act.c`, `FusedStorage.half`): the block's value and
 * ReLU mask written as bf16 are fp32's rounded (RNE) and the same mask; a
 * convolution's forward (with its moments) and filter gradient from those
 * bf16 values give the same bits as from the same values in fp32, on the
 * 1x1 stride-1 shapes that read them as they are and on the shapes that
 * widen them first; in a training step of three bottlenecks the path is
 * taken (not with LITS_BF16_ACT=off), and its output and gradients are the
 * bits of the fp32 path with the block outputs rounded by hand. Ignored,
 * with the reason, on a CPU without AVX512_BF16.
 */
import assert from "node:assert/strict";
import { autocast, manualSeed, models, randn, type Tensor, tensor } from "../mod.ts";
import { lastError } from "../src/ffi/native.ts";
import { FusedStorage } from "../src/tensor/ops/fusion_storage.ts";
import { firstDifference, randoms, rounded } from "./bf16_ref.ts";
import { bf16Convolutions, coefs, type Geo, resolve } from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

const { lib, noBf16 } = bf16Convolutions("bf16_act_test");
const ignore = noBf16 || !lib.lits_fused_relu_mask_bf16_f32;

const p = (x: ArrayBufferView | null) => (x === null ? null : Deno.UnsafePointer.of(x));

/** n, c, hw: small and odd; pieces and streamed stores with odd planes. */
const VALUE_CASES = [[2, 3, 49], [2, 5, 70001]] as const;

for (const [n, c, hw] of VALUE_CASES) {
  for (const residual of ["fp32", "bf16", "fp32 with a transform"] as const) {
    Deno.test({
      name: `relu(T(x) + r) as bf16 [${n}, ${c}, ${hw}], r ${residual}: fp32's rounded, its mask`,
      ignore,
      fn: () => {
        const len = n * c * hw;
        const x = randoms(len, 11), r = rounded(randoms(len, 13));
        const xc = coefs(c), rc = residual === "fp32 with a transform" ? coefs(c) : null;
        const words = n * c * Math.ceil(hw / 16);
        const y32 = new Float32Array(len), m32 = new Uint16Array(words);
        const y16 = new Uint16Array(len).fill(0xffff), m16 = new Uint16Array(words).fill(0xffff);
        assert.equal(
          lib.lits_fused_relu_mask_f32!(p(x), p(xc), p(r.wide), p(rc), p(y32), p(m32), n, c, hw),
          0,
          lastError(lib),
        );
        const r16 = residual === "bf16";
        assert.equal(
          lib.lits_fused_relu_mask_bf16_f32!(
            p(x),
            p(xc),
            r16 ? null : p(r.wide),
            r16 ? p(r.half) : null,
            p(rc),
            p(y16),
            p(m16),
            n,
            c,
            hw,
          ),
          0,
          lastError(lib),
        );
        const at = firstDifference(y16, rounded(y32).half);
        assert.equal(at, -1, `y's byte ${at}`);
        assert.equal(firstDifference(m16, m32), -1, "mask");
        assert.ok(y16.some((v) => v !== 0) && m16.some((v) => v !== 0));
      },
    });
  }
}

interface Case {
  name: string;
  g: Geo;
  /** Whether the kernels read a bf16 x as it is (else they widen it). */
  native: boolean;
}

const CASES: Case[] = [
  {
    name: "1x1 at 64^2 (tiles, streamed y)",
    g: { n: 3, c: 64, h: 64, w: 64, k: 48, r: 1, s: 1 },
    native: true,
  },
  {
    name: "1x1 at 32^2 (tiles)",
    g: { n: 2, c: 40, h: 32, w: 32, k: 24, r: 1, s: 1 },
    native: true,
  },
  {
    name: "1x1 of small images, odd c, k and pixels (segmented sum)",
    g: { n: 5, c: 33, h: 9, w: 9, k: 21, r: 1, s: 1 },
    native: true,
  },
  {
    name: "1x1 23x23, odd c and pixels",
    g: { n: 3, c: 17, h: 23, w: 23, k: 20, r: 1, s: 1 },
    native: true,
  },
  {
    name: "1x1 stride 2 (widened)",
    g: { n: 2, c: 16, h: 10, w: 10, k: 16, r: 1, s: 1, sh: 2, sw: 2 },
    native: false,
  },
  {
    name: "3x3 (widened)",
    g: { n: 2, c: 8, h: 12, w: 12, k: 16, r: 3, s: 3, ph: 1, pw: 1 },
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
    name: `conv2d from a bf16 x: ${t.name}, the same bits as from its fp32 values`,
    ignore,
    fn: () => {
      const g = resolve(t.g);
      const takes = new Int32Array(1).fill(7);
      assert.equal(lib.lits_conv2d_bf16x_takes!(g.params, takes), 0, lastError(lib));
      assert.equal(takes[0], t.native ? 1 : 0, "lits_conv2d_bf16x_takes");
      const x = rounded(randoms(g.n * g.c * g.h * g.w, 3));
      const w = randoms(g.k * (g.c / g.groups) * g.r * g.s, 5);
      const ny = g.n * g.k * g.oh * g.ow;
      const dy = rounded(randoms(ny, 7));
      const y32 = new Float32Array(ny).fill(NaN), y16 = y32.slice(), y0 = y32.slice();
      const mo32 = new Float64Array(2 * g.k).fill(NaN), mo16 = mo32.slice();
      const moments = lib.lits_conv2d_forward_moments_bf16_f32!;
      assert.equal(
        moments(g.params, p(x.wide), null, 0, p(w), null, p(y32), p(mo32)),
        0,
        lastError(lib),
      );
      const fwd = lib.lits_conv2d_forward_bf16x_f32!;
      assert.equal(fwd(g.params, p(x.half), p(w), p(y16), p(mo16)), 0, lastError(lib));
      assert.equal(fwd(g.params, p(x.half), p(w), p(y0), null), 0, lastError(lib));
      assert.equal(firstDifference(y16, y32), -1, "y");
      assert.equal(firstDifference(y0, y32), -1, "y without moments");
      assert.equal(firstDifference(mo16, mo32), -1, "moments");
      const filter = lib.lits_conv2d_backward_filter_bf16x_f32!;
      const dw32 = new Float32Array(w.length).fill(NaN), dw16 = dw32.slice();
      const dwh32 = dw32.slice(), dwh16 = dw32.slice();
      assert.equal(
        lib.lits_conv2d_backward_filter_bf16_f32!(
          g.params,
          p(x.wide),
          null,
          0,
          p(dy.wide),
          p(dw32),
        ),
        0,
        lastError(lib),
      );
      assert.equal(filter(g.params, p(x.half), p(dy.wide), null, p(dw16)), 0, lastError(lib));
      assert.equal(
        lib.lits_conv2d_backward_filter_bf16dy_f32!(
          g.params,
          p(x.wide),
          null,
          0,
          p(dy.half),
          p(dwh32),
        ),
        0,
        lastError(lib),
      );
      assert.equal(filter(g.params, p(x.half), null, p(dy.half), p(dwh16)), 0, lastError(lib));
      assert.equal(firstDifference(dw16, dw32), -1, "dW (dy fp32)");
      assert.equal(firstDifference(dwh16, dwh32), -1, "dW (dy bf16)");
      assert.ok(y32.every(Number.isFinite) && dw32.every(Number.isFinite));
    },
  });
}

Deno.test({
  name: "bf16 activations: bad arguments are refused with the function's name",
  ignore,
  fn: () => {
    const y = new Float32Array(16), h = new Uint16Array(16), m = new Uint16Array(4);
    const mask = lib.lits_fused_relu_mask_bf16_f32!;
    assert.notEqual(mask(p(y), null, p(y), p(h), null, p(h), p(m), 1, 1, 16), 0);
    assert.match(lastError(lib), /lits_fused_relu_mask_bf16_f32: r and r16 are both given/);
    assert.notEqual(mask(p(y), null, null, null, null, null, p(m), 1, 1, 16), 0);
    assert.match(lastError(lib), /lits_fused_relu_mask_bf16_f32: x, y or mask is NULL/);
    assert.notEqual(mask(p(y), null, null, null, p(y), p(h), p(m), 1, 1, 16), 0);
    assert.match(lastError(lib), /r_coef is given without r/);
    assert.notEqual(mask(p(y), null, null, null, null, p(h), p(m), -1, 1, 16), 0);
    assert.match(lastError(lib), /lits_fused_relu_mask_bf16_f32/);
    const g = resolve({ n: 1, c: 2, h: 2, w: 2, k: 2, r: 1, s: 1 });
    assert.notEqual(lib.lits_conv2d_bf16x_takes!(g.params, null), 0);
    assert.notEqual(lib.lits_conv2d_forward_bf16x_f32!(g.params, null, p(y), p(y), null), 0);
    assert.match(lastError(lib), /lits_conv2d_forward_bf16x_f32: x, weight or y is NULL/);
    const filter = lib.lits_conv2d_backward_filter_bf16x_f32!;
    assert.notEqual(filter(g.params, p(h), p(y), p(h), p(y)), 0);
    assert.match(lastError(lib), /lits_conv2d_backward_filter_bf16x_f32: give one of dy and dy16/);
    assert.notEqual(filter(g.params, null, p(y), null, p(y)), 0);
    assert.match(lastError(lib), /lits_conv2d_backward_filter_bf16x_f32/);
    const bad = resolve({ n: 1, c: 3, h: 2, w: 2, k: 2, r: 1, s: 1, groups: 2 });
    assert.notEqual(lib.lits_conv2d_forward_bf16x_f32!(bad.params, p(h), p(y), p(y), null), 0);
    assert.match(lastError(lib), /lits_conv2d_forward_bf16x_f32/);
  },
});

/** Three bottlenecks (the first with a projection shortcut, as ResNet's stages), seeded. */
function blocks() {
  manualSeed(5);
  const b1 = new models.Bottleneck(32, 32, 1, models.downsample(32, 128, 1));
  const b2 = new models.Bottleneck(128, 32), b3 = new models.Bottleneck(128, 32);
  for (const b of [b1, b2, b3]) b.train();
  const x = randn([4, 32, 16, 16]), probe = randn([4, 128, 16, 16]);
  return { b1, b2, b3, x, probe };
}

/** t's values rounded to bf16 (RNE), as a new leaf that records its gradient. */
function roundedLeaf(t: Tensor): Tensor {
  const { wide } = rounded(t.toArray() as Float32Array);
  return tensor(wide, [...t.shape], { requiresGrad: true });
}

const bits = (t: Tensor) => t.toArray() as Float32Array;

/**
 * The three blocks trained one step under autocast, LITS_BF16_ACT on: b1's
 * and b2's outputs held as bf16 (b2's read b1's as bf16 for its residual),
 * b2's conv1 reading b1's in its forward and filter gradient.
 */
function held() {
  const { b1, b2, b3, x, probe } = blocks();
  const y1 = autocast("bfloat16", () => b1.forward(x));
  const y2 = autocast("bfloat16", () => b2.forward(y1));
  const y3 = autocast("bfloat16", () => b3.forward(y2));
  const isHeld = (t: Tensor) => t.storage instanceof FusedStorage && t.storage.heldHalf !== null;
  const wasHeld = [isHeld(y1), isHeld(y2)];
  y3.mul(probe).sum().backward();
  return { y3: bits(y3), wasHeld, b2: b2.parameters(), b3: b3.parameters(), y1Held: isHeld(y1) };
}

/**
 * The same step with fp32 activations (LITS_BF16_ACT=off) and b1's and
 * b2's outputs rounded to bf16 by hand into leaves, the gradients carried
 * across by hand: what the held path must give, bit for bit.
 */
function byHand() {
  const { b1, b2, b3, x, probe } = blocks();
  const x2 = roundedLeaf(autocast("bfloat16", () => b1.forward(x)));
  const y2 = autocast("bfloat16", () => b2.forward(x2));
  const x3 = roundedLeaf(y2);
  const y3 = autocast("bfloat16", () => b3.forward(x3));
  y3.mul(probe).sum().backward();
  y2.backward(x3.grad!);
  return { y3: bits(y3), b2: b2.parameters(), b3: b3.parameters() };
}

Deno.test({
  name:
    "bf16 activations in a training step: block outputs held as bf16, the bits of rounding them by hand",
  ignore,
  fn: () => {
    const on = withEnv({ LITS_BF16_ACT: undefined }, held);
    const ref = withEnv({ LITS_BF16_ACT: "off" }, byHand);
    assert.deepEqual(on.wasHeld, [true, true], "b1's and b2's outputs held as bf16");
    assert.ok(on.y1Held, "b1's output still held for b2's conv1 filter gradient");
    assert.equal(firstDifference(on.y3, ref.y3), -1, "b3's output");
    for (const [name, a, b] of [["b2", on.b2, ref.b2], ["b3", on.b3, ref.b3]] as const) {
      a.forEach((q, i) => {
        const at = firstDifference(q.grad!.toArray(), b[i].grad!.toArray());
        assert.equal(at, -1, `${name}'s parameter ${i}: byte ${at}`);
      });
    }
    const off = withEnv({ LITS_BF16_ACT: "off" }, held);
    assert.deepEqual(off.wasHeld, [false, false], "LITS_BF16_ACT=off");
  },
});
