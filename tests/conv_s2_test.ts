/**
 * The fp32 stride-2 3x3 convolutions (ResNet-50's downsampling 3x3 layers)
 * against float64 loops: with the default choice (oneDNN, opened at run
 * time, for 128+ channels in 16-channel blocks: conv_onednn_f32.c; their
 * filter gradient through conv_filter_outer.c; im2col + GEMM elsewhere),
 * with LITS_ONEDNN=all (every shape oneDNN can take) and
 * =off (our kernels); and without libdnnl (LITS_ONEDNN_LIB naming a missing
 * file stands for such a machine), where the same calls run our kernels.
 * Also the other fp32 shapes conv_onednn_f32.c chooses: stride-1 3x3 on
 * images under 8 columns, and kernels of 5 x 5 and more.
 */
import assert from "node:assert/strict";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { randoms } from "./bf16_ref.ts";
import {
  coefs,
  type ConvRun as Run,
  type Geo,
  onednnChild,
  onednnHere,
  reference,
  relErr,
  resolve,
} from "./conv_ref.ts";
import { withEnv } from "./helpers.ts";

const lib = cpuLib();
const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

/** A 3x3 convolution of stride 2 and padding 1 (or `pad`). */
type Shape = Pick<Geo, "n" | "c" | "h" | "w" | "k"> & { pad?: number };

function geo(g: Shape): Geo {
  const { pad = 1, ...rest } = g;
  return { ...rest, r: 3, s: 3, sh: 2, sw: 2, ph: pad, pw: pad };
}

const TOL = 1e-5; // fp32 sums against float64 ones

/** The three calls on one shape (x_relu with a transform), checked against float64. */
function check(g: Shape, transform: boolean, withBias: boolean, seed: number): Run {
  const G = resolve(geo(g)), hw = g.h * g.w;
  const nx = g.n * g.c * hw, ny = g.n * g.k * G.oh * G.ow, nw = g.k * g.c * 9;
  const x = randoms(nx, seed), w = randoms(nw, seed + 3), dy = randoms(ny, seed + 5);
  const bias = withBias ? randoms(g.k, seed + 9) : null, coef = transform ? coefs(g.c) : null;
  const xt = Float64Array.from(x, (v, i) => {
    if (coef === null) return v;
    const ch = Math.floor(i / hw) % g.c;
    const u = Math.fround((v - coef[ch]) * coef[g.c + ch] + coef[2 * g.c + ch]);
    return u < 0 ? 0 : u;
  });
  const ref = reference(geo(g), xt, w, dy);
  if (bias) ref.y.forEach((_, i) => (ref.y[i] += bias[Math.floor(i / (G.oh * G.ow)) % g.k]));
  const y = new Float32Array(ny).fill(NaN), dx = new Float32Array(nx).fill(NaN);
  const dw = new Float32Array(nw).fill(NaN), relu = transform ? 1 : 0;
  const st = [
    lib.lits_conv2d_forward_f32(G.params, p(x), p(coef), relu, p(w), p(bias), p(y)),
    lib.lits_conv2d_backward_data_f32(G.params, p(w), p(dy), p(dx)),
    lib.lits_conv2d_backward_filter_f32(G.params, p(x), p(coef), relu, p(dy), p(dw)),
  ];
  assert.deepEqual(st, [0, 0, 0], lastError(lib));
  const tag = `${JSON.stringify(g)}${transform ? " transform" : ""}`;
  for (
    const [name, got, want] of [["y", y, ref.y], ["dx", dx, ref.dx], ["dw", dw, ref.dw]] as const
  ) {
    const e = relErr(got, want);
    assert.ok(e < TOL, `${tag} ${name}: max error ${e.toExponential(2)} of the rms`);
  }
  return { y, dx, dw };
}

