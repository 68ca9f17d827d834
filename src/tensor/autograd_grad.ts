/**
 * `autograd.grad` and `autograd.backward`: PyTorch's `torch.autograd.grad`
 * (the gradients of outputs with respect to chosen tensors, returned instead
 * of added into `.grad`) and `torch.autograd.backward` (several outputs at
 * once, optionally into chosen `inputs` only). Both run the same pass as
 * `loss.backward()`, pruned to the part of the graph that leads to the
 * chosen tensors, as torch's engine does.
 *
 * Not here: `createGraph` (double backward: gradients of gradients) and
 * `isGradsBatched`. This library's backward kernels are not recorded, so a
 * gradient of a gradient would silently miss terms; both throw.
 *
 * @module
 */
import { Tensor } from "./tensor.ts";
import { type BackwardPass, runPass } from "./autograd.ts";
import { checkOptions } from "../options.ts";
import { zerosLike } from "./ops/like.ts";

/** Options of `autograd.grad`: torch's keywords, camelCased. */
export interface GradOptions {
  /** The gradients of the outputs (torch's `grad_outputs`): needed for outputs of more than one element. */
  gradOutputs?: Tensor | readonly (Tensor | null | undefined)[] | null;
  /** Keep the graph for another pass (torch's `retain_graph`; default `createGraph`, false). */
  retainGraph?: boolean;
  /** Record the gradients for a second derivative: not supported here; only false. */
  createGraph?: boolean;
  /** Give null for an input the outputs do not depend on, instead of throwing (default false). */
  allowUnused?: boolean;
  /** With `allowUnused`, zeros instead of null (torch 2's `materialize_grads`). */
  materializeGrads?: boolean;
  /** Deprecated in torch and always true there: only true. */
  onlyInputs?: boolean;
  /** torch's vmapped backward: not supported here; only false. */
  isGradsBatched?: boolean;
}

/** Options of `autograd.backward`: torch's keywords, camelCased. */
export interface BackwardOptions {
  /** Keep the graph for another pass (torch's `retain_graph`). */
  retainGraph?: boolean;
  /** Double backward: not supported here; only false. */
  createGraph?: boolean;
  /** Add gradients into the `.grad` of these tensors only (torch's `inputs=`). */
  inputs?: Tensor | readonly Tensor[];
}

const GRAD_USAGE = "autograd.grad(outputs, inputs, gradOutputs?, { retainGraph, allowUnused })";
const GRAD_KEYS: (keyof GradOptions)[] = [
  "gradOutputs",
  "retainGraph",
  "createGraph",
  "allowUnused",
  "materializeGrads",
  "onlyInputs",
  "isGradsBatched",
];

