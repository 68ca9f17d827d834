/**
 * The direct kernel for the forward of one-channel stride-2 convolutions
 * (ResNet's stem; native/cpu/conv_stem.c), fp32 and under bf16 rules,
 * against float64 loops: batches of one, output rows that are not
 * multiples of its 48 pixels or of 16 (and rows of fewer than 32), output
 * channels that are not multiples of its 8, every filter size up to 11,
 * padding at neither, one or both ends, a bias, the deferred batch norm and
 * ReLU applied to the input, NaN (and, under bf16 rules, infinity next to
 * the unpaired last tap). Its bits do not depend on the number of
 * threads; LITS_CONV_STEM=off (the general paths) agrees with it.
 */
import assert from "node:assert/strict";
import { manualSeed, rand, randn, type Tensor } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { assertBits, assertClose, withEnv } from "./helpers.ts";
import { bf16 } from "./bf16_ref.ts";
import { bf16Convolutions, type Geo, reference, resolve } from "./conv_ref.ts";

const lib = cpuLib();
const { noBf16 } = bf16Convolutions("conv_stem_test.ts");

interface Case {
  n: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  ph: number;
  pw: number;
  bias?: boolean;
  xf?: boolean;
}

/** The kernel's y for case g, and the float64 one of relu(T(x)) (rounded when bf16). */
function run(g: Case, seed: number, precision: "f32" | "bf16", env: Record<string, string> = {}) {
  manualSeed(seed);
  const geo: Geo = { n: g.n, c: 1, h: g.h, w: g.w, k: g.k, r: g.r, s: g.s, sh: 2, sw: 2 };
  geo.ph = g.ph, geo.pw = g.pw;
  const G = resolve(geo);
  const x = randn([g.n, 1, g.h, g.w]), w = randn([g.k, 1, g.r, g.s]);
  const b: Tensor | null = g.bias ? randn([g.k]) : null;
  const coef: Tensor | null = g.xf ? rand([3]).add(0.25) : null;
  const y = new Float32Array(g.n * g.k * G.oh * G.ow);
  const fn = precision === "f32" ? lib.lits_conv2d_forward_f32 : lib.lits_conv2d_forward_bf16_f32!;
  const st = withEnv(
    env,
    () =>
      fn(
        G.params,
        x.ptr,
        coef?.ptr ?? null,
        g.xf ? 1 : 0,
        w.ptr,
        b?.ptr ?? null,
        Deno.UnsafePointer.of(y),
      ),
  );
  assert.equal(st, 0);
  const round = precision === "bf16" ? bf16 : (v: number) => v;
  const cf = coef?.toArray() as Float32Array | undefined;
  const xt = Float64Array.from(x.toArray() as Float32Array, (v) => {
    // T(v) as the kernels compute it: (v - mean) * scale + shift, then ReLU, in fp32.
    const t = cf ? Math.fround(Math.fround(v - cf[0]) * cf[1] + cf[2]) : v;
    return round(cf ? Math.max(0, t) : t);
  });
  const wt = Float64Array.from(w.toArray() as Float32Array, round);
  const want = reference(geo, xt, wt, new Float64Array(y.length)).y;
  const bs = b?.toArray() as Float32Array | undefined;
  if (bs) want.forEach((_, i) => want[i] += bs[Math.floor(i / (G.oh * G.ow)) % g.k]);
  return { got: y, want };
}

const cases: [string, Case][] = [
  ["ResNet's stem on a small image (7x7, padding 3)", {
    n: 2,
    h: 40,
    w: 100,
    k: 16,
    r: 7,
    s: 7,
    ph: 3,
    pw: 3,
  }],
  ["one image, 13 channels, a bias, batch norm and ReLU", {
    n: 1,
    h: 21,
    w: 67,
    k: 13,
    r: 7,
    s: 7,
    ph: 3,
    pw: 3,
    bias: true,
    xf: true,
  }],
  ["5x3 filter, padding 2 and 0, rows of 18 pixels", {
    n: 3,
    h: 15,
    w: 37,
    k: 9,
    r: 5,
    s: 3,
    ph: 2,
    pw: 0,
  }],
  ["11x11 filter, no padding, rows of 49 pixels", {
    n: 2,
    h: 30,
    w: 107,
    k: 8,
    r: 11,
    s: 11,
    ph: 0,
    pw: 0,
    bias: true,
  }],
  ["1x1 filter, rows of 16 pixels", { n: 2, h: 9, w: 32, k: 20, r: 1, s: 1, ph: 0, pw: 0 }],
  ["3x3 filter, padding 1, rows of 64 pixels, 4 channels", {
    n: 2,
    h: 10,
    w: 128,
    k: 4,
    r: 3,
    s: 3,
    ph: 1,
    pw: 1,
    xf: true,
  }],
];

