/**
 * Every function of lits.h on CUDA against the CPU backend, on random inputs:
 * relative error within 1e-4 for fp32 (TF32 off, the default), bit-exact
 * where the ABI promises it (Philox streams, dropout masks, pooling indices,
 * argmax). Skipped without a usable GPU; `deno task gpu:check` runs it.
 */
import assert from "node:assert/strict";
import { assertPairClose, both, freeAll, gpu, gpuReady, ok, pair, Rng } from "./cuda_pair.ts";
import { lastError } from "../src/ffi/native.ts";

const ignore = !gpuReady;
const test = (name: string, fn: () => void) =>
  Deno.test({
    name: `cuda vs cpu: ${name}`,
    ignore,
    fn() {
      try {
        fn();
      } finally {
        freeAll();
      }
    },
  });

test("fills, casts, copies and strided copies", () => {
  const rng = new Rng(1);
  const f = pair(1000), i = pair(new Int32Array(1000));
  both("fill_f32", (l, s) => l.lits_fill_f32(s(f), 1000, -2.5));
  both("fill_i32", (l, s) => l.lits_fill_i32(s(i), 1000, 7));
  assertPairClose(f, "fill_f32");
  assertPairClose(i, "fill_i32", { int: true });
  const x = pair(Float32Array.from([0.5, -0.5, 1.9, -1.9, 3e9, -3e9, NaN, 2147483520, -0.0]));
  const xi = pair(new Int32Array(9));
  both("cast_f32_i32", (l, s) => l.lits_cast_f32_i32(s(x), s(xi), 9));
  assertPairClose(xi, "cast_f32_i32 (truncating, saturating, NaN -> 0)", { int: true });
  const ints = pair(Int32Array.from([0, 1, -7, 16777217, -2147483648]));
  const back = pair(5);
  both("cast_i32_f32", (l, s) => l.lits_cast_i32_f32(s(ints), s(back), 5));
  assertPairClose(back, "cast_i32_f32", { rtol: 0, atol: 0 });
  // Overlapping device copy (memmove semantics).
  const m = pair(rng.floats(64));
  both(
    "copy_d2d overlap",
    (l, s) => l.lits_copy_d2d(Deno.UnsafePointer.offset(s(m), 16)!, s(m), 200),
  );
  assertPairClose(m, "copy_d2d overlapping", { rtol: 0, atol: 0 });
  // Permuted and expanded views.
  const src = pair(rng.floats(2 * 3 * 4));
  for (
    const [shape, strides] of [
      [[4, 3, 2], [1, 4, 12]],
      [[2, 5, 3, 4], [12, 0, 4, 1]],
      [[3, 1, 4], [4, 7, 1]],
      [[], []],
    ] as const
  ) {
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    const out = pair(n);
    const sh = BigInt64Array.from(shape.map(BigInt)), st = BigInt64Array.from(strides.map(BigInt));
    both("strided_copy", (l, s) => l.lits_strided_copy(shape.length, sh, s(src), st, s(out)));
    assertPairClose(out, `strided_copy [${shape}] strides [${strides}]`, { rtol: 0, atol: 0 });
  }
});

test("unary ops and their backward", () => {
  const rng = new Rng(2);
  const n = 4099;
  const xs = rng.floats(n, -4, 4);
  xs.set([0, -0, 1, -1, NaN, Infinity, -Infinity]);
  const x = pair(xs), y = pair(n), dy = pair(rng.floats(n)), dx = pair(n);
  for (let op = 0; op <= 38; op++) {
    // erfinv (38): CUDA's erfinvf against torch's CPU algorithm, within 3.3e-6 of the exact
    // value for |x| > 0.999 (7.5e-5 in the gradient, whose e^(y^2) grows it).
    const tol = op === 38 ? { rtol: 1e-4, atol: 1e-6 } : { rtol: 1e-5, atol: 1e-6 };
    for (const alpha of [2, 0.5, 1, 0, 3.3, -1.5]) {
      both("unary", (l, s) => l.lits_unary_f32(op, s(x), s(y), n, alpha));
      assertPairClose(y, `unary op ${op} alpha ${alpha}`, tol);
      both(
        "unary_backward",
        (l, s) => l.lits_unary_backward_f32(op, s(x), s(y), s(dy), s(dx), n, alpha),
      );
      assertPairClose(dx, `unary backward op ${op} alpha ${alpha}`, tol);
    }
  }
});

