/**
 * The CPU bf16 convolutions on geometries drawn from a seeded generator:
 * the three kernels against float64 loops over bf16-rounded operands
 * (`conv_ref.ts`), as `conv_bf16_test.ts` checks its chosen shapes. The
 * draws mix what those shapes keep apart (a deferred transform with
 * groups, dilation with uneven padding, strides that differ by axis,
 * kernels taller than wide), so that a change to one of the many paths
 * (direct, tap panels, im2col tiles, the pointwise filter gradient,
 * stride-2 gathers, depthwise, grouped, oneDNN) meets shapes nobody
 * picked for it. The same draws on every run.
 */
import assert from "node:assert/strict";
import { lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";
import {
  bf16Convolutions,
  coefs,
  type Geo,
  reference,
  relErr,
  resolve,
  transformedInput,
} from "./conv_ref.ts";

const { lib, fwd, bwdData, bwdFilter, noBf16 } = bf16Convolutions("conv_bf16_random_test");

const p = (x: Float32Array | null) => (x === null ? null : Deno.UnsafePointer.of(x));

// fp32 sums against float64 (1e-5 in conv_bf16_test.ts), with room for the
// layers this CPU sends to fp32 Winograd over rounded operands (1e-4 there).
const TOL = 2e-4;
// Multiply-adds of one geometry at most: the float64 loops stay quick.
const MAX_MACS = 4e6;

/** A 32-bit LCG: the geometries, the transform modes. */
function draws(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(a: readonly T[]): T => a[Math.floor(next() * a.length)];
  return { int, pick };
}

/** A 3x3 filter with padding 1 (ResNet's), at strides sh, sw. */
const k3 = (sh = 1, sw = 1) => ({ r: 3, s: 3, sh, sw, ph: 1, pw: 1 });

/** One geometry of a family the kernels treat apart. */
function geometry(d: ReturnType<typeof draws>): Geo {
  const { int, pick } = d;
  const n = int(1, 4);
  const family = pick([
    "1x1",
    "1x1/2",
    "3x3",
    "3x3/2",
    "stem",
    "5x5",
    "groups",
    "depthwise",
    "dilated",
    "any",
  ]);
  switch (family) {
    case "1x1":
      return { n, c: int(1, 200), h: int(1, 30), w: int(1, 30), k: int(1, 200), r: 1, s: 1 };
    case "1x1/2": {
      const [c, h, w, k] = [int(1, 100), int(2, 30), int(2, 30), int(1, 120)];
      return { n, c, h, w, k, r: 1, s: 1, sh: 2, sw: 2 };
    }
    case "3x3":
      return { n, c: int(1, 70), h: int(3, 30), w: int(3, 30), k: int(1, 70), ...k3() };
    case "3x3/2":
      return { n, c: int(1, 70), h: int(4, 34), w: int(4, 34), k: int(1, 70), ...k3(2, 2) };
    case "stem": { // under 4 channels, 32+ filters: the filter gradient's tap panels
      const [c, h, w, k] = [int(1, 3), int(8, 48), int(8, 48), pick([16, 32, 33, 64])];
      return { n, c, h, w, k, r: 7, s: 7, sh: 2, sw: 2, ph: 3, pw: 3 };
    }
    case "5x5": {
      const [c, h, w, k] = [int(1, 20), int(5, 24), int(5, 24), int(1, 48)];
      const [sh, sw, ph, pw] = [int(1, 3), int(1, 3), int(0, 2), int(0, 2)];
      return { n, c, h, w, k, r: 5, s: 5, sh, sw, ph, pw };
    }
    case "groups": {
      const g = int(2, 4), [h, w] = [int(3, 18), int(3, 18)];
      return {
        n,
        c: g * int(1, 12),
        h,
        w,
        k: g * int(1, 12),
        ...k3(int(1, 2), int(1, 2)),
        groups: g,
      };
    }
    case "depthwise": {
      const c = int(1, 48), [h, w] = [int(3, 24), int(3, 24)];
      return { n, c, h, w, k: c * int(1, 2), ...k3(int(1, 2), int(1, 2)), groups: c };
    }
    case "dilated": {
      const [c, h, w, k] = [int(1, 16), int(6, 20), int(6, 20), int(1, 32)];
      return { n, c, h, w, k, r: 3, s: 3, ph: int(1, 2), pw: int(0, 2), dh: 2, dw: int(1, 2) };
    }
    default: { // any small kernel, stride and padding per axis
      const r = int(1, 4), s = int(1, 4);
      const [c, h, w, k] = [int(1, 32), int(r, 20), int(s, 20), int(1, 40)];
      const [sh, sw, ph, pw] = [int(1, 3), int(1, 3), int(0, r - 1), int(0, s - 1)];
      return { n, c, h, w, k, r, s, sh, sw, ph, pw };
    }
  }
}

/** Mode 0 none, 1 a ReLU, 2 an affine (`coefs`), 3 both: the deferred transform on x. */
function transform(c: number, mode: number): { coef: Float32Array | null; relu: boolean } {
  return { coef: mode >= 2 ? coefs(c) : null, relu: mode === 1 || mode === 3 };
}

Deno.test({
  name: "bf16 convolutions: 60 seeded geometries of every family against bf16-rounded float64",
  ignore: noBf16,
  fn() {
    const d = draws(20261207);
    let checked = 0;
    while (checked < 60) {
      const g = geometry(d);
      const mode = d.pick([0, 0, 1, 2, 3]); // none, relu, coef, coef and relu
      const G = resolve(g), cg = g.c / G.groups;
      if (G.oh < 1 || G.ow < 1 || g.n * g.k * cg * g.r * g.s * G.oh * G.ow > MAX_MACS) continue;
      checked++;
      const nx = g.n * g.c * g.h * g.w, ny = g.n * g.k * G.oh * G.ow, nw = g.k * cg * g.r * g.s;
      const seed = 1000 + checked * 7;
      const t = transform(g.c, mode);
      // With a transform, x sits on a grid where T(x) is exact in fp32, FMA or not.
      const x = mode === 0
        ? randoms(nx, seed)
        : randoms(nx, seed).map((v) => Math.round(v * 1024) / 1024);
      const w = randoms(nw, seed + 3), dy = randoms(ny, seed + 5);
      const xt = transformedInput(g, x, t.coef, bf16, t.relu);
      const ref = reference(g, xt, Float64Array.from(w, bf16), Float64Array.from(dy, bf16));
      // NaN fills catch outputs the kernels leave unwritten.
      const y = new Float32Array(ny).fill(NaN), dx = new Float32Array(nx).fill(NaN);
      const dw = new Float32Array(nw).fill(NaN);
      const tag = `${JSON.stringify(g)} transform ${mode}`;
      const relu = t.relu ? 1 : 0;
      assert.equal(fwd!(G.params, p(x), p(t.coef), relu, p(w), null, p(y)), 0, lastError(lib));
      assert.equal(bwdData!(G.params, p(w), p(dy), p(dx)), 0, lastError(lib));
      assert.equal(bwdFilter!(G.params, p(x), p(t.coef), relu, p(dy), p(dw)), 0, lastError(lib));
      const outputs = [["y", y, ref.y], ["dx", dx, ref.dx], ["dw", dw, ref.dw]] as const;
      for (const [name, got, want] of outputs) {
        const e = relErr(got, want);
        assert.ok(e < TOL, `${tag} ${name}: max error ${e.toExponential(2)} of the rms`);
      }
    }
  },
});
