/**
 * `Module` and `Parameter`: PyTorch's module tree. Parameters and children
 * are found from the module's own properties in declaration order (as
 * PyTorch registers attributes); buffers are registered by name so they can
 * carry torchvision's names (`running_mean`).
 *
 * @module
 */
import { keyedStateDict } from "./state_dict_view.ts";
import { check } from "../ffi/native.ts";
import { Tensor } from "../tensor/tensor.ts";
import { clearGrads } from "../tensor/grad_store.ts";
import { AsyncFunction, zeroGradBoundary } from "../tensor/ownership.ts";
import { cast } from "../tensor/ops/shape.ts";
import { backend, checkToArguments, type DeviceName, dtypeCastError } from "../tensor/device.ts";
import { moveInPlace } from "../tensor/transfer.ts";
import { writeInPlace } from "../tensor/ops/in_place.ts";
import { fillInPlace } from "../tensor/ops/creation.ts";
import { checkArity, checkCall, checkOptions } from "../options.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { moduleRepr } from "./module_repr.ts";
import {
  type BackwardHook,
  type BackwardPreHook,
  type ForwardHook,
  type ForwardPreHook,
  ModuleHooks,
  type RemovableHandle,
} from "./module_hooks.ts";

export type { BackwardHook, BackwardPreHook, ForwardHook, ForwardPreHook, RemovableHandle };

/** Options of the hook methods: torch's keywords. */
export interface HookOptions {
  /** Run this hook before those already registered (torch's `prepend=True`). */
  prepend?: boolean;
}

/** How each hook method is called, for its errors. */
const HOOK_USAGE = {
  registerForwardHook: "module.registerForwardHook((module, inputs, output) => { ... })",
  registerForwardPreHook: "module.registerForwardPreHook((module, inputs) => { ... })",
  registerFullBackwardHook:
    "module.registerFullBackwardHook((module, gradInput, gradOutput) => { ... })",
  registerFullBackwardPreHook:
    "module.registerFullBackwardPreHook((module, gradOutput) => { ... })",
};

/** Refuses a hook that is not a synchronous function. */
function checkHook(where: string, hook: unknown, usage: string): void {
  if (typeof hook !== "function") {
    throw new Error(`${where}: expected a function, got ${typeof hook}; ${usage}`);
  }
  if (hook instanceof AsyncFunction) {
    throw new Error(
      `${where}: hooks run synchronously, and an async hook's work after its first await ` +
        "would run after the call returned; keep what you need (e.g. acts.push(output)) and " +
        "await your work outside",
    );
  }
}

/**
 * A tensor that a module trains: kept alive by its module and requiring
 * gradients.
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const p = new nn.Parameter(zeros([2, 2]));
 * console.log(p.requiresGrad); // true
 * ```
 */
export class Parameter extends Tensor {
  /** Takes over `data`'s memory (the `data` tensor object is released). */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage.retain(), data.shape, data.dtype, data.strides, data.offset);
    data.dispose();
    this.keep();
    this.requiresGrad = requiresGrad;
  }
}

/** What `loadStateDict` returns: PyTorch's `_IncompatibleKeys`, in camelCase. */
export interface IncompatibleKeys {
  /** The module's keys the state dict did not have (left as they were). */
  missingKeys: string[];
  /** The state dict's keys the module does not have (ignored). */
  unexpectedKeys: string[];
}

/** Options of `loadStateDict`. */
export interface LoadOptions {
  /** Fail on missing or unexpected keys (default true). */
  strict?: boolean;
}

/** Module's buffer-slot access, set in its static block (see `setBufferSlot`). */
let bufferSlot: (
  m: Module,
  name: string,
  t: Tensor | null | undefined,
) => Tensor | null | undefined;

/**
 * @internal Puts `t` in buffer slot `name` of `m`, keeping the slot's place
 * and persistence, and returns what was there (undefined: no such slot);
 * `t` undefined deletes the slot, as torch's `del module._buffers[name]`
 * (prune.remove, removeSpectralNorm). `t` is not kept: functionalCall's
 * tensors stay the caller's.
 */
export function setBufferSlot(
  m: Module,
  name: string,
  t: Tensor | null | undefined,
): Tensor | null | undefined {
  return bufferSlot(m, name, t);
}

