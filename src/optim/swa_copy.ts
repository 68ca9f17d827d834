/**
 * How `AveragedModel` copies a model (torch deep-copies it): a zoo model is
 * rebuilt as `models.create` made it, refused where it was changed since
 * (its module tree compared), and any other is built by the caller's
 * `copy`; then the model's state dict is loaded.
 *
 * @module
 */
import { Module } from "../layers/module.ts";
import { settingsText } from "../layers/module_repr.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Device } from "../tensor/device.ts";
import { generatorState, setGeneratorState } from "../tensor/ops/random.ts";
import { moduleName } from "../options.ts";

const CREATED_AS = Symbol.for("@lits/vision/models.create");

/** @internal A short description of a value for an error message. */
export function describe(v: unknown): string {
  const module = moduleName(v);
  if (module) return `an nn.${module}`;
  if (v === null || v === undefined) return String(v);
  if (v instanceof Tensor) return `a Tensor [${v.shape}]`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") {
    const name = v.constructor?.name ?? "object";
    return `${/^[AEIOU]/i.test(name) ? "an" : "a"} ${name}`;
  }
  return `${typeof v} ${String(v)}`;
}

/** @internal The device of a module's first parameter or buffer ("cpu" for a module without any). */
export function deviceOf(m: Module): Device {
  return (m.parameters()[0] ?? m.buffers()[0])?.device ?? "cpu";
}

/**
 * A module's own settings: its fields other than tensors, modules and
 * functions (kernel sizes, p, ...), and those its accessors give, as
 * `String(m)` shows them (a convolution's stride, a pool's ceilMode).
 */
function settings(m: Module): string {
  const own = Object.entries(m).filter(([k, v]) =>
    k !== "training" && !(v instanceof Tensor) && typeof v !== "function" &&
    (v === null || typeof v !== "object" || Array.isArray(v))
  );
  return JSON.stringify(own) + settingsText(m, Module.prototype);
}

/**
 * Where `b`'s module tree differs from `a`'s (a name, a class or a
 * module's settings), as a phrase; null where they are the same.
 */
function firstDifference(a: Module, b: Module): string | null {
  const theirs = new Map(b.namedModules());
  const ours = [...a.namedModules()];
  if (ours.length !== theirs.size) return `${ours.length} modules where it had ${theirs.size}`;
  for (const [path, m] of ours) {
    const o = theirs.get(path);
    const at = path === "" ? "the model" : `'${path}'`;
    if (!o) return `${at} is new`;
    if (o.constructor !== m.constructor) {
      return `${at} is an nn.${m.constructor.name} where it was an nn.${o.constructor.name}`;
    }
    if (settings(o) !== settings(m)) return `${at}'s settings differ`;
  }
  return null;
}

/**
 * @internal A new module with `model`'s architecture, weights, training modes and
 * requiresGrad flags: built by `copy`, or the way `models.create` built
 * `model`, with the global generator left where it was (torch's deepcopy
 * draws no random numbers).
 */
export function copyOf<M extends Module>(where: string, model: M, copy: (() => M) | undefined): M {
  const recipe = (model as unknown as Record<symbol, { rebuild: () => Module } | undefined>)[
    CREATED_AS
  ];
  const make = copy ?? recipe?.rebuild;
  const name = model.constructor.name;
  if (!make) {
    throw new Error(
      `${where}: cannot copy a ${name} (torch deep-copies the model; a JavaScript module can ` +
        `hold private #fields that no copy reaches): pass { copy: () => new ${name}(...) }, a ` +
        "function that builds a fresh module of the same architecture (its weights are then " +
        "loaded from the model's state dict); models made by models.create(name, options) are " +
        "copied without it",
    );
  }
  const rng = generatorState();
  let made: unknown;
  try {
    made = make();
  } finally {
    setGeneratorState(rng);
  }
  if (!(made instanceof Module)) {
    throw new Error(
      `${where}: copy() must return a new nn.Module of the model's architecture, got ` +
        `${describe(made)}; write { copy: () => new ${name}(...) }`,
    );
  }
  if (made === model) {
    throw new Error(
      `${where}: copy() returned the model itself; it must build a new one: ` +
        `{ copy: () => new ${name}(...) }`,
    );
  }
  const own = new Set<Tensor>([...model.parameters(), ...model.buffers()]);
  if ([...made.parameters(), ...made.buffers()].some((t) => own.has(t))) {
    throw new Error(
      `${where}: copy() returned a module that shares tensors with the model (layers reused ` +
        "from it), so the average would move with the model; build new layers in it",
    );
  }
  // A rebuilt zoo model matches the state dict even where a layer without
  // weights was swapped (model.maxpool = new nn.Identity()): compare the trees.
  const changed = copy ? null : firstDifference(model, made);
  if (changed) {
    made.dispose();
    throw new Error(
      `${where}: the model was changed since models.create("${
        (recipe as unknown as { name: string }).name
      }", ...) made it (${changed}), and a rebuilt copy would silently undo that: pass ` +
        `{ copy: () => ... } that builds it as it is now`,
    );
  }
  try {
    made.to(deviceOf(model));
    made.loadStateDict(model.stateDict());
  } catch (e) {
    made.dispose();
    const why = copy
      ? "copy() must build the model's architecture"
      : `the model was changed since models.create("${
        (recipe as unknown as { name: string }).name
      }", ...) made it: pass { copy: () => ... } that builds it as it is now`;
    throw new Error(
      `${where}: the copy does not match the model (${why}): ${(e as Error).message}`,
    );
  }
  // deepcopy keeps each module's mode and each parameter's requires_grad.
  const modes = new Map([...model.namedModules()].map(([k, m]) => [k, m.training]));
  for (const [k, m] of made.namedModules()) m.training = modes.get(k) ?? m.training;
  const flags = new Map([...model.namedParameters()].map(([k, p]) => [k, p.requiresGrad]));
  for (const [k, p] of made.namedParameters()) p.requiresGrad = flags.get(k) ?? p.requiresGrad;
  return made as M;
}