for (const [name, g] of cases) {
  Deno.test(`conv stem forward: ${name}`, () => {
    const { got, want } = run(g, 5, "f32");
    const scale = g.r * g.s;
    assertClose(got, want, { rtol: 1e-5, atol: 1e-5 * Math.sqrt(scale), what: JSON.stringify(g) });
  });
  Deno.test({
    name: `conv stem forward (bf16 rules): ${name}`,
    ignore: noBf16,
    fn: () => {
      // Rounded operands, products exact in fp32, sums in fp32: as close as fp32's.
      const { got, want } = run(g, 5, "bf16");
      assertClose(got, want, { rtol: 1e-5, atol: 1e-5 * Math.sqrt(g.r * g.s), what: name });
    },
  });
}

Deno.test("conv stem forward: the general paths (LITS_CONV_STEM=off) agree", () => {
  const g = cases[1][1];
  const ours = run(g, 9, "f32").got, general = run(g, 9, "f32", { LITS_CONV_STEM: "off" }).got;
  assertClose(ours, general, { rtol: 1e-5, atol: 1e-5, what: "stem against general" });
});

Deno.test("conv stem forward: the same bits with 1, 2 and 3 threads", () => {
  const g: Case = { n: 3, h: 33, w: 70, k: 24, r: 7, s: 7, ph: 3, pw: 3, xf: true };
  const before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  try {
    const [one, two, three] = [1, 2, 3].map((t) => {
      assert.equal(lib.lits_set_num_threads(t), 0);
      return run(g, 3, "f32").got;
    });
    assertBits(two, one, "1 and 2 threads");
    assertBits(three, one, "1 and 3 threads");
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
});

Deno.test("conv stem forward: NaN in the input reaches the outputs whose taps cover it", () => {
  const geo = resolve({ n: 1, c: 1, h: 16, w: 40, k: 8, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 });
  const x = new Float32Array(16 * 40).fill(1), w = new Float32Array(8 * 49).fill(0.5);
  x[5 * 40 + 9] = NaN; // row 5, column 9: outputs oy 1..4, ox 3..6
  const y = new Float32Array(8 * geo.oh * geo.ow);
  const P = Deno.UnsafePointer.of;
  assert.equal(lib.lits_conv2d_forward_f32(geo.params, P(x), null, 0, P(w), null, P(y)), 0);
  for (let oy = 0; oy < geo.oh; oy++) {
    for (let ox = 0; ox < geo.ow; ox++) {
      const covered = Math.abs(2 * oy - 3 + 3 - 5) <= 3 && Math.abs(2 * ox - 3 + 3 - 9) <= 3;
      assert.equal(Number.isNaN(y[oy * geo.ow + ox]), covered, `oy ${oy} ox ${ox}`);
    }
  }
});

Deno.test({
  name:
    "conv stem forward (bf16 rules): NaN and infinity reach only the outputs whose taps cover them",
  ignore: noBf16,
  fn() {
    // Taps go in pairs of adjacent columns; a 7x7 filter's last pairs with
    // nothing, which must not read column 2 ox + 4 (infinity there times a
    // zero weight would be NaN).
    const geo = resolve({ n: 1, c: 1, h: 16, w: 40, k: 8, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 });
    const x = new Float32Array(16 * 40).fill(1), w = new Float32Array(8 * 49).fill(0.5);
    x[5 * 40 + 9] = NaN; // outputs oy 1..4, ox 3..6
    x[12 * 40 + 20] = Infinity; // outputs oy 5..7, ox 9..11 (and ox 8's missing 50th tap)
    const y = new Float32Array(8 * geo.oh * geo.ow);
    const P = Deno.UnsafePointer.of;
    assert.equal(lib.lits_conv2d_forward_bf16_f32!(geo.params, P(x), null, 0, P(w), null, P(y)), 0);
    const covers = (oy: number, ox: number, r: number, c: number) =>
      Math.abs(2 * oy - r) <= 3 && Math.abs(2 * ox - c) <= 3;
    /** Taps of a row or column centred at u that are inside [0, n). */
    const inside = (u: number, n: number) => Math.min(u + 3, n - 1) - Math.max(u - 3, 0) + 1;
    for (let oy = 0; oy < geo.oh; oy++) {
      for (let ox = 0; ox < geo.ow; ox++) {
        const v = y[oy * geo.ow + ox], at = `oy ${oy} ox ${ox}: ${v}`;
        if (covers(oy, ox, 5, 9)) assert.ok(Number.isNaN(v), at);
        else if (covers(oy, ox, 12, 20)) assert.equal(v, Infinity, at);
        else assert.equal(v, 0.5 * inside(2 * oy, 16) * inside(2 * ox, 40), at); // exact sums
      }
    }
  },
});
