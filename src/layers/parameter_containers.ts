/**
 * `ParameterList` and `ParameterDict`, as `torch.nn`'s: containers of
 * parameters registered with their module, named by position
 * (`params.0`) or by key (`params.scale`) in `namedParameters()` and the
 * state dict, moved by `to()`, seen by optimizers.
 *
 * Each entry is an enumerable accessor on the container (how the module
 * walks find parameters), so `list[0] = t` and `dict.scale = t` replace an
 * entry, and a plain tensor given is made a Parameter sharing its memory
 * (torch's `Parameter(t)`). An entry added by plain assignment past the end
 * of a list, or of a plain tensor under a new key, would not be registered:
 * the next walk (`parameters()`, `stateDict()`) throws, naming what to write.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { Module, Parameter } from "./module.ts";

/** `t` as a Parameter: itself, or a Parameter sharing its memory (t stays usable). */
function asParameter(where: string, t: unknown, at: string | number): Parameter {
  if (t instanceof Parameter) return t;
  if (t instanceof Tensor) return new Parameter(t.detach());
  const got = t === null ? "null" : typeof t === "object" ? t.constructor?.name : typeof t;
  throw new Error(`${where}: entry ${JSON.stringify(at)} is ${got}, not a Tensor or nn.Parameter`);
}

/** Defines the enumerable accessor `key` of `target` over `read` and `write`. */
function entry(target: object, key: string, read: () => Parameter, write: (v: unknown) => void) {
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: true,
    get: read,
    set: write,
  });
}

/**
 * A list of parameters, as `torch.nn.ParameterList`: indexable (`list[0]`,
 * `list[-1]`, `at`), iterable, with `append` and `extend`; its parameters
 * are named "0", "1", ... under the list's field name.
 *
 * @example
 * ```ts
 * import { nn, randn, type Tensor } from "@lits/vision";
 * class Net extends nn.Module {
 *   params = new nn.ParameterList([randn([4, 4]), randn([4, 4])]);
 *   forward(x: Tensor): Tensor {
 *     for (const p of this.params) x = x.matmul(p);
 *     return x;
 *   }
 * }
 * const net = new Net();
 * console.log([...net.stateDict().keys()]); // ["params.0", "params.1"]
 * console.log(net.parameters().length, net(randn([2, 4])).shape); // 2 [2, 4]
 * ```
 */
export class ParameterList extends Module implements Iterable<Parameter> {
  [index: number]: Parameter;
  #items: Parameter[] = [];

  constructor(values: Iterable<Tensor> = []) {
    super();
    if (arguments.length > 1 || values instanceof Tensor) {
      throw new Error(
        "nn.ParameterList: takes one array of tensors; write new nn.ParameterList([a, b])",
      );
    }
    this.extend(values);
  }

  /** Number of parameters (torch's `len`). */
  override get length(): number {
    return this.#items.length;
  }

  /** The parameter at `index` (negative counts from the end). */
  at(index: number): Parameter {
    return this.#items[this.#index(index, "at")];
  }

  /** Adds `value` (a Parameter, or a tensor made one) at the end; returns this. */
  append(value: Tensor): this {
    this.#check();
    const i = this.#items.length;
    this.#items.push(asParameter("nn.ParameterList.append", value, i));
    entry(this, String(i), () => this.#items[i], (v) => this.#set(i, v));
    entry(this, String(-i - 1), () => this.#items[this.#items.length - i - 1], (v) => {
      this.#set(this.#items.length - i - 1, v);
    });
    Object.defineProperty(this, String(-i - 1), { enumerable: false }); // not a name of its own
    return this;
  }

  /** Appends each of `values`; returns this. */
  extend(values: Iterable<Tensor>): this {
    if (values === null || typeof (values as Iterable<Tensor>)[Symbol.iterator] !== "function") {
      throw new Error("nn.ParameterList.extend: expected an array of tensors");
    }
    const list = [...values];
    list.forEach((t, k) => asParameterCheck(t, this.#items.length + k));
    for (const t of list) this.append(t);
    return this;
  }

  /** Replaces the parameter at `index` (negative counts from the end); returns this. */
  set(index: number, value: Tensor): this {
    this.#set(this.#index(index, "set"), value);
    return this;
  }

  #set(i: number, v: unknown): void {
    if (i < 0 || i >= this.#items.length) {
      throw new Error(`nn.ParameterList: index ${i} is out of range (length ${this.length})`);
    }
    this.#items[i] = asParameter("nn.ParameterList", v, i);
  }

  #index(index: number, what: string): number {
    const n = this.#items.length, i = index < 0 ? index + n : index;
    if (!Number.isInteger(index) || i < 0 || i >= n) {
      throw new Error(`nn.ParameterList.${what}: index ${index} is out of range for length ${n}`);
    }
    return i;
  }

