/**
 * Winograd F(4x4, 3x3)'s float32 rounding error against float64 references
 * from PyTorch (scripts/make_winograd_accuracy_fixtures.py), on ResNet-50's
 * layer3 shape with trained-like statistics: forward, input gradient and
 * weight gradient, each as max |error| / max |reference| (dx and dw on the
 * fixture's samples). The bounds on y and dx sit between the two transforms
 * measured on these inputs: Lavin and Gray's points 0, +-1, +-2 (before: y
 * 4.9e-6, dx 3.3e-6) and the points 0, +-3/2, +-2/3 of
 * native/cpu/conv_winograd4.c (y 1.2e-6, dx 7.0e-7). dw (one image, a short
 * sum) measured 1.6e-7 and 2.3e-7. PyTorch 1.13's float32 (a direct sum)
 * measured y 9.4e-7, dx 2.2e-7, dw 3.9e-7 (the fixture's `torchErr`, shown
 * in the failure message).
 */
import assert from "node:assert/strict";
import { functional as F, relu, type Tensor } from "../mod.ts";
import { withEnv } from "./helpers.ts";
import { formula } from "./model_fixture.ts";

type Pass = { stride: number; maxAbs: number; data: number[]; torchErr: number };
type Case = { name: string; x: number[]; w: number[]; bound: number; y: Pass; dx: Pass; dw: Pass };
const FX: { cases: Case[] } = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/winograd_accuracy.json", import.meta.url)),
);

/** The bounds on max |error| / max |reference| (see the module doc). */
const BOUND = { y: 2.5e-6, dx: 1.6e-6, dw: 1e-6 };

/** max |got[i * stride] - ref[i]| / maxAbs. */
function relErr(got: Float32Array, p: Pass): number {
  let most = 0;
  p.data.forEach((r, i) => most = Math.max(most, Math.abs(got[i * p.stride] - r)));
  return most / p.maxAbs;
}

for (const c of FX.cases) {
  Deno.test(`winograd F(4x4, 3x3) accuracy: ${c.name}, forward and both gradients against float64`, () => {
    const [n, , h, wd] = c.x, k = c.w[0];
    const found = withEnv({ LITS_CONV_ALGO: "winograd", LITS_WINOGRAD_TILE: "4" }, () => {
      const x = relu(formula(1, c.x, -0.5, 1.5)).detach().requiresGrad_();
      const w = formula(2, c.w, -c.bound, c.bound, true);
      const y = F.conv2d(x, w, null, { padding: 1 });
      y.backward(formula(3, [n, k, h, wd], -1, 1));
      const arr = (t: Tensor) => t.toArray() as Float32Array;
      return {
        y: relErr(arr(y), c.y),
        dx: relErr(arr(x.grad!), c.dx),
        dw: relErr(arr(w.grad!), c.dw),
      };
    });
    const torch = { y: c.y.torchErr, dx: c.dx.torchErr, dw: c.dw.torchErr };
    const say = JSON.stringify({ found, torch });
    for (const pass of ["y", "dx", "dw"] as const) {
      assert.ok(found[pass] <= BOUND[pass], `${pass}: ${found[pass]} > ${BOUND[pass]}: ${say}`);
    }
  });
}
