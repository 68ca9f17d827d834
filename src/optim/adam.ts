/**
 * Adam and AdamW, as `torch.optim.Adam` (weight decay added to the
 * gradient) and `torch.optim.AdamW` (decoupled decay).
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Optimizer, type ParamGroupInput, type ParamState } from "./optimizer.ts";
import { checkCall } from "../options.ts";

/** Checks Adam's or AdamW's options; fills in the defaults. */
function resolve(name: string, given: number, options: unknown, weightDecay: number): Resolved {
  const usage = `new optim.${name}(params, { lr: 1e-4, weightDecay: ${weightDecay || "1e-5"} })`;
  const o = checkCall<AdamOptions>(
    `optim.${name}`,
    given,
    2,
    options,
    ["lr", "betas", "eps", "weightDecay"],
    usage,
  );
  if (o.betas !== undefined && (!Array.isArray(o.betas) || o.betas.length !== 2)) {
    throw new Error(
      `optim.${name}: betas must be a pair [beta1, beta2], got ${JSON.stringify(o.betas)}`,
    );
  }
  return {
    lr: o.lr ?? 1e-3,
    betas: o.betas ?? [0.9, 0.999],
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? weightDecay,
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
}

type Resolved = {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  [key: string]: number | boolean | [number, number];
};

abstract class AdamBase extends Optimizer<Resolved> {
  protected abstract readonly decoupled: boolean;

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

  protected stateNames(): string[] {
    return ["exp_avg", "exp_avg_sq"];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState, o: Resolved): void {
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
}

/**
 * Adam; `weightDecay` is added to the gradient (L2), as torch.optim.Adam.
 *
 * @example
 * ```ts
 * import { optim, tensor } from "@lits/vision";
 * const w = tensor([1, -1], undefined, { requiresGrad: true });
 * const opt = new optim.Adam([w], { lr: 0.1 });
 * w.mul(w).sum().backward();
 * opt.step();
 * console.log(w.toArray()); // about Float32Array [0.9, -0.9]
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
 * "weight_decay": 0.0}` is `{ params: noDecay, options: { weightDecay: 0 } }`).
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