  /** Throws for an entry assigned past the end (`list[5] = t`): it would not be registered. */
  #check(): void {
    for (const [key, v] of Object.entries(this) as [string, unknown][]) {
      if (!/^-?\d+$/.test(key) || Object.getOwnPropertyDescriptor(this, key)?.get) continue;
      if (v instanceof Tensor || v instanceof Module) {
        throw new Error(
          `nn.ParameterList: list[${key}] = ... is past the end (length ${this.length}); ` +
            "write list.append(t)",
        );
      }
    }
  }

  /** The parameters in order. */
  *[Symbol.iterator](): Iterator<Parameter> {
    this.#check();
    yield* [...this.#items];
  }

  /** A ParameterList has no children; checks its entries (walks call this). */
  override *namedChildren(): Generator<[string, Module]> {
    this.#check();
    yield* super.namedChildren();
  }

  /** ParameterList has no forward, as in PyTorch: use its parameters in a model's forward. */
  forward(..._inputs: Tensor[]): Tensor {
    throw new Error(
      "nn.ParameterList has no forward: use its parameters, e.g. for (const p of this.params) " +
        "x = x.matmul(p)",
    );
  }
}

function asParameterCheck(t: unknown, at: number): void {
  if (!(t instanceof Tensor)) asParameter("nn.ParameterList", t, at);
}

/**
 * Parameters by name, as `torch.nn.ParameterDict`: insertion-ordered, read
 * as `dict.scale` or `dict["scale"]` (torch's `dict['scale']`) or with
 * `get`; `set`, `has`, `delete`, `pop`, `keys`, `values`, `items`,
 * `length`, iteration over [key, parameter] pairs. Keys become names
 * (`params.scale`); a key that is a number, or the name of a member
 * (`keys`, `training`), is refused (it would not keep its place or
 * would hide the member).
 *
 * @example
 * ```ts
 * import { nn, ones, randn, type Tensor } from "@lits/vision";
 * class Net extends nn.Module {
 *   params = new nn.ParameterDict({ scale: ones([3]), shift: randn([3]) });
 *   forward(x: Tensor): Tensor {
 *     return x.mul(this.params.scale).add(this.params["shift"]);
 *   }
 * }
 * const net = new Net();
 * console.log([...net.stateDict().keys()]); // ["params.scale", "params.shift"]
 * console.log(net(randn([2, 3])).shape); // [2, 3]
 * ```
 */
export class ParameterDict extends Module implements Iterable<[string, Parameter]> {
  // deno-lint-ignore no-explicit-any
  [key: string]: any; // dict[key], torch's keyed read (a parameter, or a member of this class)
  #items = new Map<string, Parameter>();

  constructor(values: Record<string, Tensor> | Iterable<[string, Tensor]> = {}) {
    super();
    if (arguments.length > 1 || values instanceof Tensor) {
      throw new Error(
        "nn.ParameterDict: takes one object of tensors; write new nn.ParameterDict({ a: t })",
      );
    }
    this.update(values);
  }

