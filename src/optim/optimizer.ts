/**
 * The base of all optimizers: parameter groups, per-parameter state,
 * `zeroGrad()` (which also ends the step's temporaries), and state dicts in
 * PyTorch's layout.
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import { Tensor } from "../tensor/tensor.ts";
import { clearGrads } from "../tensor/grad_store.ts";
import { AsyncFunction, isThenable, zeroGradBoundary } from "../tensor/ownership.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import { beforeWrite, markWritten } from "../tensor/ops/in_place.ts";
import { moveInPlace } from "../tensor/transfer.ts";
import { checkArity, checkCall, checkOptions, moduleName } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { enableGrad } from "../tensor/grad_mode.ts";
import { withTorchForm } from "../io/torch_form.ts";
import {
  isTorchStateDict,
  loadTorchStateDict,
  type TorchOptimizerStateDict,
  toTorchStateDict,
} from "./torch_state.ts";

/** Options of `zeroGrad` (PyTorch's `set_to_none`). */
export interface ZeroGradOptions {
  /** true (default): gradients become null; false: existing ones are filled with zeros. */
  setToNone?: boolean;
}

/** Hyper-parameters of a group: numbers, booleans or number pairs. */
export type GroupOptions = Record<string, number | boolean | [number, number]>;

/**
 * Parameters that share hyper-parameters. Each option also reads and writes
 * as a property of the group, as PyTorch's `group["lr"] = 1e-5`:
 * `group.lr = 1e-5` is `group.options.lr = 1e-5` (checked as the
 * constructor checks it); any other new property is an Error.
 */
export type ParamGroup<O extends GroupOptions> = {
  /** The tensors this group updates. */
  params: Tensor[];
  /** Its hyper-parameters (lr, ...), which schedulers may change. */
  options: O;
} & O;

/**
 * A parameter group as an optimizer takes it (PyTorch's `{"params": ...,
 * "weight_decay": 0}`): its tensors, and in `options` the hyper-parameters
 * that differ from the optimizer's (`{ params: norms, options: { weightDecay: 0 } }`).
 */
export interface ParamGroupInput<O> {
  /** The tensors of the group. */
  params: Iterable<Tensor>;
  /** Its own hyper-parameters; the rest are the optimizer's. */
  options?: Partial<O>;
}

/** Per-parameter state: a step count and named tensors. */
export interface ParamState {
  /** Steps taken for this parameter. */
  step: number;
  /** State tensors (momentum_buffer, exp_avg, ...), kept by the optimizer. */
  tensors: Map<string, Tensor>;
  /**
   * The step at which a state tensor began, where that was not the first
   * (SGD's momentum turned on after some steps: torch then starts its
   * buffer from that step's gradient).
   */
  since?: Map<string, number>;
}

/** An optimizer's state in PyTorch's layout (parameters by index). */
export interface OptimizerStateDict {
  /** State by parameter index (over all groups, in order). */
  state: Map<number, ParamState>;
  /** Each group's options and the indices of its parameters. */
  paramGroups: { options: GroupOptions; params: number[] }[];
}

/**
 * Checks one parameter group. PyTorch writes `{ params, lr: 1e-4 }`; here
 * the hyper-parameters sit in `options`, and a `lr` beside `params` would
 * otherwise be ignored.
 */
