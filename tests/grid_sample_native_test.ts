/**
 * The CPU backend's bilinear and nearest grid-sample kernel
 * (native/cpu/grid_sample.c) against the composed path that bicubic and
 * the CUDA backend take (grid_sample.ts): the same values and gradients,
 * to float32 rounding, in every mode, padding and alignment, with grids
 * that leave the image, hit pixel centres and hold NaN and infinities;
 * rows wider than the kernel's 16-pixel vectors (with a remainder), the
 * backward's every split of rows between threads (whole images, an image
 * shared by two threads), 1, 2 and 3 threads, the same bits from run to
 * run, and one gradient wanted without the other. (Both paths are checked
 * against torch 1.13 in grid_sample_test.ts.)
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, rand, randn, scope, type Tensor, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { assertBits, assertClose, countCalls, withoutSymbols, withThreads } from "./helpers.ts";

const SYMBOL = "lits_grid_sample2d_f32";
const BACKWARD = "lits_grid_sample2d_backward_f32";

/**
 * [out, input gradient, grid gradient] of gridSample on the native kernel
 * or (native false: the symbol hidden) the composed path; `wants` says
 * which of the input and the grid need a gradient (null where not).
 */
function sample(
  native: boolean,
  x0: Tensor,
  g0: Tensor,
  options: F.GridSampleOptions,
  wants: [boolean, boolean] = [true, true],
): (Float32Array | null)[] {
  const go = () =>
    scope(() => {
      const x = x0.detach().requiresGrad_(wants[0]), g = g0.detach().requiresGrad_(wants[1]);
      const y = F.gridSample(x, g, options);
      const w = y.detach().mul(0.37).add(1);
      y.mul(w).sum().backward();
      return [y, x.grad, g.grad].map((t) => t && (t.toArray() as Float32Array).slice());
    });
  return native ? go() : withoutSymbols([SYMBOL], go);
}

/** sample()'s results of both paths agree (rtol and atol 1e-5); null matches null. */
function assertPathsAgree(
  a: (Float32Array | null)[],
  b: (Float32Array | null)[],
  what: string,
): void {
  a.forEach((t, i) => {
    assert.equal(t === null, b[i] === null, `${what} ${i}: a gradient on one path only`);
    if (t !== null) assertClose(t, b[i]!, { rtol: 1e-5, atol: 1e-5, what: `${what} ${i}` });
  });
}

const MODES = ["bilinear", "nearest"] as const;
const PADDINGS = ["zeros", "border", "reflection"] as const;

Deno.test("gridSample: the native kernel equals the composed path, values and gradients", () => {
  manualSeed(11);
  const x = randn([2, 3, 5, 7]);
  // Positions inside and outside [-1, 1], pixel centres, edges, NaN and infinities.
  const g = rand([2, 4, 6, 2]).mul(3).sub(1.5);
  const special = tensor([[[[0, 0], [1, 1], [-1, -1], [NaN, 0.3], [0.2, Infinity], [
    -Infinity,
    0,
  ]]]]);
  for (const mode of MODES) {
    for (const paddingMode of PADDINGS) {
      for (const alignCorners of [false, true]) {
        const o = { mode, paddingMode, alignCorners };
        const what = JSON.stringify(o);
        assertPathsAgree(sample(true, x, g, o), sample(false, x, g, o), what);
        // Non-finite positions: values agree (NaN where both are NaN); no crash.
        const xs = x.narrow(0, 0, 1);
        const [c, d] = [sample(true, xs, special, o), sample(false, xs, special, o)];
        c[0]!.forEach((v, i) => {
          const u = d[0]![i];
          assert.ok(Number.isNaN(v) ? Number.isNaN(u) : Math.abs(v - u) <= 1e-5, `${what} [${i}]`);
        });
      }
    }
  }
  x.dispose();
  g.dispose();
  special.dispose();
});

// Over 16384 output values each, so that the kernel threads (native/cpu/grid_sample.c's
// PARALLEL_MIN); W_out 37, 70 and 41: whole 16-pixel vectors and remainders of 5, 6 and 9 pixels. With 2 or 3 threads
// the backward splits [1, ...] and [3, ...] mid-image (the second thread's share of an image
// goes to a spare, added after) and [2, ...] into whole images.
const WIDE: [number[], number[]][] = [
  [[1, 3, 31, 29], [1, 150, 37, 2]],
  [[3, 1, 40, 23], [3, 83, 70, 2]],
  [[2, 2, 17, 50], [2, 120, 41, 2]],
];

