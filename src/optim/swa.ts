/**
 * Weight averaging, as `torch.optim.swa_utils` in torch 1.13
 * (`optim.swaUtils`): `AveragedModel` keeps a running average of a model's
 * weights (Stochastic Weight Averaging), `SWALR` anneals the lr for the
 * averaging phase, `updateBn` recomputes the averaged model's batch-norm
 * statistics; and torchvision's `ExponentialMovingAverage` (its
 * classification reference recipe's EMA of the weights).
 *
 * @module
 */
import { Module } from "../layers/module.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { DeviceName } from "../tensor/device.ts";
import { fillInPlace, zeros } from "../tensor/ops/creation.ts";
import { cast } from "../tensor/ops/shape.ts";
import { checkArity, checkCall } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";

import { copyOf, describe, deviceOf } from "./swa_copy.ts";

export { SWALR, type SWALROptions } from "./swa_lr.ts";
export { updateBn, type UpdateBnBatch } from "./swa_bn.ts";

/**
 * How `AveragedModel` folds a model's tensor into its average (torch's
 * `avg_fn`): from the averaged value, the model's value now and how many
 * models were averaged so far (a number here, torch's is a 0-d tensor),
 * the new averaged value, a Tensor of the same shape.
 */
export type AvgFn = (averaged: Tensor, current: Tensor, numAveraged: number) => Tensor;

/** Options of `AveragedModel` (torch's `device`, `avg_fn`, `use_buffers`, and `copy`). */
export interface AveragedModelOptions<M extends Module = Module> {
  /**
   * The averaging (default: the equal-weight running mean,
   * `averaged + (current - averaged) / (numAveraged + 1)`).
   */
  avgFn?: AvgFn | null;
  /**
   * Average the buffers too (batch norm's running statistics), not only
   * the parameters (default false).
   */
  useBuffers?: boolean;
  /**
   * Builds a fresh module of the model's architecture, whose state dict is
   * then loaded from the model's: needed for any model that
   * `models.create` did not make (torch deep-copies the model; a
   * JavaScript module can hold private `#fields` that no copy reaches).
   */
  copy?: () => M;
  /** Keep the average on this device (default: the model's). */
  device?: DeviceName;
}

/** The registered symbol under which `models.create` records how it made a model. */

const AVERAGED_KEYS: (keyof AveragedModelOptions)[] = ["avgFn", "useBuffers", "copy", "device"];

/** The default `avgFn`: the equal-weight running mean, torch 1.13's. */
const runningMean: AvgFn = (averaged, current, n) => averaged.add(current.sub(averaged).div(n + 1));

/**
 * A running average of a model's weights, torch 1.13's
 * `torch.optim.swa_utils.AveragedModel`: Stochastic Weight Averaging
 * (Izmailov et al., 2018), or any average `avgFn` gives (an EMA). It holds
 * a copy of the model (`module`, its parameters copied, not shared) and the
 * count `nAveraged`; `updateParameters(model)` folds the model's weights in
 * (the first call copies them), and calling it runs the copy
 * (`averaged(x)`). Its state dict has torch's keys (`n_averaged`,
 * `module.<name>`), so a torch SWA checkpoint's keys match.
 *
 * torch deep-copies the model. Here a model made by
 * `models.create(name, options)` is rebuilt the same way and its state
 * dict loaded; any other module needs `{ copy: () => new MyNet() }`, which
 * builds a fresh one of the same architecture. The model's training modes
 * and requiresGrad flags are copied too; forward hooks are not.
 *
 * Integer buffers (batch norm's `num_batches_tracked`) with `useBuffers`
 * are averaged in float32 and truncated, as torch's `copy_` into its
 * int64 buffer does. Unlike torch, which zips the two lists and stops at
 * the shorter, a model whose parameters (or buffers) differ in number or
 * shape from the copy's is refused.
 *
 * @example
 * ```ts
 * import { models, nn, optim, randn, type Tensor } from "@lits/vision";
 * const model = models.create("simple", { numClasses: 3, imageSize: 16 });
 * const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
 * const swaModel = new optim.swaUtils.AveragedModel(model);
 * const swaSched = new optim.swaUtils.SWALR(opt, { swaLr: 0.01 });
 * for (let epoch = 0; epoch < 2; epoch++) {
 *   const loss = model(randn([4, 1, 16, 16])).square().mean();
 *   opt.zeroGrad();
 *   loss.backward();
 *   opt.step();
 *   swaModel.updateParameters(model);
 *   swaSched.step();
 * }
 * await optim.swaUtils.updateBn([randn([4, 1, 16, 16])], swaModel);
 * console.log(swaModel.nAveraged, swaModel.eval()(randn([2, 1, 16, 16])).shape); // 2 [2, 3]
 * console.log([...swaModel.stateDict().keys()][0]); // "n_averaged"
 *
 * class Net extends nn.Module {
 *   fc = new nn.Linear(4, 2);
 *   forward(x: Tensor): Tensor {
 *     return this.fc(x);
 *   }
 * }
 * const net = new Net();
 * const avg = new optim.swaUtils.AveragedModel(net, { copy: () => new Net() });
 * console.log(avg(randn([3, 4])).shape); // [3, 2]
 * ```
 */
