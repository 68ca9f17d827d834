/**
 * `Sequential`: children applied in order, named "0", "1", ... or, as
 * PyTorch's `nn.Sequential(OrderedDict(...))`, by the names given
 * (`new nn.Sequential({ conv0: ..., norm0: ... })`), which the state dict
 * keeps (`features.norm0.weight`, torchvision's DenseNet).
 *
 * The children keep PyTorch's `_modules` order: the order they were added
 * in, whatever their names. A child set under a name later (`seq.head = m`,
 * a subclass's `this.norm = ...` after `super()`: torchvision's
 * `_Transition`) joins at the end when the Sequential next looks (forward,
 * `length`, a position); `append` names by position (`String(length)`), as
 * PyTorch's. `seq[i]` and `seq[-i]` reach children by position;
 * `seq.slice(1)` is torch's `seq[1:]`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { chain } from "./chain.ts";
import { convBeforeBatchNorm } from "./conv_bn.ts";
import { Module } from "./module.ts";
import { requireModule } from "./indexed.ts";

const FIX = "replace an entry with seq[i] = m or seq[-1] = m, or append(m)";

/** Children by name, for `new nn.Sequential({ ... })` (a Map keeps any order of insertion). */
export type NamedModules = Record<string, Module> | Map<string, Module>;