function checkGroup(
  where: string,
  i: number,
  g: unknown,
  known: readonly string[],
): { params: Iterable<Tensor>; options?: unknown } {
  const usage = "[{ params: a }, { params: b, options: { lr: 1e-4 } }]";
  if (g !== null && typeof g === "object" && !Array.isArray(g)) {
    // torch's { params, weight_decay: 0 } as well as { params, weightDecay: 0 }.
    const misplaced = Object.entries(g).flatMap(([k, v]) => {
      const ours = optionName(k, known);
      return ours === undefined ? [] : [{ k, ours, v }];
    });
    if (misplaced.length > 0) {
      const snake = misplaced.some((m) => m.k !== m.ours);
      const fixed = misplaced.map((m) => `${m.ours}: ${JSON.stringify(m.v) ?? String(m.v)}`);
      throw new Error(
        `${where}: param group ${i} has ${misplaced.map((m) => m.k).join(", ")} beside params; ` +
          `hyper-parameters go in options${snake ? ", in camelCase" : ""}: ` +
          `{ params, options: { ${fixed.join(", ")} } }`,
      );
    }
  }
  const o = checkOptions<{ params: Iterable<Tensor>; options?: unknown }>(
    `${where} param group ${i}`,
    g,
    ["params", "options"],
    usage,
  );
  if (
    !o.params || typeof o.params !== "object" || o.params instanceof Tensor ||
    !(Symbol.iterator in o.params)
  ) {
    throw new Error(`${where}: param group ${i} needs params (an iterable of tensors): ${usage}`);
  }
  return o;
}

/**
 * @internal `k` as one of the `known` option names: itself, or torch's
 * snake_case of one (`weight_decay`).
 */
export function optionName(k: string, known: readonly string[]): string | undefined {
  if (known.includes(k)) return k;
  const bare = k.toLowerCase().replaceAll("_", "");
  return k.includes("_") ? known.find((o) => o.toLowerCase() === bare) : undefined;
}

/** The options that are not numbers (the rest are). */
const OPTION_KINDS: Record<string, "boolean" | "pair"> = {
  nesterov: "boolean",
  amsgrad: "boolean",
  centered: "boolean",
  maximize: "boolean",
  betas: "pair",
};

/**
 * JSON of a state dict: refused, since its Map of state tensors would be
 * written as {} and the moments lost without a word.
 */
function stateDictToJSON(): never {
  throw new Error(
    "optimizer.stateDict() holds tensors (Adam's moments, momentum buffers), which JSON " +
      "would drop; save it with io.save(path, { optimizer: opt.stateDict() }) (torch.save's " +
      "counterpart; torch's own format for a .pt or .pth name)",
  );
}

/** Base class of SGD, Adam and AdamW. */
export abstract class Optimizer<O extends GroupOptions> {
  #groups: readonly ParamGroup<O>[];
  readonly #defaults: O;
  /** loadStateDict is writing options it checked as a whole. */
  #loading = false;
  /** State per parameter (created on its first step). */
  readonly state: Map<Tensor, ParamState> = new Map();

  constructor(
    params: Iterable<Tensor> | { params: Iterable<Tensor>; options?: Partial<O> }[],
    defaults: O,
  ) {
    const where = `optim.${this.constructor.name}`;
    if (params instanceof Tensor) {
      throw new Error(
        `${where}: params must be an iterable of tensors, got one tensor; write [t] ` +
          "(or model.parameters())",
      );
    }
    if (params === null || typeof params !== "object" || !(Symbol.iterator in params)) {
      // A module is callable (typeof "function"): torch's Adam(model) habit gets its fix.
      const module = moduleName(params);
      const got = module ? `an nn.${module} (a module): pass model.parameters()` : typeof params;
      throw new Error(
        `${where}: params must be an iterable of tensors (model.parameters()), got ${got}`,
      );
    }
    const list = [...params];
    if (list.length === 0) {
      // torch: "optimizer got an empty parameter list"; nothing would train.
      throw new Error(
        `${where}: got an empty parameter list (a model without parameters, a filter on ` +
          "requiresGrad that left none, or an iterator already used up); pass model.parameters()",
      );
    }
    const groups = list.length > 0 && !(list[0] instanceof Tensor)
      ? (list as { params: Iterable<Tensor>; options?: Partial<O> }[])
      : [{ params: list as Tensor[] }];
    this.#defaults = defaults;
    this.#groups = Object.freeze([]);
    for (const g of groups) this.addParamGroup(g);
  }

  /**
   * The parameter groups (frozen: a group joins with `addParamGroup`, which
   * checks it as the constructor does).
   */
  get paramGroups(): readonly ParamGroup<O>[] {
    return this.#groups;
  }