/** A module as Deno's and node's inspect print it: its class and its fields. */
function printed(m: object, inspect: (v: unknown, options: unknown) => string, options: unknown) {
  return `${m.constructor.name} ${inspect({ ...m }, options)}`;
}

/**
 * @internal What makes a module callable: its constructor returns a function that
 * calls the module's `forward` (as PyTorch's `__call__`), given the
 * module's prototype, so `model(x)` works and every field, method and
 * `instanceof` is the module's. It is a class of its own because class
 * fields (Module's `#buffers`, a layer's `#weight`) are installed on what
 * the parent constructor returns: the function, not a discarded object.
 * The function's own `name` and `length` go, so a subclass may use them.
 */
export class CallableObject {
  constructor() {
    const call = (...inputs: unknown[]): unknown =>
      (call as unknown as { forward: (...x: unknown[]) => unknown }).forward(...inputs);
    delete (call as { name?: string }).name;
    delete (call as { length?: number }).length;
    Object.setPrototypeOf(call, new.target.prototype);
    return call as unknown as CallableObject;
  }

  /** JSON of its fields, as before modules were callable (JSON drops functions). */
  toJSON(): object {
    return { ...this };
  }

  /**
   * `String(model)` and `${model}`: like torch's `print(model)`, the module
   * tree with each layer's settings (module_repr.ts), not a function's "[object
   * Function]"; `console.log(model)` shows the fields and values.
   */
  toString(): string {
    return this instanceof Module ? moduleRepr(this, Module.prototype) : Deno.inspect(this);
  }

  /** Printed as the object it is (`Linear { training: true, ... }`), not as a function. */
  [Symbol.for("Deno.customInspect")](
    inspect: (v: unknown, options: unknown) => string,
    options: unknown,
  ): string {
    return printed(this, inspect, options);
  }

  /** The same for node:util's inspect (assertion messages). */
  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    options: unknown,
    inspect: (v: unknown, options: unknown) => string,
  ): string {
    return printed(this, inspect, options);
  }
}

/** Calling a module: `model(x)` is `model.forward(x)`, as PyTorch's `model(x)`. */
export interface Module {
  /** Runs `forward` with these arguments (and the forward hooks). */
  (...inputs: Parameters<this["forward"]>): ReturnType<this["forward"]>;
}

/**
 * Base class of layers and models, as `torch.nn.Module`. A module is
 * callable, as PyTorch's: `net(x)` runs `net.forward(x)` (and its forward
 * hooks). It is a function object underneath (`typeof net` is
 * "function"), printed and written to JSON as the module it is
 * (`node:assert`'s `deepEqual` compares two modules by reference, as it
 * does functions: compare their state dicts). In TypeScript a subclass that
 * declares a field `name` or `length` marks it `override` (the type of
 * anything callable has them); `forward` declares its own arguments and
 * result (`forward(x: Tensor, scale: number): [Tensor, Tensor]`).
 *
 * @example
 * ```ts
 * import { nn, randn, type Tensor } from "@lits/vision";
 * class Net extends nn.Module {
 *   fc1 = new nn.Linear(4, 8);
 *   fc2 = new nn.Linear(8, 2);
 *   forward(x: Tensor): Tensor {
 *     return this.fc2(this.fc1(x).relu());
 *   }
 * }
 * const net = new Net();
 * console.log([...net.stateDict().keys()]); // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
 * console.log(net(randn([3, 4])).shape); // [3, 2]
 * ```
 */
export abstract class Module extends CallableObject {
  /** Training mode (dropout active, batch norm on batch statistics). */
  training = true;
  #buffers = new Map<string, Tensor | null>();
  /** Buffers left out of the state dict (`registerBuffer(name, t, false)`). */
  #transient = new Set<string>();
  /** The module's hooks (module_hooks.ts), made at the first one. */
  #hooks: ModuleHooks | null = null;

