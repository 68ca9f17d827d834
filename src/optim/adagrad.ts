/**
 * Adagrad, as `torch.optim.Adagrad` (PyTorch 1.13, single-tensor step,
 * dense gradients).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { Optimizer, type ParamGroupInput, type ParamState } from "./optimizer.ts";
import {
  checkNonNegative,
  flagOption,
  optimizerOptions,
  stateTensor,
  stepGradient,
} from "./adaptive.ts";

/** Options of `Adagrad` (torch's names, camelCase; torch 1.13's defaults). */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr?: number;
  /** The lr at step t is lr / (1 + (t - 1) * lrDecay) (default 0). */
  lrDecay?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue?: number;
  /** Added to the denominator (default 1e-10). */
  eps?: number;
  /** Maximize the objective instead of minimizing it (default false); a group may set its own. */
  maximize?: boolean;
}

const USAGE = "new optim.Adagrad(params, { lr: 1e-2, lrDecay: 0 })";

type Resolved = {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
  [key: string]: number | boolean | [number, number];
};

/**
 * Adagrad: divides each gradient by the root of the sum of its squares so
 * far (state `sum`), as torch.optim.Adagrad. As torch, the state (step 0,
 * `sum` filled with initialAccumulatorValue) exists from construction, so
 * `stateDict()` has it before the first step; a group added later, or a
 * parameter a loaded state dict has no state for, gets it at its first
 * step, from its group's initialAccumulatorValue (torch reads only the
 * constructor's value, and fails on such parameters). `maximize` is each
 * group's, as torch's (a group's own `options: { maximize: true }`).
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.Adagrad([w], { lr: 0.1 });
 * console.log(opt.state.get(w)?.step); // 0
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.9, -0.9]
 * ```
 */
export class Adagrad extends Optimizer<Resolved> {
  /** The default of the groups' `maximize` (torch's `defaults["maximize"]`). */
  readonly maximize: boolean;

  constructor(
    params: Iterable<Tensor> | ParamGroupInput<AdagradOptions>[],
    options: AdagradOptions = {},
  ) {
    const o = optimizerOptions<AdagradOptions>(
      "Adagrad",
      arguments.length,
      options,
      ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps", "maximize"],
      USAGE,
    );
    const maximize = flagOption("Adagrad", "maximize", o.maximize);
    super(params, {
      lr: o.lr ?? 1e-2,
      lrDecay: o.lrDecay ?? 0,
      weightDecay: o.weightDecay ?? 0,
      initialAccumulatorValue: o.initialAccumulatorValue ?? 0,
      eps: o.eps ?? 1e-10,
      maximize,
    });
    this.maximize = maximize;
    for (const g of this.paramGroups) {
      for (const p of g.params) this.#start(p, g.options.initialAccumulatorValue);
    }
  }

  /** torch's state at construction: step 0, sum = initialAccumulatorValue. */
  #start(p: Tensor, initial: number): void {
    this.state.set(p, {
      step: 0,
      tensors: new Map([["sum", stateTensor(p.shape, p.device, initial)]]),
    });
  }

  /** Applies one update to every parameter that has a gradient (see `Optimizer.step`). */
  override step(): void;
  override step<T>(closure: () => T): T;
  override step<T>(closure?: () => T): T | undefined {
    // The closure first: its backward makes the gradients the state starts from.
    const loss = this.runClosure(arguments.length, closure);
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.isAlive && p.grad !== null && !this.state.has(p)) {
          this.#start(p, g.options.initialAccumulatorValue);
        }
      }
    }
    this.stepParams();
    return loss;
  }

  protected validate(o: Resolved): void {
    checkNonNegative("Adagrad", o, [
      "lr",
      "lrDecay",
      "weightDecay",
      "initialAccumulatorValue",
      "eps",
    ]);
  }

  protected stateNames(): string[] {
    return ["sum"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const clr = o.lr / (1 + (s.step - 1) * o.lrDecay);
    const fused = p.lib.lits_adagrad_step_f32;
    if (fused) {
      check(
        p.lib,
        fused(
          p.ptr,
          g.ptr,
          s.tensors.get("sum")!.ptr,
          p.numel(),
          clr,
          o.eps,
          o.weightDecay,
          o.maximize ? 1 : 0,
        ),
        () => `Adagrad step [${p.shape}]`,
      );
      return;
    }
    // Composed (a backend without the fused step: CUDA).
    noGrad(() => {
      const grad = stepGradient(p, g, o.maximize, o.weightDecay);
      const sum = s.tensors.get("sum")!;
      sum.copy_(sum.add(grad.mul(grad)));
      const std = sum.sqrt().add(o.eps);
      p.copy_(p.add(grad.mul(-clr).div(std)));
    });
  }
}