Deno.test("gridSample: native = composed on wide rows, every thread split, 1-3 threads", () => {
  manualSeed(12);
  for (const [xShape, gShape] of WIDE) {
    const x = randn(xShape);
    // Mostly inside the image, some outside, so that every corner test is taken.
    const g = rand(gShape).mul(2.4).sub(1.2);
    for (const mode of MODES) {
      for (const paddingMode of PADDINGS) {
        const o = { mode, paddingMode, alignCorners: paddingMode === "border" };
        const what = `[${xShape}] ${JSON.stringify(o)}`;
        const composed = sample(false, x, g, o);
        for (const threads of [1, 2, 3]) {
          const [a, b] = withThreads(threads, () => [sample(true, x, g, o), sample(true, x, g, o)]);
          assertPathsAgree(a, composed, `${what}, ${threads} threads`);
          // Deterministic for a thread count: the same bits from run to run.
          a.forEach((t, i) => assertBits(t!, b[i]!, `${what}, ${threads} threads, rerun ${i}`));
        }
      }
    }
    x.dispose();
    g.dispose();
  }
});

Deno.test("gridSample: native = composed with one gradient wanted, in one backward call", () => {
  manualSeed(13);
  const [xShape, gShape] = WIDE[1];
  const x = randn(xShape), g = rand(gShape).mul(2.4).sub(1.2);
  for (const mode of MODES) {
    for (const paddingMode of PADDINGS) {
      const o = { mode, paddingMode, alignCorners: false };
      for (const wants of [[true, false], [false, true], [true, true]] as [boolean, boolean][]) {
        const what = `${JSON.stringify(o)} wants ${wants}`;
        const [a, calls] = countCalls([BACKWARD], () => sample(true, x, g, o, wants));
        assert.equal(calls, 1, `${what}: one backward call for both gradients`);
        assertPathsAgree(a, sample(false, x, g, o, wants), what);
      }
    }
  }
  x.dispose();
  g.dispose();
});

Deno.test("gridSample: native = composed on non-contiguous input and grid", () => {
  manualSeed(14);
  // [N, C, H, W] and [N, H_out, W_out, 2] as transposed views of other layouts.
  const x = randn([2, 9, 11, 3]).permute([0, 3, 1, 2]);
  const g = rand([2, 2, 7, 20]).mul(2.4).sub(1.2).permute([0, 2, 3, 1]);
  assert.ok(!x.isContiguous && !g.isContiguous);
  for (const mode of MODES) {
    const o = { mode, paddingMode: "reflection" as const, alignCorners: true };
    assertPathsAgree(sample(true, x, g, o), sample(false, x, g, o), JSON.stringify(o));
  }
  x.dispose();
  g.dispose();
});

Deno.test("gridSample: the kernel refuses bad arguments by name, without a crash", () => {
  const lib = cpuLib();
  const x = randn([1, 1, 4, 5]), g = rand([1, 2, 3, 2]), out = randn([1, 1, 2, 3]);
  const dx = randn([1, 1, 4, 5]), dg = randn([1, 2, 3, 2]);
  type Sizes = [number, number, number, number, number, number, number, number, number];
  const good: Sizes = [1, 1, 4, 5, 2, 3, 0, 0, 0];
  const forward = (s: Sizes, bufs: Deno.PointerValue[] = [x.ptr, g.ptr, out.ptr]) =>
    lib.lits_grid_sample2d_f32!(bufs[0], bufs[1], bufs[2], ...s);
  const backward = (s: Sizes) =>
    lib.lits_grid_sample2d_backward_f32!(out.ptr, x.ptr, g.ptr, dx.ptr, dg.ptr, ...s);
  const bad: [string, Sizes, RegExp][] = [
    ["negative size", [1, 1, -4, 5, 2, 3, 0, 0, 0], /sizes must be >= 0/],
    ["mode 2", [1, 1, 4, 5, 2, 3, 2, 0, 0], /unknown mode 2/],
    ["padding 3", [1, 1, 4, 5, 2, 3, 0, 3, 0], /unknown padding 3/],
    ["no pixels", [1, 1, 0, 5, 2, 3, 0, 0, 0], /the input has no pixels/],
    ["a plane over 2^31", [1, 1, 65536, 32768, 2, 3, 0, 0, 0], /over 2\^31/],
  ];
  for (const [what, sizes, message] of bad) {
    for (
      const [name, call] of [["lits_grid_sample2d_f32", forward], [BACKWARD, backward]] as const
    ) {
      assert.notEqual(call(sizes), 0, `${name}: ${what}`);
      const error = lastError(lib);
      assert.match(error, new RegExp(name), `${name}: ${what}: ${error}`);
      assert.match(error, message, `${name}: ${what}: ${error}`);
    }
  }
  assert.notEqual(forward(good, [x.ptr, null, out.ptr]), 0, "a NULL grid");
  assert.match(lastError(lib), /a buffer is NULL/);
  // Nothing to sample: no pointer is read, and the backward writes zeros.
  assert.equal(forward([1, 1, 4, 5, 0, 3, 0, 0, 0], [null, null, null]), 0);
  assert.equal(backward([1, 1, 4, 5, 0, 3, 0, 0, 0]), 0);
  assert.ok((dx.toArray() as Float32Array).every((v) => v === 0), "dinput zeroed");
  assert.equal(forward(good), 0);
  assert.equal(backward(good), 0);
  for (const t of [x, g, out, dx, dg]) t.dispose();
});
