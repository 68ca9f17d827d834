/**
 * Channels-last bf16 evaluation (native/cpu/conv_nhwc_bf16.c): the
 * convolution with its post-ops against float64 loops over bf16-rounded
 * inputs (one rounding of the result to bf16), the layout conversions, and
 * the calls it must refuse. The numeric tests need oneDNN on a CPU with bf16
 * (AMX or AVX512-BF16; they are ignored, with the reason, elsewhere); the
 * refusals run everywhere.
 */
import assert from "node:assert/strict";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";
import { coefs, type Geo, reference, resolve } from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

const lib = cpuLib();
const P = (a: ArrayBufferView | null) => (a === null ? null : Deno.UnsafePointer.of(a));
const BIAS = 1, BN = 2, RESIDUAL = 4, RELU = 8;

function takes(params: Int32Array, flags: number): boolean {
  const out = new Int32Array(1);
  assert.equal(lib.lits_conv2d_nhwc_bf16_takes!(params, flags, out), 0, lastError(lib));
  return out[0] === 1;
}

const probe = resolve({ n: 1, c: 16, h: 4, w: 4, k: 16, r: 1, s: 1 }).params;
const available = lib.lits_conv2d_nhwc_bf16_takes !== null && takes(probe, 0);
if (!available) {
  console.warn(
    "conv_nhwc_bf16_test: numeric tests ignored: the chain needs libdnnl.so.2, a build " +
      "with its header, and a CPU with AVX512-BF16 or AMX",
  );
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
/** bf16 bits of v (RNE), as uint16. */
const bits = (v: number) => {
  f32[0] = bf16(v);
  return u32[0] >>> 16;
};
const widen = (b: number) => {
  u32[0] = b << 16;
  return f32[0];
};

/** A 1x1 convolution without padding, as `reference`'s y (NCHW), faster. */
function pointwiseRef(g: Geo, x: Float64Array, w: Float64Array): Float64Array {
  const G = resolve(g), ohw = G.oh * G.ow, y = new Float64Array(g.n * g.k * ohw);
  const col = new Float64Array(g.c);
  for (let i = 0; i < g.n; i++) {
    for (let q = 0; q < ohw; q++) {
      const at = Math.floor(q / G.ow) * G.sh * g.w + (q % G.ow) * G.sw;
      for (let ch = 0; ch < g.c; ch++) col[ch] = x[(i * g.c + ch) * g.h * g.w + at];
      for (let o = 0; o < g.k; o++) {
        let acc = 0;
        for (let ch = 0; ch < g.c; ch++) acc += col[ch] * w[o * g.c + ch];
        y[(i * g.k + o) * ohw + q] = acc;
      }
    }
  }
  return y;
}

/** NCHW values to bf16 NHWC words. */
function toNhwc(x: ArrayLike<number>, n: number, c: number, hw: number): Uint16Array {
  const out = new Uint16Array(n * c * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let q = 0; q < hw; q++) out[(i * hw + q) * c + ch] = bits(x[(i * c + ch) * hw + q]);
    }
  }
  return out;
}

/** bf16 NHWC words to NCHW values. */
function fromNhwc(y: Uint16Array, n: number, c: number, hw: number): Float64Array {
  const out = new Float64Array(n * c * hw);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let q = 0; q < hw; q++) out[(i * c + ch) * hw + q] = widen(y[(i * hw + q) * c + ch]);
    }
  }
  return out;
}

interface Case {
  g: Geo;
  flags: number;
  /** The residual is y's own memory (the sum made in place). */
  inPlace?: boolean;
}

/**
 * One call against relu?(T(conv + bias) + r) in float64, rounded once; its
 * output words. `prepared`: the buffer that keeps the weights between calls.
 */