test("broadcasting binary ops", () => {
  const rng = new Rng(3);
  const cases: [number[], number[], number[]][] = [
    // shape, a strides, b strides (0 = broadcast)
    [[1000], [1], [1]],
    [[1000], [1], [0]],
    [[1000], [0], [1]],
    [[4, 5, 3], [15, 3, 1], [0, 3, 1]],
    [[4, 5, 3], [1, 4, 20], [3, 0, 1]],
    [[2, 3, 4, 5], [60, 20, 5, 1], [0, 1, 0, 0]],
    [[64, 16, 8, 8], [1024, 64, 8, 1], [0, 1, 0, 0]],
    [[], [], []],
  ];
  for (const [shape, sa, sb] of cases) {
    const total = shape.reduce((a, b) => a * b, 1);
    const span = (st: number[]) => 1 + shape.reduce((acc, d, i) => acc + (d - 1) * st[i], 0);
    const a = pair(rng.floats(span(sa), -3, 3)),
      b = pair(rng.floats(span(sb), 0.5, 3)),
      out = pair(total);
    const sh = BigInt64Array.from(shape.map(BigInt));
    const as = BigInt64Array.from(sa.map(BigInt)), bs = BigInt64Array.from(sb.map(BigInt));
    for (let op = 0; op <= 13; op++) {
      both("binary", (l, s) => l.lits_binary_f32(op, shape.length, sh, s(a), as, s(b), bs, s(out)));
      assertPairClose(out, `binary op ${op} [${shape}]`, { rtol: 1e-5, atol: 1e-6 });
    }
  }
});

test("reductions and argmax", () => {
  const rng = new Rng(4);
  for (
    // Rows: split (200000), one block each (1500), one warp each (<= 512).
    const [outer, r, inner] of [
      [1, 200000, 1],
      [40, 1500, 1],
      [33, 512, 1],
      [64, 3, 1],
      [2, 50, 300],
      [3, 7, 5],
      [5, 0, 3],
      [1, 1, 1],
    ]
  ) {
    const x = pair(rng.floats(Math.max(1, outer * r * inner), -2, 2)), out = pair(outer * inner);
    for (let op = 0; op <= 3; op++) {
      if (r === 0 && op >= 2) continue;
      both("reduce", (l, s) => l.lits_reduce_f32(op, s(x), s(out), outer, r, inner));
      assertPairClose(out, `reduce op ${op} [${outer}, ${r}, ${inner}]`, {
        rtol: 1e-5,
        atol: 1e-6,
      });
    }
    if (r === 0) continue;
    const idx = pair(new Int32Array(outer * inner));
    both("argmax", (l, s) => l.lits_argmax_f32(s(x), s(idx), outer, r, inner));
    assertPairClose(idx, `argmax [${outer}, ${r}, ${inner}]`, { int: true });
  }
  // Ties pick the first; NaN counts as the maximum.
  const t = pair(Float32Array.from([1, 3, 3, 0, 2, NaN, 5, NaN, 4, 4, 4, 4]));
  const ti = pair(new Int32Array(3));
  both("argmax ties", (l, s) => l.lits_argmax_f32(s(t), s(ti), 3, 4, 1));
  assertPairClose(ti, "argmax ties and NaN", { int: true });
  assert.deepEqual([...ti.g.i32()], [1, 1, 0]);
});