// Batch 1, 1 channel, odd and even sizes (off the 16-pixel blocks of the
// layout conversions), channels in 16-channel blocks and not (then ours),
// padding 0 and 2; and the ResNet-50 layers' channel counts at small sizes.
const shapes: Shape[] = [
  { n: 1, c: 1, h: 9, w: 7, k: 1 },
  { n: 2, c: 3, h: 8, w: 11, k: 5 },
  { n: 1, c: 16, h: 7, w: 7, k: 32 },
  { n: 3, c: 32, h: 10, w: 9, k: 16, pad: 0 },
  { n: 1, c: 16, h: 13, w: 6, k: 16, pad: 2 },
  { n: 2, c: 136, h: 9, w: 9, k: 120 }, // not 16-channel blocks: ours
  { n: 2, c: 128, h: 12, w: 12, k: 128 },
  { n: 1, c: 256, h: 9, w: 7, k: 256 },
  { n: 1, c: 512, h: 8, w: 8, k: 512 },
  { n: 1, c: 128, h: 33, w: 32, k: 128 }, // 17 x 16 outputs: the filter gradient too
];

for (const [label, env] of [["default", undefined], ["all", "all"], ["off", "off"]] as const) {
  Deno.test(`fp32 stride-2 3x3 convolutions (LITS_ONEDNN=${label}) match float64`, () => {
    withEnv({ LITS_ONEDNN: env }, () => {
      shapes.forEach((g, i) => {
        check(g, false, i % 2 === 0, 10 + i);
        check(g, true, i % 2 === 1, 30 + i);
      });
    });
  });
}

// The filter gradient of these layers is conv_filter_outer.c's (x's
// channel-taps gathered as its GEMM packs them), here with several chunks
// of 512 columns, and with LITS_CONV_ALGO=gemm (im2col + OpenBLAS) for
// comparison.
Deno.test("fp32 stride-2 3x3 filter gradient: outer products across chunks, and forced GEMM", () => {
  const chunked: Shape[] = [
    { n: 5, c: 128, h: 17, w: 19, k: 128 },
    { n: 3, c: 256, h: 6, w: 6, k: 140 },
  ];
  chunked.forEach((g, i) => check(g, i === 0, true, 90 + i));
  withEnv(
    { LITS_CONV_ALGO: "gemm" },
    () => chunked.forEach((g, i) => check(g, true, false, 95 + i)),
  );
});

Deno.test("fp32 stride-2 3x3 convolutions: the same bits twice (default choice)", () => {
  withEnv({ LITS_ONEDNN: undefined }, () => {
    for (const g of shapes.slice(5)) {
      const a = check(g, true, true, 70), b = check(g, true, true, 70);
      for (const key of ["y", "dx", "dw"] as const) {
        assert.deepEqual(a[key], b[key], `${JSON.stringify(g)} ${key}: not the same bits twice`);
      }
    }
  });
});

/** The three fp32 calls of one stride-2 shape in a child Deno (onednnChild). */
const child = (env: Record<string, string>) =>
  onednnChild("f32", geo({ n: 2, c: 128, h: 10, w: 10, k: 128 }), env);

Deno.test("fp32 stride-2 convolutions: LITS_ONEDNN=off and a missing libdnnl run ours", async () => {
  const chosen = await child({});
  const off = await child({ LITS_ONEDNN: "off" });
  const missing = await child({ LITS_ONEDNN_LIB: "/nonexistent/libdnnl.so.2" });
  assert.ok(!off.ran, "LITS_ONEDNN=off ran a oneDNN convolution");
  assert.ok(!missing.ran, "a missing libdnnl ran a oneDNN convolution");
  assert.deepEqual(missing.sums, off.sums, "without libdnnl, not our kernels' results");
  const installed = onednnHere();
  assert.equal(chosen.ran, installed, `oneDNN ran: ${chosen.ran}, expected: ${installed}`);
  chosen.sums.forEach((v, i) => {
    const e = Math.abs(v - off.sums[i]) / Math.max(Math.abs(off.sums[i]), 1);
    assert.ok(e < 1e-4, `sum ${i}: oneDNN ${v}, ours ${off.sums[i]}`);
  });
});

