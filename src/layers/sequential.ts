/**
 * `Sequential`: children applied in order, named "0", "1", ... or, as
 * PyTorch's `nn.Sequential(OrderedDict(...))`, by the names given
 * (`new nn.Sequential({ conv0: ..., norm0: ... })`), which the state dict
 * keeps (`features.norm0.weight`, torchvision's DenseNet). As in PyTorch, a
 * child set under a name later (`seq.head = m`, or a subclass's
 * `this.norm = ...` after `super()`: torchvision's `_Transition`) runs
 * after the others, in the order the names were set.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { chain } from "./chain.ts";
import { convBeforeBatchNorm } from "./conv_bn.ts";
import { Module } from "./module.ts";
import { checkEntries, requireModule, syncNegativeIndices } from "./indexed.ts";

const FIX = "replace an entry with seq[i] = m or seq[-1] = m, or append(m)";

/** Children by name, for `new nn.Sequential({ ... })` (a Map keeps any order of insertion). */
export type NamedModules = Record<string, Module> | Map<string, Module>;

function isNamedModules(v: unknown): v is NamedModules {
  if (v instanceof Map) return true;
  if (typeof v !== "object" || v === null || v instanceof Module) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A chain of modules; their names in the state dict are their positions, or
 * the names given.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
 * console.log([...net.stateDict().keys()]); // ["0.weight", "0.bias", "2.weight", "2.bias"]
 * console.log(net.forward(randn([5, 4])).shape); // [5, 2]
 * const named = new nn.Sequential({ fc: new nn.Linear(4, 2), act: new nn.ReLU() });
 * console.log([...named.stateDict().keys()]); // ["fc.weight", "fc.bias"]
 * ```
 */
export class Sequential extends Module {
  [index: number]: Module;
  /** Children added by position ("0".."n-1"). */
  #length: number;
  /** Names given to the constructor (or append) of a named Sequential, in order. */
  #names: string[] | null = null;

  constructor(...modules: Module[] | [NamedModules]) {
    super();
    if (modules.length === 1 && isNamedModules(modules[0])) {
      const entries = modules[0] instanceof Map
        ? [...modules[0]]
        : Object.entries(modules[0] as Record<string, Module>);
      this.#names = [];
      for (const [name, m] of entries) this.#add(name, m);
      this.#length = 0;
      this.#syncPositions();
      return;
    }
    (modules as unknown[]).forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`Sequential: child ${i} is not a Module`);
      this[i] = m;
    });
    this.#length = modules.length;
    syncNegativeIndices(this, "nn.Sequential"); // seq[-1] is the last, as in PyTorch
  }

  #add(name: string, m: unknown): void {
    if (typeof name !== "string" || name === "" || name.includes(".") || /^-?\d+$/.test(name)) {
      throw new Error(
        `nn.Sequential: child name ${JSON.stringify(name)} must be a non-empty name without ` +
          "'.' and not a number (numbered children: new nn.Sequential(a, b, c))",
      );
    }
    if (this.#names!.includes(name)) {
      throw new Error(`nn.Sequential: two children named '${name}'`);
    }
    (this as unknown as Record<string, Module>)[name] = requireModule("nn.Sequential", m, name);
    this.#names!.push(name);
  }

  /** seq[0], seq[-1], ... of a named Sequential: accessors (not children) to its entries. */
  #syncPositions(): void {
    const names = this.#names!;
    for (let i = 0; i < names.length; i++) {
      for (const key of [String(i), String(i - names.length)]) {
        Object.defineProperty(this, key, {
          configurable: true,
          enumerable: false,
          get: () => (this as unknown as Record<string, Module>)[this.#names![i]],
          // seq[0] = m replaces the first child under its name, as PyTorch's.
          set: (m: unknown) => {
            const name = this.#names![i];
            (this as unknown as Record<string, Module>)[name] = requireModule(
              "nn.Sequential",
              m,
              name,
            );
          },
        });
      }
    }
  }

  /** Number of children. */
  get length(): number {
    if (this.#names === null && !this.#hasNames()) return this.#length;
    return [...this.namedChildren()].length;
  }

  /** Whether children were set under names (`seq.head = m`, a subclass's fields). */
  #hasNames(): boolean {
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module && !/^\d+$/.test(k)) return true;
    }
    return false;
  }

  /** Adds `module` at the end (torch's `append`, named by its position); returns this. */
  append(module: Module): this {
    if (this.#names !== null) {
      throw new Error(
        "nn.Sequential.append: this Sequential names its children; add one with a name: " +
          'seq.addModule("head", m)',
      );
    }
    this[this.#length] = requireModule("nn.Sequential.append", module, this.#length);
    this.#length++;
    syncNegativeIndices(this, "nn.Sequential");
    return this;
  }

  /**
   * Adds `module` under `name` at the end (torch's `add_module`): a named
   * Sequential runs it last, as does a numbered one (after its numbers).
   */
  override addModule(name: string, module: Module | null): void {
    if (this.#names === null) return super.addModule(name, module);
    if (module === null) {
      throw new Error("nn.Sequential.addModule: a Sequential holds no null child");
    }
    this.#add(name, module);
    this.#syncPositions();
  }

  /**
   * The children in the order forward runs them: by position, or in the
   * order their names were given, then those set under a name since.
   */
  override *namedChildren(): Generator<[string, Module]> {
    if (this.#names === null) {
      // Numbered entries must be whole: a deleted one, or one set past the end, is an Error.
      checkEntries(this, "nn.Sequential", FIX, true, this.#length);
      yield* super.namedChildren();
      return;
    }
    const own = new Map(super.namedChildren());
    for (const key of own.keys()) {
      if (/^-?\d+$/.test(key)) {
        throw new Error(
          `nn.Sequential: a child set at index ${key} of a named Sequential; set it by its name ` +
            `(${this.#names.join(", ")})`,
        );
      }
    }
    for (const name of this.#names) {
      const m = own.get(name);
      if (m === undefined) throw new Error(`nn.Sequential: child '${name}' was removed`);
      yield [name, m];
      own.delete(name);
    }
    yield* own;
  }

  /** Applies the children in order (inside `noGrad`, freeing each intermediate once used: see `chain`). */
  forward(x: Tensor): Tensor {
    const kids = [...this.namedChildren()].map(([, m]) => m);
    if (isGradEnabled()) { // the common case, without chain's closures
      for (let i = 0; i < kids.length; i++) x = convBeforeBatchNorm(kids[i], kids[i + 1], x);
      return x;
    }
    return chain(x, kids.map((m) => (t: Tensor) => m.forward(t)));
  }
}