export class AveragedModel<M extends Module = Module> extends Module {
  /** The averaged copy of the model (torch's `module`). */
  readonly module: M;
  /** How each tensor is folded into the average. */
  readonly avgFn: AvgFn;
  /** Whether buffers are averaged too. */
  readonly useBuffers: boolean;

  /** Copies `model`; see `AveragedModelOptions` for the options and the copy. */
  constructor(model: M, options: AveragedModelOptions<M> = {}) {
    super();
    const where = `optim.swaUtils.${new.target.name}`;
    const usage = `new ${where}(model, { useBuffers: true, copy: () => new MyNet() })`;
    const o = checkCall<AveragedModelOptions<M>>(
      where,
      arguments.length,
      2,
      options,
      AVERAGED_KEYS,
      usage,
    );
    if (!(model instanceof Module)) {
      throw new Error(`${where}: expected the nn.Module to average, got ${describe(model)}`);
    }
    if (o.avgFn != null && typeof o.avgFn !== "function") {
      throw new Error(
        `${where}: avgFn must be a function (averaged, current, numAveraged) => Tensor, got ` +
          describe(o.avgFn),
      );
    }
    if (o.useBuffers !== undefined && typeof o.useBuffers !== "boolean") {
      throw new Error(`${where}: useBuffers must be true or false, got ${describe(o.useBuffers)}`);
    }
    if (o.copy !== undefined && (typeof o.copy !== "function" || o.copy instanceof Module)) {
      throw new Error(
        `${where}: copy must be a function that builds a fresh module, got ${describe(o.copy)}; ` +
          "write { copy: () => new MyNet() }",
      );
    }
    this.module = copyOf(where, model, o.copy);
    this.avgFn = o.avgFn ?? runningMean;
    this.useBuffers = o.useBuffers ?? false;
    try {
      if (o.device !== undefined) this.module.to(o.device);
    } catch (e) {
      this.module.dispose();
      throw e;
    }
    this.registerBuffer("n_averaged", zeros([], { dtype: "int32", device: deviceOf(this.module) }));
  }

  /** How many models were averaged (torch's `n_averaged`); 0 makes the next update a copy. */
  get nAveraged(): number {
    return this.buffer("n_averaged")!.item();
  }

