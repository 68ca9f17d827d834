/**
 * `ModuleList` and `ModuleDict`, as `torch.nn`'s: containers whose modules
 * are registered children, named by position (`blocks.0.weight`) or by key
 * (`heads.liver.bias`) in the state dict.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "./module.ts";
import { checkEntries, requireModule, syncNegativeIndices } from "./indexed.ts";

const FIX = "use list.append(module), list.insert(i, module) or list.pop(i)";

/**
 * A list of modules, as `torch.nn.ModuleList`: indexable (`list[0]`,
 * `list[-1]`, `list.at(-1)`), iterable, sliced with `slice` (torch's
 * `list[1:]`), with `append`, `extend`, `insert` and `pop`. It has no
 * forward of its own: a model's forward walks it.
 *
 * @example
 * ```ts
 * import { nn, randn, type Tensor } from "@lits/vision";
 * class Net extends nn.Module {
 *   blocks = new nn.ModuleList([new nn.Linear(4, 4), new nn.Linear(4, 4)]);
 *   forward(x: Tensor): Tensor {
 *     for (const block of this.blocks) x = block.forward(x).relu();
 *     return x;
 *   }
 * }
 * const net = new Net();
 * net.blocks.append(new nn.Linear(4, 2));
 * console.log(net.blocks.length); // 3
 * console.log([...net.stateDict().keys()].slice(0, 2)); // ["blocks.0.weight", "blocks.0.bias"]
 * console.log(net.forward(randn([5, 4])).shape); // [5, 2]
 * ```
 */
export class ModuleList extends Module implements Iterable<Module> {
  [index: number]: Module;
  #length = 0;

  constructor(modules: Iterable<Module> = []) {
    super();
    // One module is refused; an iterable one (a Sequential, a ModuleList) gives its children.
    if (arguments.length > 1 || (modules instanceof Module && !(Symbol.iterator in modules))) {
      throw new Error(
        "nn.ModuleList: takes one array of modules; write new nn.ModuleList([a, b, c])",
      );
    }
    this.extend(modules);
  }

  /** Number of modules. */
  override get length(): number {
    return this.#length;
  }

  /** The module at `index` (negative counts from the end), as `list[index]` in Python. */
  at(index: number): Module {
    const i = this.#index(index, this.#length, "at");
    return this[i];
  }

  /**
   * A new ModuleList of the modules from `start` to before `end` (negative
   * counts from the end), as torch's `list[1:]` (`list.slice(1)`) and
   * `list[:-1]` (`list.slice(0, -1)`): the same modules, renumbered from 0.
   */
  slice(start?: number, end?: number): ModuleList {
    return new ModuleList([...this].slice(start, end));
  }

