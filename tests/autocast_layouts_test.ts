/**
 * Autocast's convolutions and products over many layouts, drawn from a
 * fixed seed: each must equal fp32 on the bf16-rounded operands (what
 * PyTorch's CPU autocast computes) up to the order of fp32 sums, in the
 * output and every gradient. The layouts reach the kernels that shape
 * decides between (direct, Winograd over rounded operands, im2col tiles,
 * depthwise, strided, dilated, grouped, oneDNN's), with a deferred batch
 * norm and ReLU read as the input, and evaluation without gradients.
 * CPU only: a GPU rounds its outputs too (autocast_test covers it). The
 * tests are ignored on a CPU without AVX512_BF16.
 */
import assert from "node:assert/strict";
import {
  addmm,
  autocast,
  baddbmm,
  functional as F,
  manualSeed,
  noGrad,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { bf16 } from "./bf16_ref.ts";
import { bf16Convolutions } from "./conv_ref.ts";

const { noBf16 } = bf16Convolutions("autocast_layouts_test");

/** A 32-bit LCG: the layouts are the same on every run. */
function draws(seed: number) {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  return {
    int: (a: number, b: number) => a + Math.floor(next() * (b - a + 1)),
    pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}

const rounded = (t: Tensor) =>
  tensor(Array.from(t.contiguous().toArray() as Float32Array, bf16), [...t.shape]);

/** ours within fp32 sums' error of ref: 1.2e-5 of ref's largest value. */
function close(ours: Tensor, ref: Tensor, what: string): void {
  const a = ours.toArray() as Float32Array, b = ref.toArray() as Float32Array;
  let scale = 0, far = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    far = Number.isNaN(d) ? Infinity : Math.max(far, d);
  }
  assert.ok(far <= 1.2e-5 * scale + 1e-7, `${what}: ${far} from fp32 of rounded operands`);
}

interface Layout {
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  s: number;
  stride: number;
  padding: number;
  dilation: number;
  groups: number;
  bias: boolean;
}

/** A convolution layout; `wide` draws ResNet-like channel counts. */
function layout(d: ReturnType<typeof draws>, wide: boolean): Layout {
  const depthwise = !wide && d.chance(0.25);
  const groups = depthwise ? 0 : wide ? d.pick([1, 1, 1, 2]) : d.pick([1, 1, 2, 3, 4]);
  const cg = wide ? d.pick([64, 96, 128, 256]) : d.pick([1, 2, 3, 4, 8, 16, 17]);
  const kg = wide ? d.pick([64, 80, 128, 256]) : d.pick([1, 2, 4, 5, 8, 16, 32]);
  const dw = d.pick([4, 8, 16, 32, 48]);
  const c = depthwise ? dw : cg * groups, k = depthwise ? dw * d.pick([1, 2]) : kg * groups;
  const r = d.pick([1, 1, 3, 3, 3, 5, 7]), s = d.chance(0.9) ? r : d.pick([1, 3]);
  const dilation = d.chance(0.15) ? 2 : 1, padding = d.int(0, Math.floor(r / 2) + 1);
  const stride = d.pick([1, 1, 1, 2, 2, 3]), most = wide ? 24 : 30;
  const h = d.int(Math.max(2, dilation * (r - 1) + 1 - 2 * padding), most);
  const w = d.int(Math.max(2, dilation * (s - 1) + 1 - 2 * padding), most);
  const n = wide ? d.pick([1, 2]) : d.pick([1, 2, 3]);
  return {
    n,
    c,
    h,
    w,
    k,
    r,
    s,
    stride,
    padding,
    dilation,
    groups: depthwise ? c : groups,
    bias: d.chance(0.5),
  };
}

const shown = (l: Layout) =>
  `[${l.n}, ${l.c}, ${l.h}, ${l.w}] -> ${l.k}, ${l.r}x${l.s} stride ${l.stride} padding ` +
  `${l.padding} dilation ${l.dilation} groups ${l.groups}${l.bias ? " bias" : ""}`;

/**
 * One layout under autocast against fp32 on rounded operands: with
 * gradients (`bn`: the input is a deferred training batch norm and ReLU,
 * read as the kernels pack it), or, `evaluation`, the forward alone.
 */
function checkConv(l: Layout, seed: number, bn: boolean, evaluation: boolean): void {
  scope(() => {
    manualSeed(seed);
    const z = randn([l.n, l.c, l.h, l.w], { requiresGrad: true });
    const fan = (l.c / l.groups) * l.r * l.s;
    const wt = randn([l.k, l.c / l.groups, l.r, l.s]).mul(1 / Math.sqrt(fan)).requiresGrad_(true);
    const b = l.bias ? randn([l.k]).mul(0.1).requiresGrad_(true) : null;
    const gamma = randn([l.c]), beta = randn([l.c]);
    const input = (t: Tensor) =>
      bn ? F.relu(F.batchNorm(t, null, null, gamma, beta, { training: true })) : t;
    const o = { stride: l.stride, padding: l.padding, dilation: l.dilation, groups: l.groups };
    const what = `${shown(l)}${bn ? " after batch norm" : ""}${evaluation ? " (evaluation)" : ""}`;
    const y = evaluation
      ? autocast("bfloat16", () => noGrad(() => F.conv2d(input(z.detach()), wt.detach(), b, o)))
      : autocast("bfloat16", () => F.conv2d(input(z), wt, b, o));
    const xr = rounded(input(z.detach()).detach()).requiresGrad_(true);
    const wr = rounded(wt.detach()).requiresGrad_(true);
    const want = F.conv2d(xr, wr, b?.detach() ?? null, o);
    close(y, want, `${what} output`);
    if (evaluation) return [];
    const g = randn([...y.shape]);
    y.mul(g).sum().backward(); // the upstream gradient is rounded as the kernels read it
    want.mul(rounded(g)).sum().backward();
    close(wt.grad!, wr.grad!, `${what} weight gradient`);
    if (!bn) close(z.grad!, xr.grad!, `${what} input gradient`);
    // The bias gradient sums the gradient as it arrives, in fp32 (not rounded).
    if (b) close(b.grad!, g.sum([0, 2, 3]), `${what} bias gradient`);
    return [];
  });
}

Deno.test({
  name: "autocast layouts: convolutions of 60 drawn layouts, forward and gradients",
  ignore: noBf16,
  fn() {
    const d = draws(20261207);
    for (let i = 0; i < 60; i++) checkConv(layout(d, false), 100 + i, i % 3 === 1, i % 3 === 2);
  },
});

Deno.test({
  name: "autocast layouts: ResNet-sized convolutions (the direct, Winograd and oneDNN paths)",
  ignore: noBf16,
  fn() {
    const d = draws(7);
    for (let i = 0; i < 12; i++) checkConv(layout(d, true), 200 + i, i % 3 === 1, i % 3 === 2);
  },
});

Deno.test({
  name: "autocast layouts: products of drawn shapes (matmul, broadcast, linear, bmm, addmm)",
  ignore: noBf16,
  fn() {
    const d = draws(11);
    const size = () => d.pick([1, 2, 3, 5, 8, 16, 17, 31, 32, 33, 64, 100, 129]);
    for (let i = 0; i < 60; i++) {
      const m = size(), k = size(), n = size(), b = d.pick([1, 2, 3, 4]);
      const cases: [number[][], (...xs: Tensor[]) => Tensor][] = [
        [[[m, k], [k, n]], (x, y) => x.matmul(y)],
        [[[k, m], [n, k]], (x, y) => x.transpose(0, 1).matmul(y.transpose(0, 1))],
        [[[b, 1, m, k], [3, k, n]], (x, y) => x.matmul(y)],
        [[[k], [b, k, n]], (x, y) => x.matmul(y)],
        [[[b, m, k], [n, k], [n]], (x, w, c) => F.linear(x, w, c)],
        [[[m, k], [k, n], [m, n]], (x, y, c) => addmm(c, x, y, { beta: 0.5, alpha: 2 })],
        [[[b, m, k], [b, k, n], [b, m, n]], (x, y, c) => baddbmm(c, x, y, { beta: 0.5 })],
      ];
      const [shapes, op] = d.pick(cases);
      const what = `[${shapes.map((s) => s.join("x")).join(", ")}] #${i}`;
      scope(() => {
        manualSeed(300 + i);
        const xs = shapes.map((s) => randn(s).requiresGrad_(true));
        const y = autocast("bfloat16", () => op(...xs));
        const g = randn([...y.shape]);
        y.mul(g).sum().backward();
        // The first two operands are rounded; an added third (bias, addmm's input) is not.
        const xr = xs.map((x, j) => (j < 2 ? rounded(x.detach()) : x.detach()).requiresGrad_(true));
        const want = op(...xr);
        want.mul(rounded(g)).sum().backward();
        close(y, want, `${what} output`);
        close(xs[0].grad!, xr[0].grad!, `${what} first gradient`);
        close(xs[1].grad!, xr[1].grad!, `${what} second gradient`);
        return [];
      });
    }
  },
});