test("gather, scatter-add, sort and cumsum along a dimension", () => {
  const rng = new Rng(14);
  for (
    const [outer, r, k, inner] of [[3, 7, 5, 4], [1, 300, 300, 1], [64, 9, 2, 1], [2, 40, 40, 3]]
  ) {
    const vals = rng.floats(outer * r * inner, -2, 2);
    for (let t = 0; t < vals.length; t += 7) vals[t] = [NaN, -0, 0, 1][t % 4]; // ties, NaN, zeros
    const x = pair(vals);
    const index = pair(new Int32Array(outer * k * inner));
    for (const descending of [0, 1]) {
      both("sort", (l, s) => l.lits_sort_f32(s(x), s(index), outer, r, inner, k, descending));
      assertPairClose(index, `sort [${outer}, ${r}, ${inner}] k ${k} desc ${descending}`, {
        int: true,
      });
    }
    const strides = BigInt64Array.from([k * inner, inner, 1].map(BigInt));
    const out = pair(outer * k * inner), dx = pair(new Float32Array(outer * r * inner));
    both(
      "gather",
      (l, s) => l.lits_gather_f32(s(x), s(index), strides, s(out), outer, r, k, inner, 1),
    );
    assertPairClose(out, `gather [${outer}, ${r}, ${inner}] k ${k}`, { rtol: 0, atol: 0 });
    const dy = pair(rng.floats(outer * k * inner));
    both(
      "scatter_add",
      (l, s) => l.lits_scatter_add_f32(s(dy), s(index), strides, s(dx), outer, r, k, inner),
    );
    assertPairClose(dx, `scatter_add [${outer}, ${r}, ${inner}] k ${k}`, { rtol: 0, atol: 0 });
  }
  for (const [outer, r, inner] of [[3, 700, 1], [2, 9, 300], [1, 1, 5]]) {
    const x = pair(rng.floats(outer * r * inner, -2, 2)), y = pair(outer * r * inner);
    for (const reverse of [0, 1]) {
      both("cumsum", (l, s) => l.lits_cumsum_f32(s(x), s(y), outer, r, inner, reverse));
      // Both sum each column in order in double: the same float32 results.
      assertPairClose(y, `cumsum [${outer}, ${r}, ${inner}] reverse ${reverse}`, {
        rtol: 0,
        atol: 0,
      });
    }
  }
  const ints = pair(Int32Array.from([16777217, -5, 16777216, 2147483647, -2147483648, -5]));
  const order = pair(new Int32Array(6));
  both("sort_i32", (l, s) => l.lits_sort_i32(s(ints), s(order), 1, 6, 1, 6, 0));
  assertPairClose(order, "sort_i32", { int: true });
  assert.deepEqual([...order.g.i32()], [4, 1, 5, 2, 0, 3]);
});

test("softmax and log-softmax, forward and backward", () => {
  const rng = new Rng(5);
  for (const [outer, r, inner] of [[64, 3, 1], [2, 1000, 1], [4, 3, 4096], [1, 5, 7]]) {
    const n = outer * r * inner;
    const x = pair(rng.floats(n, -5, 5)), y = pair(n), dy = pair(rng.floats(n)), dx = pair(n);
    for (const log of [0, 1]) {
      both("softmax", (l, s) => l.lits_softmax_f32(s(x), s(y), outer, r, inner, log));
      assertPairClose(y, `softmax log ${log} [${outer}, ${r}, ${inner}]`, { rtol: 1e-5 });
      both(
        "softmax_backward",
        (l, s) => l.lits_softmax_backward_f32(s(y), s(dy), s(dx), outer, r, inner, log),
      );
      assertPairClose(dx, `softmax backward log ${log} [${outer}, ${r}, ${inner}]`);
    }
  }
});

test("cross-entropy, forward and backward, and a bad target", () => {
  const rng = new Rng(6);
  for (const [n, c, inner] of [[64, 3, 1], [4, 3, 1000], [2, 10, 7]]) {
    const npos = n * inner;
    const logits = pair(rng.floats(n * c * inner, -3, 3));
    const target = pair(
      Int32Array.from({ length: npos }, () => (rng.next() < 0.1 ? -100 : rng.int(0, c - 1))),
    );
    const weight = pair(rng.floats(c, 0.2, 2));
    const dlogits = pair(n * c * inner);
    for (const weighted of [false, true]) {
      for (const smoothing of [0, 0.1]) {
        for (const reduction of [0, 1, 2]) {
          const what =
            `cross-entropy [${n}, ${c}, ${inner}] weighted ${weighted} smoothing ${smoothing} reduction ${reduction}`;
          const loss = pair(reduction === 0 ? npos : 1);
          const w = (s: (p: typeof weight) => Deno.PointerObject) => (weighted ? s(weight) : null);
          both(
            what,
            (l, s) =>
              l.lits_cross_entropy_f32(
                s(logits),
                s(target),
                w(s),
                n,
                c,
                inner,
                -100,
                smoothing,
                reduction,
                s(loss),
              ),
          );
          assertPairClose(loss, what);
          const dloss = pair(reduction === 0 ? rng.floats(npos) : Float32Array.of(0.7));
          both(
            what,
            (l, s) =>
              l.lits_cross_entropy_backward_f32(
                s(logits),
                s(target),
                w(s),
                n,
                c,
                inner,
                -100,
                smoothing,
                reduction,
                s(dloss),
                s(dlogits),
              ),
          );
          assertPairClose(dlogits, `${what} backward`);
        }
      }
    }
  }
  const logits = pair(new Float32Array(6)), bad = pair(Int32Array.from([0, 1, 7])), loss = pair(1);
  const status = gpu.lits_cross_entropy_f32(
    logits.g.ptr,
    bad.g.ptr,
    null,
    3,
    2,
    1,
    -100,
    0,
    1,
    loss.g.ptr,
  );
  assert.equal(status, 1);
  assert.match(lastError(gpu), /target 7 at index 2 is out of range \[0, 2\)/);
});

