/**
 * What the tests of a convolution's output moments share
 * (`conv_moments_test.ts`, `conv_moments_bf16_test.ts`): float64 moments of
 * an output, the same bits for any number of threads, the refused calls, a
 * training step's loss, and a check of every gathering convolution of a model against the
 * statistics pass.
 */
import assert from "node:assert/strict";
import { functional as F, type nn, randn, scope, type Tensor, zeros } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { STATUS } from "../src/ffi/codes.ts";
import { assertBits } from "./helpers.ts";

const lib = cpuLib();
/** The kernels as loaded, before any test wraps them (countCalls). */
const raw = { ...lib };

/** A convolution's geometry, for the moments tests' cases. */
export interface MomentsCase {
  name: string;
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  r: number;
  stride?: number;
  pad?: number;
  /** Added to x: the outputs' mean lies far from zero. */
  offset?: number;
  /** x read through a batch norm transform and ReLU. */
  transformed?: boolean;
}

/** Mean and M2 of each channel of y [n, k, hw] in float64 (two passes). */
export function momentsReference(y: Float32Array, n: number, k: number): Float64Array {
  const hw = y.length / (n * k), out = new Float64Array(2 * k);
  for (let ch = 0; ch < k; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += y[(i * k + ch) * hw + j];
    const mean = s / (n * hw);
    let q = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) q += (y[(i * k + ch) * hw + j] - mean) ** 2;
    }
    out[2 * ch] = mean;
    out[2 * ch + 1] = q;
  }
  return out;
}

/** The loss of one training step of `net` on x. */
export function loss(net: nn.Module, x: Tensor, labels: Tensor): number {
  return scope(() => {
    net.train();
    net.zeroGrad();
    const l = F.crossEntropy(net.forward(x) as Tensor, labels);
    l.backward();
    return (l.toArray() as Float32Array)[0];
  });
}

/**
 * Runs fn with each call of the gathering convolutions `symbols`
 * (`lits_conv2d_forward_moments_f32`, its bf16 form, and
 * `lits_conv2d_forward_bf16x_f32` where it gathers) checked as it returns:
 * the batch statistics from its moments against the statistics pass over
 * its output. Returns fn's result and the number of convolutions checked.
 */
export function checkingEachLayer<T>(symbols: string | string[], fn: () => T): [T, number] {
  const names = typeof symbols === "string" ? [symbols] : symbols;
  const table = lib as unknown as Record<string, (...a: unknown[]) => number>;
  const gathers = names.map((name) => table[name]);
  let layers = 0;
  names.forEach((name, i) => {
    // lits_conv2d_forward_bf16x_f32 (params, x, weight, y, moments); the others (..., y, moments).
    const [at, mat] = name === "lits_conv2d_forward_bf16x_f32" ? [3, 4] : [6, 7];
    table[name] = (...a: unknown[]) => {
      const st = gathers[i](...a);
      if (a[mat] !== null) {
        const p = a[0] as Int32Array;
        check(p, a[at] as Deno.PointerObject, a[mat] as Deno.PointerObject, layers++);
      }
      return st;
    };
  });
  try {
    return [fn(), layers];
  } finally {
    names.forEach((name, i) => (table[name] = gathers[i]));
  }
}

/** A gathering call's moments against the statistics pass over its output y. */
function check(
  p: Int32Array,
  y: Deno.PointerObject,
  moments: Deno.PointerObject,
  layer: number,
): void {
  // (The kernels as loaded, not as countCalls may have wrapped them.)
  const { lits_batchnorm2d_stats_f32: pass, lits_batchnorm2d_stats_from_moments_f32: from } = raw;
  const [n, k] = [p[0], p[4]];
  const oh = Math.floor((p[2] + 2 * p[9] - p[5]) / p[7]) + 1;
  const ow = Math.floor((p[3] + 2 * p[10] - p[6]) / p[8]) + 1;
  scope(() => {
    const out = () => [zeros([k]), zeros([k]), zeros([3 * k])];
    const [m1, s1, c1] = out(), [m2, s2, c2] = out();
    const tail = [n, k, oh * ow, 0.1, 1e-5] as const;
    assert.equal(
      pass!(y, null, null, null, null, m1.ptr, s1.ptr, c1.ptr, ...tail),
      0,
    );
    assert.equal(
      from!(
        moments,
        null,
        null,
        null,
        null,
        m2.ptr,
        s2.ptr,
        c2.ptr,
        ...tail,
      ),
      0,
    );
    const [mean, invstd] = [m1, s1].map((t) => t.toArray() as Float32Array);
    const [gotMean, gotInvstd] = [m2, s2].map((t) => t.toArray() as Float32Array);
    for (let ch = 0; ch < k; ch++) {
      const what = `layer ${layer} [${[...p.slice(0, 5)]}] channel ${ch}`;
      assert.ok(Math.abs(gotInvstd[ch] / invstd[ch] - 1) < 1e-5, `${what}: invstd`);
      assert.ok(
        Math.abs(gotMean[ch] - mean[ch]) <= 1e-5 / invstd[ch] + 1e-6 * Math.abs(mean[ch]),
        `${what}: mean`,
      );
    }
  });
}

/** Each case run on 1, 2 and 3 threads: its y and its moments the same bits. */
export function assertSameForThreads<C extends { name: string }>(
  cases: readonly C[],
  run: (c: C) => { y: Float32Array; moments: Float64Array },
): void {
  const before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  try {
    for (const c of cases) {
      const [one, two, three] = [1, 2, 3].map((t) => {
        assert.equal(lib.lits_set_num_threads(t), 0);
        return run(c);
      });
      for (const [other, t] of [[two, 2], [three, 3]] as const) {
        assertBits(other.y, one.y, `${c.name}: y, 1 and ${t} threads`);
        other.moments.forEach((v, i) =>
          assert.ok(Object.is(v, one.moments[i]), `${c.name}: moment ${i}, 1 and ${t} threads`)
        );
      }
    }
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
}

/**
 * The gathering convolution `symbol` refuses a NULL moments array and a bad
 * geometry with a message, leaving the moments untouched, and gives an empty
 * batch the mean of nothing (NaN means, zero M2). Call inside a scope.
 */
export function assertRefusesBadCalls(symbol: string): void {
  const f = (lib as unknown as Record<string, (...a: unknown[]) => number>)[symbol];
  const ptr = (a: Float64Array) => Deno.UnsafePointer.of(a);
  const x = randn([2, 3, 8, 8]), w = randn([4, 3, 1, 1]), y = zeros([2, 4, 8, 8]);
  const params = new Int32Array([2, 3, 8, 8, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  assert.equal(f(params, x.ptr, null, 0, w.ptr, null, y.ptr, null), STATUS.errArgument);
  assert.match(lastError(lib), /moments is NULL/);
  const bad = new Int32Array([2, 3, 8, 8, 4, 1, 1, 0, 1, 0, 0, 1, 1, 1]); // stride 0
  const m = new Float64Array(8).fill(7);
  assert.equal(f(bad, x.ptr, null, 0, w.ptr, null, y.ptr, ptr(m)), STATUS.errArgument);
  assert.match(lastError(lib), /stride/);
  assert.ok(m.every((v) => v === 7), "moments untouched");
  const none = new Int32Array([0, 3, 8, 8, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1]); // no images
  assert.equal(f(none, x.ptr, null, 0, w.ptr, null, y.ptr, ptr(m)), 0);
  assert.ok(m.every((v, i) => i % 2 ? v === 0 : Number.isNaN(v)), `${m}`);
}
