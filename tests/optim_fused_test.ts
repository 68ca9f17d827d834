/**
 * The fused CPU steps of RMSprop, Adagrad, Adamax, NAdam and RAdam
 * (native/cpu/optim_more.c) against the same steps composed of tensor ops,
 * which a backend without them (CUDA) runs: the same numbers, to float32
 * rounding, over several steps of every option kind. (The fused steps
 * themselves are checked against torch 1.13 in optimizers_more_test.ts.)
 */
import assert from "node:assert/strict";
import { optim, type Tensor, tensor } from "../mod.ts";
import { assertClose } from "./helpers.ts";

type Make = (params: Tensor[]) => optim.Optimizer<never>;

const CASES: [string, string, Make][] = [
  ["RMSprop", "lits_rmsprop_step_f32", (p) => new optim.RMSprop(p, { lr: 0.01 }) as never],
  [
    "RMSprop centered momentum wd maximize",
    "lits_rmsprop_step_f32",
    (p) =>
      new optim.RMSprop(p, {
        lr: 0.01,
        momentum: 0.9,
        centered: true,
        weightDecay: 0.1,
        maximize: true,
      }) as never,
  ],
  [
    "RMSprop momentum",
    "lits_rmsprop_step_f32",
    (p) => new optim.RMSprop(p, { momentum: 0.5 }) as never,
  ],
  [
    "RMSprop centered",
    "lits_rmsprop_step_f32",
    (p) => new optim.RMSprop(p, { centered: true }) as never,
  ],
  [
    "Adagrad",
    "lits_adagrad_step_f32",
    (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, weightDecay: 0.05 }) as never,
  ],
  [
    "Adagrad maximize",
    "lits_adagrad_step_f32",
    (p) => new optim.Adagrad(p, { maximize: true }) as never,
  ],
  ["Adamax", "lits_adamax_step_f32", (p) => new optim.Adamax(p, { weightDecay: 0.1 }) as never],
  [
    "Adamax maximize",
    "lits_adamax_step_f32",
    (p) => new optim.Adamax(p, { maximize: true }) as never,
  ],
  ["NAdam", "lits_nadam_step_f32", (p) => new optim.NAdam(p, { lr: 0.01 }) as never],
  ["NAdam wd", "lits_nadam_step_f32", (p) => new optim.NAdam(p, { weightDecay: 0.1 }) as never],
  // RAdam switches to its adaptive step at step 6 with the default betas.
  ["RAdam", "lits_radam_step_f32", (p) => new optim.RAdam(p, { lr: 0.01 }) as never],
  ["RAdam wd", "lits_radam_step_f32", (p) => new optim.RAdam(p, { weightDecay: 0.1 }) as never],
];

/** Runs 8 steps on two parameters with fixed gradients; returns the parameters' values. */
function run(make: Make, symbol: string, fused: boolean): Float32Array[] {
  const w = tensor([[0.5, -1.5, 2], [0, 3, -0.25]], undefined, { requiresGrad: true });
  const b = tensor([1, -2, 0.125], undefined, { requiresGrad: true });
  const lib = w.lib as unknown as Record<string, unknown>;
  const kept = lib[symbol];
  assert.ok(kept, `${symbol} is in the CPU library`);
  if (!fused) lib[symbol] = null;
  try {
    const opt = make([w, b]);
    for (let step = 1; step <= 8; step++) {
      opt.zeroGrad();
      w.mul(w).mul(step % 3 - 1.5).sum().add(b.mul(b).sum().mul(0.5)).add(w.sum()).backward();
      opt.step();
    }
    opt.dispose();
    return [w.toArray() as Float32Array, b.toArray() as Float32Array];
  } finally {
    lib[symbol] = kept;
    w.dispose();
    b.dispose();
  }
}

Deno.test("fused CPU steps equal the composed ones (the CUDA backend's) over 8 steps", () => {
  for (const [name, symbol, make] of CASES) {
    const fused = run(make, symbol, true), composed = run(make, symbol, false);
    fused.forEach((f, i) =>
      assertClose(f, composed[i], { rtol: 2e-6, atol: 1e-7, what: `${name} p${i}` })
    );
  }
});
