/**
 * Finite-difference gradient checks: the analytic gradients of
 * L = sum(f(inputs) * G) (G fixed and random) against central differences
 * of the same loss, with the outputs summed in float64 on the host. The
 * library computes in float32, so steps are ~1e-2 and tolerances ~1e-2
 * relative; inputs of non-smooth ops (max pooling, relu) are kept well away
 * from their kinks.
 */
import { functional as F, noGrad, scope, type Tensor, tensor } from "../mod.ts";

/** mulberry32: a small deterministic generator for test data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Input {
  data: Float32Array;
  shape: number[];
  /** Check the gradient of this input (default true). */
  grad?: boolean;
}

function normal(shape: number[], r: () => number, scale = 1, shift = 0): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12), v = r();
    data[i] = shift + scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return { data, shape };
}

/** Distinct values spaced by `gap`, shuffled: no ties for max pooling. */
function distinct(shape: number[], r: () => number, gap = 0.1): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, (_, i) => (i - n / 2) * gap);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [vals[i], vals[j]] = [vals[j], vals[i]];
  }
  return { data: Float32Array.from(vals), shape };
}

function awayFromZero(shape: number[], r: () => number, lo = 0.5, hi = 2): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    data: Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r())),
    shape,
  };
}

interface CheckOptions {
  eps?: number;
  rtol?: number;
  /** Absolute tolerance, relative to max(1, largest analytic gradient). */
  atol?: number;
  seed?: number;
}

function gradcheck(
  name: string,
  inputs: Input[],
  fn: (ts: Tensor[]) => Tensor,
  options: CheckOptions = {},
): void {
  const { eps = 1e-2, rtol = 1e-2, atol = 2e-3, seed = 1 } = options;
  const r = rng(seed);
  let G: Float32Array | null = null;

  // Analytic gradients.
  const analytic = scope(() => {
    const ts = inputs.map((inp) => tensor(inp.data, inp.shape, { requiresGrad: inp.grad ?? true }));
    const out = fn(ts);
    G = Float32Array.from({ length: out.numel() }, () => r() * 2 - 1);
    out.backward(tensor(G, [...out.shape]));
    return ts.map((t, i) => ((inputs[i].grad ?? true) ? t.grad!.toArray() as Float32Array : null));
  });
  const g = G!;

  const loss = (datas: Float32Array[]): number =>
    noGrad(() => {
      const out = fn(datas.map((d, i) => tensor(d, inputs[i].shape))).toArray();
      let s = 0;
      for (let k = 0; k < out.length; k++) s += out[k] * g[k];
      return s;
    });

  const failures: string[] = [];
  inputs.forEach((inp, i) => {
    const ana = analytic[i];
    if (!ana) return;
    const scale = Math.max(1, ...Array.from(ana, Math.abs));
    for (let j = 0; j < inp.data.length; j++) {
      const datas = inputs.map((x) => x.data.slice());
      datas[i][j] = inp.data[j] + eps;
      const hi = datas[i][j];
      const lp = loss(datas);
      datas[i][j] = inp.data[j] - eps;
      const lo = datas[i][j];
      const lm = loss(datas);
      const num = (lp - lm) / (hi - lo);
      const diff = Math.abs(num - ana[j]);
      if (!(diff <= atol * scale + rtol * Math.abs(num))) {
        failures.push(`input ${i} [${j}]: analytic ${ana[j]}, numeric ${num}`);
      }
    }
  });
  if (failures.length > 0) {
    throw new Error(
      `${name}: ${failures.length} gradient elements differ:\n  ${
        failures.slice(0, 10).join("\n  ")
      }`,
    );
  }
}

const r = rng(2024);

Deno.test("gradcheck: conv2d stride 2, padding 1, dilation 2, groups 2, bias", () => {
  gradcheck(
    "conv2d",
    [normal([2, 4, 7, 6], r), normal([6, 2, 3, 3], r, 0.5), normal([6], r)],
    ([x, w, b]) => F.conv2d(x, w, b, { stride: 2, padding: 1, dilation: 2, groups: 2 }),
  );
});

Deno.test("gradcheck: conv2d rectangular kernel, stride [1,2], padding [2,1], no bias", () => {
  gradcheck(
    "conv2d rect",
    [normal([1, 3, 5, 7], r), normal([2, 3, 3, 2], r, 0.5)],
    ([x, w]) => F.conv2d(x, w, null, { stride: [1, 2], padding: [2, 1] }),
  );
});

Deno.test("gradcheck: depthwise conv2d", () => {
  gradcheck(
    "depthwise conv2d",
    [normal([2, 3, 5, 5], r), normal([3, 1, 3, 3], r, 0.5), normal([3], r)],
    ([x, w, b]) => F.conv2d(x, w, b, { padding: 1, groups: 3 }),
  );
});

Deno.test("gradcheck: maxPool2d kernel 3 stride 2 padding 1 ceilMode", () => {
  gradcheck(
    "maxPool2d",
    [distinct([2, 2, 6, 7], r)],
    ([x]) => F.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }),
  );
});

Deno.test("gradcheck: avgPool2d padding, ceilMode, countIncludePad false and true", () => {
  for (const countIncludePad of [false, true]) {
    gradcheck(
      `avgPool2d countIncludePad ${countIncludePad}`,
      [normal([1, 2, 7, 8], r)],
      ([x]) => F.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad }),
    );
  }
});

Deno.test("gradcheck: adaptiveAvgPool2d 7x5 -> 3x4", () => {
  gradcheck(
    "adaptiveAvgPool2d",
    [normal([2, 2, 7, 5], r)],
    ([x]) => F.adaptiveAvgPool2d(x, [3, 4]),
  );
});

