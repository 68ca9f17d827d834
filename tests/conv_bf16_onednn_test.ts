/**
 * The bf16 convolutions that conv_bf16.c hands to oneDNN (libdnnl.so.2,
 * opened at run time; conv_bf16_onednn.c) against float64 loops over
 * bf16-rounded inputs: LITS_ONEDNN=all sends every shape oneDNN can take
 * there (16-channel blocks), the default sends the measured ones, =off
 * none. Without libdnnl (LITS_ONEDNN_LIB naming a missing file stands for
 * such a machine) the same calls run our own kernels. The numeric tests
 * are ignored, with the reason, on a CPU without AVX512_BF16.
 */
import assert from "node:assert/strict";
import { lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";
import {
  bf16Convolutions,
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

const { lib, fwd, bwdData, bwdFilter, noBf16, amx } = bf16Convolutions("conv_bf16_onednn_test");

const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

/** No groups or dilation: what the oneDNN path takes; one stride and padding for both axes. */
type Shape = Pick<Geo, "n" | "c" | "h" | "w" | "k" | "r" | "s"> & { st?: number; pad?: number };

/** The shape as conv_ref.ts's geometry. */
function geo(g: Shape): Geo {
  const { st = 1, pad = 0, ...rest } = g;
  return { ...rest, sh: st, sw: st, ph: pad, pw: pad };
}

const TOL = 1e-5; // fp32 sums against float64 ones

/** The three calls on one geometry (x_relu with a transform); checked against the reference. */
function check(g: Shape, transform: boolean, withBias: boolean, seed: number): Run {
  const G = resolve(geo(g)), hw = g.h * g.w;
  const nx = g.n * g.c * hw, ny = g.n * g.k * G.oh * G.ow, nw = g.k * g.c * g.r * g.s;
  const x = randoms(nx, seed).map((v) => Math.round(v * 1024) / 1024);
  const w = randoms(nw, seed + 3), dy = randoms(ny, seed + 5);
  const bias = withBias ? randoms(g.k, seed + 9) : null, coef = transform ? coefs(g.c) : null;
  const xt = Float64Array.from(x, (v, i) => {
    if (coef === null) return bf16(v);
    const ch = Math.floor(i / hw) % g.c;
    const u = (v - coef[ch]) * coef[g.c + ch] + coef[2 * g.c + ch];
    return bf16(u < 0 ? 0 : u);
  });
  const ref = reference(geo(g), xt, Float64Array.from(w, bf16), Float64Array.from(dy, bf16));
  if (bias) ref.y.forEach((_, i) => (ref.y[i] += bias[Math.floor(i / (G.oh * G.ow)) % g.k]));
  const y = new Float32Array(ny).fill(NaN), dx = new Float32Array(nx).fill(NaN);
  const dw = new Float32Array(nw).fill(NaN), relu = transform ? 1 : 0;
  assert.equal(fwd!(G.params, p(x), p(coef), relu, p(w), p(bias), p(y)), 0, lastError(lib));
  assert.equal(bwdData!(G.params, p(w), p(dy), p(dx)), 0, lastError(lib));
  assert.equal(bwdFilter!(G.params, p(x), p(coef), relu, p(dy), p(dw)), 0, lastError(lib));
  const tag = `${JSON.stringify(g)}${transform ? " transform" : ""}`;
  for (
    const [name, got, want] of [["y", y, ref.y], ["dx", dx, ref.dx], ["dw", dw, ref.dw]] as const
  ) {
    const e = relErr(got, want);
    assert.ok(e < TOL, `${tag} ${name}: max error ${e.toExponential(2)} of the rms`);
  }
  return { y, dx, dw };
}

// 16-channel blocks (what oneDNN takes), pixel counts off the 16-pixel
// blocks of the layout conversions, batch 1, strides 1 and 2, paddings 0
// to 3, 1x1 and 7x7; and shapes it declines (1 channel, 24 filters).
const shapes: Shape[] = [
  { n: 2, c: 16, h: 10, w: 9, k: 32, r: 3, s: 3, pad: 1 },
  { n: 1, c: 32, h: 7, w: 7, k: 16, r: 3, s: 3, st: 2, pad: 1 },
  { n: 3, c: 48, h: 5, w: 6, k: 16, r: 3, s: 3, pad: 1 },
  { n: 1, c: 16, h: 6, w: 11, k: 16, r: 3, s: 3 }, // no padding
  { n: 2, c: 16, h: 9, w: 9, k: 32, r: 3, s: 3, st: 2, pad: 2 },
  { n: 2, c: 32, h: 5, w: 7, k: 48, r: 1, s: 1 }, // 1x1
  { n: 1, c: 16, h: 19, w: 17, k: 16, r: 7, s: 7, st: 2, pad: 3 }, // 7x7 stem-like
  { n: 2, c: 32, h: 11, w: 10, k: 16, r: 5, s: 5, pad: 2 }, // 5x5 (AlexNet's second layer)
  { n: 2, c: 32, h: 17, w: 18, k: 48, r: 3, s: 3, pad: 1 }, // blocks x chunks of 256 pixels
  { n: 1, c: 1, h: 9, w: 7, k: 16, r: 3, s: 3, pad: 1 }, // 1 channel: our kernels
  { n: 2, c: 16, h: 8, w: 8, k: 24, r: 3, s: 3, pad: 1 }, // 24 filters: our kernels
];

Deno.test({
  name: "bf16 convolutions through oneDNN (LITS_ONEDNN=all) match bf16-rounded float64",
  ignore: noBf16,
  fn() {
    withEnv({ LITS_ONEDNN: "all" }, () => {
      shapes.forEach((g, i) => {
        check(g, false, i % 2 === 0, 10 + i);
        check(g, true, i % 2 === 1, 30 + i);
      });
    });
  },
});

// ResNet-50's 3x3 layers (channels, stride) with the default choice: the
// strided ones' forward and backward data and all three passes of the stride-1
// ones of 256 channels or more go to oneDNN, the rest stays ours.
// Smaller images and batches keep the float64 loops short.
const resnet: Shape[] = [
  { n: 1, c: 512, h: 4, w: 4, k: 512, r: 3, s: 3, pad: 1 },
  { n: 2, c: 256, h: 5, w: 5, k: 256, r: 3, s: 3, pad: 1 },
  { n: 2, c: 128, h: 6, w: 6, k: 128, r: 3, s: 3, pad: 1 },
  { n: 2, c: 128, h: 12, w: 12, k: 128, r: 3, s: 3, st: 2, pad: 1 },
  { n: 1, c: 256, h: 8, w: 8, k: 256, r: 3, s: 3, st: 2, pad: 1 },
  { n: 1, c: 512, h: 8, w: 8, k: 512, r: 3, s: 3, st: 2, pad: 1 },
];

Deno.test({
  name: "bf16 convolutions: ResNet-50's 3x3 layers with the default choice, deterministic",
  ignore: noBf16,
  fn() {
    withEnv({ LITS_ONEDNN: undefined }, () => {
      resnet.forEach((g, i) => {
        const a = check(g, true, true, 50 + i), b = check(g, true, true, 50 + i);
        for (const key of ["y", "dx", "dw"] as const) {
          assert.deepEqual(a[key], b[key], `${JSON.stringify(g)} ${key}: not the same bits twice`);
        }
      });
    });
  },
});

/** One 3x3 convolution's three bf16 calls in a child Deno (onednnChild). */
const child = (
  env: Record<string, string>,
  shape: Shape = { n: 2, c: 32, h: 6, w: 6, k: 32, r: 3, s: 3, pad: 1 },
) => onednnChild("bf16", geo(shape), env);

Deno.test({
  name: "bf16 convolutions: LITS_ONEDNN=off and a missing libdnnl run our own kernels",
  ignore: noBf16,
  async fn() {
    const onednn = await child({ LITS_ONEDNN: "all" });
    const off = await child({ LITS_ONEDNN: "off" });
    const missing = await child({
      LITS_ONEDNN: "all",
      LITS_ONEDNN_LIB: "/nonexistent/libdnnl.so.2",
    });
    assert.ok(!off.ran, "LITS_ONEDNN=off ran a oneDNN convolution");
    assert.ok(!missing.ran, "a missing libdnnl ran a oneDNN convolution");
    assert.deepEqual(missing.sums, off.sums, "without libdnnl, not our kernels' results");
    // Where libdnnl.so.2 is installed (and the library was built here with
    // its header), =all runs oneDNN: the same sums to fp32 rounding.
    const installed = onednnHere();
    assert.equal(onednn.ran, installed, `oneDNN ran: ${onednn.ran}, expected: ${installed}`);
    onednn.sums.forEach((v, i) => {
      const e = Math.abs(v - off.sums[i]) / Math.max(Math.abs(off.sums[i]), 1);
      assert.ok(e < 1e-4, `sum ${i}: oneDNN ${v}, ours ${off.sums[i]}`);
    });
  },
});

Deno.test({
  name: "bf16 convolutions: the default choice of oneDNN's shapes, with and without AMX",
  ignore: noBf16,
  async fn() {
    const installed = onednnHere();
    const strided = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 128,
      h: 8,
      w: 8,
      k: 128,
      r: 3,
      s: 3,
      st: 2,
      pad: 1,
    });
    const plain = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 128,
      h: 4,
      w: 4,
      k: 128,
      r: 3,
      s: 3,
      pad: 1,
    });
    const wide = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 256,
      h: 4,
      w: 4,
      k: 256,
      r: 3,
      s: 3,
      pad: 1,
    });
    // 256 channels at 16^2 (an image of 64K values): fp32 Winograd over
    // rounded operands takes it first where bf16 is vdpbf16ps.
    const winograd = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 256,
      h: 16,
      w: 16,
      k: 256,
      r: 3,
      s: 3,
      pad: 1,
    });
    // 1x1 on a 4 x 4 image: oneDNN's forward and backward data without AMX.
    const tiny = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 64,
      h: 4,
      w: 4,
      k: 128,
      r: 1,
      s: 1,
    });
    const pointwise = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 64,
      h: 8,
      w: 8,
      k: 128,
      r: 1,
      s: 1,
    });
    // 5x5 (WIDE): all three passes from 32 input channels, and with 16 the
    // forward and backward data only (our filter gradient can win there).
    const wide5 = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 32,
      h: 9,
      w: 9,
      k: 16,
      r: 5,
      s: 5,
      pad: 2,
    });
    const wide5Few = await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "" }, {
      n: 2,
      c: 16,
      h: 9,
      w: 9,
      k: 32,
      r: 5,
      s: 5,
      pad: 2,
    });
    const all = ["forward_training", "backward_data", "backward_weights"];
    // With AMX (oneDNN's kernels and our GEMM's), oneDNN takes every shape
    // but 1x1 and strided backward data, which our GEMM's tiles run faster;
    // capped below AMX (ONEDNN_MAX_CPU_ISA), it takes none: ours run tiles.
    const capped = ["ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"]
      .some((v) => /^(?!.*AMX)./i.test(Deno.env.get(v) ?? ""));
    const pick = (plain: string[], onAmx: string[]) =>
      !installed ? [] : !amx ? plain : capped ? [] : onAmx;
    assert.deepEqual(
      strided.which,
      pick(["forward_training", "backward_data"], ["forward_training", "backward_weights"]),
    );
    assert.deepEqual(plain.which, pick([], all));
    assert.deepEqual(wide.which, pick(all, all));
    assert.deepEqual(winograd.which, pick([], all));
    assert.deepEqual(pointwise.which, []);
    assert.deepEqual(tiny.which, pick(["forward_training", "backward_data"], []));
    assert.deepEqual(wide5.which, pick(all, all));
    assert.deepEqual(wide5Few.which, pick(["forward_training", "backward_data"], all));
    // On AMX, oneDNN's AMX kernels: they need channels-last activations.
    if (installed && amx && !capped) {
      for (const name of [...strided.impls, ...plain.impls, ...wide.impls]) {
        assert.match(name, /amx/, `oneDNN ran ${name} on a CPU with AMX`);
      }
    }
    // LITS_CONV_ALGO names one of our algorithms: it keeps ours.
    const g = { n: 2, c: 128, h: 8, w: 8, k: 128, r: 3, s: 3, st: 2, pad: 1 };
    assert.deepEqual((await child({ LITS_ONEDNN: "", LITS_CONV_ALGO: "gemm" }, g)).which, []);
  },
});
