/**
 * Adamax, as `torch.optim.Adamax` (PyTorch 1.13, single-tensor step).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Optimizer, type ParamGroupInput, type ParamState } from "./optimizer.ts";
import {
  checkBetas,
  checkNonNegative,
  flagOption,
  optimizerOptions,
  stepGradient,
} from "./adaptive.ts";

/** Options of `Adamax` (torch's names, camelCase; torch 1.13's defaults). */
export interface AdamaxOptions {
  /** Learning rate (default 2e-3). */
  lr?: number;
  /** Decay rates of the first moment and of the infinity norm (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to |grad| before the running maximum (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Maximize the objective instead of minimizing it (default false); a group may set its own. */
  maximize?: boolean;
}

const USAGE = "new optim.Adamax(params, { lr: 2e-3, betas: [0.9, 0.999] })";

type Resolved = {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  maximize: boolean;
  [key: string]: number | boolean | [number, number];
};

/**
 * Adamax, Adam with the infinity norm: a running maximum of |grad|
 * (`exp_inf`) in place of the squared-gradient average, as
 * torch.optim.Adamax (state `exp_avg`, `exp_inf`). `maximize` is each
 * group's, as torch's (a group's own `options: { maximize: true }`).
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.Adamax([w], { lr: 0.1 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.9, -0.9]
 * ```
 */
export class Adamax extends Optimizer<Resolved> {
  /** The default of the groups' `maximize` (torch's `defaults["maximize"]`). */
  readonly maximize: boolean;

  constructor(
    params: Iterable<Tensor> | ParamGroupInput<AdamaxOptions>[],
    options: AdamaxOptions = {},
  ) {
    const o = optimizerOptions<AdamaxOptions>(
      "Adamax",
      arguments.length,
      options,
      ["lr", "betas", "eps", "weightDecay", "maximize"],
      USAGE,
    );
    const maximize = flagOption("Adamax", "maximize", o.maximize);
    super(params, {
      lr: o.lr ?? 2e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0,
      maximize,
    });
    this.maximize = maximize;
  }

  protected validate(o: Resolved): void {
    checkNonNegative("Adamax", o, ["lr", "eps"]);
    checkBetas("Adamax", o.betas);
    checkNonNegative("Adamax", o, ["weightDecay"]);
  }

  protected stateNames(): string[] {
    return ["exp_avg", "exp_inf"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const [beta1, beta2] = o.betas;
    const fused = p.lib.lits_adamax_step_f32;
    if (fused) {
      check(
        p.lib,
        fused(
          p.ptr,
          g.ptr,
          s.tensors.get("exp_avg")!.ptr,
          s.tensors.get("exp_inf")!.ptr,
          p.numel(),
          o.lr / (1 - beta1 ** s.step),
          beta1,
          beta2,
          o.eps,
          o.weightDecay,
          o.maximize ? 1 : 0,
        ),
        () => `Adamax step [${p.shape}]`,
      );
      return;
    }
    // Composed (a backend without the fused step: CUDA).
    noGrad(() => {
      const grad = stepGradient(p, g, o.maximize, o.weightDecay);
      const m = s.tensors.get("exp_avg")!, u = s.tensors.get("exp_inf")!;
      m.copy_(m.mul(beta1).add(grad.mul(1 - beta1)));
      u.copy_(u.mul(beta2).maximum(grad.abs().add(o.eps)));
      const clr = o.lr / (1 - beta1 ** s.step);
      p.copy_(p.add(m.mul(-clr).div(u)));
    });
  }
}
