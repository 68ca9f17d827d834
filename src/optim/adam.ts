/**
 * Adam and AdamW, as `torch.optim.Adam` (weight decay added to the
 * gradient) and `torch.optim.AdamW` (decoupled decay), PyTorch 1.13's
 * single-tensor step, with `amsgrad` and `maximize`.
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Optimizer, type ParamGroupInput, type ParamState } from "./optimizer.ts";
import { flagOption, optimizerOptions, updateMoments } from "./adaptive.ts";

/** Checks Adam's or AdamW's options; fills in the defaults. */
function resolve(name: string, given: number, options: unknown, weightDecay: number): Resolved {
  const usage = `new optim.${name}(params, { lr: 1e-4, weightDecay: ${weightDecay || "1e-5"} })`;
  // torch's foreach, capturable, differentiable and fused are refused by name, with why.
  const o = optimizerOptions<AdamOptions>(
    name,
    given,
    options,
    ["lr", "betas", "eps", "weightDecay", "amsgrad", "maximize"],
    usage,
  );
  return {
    lr: o.lr ?? 1e-3,
    betas: o.betas ?? [0.9, 0.999],
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? weightDecay,
    amsgrad: flagOption(name, "amsgrad", o.amsgrad),
    maximize: flagOption(name, "maximize", o.maximize),
  };
}

/** Options of `Adam` and `AdamW`. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the moment estimates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty on the gradient (default 0); AdamW: decoupled decay (default 1e-2). */
  weightDecay?: number;
  /**
   * AMSGrad: divide by the running maximum of the second moment (state
   * `max_exp_avg_sq`) instead of the moment itself (default false); a group
   * may set its own.
   */
  amsgrad?: boolean;
  /** Maximize the objective instead of minimizing it (default false); a group may set its own. */
  maximize?: boolean;
}

type Resolved = {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
  [key: string]: number | boolean | [number, number];
};

abstract class AdamBase extends Optimizer<Resolved> {
  protected abstract readonly decoupled: boolean;
  /** The default of the groups' `amsgrad` (torch's `defaults["amsgrad"]`). */
  readonly amsgrad: boolean;
  /** The default of the groups' `maximize` (torch's `defaults["maximize"]`). */
  readonly maximize: boolean;

  constructor(params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[], defaults: Resolved) {
    super(params, defaults);
    this.amsgrad = defaults.amsgrad;
    this.maximize = defaults.maximize;
  }

  protected validate(o: Resolved): void {
    const name = this.constructor.name;
    if (!(o.lr >= 0)) throw new Error(`${name}: lr must be >= 0, got ${o.lr}`);
    if (!(o.eps >= 0)) throw new Error(`${name}: eps must be >= 0, got ${o.eps}`);
    for (const b of o.betas) {
      if (!(b >= 0 && b < 1)) throw new Error(`${name}: betas must be in [0, 1), got [${o.betas}]`);
    }
    if (!(o.weightDecay >= 0)) {
      throw new Error(`${name}: weightDecay must be >= 0, got ${o.weightDecay}`);
    }
  }