  /**
   * Adds a group, as PyTorch's `add_param_group` (unfreezing a backbone with
   * its own lr): its options default to the optimizer's; a parameter already
   * in a group is refused. A schedule made before schedules the new group
   * as torch 1.13's does (see `optim.LRScheduler`; OneCycleLR, which needs
   * a maxLr per group, says how to carry on).
   *
   * @example
   * ```ts
   * import { nn, optim } from "@lits/vision";
   * const body = new nn.Linear(4, 4), head = new nn.Linear(4, 2);
   * const opt = new optim.SGD(head.parameters(), { lr: 0.1 });
   * opt.addParamGroup({ params: body.parameters(), options: { lr: 0.01 } });
   * console.log(opt.paramGroups.map((g) => g.lr)); // [0.1, 0.01]
   * ```
   */
  addParamGroup(group: { params: Iterable<Tensor>; options?: Partial<O> }): void {
    const where = `optim.${this.constructor.name}`;
    const i = this.#groups.length;
    checkArity(
      `${where}.addParamGroup`,
      arguments.length,
      1,
      "opt.addParamGroup({ params, options: { lr: 1e-4 } })",
    );
    const known = Object.keys(this.#defaults);
    const params = [...checkGroup(where, i, group, known).params];
    const options = {
      ...this.#defaults,
      ...checkOptions<Partial<O>>(
        `${where} param group ${i}`,
        group.options,
        known as (keyof O & string)[],
        `{ params, options: { lr: 1e-4 } }`,
      ),
    } as O;
    const seen = new Set(this.#groups.flatMap((g) => g.params));
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new Error(`${this.constructor.name}: params must be tensors`);
      }
      if (p.dtype !== "float32") {
        throw new Error(
          `${this.constructor.name}: parameter [${p.shape}] is ${p.dtype}, not float32`,
        );
      }
      if (seen.has(p)) {
        throw new Error(`${this.constructor.name}: a parameter appears in more than one group`);
      }
      seen.add(p);
    }
    this.#checkTypes(`${where} param group ${i}`, options);
    this.validate(options);
    const groups = [...this.#groups, this.#group(i, params, options)];
    // param_groups.append(...) ported as push: name the method that checks the group.
    for (const method of ["push", "unshift", "splice"]) {
      Object.defineProperty(groups, method, {
        value: () => {
          throw new Error(`${where}: paramGroups is not changed in place; use addParamGroup`);
        },
      });
    }
    this.#groups = Object.freeze(groups);
  }

  /**
   * Each option of the default's kind: a number, a boolean flag, a number
   * pair. A config's "false" (truthy) would turn nesterov on; "0.1" would
   * reach the native step as an unreadable FFI error.
   */
  #checkTypes(where: string, options: O): void {
    for (const key of Object.keys(this.#defaults)) {
      const v = (options as GroupOptions)[key];
      const kind = OPTION_KINDS[key] ?? "number";
      const ok = kind === "pair"
        ? Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "number")
        : typeof v === kind && (typeof v !== "number" || !Number.isNaN(v));
      if (!ok) {
        const what = kind === "pair" ? "a pair of numbers" : `a ${kind}`;
        throw new Error(`${where}: ${key} must be ${what}, got ${JSON.stringify(v)}`);
      }
    }
  }