  /** Adds or replaces the parameters of an object or of [key, tensor] pairs; returns this. */
  update(values: Record<string, Tensor> | Iterable<[string, Tensor]>): this {
    if (values === null || typeof values !== "object") {
      throw new Error("nn.ParameterDict.update: expected an object or [key, tensor] pairs");
    }
    const pairs = Symbol.iterator in values
      ? [...(values as Iterable<[string, Tensor]>)]
      : Object.entries(values);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new Error("nn.ParameterDict.update: expected [key, tensor] pairs");
      }
      this.#checkKey(pair[0]);
      if (!(pair[1] instanceof Tensor)) asParameter("nn.ParameterDict", pair[1], pair[0]);
    }
    for (const [k, t] of pairs) this.set(k, t);
    return this;
  }

  #checkKey(key: unknown): asserts key is string {
    if (typeof key !== "string" || key === "" || key.includes(".")) {
      throw new Error(
        `nn.ParameterDict: key ${JSON.stringify(key)} must be a non-empty string without '.' ` +
          "(keys become state-dict names)",
      );
    }
    if (/^\d+$/.test(key)) {
      throw new Error(
        `nn.ParameterDict: key '${key}' is a number, which JavaScript orders before the other ` +
          "keys; use nn.ParameterList for numbered parameters, or a key such as 'p" + key + "'",
      );
    }
    if (!this.#items.has(key) && key in this) {
      throw new Error(
        `nn.ParameterDict: key '${key}' names a member of nn.ParameterDict; choose another key`,
      );
    }
  }

  /** Number of parameters. */
  override get length(): number {
    this.#check();
    return this.#items.size;
  }

  /** The parameter under `key` (an Error names the known keys when there is none). */
  get(key: string): Parameter {
    this.#check();
    const p = this.#items.get(key);
    if (!p) {
      throw new Error(
        `nn.ParameterDict.get: no parameter '${key}'; keys: ${[...this.#items.keys()].join(", ")}`,
      );
    }
    return p;
  }

  /** Adds or replaces the parameter under `key` (a tensor is made one); returns this. */
  set(key: string, value: Tensor): this {
    this.#check();
    this.#checkKey(key);
    const had = this.#items.has(key);
    this.#items.set(key, asParameter("nn.ParameterDict.set", value, key));
    if (!had) {
      entry(this, key, () => this.#items.get(key)!, (v) => this.set(key, v as Tensor));
    }
    return this;
  }

  /** Whether `key` is present. */
  has(key: string): boolean {
    this.#check();
    return this.#items.has(key);
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    this.#check();
    if (!this.#items.delete(key)) return false;
    delete (this as Record<string, unknown>)[key];
    return true;
  }

  /** Removes and returns the parameter under `key`, as torch's `pop(key)`. */
  pop(key: string): Parameter {
    const p = this.get(key);
    this.delete(key);
    return p;
  }

  /** The keys in insertion order. */
  keys(): IterableIterator<string> {
    this.#check();
    return this.#items.keys();
  }

  /** The parameters in insertion order. */
  values(): IterableIterator<Parameter> {
    this.#check();
    return this.#items.values();
  }

  /** [key, parameter] pairs in insertion order, as torch's `items()`. */
  items(): IterableIterator<[string, Parameter]> {
    this.#check();
    return this.#items.entries();
  }

  /** [key, parameter] pairs in insertion order. */
  [Symbol.iterator](): Iterator<[string, Parameter]> {
    return this.items();
  }

  /**
   * Adopts a Parameter assigned under a new key (`dict.bias = new
   * nn.Parameter(t)`); throws for a plain tensor so assigned (it would not
   * be registered) or an entry deleted with `delete dict[key]`.
   */
  #check(): void {
    for (const key of this.#items.keys()) {
      if (!Object.getOwnPropertyDescriptor(this, key)?.get) {
        throw new Error(
          `nn.ParameterDict: entry '${key}' was deleted with delete; write dict.delete("${key}")`,
        );
      }
    }
    for (const [key, v] of Object.entries(this)) {
      if (this.#items.has(key)) continue;
      if (v instanceof Parameter) {
        delete (this as Record<string, unknown>)[key];
        this.set(key, v);
      } else if (v instanceof Tensor) {
        throw new Error(
          `nn.ParameterDict: dict.${key} = tensor adds a plain field, not a parameter; write ` +
            `dict.set("${key}", tensor)`,
        );
      }
    }
  }

  /** A ParameterDict has no children; checks its entries (walks call this). */
  override *namedChildren(): Generator<[string, Module]> {
    this.#check();
    yield* super.namedChildren();
  }

  /** ParameterDict has no forward, as in PyTorch: use its parameters in a model's forward. */
  forward(..._inputs: Tensor[]): Tensor {
    throw new Error(
      'nn.ParameterDict has no forward: use its parameters, e.g. x.mul(this.params.get("scale"))',
    );
  }
}