/**
 * The gradients of `outputs` with respect to `inputs`, PyTorch's
 * `torch.autograd.grad`: one tensor per input, in order (torch's tuple),
 * each the sum over all outputs of `gradOutputs[i] · ∂outputs[i]/∂input`.
 * Nothing is added into any `.grad`; tensor hooks on the inputs and on the
 * tensors between run, as torch 2's (a retained `.grad` is kept as they do).
 *
 * `inputs` may be leaves or op results (an activation, as Grad-CAM and
 * saliency maps take). An input the outputs do not depend on throws unless
 * `allowUnused` (then null, or zeros with `materializeGrads`). The graph is
 * freed as after `backward()` unless `retainGraph`. The returned gradients
 * are op results: the training step's (freed at the next `zeroGrad()`), or
 * the enclosing scope's.
 *
 * torch's keywords become the options object: `grad_outputs=` may also be the
 * third argument, as torch's third positional parameter.
 *
 * @example
 * ```ts
 * import { autograd, tensor } from "@lits/vision";
 * const x = tensor([1, 2, 3], undefined, { requiresGrad: true });
 * const y = x.pow(3).sum();
 * const [dx] = autograd.grad(y, x); // torch.autograd.grad(y, x)
 * console.log(dx.toList(), x.grad); // [3, 12, 27] null
 * ```
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  gradOutputs?: GradOptions["gradOutputs"] | GradOptions & { allowUnused?: false },
  options?: GradOptions & { allowUnused?: false },
): Tensor[];
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  gradOutputs?: GradOptions["gradOutputs"] | GradOptions,
  options?: GradOptions,
): (Tensor | null)[];
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  gradOutputs?: GradOptions["gradOutputs"] | GradOptions,
  options?: GradOptions,
): (Tensor | null)[] {
  if (arguments.length > 4) {
    throw new Error(
      `autograd.grad: takes at most 4 arguments, got ${arguments.length}; write ${GRAD_USAGE}`,
    );
  }
  let o: GradOptions;
  if (isOptions(gradOutputs)) {
    if (options !== undefined) {
      throw new Error(
        `autograd.grad: options come once, last; write ${GRAD_USAGE}`,
      );
    }
    o = checkOptions<GradOptions>("autograd.grad", gradOutputs, GRAD_KEYS, GRAD_USAGE);
  } else {
    o = checkOptions<GradOptions>("autograd.grad", options, GRAD_KEYS, GRAD_USAGE);
    if (gradOutputs !== undefined && o.gradOutputs !== undefined) {
      throw new Error("autograd.grad: gradOutputs given twice (third argument and option)");
    }
    if (gradOutputs !== undefined) {
      o = { ...o, gradOutputs: gradOutputs as GradOptions["gradOutputs"] };
    }
  }
  for (const key of ["retainGraph", "allowUnused", "materializeGrads"] as const) {
    flag("autograd.grad", key, o[key]);
  }
  unsupported("autograd.grad", o.createGraph, "createGraph");
  unsupported("autograd.grad", o.isGradsBatched, "isGradsBatched");
  if (o.onlyInputs === false) {
    throw new Error(
      "autograd.grad: onlyInputs: false is not supported (torch ignores it and deprecates it); " +
        "use loss.backward() to fill every leaf's .grad",
    );
  }
  if (o.materializeGrads && o.allowUnused === false) {
    // torch 2 refuses the pair too (allowUnused left out is turned on).
    throw new Error(
      "autograd.grad: materializeGrads gives zeros for unused inputs; drop allowUnused: false",
    );
  }
  const allowUnused = o.allowUnused ?? o.materializeGrads ?? false;
  const outs = tensorList("autograd.grad", "outputs", outputs);
  const ins = tensorList("autograd.grad", "inputs", inputs);
  if (ins.length === 0) {
    throw new Error("autograd.grad: inputs is empty; name the tensors to differentiate");
  }
  checkInputs("autograd.grad", ins);
  const grads = gradientList("autograd.grad", outs, o.gradOutputs);
  const pass: BackwardPass = {
    roots: outs,
    gradients: grads,
    freeGraph: !o.retainGraph,
    targets: ins,
    capture: true,
  };
  const result = runPass(pass);
  return result.map((g, i) => {
    if (g !== null) return g;
    if (!allowUnused) {
      throw new Error(
        `autograd.grad: inputs[${i}] [${ins[i].shape}] was not used in the graph of the outputs; ` +
          "pass { allowUnused: true } to get null for it",
      );
    }
    return o.materializeGrads ? zerosLike(ins[i]) : null;
  });
}

const BACKWARD_USAGE = "autograd.backward(tensors, gradTensors?, { retainGraph, inputs })";

/**
 * Backward from several outputs at once, PyTorch's
 * `torch.autograd.backward(tensors, grad_tensors)`: the same as
 * `backward()` from their sum weighted by `gradTensors` (one per tensor;
 * null or omitted for a one-element tensor), adding into the leaves'
 * `.grad`. `{ inputs }` (torch's `inputs=`) adds into those tensors' `.grad`
 * only, leaves or op results, and leaves every other `.grad` alone;
 * `loss.backward(undefined, { inputs })` is the same for one output.
 *
 * @example
 * ```ts
 * import { autograd, tensor } from "@lits/vision";
 * const x = tensor([1, 2], undefined, { requiresGrad: true });
 * const w = tensor([3, 4], undefined, { requiresGrad: true });
 * const a = x.mul(w).sum();
 * const b = x.mul(2).sum();
 * autograd.backward([a, b], [tensor(1), tensor(10)], { inputs: [x] });
 * console.log(x.grad!.toList(), w.grad); // [23, 24] null
 * ```
 */
export function backward(
  tensors: Tensor | readonly Tensor[],
  gradTensors?: Tensor | readonly (Tensor | null | undefined)[] | null,
  options?: BackwardOptions,
): void {
  if (arguments.length > 3) {
    throw new Error(
      `autograd.backward: takes at most 3 arguments, got ${arguments.length}; write ${BACKWARD_USAGE}`,
    );
  }
  if (isOptions(gradTensors) && options === undefined) {
    options = gradTensors as BackwardOptions;
    gradTensors = undefined;
  }
  const o = checkOptions<BackwardOptions>(
    "autograd.backward",
    options,
    ["retainGraph", "createGraph", "inputs"],
    BACKWARD_USAGE,
  );
  flag("autograd.backward", "retainGraph", o.retainGraph);
  unsupported("autograd.backward", o.createGraph, "createGraph");
  const outs = tensorList("autograd.backward", "tensors", tensors);
  const grads = gradientList("autograd.backward", outs, gradTensors);
  const inputs = o.inputs === undefined ? undefined : backwardInputs("autograd.backward", o.inputs);
  runPass({ roots: outs, gradients: grads, freeGraph: !o.retainGraph, targets: inputs });
}