function isNamedModules(v: unknown): v is NamedModules {
  if (v instanceof Map) return true;
  if (typeof v !== "object" || v === null || v instanceof Module) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const NUMBER = /^-?\d+$/;

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
export class Sequential extends Module implements Iterable<Module> {
  [index: number]: Module;
  /** The children's names in PyTorch's `_modules` order. */
  #order: string[] = [];
  /** How many positions have accessors (seq[i] where no child is named i, and seq[-i]). */
  #positions = 0;

  constructor(...modules: Module[] | [NamedModules]) {
    super();
    if (modules.length === 1 && isNamedModules(modules[0])) {
      const entries = modules[0] instanceof Map
        ? [...modules[0]]
        : Object.entries(modules[0] as Record<string, Module>);
      for (const [name, m] of entries) this.#add(name, m, true);
    } else {
      if (modules.length === 1 && Array.isArray(modules[0])) {
        throw new Error(
          "nn.Sequential: takes the modules as arguments, not an array; write " +
            "new nn.Sequential(a, b) or new nn.Sequential(...layers)",
        );
      }
      (modules as unknown[]).forEach((m, i) => {
        if (!(m instanceof Module)) throw new Error(`Sequential: child ${i} is not a Module`);
        this[i] = m;
        this.#order.push(String(i));
      });
    }
    this.#syncPositions();
  }

  /** Sets a child under a new name at the end; `given` names from the constructor are checked. */
  #add(name: string, m: unknown, given: boolean): void {
    if (
      typeof name !== "string" || name === "" || name.includes(".") ||
      (given && NUMBER.test(name))
    ) {
      throw new Error(
        `nn.Sequential: child name ${JSON.stringify(name)} must be a non-empty name without ` +
          "'.' and not a number (numbered children: new nn.Sequential(a, b, c))",
      );
    }
    if (name in this) {
      // torch: "attribute 'forward' already exists"; a child there would hide a method.
      throw new Error(`nn.Sequential: '${name}' is taken (a child or a member of nn.Sequential)`);
    }
    (this as unknown as Record<string, Module>)[name] = requireModule("nn.Sequential", m, name);
    this.#order.push(name);
  }

  /**
   * Brings the order up to date with the fields: a child set under a name
   * since joins at the end; one deleted by name leaves. A number outside
   * the positions, or a deleted numbered child, is an Error (a child that
   * forward would never run, or lack).
   */
  #reconcile(): void {
    const own = new Map(super.namedChildren()); // throws for modules hidden in plain fields
    const known = new Set(this.#order);
    let changed = false;
    for (const name of this.#order) {
      if (own.has(name)) continue;
      if (NUMBER.test(name)) {
        throw new Error(`nn.Sequential: entry ${name} was deleted; ${FIX}`);
      }
      changed = true;
    }
    if (changed) this.#order = this.#order.filter((n) => own.has(n));
    for (const name of own.keys()) {
      if (known.has(name)) continue;
      if (/^[-+]?\d/.test(name)) {
        const i = Number(name);
        throw new Error(
          String(i) === name && Number.isInteger(i)
            ? `nn.Sequential: index ${i} is out of range (length ${this.#order.length}); ${FIX}`
            : `nn.Sequential: '${name}' is not an index (length ${this.#order.length}); ${FIX}`,
        );
      }
      this.#order.push(name);
      changed = true;
    }
    if (changed) this.#syncPositions();
  }

  /**
   * Accessors (not children) for seq[i] where no child is named i, and for
   * seq[-1] .. seq[-length]: read and replace by position.
   */
  #syncPositions(): void {
    const n = this.#order.length;
    const target = this as unknown as Record<string, Module>;
    for (let i = 0; i < Math.max(n, this.#positions); i++) {
      for (const [key, at] of [[String(i), i], [String(-i - 1), -i - 1]] as const) {
        const d = Object.getOwnPropertyDescriptor(this, key);
        if (d !== undefined && !("get" in d)) continue; // a child named by this number
        if (i >= n) {
          if (d) delete target[key];
          continue;
        }
        Object.defineProperty(this, key, {
          configurable: true,
          enumerable: false,
          get: () => {
            this.#reconcile();
            const name = this.#order[at < 0 ? this.#order.length + at : at];
            return name === undefined ? undefined : target[name];
          },
          set: (m: unknown) => {
            this.#reconcile();
            const name = this.#order[at < 0 ? this.#order.length + at : at];
            if (name === undefined) {
              throw new Error(`nn.Sequential: index ${at} is out of range; ${FIX}`);
            }
            target[name] = requireModule("nn.Sequential", m, at);
          },
        });
      }
    }
    this.#positions = n;
  }

  /** Number of children. */
  override get length(): number {
    this.#reconcile();
    return this.#order.length;
  }

  /**
   * The children in order, as iterating a PyTorch Sequential: `for (const
   * layer of seq)`, `[...seq]`, `new nn.Sequential(...[...seq].slice(0, -1))`.
   */
  *[Symbol.iterator](): Iterator<Module> {
    this.#reconcile();
    const self = this as unknown as Record<string, Module>;
    for (const name of [...this.#order]) yield self[name];
  }

  /**
   * A new Sequential of the children from `start` to before `end` (negative
   * counts from the end), as torch's `seq[1:]` (`seq.slice(1)`) and
   * `seq[:-1]` (`seq.slice(0, -1)`): the same modules, named children keep
   * their names, numbered ones are renumbered from 0 so that `part[i]` is
   * the i-th (torch keeps the old numbers: the state dict of its `seq[1:]`
   * starts at "1.", this one's at "0.").
   *
   * @example
   * ```ts
   * import { nn } from "@lits/vision";
   * const net = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
   * const head = net.slice(-1), body = net.slice(0, -1);
   * console.log(head[0] === net[2], body.length); // true 2
   * ```
   */
  slice(start?: number, end?: number): Sequential {
    const out = new Sequential();
    for (const [name, m] of [...this.namedChildren()].slice(start, end)) {
      if (NUMBER.test(name)) out.append(m);
      else out.addModule(name, m);
    }
    return out;
  }

  /** Adds `module` at the end, named by its position (torch's `append`); returns this. */
  append(module: Module): this {
    this.#reconcile();
    const name = String(this.#order.length);
    if (Object.getOwnPropertyDescriptor(this, name)?.value !== undefined) {
      throw new Error(`nn.Sequential.append: a child is already named '${name}'; use addModule`);
    }
    delete (this as unknown as Record<string, unknown>)[name]; // a position's accessor
    this[this.#order.length] = requireModule("nn.Sequential.append", module, name);
    this.#order.push(name);
    this.#syncPositions();
    return this;
  }

  /** Adds `module` under `name` at the end (torch's `add_module`); a name it has is replaced. */
  override addModule(name: string, module: Module | null): void {
    this.#reconcile();
    if (module === null) {
      throw new Error("nn.Sequential.addModule: a Sequential holds no null child");
    }
    if (this.#order.includes(name)) {
      (this as unknown as Record<string, Module>)[name] = requireModule(
        "nn.Sequential",
        module,
        name,
      );
      return;
    }
    this.#add(name, module, false);
    this.#syncPositions();
  }

  /** The children in the order forward runs them (PyTorch's `_modules` order). */
  override *namedChildren(): Generator<[string, Module]> {
    this.#reconcile();
    const target = this as unknown as Record<string, Module>;
    for (const name of this.#order) yield [name, target[name]];
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