  /**
   * A group whose options are also its properties (`g.lr = 1e-5`, the port
   * of `g["lr"] = 1e-5`, which would otherwise add a property nothing reads).
   */
  #group(i: number, params: Tensor[], options: O): ParamGroup<O> {
    const where = `optim.${this.constructor.name} param group ${i}`;
    const raw = options as GroupOptions;
    // Every write, as group.lr or group.options.lr (schedules write there), is checked.
    const checked = new Proxy(raw, {
      set: (target, key, value) => {
        if (typeof key !== "string" || !(key in target)) {
          throw new Error(
            `${where} has no option ${String(key)}; its options are ` +
              `${Object.keys(target).join(", ")}`,
          );
        }
        const was = target[key];
        target[key] = value;
        if (this.#loading) return true;
        try {
          this.#checkTypes(where, target as O);
          this.validate(target as O);
        } catch (e) {
          target[key] = was;
          throw e;
        }
        return true;
      },
    }) as O;
    const group = { params, options: checked } as ParamGroup<O>;
    for (const key of Object.keys(options)) {
      Object.defineProperty(group, key, {
        get: () => raw[key],
        set: (v: O[keyof O]) => {
          (checked as GroupOptions)[key] = v;
        },
      });
    }
    return new Proxy(group, {
      set(target, key, value) {
        if (key === "params" || key === "options") {
          // A whole new options object would skip every check: one at a time.
          throw new Error(
            `${where}: its ${key} are not replaced whole; set each option (g.lr = 1e-5), or ` +
              "add a group with addParamGroup",
          );
        }
        if (key in options) return Reflect.set(target, key, value);
        throw new Error(
          `${where} has no option ${String(key)}; its options are ` +
            `${Object.keys(options).join(", ")} (g.lr = 1e-5 sets the learning rate)`,
        );
      },
    });
  }

  /** Throws on bad hyper-parameters. */
  protected abstract validate(options: O): void;

  /** Updates one parameter from its gradient. */
  protected abstract update(p: Tensor, grad: Tensor, state: ParamState, options: O): void;

  /** The state tensors a parameter needs, by name. */
  protected abstract stateNames(options: O): string[];

  /**
   * Every state name this class keeps under any options (what
   * `loadStateDict` accepts: SGD's buffer outlives momentum set to 0).
   */
  protected allStateNames(): string[] {
    return this.stateNames(this.paramGroups[0].options);
  }

  /**
   * Applies one update to every parameter that has a gradient. With a
   * `closure` (torch's `optimizer.step(closure)`), first calls it with
   * gradients recorded (it zeroes the gradients, computes the loss and calls
   * `backward()`), then steps on the gradients it left, and returns its loss.
   *
   * @example
   * ```ts
   * import { optim, tensor } from "@lits/vision";
   * const w = tensor([1, 2], undefined, { requiresGrad: true });
   * const opt = new optim.SGD([w], { lr: 0.1 });
   * const loss = opt.step(() => {
   *   opt.zeroGrad();
   *   const l = w.mul(w).sum();
   *   l.backward();
   *   return l;
   * });
   * console.log(loss.item(), w.toArray()); // 5 Float32Array [0.8, 1.6]
   * ```
   */
  step(): void;
  step<T>(closure: () => T): T;
  step<T>(closure?: () => T): T | undefined {
    const loss = this.runClosure(arguments.length, closure);
    this.stepParams();
    return loss;
  }

  /**
   * @internal torch's `step(closure)`: the closure called under enableGrad
   * before the step reads any gradient (it was ignored, and the step then
   * read no gradient at all or the previous batch's).
   */
  protected runClosure<T>(given: number, closure?: () => T): T | undefined {
    const where = `${this.constructor.name}.step`;
    checkArity(
      where,
      given,
      1,
      "opt.step() or opt.step(() => { ...; loss.backward(); return loss; })",
    );
    if (closure === undefined) return undefined;
    if (typeof closure !== "function") {
      throw new Error(
        `${where}: takes a closure (a function that computes the loss and calls backward), got ` +
          `${typeof closure}; write opt.step() or opt.step(() => { ...; return loss; })`,
      );
    }
    // An async closure's backward would run after this step read the gradients.
    const late = () =>
      new Error(
        `${where}: the closure is async (it returns a Promise); the step cannot wait for its ` +
          "backward(): write const loss = await closure(); opt.step()",
      );
    if (closure instanceof AsyncFunction) throw late();
    const loss = enableGrad(closure);
    if (isThenable(loss)) throw late();
    return loss;
  }

