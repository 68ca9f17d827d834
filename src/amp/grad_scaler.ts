/**
 * `GradScaler`: dynamic loss scaling, as PyTorch's `torch.cuda.amp.GradScaler`
 * (1.13) and `torch.amp.GradScaler`, so that the AMP recipe's loop ports
 * line for line: `scaler.scale(loss).backward()`, `scaler.step(opt)`,
 * `scaler.update()`, with `unscale_` before clipping and the scaler's state
 * in checkpoints.
 *
 * Loss scaling is for float16, whose 5-bit exponent lets small gradients
 * underflow to 0; this library's autocast is bfloat16, whose exponent is
 * float32's, so it needs none (torch's bf16 recipes use no scaler either).
 * The scaler still does what torch's does, on any device: multiplies the
 * loss by the scale, divides the gradients by it, skips the step whose
 * gradients hold an infinity or NaN and halves the scale, and doubles it
 * after `growthInterval` clean steps. `{ enabled: false }` (torch's
 * `enabled=use_amp`) makes every method a pass-through.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { keepWithRoot } from "../tensor/ownership.ts";
import { stack } from "../tensor/ops/join.ts";
import { type CallContract, checkContract } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";

/** Options of `GradScaler` (PyTorch's names, camelCase; its defaults). */
export interface GradScalerOptions {
  /** The first scale (default 2^16). */
  initScale?: number;
  /** Factor of the scale after `growthInterval` steps without inf or NaN (default 2; > 1). */
  growthFactor?: number;
  /** Factor of the scale after a step with inf or NaN gradients (default 0.5; < 1). */
  backoffFactor?: number;
  /** Clean steps in a row before the scale grows (default 2000). */
  growthInterval?: number;
  /** false: every method passes through (`scale` returns its input, `step` steps). Default true. */
  enabled?: boolean;
}

/**
 * The scaler's state, under torch's keys (a checkpoint's `"scaler"` entry
 * reads in torch as its `scaler.state_dict()`); `{}` when disabled.
 */
export interface GradScalerStateDict {
  scale?: number;
  growth_factor?: number;
  backoff_factor?: number;
  growth_interval?: number;
  _growth_tracker?: number;
}

/** What the optimizer has been through since the last `update()`. */
type Stage = "ready" | "unscaled" | "stepped";

/** An optimizer as the scaler uses it: its groups' parameters, and `step()`. */
interface Steppable {
  readonly paramGroups: readonly { readonly params: readonly Tensor[] }[];
  step(): void;
}

const NEW_GRAD_SCALER: CallContract<GradScalerOptions> = {
  where: "amp.GradScaler",
  most: 1,
  known: ["initScale", "growthFactor", "backoffFactor", "growthInterval", "enabled"],
  usage: "new amp.GradScaler({ initScale: 65536, growthInterval: 2000 })",
};

const SCALE_FIRST = "this may indicate the loop did not call scaler.scale(loss) earlier in " +
  "the iteration";

/**
 * Scales the loss and unscales the gradients around `backward()`, skipping
 * the steps whose gradients overflowed, as PyTorch's GradScaler.
 *
 * @example
 * ```ts
 * import { amp, nn, optim, randn, tensor } from "@lits/vision";
 * const model = new nn.Linear(4, 3);
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
 * const scaler = new amp.GradScaler();
 * const x = randn([8, 4]), y = tensor(new Int32Array(8), [8]);
 * const loss = amp.autocast("bfloat16", () => nn.functional.crossEntropy(model.forward(x), y));
 * scaler.scale(loss).backward();
 * scaler.step(opt);
 * scaler.update();
 * opt.zeroGrad();
 * console.log(scaler.getScale()); // 65536
 * ```
 */
export class GradScaler {
  #enabled: boolean;
  #scale: number;
  #growthFactor: number;
  #backoffFactor: number;
  #growthInterval: number;
  #tracker = 0;
  /** scale() has run: torch makes its scale tensor then, and checks it in unscale_/step/update. */
  #started = false;
  /** Per optimizer since the last update(): its stage, and whether its gradients held inf/NaN. */
  #states = new Map<Steppable, { stage: Stage; foundInf: boolean | null }>();