  static {
    bufferSlot = (m, name, t) => {
      const old = m.#buffers.get(name);
      if (t !== undefined) m.#buffers.set(name, t);
      else if (m.#buffers.delete(name)) m.#transient.delete(name);
      return old;
    };
  }

  /**
   * Computes the module's output. A subclass declares its own arguments and
   * result (`forward(x: Tensor, mask?: Tensor): Tensor`); on a plain
   * `Module` value they are untyped, as PyTorch's.
   */
  // deno-lint-ignore no-explicit-any
  abstract forward(...inputs: any[]): any;

  /**
   * Runs `hook(module, inputs, output)` after every call of this module's
   * `forward`, as PyTorch's `register_forward_hook`; a tensor it returns
   * replaces the output, nothing (or null) keeps it, anything else is an
   * Error. Hooks run in the order registered, synchronously (an async
   * hook is refused).
   *
   * @example
   * ```ts
   * import { nn, randn, type Tensor } from "@lits/vision";
   * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
   * const seen: number[][] = [];
   * const handle = net[1].registerForwardHook((_m, _inputs, out: Tensor) => {
   *   seen.push([...out.shape]);
   * });
   * net.forward(randn([3, 4]));
   * handle.remove();
   * net.forward(randn([3, 4]));
   * console.log(seen); // [[3, 8]]
   * ```
   */
  registerForwardHook(hook: ForwardHook, options?: HookOptions): RemovableHandle {
    return this.#addHook("registerForwardHook", "forward", hook, arguments.length, options);
  }

  /**
   * Runs `hook(module, inputs)` before every call of this module's
   * `forward`, as PyTorch's `register_forward_pre_hook`: an array it returns
   * replaces the arguments, a single tensor the only one; nothing keeps them.
   *
   * @example
   * ```ts
   * import { nn, randn, type Tensor } from "@lits/vision";
   * const fc = new nn.Linear(4, 2);
   * fc.registerForwardPreHook((_m, [x]: Tensor[]) => x.mul(0)); // zero the input
   * console.log(fc(randn([1, 4])).sub(fc.bias!).abs().max().item()); // 0
   * ```
   */
  registerForwardPreHook(hook: ForwardPreHook, options?: HookOptions): RemovableHandle {
    return this.#addHook("registerForwardPreHook", "pre", hook, arguments.length, options);
  }

  /**
   * Runs `hook(module, gradInput, gradOutput)` each time backward has the
   * gradients for this module's inputs, as PyTorch's
   * `register_full_backward_hook`: `gradInput` has one entry per positional
   * argument (null for those that are not float tensors; all null where no
   * input requires grad, and then the hook runs when the outputs' gradients
   * are known), `gradOutput` one per output. An array it returns replaces
   * `gradInput`. The hook gets copies it may keep (Grad-CAM's
   * `grads = gradOutput[0]`). While the module has such a hook, its inputs
   * and outputs pass through identity ops, and the models' fused paths
   * that would skip the module's call are off.
   *
   * @example
   * ```ts
   * import { nn, randn, type Tensor } from "@lits/vision";
   * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
   * let seen: number[] = [];
   * net[1].registerFullBackwardHook((_m, gradInput, gradOutput) => {
   *   seen = [...gradInput[0]!.shape, ...gradOutput[0]!.shape];
   * });
   * net(randn([3, 4])).sum().backward();
   * console.log(seen); // [3, 8, 3, 8]
   * ```
   */
  registerFullBackwardHook(hook: BackwardHook, options?: HookOptions): RemovableHandle {
    return this.#addHook("registerFullBackwardHook", "backward", hook, arguments.length, options);
  }

  /**
   * Runs `hook(module, gradOutput)` each time backward has the gradients
   * for this module's outputs, before those of its inputs, as PyTorch's
   * `register_full_backward_pre_hook`: an array it returns replaces
   * `gradOutput` (what flows into the module's own backward).
   *
   * @example
   * ```ts
   * import { nn, tensor } from "@lits/vision";
   * const fc = new nn.Linear(2, 1);
   * fc.registerFullBackwardPreHook((_m, [g]) => [g!.mul(10)]);
   * fc(tensor([[1, 2]])).sum().backward();
   * console.log(fc.weight.grad!.toList()); // [[10, 20]]
   * ```
   */
  registerFullBackwardPreHook(hook: BackwardPreHook, options?: HookOptions): RemovableHandle {
    return this.#addHook(
      "registerFullBackwardPreHook",
      "backwardPre",
      hook,
      arguments.length,
      options,
    );
  }