function check(
  { g, flags, inPlace = false }: Case,
  seed: number,
  prepared: Uint8Array | null = null,
): Uint16Array {
  const G = resolve(g), hw = g.h * g.w, ohw = G.oh * G.ow;
  const x = randoms(g.n * g.c * hw, seed), w = randoms(g.k * g.c * g.r * g.s, seed + 1);
  const bias = flags & BIAS ? randoms(g.k, seed + 2) : null;
  const coef = flags & BN ? coefs(g.k) : null;
  const r = flags & RESIDUAL ? randoms(g.n * g.k * ohw, seed + 3) : null;
  const xb = toNhwc(x, g.n, g.c, hw), rb = r ? toNhwc(r, g.n, g.k, ohw) : null;
  const xr = fromNhwc(xb, g.n, g.c, hw); // x rounded to bf16, NCHW
  const wr = Float64Array.from(w, bf16);
  const ref = g.r === 1 && g.s === 1 && !G.ph && !G.pw
    ? pointwiseRef(g, xr, wr)
    : reference(g, xr, wr, new Float64Array(g.n * g.k * ohw)).y;
  const want = ref.map((v, i) => {
    const ch = Math.floor(i / ohw) % g.k;
    let u = v + (bias ? bias[ch] : 0);
    if (coef) u = (u - coef[ch]) * coef[g.k + ch] + coef[2 * g.k + ch];
    if (rb) u += widen(rb[Math.floor(i / (g.k * ohw)) * g.k * ohw + (i % ohw) * g.k + ch]);
    return flags & RELU && u < 0 ? 0 : u;
  });
  const y = inPlace && rb ? rb : new Uint16Array(g.n * g.k * ohw).fill(0x7fc0);
  const st = lib.lits_conv2d_nhwc_bf16!(
    G.params,
    P(xb),
    P(w),
    P(bias),
    P(coef),
    P(rb),
    flags & RELU ? 1 : 0,
    P(y),
    P(prepared),
    BigInt(prepared?.byteLength ?? 0),
  );
  assert.equal(st, 0, lastError(lib));
  const got = fromNhwc(y, g.n, g.k, ohw), out = y.slice();
  const rms = Math.sqrt(want.reduce((s, v) => s + v * v, 0) / want.length);
  want.forEach((v, i) => {
    const tol = 2 ** -8 * Math.abs(v) + 1e-5 * rms;
    if (Math.abs(got[i] - v) <= tol) return; // (the message only when it fails: 4M elements)
    assert.fail(
      `${JSON.stringify(g)} flags ${flags}${inPlace ? " in place" : ""}: element ${i} is ` +
        `${got[i]}, want ${v} (within ${tol.toExponential(2)})`,
    );
  });
  return out;
}

// 1x1 and 3x3 and 7x7, strides 1 and 2 (a 1x1 stride 2 of an even size
// leaves the last row unread), every post-op alone and together.
const cases: Case[] = [
  { g: { n: 2, c: 16, h: 6, w: 5, k: 32, r: 1, s: 1 }, flags: BN | RELU },
  { g: { n: 1, c: 32, h: 7, w: 7, k: 16, r: 3, s: 3, sh: 2, sw: 2, ph: 1, pw: 1 }, flags: BIAS },
  { g: { n: 2, c: 16, h: 8, w: 8, k: 16, r: 1, s: 1, sh: 2, sw: 2 }, flags: BN },
  { g: { n: 1, c: 16, h: 9, w: 9, k: 32, r: 3, s: 3, ph: 1, pw: 1 }, flags: BN | RESIDUAL | RELU },
  { g: { n: 1, c: 16, h: 11, w: 10, k: 16, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 }, flags: 0 },
  { g: { n: 2, c: 48, h: 5, w: 6, k: 16, r: 3, s: 3, ph: 1, pw: 1 }, flags: BIAS | BN | RELU },
  { g: { n: 1, c: 32, h: 4, w: 4, k: 32, r: 1, s: 1 }, flags: RESIDUAL | RELU },
  {
    g: { n: 2, c: 16, h: 6, w: 6, k: 48, r: 1, s: 1 },
    flags: BIAS | BN | RESIDUAL | RELU,
    inPlace: true,
  },
];