  /** torch's state: max_exp_avg_sq only where the group has amsgrad. */
  protected stateNames(o: Resolved): string[] {
    return o.amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];
  }

  protected override allStateNames(): string[] {
    return ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    if (o.amsgrad) {
      noGrad(() => this.#amsgrad(p, o.maximize ? g.neg() : g, s, o));
    } else if (o.maximize) {
      // torch steps along -grad: the fused step on the negated gradient (exact).
      noGrad(() => this.#fused(p, g.neg(), s, o));
    } else {
      this.#fused(p, g, s, o);
    }
  }

  /** The fused native step (torch's without amsgrad), on the gradient as given. */
  #fused(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const m = s.tensors.get("exp_avg")!, v = s.tensors.get("exp_avg_sq")!;
    check(
      p.lib,
      p.lib.lits_adam_step_f32(
        p.ptr,
        g.ptr,
        m.ptr,
        v.ptr,
        p.numel(),
        o.lr,
        o.betas[0],
        o.betas[1],
        o.eps,
        o.weightDecay,
        this.decoupled ? 1 : 0,
        s.step,
      ),
      () => `${this.constructor.name} step [${p.shape}]`,
    );
  }

  /**
   * The AMSGrad step, composed of tensor ops (so on every device), in torch
   * 1.13's `_single_tensor_adam(w)` order: `g` is already negated where
   * maximizing. Call inside `noGrad`.
   */
  #amsgrad(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const [beta1, beta2] = o.betas;
    const max = s.tensors.get("max_exp_avg_sq")!;
    let grad = g;
    if (this.decoupled) p.copy_(p.mul(1 - o.lr * o.weightDecay)); // param.mul_(1 - lr * wd)
    else if (o.weightDecay !== 0) grad = grad.add(p, { alpha: o.weightDecay });
    const [m, v] = updateMoments(s, grad, beta1, beta2);
    max.copy_(max.maximum(v)); // torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    const stepSize = o.lr / (1 - beta1 ** s.step);
    const denom = max.sqrt().div(Math.sqrt(1 - beta2 ** s.step)).add(o.eps);
    p.copy_(p.add(m.mul(-stepSize).div(denom))); // param.addcdiv_(exp_avg, denom, -step_size)
  }
}

/**
 * Adam; `weightDecay` is added to the gradient (L2), as torch.optim.Adam.
 * `amsgrad` and `maximize` are each group's, as torch's (`{ params,
 * options: { amsgrad: true } }`), and a state dict carries them: loading
 * one takes its groups' flags. With amsgrad the state has torch's
 * `max_exp_avg_sq` (made at a group's first step with amsgrad; torch
 * fails where amsgrad is turned on after steps, here it starts from
 * zeros then); that step is composed of tensor ops, the rest is one fused
 * native step.
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.Adam([w], { lr: 0.1 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.9, -0.9]
 * const v = tensor([1, -1], undefined, { requiresGrad: true });
 * const ams = new optim.Adam([v], { lr: 0.1, amsgrad: true, maximize: true });
 * v.mul(v).sum().backward();
 * ams.step();
 * console.log(v.toArray()); // about Float32Array [1.1, -1.1]: up the gradient
 * console.log([...ams.state.get(v)!.tensors.keys()]); // ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
 * ```
 */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(
    params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[],
    options: AdamOptions = {},
  ) {
    super(params, resolve("Adam", arguments.length, options, 0));
  }
}

/**
 * AdamW: decoupled weight decay (default 1e-2), as torch.optim.AdamW.
 * Parameter groups carry their own options (torch's `{"params": no_decay,
 * "weight_decay": 0.0}` is `{ params: noDecay, options: { weightDecay: 0 } }`),
 * `amsgrad` and `maximize` included, as Adam's; the decay shrinks the
 * weights whether maximizing or not, as torch's.
 *
 * @example
 * ```ts
 * import { nn, optim, tensor } from "@lits/vision";
 * const w = tensor([1], undefined, { requiresGrad: true });
 * const opt = new optim.AdamW([w], { lr: 0.1 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.item() < 1); // true
 * const fc = new nn.Linear(4, 2);
 * const grouped = new optim.AdamW([
 *   { params: [fc.weight] },
 *   { params: [fc.bias!], options: { weightDecay: 0 } },
 * ], { lr: 1e-3, weightDecay: 0.05 });
 * console.log(grouped.paramGroups.map((g) => g.weightDecay)); // [0.05, 0]
 * ```
 */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(
    params: Iterable<Tensor> | ParamGroupInput<AdamOptions>[],
    options: AdamOptions = {},
  ) {
    super(params, resolve("AdamW", arguments.length, options, 1e-2));
  }
}
