/**
 * `nn.utils.stateless`, as torch 1.13's `torch.nn.utils.stateless`: calling
 * a module with some of its parameters and buffers replaced by given
 * tensors, for the call only (meta-learning's inner steps, per-sample
 * gradients, a model's output at other weights).
 *
 * @module
 */
import { Module, Parameter, setBufferSlot } from "./module.ts";
import { Tensor } from "../tensor/tensor.ts";
import { describe } from "./prune/base.ts";
import { isParametrized } from "./parametrize.ts";

const USAGE = 'nn.utils.stateless.functionalCall(model, { "fc.weight": w }, [x])';

/** One substitution: where it goes, and what was there (a parametrized tensor's accessor). */
interface Swap {
  owner: Module;
  leaf: string;
  kind: "parameter" | "buffer" | "parametrized";
  original: Tensor | null | undefined | PropertyDescriptor;
}

/** The given tensors as a Map; a plain object of tensors (torch's dict) is taken too. */
function tensorMap(given: unknown): Map<string, Tensor> {
  const proto = typeof given === "object" && given !== null
    ? Object.getPrototypeOf(given)
    : undefined;
  const entries = given instanceof Map
    ? [...given.entries()]
    : proto === Object.prototype || proto === null
    ? Object.entries(given as object)
    : null;
  if (entries === null) {
    throw new Error(
      "functionalCall: parametersAndBuffers must be a Map or a plain object of name -> Tensor, " +
        `got ${describe(given)}; write ${USAGE}`,
    );
  }
  for (const [k, v] of entries) {
    if (typeof k !== "string" || !(v instanceof Tensor)) {
      throw new Error(
        `functionalCall: '${String(k)}' must map to a Tensor, got ${describe(v)}; write ${USAGE}`,
      );
    }
  }
  return new Map(entries as [string, Tensor][]);
}

/** Where `path` lives under `module`: a parameter field or a buffer slot; throws if neither. */
function locate(module: Module, path: string): Omit<Swap, "original"> {
  const parts = path.split(".");
  const leaf = parts.pop()!;
  let owner: Module;
  try {
    owner = module.getSubmodule(parts.join("."));
  } catch (e) {
    throw new Error(`functionalCall: '${path}': ${(e as Error).message}`);
  }
  const own = Object.getOwnPropertyDescriptor(owner, leaf);
  if (own && "value" in own && own.value instanceof Parameter) {
    return { owner, leaf, kind: "parameter" };
  }
  // torch 1.13 substitutes the parametrized value itself (module.weight reads the given tensor).
  if (isParametrized(owner, leaf)) return { owner, leaf, kind: "parametrized" };
  if ([...owner.namedBuffers("", false)].some(([k]) => k === leaf)) {
    return { owner, leaf, kind: "buffer" };
  }
  // torch 1.13 would set an attribute nothing reads: a typo would silently change nothing.
  const names = [
    ...[...module.namedParameters()].map(([k]) => k),
    ...[...module.namedBuffers()].map(([k]) => k),
  ];
  const recomputed = own && ("get" in own || own.value instanceof Tensor)
    ? ` (${owner.constructor.name}.${leaf} is recomputed before each forward by weightNorm, ` +
      "spectralNorm or prune: substitute the tensors it is made of, e.g. weight_g and weight_v)"
    : "";
  throw new Error(
    `functionalCall: '${path}' is no parameter or buffer of ${module.constructor.name}` +
      `${recomputed}; its parameters and buffers: [${names.join(", ")}]`,
  );
}

