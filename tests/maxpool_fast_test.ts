/**
 * Max pooling without indices (eval, `noGrad`) against the path that writes
 * them (a gradient is recorded) and against a plain loop: the same bits on
 * awkward shapes (odd sizes, a 1x1 input, one image, one channel, windows
 * over the edge, ceil mode, rows wider than a column block, windows too large
 * for the separable kernel), with NaN, infinities and signed zeros, and with
 * a deferred batch norm + ReLU on the input (compared with fusion off).
 */
import assert from "node:assert/strict";
import { functional as F, noGrad, scope, type Tensor, tensor } from "../mod.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";

type Pair2 = [number, number];

interface PoolCase {
  name: string;
  shape: [number, number, number, number];
  k: Pair2;
  s: Pair2;
  p: Pair2;
  ceil?: boolean;
}

const cases: PoolCase[] = [
  { name: "3x3 s2 p1 (ResNet), odd sizes", shape: [2, 3, 9, 11], k: [3, 3], s: [2, 2], p: [1, 1] },
  { name: "3x3 s2 p1, 1x1 input", shape: [1, 1, 1, 1], k: [3, 3], s: [2, 2], p: [1, 1] },
  { name: "2x2 s2 p1, 1x1 input", shape: [1, 1, 1, 1], k: [2, 2], s: [2, 2], p: [1, 1] },
  { name: "1x1 s1, 1x1 input", shape: [1, 1, 1, 1], k: [1, 1], s: [1, 1], p: [0, 0] },
  {
    name: "3x3 s2 p1 ceil, one image, one channel",
    shape: [1, 1, 7, 5],
    k: [3, 3],
    s: [2, 2],
    p: [1, 1],
    ceil: true,
  },
  { name: "2x2 s2, even sizes", shape: [1, 2, 6, 8], k: [2, 2], s: [2, 2], p: [0, 0] },
  {
    name: "2x2 s2 ceil, odd sizes",
    shape: [2, 1, 7, 9],
    k: [2, 2],
    s: [2, 2],
    p: [0, 0],
    ceil: true,
  },
  { name: "2x2 s2 p1", shape: [1, 1, 5, 6], k: [2, 2], s: [2, 2], p: [1, 1] },
  {
    name: "3x3 s2 p1, rows over several column blocks",
    shape: [1, 2, 5, 601],
    k: [3, 3],
    s: [2, 2],
    p: [1, 1],
  },
  { name: "2x2 s2, a 1100-wide row", shape: [1, 1, 4, 1100], k: [2, 2], s: [2, 2], p: [0, 0] },
  { name: "3x3 s1 p1", shape: [2, 2, 6, 7], k: [3, 3], s: [1, 1], p: [1, 1] },
  { name: "5x5 s3 p2 ceil", shape: [1, 3, 11, 13], k: [5, 5], s: [3, 3], p: [2, 2], ceil: true },
  { name: "3x2 s1x2 (rectangular)", shape: [1, 2, 8, 9], k: [3, 2], s: [1, 2], p: [1, 0] },
  { name: "many planes (one band each)", shape: [2, 40, 9, 9], k: [3, 3], s: [2, 2], p: [1, 1] },
  { name: "few planes, tall (bands)", shape: [1, 3, 67, 17], k: [3, 3], s: [2, 2], p: [1, 1] },
  { name: "9x9 s1 p4 (general path)", shape: [1, 1, 12, 12], k: [9, 9], s: [1, 1], p: [4, 4] },
  { name: "3x10 s2x10 (general path)", shape: [1, 1, 6, 95], k: [3, 10], s: [2, 10], p: [1, 5] },
];

/** Deterministic values in [-1, 1] with ties, zeros of both signs, infinities and NaN. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s >>> 24;
    if (r < 8) out[i] = NaN;
    else if (r < 20) out[i] = -0;
    else if (r < 30) out[i] = 0;
    else if (r < 36) out[i] = -Infinity;
    else if (r < 38) out[i] = Infinity;
    else out[i] = Math.round(((s & 0xffff) / 0x10000 * 2 - 1) * 16) / 16;
  }
  return out;
}

function outSize(size: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = size + 2 * p - k;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

/** PyTorch's loop: windows clipped to the input, a candidate wins when greater or NaN. */
function reference(x: Float32Array, c: PoolCase): Float32Array {
  const [n, ch, h, w] = c.shape;
  const oh = outSize(h, c.k[0], c.s[0], c.p[0], c.ceil ?? false);
  const ow = outSize(w, c.k[1], c.s[1], c.p[1], c.ceil ?? false);
  const y = new Float32Array(n * ch * oh * ow);
  for (let pl = 0; pl < n * ch; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const y0 = Math.max(oy * c.s[0] - c.p[0], 0);
        const y1 = Math.min(oy * c.s[0] - c.p[0] + c.k[0], h);
        const x0 = Math.max(ox * c.s[1] - c.p[1], 0);
        const x1 = Math.min(ox * c.s[1] - c.p[1] + c.k[1], w);
        let m = -Infinity;
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const v = x[pl * h * w + iy * w + ix];
            if (v > m || Number.isNaN(v)) m = v;
          }
        }
        y[(pl * oh + oy) * ow + ox] = m;
      }
    }
  }
  return y;
}

