/**
 * Float64 references of a 2-D convolution (forward, input and filter
 * gradients) for the kernel tests: PyTorch's geometry, groups and dilation
 * included; and the CPU library's bf16 convolutions those tests call.
 */
import assert from "node:assert/strict";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { bf16, randoms } from "./bf16_ref.ts";

/**
 * The CPU library's three bf16 convolutions, and whether their numeric
 * tests must be ignored (then `file` warns once, with the reason).
 */
export function bf16Convolutions(file: string) {
  const lib = cpuLib();
  const fwd = lib.lits_conv2d_forward_bf16_f32;
  const bwdData = lib.lits_conv2d_backward_data_bf16_f32;
  const bwdFilter = lib.lits_conv2d_backward_filter_bf16_f32;
  const hasSymbols = lib.lits_bf16_support !== undefined && fwd !== undefined &&
    bwdData !== undefined && bwdFilter !== undefined;
  const level = new Int32Array(1);
  if (hasSymbols) assert.equal(lib.lits_bf16_support!(level), 0, lastError(lib));
  const noBf16 = !hasSymbols || level[0] === 0;
  if (noBf16) {
    console.warn(
      `${file}: numeric tests ignored: ` +
        (hasSymbols
          ? "lits_bf16_support reports 0 (no AVX512_BF16, or LITS_BF16=off)"
          : "the library has no bf16 convolutions"),
    );
  }
  // Level 2: the CPU has AMX-BF16 (oneDNN then runs its AMX kernels, channels-last).
  return { lib, fwd, bwdData, bwdFilter, hasSymbols, noBf16, amx: level[0] === 2 };
}

/** Geometry: input n c h w, filters k r s, then stride, padding, dilation, groups. */
export interface Geo {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  sh?: number;
  sw?: number;
  ph?: number;
  pw?: number;
  dh?: number;
  dw?: number;
  groups?: number;
}

export function resolve(g: Geo) {
  const { sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1, groups = 1 } = g;
  const oh = Math.floor((g.h + 2 * ph - dh * (g.r - 1) - 1) / sh) + 1;
  const ow = Math.floor((g.w + 2 * pw - dw * (g.s - 1) - 1) / sw) + 1;
  const params = new Int32Array([
    g.n,
    g.c,
    g.h,
    g.w,
    g.k,
    g.r,
    g.s,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    groups,
  ]);
  return { ...g, sh, sw, ph, pw, dh, dw, groups, oh, ow, params };
}

/** y, dx and dW in float64 from the (already transformed and rounded) inputs. */
export function reference(
  g: Geo,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  dy: ArrayLike<number>,
) {
  const G = resolve(g), { n, c, h, k, r, s, oh, ow } = G, W = G.w;
  const cg = c / G.groups, kg = k / G.groups;
  const y = new Float64Array(n * k * oh * ow), dx = new Float64Array(n * c * h * W);
  const dw = new Float64Array(k * cg * r * s);
  for (let ni = 0; ni < n; ni++) {
    for (let ki = 0; ki < k; ki++) {
      const c0 = Math.floor(ki / kg) * cg;
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const yi = ((ni * k + ki) * oh + oy) * ow + ox, d = dy[yi];
          let acc = 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let kr = 0; kr < r; kr++) {
              const iy = oy * G.sh - G.ph + kr * G.dh;
              if (iy < 0 || iy >= h) continue;
              for (let ks = 0; ks < s; ks++) {
                const ix = ox * G.sw - G.pw + ks * G.dw;
                if (ix < 0 || ix >= W) continue;
                const xi = ((ni * c + c0 + ci) * h + iy) * W + ix;
                const wi = ((ki * cg + ci) * r + kr) * s + ks;
                acc += x[xi] * w[wi];
                dx[xi] += d * w[wi];
                dw[wi] += d * x[xi];
              }
            }
          }
          y[yi] = acc;
        }
      }
    }
  }
  return { y, dx, dw };
}

/**
 * x as a convolution reads it, in float64: (x - mean) * scale + shift per
 * channel of `coef` (a `coefs` array over g.c channels; null: x as it is),
 * then a ReLU where `relu` (by default with a coef, as a batch norm's
 * deferred ReLU), then `round` (bf16, or the identity for fp32).
 */
export function transformedInput(
  g: Geo,
  x: Float32Array,
  coef: Float32Array | null,
  round: (v: number) => number,
  relu = coef !== null,
): Float64Array {
  const hw = g.h * g.w;
  return Float64Array.from(x, (v, i) => {
    if (coef === null && !relu) return round(v);
    const ch = Math.floor(i / hw) % g.c;
    const u = coef ? Math.fround((v - coef[ch]) * coef[g.c + ch] + coef[2 * g.c + ch]) : v;
    return round(relu && u < 0 ? 0 : u);
  });
}

/** The three results of a convolution and their float64 references. */
export interface Passes {
  /** y, dx and dW as the library computed them. */
  got: Float32Array[];
  /** The same in float64 (bf16: from the rounded operands). */
  want: Float64Array[];
}

/**
 * The CPU library's three calls of one precision on g (with a bias, and x
 * through a `coefs` transform and ReLU where transform) on inputs made from
 * seed, changed by edit where given, and their float64 references.
 */
