/**
 * Run-time checks of options objects, shared by every public constructor and
 * function that takes one. TypeScript catches a misspelled option only when
 * the code is type-checked; a PyTorch user's port (`weight_decay`, a
 * positional `lr`) would otherwise run with the default silently.
 *
 * @module
 */

/** A callable object (an nn.Module): a function whose class is not Function. */
function isCallableObject(value: unknown): value is { constructor: { name: string } } {
  return typeof value === "function" && Object.getPrototypeOf(value) !== Function.prototype &&
    !(Object.getPrototypeOf(value) instanceof Function);
}

/**
 * The class name of an nn.Module given where something else belongs (a
 * module is callable: typeof "function"), or null: what errors name it by.
 */
export function moduleName(value: unknown): string | null {
  return isCallableObject(value) && "parameters" in value ? value.constructor.name : null;
}

/** A short description of a value for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (isCallableObject(value)) return `a ${value.constructor.name} (a module)`;
  if (Array.isArray(value)) {
    // Entries short: a tensor's whole contents once made a 300-line message.
    const items = value.slice(0, 4).map((v) => brief(v)).join(", ");
    return `an array [${items}${value.length > 4 ? ", ..." : ""}]`;
  }
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** One entry of a described array: a tensor as its shape, an array by its length. */
function brief(v: unknown): string {
  if (isCallableObject(v)) return v.constructor.name;
  if (v !== null && typeof v === "object") {
    const shape = (v as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return `Tensor[${shape}]`;
    if (Array.isArray(v)) return `[${v.length} items]`;
    return v.constructor?.name ?? "object";
  }
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/** `weight_decay` -> `weightDecay`. */
function camelCase(key: string): string {
  return key.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Edit distance, for "did you mean" on small typos (`weightDecy`). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function suggestion(key: string, known: readonly string[]): string {
  const camel = camelCase(key);
  const lower = key.toLowerCase().replaceAll("_", "");
  const exact = known.find((k) => k === camel || k.toLowerCase() === lower);
  if (exact) return ` (write '${exact}')`;
  const close = known.filter((k) => distance(k.toLowerCase(), camel.toLowerCase()) <= 2);
  if (close.length === 1) return ` (did you mean '${close[0]}'?)`;
  // PyTorch's longer names for ours: num_workers -> workers, prefetch_factor -> prefetch.
  const part = known.filter((k) =>
    k.length >= 4 && (lower.includes(k.toLowerCase()) || k.toLowerCase().includes(lower))
  );
  return part.length === 1 && lower.length >= 4 ? ` (did you mean '${part[0]}'?)` : "";
}

/**
 * Checks an options argument: `undefined` gives `{}`; anything but a plain
 * object (a number, a string, an array, a class instance) and any key not in
 * `known` throws an Error that names the key, lists the known ones, and shows
 * the options form `usage`. Returns the options, typed.
 *
 * @example
 * ```ts
 * import { checkOptions } from "@lits/vision";
 * const o = checkOptions<{ lr?: number }>("Adam", { lr: 1e-4 }, ["lr"], "new optim.Adam(params, { lr: 1e-4 })");
 * console.log(o.lr); // 0.0001
 * try {
 *   checkOptions("Adam", { weight_decay: 1e-5 }, ["lr", "weightDecay"], "new optim.Adam(params, { lr: 1e-4 })");
 * } catch (e) {
 *   console.log((e as Error).message.includes("'weightDecay'")); // true
 * }
 * ```
 */
export function checkOptions<T extends object = Record<string, unknown>>(
  where: string,
  options: unknown,
  known: readonly (keyof T & string)[],
  usage: string,
): T {
  if (options === undefined) return {} as T;
  const proto = options === null || typeof options !== "object"
    ? undefined
    : Object.getPrototypeOf(options);
  if (proto !== Object.prototype && proto !== null) {
    throw new Error(
      `${where}: expected an options object, got ${describe(options)}; write it as ${usage}`,
    );
  }
  for (const key of Object.keys(options as object)) {
    if ((known as readonly string[]).includes(key)) continue;
    throw new Error(
      `${where}: unknown option '${key}'${suggestion(key, known)}; ` +
        `known options: ${known.length ? known.join(", ") : "none"}`,
    );
  }
  return options as T;
}

/**
 * Throws when a function or constructor got more arguments than it takes
 * (`new nn.Conv2d(1, 16, 3, 1, 1)`): pass `arguments.length`. Extra
 * positional arguments would otherwise be dropped silently.
 *
 * @example
 * ```ts
 * import { checkArity } from "@lits/vision";
 * try {
 *   checkArity("nn.Conv2d", 5, 4, "new nn.Conv2d(1, 16, 3, { stride: 1, padding: 1 })");
 * } catch (e) {
 *   console.log((e as Error).message.includes("padding: 1")); // true
 * }
 * ```
 */
export function checkArity(where: string, given: number, most: number, usage: string): void {
  if (given <= most) return;
  throw new Error(
    `${where}: takes at most ${most} arguments, got ${given}; ` +
      `options go in one object: ${usage}`,
  );
}

/**
 * @internal torch's `inplace` flag of an activation or dropout module:
 * accepted so that `nn.ReLU(inplace=True)` ports as written, and it changes
 * nothing (the result is a new tensor; PyTorch's overwrites the input,
 * which only code that reads the input again could see). Anything but a
 * boolean is refused.
 */
export function checkInplace(where: string, inplace: unknown): boolean {
  if (inplace !== null && typeof inplace === "object" && "inplace" in inplace) {
    // torch's keyword, nn.ReLU(inplace=True), as an options object.
    const flag = JSON.stringify((inplace as { inplace: unknown }).inplace);
    // Dropout's p, LeakyReLU's slope, ELU's alpha come first.
    const first = /Dropout/.test(where)
      ? "p, "
      : where === "nn.LeakyReLU"
      ? "negativeSlope, "
      : where === "nn.ELU"
      ? "alpha, "
      : "";
    throw new Error(
      `${where}: inplace is positional here, got an options object; ` +
        `write new ${where}(${first}${flag})`,
    );
  }
  if (typeof inplace !== "boolean") {
    throw new Error(
      `${where}: inplace must be true or false, got ${JSON.stringify(inplace) ?? String(inplace)}`,
    );
  }
  return inplace;
}

/**
 * `checkArity` then `checkOptions`: the opening of nearly every public
 * function or constructor whose last argument is an options object. Throws
 * on too many arguments first (its message shows the options form), then on
 * a bad options argument; returns the options, typed (`{}` for `undefined`).
 *
 * @example
 * ```ts
 * import { checkCall } from "@lits/vision";
 * const usage = "new optim.SGD(params, { lr: 0.1 })";
 * const o = checkCall<{ lr?: number }>("optim.SGD", 2, 2, { lr: 0.1 }, ["lr"], usage);
 * console.log(o.lr); // 0.1
 * try {
 *   checkCall("optim.SGD", 3, 2, { lr: 0.1 }, ["lr"], usage);
 * } catch (e) {
 *   console.log((e as Error).message.includes("takes at most 2 arguments")); // true
 * }
 * ```
 */
export function checkCall<T extends object = Record<string, unknown>>(
  where: string,
  given: number,
  most: number,
  options: unknown,
  known: readonly (keyof T & string)[],
  usage: string,
): T {
  checkArity(where, given, most, usage);
  return checkOptions<T>(where, options, known, usage);
}

/**
 * One public function's or constructor's call, as `checkCall` checks it:
 * declared once at module level, beside the function and its options, so the
 * function opens with one short line and a reader finds its name in errors,
 * its argument count, its option names and its usage example together.
 *
 * @example
 * ```ts
 * import { type CallContract, checkContract } from "./options.ts";
 * interface ScaleOptions {
 *   factor?: number;
 * }
 * const SCALE: CallContract<ScaleOptions> = {
 *   where: "scale",
 *   most: 2,
 *   known: ["factor"],
 *   usage: "scale(x, { factor: 2 })",
 * };
 * function scale(x: number, options: ScaleOptions = {}): number {
 *   options = checkContract(SCALE, arguments.length, options);
 *   return x * (options.factor ?? 1);
 * }
 * console.log(scale(3, { factor: 2 })); // 6
 * ```
 */
export interface CallContract<T extends object> {
  /** The name its errors start with ("metrics.rocCurve"). */
  readonly where: string;
  /** How many arguments it takes, the options object last. */
  readonly most: number;
  /** Its option names. */
  readonly known: readonly (keyof T & string)[];
  /** A call written the right way, which the errors show. */
  readonly usage: string;
}

/**
 * `checkCall` for a function declared with a `CallContract`: pass
 * `arguments.length` and the options argument; returns the options, typed,
 * and throws the same errors in the same order as `checkCall`.
 *
 * @example
 * ```ts
 * import { type CallContract, checkContract } from "./options.ts";
 * const SGD: CallContract<{ lr?: number }> = {
 *   where: "optim.SGD",
 *   most: 2,
 *   known: ["lr"],
 *   usage: "new optim.SGD(params, { lr: 0.1 })",
 * };
 * console.log(checkContract(SGD, 2, { lr: 0.1 }).lr); // 0.1
 * try {
 *   checkContract(SGD, 2, { learning_rate: 0.1 });
 * } catch (e) {
 *   console.log((e as Error).message.includes("unknown option 'learning_rate'")); // true
 * }
 * ```
 */
export function checkContract<T extends object>(
  contract: CallContract<T>,
  given: number,
  options: unknown,
): T {
  const { where, most, known, usage } = contract;
  return checkCall<T>(where, given, most, options, known, usage);
}
