/**
 * RMSprop, as `torch.optim.RMSprop` (PyTorch 1.13, single-tensor step).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Optimizer, type ParamGroupInput, type ParamState } from "./optimizer.ts";
import { checkNonNegative, flagOption, optimizerOptions, stepGradient } from "./adaptive.ts";

/** Options of `RMSprop` (torch's names, camelCase; torch 1.13's defaults). */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** Smoothing constant of the squared-gradient average (default 0.99). */
  alpha?: number;
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Divide by an estimate of the gradient's variance (default false); a group may set its own. */
  centered?: boolean;
  /** Maximize the objective instead of minimizing it (default false); a group may set its own. */
  maximize?: boolean;
}

const USAGE = "new optim.RMSprop(params, { lr: 1e-2, momentum: 0.9 })";

type Resolved = {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
  [key: string]: number | boolean | [number, number];
};

/**
 * RMSprop: each step divides the gradient by the root of a running average
 * of its square (`square_avg`), optionally centered (minus the square of a
 * running average of the gradient, `grad_avg`) and with momentum
 * (`momentum_buffer`), as torch.optim.RMSprop. State names are torch's, so
 * a torch state dict maps over. Each group carries lr, alpha, eps,
 * weightDecay, momentum, `centered` and `maximize`, as torch's: a group's
 * own `{ params, options: { maximize: true } }` steps that group alone up
 * its gradient, and a state dict carries each group's flags.
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.RMSprop([w], { lr: 0.01 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.9, -0.9]: lr / sqrt(1 - alpha)
 * ```
 */
export class RMSprop extends Optimizer<Resolved> {
  /** The default of the groups' `centered` (torch's `defaults["centered"]`). */
  readonly centered: boolean;
  /** The default of the groups' `maximize` (torch's `defaults["maximize"]`). */
  readonly maximize: boolean;

  constructor(
    params: Iterable<Tensor> | ParamGroupInput<RMSpropOptions>[],
    options: RMSpropOptions = {},
  ) {
    const o = optimizerOptions<RMSpropOptions>(
      "RMSprop",
      arguments.length,
      options,
      ["lr", "alpha", "eps", "weightDecay", "momentum", "centered", "maximize"],
      USAGE,
    );
    const centered = flagOption("RMSprop", "centered", o.centered);
    const maximize = flagOption("RMSprop", "maximize", o.maximize);
    super(params, {
      lr: o.lr ?? 1e-2,
      alpha: o.alpha ?? 0.99,
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0,
      momentum: o.momentum ?? 0,
      centered,
      maximize,
    });
    this.centered = centered;
    this.maximize = maximize;
  }

  protected validate(o: Resolved): void {
    checkNonNegative("RMSprop", o, ["lr", "eps", "momentum", "weightDecay", "alpha"]);
  }

  protected stateNames(o: Resolved): string[] {
    return [
      "square_avg",
      ...(o.momentum > 0 ? ["momentum_buffer"] : []),
      ...(o.centered ? ["grad_avg"] : []),
    ];
  }

  protected override allStateNames(): string[] {
    return ["square_avg", "momentum_buffer", "grad_avg"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const fused = p.lib.lits_rmsprop_step_f32;
    if (fused) {
      const t = s.tensors;
      check(
        p.lib,
        fused(
          p.ptr,
          g.ptr,
          t.get("square_avg")!.ptr,
          o.momentum > 0 ? t.get("momentum_buffer")!.ptr : null,
          o.centered ? t.get("grad_avg")!.ptr : null,
          p.numel(),
          o.lr,
          o.alpha,
          o.eps,
          o.weightDecay,
          o.momentum,
          o.centered ? 1 : 0,
          o.maximize ? 1 : 0,
        ),
        () => `RMSprop step [${p.shape}]`,
      );
      return;
    }
    // Composed (a backend without the fused step: CUDA).
    noGrad(() => {
      const grad = stepGradient(p, g, o.maximize, o.weightDecay);
      const sq = s.tensors.get("square_avg")!;
      // square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
      sq.copy_(sq.mul(o.alpha).add(grad.mul(1 - o.alpha).mul(grad)));
      let avg: Tensor;
      if (o.centered) {
        const ga = s.tensors.get("grad_avg")!;
        ga.copy_(ga.mul(o.alpha).add(grad.mul(1 - o.alpha)));
        avg = sq.sub(ga.mul(ga)).sqrt();
      } else {
        avg = sq.sqrt();
      }
      avg = avg.add(o.eps);
      if (o.momentum > 0) {
        const buf = s.tensors.get("momentum_buffer")!;
        buf.copy_(buf.mul(o.momentum).add(grad.div(avg)));
        p.copy_(p.add(buf.mul(-o.lr)));
      } else {
        p.copy_(p.add(grad.mul(-o.lr).div(avg)));
      }
    });
  }
}
