/**
 * NAdam, as `torch.optim.NAdam` (PyTorch 1.13, single-tensor step).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import {
  Optimizer,
  type OptimizerStateDict,
  type ParamGroupInput,
  type ParamState,
} from "./optimizer.ts";
import {
  isTorchStateDict,
  loadTorchStateDict,
  type TorchOptimizerStateDict,
} from "./torch_state.ts";
import {
  checkBetas,
  checkNonNegative,
  optimizerOptions,
  stateTensor,
  stepGradient,
  updateMoments,
} from "./adaptive.ts";

/** Options of `NAdam` (torch's names, camelCase; torch 1.13's defaults). */
export interface NAdamOptions {
  /** Learning rate (default 2e-3). */
  lr?: number;
  /** Decay rates of the moment estimates (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Momentum decay psi of the momentum schedule (default 4e-3). */
  momentumDecay?: number;
}

const USAGE = "new optim.NAdam(params, { lr: 2e-3, momentumDecay: 4e-3 })";

type Resolved = {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  momentumDecay: number;
  [key: string]: number | boolean | [number, number];
};

const f32 = Math.fround;

/**
 * NAdam, Adam with Nesterov momentum, as torch.optim.NAdam. State:
 * `exp_avg`, `exp_avg_sq` and `mu_product` (a 0-d tensor, as torch's: the
 * product of the momentum schedule so far, kept in float32). As torch 1.13
 * (and not 2.x), the next step's product is `mu_product * mu * mu_next`,
 * with this step's mu counted twice; the numbers are 1.13's.
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.NAdam([w], { lr: 0.1 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.895, -0.895]
 * console.log(opt.state.get(w)?.tensors.get("mu_product")?.shape); // []
 * ```
 */
export class NAdam extends Optimizer<Resolved> {
  /** mu_product of each state as a number (its tensor is what stateDict shows). */
  readonly #products = new WeakMap<ParamState, number>();

  constructor(
    params: Iterable<Tensor> | ParamGroupInput<NAdamOptions>[],
    options: NAdamOptions = {},
  ) {
    const o = optimizerOptions<NAdamOptions>(
      "NAdam",
      arguments.length,
      options,
      ["lr", "betas", "eps", "weightDecay", "momentumDecay"],
      USAGE,
    );
    super(params, {
      lr: o.lr ?? 2e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0,
      momentumDecay: o.momentumDecay ?? 4e-3,
    });
  }

  protected validate(o: Resolved): void {
    checkNonNegative("NAdam", o, ["lr", "eps"]);
    checkBetas("NAdam", o.betas);
    checkNonNegative("NAdam", o, ["weightDecay", "momentumDecay"]);
  }

  /** The state tensors of a parameter's shape (mu_product, 0-d, is made by the step). */
  protected stateNames(): string[] {
    return ["exp_avg", "exp_avg_sq"];
  }

  /**
   * Loads a state dict made by `stateDict()` (or a torch one under torch's
   * names): as the base class, with each state's 0-d `mu_product`, which
   * every state that has taken a step must have.
   */
  override loadStateDict(sd: OptimizerStateDict | TorchOptimizerStateDict): void {
    // torch's layout: converted, then loaded through this method as ours.
    if (isTorchStateDict(sd)) return loadTorchStateDict(this, sd);
    const products = new Map<number, number>();
    let rest = sd;
    if (sd !== null && typeof sd === "object" && sd.state instanceof Map) {
      const state = new Map<number, ParamState>();
      for (const [index, s] of sd.state) {
        const tensors = s?.tensors;
        if (!(tensors instanceof Map)) {
          state.set(index, s);
          continue;
        }
        const mu = tensors.get("mu_product");
        if (mu === undefined) {
          if (s.step > 0) {
            throw new Error(
              `NAdam.loadStateDict: state of parameter ${index} has no mu_product (a 0-d tensor ` +
                "beside exp_avg and exp_avg_sq; a state dict of another optimizer class?)",
            );
          }
        } else {
          const v = mu instanceof Tensor && mu.numel() === 1 ? mu.toArray()[0] : NaN;
          if (!(v > 0 && v <= 1)) {
            throw new Error(
              `NAdam.loadStateDict: mu_product of parameter ${index} must be one number in ` +
                `(0, 1], got ${mu instanceof Tensor ? `[${mu.shape}] ${v}` : String(mu)}`,
            );
          }
          products.set(index, v);
        }
        const own = new Map(tensors);
        own.delete("mu_product");
        state.set(index, { ...s, tensors: own });
      }
      rest = { state, paramGroups: sd.paramGroups };
    }
    super.loadStateDict(rest);
    const params = this.paramGroups.flatMap((g) => g.params);
    for (const [index, v] of products) {
      const p = params[index], s = this.state.get(p)!;
      s.tensors.set("mu_product", stateTensor([], p.device, v));
      this.#products.set(s, v);
    }
  }

  /** mu_product before this step: 1 for a new state, else its kept value. */
  #product(p: Tensor, s: ParamState): number {
    const known = this.#products.get(s);
    if (known !== undefined) return known;
    const t = s.tensors.get("mu_product");
    if (t !== undefined) return t.item();
    s.tensors.set("mu_product", stateTensor([], p.device, 1));
    return 1;
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
    const [beta1, beta2] = o.betas;
    const step = s.step;
    const bc2 = 1 - beta2 ** step;
    const mu = beta1 * (1 - 0.5 * 0.96 ** (step * o.momentumDecay));
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * o.momentumDecay));
    // float32 tensor arithmetic, as torch's 0-d mu_product: mu_product *= mu.
    const product = f32(this.#product(p, s) * f32(mu));
    const productNext = f32(f32(product * f32(mu)) * f32(muNext)); // 1.13: mu counted twice
    fillInPlace(s.tensors.get("mu_product")!, product);
    this.#products.set(s, product);
    const cGrad = -o.lr * (1 - mu) / (1 - product);
    const cAvg = -o.lr * muNext / (1 - productNext);
    const fused = p.lib.lits_nadam_step_f32;
    if (fused) {
      check(
        p.lib,
        fused(
          p.ptr,
          g.ptr,
          s.tensors.get("exp_avg")!.ptr,
          s.tensors.get("exp_avg_sq")!.ptr,
          p.numel(),
          beta1,
          beta2,
          o.eps,
          o.weightDecay,
          bc2,
          cGrad,
          cAvg,
        ),
        () => `NAdam step [${p.shape}]`,
      );
      return;
    }
    // Composed (a backend without the fused step: CUDA).
    noGrad(() => {
      const grad = stepGradient(p, g, false, o.weightDecay);
      const [m, v] = updateMoments(s, grad, beta1, beta2);
      const denom = v.div(bc2).sqrt().add(o.eps);
      p.copy_(p.add(grad.mul(cGrad).div(denom)));
      p.copy_(p.add(m.mul(cAvg).div(denom)));
    });
  }
}