export function convPasses(
  g: Geo,
  precision: "f32" | "bf16",
  transform: boolean,
  seed: number,
  edit?: (x: Float32Array, dy: Float32Array) => void,
): Passes {
  const lib = cpuLib(), G = resolve(g), round = precision === "bf16" ? bf16 : (v: number) => v;
  const nx = g.n * g.c * g.h * g.w, ny = g.n * g.k * G.oh * G.ow;
  const nw = g.k * (g.c / G.groups) * g.r * g.s;
  const x = randoms(nx, seed), w = randoms(nw, seed + 3), dy = randoms(ny, seed + 5);
  const bias = randoms(g.k, seed + 9), coef = transform ? coefs(g.c) : null;
  edit?.(x, dy);
  const xt = transformedInput(g, x, coef, round);
  const ref = reference(g, xt, Float64Array.from(w, round), Float64Array.from(dy, round));
  ref.y.forEach((_, i) => (ref.y[i] += bias[Math.floor(i / (G.oh * G.ow)) % g.k]));
  const y = new Float32Array(ny).fill(NaN), dx = new Float32Array(nx).fill(NaN);
  const dw = new Float32Array(nw).fill(NaN), relu = transform ? 1 : 0;
  const f32 = precision === "f32", p = (a: Float32Array | null) => a && Deno.UnsafePointer.of(a);
  const forward = f32 ? lib.lits_conv2d_forward_f32 : lib.lits_conv2d_forward_bf16_f32!;
  const data = f32 ? lib.lits_conv2d_backward_data_f32 : lib.lits_conv2d_backward_data_bf16_f32!;
  const filter = f32
    ? lib.lits_conv2d_backward_filter_f32
    : lib.lits_conv2d_backward_filter_bf16_f32!;
  assert.equal(forward(G.params, p(x), p(coef), relu, p(w), p(bias), p(y)), 0, lastError(lib));
  assert.equal(data(G.params, p(w), p(dy), p(dx)), 0, lastError(lib));
  assert.equal(filter(G.params, p(x), p(coef), relu, p(dy), p(dw)), 0, lastError(lib));
  return { got: [y, dx, dw], want: [ref.y, ref.dx, ref.dw] };
}

/** max |x - y| / rms(y). */
export function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let e = 0, r = 0;
  for (let i = 0; i < y.length; i++) {
    e = Math.max(e, Math.abs(x[i] - y[i]));
    r += y[i] * y[i];
  }
  return e / Math.max(Math.sqrt(r / y.length), 1e-30);
}

/**
 * A per-channel transform relu?((v - mean) * scale + shift) as a coef array
 * (mean, scale, shift), on a grid where fp32 is exact.
 */
export function coefs(c: number): Float32Array {
  const coef = new Float32Array(3 * c);
  for (let i = 0; i < c; i++) {
    coef[i] = ((i % 5) - 2) / 16;
    coef[c + i] = 0.5 + (i % 7) / 8;
    coef[2 * c + i] = ((i % 3) - 1) / 8;
  }
  return coef;
}

/** A convolution's three results on one shape. */
export interface ConvRun {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/**
 * A child Deno running the three calls of one convolution (fp32, or under
 * bf16 rules) with oneDNN's verbose log on: the sums of y, dx and dW, and
 * which of oneDNN's three passes ran.
 */
export async function onednnChild(precision: "f32" | "bf16", g: Geo, env: Record<string, string>) {
  const G = resolve(g), ny = g.n * g.k * G.oh * G.ow, sfx = precision === "f32" ? "" : "_bf16";
  const nw = g.k * (g.c / G.groups) * g.r * g.s;
  const script = `
    import { cpuLib, lastError } from "${new URL("../src/ffi/native.ts", import.meta.url).href}";
    const lib = cpuLib(), g = new Int32Array([${G.params.join(", ")}]);
    const x = new Float32Array(${g.n * g.c * g.h * g.w}).map((_, i) => Math.sin(i));
    const w = new Float32Array(${nw}).map((_, i) => Math.cos(i) / 16);
    const y = new Float32Array(${ny}), dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length), P = Deno.UnsafePointer.of;
    const st = [lib.lits_conv2d_forward${sfx}_f32(g, P(x), null, 0, P(w), null, P(y)),
      lib.lits_conv2d_backward_data${sfx}_f32(g, P(w), P(y), P(dx)),
      lib.lits_conv2d_backward_filter${sfx}_f32(g, P(x), null, 0, P(y), P(dw))];
    if (st.some((s) => s !== 0)) throw new Error(lastError(lib));
    console.log("sums", [y, dx, dw].map((a) => a.reduce((s, v) => s + v, 0)).join(" "));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { ONEDNN_VERBOSE: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const sums = stdout.match(/^sums (.*)$/m)![1].split(" ").map(Number);
  const kinds = ["forward_training", "backward_data", "backward_weights"];
  const which = kinds.filter((k) => new RegExp(`exec,cpu,convolution,[^,]*,${k}`).test(stdout));
  // Each convolution oneDNN ran: its implementation's name (e.g. brgconv:avx512_core_amx_bf16).
  const impls = [...stdout.matchAll(/exec,cpu,convolution,([^,]*),/g)].map((m) => m[1]);
  return { sums, ran: /exec,cpu,convolution,/.test(stdout), which, impls };
}

/** Whether this library runs oneDNN: built here with its header, and libdnnl found. */
export function onednnHere(): boolean {
  if (Deno.env.get("LITS_NATIVE_LIB")) return false;
  try {
    Deno.statSync("/usr/include/oneapi/dnnl/dnnl.h");
    Deno.dlopen(Deno.env.get("LITS_ONEDNN_LIB") || "libdnnl.so.2", {}).close();
    return true;
  } catch {
    return false;
  }
}
