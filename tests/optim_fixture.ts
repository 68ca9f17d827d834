/**
 * What the optimizer flag tests share (tests/optim_amsgrad_test.ts,
 * tests/optim_maximize_test.ts): the fixture of
 * scripts/make_optim_amsgrad_fixtures.py, its loss, and optimizers with one
 * group per parameter. Tensors on `LITS_TEST_DEVICE`.
 *
 * @module
 */
import { optim, scope, type Tensor } from "../mod.ts";
import { fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

export type Options = Record<string, number | boolean | number[]>;
/** A run of steps: each group's options, the loss's signs and targets, the parameters after each step. */
export interface Case {
  name: string;
  cls: "Adam" | "AdamW" | "SGD";
  defaults: Options;
  groups: Options[];
  signs: number[];
  start: Stored[];
  targets: Stored[];
  trace: Stored[][];
}
/** A run saved half-way (`mid`, `state`), loaded into an optimizer made with `plain`, then `after`. */
export interface Saved extends Omit<Case, "name" | "trace"> {
  plain: Options;
  mid: Stored[];
  state: Record<string, Record<string, Stored>>;
  after: Stored[][];
}
/** OneCycleLR with per-group momentum lists. */
export interface Cycle {
  cls: Case["cls"];
  defaults: Options;
  options: optim.OneCycleLROptions;
  /** Each group's [lr, momentum or beta1] after construction and after each step. */
  trace: [number, number][][];
}
export const fx = loadFixture<{ torch: string; cases: Case[]; saved: Saved[]; cycles: Cycle[] }>(
  "optim_amsgrad.json",
);

// deno-lint-ignore no-explicit-any
export type AnyOptim = optim.Optimizer<any>;
// deno-lint-ignore no-explicit-any
export const CLASSES: Record<Case["cls"], new (params: any, options?: any) => AnyOptim> = {
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  SGD: optim.SGD,
};
export const tol = testDevice === "cpu" ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-4, atol: 1e-5 };
// deno-lint-ignore no-explicit-any
export const loose = (o: unknown): any => o;

export const leaf = (s: Stored) => fromStored(s, { requiresGrad: true, device: testDevice });
export const dev = (s: Stored) => fromStored(s, { device: testDevice });

/** One step of L = sum(sign_i ((p_i - t_i)^2 (i + 1.5) + cos(2 p_i))), as the generator's. */
export function step(opt: AnyOptim, params: Tensor[], targets: Tensor[], signs: number[]): void {
  scope(() => {
    opt.zeroGrad();
    let loss: Tensor | null = null;
    params.forEach((p, i) => {
      const term = p.sub(targets[i]).square().mul(i + 1.5).add(p.mul(2).cos()).sum()
        .mul(signs[i]);
      loss = loss === null ? term : loss.add(term);
    });
    loss!.backward();
    opt.step();
  });
}

/** An optimizer of `cls` with one group per parameter, each with its own options. */
export function make(
  cls: Case["cls"],
  params: Tensor[],
  groups: Options[],
  defaults: Options,
): AnyOptim {
  return new CLASSES[cls](params.map((p, i) => ({ params: [p], options: groups[i] })), defaults);
}