test("GEMM: transposes, leading dimensions, batches, beta", () => {
  const rng = new Rng(7);
  for (const [m, n, k] of [[1, 1, 1], [17, 33, 9], [128, 64, 256], [3, 5, 0]]) {
    for (const [ta, tb] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      for (const batch of [1, 3]) {
        const lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
        const sa = (ta ? k : m) * lda, sb = 0, /* one B for every matrix */ sc = m * ldc;
        const a = pair(rng.floats(sa * batch + 4)), b = pair(rng.floats((tb ? n : k) * ldb + 4));
        const c = pair(rng.floats(sc * batch));
        for (const [alpha, beta] of [[1, 0], [0.5, 0.25], [0, 2]]) {
          both(
            "gemm",
            (l, s) =>
              l.lits_gemm_f32(
                ta,
                tb,
                m,
                n,
                k,
                alpha,
                s(a),
                lda,
                s(b),
                ldb,
                beta,
                s(c),
                ldc,
                batch,
                sa,
                sb,
                sc,
              ),
          );
          assertPairClose(
            c,
            `gemm m${m} n${n} k${k} ta${ta} tb${tb} batch ${batch} alpha ${alpha} beta ${beta}`,
          );
        }
      }
    }
  }
  const x = pair(4);
  assert.equal(
    gpu.lits_gemm_f32(0, 0, 2, 2, 2, 1, x.g.ptr, 1, x.g.ptr, 2, 0, x.g.ptr, 2, 1, 0, 0, 0),
    1,
  );
  assert.match(lastError(gpu), /lits_gemm_f32: lda=1 must be >= 2/);
});

test("convolution: forward, backward data, filter and bias", () => {
  const rng = new Rng(8);
  // n, c, h, w, k, r, s, stride, pad, dilation, groups
  const cases = [
    [2, 3, 17, 15, 4, 3, 3, 1, 1, 1, 1],
    [2, 4, 16, 16, 6, 3, 3, 2, 1, 1, 2],
    [1, 3, 20, 20, 5, 5, 5, 1, 2, 2, 1],
    [2, 8, 9, 9, 16, 1, 1, 1, 0, 1, 1],
    [2, 1, 64, 64, 64, 7, 7, 2, 3, 1, 1],
    [1, 4, 8, 8, 4, 3, 3, 1, 1, 1, 4],
  ];
  for (const [n, c, h, w, k, r, s, st, pd, dl, g] of cases) {
    const oh = Math.floor((h + 2 * pd - dl * (r - 1) - 1) / st) + 1;
    const ow = Math.floor((w + 2 * pd - dl * (s - 1) - 1) / st) + 1;
    const x = pair(rng.floats(n * c * h * w)), wt = pair(rng.floats(k * (c / g) * r * s));
    const bias = pair(rng.floats(k)),
      y = pair(n * k * oh * ow),
      dy = pair(rng.floats(n * k * oh * ow));
    const dx = pair(n * c * h * w), dw = pair(k * (c / g) * r * s), db = pair(k);
    const geo = new Int32Array([n, c, h, w, k, r, s, st, st, pd, pd, dl, dl, g]);
    const what =
      `conv [${n}, ${c}, ${h}, ${w}] k${k} ${r}x${s} stride ${st} pad ${pd} dil ${dl} groups ${g}`;
    for (const withBias of [false, true]) {
      both(
        what,
        (l, p) =>
          l.lits_conv2d_forward_f32(geo, p(x), null, 0, p(wt), withBias ? p(bias) : null, p(y)),
      );
      assertPairClose(y, `${what} forward bias ${withBias}`);
    }
    both(what, (l, p) => l.lits_conv2d_backward_data_f32(geo, p(wt), p(dy), p(dx)));
    assertPairClose(dx, `${what} backward data`);
    both(what, (l, p) => l.lits_conv2d_backward_filter_f32(geo, p(x), null, 0, p(dy), p(dw)));
    assertPairClose(dw, `${what} backward filter`);
    both(what, (l, p) => l.lits_conv2d_backward_bias_f32(p(dy), p(db), n, k, oh * ow));
    assertPairClose(db, `${what} backward bias`);
  }
});