/** Puts `t` where `s` says, returning what was there. */
function put(s: Omit<Swap, "original">, t: Swap["original"]): Swap["original"] {
  if (s.kind === "parametrized") {
    const old = Object.getOwnPropertyDescriptor(s.owner, s.leaf);
    const value = t as Tensor;
    Object.defineProperty(
      s.owner,
      s.leaf,
      t instanceof Tensor ? { configurable: true, enumerable: false, get: () => value } : t!,
    );
    return old;
  }
  if (s.kind === "buffer") return setBufferSlot(s.owner, s.leaf, t as Tensor | null | undefined);
  const fields = s.owner as unknown as Record<string, Tensor | null | undefined>;
  const old = fields[s.leaf];
  fields[s.leaf] = t as Tensor | null | undefined;
  return old;
}

/** Tells a module whose buffers changed under it to drop values it cached from them. */
function touched(swaps: Swap[]): void {
  const owners = new Set(swaps.filter((s) => s.kind === "buffer").map((s) => s.owner));
  for (const m of owners) (m as unknown as { afterLoad(): void }).afterLoad();
}

/**
 * Calls `module` with the parameters and buffers named in
 * `parametersAndBuffers` (dotted names, as the state dict's) replaced by
 * the given tensors, as torch 1.13's
 * `torch.nn.utils.stateless.functional_call(module, parameters_and_buffers,
 * args, kwargs)` (torch.func's `functional_call`), and returns its output.
 * Gradients flow to the given tensors, not to the module's; writes the
 * module makes to a replaced buffer (a batch norm's running statistics in
 * training) go to the given tensor. The module's own tensors are back in
 * place after the call, also when it throws. `args` is an array of the
 * positional arguments (anything else is the only one); `kwargs`, torch's
 * keyword arguments, is passed as one last argument (this library's
 * options object). A name that is no parameter or buffer throws (torch 1.13
 * would set an attribute nothing reads). The name of a parametrized tensor
 * (`weight` after `nn.utils.parametrize.registerParametrization`) gives the
 * value the module reads, the parametrization skipped, as torch 1.13's;
 * `parametrizations.weight.original` goes through the parametrization.
 *
 * @example
 * ```ts
 * import { nn, ones, zeros } from "@lits/vision";
 * const fc = new nn.Linear(3, 1);
 * const w = ones([1, 3], { requiresGrad: true });
 * const y = nn.utils.stateless.functionalCall(fc, { weight: w, bias: zeros([1]) }, [ones([2, 3])]);
 * console.log(y.toList()); // [[3], [3]]
 * y.sum().backward();
 * console.log(w.grad!.toList(), fc.weight.grad); // [[2, 2, 2]] null
 * ```
 */
export function functionalCall(
  module: Module,
  parametersAndBuffers: Map<string, Tensor> | Record<string, Tensor>,
  args: unknown,
  kwargs?: Record<string, unknown>,
  // deno-lint-ignore no-explicit-any
): any {
  if (!(module instanceof Module)) {
    throw new Error(`functionalCall: expected an nn.Module first, got ${describe(module)}`);
  }
  if (arguments.length > 4) {
    throw new Error(
      `functionalCall: takes (module, parametersAndBuffers, args, kwargs), got ` +
        `${arguments.length} arguments; pass the forward's arguments as one array: ${USAGE}`,
    );
  }
  const given = tensorMap(parametersAndBuffers);
  const places = [...given.keys()].map((k) => locate(module, k)); // all checked before any swap
  const inputs = Array.isArray(args) ? [...args] : [args];
  if (kwargs !== undefined) inputs.push(kwargs);
  const swaps: Swap[] = [];
  try {
    [...given.values()].forEach((t, i) =>
      swaps.push({ ...places[i], original: put(places[i], t) })
    );
    touched(swaps);
    return (module as unknown as (...a: unknown[]) => unknown)(...inputs);
  } finally {
    for (const s of swaps.reverse()) put(s, s.original);
    touched(swaps);
  }
}

/** @deprecated torch's name: write `nn.utils.stateless.functionalCall`. */
export const functional_call: (...args: unknown[]) => never = () => {
  throw new Error(
    "nn.utils.stateless.functional_call is torch's name: write " +
      `nn.utils.stateless.functionalCall(...) (${USAGE})`,
  );
};