  /** Adds `module` at the end; returns this. */
  append(module: Module): this {
    this[this.#length] = requireModule("nn.ModuleList.append", module, this.#length);
    this.#length++;
    syncNegativeIndices(this, "nn.ModuleList");
    return this;
  }

  /** Appends each module of `modules`; returns this. */
  extend(modules: Iterable<Module>): this {
    if (modules === null || typeof (modules as Iterable<Module>)[Symbol.iterator] !== "function") {
      throw new Error("nn.ModuleList.extend: expected an array of modules");
    }
    // Check all before adding any, so a bad entry leaves the list as it was.
    const list = [...modules];
    list.forEach((m, i) => requireModule("nn.ModuleList", m, this.#length + i));
    for (const m of list) this.append(m);
    return this;
  }

  /** Inserts `module` before `index` (as Python's list.insert); returns this. */
  insert(index: number, module: Module): this {
    requireModule("nn.ModuleList.insert", module, index);
    if (!Number.isInteger(index)) {
      throw new Error(`nn.ModuleList.insert: index must be an integer, got ${index}`);
    }
    const n = this.#length;
    const i = Math.min(Math.max(index < 0 ? index + n : index, 0), n);
    for (let k = n; k > i; k--) this[k] = this[k - 1];
    this[i] = module;
    this.#length++;
    syncNegativeIndices(this, "nn.ModuleList");
    return this;
  }

  /** Removes and returns the module at `index` (default the last), as Python's list.pop. */
  pop(index = -1): Module {
    const n = this.#length;
    const i = this.#index(index, n, "pop");
    const m = this[i];
    for (let k = i; k < n - 1; k++) this[k] = this[k + 1];
    delete this[n - 1];
    this.#length--;
    syncNegativeIndices(this, "nn.ModuleList");
    return m;
  }

  /** Replaces the module at `index`; returns this. */
  set(index: number, module: Module): this {
    this[this.#index(index, this.#length, "set")] = requireModule(
      "nn.ModuleList.set",
      module,
      index,
    );
    return this;
  }

  /**
   * The children "0".."length-1". A plain assignment past the end
   * (`list[3] = m`) or of a non-module throws, as Python's IndexError would:
   * the entry would be half in the list (state dict) and half out (length).
   */
  override *namedChildren(): Generator<[string, Module]> {
    checkEntries(this, "nn.ModuleList", FIX);
    yield* super.namedChildren();
  }

  /** The modules in order. */
  *[Symbol.iterator](): Iterator<Module> {
    // list[length] = m would be trained and saved but never iterated.
    checkEntries(this, "nn.ModuleList", FIX);
    for (let i = 0; i < this.#length; i++) yield this[i];
  }

  /** ModuleList has no forward, as in PyTorch: iterate it in the model's forward. */
  forward(..._inputs: Tensor[]): Tensor {
    throw new Error(
      "nn.ModuleList has no forward: call its modules, e.g. " +
        "for (const m of this.blocks) x = m.forward(x); or use nn.Sequential",
    );
  }

  #index(index: number, n: number, what: string): number {
    const i = index < 0 ? index + n : index;
    if (!Number.isInteger(index) || i < 0 || i >= n) {
      throw new Error(`nn.ModuleList.${what}: index ${index} is out of range for length ${n}`);
    }
    return i;
  }
}

/**
 * Modules by name, as `torch.nn.ModuleDict`: insertion-ordered, with
 * `get`, `set`, `has` (torch's `in`), `delete`, `pop`, `clear`, `keys`,
 * `values`, `items` (`entries`), `length` (torch's `len`) and iteration
 * over [key, module] pairs. Keys become state-dict names (`heads.liver.bias`).
 *
 * As torch's, `dict[key]` reads a module (`this.choices[choice](x)`) and
 * `dict[key] = module` adds or replaces one; a new key so assigned joins at
 * the end when the dict is next used, and `delete dict[key]` removes it. A
 * key named as a member of ModuleDict (`keys`, `update`, `training`, ...)
 * is read with `get(key)` only: `dict.keys` stays the method.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const heads = new nn.ModuleDict({ liver: new nn.Linear(8, 2), lesion: new nn.Linear(8, 2) });
 * console.log([...heads.keys()]); // ["liver", "lesion"]
 * console.log([...heads.stateDict().keys()][0]); // "liver.weight"
 * console.log(heads.get("lesion").forward(randn([3, 8])).shape); // [3, 2]
 * const choice = "liver";
 * console.log(heads[choice](randn([3, 8])).shape); // [3, 2]
 * ```
 */
export class ModuleDict extends Module implements Iterable<[string, Module]> {
  // deno-lint-ignore no-explicit-any
  [key: string]: any; // dict[key], torch's keyed read (a module, or a member of this class)
  #modules = new Map<string, Module>();
  /** The keys that have an accessor `dict[key]` (not those named as a member). */
  #exposed = new Set<string>();

  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    if (arguments.length > 1 || modules instanceof Module) {
      throw new Error(
        "nn.ModuleDict: takes one object of modules; write new nn.ModuleDict({ liver: a, lesion: b })",
      );
    }
    this.update(modules);
  }

  /** Adds or replaces the modules of an object or of [key, module] pairs; returns this. */
  update(modules: Record<string, Module> | Iterable<[string, Module]>): this {
    if (modules === null || typeof modules !== "object") {
      throw new Error("nn.ModuleDict.update: expected an object or [key, module] pairs");
    }
    const pairs = Symbol.iterator in modules
      ? [...(modules as Iterable<[string, Module]>)]
      : Object.entries(modules);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new Error("nn.ModuleDict.update: expected [key, module] pairs");
      }
      checkKey(pair[0]);
      requireModule("nn.ModuleDict", pair[1], pair[0]);
    }
    this.#reconcile();
    for (const [k, m] of pairs) this.#put(k, m);
    return this;
  }