  /** The four hook methods' common part: checks, then adds `hook` to its list. */
  #addHook(
    where: keyof typeof HOOK_USAGE,
    kind: "forward" | "pre" | "backward" | "backwardPre",
    hook: unknown,
    given: number,
    options: HookOptions | undefined,
  ): RemovableHandle {
    const usage = HOOK_USAGE[where];
    const o = checkCall<HookOptions>(where, given, 2, options, ["prepend"], usage);
    checkHook(where, hook, usage);
    const hooks = this.#hooks ??= new ModuleHooks();
    return hooks.add(this, hooks[kind] as unknown[], hook, o.prepend);
  }

  /**
   * Registers a buffer (state that moves with the module but is not
   * trained); returns it kept. With `persistent` false it is left out of
   * `stateDict()`, as PyTorch's `register_buffer(name, t, persistent=False)`.
   */
  protected registerBuffer<T extends Tensor | null>(name: string, t: T, persistent = true): T {
    if (name === "" || name.includes(".")) throw new Error(`registerBuffer: bad name '${name}'`);
    if (typeof persistent !== "boolean") {
      throw new Error(`registerBuffer: persistent must be a boolean, got ${String(persistent)}`);
    }
    t?.keep();
    this.#buffers.set(name, t);
    if (persistent) this.#transient.delete(name);
    else this.#transient.add(name);
    return t;
  }

  /**
   * Sets `module` as a child under `name` (torch's `add_module`, for names
   * built in a loop: `this.addModule(\`denselayer${i + 1}\`, layer)`); the
   * same as assigning the field. A name with '.', an empty one, or one that
   * holds something other than a module is refused.
   */
  addModule(name: string, module: Module | null): void {
    if (typeof name !== "string" || name === "" || name.includes(".")) {
      throw new Error(`addModule: bad name ${JSON.stringify(name)} (no '.', not empty)`);
    }
    if (module !== null && !(module instanceof Module)) {
      throw new Error(`addModule: '${name}' must be an nn.Module or null`);
    }
    const here = (this as unknown as Record<string, unknown>)[name];
    if (here !== undefined && here !== null && !(here instanceof Module)) {
      throw new Error(`addModule: '${name}' already holds something that is not a module`);
    }
    (this as unknown as Record<string, unknown>)[name] = module;
  }

  /** torch's `register_module`: `addModule`. */
  registerModule(name: string, module: Module | null): void {
    this.addModule(name, module);
  }

  /** The buffer registered under `name`. */
  protected buffer(name: string): Tensor | null {
    return this.#buffers.get(name) ?? null;
  }

  /**
   * Direct children, in declaration order, with their property names. A
   * field that hides modules or parameters in a plain array, object, Map or
   * Set throws (they would be missing from parameters(), the state dict,
   * to() and train()): use `nn.ModuleList` or `nn.ModuleDict` for those.
   */
  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) yield [k, v];
      else if (typeof v === "object" && v !== null && !(v instanceof Tensor)) {
        checkField(this, k, v);
      }
    }
  }

  /** Direct children, each once (a module under two names: the first). */
  *children(): Generator<Module> {
    const seen = new Set<Module>();
    for (const [, m] of this.namedChildren()) {
      if (!seen.has(m)) yield m;
      seen.add(m);
    }
  }

  /**
   * This module and all below it, with dotted names ("" for this one, or
   * `prefix`), each once: a module shared by two parents comes under its
   * first name, as PyTorch's `named_modules`.
   */
  *namedModules(prefix = ""): Generator<[string, Module]> {
    checkWalk("namedModules", arguments.length, 1, prefix, true, "namedModules()");
    yield* this.#walk(prefix, new Set());
  }

  *#walk(path: string, seen: Set<Module>): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [path, this];
    for (const [k, m] of this.namedChildren()) yield* m.#walk(path ? `${path}.${k}` : k, seen);
  }

  /** This module and all below it. */
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  /**
   * Parameters with their dotted names (each module's own, then its
   * children's), each once: tied weights (`b.weight = a.weight`) come under
   * their first name, as PyTorch's `named_parameters`, so that an optimizer
   * and `numParameters()` count them once. `stateDict()` keeps both names.
   * `recurse: false` (torch's `named_parameters(recurse=False)`, written
   * `namedParameters("", false)`) gives this module's own only.
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * const m = new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2));
   * console.log([...m.namedParameters()].length, [...m.namedParameters("", false)].length); // 4 0
   * ```
   */
  *namedParameters(prefix = "", recurse = true): Generator<[string, Parameter]> {
    checkWalk(
      "namedParameters",
      arguments.length,
      2,
      prefix,
      recurse,
      'namedParameters("", false)',
    );
    const seen = new Set<Parameter>();
    for (const [path, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as const]) {
      for (const [k, v] of Object.entries(m)) {
        if (!(v instanceof Parameter) || seen.has(v)) continue;
        seen.add(v);
        yield [path ? `${path}.${k}` : k, v];
      }
    }
  }

  /** All parameters, each once; `recurse: false`: this module's own only (torch's `parameters(recurse=False)`). */
  parameters(recurse = true): Parameter[] {
    checkWalk("parameters", arguments.length, 1, "", recurse, "parameters(false)");
    return [...this.namedParameters("", recurse)].map(([, p]) => p);
  }

  /**
   * Buffers with their dotted names, each once (non-persistent ones too);
   * `recurse: false` gives this module's own only, as torch's.
   */
  *namedBuffers(prefix = "", recurse = true): Generator<[string, Tensor]> {
    checkWalk("namedBuffers", arguments.length, 2, prefix, recurse, 'namedBuffers("", false)');
    const seen = new Set<Tensor>();
    for (const [path, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as const]) {
      for (const [k, b] of m.#buffers) {
        if (b === null || seen.has(b)) continue;
        seen.add(b);
        yield [path ? `${path}.${k}` : k, b];
      }
    }
  }

  /** All buffers; `recurse: false`: this module's own only (torch's `buffers(recurse=False)`). */
  buffers(recurse = true): Tensor[] {
    checkWalk("buffers", arguments.length, 1, "", recurse, "buffers(false)");
    return [...this.namedBuffers("", recurse)].map(([, b]) => b);
  }

  /**
   * Parameters and buffers by name, in PyTorch's order (each module's
   * parameters, then its buffers, then its children). The tensors are the
   * module's own (not copies). A Map; torch's `sd["fc.weight"]` reads the
   * entry too.
   */
  stateDict(prefix = ""): Map<string, Tensor> {
    if (typeof prefix !== "string" || arguments.length > 1) {
      throw new Error(
        "stateDict takes one argument at most, a key prefix (a string); got " +
          (arguments.length > 1 ? `${arguments.length} arguments` : describeArg(prefix)) +
          "; its tensors are the module's own, so torch's keep_vars has no counterpart: " +
          "write stateDict()",
      );
    }
    const out = new Map<string, Tensor>();
    this.#collectState(prefix, out);
    return keyedStateDict(out);
  }

  /** This module's parameters and buffers, then its children's, into `out` under `prefix`. */
  #collectState(prefix: string, out: Map<string, Tensor>): void {
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) out.set(prefix + k, v);
    for (const [k, b] of this.#buffers) if (b && !this.#transient.has(k)) out.set(prefix + k, b);
    for (const [k, m] of this.namedChildren()) m.#collectState(`${prefix}${k}.`, out);
  }

  /**
   * Copies values from `stateDict` into this module's tensors (in place, so
   * optimizers keep working). Everything is checked before anything is
   * written: shapes (and dtypes) must match, and with `strict` (default)
   * missing and unexpected keys are errors too; one Error lists every
   * problem. Returns the keys it did not load and those it did not know, as
   * PyTorch's `load_state_dict` (with `strict: false`, what stayed as it was).
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * const fc = new nn.Linear(2, 2);
   * const sd = new Map([["weight", fc.weight.detach()]]);
   * console.log(fc.loadStateDict(sd, { strict: false })); // { missingKeys: [ "bias" ], unexpectedKeys: [] }
   * ```
   */
  loadStateDict(
    stateDict: Map<string, Tensor> | Record<string, Tensor>,
    options: LoadOptions = {},
  ): IncompatibleKeys {
    const strict = checkOptions<LoadOptions>(
      "loadStateDict",
      options,
      ["strict"],
      "model.loadStateDict(sd, { strict: false })",
    ).strict ?? true;
    stateDict = stateMap(stateDict);
    const own = this.stateDict();
    // A batch norm's step count that the dict lacks (saved before it existed,
    // or made by hand) is set to 0, as PyTorch 1.13 fills it for such dicts.
    const counts = new Set(
      [...own.keys()].filter((k) => !stateDict.has(k) && k.endsWith("num_batches_tracked")),
    );
    const missing = [...own.keys()].filter((k) => !stateDict.has(k) && !counts.has(k));
    const unexpected = [...stateDict.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    if (strict && (missing.length > 0 || unexpected.length > 0)) {
      problems.push(
        `missing keys [${missing.join(", ")}], unexpected keys [${unexpected.join(", ")}]` +
          this.stateKeysHint(missing, unexpected),
      );
    }
    for (const [name, dst] of own) {
      const src = stateDict.get(name);
      if (!src) continue;
      if (src.shape.join() !== dst.shape.join()) {
        problems.push(`'${name}' has shape [${src.shape}], the module expects [${dst.shape}]`);
      } else if (src.dtype !== dst.dtype && dst.dtype === "int32" && src.dtype === "float32") {
        problems.push(`'${name}' is float32, the module expects int32`);
      }
    }
    if (problems.length > 0) throw new Error(`loadStateDict: ${problems.join("; ")}`);
    for (const [name, dst] of own) {
      const src = stateDict.get(name);
      if (src) copyInto(dst, src);
      else if (counts.has(name)) fillInPlace(dst, 0);
    }
    for (const m of this.modules()) m.afterLoad();
    return { missingKeys: missing, unexpectedKeys: unexpected };
  }

  /** Called after `loadStateDict` wrote new values (for cached state). */
  protected afterLoad(): void {}

  /**
   * What strict `loadStateDict` adds to its missing / unexpected keys error
   * ("; ..." or ""): a model whose options decide which keys it has
   * (Inception v3's `auxLogits`) names the option and the other ways to load.
   */
  protected stateKeysHint(_missing: string[], _unexpected: string[]): string {
    return "";
  }

  /**
   * Sets training mode here, then calls each child's `train(mode)` (so a
   * child that overrides `train`, e.g. to keep its batch norm frozen, is
   * obeyed, as in PyTorch); returns this.
   */
  train(mode = true): this {
    if (typeof mode !== "boolean") {
      throw new Error(
        `train: mode must be a boolean, got ${JSON.stringify(mode)}; write model.train() or ` +
          "model.eval()",
      );
    }
    this.training = mode;
    for (const m of this.children()) m.train(mode);
    return this;
  }

  /** Sets evaluation mode here and below; returns this. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Moves every parameter and buffer here and below to `device`, in place
   * (the same Parameter objects, so an optimizer made before keeps working;
   * gradients are dropped). Returns this. Only devices: `model.to("cpu",
   * "bfloat16")` throws (weights stay float32; bfloat16 mixed precision is
   * `autocast`).
   *
   * @example
   * ```ts
   * import { defaultDevice, nn } from "@lits/vision";
   * const layer = new nn.Linear(4, 2).to(defaultDevice());
   * console.log(layer.weight.device === defaultDevice()); // true
   * ```
   */
  to(device: DeviceName): this {
    checkToArguments("Module.to", arguments);
    backend(device); // a bad name fails here too when nothing would move
    for (const p of this.parameters()) moveInPlace(p, device);
    for (const b of this.buffers()) moveInPlace(b, device);
    return this;
  }

  /**
   * Clears the parameters' gradients (to null; `{ setToNone: false }` fills
   * existing ones with zeros, as PyTorch 1.13's default) and ends the
   * training step's temporaries.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const o = checkCall<{ setToNone?: boolean }>(
      "Module.zeroGrad",
      arguments.length,
      1,
      options,
      ["setToNone"],
      "model.zeroGrad({ setToNone: false })",
    );
    clearGrads([...this.parameters()], o.setToNone ?? true);
    zeroGradBoundary();
  }

  /** Frees every parameter (with its gradient) and buffer here and below. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /** Frees the module at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * PyTorch's `model.float()`: parameters and floating buffers are float32
   * here already (as after torch's cast), so it changes nothing; returns
   * this, for chains such as `model.float().eval()`.
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * const fc = new nn.Linear(2, 3);
   * console.log(fc.float() === fc, fc.weight.dtype); // true "float32"
   * ```
   */
  float(): this {
    checkArity("Module.float", arguments.length, 0, "model.float()");
    return this;
  }

  /** Throws: PyTorch's `model.half()`; weights stay float32 (bfloat16 is `autocast`'s). */
  half(): never {
    throw dtypeCastError("half()");
  }

  /** Throws: PyTorch's `model.bfloat16()`; weights stay float32 (bfloat16 is `autocast`'s). */
  bfloat16(): never {
    throw dtypeCastError("bfloat16()");
  }

  /** Throws: PyTorch's `model.double()`; weights stay float32. */
  double(): never {
    throw dtypeCastError("double()");
  }

  /** Number of elements over all parameters. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  /**
   * Calls `fn` on every module below this one and then on this one (children
   * first, as PyTorch's `apply`, the usual place for custom weight
   * initialisation); returns this.
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * const net = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1));
   * net.apply((m) => {
   *   if (m instanceof nn.Linear) nn.init.zeros_(m.bias!);
   * });
   * console.log(net.parameters()[1].toList()); // [0, 0]
   * ```
   */
  apply(fn: (m: Module) => void): this {
    if (typeof fn !== "function") {
      throw new Error(`apply: expected a function of a module, got ${typeof fn}`);
    }
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Sets `requiresGrad` on every parameter here and below (PyTorch's
   * `model.requires_grad_(False)`, to freeze a backbone); returns this.
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * const fc = new nn.Linear(2, 2).requiresGrad_(false);
   * console.log(fc.weight.requiresGrad); // false
   * ```
   */
  requiresGrad_(flag = true): this {
    if (typeof flag !== "boolean") {
      throw new Error(`requiresGrad_: flag must be a boolean, got ${JSON.stringify(flag)}`);
    }
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  /**
   * The module at a dotted path below this one (`"layer1.0.conv1"`; "" is
   * this one), as PyTorch's `get_submodule`; throws naming the missing part.
   *
   * @example
   * ```ts
   * import { models } from "@lits/vision";
   * using net = models.resnet50({ numClasses: 3 });
   * console.log(net.getSubmodule("layer1.0.conv1").constructor.name); // Conv2d
   * ```
   */
  getSubmodule(target: string): Module {
    if (typeof target !== "string") {
      throw new Error(`getSubmodule: expected a dotted path, got ${typeof target}`);
    }
    if (target === "") return this;
    return target.split(".").reduce((m: Module, part) => {
      const next = [...m.namedChildren()].find(([k]) => k === part)?.[1];
      if (next === undefined) {
        throw new Error(
          `getSubmodule: ${m.constructor.name} has no submodule '${part}' (in '${target}')`,
        );
      }
      return next;
    }, this);
  }
}

/** What a plain container field holds that the module tree cannot see, if anything. */
function hiddenIn(v: object, depth: number): Module | Parameter | null {
  let items: Iterable<unknown>;
  if (Array.isArray(v) || v instanceof Set) items = v;
  else if (v instanceof Map) items = v.values();
  else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return null; // a class instance: its own business
    items = Object.values(v);
  }
  for (const item of items) {
    if (item instanceof Module || item instanceof Parameter) return item;
    if (depth < 3 && typeof item === "object" && item !== null && !(item instanceof Tensor)) {
      const inner = hiddenIn(item, depth + 1);
      if (inner) return inner;
    }
  }
  return null;
}

/** Throws when field `key` of `m` hides modules or parameters in a plain container. */
function checkField(m: Module, key: string, v: object): void {
  const hidden = hiddenIn(v, 0);
  if (!hidden) return;
  const kind = Array.isArray(v)
    ? "array"
    : v instanceof Map
    ? "Map"
    : v instanceof Set
    ? "Set"
    : "object";
  const where = `${m.constructor.name}.${key}`;
  const what = `a plain ${kind} holding ${
    hidden instanceof Parameter ? "a Parameter" : `an nn.${hidden.constructor.name}`
  }`;
  const fix = hidden instanceof Parameter
    ? `assign each Parameter to a field of its own (this.${key}0 = new nn.Parameter(...))`
    : kind === "array" || kind === "Set"
    ? `write this.${key} = new nn.ModuleList([...])`
    : `write this.${key} = new nn.ModuleDict({ ... })`;
  throw new Error(
    `${where} is ${what}, which parameters(), stateDict(), to(), train() and eval() ` +
      `cannot see (it would silently not train or move); ${fix}`,
  );
}

/** A state dict as a Map: a plain object of tensors (PyTorch's dict habit) is taken too. */
function stateMap(sd: unknown): Map<string, Tensor> {
  if (sd instanceof Map) return sd;
  const proto = typeof sd === "object" && sd !== null ? Object.getPrototypeOf(sd) : undefined;
  if (
    (proto === Object.prototype || proto === null) &&
    Object.values(sd as object).every((t) => t instanceof Tensor)
  ) {
    return new Map(Object.entries(sd as Record<string, Tensor>));
  }
  throw new Error(
    "loadStateDict: expected a Map of name -> Tensor (what stateDict() and io.loadSafetensors " +
      `give) or a plain object of tensors, got ${sd === null ? "null" : typeof sd}`,
  );
}

/**
 * Copies src's values into dst (same shape), converting dtype if needed,
 * through dst's strides where it is a view (`writeInPlace`).
 */
function copyInto(dst: Tensor, src: Tensor): void {
  const conv = src.dtype === dst.dtype ? src : cast(src, dst.dtype);
  writeInPlace(dst, "loadStateDict", (d) => {
    if (conv.device === d.device && conv.isContiguous) {
      check(d.lib, d.lib.lits_copy_d2d(d.ptr, conv.ptr, d.numel() * 4), () => "loadStateDict copy");
    } else {
      const host = conv.toArray();
      check(d.lib, d.lib.lits_copy_h2d(d.ptr, host, host.byteLength), () => "loadStateDict copy");
    }
  });
  if (conv !== src) conv.dispose();
}

// torch's method names on every module (`model.state_dict()` was "not a
// function"): each throws, naming ours. Skipped where a subclass has one.
addNameHints(Module.prototype, "nn.Module", {
  state_dict: "write model.stateDict()",
  load_state_dict: "write model.loadStateDict(sd, { strict })",
  named_parameters: "write model.namedParameters()",
  named_buffers: "write model.namedBuffers()",
  named_children: "write model.namedChildren()",
  named_modules: "write model.namedModules()",
  zero_grad: "write model.zeroGrad()",
  register_forward_hook: "write model.registerForwardHook((m, inputs, output) => { ... })",
  register_forward_pre_hook: "write model.registerForwardPreHook((m, inputs) => { ... })",
  register_full_backward_hook:
    "write model.registerFullBackwardHook((m, gradInput, gradOutput) => { ... })",
  register_full_backward_pre_hook:
    "write model.registerFullBackwardPreHook((m, gradOutput) => { ... })",
  register_backward_hook: "torch deprecates it (its gradients are those of the module's last " +
    "op); write model.registerFullBackwardHook((m, gradInput, gradOutput) => { ... })",
  register_buffer: "buffers are registered inside a subclass with this.registerBuffer(name, t)",
  add_module: "write model.addModule(name, module)",
  register_module: "write model.registerModule(name, module)",
  get_submodule: "write model.getSubmodule(target)",
  requires_grad_: "write model.requiresGrad_(flag)",
  cuda: 'write model.to("cuda")',
  cpu: 'write model.to("cpu")',
});

/** A short description of an argument for the messages. */
function describeArg(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return Array.isArray(v) ? "an array" : "an object";
  return `${typeof v} ${String(v)}`;
}

/**
 * The arguments of the module walks: torch's (prefix, recurse) in order, so
 * `namedParameters({ recurse: false })` or `parameters("x")` fail here
 * instead of walking everything under a prefix "[object Object]".
 */
function checkWalk(
  name: string,
  given: number,
  most: number,
  prefix: unknown,
  recurse: unknown,
  usage: string,
): void {
  if (given > most) {
    throw new Error(`${name}: takes at most ${most} arguments, got ${given}; write ${usage}`);
  }
  if (typeof prefix !== "string") {
    throw new Error(
      `${name}: the prefix must be a string, got ${describeArg(prefix)}; write ${usage}`,
    );
  }
  if (typeof recurse !== "boolean") {
    throw new Error(
      `${name}: recurse must be true or false (torch's recurse=False is ${usage}), got ` +
        describeArg(recurse),
    );
  }
}