  /** Checks the options as torch's constructor does (growth > 1, backoff < 1). */
  constructor(options: GradScalerOptions = {}) {
    const o = checkContract(NEW_GRAD_SCALER, arguments.length, options);
    this.#enabled = o.enabled ?? true;
    if (typeof this.#enabled !== "boolean") {
      throw new Error(`amp.GradScaler: enabled must be true or false, got ${o.enabled}`);
    }
    this.#scale = finite("initScale", o.initScale ?? 2 ** 16);
    this.#growthFactor = this.#checkGrowth(o.growthFactor ?? 2);
    this.#backoffFactor = this.#checkBackoff(o.backoffFactor ?? 0.5);
    this.#growthInterval = interval(o.growthInterval ?? 2000);
  }

  /**
   * `outputs` times the scale (a tensor, or an array of them, nested as
   * given); unchanged when disabled. Call `backward()` on the result.
   */
  scale<T extends Tensor | readonly unknown[]>(outputs: T): T {
    arity("GradScaler.scale", arguments.length, 1, 1, "scaler.scale(loss).backward()");
    if (!this.#enabled) return outputs;
    this.#started = true;
    const s = this.#scale;
    const apply = (v: unknown): unknown => {
      if (v instanceof Tensor) {
        const scaled = v.mul(s);
        // backward() runs from the scaled loss; the loop reads loss.item() after zeroGrad().
        keepWithRoot(scaled, [v]);
        return scaled;
      }
      if (Array.isArray(v)) return v.map(apply);
      throw new Error(
        "GradScaler.scale: outputs must be a tensor or an array of tensors, got " +
          (v === null ? "null" : typeof v),
      );
    };
    return apply(outputs) as T;
  }

  /**
   * Divides the gradients of `optimizer`'s parameters by the scale, in
   * place, and notes whether any held inf or NaN (torch's `unscale_`): call
   * it before reading or clipping gradients (`nn.utils.clipGradNorm_`);
   * `step` calls it otherwise. Once per optimizer between updates.
   */
  unscale_(optimizer: Steppable): void {
    arity("GradScaler.unscale_", arguments.length, 1, 1, "scaler.unscale_(optimizer)");
    if (!this.#enabled) return;
    const state = this.#stateOf(optimizer, "unscale_");
    this.#checkStarted("unscale_");
    if (state.stage === "unscaled") {
      throw new Error(
        "GradScaler.unscale_: already called on this optimizer since the last update()",
      );
    }
    if (state.stage === "stepped") {
      throw new Error("GradScaler.unscale_: called after step(); call it before step()");
    }
    // torch: the reciprocal in float64, then rounded to float32.
    const inv = Math.fround(1 / this.#scale);
    const grads = optimizer.paramGroups.flatMap((g) => g.params)
      .map((p) => p.grad).filter((g): g is Tensor => g !== null);
    state.foundInf = grads.length === 0 ? null : noGrad(() => {
      // x * 0 is NaN exactly where x is inf or NaN, so the sum of those
      // products is finite only when every gradient is (a plain sum could
      // overflow from finite values). Read before scaling, as torch's kernel.
      const zeros = grads.map((g) => g.mul(0).sum());
      const all = stack(zeros);
      const total = all.sum();
      const found = !Number.isFinite(total.item());
      for (const t of [...zeros, all, total]) t.dispose();
      for (const g of grads) g.mul_(inv);
      return found;
    });
    state.stage = "unscaled";
  }

  /**
   * Unscales `optimizer`'s gradients (unless `unscale_` did) and runs
   * `optimizer.step()` unless they held inf or NaN; then that step is
   * skipped and the parameters stay. Disabled: `optimizer.step()`.
   */
  step(optimizer: Steppable): void {
    arity("GradScaler.step", arguments.length, 1, 1, "scaler.step(optimizer)");
    if (!this.#enabled) return optimizer.step();
    const state = this.#stateOf(optimizer, "step");
    this.#checkStarted("step");
    if (state.stage === "stepped") {
      throw new Error("GradScaler.step: already called since the last update()");
    }
    if (state.stage === "ready") this.unscale_(optimizer);
    if (state.foundInf === null) {
      throw new Error(
        "GradScaler.step: no gradients were checked for this optimizer (none of its " +
          "parameters has a .grad: call backward() on scaler.scale(loss) first)",
      );
    }
    if (!state.foundInf) optimizer.step();
    state.stage = "stepped";
  }

  /**
   * Updates the scale at the end of the iteration: times `backoffFactor`
   * if any optimizer's gradients held inf or NaN, times `growthFactor`
   * after `growthInterval` clean iterations in a row (never to infinity).
   * `newScale` (a number or a one-element tensor) sets it instead.
   */
  update(newScale?: number | Tensor): void {
    arity("GradScaler.update", arguments.length, 0, 1, "scaler.update()");
    if (!this.#enabled) return;
    this.#checkStarted("update");
    if (newScale !== undefined) {
      if (newScale instanceof Tensor && (newScale.numel() !== 1 || newScale.requiresGrad)) {
        throw new Error(
          "GradScaler.update: newScale must be a number or a one-element tensor without " +
            `requiresGrad, got [${newScale.shape}]`,
        );
      }
      const v = newScale instanceof Tensor ? newScale.item() : newScale;
      this.#scale = finite("newScale", v);
    } else {
      const checked = [...this.#states.values()].filter((s) => s.foundInf !== null);
      if (checked.length === 0) {
        throw new Error(
          "GradScaler.update: no inf checks were recorded before update(); call " +
            "scaler.step(optimizer) (or unscale_) after backward()",
        );
      }
      if (checked.some((s) => s.foundInf)) {
        this.#scale = Math.fround(this.#scale * this.#backoffFactor);
        this.#tracker = 0;
      } else if (this.#tracker + 1 === this.#growthInterval) {
        const grown = Math.fround(this.#scale * this.#growthFactor);
        if (Number.isFinite(grown)) this.#scale = grown;
        this.#tracker = 0;
      } else {
        this.#tracker++;
      }
    }
    this.#states.clear();
  }

  /** The scale (1 when disabled). */
  getScale(): number {
    return this.#enabled ? this.#scale : 1;
  }
  /** The growth factor. */
  getGrowthFactor(): number {
    return this.#growthFactor;
  }
  /** Sets the growth factor (> 1). */
  setGrowthFactor(factor: number): void {
    this.#growthFactor = this.#checkGrowth(factor);
  }
  /** The backoff factor. */
  getBackoffFactor(): number {
    return this.#backoffFactor;
  }
  /** Sets the backoff factor (< 1). */
  setBackoffFactor(factor: number): void {
    this.#backoffFactor = this.#checkBackoff(factor);
  }
  /** The growth interval. */
  getGrowthInterval(): number {
    return this.#growthInterval;
  }
  /** Sets the growth interval (a positive integer). */
  setGrowthInterval(steps: number): void {
    this.#growthInterval = interval(steps);
  }
  /** Whether the scaler scales (the `enabled` option). */
  isEnabled(): boolean {
    return this.#enabled;
  }

  /**
   * The state under torch's keys (`scale`, `growth_factor`,
   * `backoff_factor`, `growth_interval`, `_growth_tracker`); `{}` when
   * disabled. Take it after `update()`.
   */
  stateDict(): GradScalerStateDict {
    if (!this.#enabled) return {};
    return {
      scale: this.#scale,
      growth_factor: this.#growthFactor,
      backoff_factor: this.#backoffFactor,
      growth_interval: this.#growthInterval,
      _growth_tracker: this.#tracker,
    };
  }

  /**
   * Restores what `stateDict()` gave (ours or torch's, read from a
   * checkpoint); does nothing when disabled, as torch's. All or nothing.
   */
  loadStateDict(sd: GradScalerStateDict): void {
    const where = "GradScaler.loadStateDict";
    arity(where, arguments.length, 1, 1, "scaler.loadStateDict(checkpoint.scaler)");
    if (!this.#enabled) return;
    if (sd === null || typeof sd !== "object" || Array.isArray(sd) || sd instanceof Map) {
      throw new Error(`${where}: expected the object stateDict() gave, got ${describe(sd)}`);
    }
    const keys = ["scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"];
    if (Object.keys(sd).length === 0) {
      throw new Error(
        `${where}: the state dict is empty, possibly saved from a disabled GradScaler`,
      );
    }
    const missing = keys.filter((k) => !(k in sd));
    const extra = Object.keys(sd).filter((k) => !keys.includes(k));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `${where}: expected the keys ${keys.join(", ")}` +
          (missing.length ? `; missing ${missing.join(", ")}` : "") +
          (extra.length ? `; unexpected ${extra.join(", ")}` : ""),
      );
    }
    const scale = finite("scale", sd.scale!);
    const growth = this.#checkGrowth(sd.growth_factor!);
    const backoff = this.#checkBackoff(sd.backoff_factor!);
    const every = interval(sd.growth_interval!);
    const tracker = sd._growth_tracker!;
    if (!Number.isInteger(tracker) || tracker < 0) {
      throw new Error(`${where}: _growth_tracker must be an integer >= 0, got ${tracker}`);
    }
    this.#scale = Math.fround(scale);
    this.#growthFactor = growth;
    this.#backoffFactor = backoff;
    this.#growthInterval = every;
    this.#tracker = tracker;
  }

  #checkStarted(what: string): void {
    if (!this.#started) {
      throw new Error(`GradScaler.${what}: called before any scale(); ${SCALE_FIRST}`);
    }
  }

  #stateOf(optimizer: Steppable, what: string): { stage: Stage; foundInf: boolean | null } {
    if (
      optimizer === null || typeof optimizer !== "object" ||
      !Array.isArray(optimizer.paramGroups) || typeof optimizer.step !== "function"
    ) {
      throw new Error(
        `GradScaler.${what}: expected an optimizer (optim.SGD, optim.Adam ...), got ` +
          describe(optimizer),
      );
    }
    let s = this.#states.get(optimizer);
    if (!s) this.#states.set(optimizer, s = { stage: "ready", foundInf: null });
    return s;
  }

  #checkGrowth(v: number): number {
    if (typeof v !== "number" || !(v > 1) || !Number.isFinite(v)) {
      throw new Error(`amp.GradScaler: growthFactor must be a number > 1, got ${v}`);
    }
    return v;
  }

  #checkBackoff(v: number): number {
    if (typeof v !== "number" || !(v < 1) || !(v > 0)) {
      throw new Error(`amp.GradScaler: backoffFactor must be a number in (0, 1), got ${v}`);
    }
    return v;
  }
}

addNameHints(GradScaler.prototype, "GradScaler", {
  get_scale: "write scaler.getScale()",
  state_dict: "write scaler.stateDict()",
  load_state_dict: "write scaler.loadStateDict(sd)",
  is_enabled: "write scaler.isEnabled()",
  get_growth_factor: "write scaler.getGrowthFactor()",
  set_growth_factor: "write scaler.setGrowthFactor(f)",
  get_backoff_factor: "write scaler.getBackoffFactor()",
  set_backoff_factor: "write scaler.setBackoffFactor(f)",
  get_growth_interval: "write scaler.getGrowthInterval()",
  set_growth_interval: "write scaler.setGrowthInterval(n)",
});

/** Throws unless `least` to `most` arguments were given, showing `usage`. */
function arity(where: string, given: number, least: number, most: number, usage: string): void {
  if (given >= least && given <= most) return;
  const want = least === most ? `${least}` : `${least} to ${most}`;
  throw new Error(
    `${where}: takes ${want} argument${most === 1 ? "" : "s"}, got ${given}; write ${usage}`,
  );
}

function finite(key: string, v: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || !(v > 0)) {
    throw new Error(`amp.GradScaler: ${key} must be a finite number > 0, got ${v}`);
  }
  return Math.fround(v);
}

function interval(v: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`amp.GradScaler: growthInterval must be a positive integer, got ${v}`);
  }
  return v;
}

function describe(v: unknown): string {
  return v === null
    ? "null"
    : Array.isArray(v)
    ? "an array"
    : v instanceof Map
    ? "a Map"
    : typeof v;
}