  /** The update of every parameter that has a gradient (step's body). */
  protected stepParams(): void {
    for (const [gi, g] of this.paramGroups.entries()) {
      for (const [pi, p] of g.params.entries()) {
        if (!p.isAlive) {
          // Its .grad went with it: skipping it would step the rest of the model alone.
          throw new Error(
            `${this.constructor.name}.step: parameter ${pi} of group ${gi} [${p.shape}] was ` +
              "disposed (with its model?); make a new optimizer over the live parameters",
          );
        }
        if (p.grad === null) continue;
        // The kernels read p.size floats of the gradient: never past it.
        if (p.grad.shape.join() !== p.shape.join() || p.grad.dtype !== "float32") {
          throw new Error(
            `${this.constructor.name}: parameter [${p.shape}] has a gradient ` +
              `[${p.grad.shape}] ${p.grad.dtype}; it must be [${p.shape}] float32`,
          );
        }
        if (!p.isContiguous) {
          throw new Error(
            `${this.constructor.name}: parameter [${p.shape}] is not contiguous (a view such as ` +
              "x.t()); make it with .contiguous() before requiresGrad_()",
          );
        }
        if (p.grad.device !== p.device) {
          throw new Error(
            `${this.constructor.name}: parameter [${p.shape}] is on ${p.device}, its gradient on ${p.grad.device}`,
          );
        }
        let s = this.state.get(p);
        if (s) {
          // The module moved (module.to) after earlier steps: the state follows it.
          for (const t of s.tensors.values()) moveInPlace(t, p.device);
        } else {
          s = { step: 0, tensors: new Map() };
          this.state.set(p, s);
        }
        s.step++;
        // Made on first use, or later where the options came to need it
        // (momentum set by hand or by OneCycleLR after plain SGD steps).
        for (const name of this.stateNames(g.options)) {
          if (s.tensors.has(name)) continue;
          const t = Tensor.empty(p.shape, "float32", p.device, false).keep();
          fillInPlace(t, 0);
          s.tensors.set(name, t);
          if (s.step > 1) (s.since ??= new Map()).set(name, s.step);
        }
        // A gradient assigned by hand may be a view (p.grad = g.t()), as torch allows;
        // the kernels read it densely.
        const grad = p.grad.isContiguous ? p.grad : p.grad.contiguous();
        beforeWrite(p);
        this.update(p, grad, s, g.options);
        if (grad !== p.grad) grad.dispose();
        markWritten(p);
      }
    }
  }

  /**
   * Clears gradients and ends the step's temporaries: to null, as PyTorch
   * 2's default (`set_to_none=True`), or with `{ setToNone: false }` each
   * existing gradient filled with zeros, as PyTorch 1.13's default (a
   * parameter that then gets no gradient still moves by its momentum).
   */
  zeroGrad(options: ZeroGradOptions = {}): void {
    const o = checkCall<ZeroGradOptions>(
      "optimizer.zeroGrad",
      arguments.length,
      1,
      options,
      ["setToNone"],
      "optimizer.zeroGrad({ setToNone: false })",
    );
    clearGrads(this.paramGroups.flatMap((g) => g.params), o.setToNone ?? true);
    zeroGradBoundary();
  }

  /**
   * Frees the state tensors (Adam's moments, momentum buffers): the next
   * `step()` starts them afresh, as a new optimizer would. Parameters stay.
   *
   * @example
   * ```ts
   * import { nn, optim, randn } from "@lits/vision";
   * const layer = new nn.Linear(4, 2);
   * const opt = new optim.Adam(layer.parameters(), { lr: 1e-3 });
   * layer.forward(randn([3, 4])).sum().backward();
   * opt.step();
   * opt.dispose();
   * console.log(opt.state.size); // 0
   * ```
   */
  dispose(): void {
    for (const s of this.state.values()) s.tensors.forEach((t) => t.dispose());
    this.state.clear();
  }