// Stride 1, 512 channels on 8 x 8 images: our kernels on every CPU (the
// backward data went to oneDNN on Intel before conv_winograd_pack.c).
Deno.test("fp32 stride-1 3x3 of 512 channels at 8 x 8: no pass on oneDNN, against float64", async () => {
  const g: Geo = { n: 1, c: 512, h: 8, w: 8, k: 512, r: 3, s: 3, ph: 1, pw: 1 };
  const want: string[] = [];
  assert.deepEqual((await onednnChild("f32", g, {})).which, want);
  const G = resolve(g);
  const x = randoms(512 * 64, 7), w = randoms(512 * 512 * 9, 8), dy = randoms(512 * 64, 9);
  const ref = reference(g, x, w, dy);
  const dx = new Float32Array(x.length).fill(NaN), dw = new Float32Array(w.length).fill(NaN);
  assert.equal(lib.lits_conv2d_backward_data_f32(G.params, p(w), p(dy), p(dx)), 0);
  assert.equal(lib.lits_conv2d_backward_filter_f32(G.params, p(x), null, 0, p(dy), p(dw)), 0);
  for (const [name, got, exact] of [["dx", dx, ref.dx], ["dw", dw, ref.dw]] as const) {
    const e = relErr(got, exact);
    // Winograd's (the default elsewhere) rounds to 1e-4 of the rms (winograd_test.ts).
    assert.ok(e < 1e-4, `${name}: max error ${e.toExponential(2)} of the rms`);
  }
});

/**
 * Every pass of g on oneDNN where it is installed (none elsewhere), and the
 * three results against float64.
 */
async function everyPassOnOnednn(g: Geo, seed: number) {
  const want = onednnHere() ? ["forward_training", "backward_data", "backward_weights"] : [];
  assert.deepEqual((await onednnChild("f32", g, {})).which, want);
  const G = resolve(g), ny = g.n * g.k * G.oh * G.ow;
  const x = randoms(g.n * g.c * g.h * g.w, seed), w = randoms(g.k * g.c * g.r * g.s, seed + 1);
  const dy = randoms(ny, seed + 2), ref = reference(g, x, w, dy);
  const y = new Float32Array(ny).fill(NaN);
  const dx = new Float32Array(x.length).fill(NaN), dw = new Float32Array(w.length).fill(NaN);
  assert.equal(lib.lits_conv2d_forward_f32(G.params, p(x), null, 0, p(w), null, p(y)), 0);
  assert.equal(lib.lits_conv2d_backward_data_f32(G.params, p(w), p(dy), p(dx)), 0);
  assert.equal(lib.lits_conv2d_backward_filter_f32(G.params, p(x), null, 0, p(dy), p(dw)), 0);
  for (
    const [name, got, exact] of [["y", y, ref.y], ["dx", dx, ref.dx], ["dw", dw, ref.dw]] as const
  ) {
    const e = relErr(got, exact);
    assert.ok(e < 1e-5, `${JSON.stringify(g)} ${name}: max error ${e.toExponential(2)} of the rms`);
  }
}

// Stride 1 on images under 8 columns (no Winograd or direct kernel there).
Deno.test("fp32 stride-1 3x3 of 64 channels at 4 x 4: every pass on oneDNN, against float64", async () => {
  await everyPassOnOnednn({ n: 2, c: 64, h: 4, w: 4, k: 64, r: 3, s: 3, ph: 1, pw: 1 }, 17);
});

// Kernels of 5 x 5 and more (conv_onednn_f32.c's WIDE), stride 1 and 2.
Deno.test("fp32 5x5 and 7x7 convolutions: every pass on oneDNN, against float64", async () => {
  await everyPassOnOnednn({ n: 2, c: 32, h: 11, w: 10, k: 16, r: 5, s: 5, ph: 2, pw: 2 }, 40);
  const g: Geo = { n: 1, c: 16, h: 13, w: 12, k: 32, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 };
  await everyPassOnOnednn(g, 50);
});