/** @internal `backward({ inputs })`: checks torch's `inputs=` (a tensor or a non-empty list). */
export function backwardInputs(where: string, inputs: unknown): Tensor[] {
  const list = tensorList(where, "inputs", inputs);
  if (list.length === 0) {
    throw new Error(`${where}: inputs cannot be empty; leave it out to fill every leaf's .grad`);
  }
  checkInputs(where, list);
  return list;
}

/** A plain object: the options, not a gradient. */
function isOptions(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Tensor);
}

/** An optional flag: true, false or left out. */
function flag(where: string, key: string, v: unknown): void {
  if (v !== undefined && typeof v !== "boolean") {
    throw new Error(
      `${where}: ${key} must be true or false, got ${JSON.stringify(v) ?? String(v)}`,
    );
  }
}

function unsupported(where: string, value: unknown, key: string): void {
  if (value === undefined || value === false) return;
  if (value !== true) {
    throw new Error(
      `${where}: ${key} must be true or false, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
  throw new Error(
    `${where}: ${key} is not supported: this library's backward kernels are not recorded, so ` +
      "gradients of gradients (double backward, gradient penalties, Hessian products) cannot be " +
      "computed here; leave it out",
  );
}

/** A tensor or an array of tensors, as a list; anything else throws. */
function tensorList(where: string, name: string, value: unknown): Tensor[] {
  const list = value instanceof Tensor
    ? [value]
    : Array.isArray(value)
    ? value
    : value !== null && typeof value === "object" && Symbol.iterator in value
    ? [...(value as Iterable<unknown>)]
    : null;
  if (list === null) {
    throw new Error(
      `${where}: ${name} must be a tensor or an array of tensors, got ${typeOf(value)}`,
    );
  }
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) {
      throw new Error(`${where}: ${name}[${i}] must be a tensor, got ${typeOf(t)}`);
    }
    if (!t.isAlive) {
      throw new Error(
        `${where}: ${name}[${i}] [${t.shape}] was released (disposed, or freed at a step ` +
          "boundary: the end of a scope, endStep(), zeroGrad()); use it before then, or .keep() it",
      );
    }
  });
  return list as Tensor[];
}

function checkInputs(where: string, inputs: readonly Tensor[]): void {
  inputs.forEach((t, i) => {
    if (!t.requiresGrad) {
      throw new Error(
        `${where}: inputs[${i}] [${t.shape}] does not require grad (torch: "One of the ` +
          'differentiated Tensors does not require grad"); create it with { requiresGrad: true } ' +
          "or call .requiresGrad_() before the forward",
      );
    }
  });
}

/** One gradient per output, checked as torch does; undefined where ones are implied. */
function gradientList(
  where: string,
  outs: readonly Tensor[],
  given: unknown,
): (Tensor | undefined)[] {
  const list: unknown[] = given === undefined || given === null
    ? outs.map(() => undefined)
    : given instanceof Tensor
    ? [given]
    : Array.isArray(given)
    ? given
    : (() => {
      throw new Error(`${where}: the gradients must be a tensor or an array, got ${typeOf(given)}`);
    })();
  if (list.length !== outs.length) {
    throw new Error(
      `${where}: got ${list.length} gradients for ${outs.length} outputs; give one per output ` +
        "(null for a one-element output)",
    );
  }
  return outs.map((out, i) => {
    if (!out.requiresGrad) {
      throw new Error(
        `${where}: outputs[${i}] [${out.shape}] does not require grad and has no gradFn ` +
          "(made under noGrad, or from tensors that need no gradient)",
      );
    }
    const g = list[i];
    if (g === undefined || g === null) {
      if (out.numel() !== 1) {
        throw new Error(
          `${where}: a gradient can be implied only for one-element outputs; outputs[${i}] is ` +
            `[${out.shape}]: give its gradient (torch's grad_outputs)`,
        );
      }
      return undefined;
    }
    if (!(g instanceof Tensor)) {
      throw new Error(`${where}: gradient ${i} must be a tensor, got ${typeOf(g)}`);
    }
    if (g.shape.join() !== out.shape.join()) {
      throw new Error(
        `${where}: mismatch in shape: gradient ${i} has shape [${g.shape}] and outputs[${i}] has ` +
          `shape [${out.shape}]`,
      );
    }
    if (g.device !== out.device) {
      throw new Error(`${where}: gradient ${i} is on ${g.device}, outputs[${i}] on ${out.device}`);
    }
    return g;
  });
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return `a ${(v as object).constructor?.name ?? "object"}`;
  return `${typeof v} ${String(v)}`;
}