test("convolution and max pooling: an input transform needs the fused section", () => {
  // lits.h: a backend without the LITS_OPTIONAL section (CUDA) refuses a
  // transform; one with it (the CPU library standing in) applies it.
  const fused = gpu.lits_fused_affine_f32 !== null;
  const x = pair(2 * 3 * 4 * 4), coef = pair(3 * 3), out = pair(2 * 4 * 4 * 4);
  const conv = new Int32Array([2, 3, 4, 4, 4, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  const st = gpu.lits_conv2d_forward_f32(conv, x.g.ptr, coef.g.ptr, 0, x.g.ptr, null, out.g.ptr);
  assert.equal(st, fused ? 0 : 3, lastError(gpu));
  if (!fused) assert.match(lastError(gpu), /conv2d_forward_f32: input transforms need the fused/);
  const pool = new Int32Array([2, 3, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2]);
  const sp = gpu.lits_maxpool2d_forward_f32(pool, x.g.ptr, null, 1, out.g.ptr, out.g.ptr);
  assert.equal(sp, fused ? 0 : 3, lastError(gpu));
  if (!fused) {
    assert.match(lastError(gpu), /maxpool2d_forward_f32: input transforms need the fused/);
  }
});

test("pooling: max (indices exact), average, adaptive average", () => {
  const rng = new Rng(9);
  // h, w, kernel, stride, pad, ceil mode
  for (
    const [h, w, kk, st, pd, ceil] of [[32, 32, 3, 2, 1, 0], [15, 9, 2, 2, 0, 1], [
      7,
      7,
      3,
      1,
      1,
      0,
    ], [64, 64, 2, 2, 0, 0]]
  ) {
    const size = (i: number) => {
      let o = Math.floor((i + 2 * pd - kk + (ceil ? st - 1 : 0)) / st) + 1;
      if (ceil && (o - 1) * st >= i + pd) o--;
      return o;
    };
    const n = 2, c = 3, oh = size(h), ow = size(w);
    const xs = Float32Array.from(rng.floats(n * c * h * w), (v) => Math.round(v * 4) / 4); // ties
    const x = pair(xs), y = pair(n * c * oh * ow), idx = pair(new Int32Array(n * c * oh * ow));
    const dy = pair(rng.floats(n * c * oh * ow)), dx = pair(n * c * h * w);
    const geo = new Int32Array([n, c, h, w, kk, kk, st, st, pd, pd, oh, ow]);
    const what = `pool ${h}x${w} k${kk} s${st} p${pd} ceil ${ceil}`;
    both(what, (l, p) => l.lits_maxpool2d_forward_f32(geo, p(x), null, 0, p(y), p(idx)));
    assertPairClose(y, `max ${what}`, { rtol: 0, atol: 0 });
    assertPairClose(idx, `max indices ${what}`, { int: true });
    both(what, (l, p) => l.lits_maxpool2d_backward_f32(geo, p(x), p(y), p(dy), p(idx), p(dx)));
    assertPairClose(dx, `max backward ${what}`, { rtol: 1e-6, atol: 1e-7 });
    for (const includePad of [0, 1]) {
      both(what, (l, p) => l.lits_avgpool2d_forward_f32(geo, p(x), p(y), includePad));
      assertPairClose(y, `avg ${what} include_pad ${includePad}`, { rtol: 1e-6, atol: 1e-7 });
      both(what, (l, p) => l.lits_avgpool2d_backward_f32(geo, p(dy), p(dx), includePad));
      assertPairClose(dx, `avg backward ${what} include_pad ${includePad}`, {
        rtol: 1e-6,
        atol: 1e-7,
      });
    }
  }
  for (const [h, w, oh, ow] of [[7, 7, 1, 1], [10, 13, 3, 4], [3, 3, 5, 5], [64, 64, 7, 7]]) {
    const n = 2, c = 3;
    const x = pair(rng.floats(n * c * h * w)), y = pair(n * c * oh * ow);
    const dy = pair(rng.floats(n * c * oh * ow)), dx = pair(n * c * h * w);
    both(
      "adaptive",
      (l, p) => l.lits_adaptive_avgpool2d_forward_f32(p(x), p(y), n, c, h, w, oh, ow),
    );
    assertPairClose(y, `adaptive ${h}x${w} -> ${oh}x${ow}`, { rtol: 1e-6, atol: 1e-7 });
    both(
      "adaptive",
      (l, p) => l.lits_adaptive_avgpool2d_backward_f32(p(dy), p(dx), n, c, h, w, oh, ow),
    );
    assertPairClose(dx, `adaptive backward ${h}x${w} -> ${oh}x${ow}`, { rtol: 1e-6, atol: 1e-7 });
  }
});

test("batch norm: training (running statistics), inference, backward", () => {
  const rng = new Rng(10);
  for (const [n, c, hw] of [[8, 4, 49], [64, 16, 1024], [2, 3, 1]]) {
    const x = pair(rng.floats(n * c * hw, -1, 3)), y = pair(n * c * hw);
    const gamma = pair(rng.floats(c, 0.5, 1.5)), beta = pair(rng.floats(c));
    const mean = pair(c), invstd = pair(c);
    // eps 0.1 too: the backward must be given the forward's, not a fixed 1e-5.
    for (const [affine, eps] of [[true, 1e-5], [false, 1e-5], [true, 0.1]] as const) {
      const rm = pair(rng.floats(c)), rv = pair(rng.floats(c, 0.5, 2));
      const gp = (p: (q: typeof gamma) => Deno.PointerObject) => (affine ? p(gamma) : null);
      const bp = (p: (q: typeof beta) => Deno.PointerObject) => (affine ? p(beta) : null);
      const what = `batch norm [${n}, ${c}, ${hw}] affine ${affine} eps ${eps}`;
      both(
        what,
        (l, p) =>
          l.lits_batchnorm2d_forward_train_f32(
            p(x),
            gp(p),
            bp(p),
            p(y),
            p(rm),
            p(rv),
            p(mean),
            p(invstd),
            n,
            c,
            hw,
            0.1,
            eps,
          ),
      );
      for (
        const [b, name] of [[y, "y"], [rm, "running_mean"], [rv, "running_var"], [
          mean,
          "save_mean",
        ], [invstd, "save_invstd"]] as const
      ) {
        assertPairClose(b, `${what} train ${name}`);
      }
      both(
        what,
        (l, p) =>
          l.lits_batchnorm2d_forward_infer_f32(
            p(x),
            gp(p),
            bp(p),
            p(rm),
            p(rv),
            p(y),
            n,
            c,
            hw,
            eps,
          ),
      );
      assertPairClose(y, `${what} inference`);
      const dy = pair(rng.floats(n * c * hw)), dx = pair(n * c * hw), dg = pair(c), dbeta = pair(c);
      both(
        what,
        (l, p) =>
          l.lits_batchnorm2d_backward_f32(
            p(x),
            p(dy),
            gp(p),
            p(mean),
            p(invstd),
            p(dx),
            affine ? p(dg) : null,
            affine ? p(dbeta) : null,
            n,
            c,
            hw,
            eps,
          ),
      );
      // dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)): with two values a
      // channel its terms nearly cancel, so fp32's error is relative to the terms' size.
      const most = (b: Float32Array) => b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const terms = (affine ? most(gamma.c.f32()) : 1) * most(invstd.c.f32()) * most(dy.c.f32());
      const rms = Math.sqrt(dx.c.f32().reduce((s, v) => s + v * v, 0) / dx.n);
      assertPairClose(dx, `${what} backward dx`, { atol: Math.max(1e-4 * rms, 1e-6 * terms) });
      if (affine) {
        assertPairClose(dg, `${what} backward dgamma`);
        assertPairClose(dbeta, `${what} backward dbeta`);
      }
    }
    // Without running statistics (track_running_stats=False).
    both(
      "batch norm without running stats",
      (l, p) =>
        l.lits_batchnorm2d_forward_train_f32(
          p(x),
          null,
          null,
          p(y),
          null,
          null,
          p(mean),
          p(invstd),
          n,
          c,
          hw,
          0.1,
          1e-5,
        ),
    );
    assertPairClose(y, `batch norm [${n}, ${c}, ${hw}] no running stats`);
  }
});

test("random numbers: uniform and dropout bit for bit, normal within 1e-5", () => {
  for (
    const [seed, offset, n] of [[0n, 0n, 1], [0x2017n, 5n, 1001], [
      2n ** 64n - 1n,
      2n ** 64n - 3n,
      37,
    ], [42n, 2n ** 32n - 1n, 100000]] as const
  ) {
    const u = pair(n);
    both("uniform", (l, p) => l.lits_rand_uniform_f32(p(u), n, seed, offset, -1.5, 2.25));
    assertPairClose(u, `uniform seed ${seed} offset ${offset}`, { rtol: 0, atol: 0 });
    both("normal", (l, p) => l.lits_rand_normal_f32(p(u), n, seed, offset, 3, 0.5));
    assertPairClose(u, `normal seed ${seed} offset ${offset}`, { rtol: 1e-5, atol: 1e-5 });
    const x = pair(new Rng(11).floats(n)), y = pair(n), mask = pair(n);
    for (const prob of [0, 0.3, 1]) {
      both("dropout", (l, p) => l.lits_dropout_f32(p(x), p(y), p(mask), n, prob, seed, offset));
      assertPairClose(mask, `dropout mask p ${prob}`, { rtol: 0, atol: 0 });
      assertPairClose(y, `dropout y p ${prob}`, { rtol: 0, atol: 0 });
    }
  }
});

test("optimizer steps: SGD variants, Adam and AdamW", () => {
  const rng = new Rng(12);
  const n = 10007;
  const grad = pair(rng.floats(n));
  for (
    const [momentum, dampening, nesterov, wd] of [[0, 0, 0, 0], [0.9, 0, 0, 1e-4], [
      0.9,
      0,
      1,
      1e-2,
    ], [0.9, 0.1, 0, 0]]
  ) {
    const param = pair(rng.floats(n)), buf = pair(rng.floats(n));
    for (const first of [1, 0, 0]) {
      both(
        "sgd",
        (l, p) =>
          l.lits_sgd_step_f32(
            p(param),
            p(grad),
            p(buf),
            n,
            0.05,
            momentum,
            dampening,
            nesterov,
            wd,
            first,
          ),
      );
    }
    assertPairClose(param, `sgd momentum ${momentum} nesterov ${nesterov} wd ${wd}`, {
      rtol: 1e-5,
    });
    assertPairClose(buf, `sgd momentum buffer ${momentum}`, { rtol: 1e-5 });
  }
  for (const decoupled of [0, 1]) {
    const param = pair(rng.floats(n)), m = pair(n), v = pair(n);
    for (let step = 1; step <= 3; step++) {
      both(
        "adam",
        (l, p) =>
          l.lits_adam_step_f32(
            p(param),
            p(grad),
            p(m),
            p(v),
            n,
            1e-3,
            0.9,
            0.999,
            1e-8,
            1e-2,
            decoupled,
            step,
          ),
      );
    }
    assertPairClose(param, `adam decoupled ${decoupled}`, { rtol: 1e-5 });
    assertPairClose(m, `adam exp_avg decoupled ${decoupled}`, { rtol: 1e-5 });
    assertPairClose(v, `adam exp_avg_sq decoupled ${decoupled}`, { rtol: 1e-5 });
  }
});

test("the allocator: reuse, statistics, bad frees", () => {
  const stats = () => {
    const s = new BigInt64Array(5);
    ok(gpu, gpu.lits_memory_stats(s), "memory_stats");
    return Array.from(s, Number);
  };
  const before = stats();
  const out = new BigUint64Array(1);
  ok(gpu, gpu.lits_alloc(3 << 20, out), "alloc");
  const p = Deno.UnsafePointer.create(out[0])!;
  assert.equal(stats()[0] - before[0] >= 3 << 20, true);
  ok(gpu, gpu.lits_free(p), "free");
  assert.equal(gpu.lits_free(p), 1);
  assert.match(lastError(gpu), /already freed/);
  const fromSystem = stats()[4];
  ok(gpu, gpu.lits_alloc(3 << 20, out), "alloc again");
  assert.equal(stats()[4], fromSystem, "the cached block came back: no new device memory");
  ok(gpu, gpu.lits_free(Deno.UnsafePointer.create(out[0])), "free");
  ok(gpu, gpu.lits_empty_cache(), "empty_cache");
  assert.equal(stats()[2], 0, "empty_cache gives the cache back");
  assert.equal(gpu.lits_free(Deno.UnsafePointer.create(out[0] + 256n)), 1);
  assert.match(lastError(gpu), /did not come from lits_alloc/);
});
