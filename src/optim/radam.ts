/**
 * RAdam, as `torch.optim.RAdam` (PyTorch 1.13, single-tensor step).
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
  optimizerOptions,
  stepGradient,
  updateMoments,
} from "./adaptive.ts";

/** Options of `RAdam` (torch's names, camelCase; torch 1.13's defaults). */
export interface RAdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the moment estimates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
}

const USAGE = "new optim.RAdam(params, { lr: 1e-3, betas: [0.9, 0.999] })";

type Resolved = {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  [key: string]: number | boolean | [number, number];
};

/**
 * RAdam, Adam with the variance of the adaptive lr rectified, as
 * torch.optim.RAdam (state `exp_avg`, `exp_avg_sq`): while the length of
 * the approximated moving average rho_t is at most 5 (the first steps:
 * about 6 with betas [0.9, 0.999]), the step is plain momentum,
 * lr * exp_avg / (1 - beta1^t); after, the rectified Adam step.
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.RAdam([w], { lr: 0.1 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.8, -0.8]: the momentum step, lr * grad
 * ```
 */
export class RAdam extends Optimizer<Resolved> {
  constructor(
    params: Iterable<Tensor> | ParamGroupInput<RAdamOptions>[],
    options: RAdamOptions = {},
  ) {
    const o = optimizerOptions<RAdamOptions>(
      "RAdam",
      arguments.length,
      options,
      ["lr", "betas", "eps", "weightDecay"],
      USAGE,
    );
    super(params, {
      lr: o.lr ?? 1e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0,
    });
  }

  protected validate(o: Resolved): void {
    checkNonNegative("RAdam", o, ["lr", "eps"]);
    checkBetas("RAdam", o.betas);
    checkNonNegative("RAdam", o, ["weightDecay"]);
  }

  protected stateNames(): string[] {
    return ["exp_avg", "exp_avg_sq"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const [beta1, beta2] = o.betas;
    const step = s.step;
    const bc1 = 1 - beta1 ** step, bc2 = 1 - beta2 ** step;
    // The maximum length of the approximated moving average, and its length now.
    const rhoInf = 2 / (1 - beta2) - 1;
    const rhoT = rhoInf - 2 * step * beta2 ** step / bc2;
    const rect = rhoT > 5
      ? Math.sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT))
      : 0;
    const fused = p.lib.lits_radam_step_f32;
    if (fused) {
      check(
        p.lib,
        fused(
          p.ptr,
          g.ptr,
          s.tensors.get("exp_avg")!.ptr,
          s.tensors.get("exp_avg_sq")!.ptr,
          p.numel(),
          o.lr,
          beta1,
          beta2,
          o.eps,
          o.weightDecay,
          bc1,
          bc2,
          rect,
        ),
        () => `RAdam step [${p.shape}]`,
      );
      return;
    }
    // Composed (a backend without the fused step: CUDA).
    noGrad(() => {
      const grad = stepGradient(p, g, false, o.weightDecay);
      const [m, v] = updateMoments(s, grad, beta1, beta2);
      const corrected = m.div(bc1);
      if (rect > 0) {
        const adaptiveLr = v.sqrt().add(o.eps).reciprocal().mul(Math.sqrt(bc2));
        p.copy_(p.sub(corrected.mul(o.lr).mul(adaptiveLr).mul(rect)));
      } else {
        p.copy_(p.sub(corrected.mul(o.lr)));
      }
    });
  }
}