  /** Frees the state at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * The state: each parameter's by its index over all groups, and each
   * group's options and parameter indices; tensors are the optimizer's own.
   * With `{ format: "torch" }`, in PyTorch's own layout (`param_groups` with
   * snake_case options, `initial_lr` where a schedule set one, the state
   * under torch's names), which `torch.optim`'s `load_state_dict` takes
   * from a `.pth` that `io.save` wrote, and `loadStateDict` takes back.
   *
   * @example
   * ```ts
   * import { optim, tensor } from "@lits/vision";
   * const w = tensor([1, 2], undefined, { requiresGrad: true });
   * const opt = new optim.Adam([w], { lr: 0.01, weightDecay: 1e-4 });
   * w.grad = tensor([0.5, -0.5]);
   * opt.step();
   * const sd = opt.stateDict({ format: "torch" });
   * console.log(sd.param_groups[0].weight_decay, sd.state.get(0)!.step); // 0.0001 1
   * // io.save("ckpt.pth", { optimizer: sd }) then, in Python: opt.load_state_dict(ckpt["optimizer"])
   * ```
   */
  stateDict(): OptimizerStateDict;
  stateDict(options: { format: "torch" }): TorchOptimizerStateDict;
  stateDict(options: { format?: "lits" }): OptimizerStateDict;
  stateDict(
    options: { format?: "lits" | "torch" } = {},
  ): OptimizerStateDict | TorchOptimizerStateDict {
    const o = checkCall<{ format?: "lits" | "torch" }>(
      `${this.constructor.name}.stateDict`,
      arguments.length,
      1,
      options,
      ["format"],
      'opt.stateDict({ format: "torch" })',
    );
    const format = o.format ?? "lits";
    if (format !== "lits" && format !== "torch") {
      throw new Error(
        `${this.constructor.name}.stateDict: format must be "lits" (this library's layout, the ` +
          `default) or "torch" (PyTorch's), got ${JSON.stringify(format)}`,
      );
    }
    const sd = this.ownStateDict();
    const torch = toTorchStateDict(this, sd);
    // io.save to a .pt / .pth name writes the torch layout, which torch's load_state_dict reads.
    return format === "torch" ? torch : withTorchForm(sd, torch);
  }

