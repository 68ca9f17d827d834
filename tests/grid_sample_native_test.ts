/**
 * The CPU backend's bilinear and nearest grid-sample kernel
 * (native/cpu/grid_sample.c) against the composed path that bicubic and
 * the CUDA backend take (grid_sample.ts): the same values and gradients,
 * to float32 rounding, in every mode, padding and alignment, with grids
 * that leave the image, hit pixel centres and hold NaN and infinities.
 * (Both are checked against torch 1.13 in grid_sample_test.ts.)
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, rand, randn, scope, type Tensor, tensor } from "../mod.ts";
import { assertClose } from "./helpers.ts";

const SYMBOL = "lits_grid_sample2d_f32";

function sample(
  native: boolean,
  x0: Tensor,
  g0: Tensor,
  options: F.GridSampleOptions,
): Float32Array[] {
  const lib = x0.lib as unknown as Record<string, unknown>;
  const kept = lib[SYMBOL];
  assert.ok(kept, `${SYMBOL} is in the CPU library`);
  if (!native) lib[SYMBOL] = null;
  try {
    return scope(() => {
      const x = x0.detach().requiresGrad_(), g = g0.detach().requiresGrad_();
      const y = F.gridSample(x, g, options);
      const w = y.detach().mul(0.37).add(1);
      y.mul(w).sum().backward();
      return [y, x.grad!, g.grad!].map((t) => (t.toArray() as Float32Array).slice());
    });
  } finally {
    lib[SYMBOL] = kept;
  }
}

Deno.test("gridSample: the native kernel equals the composed path, values and gradients", () => {
  manualSeed(11);
  const x = randn([2, 3, 5, 7]);
  // Positions inside and outside [-1, 1], pixel centres, edges, NaN and infinities.
  const g = rand([2, 4, 6, 2]).mul(3).sub(1.5);
  const special = tensor([[[[0, 0], [1, 1], [-1, -1], [NaN, 0.3], [0.2, Infinity], [
    -Infinity,
    0,
  ]]]]);
  for (const mode of ["bilinear", "nearest"] as const) {
    for (const paddingMode of ["zeros", "border", "reflection"] as const) {
      for (const alignCorners of [false, true]) {
        const o = { mode, paddingMode, alignCorners };
        const what = JSON.stringify(o);
        const [a, b] = [sample(true, x, g, o), sample(false, x, g, o)];
        a.forEach((t, i) => assertClose(t, b[i], { rtol: 1e-5, atol: 1e-5, what: `${what} ${i}` }));
        // Non-finite positions: values agree (NaN where both are NaN); no crash.
        const xs = x.narrow(0, 0, 1);
        const [c, d] = [sample(true, xs, special, o), sample(false, xs, special, o)];
        c[0].forEach((v, i) => {
          const u = d[0][i];
          assert.ok(Number.isNaN(v) ? Number.isNaN(u) : Math.abs(v - u) <= 1e-5, `${what} [${i}]`);
        });
      }
    }
  }
  x.dispose();
  g.dispose();
  special.dispose();
});