  /** Stores `m` under `key`, with the accessor `this[key]` where no member has that name. */
  #put(key: string, m: Module): void {
    this.#modules.set(key, m);
    if (this.#exposed.has(key) || key in this) return;
    Object.defineProperty(this, key, {
      configurable: true,
      enumerable: false,
      get: () => this.#modules.get(key),
      set: (v: unknown) => this.set(key, v as Module),
    });
    this.#exposed.add(key);
  }

  /** Removes `key` and its accessor. */
  #drop(key: string): void {
    this.#modules.delete(key);
    if (this.#exposed.delete(key)) delete (this as Record<string, unknown>)[key];
  }

  /**
   * Brings the entries up to date with plain JavaScript on the dict:
   * `dict[key] = module` for a new key made a plain field (joins at the
   * end, as torch's `__setitem__`), `delete dict[key]` removed an accessor
   * (the entry goes, as torch's `del`).
   */
  #reconcile(): void {
    for (const key of this.#exposed) {
      if (!Object.getOwnPropertyDescriptor(this, key)?.get) {
        this.#exposed.delete(key);
        this.#modules.delete(key);
      }
    }
    for (const [key, v] of Object.entries(this)) {
      if (!(v instanceof Module)) continue;
      checkKey(key);
      delete (this as Record<string, unknown>)[key];
      this.#modules.delete(key); // a member-named key assigned again: it moves to the end
      this.#put(key, v);
    }
  }

  /** Number of modules. */
  get size(): number {
    this.#reconcile();
    return this.#modules.size;
  }

  /** Number of modules (torch's `len(dict)`). */
  override get length(): number {
    return this.size;
  }

  /** The module under `key` (an Error names the known keys when there is none). */
  get(key: string): Module {
    this.#reconcile();
    const m = this.#modules.get(key);
    if (!m) {
      throw new Error(
        `nn.ModuleDict.get: no module '${key}'; keys: ${[...this.#modules.keys()].join(", ")}`,
      );
    }
    return m;
  }

  /** Adds or replaces the module under `key`; returns this. */
  set(key: string, module: Module): this {
    checkKey(key);
    requireModule("nn.ModuleDict.set", module, key);
    this.#reconcile();
    this.#put(key, module);
    return this;
  }

  /** Whether `key` is present (torch's `key in dict`). */
  has(key: string): boolean {
    this.#reconcile();
    return this.#modules.has(key);
  }

  /** Removes `key`; returns whether it was there (torch's `del dict[key]`). */
  delete(key: string): boolean {
    this.#reconcile();
    const had = this.#modules.has(key);
    this.#drop(key);
    return had;
  }

  /** Removes and returns the module under `key`, as torch's `pop(key)`. */
  pop(key: string): Module {
    const m = this.get(key);
    this.#drop(key);
    return m;
  }

  /** Removes every module, as torch's `clear()`. */
  clear(): void {
    this.#reconcile();
    for (const key of [...this.#modules.keys()]) this.#drop(key);
  }

  /** The keys in insertion order. */
  keys(): IterableIterator<string> {
    this.#reconcile();
    return this.#modules.keys();
  }

  /** The modules in insertion order. */
  values(): IterableIterator<Module> {
    this.#reconcile();
    return this.#modules.values();
  }

  /** [key, module] pairs in insertion order. */
  entries(): IterableIterator<[string, Module]> {
    this.#reconcile();
    return this.#modules.entries();
  }

  /** [key, module] pairs in insertion order, as torch's `items()`. */
  items(): IterableIterator<[string, Module]> {
    return this.entries();
  }

  /** [key, module] pairs in insertion order. */
  [Symbol.iterator](): Iterator<[string, Module]> {
    return this.entries();
  }

  /** The children are the entries (PyTorch's _modules). */
  override *namedChildren(): Generator<[string, Module]> {
    this.#reconcile();
    yield* this.#modules;
  }

  /** ModuleDict has no forward, as in PyTorch: pick a module in the model's forward. */
  forward(..._inputs: Tensor[]): Tensor {
    throw new Error(
      'nn.ModuleDict has no forward: call one of its modules, e.g. this.heads.get("liver").forward(x)',
    );
  }
}

function checkKey(key: unknown): void {
  if (typeof key !== "string" || key === "" || key.includes(".")) {
    throw new Error(
      `nn.ModuleDict: key ${JSON.stringify(key)} must be a non-empty string without '.' ` +
        "(keys become state-dict names)",
    );
  }
}