  /** Sets the count (torchvision's `model_ema.n_averaged.fill_(0)` during warm-up is `= 0`). */
  set nAveraged(n: number) {
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`${this.constructor.name}.nAveraged: must be an integer >= 0, got ${n}`);
    }
    fillInPlace(this.buffer("n_averaged")!, n);
  }

  /** Runs the averaged copy (torch's forward). */
  forward(...inputs: Parameters<M["forward"]>): ReturnType<M["forward"]> {
    return this.module.forward(...inputs);
  }

  /** The tensors averaged, by name: the parameters, and with useBuffers the buffers after them. */
  #averagedOf(m: Module): [string, Tensor][] {
    const params: [string, Tensor][] = [...m.namedParameters()];
    return this.useBuffers ? [...params, ...m.namedBuffers()] : params;
  }

  /**
   * Folds `model`'s weights (and with useBuffers its buffers) into the
   * average: the first call (nAveraged 0) copies them, later ones apply
   * `avgFn`; then nAveraged grows by one. `model` is the one this average
   * was made from (the same architecture), on any device.
   */
  updateParameters(model: Module): void {
    const where = `${this.constructor.name}.updateParameters`;
    checkArity(where, arguments.length, 1, "averaged.updateParameters(model)");
    if (!(model instanceof Module)) {
      throw new Error(`${where}: expected the model being trained, got ${describe(model)}`);
    }
    const mine = this.#averagedOf(this.module), theirs = this.#averagedOf(model);
    const what = this.useBuffers ? "parameters and buffers" : "parameters";
    if (mine.length !== theirs.length) {
      throw new Error(
        `${where}: the model has ${theirs.length} ${what}, the averaged copy ${mine.length}: ` +
          "pass the model this average was made from",
      );
    }
    mine.forEach(([name, a], i) => {
      const [theirName, t] = theirs[i];
      if (a.shape.join() !== t.shape.join() || a.dtype !== t.dtype) {
        throw new Error(
          `${where}: the model's '${theirName}' is ${t.dtype} [${t.shape}], the averaged ` +
            `'${name}' ${a.dtype} [${a.shape}]: pass the model this average was made from`,
        );
      }
    });
    const n = this.nAveraged;
    for (const [i, [name, a]] of mine.entries()) {
      noGrad(() => {
        const current = theirs[i][1].detach().to(a.device);
        if (n === 0) return void a.detach().copy_(current);
        const int = a.dtype !== "float32";
        const averaged = int ? cast(a, "float32") : a.detach();
        const next = this.avgFn(averaged, int ? cast(current, "float32") : current, n);
        if (!(next instanceof Tensor) || next.shape.join() !== a.shape.join()) {
          throw new Error(
            `${where}: avgFn returned ${describe(next)} for '${name}'; it must return the new ` +
              `average, a Tensor [${a.shape}] (e.g. averaged.add(current.sub(averaged)` +
              ".div(numAveraged + 1)))",
          );
        }
        a.detach().copy_(int ? cast(next, a.dtype) : next);
      });
    }
    this.nAveraged = n + 1;
  }
}

/**
 * torchvision's `ExponentialMovingAverage` (from its classification
 * reference recipe, `references/classification/utils.py`, v0.14; not part
 * of the torchvision package): an `AveragedModel` whose average is
 * `decay * averaged + (1 - decay) * current`, over the buffers too
 * (`useBuffers: true`). The first `updateParameters` copies the weights,
 * as AveragedModel's does. torchvision's class puts the average on "cpu"
 * unless given a device; here it stays on the model's device unless
 * `device` is given.
 *
 * @example
 * ```ts
 * import { models, optim, randn } from "@lits/vision";
 * const model = models.create("simple", { numClasses: 3, imageSize: 16 });
 * const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
 * const ema = new optim.swaUtils.ExponentialMovingAverage(model, 0.99);
 * for (let step = 0; step < 3; step++) {
 *   const loss = model(randn([4, 1, 16, 16])).square().mean();
 *   opt.zeroGrad();
 *   loss.backward();
 *   opt.step();
 *   ema.updateParameters(model);
 * }
 * console.log(ema.nAveraged, ema.eval()(randn([2, 1, 16, 16])).shape); // 3 [2, 3]
 * ```
 */
export class ExponentialMovingAverage<M extends Module = Module> extends AveragedModel<M> {
  /** The weight of the average so far in each update. */
  readonly decay: number;

  /** Copies `model` (`copy` and `device` as AveragedModel's) to average with `decay` in [0, 1]. */
  constructor(model: M, decay: number, options: { copy?: () => M; device?: DeviceName } = {}) {
    const where = "optim.swaUtils.ExponentialMovingAverage";
    const usage = `new ${where}(model, 0.999, { device: "cuda" })`;
    const o = checkCall<{ copy?: () => M; device?: DeviceName }>(
      where,
      arguments.length,
      3,
      options,
      ["copy", "device"],
      usage,
    );
    if (typeof decay !== "number" || !(decay >= 0 && decay <= 1)) {
      throw new Error(
        `${where}: decay must be a number in [0, 1], got ${describe(decay)}; ${usage}`,
      );
    }
    super(model, {
      ...o,
      avgFn: (averaged, current) => averaged.mul(decay).add(current.mul(1 - decay)),
      useBuffers: true,
    });
    this.decay = decay;
  }
}

// torch's names (`swa_model.update_parameters(model)`): each throws, naming ours.
addNameHints(AveragedModel.prototype, "AveragedModel", {
  update_parameters: "write averaged.updateParameters(model)",
  n_averaged: "read averaged.nAveraged (a number); averaged.nAveraged = 0 restarts the average",
  avg_fn: "write averaged.avgFn",
  use_buffers: "write averaged.useBuffers",
});