Deno.test("gradcheck: batchNorm training (input, weight, bias)", () => {
  gradcheck(
    "batchNorm",
    [normal([3, 2, 3, 4], r, 1.5, 0.5), normal([2], r, 0.5, 1), normal([2], r)],
    ([x, w, b]) => F.batchNorm(x, null, null, w, b, { training: true }),
    { eps: 3e-3, rtol: 2e-2, atol: 5e-3 },
  );
});

Deno.test("gradcheck: batchNorm eval (input, weight, bias)", () => {
  const rm = tensor([0.3, -0.2]).keep(), rv = tensor([0.8, 1.4]).keep();
  gradcheck(
    "batchNorm eval",
    [normal([2, 2, 3, 3], r), normal([2], r, 0.5, 1), normal([2], r)],
    ([x, w, b]) => F.batchNorm(x, rm, rv, w, b, { training: false }),
  );
  rm.dispose();
  rv.dispose();
});

Deno.test("gradcheck: softmax + crossEntropy with weight, labelSmoothing and ignoreIndex", () => {
  const t = tensor(new Int32Array([0, 3, 1, 2, 1, 3]), [6]).keep();
  const w = tensor([0.5, 1.5, 1, 2]).keep();
  gradcheck(
    "crossEntropy",
    [normal([6, 4], r, 2)],
    ([x]) => F.crossEntropy(x, t, { weight: w, labelSmoothing: 0.1, ignoreIndex: 1 }),
  );
  gradcheck(
    "crossEntropy sum",
    [normal([6, 4], r, 2)],
    ([x]) => F.crossEntropy(x, t, { reduction: "sum" }),
  );
  t.dispose();
  w.dispose();
});

Deno.test("gradcheck: crossEntropy on [N,C,H,W] logits", () => {
  const t = tensor(new Int32Array([0, 2, 1, 1, 2, 0, 0, 1, 2, 2, 1, 0]), [2, 2, 3]).keep();
  gradcheck(
    "crossEntropy 4-D",
    [normal([2, 3, 2, 3], r, 2)],
    ([x]) => F.crossEntropy(x, t, { labelSmoothing: 0.05 }),
  );
  t.dispose();
});

Deno.test("gradcheck: softmax and logSoftmax along each dim", () => {
  for (const dim of [0, 1, -1]) {
    gradcheck(`softmax dim ${dim}`, [normal([3, 4, 2], r)], ([x]) => x.softmax(dim));
    gradcheck(`logSoftmax dim ${dim}`, [normal([3, 4, 2], r)], ([x]) => x.logSoftmax(dim));
  }
});

Deno.test("gradcheck: matmul 2-D, ND x 2-D and batched", () => {
  gradcheck("matmul 2-D", [normal([3, 4], r), normal([4, 5], r)], ([a, b]) => a.matmul(b));
  gradcheck("matmul ND x 2-D", [normal([2, 3, 4], r), normal([4, 5], r)], ([a, b]) => a.matmul(b));
  gradcheck(
    "matmul batched",
    [normal([2, 3, 4], r), normal([2, 4, 5], r)],
    ([a, b]) => a.matmul(b),
  );
  gradcheck(
    "matmul transposed view",
    [normal([4, 3], r), normal([4, 5], r)],
    ([a, b]) => a.transpose(0, 1).matmul(b),
  );
});

Deno.test("gradcheck: broadcasting div, sub and mul", () => {
  gradcheck(
    "div [2,3,4] / [3,1]",
    [normal([2, 3, 4], r), awayFromZero([3, 1], r)],
    ([a, b]) => a.div(b),
  );
  gradcheck(
    "div [4] / [2,3,4]",
    [normal([4], r), awayFromZero([2, 3, 4], r)],
    ([a, b]) => a.div(b),
  );
  gradcheck("sub [3,1] - [1,4] then mul [4]", [
    normal([3, 1], r),
    normal([1, 4], r),
    normal([4], r),
  ], ([a, b, c]) => a.sub(b).mul(c));
});

Deno.test("gradcheck: unary chain and reductions over non-adjacent dims", () => {
  gradcheck(
    "exp/log/sqrt/tanh/sigmoid chain",
    [awayFromZero([3, 4], r, 0.3, 1.5)],
    ([x]) => x.abs().sqrt().log().add(x.tanh()).mul(x.sigmoid()).add(x.mul(0.5).exp()).pow(2),
  );
  gradcheck("mean over [0,2] keepDim", [normal([3, 4, 5], r)], ([x]) => x.mean([0, 2], true));
  gradcheck("max over [0,2]", [distinct([3, 4, 5], r)], ([x]) => x.max([0, 2]));
  gradcheck(
    "sum of permuted view",
    [normal([2, 3, 4], r)],
    ([x]) => x.permute(2, 0, 1).mul(x.permute(2, 0, 1)).sum(1),
  );
});

Deno.test("gradcheck: a small CNN (conv, batchNorm, relu, maxPool, flatten, linear, crossEntropy)", () => {
  const t = tensor(new Int32Array([2, 0, 1]), [3]).keep();
  gradcheck(
    "small CNN",
    [
      normal([3, 2, 6, 6], r),
      normal([4, 2, 3, 3], r, 0.4),
      normal([4], r, 0.1),
      normal([3, 36], r, 0.3),
      normal([3], r),
    ],
    ([x, w, b, fw, fb]) => {
      const h = F.batchNorm(F.conv2d(x, w, b, { padding: 1 }), null, null, null, null, {
        training: true,
      });
      return F.crossEntropy(F.linear(F.maxPool2d(h.relu(), 2).flatten(1), fw, fb), t);
    },
    { eps: 2e-3, rtol: 3e-2, atol: 5e-3 },
  );
  t.dispose();
});