// 1x1 shapes for our own kernel (conv_nhwc_bf16_pointwise.c) where AMX is
// not used: rows of 2 KiB gathered (1024 channels), panels of 64 channels
// with 48, 32 or 16 of them used, tiles of 6 pixels with a partial last
// one, several blocks per thread, stride 2, and an output of 8 MiB
// (streamed) summed in place.
const pointwise: Case[] = [
  { g: { n: 1, c: 1024, h: 11, w: 11, k: 48, r: 1, s: 1 }, flags: BN | RESIDUAL | RELU },
  { g: { n: 2, c: 64, h: 25, w: 25, k: 64, r: 1, s: 1, sh: 2, sw: 2 }, flags: BIAS | RESIDUAL },
  { g: { n: 3, c: 96, h: 10, w: 20, k: 32, r: 1, s: 1 }, flags: BN | RELU },
  {
    g: { n: 1, c: 16, h: 128, w: 128, k: 256, r: 1, s: 1 },
    flags: BIAS | RESIDUAL | RELU,
    inPlace: true,
  },
];

Deno.test({
  name: "channels-last bf16 convolution: post-ops in fp32, one rounding, against float64",
  ignore: !available,
  fn() {
    // Our 1x1 kernel (without AMX tiles), then oneDNN's for the same shapes.
    withEnv({ LITS_AMX: "off" }, () => cases.forEach((c, i) => check(c, 100 + 10 * i)));
    withEnv({ LITS_NHWC_1X1: "onednn" }, () => cases.forEach((c, i) => check(c, 100 + 10 * i)));
  },
});

// 3x3 layers whose weights this file writes in oneDNN's layout itself
// (64 output channels to a block, and 32 at 512 channels).
const layouts: Case[] = [
  { g: { n: 2, c: 64, h: 5, w: 4, k: 128, r: 3, s: 3, ph: 1, pw: 1 }, flags: BN | RELU },
  { g: { n: 1, c: 512, h: 2, w: 3, k: 512, r: 3, s: 3, ph: 1, pw: 1 }, flags: BIAS },
];

Deno.test({
  name: "channels-last bf16 3x3 convolution: the weights written in the kernel's layout",
  ignore: !available,
  fn() {
    layouts.forEach((c, i) => {
      const ours = check(c, 500 + 10 * i);
      const reordered = withEnv({ LITS_NHWC_WEIGHTS: "onednn" }, () => check(c, 500 + 10 * i));
      assert.deepEqual(ours, reordered, "the bits of oneDNN's own reorder of the weights");
    });
  },
});

Deno.test({
  name: "channels-last bf16: weights kept between calls, remade when they change",
  ignore: !available,
  fn() {
    const bytesOut = new BigInt64Array(1);
    // Our 1x1 kernel's panels, then oneDNN's 3x3 layout written by us and by its reorder.
    const runs: [Case, Record<string, string>][] = [
      [pointwise[0], { LITS_AMX: "off" }],
      [layouts[0], {}],
      [layouts[0], { LITS_NHWC_WEIGHTS: "onednn" }],
    ];
    runs.forEach(([c, env], i) =>
      withEnv(env, () => {
        const seed = 700 + 10 * i;
        const params = resolve(c.g).params;
        assert.equal(lib.lits_conv2d_nhwc_bf16_prepared_bytes!(params, P(bytesOut)), 0);
        const prepared = new Uint8Array(Number(bytesOut[0]));
        const plain = check(c, seed);
        assert.deepEqual(check(c, seed, prepared), plain, "the call that fills the buffer");
        assert.deepEqual(check(c, seed, prepared), plain, "the call that reads it");
        // Other weights (and x) through the same buffer: check() compares them
        // with float64, so weights kept from the last call fail it.
        check(c, seed + 5, prepared);
        assert.deepEqual(check(c, seed, prepared), plain, "the first weights again");
        assert.deepEqual(check(c, seed, new Uint8Array(64)), plain, "a buffer too short");
      })
    );
    const probe = resolve(pointwise[0].g).params;
    const z = new Uint16Array(1), w = new Float32Array(1);
    const st = lib.lits_conv2d_nhwc_bf16!(probe, P(z), P(w), null, null, null, 0, P(z), P(z), -1n);
    assert.notEqual(st, 0);
    assert.match(lastError(lib), /prepared_bytes is negative/);
  },
});

