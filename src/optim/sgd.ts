/**
 * Stochastic gradient descent, as `torch.optim.SGD`.
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Optimizer, type ParamGroupInput, type ParamState } from "./optimizer.ts";
import type { CallContract } from "../options.ts";
import { flagOption, optimizerOptions } from "./adaptive.ts";

/** Options of `SGD`. */
export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening of the momentum (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Maximize the objective instead of minimizing it (default false); a group may set its own. */
  maximize?: boolean;
}

const NEW_SGD: CallContract<SGDOptions> = {
  where: "optim.SGD",
  most: 2,
  known: ["lr", "momentum", "dampening", "nesterov", "weightDecay", "maximize"],
  usage: "new optim.SGD(params, { lr: 0.01, momentum: 0.9 })",
};

type Resolved = {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
  [key: string]: number | boolean | [number, number];
};

/**
 * SGD with momentum, dampening, Nesterov and weight decay, in one fused
 * native step per parameter. `maximize` (each group's, as torch's) steps
 * up the gradient: as torch 1.13's, the gradient is negated first, so the
 * weight decay and the momentum buffer see the negated one.
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, 2], undefined, { requiresGrad: true });
 * const opt = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // Float32Array [0.8, 1.6]
 * const up = new optim.SGD([w], { lr: 0.1, maximize: true });
 * opt.zeroGrad();
 * w.mul(w).sum().backward();
 * up.step();
 * console.log(w.toArray()); // about Float32Array [0.96, 1.92]
 * ```
 */
export class SGD extends Optimizer<Resolved> {
  /** The default of the groups' `maximize` (torch's `defaults["maximize"]`). */
  readonly maximize: boolean;

  constructor(params: Iterable<Tensor> | ParamGroupInput<SGDOptions>[], options: SGDOptions) {
    // torch's foreach and differentiable are refused by name, with why.
    const o = optimizerOptions<SGDOptions>(
      "SGD",
      arguments.length,
      options,
      NEW_SGD.known,
      NEW_SGD.usage,
    );
    const maximize = flagOption("SGD", "maximize", o.maximize);
    if (o.lr === undefined) throw new Error(`optim.SGD: lr is required; write ${NEW_SGD.usage}`);
    super(params, {
      lr: o.lr,
      momentum: o.momentum ?? 0,
      dampening: o.dampening ?? 0,
      nesterov: o.nesterov ?? false,
      weightDecay: o.weightDecay ?? 0,
      maximize,
    });
    this.maximize = maximize;
    // torch checks Nesterov's momentum here only, on the defaults (their
    // types checked by now): a momentum set to 0 later (CyclicLR's
    // baseMomentum 0) or a group's own 0 steps as plain SGD, as torch's.
    if (o.nesterov && !((o.momentum ?? 0) > 0 && (o.dampening ?? 0) === 0)) {
      throw new Error(
        "optim.SGD: Nesterov momentum requires a momentum and zero dampening; write " +
          "new optim.SGD(params, { lr: 0.01, momentum: 0.9, nesterov: true })",
      );
    }
  }

  protected validate(o: Resolved): void {
    if (!(o.lr >= 0)) throw new Error(`SGD: lr must be >= 0, got ${o.lr}`);
    if (!(o.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0, got ${o.momentum}`);
    if (!(o.weightDecay >= 0)) {
      throw new Error(`SGD: weightDecay must be >= 0, got ${o.weightDecay}`);
    }
    // Momentum 0 with Nesterov is plain SGD (torch's step skips the momentum
    // then), so it may be set after construction; dampening with Nesterov
    // torch would compute, but the fused step takes none.
    if (o.nesterov && o.dampening !== 0) {
      throw new Error(
        `SGD: Nesterov momentum takes no dampening, got dampening ${o.dampening}; set ` +
          "dampening to 0, or nesterov to false",
      );
    }
  }

  protected stateNames(o: Resolved): string[] {
    return o.momentum !== 0 ? ["momentum_buffer"] : [];
  }

  protected override allStateNames(): string[] {
    return ["momentum_buffer"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    // torch 1.13: d_p = -grad where maximizing, then decay, momentum and
    // param.add_(d_p, alpha=-lr): the fused step on the negated gradient.
    if (o.maximize) noGrad(() => this.#fused(p, g.neg(), s, o));
    else this.#fused(p, g, s, o);
  }

  /** The fused native step on the gradient `g` as given. */
  #fused(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const buf = s.tensors.get("momentum_buffer");
    check(
      p.lib,
      p.lib.lits_sgd_step_f32(
        p.ptr,
        g.ptr,
        buf?.ptr ?? null,
        p.numel(),
        o.lr,
        o.momentum,
        o.dampening,
        // torch skips the momentum (Nesterov's too) where it is 0: plain SGD.
        o.nesterov && o.momentum !== 0 ? 1 : 0,
        o.weightDecay,
        (s.since?.get("momentum_buffer") ?? 1) === s.step ? 1 : 0, // a fresh buffer: the gradient
      ),
      () => `SGD step [${p.shape}]`,
    );
  }
}