function pool(x: Tensor, c: PoolCase): Tensor {
  return F.maxPool2d(x, c.k, { stride: c.s, padding: c.p, ceilMode: c.ceil ?? false });
}

function floats(t: Tensor): Float32Array {
  return t.toArray() as Float32Array;
}

/** The same bits (NaN payloads and the sign of zero included). */
function assertSameBits(got: Float32Array, want: Float32Array, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const e = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== e[i]) assert.fail(`${what}: [${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

/** Equal as numbers, NaN to NaN and -0 apart from +0. */
function assertSameValues(got: Float32Array, want: Float32Array, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) {
      assert.fail(`${what}: [${i}] = ${got[i]}, expected ${want[i]}`);
    }
  }
}

for (const c of cases) {
  Deno.test(`maxPool2d without indices: ${c.name}`, () => {
    scope(() => {
      const size = c.shape.reduce((a, b) => a * b);
      const xv = values(size, 7 + size);
      const x = tensor(xv, c.shape, { requiresGrad: true });
      const trained = pool(x, c);
      assert.ok(trained.requiresGrad, "the training-mode output records a gradient");
      const evaluated = noGrad(() => floats(pool(x, c)));
      const plain = noGrad(() => floats(pool(tensor(xv, c.shape), c)));
      assertSameBits(evaluated, floats(trained), `${c.name}: eval vs training`);
      assertSameBits(plain, floats(trained), `${c.name}: no grad input vs training`);
      assertSameValues(evaluated, reference(xv, c), `${c.name}: vs the loop`);
      // The training output still has its backward.
      trained.sum().backward();
      assert.ok(x.grad !== null, "gradient of x");
      x.dispose();
    });
  });

  Deno.test(`maxPool2d without indices, deferred batch norm + ReLU: ${c.name}`, () => {
    scope(() => {
      const ch = c.shape[1];
      const size = c.shape.reduce((a, b) => a * b);
      const xv = values(size, 3 + size);
      // Negative scales too: each value is transformed first, then the max taken.
      const gamma = tensor(Array.from({ length: ch }, (_, i) => (i % 2 ? -1.25 : 0.75) + i / 8));
      const beta = tensor(Array.from({ length: ch }, (_, i) => i % 3 === 0 ? -0.125 : 0.25));
      const mean = tensor(Array.from({ length: ch }, (_, i) => 0.0625 * i - 0.1));
      const variance = tensor(Array.from({ length: ch }, (_, i) => 0.5 + i / 4));
      const run = (fused: boolean, grad: boolean, relu: boolean) => {
        const was = setFusion(fused);
        try {
          const body = () => {
            const x = tensor(xv, c.shape, { requiresGrad: grad });
            // An op result, so that batch norm may defer its output.
            const a = x.mul(1);
            const b = F.batchNorm(a, mean, variance, gamma, beta, { training: false });
            const input = relu ? F.relu(b) : b;
            const pooled = pool(input, c);
            assert.equal(pooled.requiresGrad, grad);
            // The same (deferred) input pooled without indices.
            const evaluated = grad ? noGrad(() => floats(pool(input, c))) : null;
            return { y: floats(pooled), evaluated, input: floats(input) };
          };
          return grad ? body() : noGrad(body);
        } finally {
          setFusion(was);
        }
      };
      for (const relu of [true, false]) {
        const what = `${c.name}${relu ? " + ReLU" : ""}`;
        const plain = run(false, false, relu);
        assertSameValues(plain.y, reference(plain.input, c), `${what}: unfused vs the loop`);
        assertSameBits(run(true, false, relu).y, plain.y, `${what}: fused eval vs unfused`);
        // With a gradient recorded the deferred input's values may differ
        // from the unfused ones in the last place (batch norm's business):
        // compare the pooling of that very input, with and without indices.
        const trained = run(true, true, relu);
        assertSameBits(trained.evaluated!, trained.y, `${what}: fused, no grad vs grad`);
        assertSameValues(trained.y, reference(trained.input, c), `${what}: fused grad vs the loop`);
      }
    });
  });
}

Deno.test("maxPool2d without indices: NaN wins its window, infinities and -0 as PyTorch", () => {
  // deno-fmt-ignore
  const x = tensor([
    1, NaN, 3, -Infinity,
    -0, 0, -Infinity, -Infinity,
    -1, -2, Infinity, 5,
    -0, -1, -Infinity, -Infinity,
  ], [1, 1, 4, 4]);
  const y = noGrad(() => floats(F.maxPool2d(x, 2, { stride: 2 })));
  assertSameValues(y, new Float32Array([NaN, 3, -0, Infinity]), "2x2");
  const y3 = noGrad(() => floats(F.maxPool2d(x, 3, { stride: 2, padding: 1 })));
  assertSameValues(y3, new Float32Array([NaN, NaN, -0, Infinity]), "3x3 s2 p1");
});