Deno.test({
  name: "channels-last bf16 1x1 convolution: our kernel's tiles, blocks and streamed rows",
  ignore: !available,
  fn() {
    withEnv({ LITS_AMX: "off" }, () => pointwise.forEach((c, i) => check(c, 300 + 10 * i)));
  },
});

Deno.test({
  name: "channels-last bf16: the layout conversions (exact for bf16 values, RNE otherwise)",
  ignore: !available,
  fn() {
    const n = 2, c = 48, hw = 37; // 16 x 16 blocks through registers, and 5 pixels after
    const x = randoms(n * c * hw, 7);
    // Ties go to the even bf16: 1 + 2^-8 -> 1, 1 + 3 * 2^-8 -> 1 + 2^-6.
    x[0] = 1 + 2 ** -8, x[1] = 1 + 3 * 2 ** -8, x[2] = -0, x[3] = NaN;
    const nhwc = new Uint16Array(x.length);
    assert.equal(lib.lits_nhwc_bf16_from_nchw_f32!(P(x), n, c, hw, P(nhwc)), 0, lastError(lib));
    const want = toNhwc(x, n, c, hw);
    nhwc.forEach((v, i) => i === 3 * c || assert.equal(v, want[i], `word ${i}`)); // 3c: the NaN
    const back = new Float32Array(x.length);
    assert.equal(lib.lits_nhwc_bf16_to_nchw_f32!(P(nhwc), n, c, hw, P(back)), 0, lastError(lib));
    assert.equal(back[0], 1);
    assert.equal(back[1], 1 + 2 ** -6);
    assert.ok(Object.is(back[2], -0) && Number.isNaN(back[3]));
    for (let i = 4; i < x.length; i++) assert.equal(back[i], bf16(x[i]), `value ${i}`);
  },
});

Deno.test("channels-last bf16: bad calls fail with a message, never a crash", () => {
  const out = new Int32Array(1);
  assert.notEqual(lib.lits_conv2d_nhwc_bf16_takes!(probe, 16, out), 0);
  assert.match(lastError(lib), /flags 16/);
  assert.notEqual(lib.lits_conv2d_nhwc_bf16_takes!(probe, 0, null), 0);
  const bad = Int32Array.from(probe);
  bad[1] = -1;
  assert.notEqual(lib.lits_conv2d_nhwc_bf16_takes!(bad, 0, out), 0);
  const x = new Float32Array(3 * 4), y = new Uint16Array(12);
  assert.notEqual(lib.lits_nhwc_bf16_from_nchw_f32!(P(x), 1, 3, 4, P(y)), 0);
  assert.match(lastError(lib), /3 channels, not a multiple of 16/);
  assert.notEqual(lib.lits_nhwc_bf16_to_nchw_f32!(null, 1, 16, 4, P(x)), 0);
  // Where the chain does not run (here: LITS_ONEDNN=off; also groups, or no AMX).
  withEnv({ LITS_ONEDNN: "off" }, () => {
    assert.equal(takes(probe, BN | RELU), false);
    const xs = new Uint16Array(16 * 16), w = new Float32Array(16 * 16), ys = new Uint16Array(256);
    const st = lib.lits_conv2d_nhwc_bf16!(probe, P(xs), P(w), null, null, null, 0, P(ys), null, 0n);
    assert.notEqual(st, 0);
    assert.match(lastError(lib), /oneDNN does not run this convolution here/);
  });
  const grouped = resolve({ n: 1, c: 32, h: 4, w: 4, k: 32, r: 3, s: 3, groups: 2 }).params;
  assert.equal(takes(grouped, 0), false);
});