  /** The state in this library's layout. */
  private ownStateDict(): OptimizerStateDict {
    const state = new Map<number, ParamState>();
    const paramGroups: OptimizerStateDict["paramGroups"] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) state.set(index, s);
        ids.push(index++);
      }
      paramGroups.push({ options: { ...g.options }, params: ids });
    }
    // Not enumerable: the dict's keys stay PyTorch's two.
    return Object.defineProperty({ state, paramGroups }, "toJSON", { value: stateDictToJSON });
  }

  /**
   * Loads a state dict made by `stateDict()` of an optimizer of the same
   * class over the same parameters. Everything is checked before anything
   * changes, and the whole state is replaced, as PyTorch's: a parameter the
   * dict has no state for starts afresh (it kept its old momentum before).
   *
   * A state dict in PyTorch's layout (`param_groups`, snake_case options,
   * `step` as a 0-d tensor), as `io.load` reads `torch.save({"optimizer":
   * opt.state_dict()})`, is converted and loaded the same way, so a run
   * begun in PyTorch carries on here (see torch_state.ts for the rules).
   *
   * @example
   * ```ts
   * import { optim, tensor } from "@lits/vision";
   * const w = tensor([1, 2], undefined, { requiresGrad: true });
   * const opt = new optim.SGD([w], { lr: 0.1 });
   * // What io.load gives for torch's SGD(lr=0.05, momentum=0.9).state_dict() after a step:
   * using buf = tensor([0.5, 0.5]);
   * opt.loadStateDict({
   *   state: new Map([[0, { momentum_buffer: buf }]]),
   *   param_groups: [{
   *     lr: 0.05, momentum: 0.9, dampening: 0, weight_decay: 0, nesterov: false,
   *     maximize: false, foreach: null, differentiable: false, params: [0],
   *   }],
   * });
   * console.log(opt.paramGroups[0].momentum); // 0.9
   * ```
   */
  loadStateDict(sd: OptimizerStateDict | TorchOptimizerStateDict): void {
    // torch's layout: converted, then loaded through this method as ours.
    if (isTorchStateDict(sd)) return loadTorchStateDict(this, sd);
    const name = this.constructor.name;
    const fail = (why: string) => new Error(`${name}.loadStateDict: ${why}`);
    if (sd === null || typeof sd !== "object" || !(sd.state instanceof Map)) {
      throw fail(
        "expected what stateDict() gives ({ state: Map, paramGroups }); a state dict that went " +
          "through JSON lost its tensors: save it with train.saveCheckpoint",
      );
    }
    if (!Array.isArray(sd.paramGroups)) throw fail("paramGroups must be an array");
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw fail(`${sd.paramGroups.length} groups, this optimizer has ${this.paramGroups.length}`);
    }
    const params = this.paramGroups.flatMap((g) => g.params);
    const groupOf = this.paramGroups.flatMap((g, i) => g.params.map(() => i));
    const options = sd.paramGroups.map((g, i) => {
      const own = this.paramGroups[i];
      if (g.params.length !== own.params.length) {
        throw fail(`group ${i} has ${g.params.length} parameters, expected ${own.params.length}`);
      }
      const foreign = Object.keys(g.options).filter((k) => !(k in own.options));
      if (foreign.length > 0) {
        throw fail(
          `group ${i} has options ${foreign.join(", ")}, which ${name} does not take ` +
            "(a state dict of another optimizer class?)",
        );
      }
      const merged = { ...own.options, ...g.options } as O;
      // Checked as a group's own options are: a saved dict is data like any other.
      this.#checkTypes(`${name}.loadStateDict group ${i}`, merged);
      this.validate(merged);
      return merged;
    });
    for (const [index, s] of sd.state) {
      const p = params[index];
      if (!p) throw fail(`state for parameter ${index}, which does not exist`);
      if (!Number.isInteger(s.step) || s.step < 0) {
        throw fail(`parameter ${index} has step ${s.step}, expected a count`);
      }
      const known = [
        ...new Set([...this.stateNames(options[groupOf[index]]), ...this.allStateNames()]),
      ];
      for (const [k, t] of s.tensors) {
        if (!known.includes(k)) {
          throw fail(
            `state '${k}' of parameter ${index} is not ${name}'s (it keeps ` +
              `${known.join(", ") || "none"}; a state dict of another optimizer class?)`,
          );
        }
        if (t.shape.join() !== p.shape.join()) {
          throw fail(`state '${k}' of parameter ${index} is [${t.shape}], expected [${p.shape}]`);
        }
      }
    }
    // Copies first: the dict may hold this optimizer's own tensors (stateDict() shares them).
    const loaded = new Map<Tensor, ParamState>();
    for (const [index, s] of sd.state) {
      const p = params[index];
      const tensors = new Map<string, Tensor>();
      for (const [k, t] of s.tensors) {
        const copy = Tensor.empty(p.shape, "float32", p.device, false).keep();
        const host = t.toArray();
        check(
          copy.lib,
          copy.lib.lits_copy_h2d(copy.ptr, host, host.byteLength),
          () => `${name}.loadStateDict`,
        );
        tensors.set(k, copy);
      }
      loaded.set(p, { step: s.step, tensors });
    }
    this.#loading = true;
    try {
      this.paramGroups.forEach((g, i) => Object.assign(g.options, options[i]));
    } finally {
      this.#loading = false;
    }
    for (const s of this.state.values()) s.tensors.forEach((t) => t.dispose());
    this.state.clear();
    for (const [p, s] of loaded) this.state.set(p, s);
  }
}

// torch's names (`opt.param_groups[0]["lr"]`, `opt.zero_grad()`): each throws, naming ours.
addNameHints(Optimizer.prototype, "Optimizer", {
  param_groups: "write opt.paramGroups (group.lr reads and sets a group's lr)",
  zero_grad: "write opt.zeroGrad()",
  state_dict: "write opt.stateDict()",
  load_state_dict: "write opt.loadStateDict(sd)",
  add_param_group: "write opt.addParamGroup({ params, options })",
});
