/**
 * What Captum's attribution methods share here: the forward function (a
 * model or any function of a batch, Captum's `forward_func`), the input
 * check, `target` (one class for the batch, or one per example), the
 * gradient of the targets' scores with respect to the input, and how a
 * method runs: inside a scope, with the model's parameters not requiring
 * gradients for the pass (their `.grad` stays as it was), the result the
 * caller's.
 *
 * @module
 */
import { Module } from "../../layers/module.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { fromHost } from "../../tensor/ops/creation.ts";
import { currentScope, disown, scope } from "../../tensor/ownership.ts";
import { enableGrad } from "../../tensor/grad_mode.ts";
import { grad } from "../../tensor/autograd_grad.ts";
import { showValue } from "../../tensor/ops/show_value.ts";

/**
 * What an attribution method explains: a model, or any function of a batch
 * [N, ...] that gives one score per example ([N]) or per class ([N, classes]),
 * as Captum's `forward_func` (`(x) => model(x).softmax(1)`).
 */
export type ForwardFunc = Module | ((input: Tensor) => Tensor);

/**
 * The output explained (Captum's `target`): one class index for the whole
 * batch, or one per example (an array, or a 1-D int32 tensor of labels,
 * `target=labels`); a one-element int32 tensor counts as one class. Leave it
 * out only for a model that gives one score per example.
 */
export type Target = number | readonly number[] | Tensor;

/**
 * The base of the attribution methods, as Captum's `Attribution`: a forward
 * function and `attribute(input, options)`.
 */
export abstract class Attribution<O extends object = object> {
  /** The function explained, as given (Captum's `forward_func`). */
  readonly forwardFunc: ForwardFunc;

  /** Checks `forwardFunc`; `where` names the class in errors. */
  protected constructor(where: string, forwardFunc: ForwardFunc) {
    if (typeof forwardFunc !== "function") {
      throw new Error(
        `${where}: expected a model or a function of the input, got ${
          showValue(forwardFunc)
        }; write new evaluation.${where}(model)`,
      );
    }
    this.forwardFunc = forwardFunc;
  }

  /** The attributions of `input` [N, ...]: a tensor of its shape. */
  abstract attribute(input: Tensor, options?: O): Tensor | [Tensor, Tensor];

  /** Whether `attribute` can return a convergence delta (Captum's `has_convergence_delta`). */
  hasConvergenceDelta(): boolean {
    return false;
  }
}

/** Per-example targets after checking: null (none), one class, or one per example. */
export type Targets = null | number | Int32Array;

/** Checks `input`: a float tensor [N, ...] with N >= 1. */
export function checkInput(where: string, input: unknown, usage: string): Tensor {
  if (!(input instanceof Tensor)) {
    const many = Array.isArray(input)
      ? "; several inputs (Captum's tuple of tensors) are not supported here: give one tensor"
      : "";
    throw new Error(
      `${where}: input must be a tensor [N, ...], got ${showValue(input)}${many}; ` +
        `write ${usage}`,
    );
  }
  if (!input.isAlive) throw new Error(`${where}: input [${input.shape}] was released`);
  if (input.ndim < 1 || input.shape[0] < 1) {
    throw new Error(`${where}: input must be a batch [N, ...] with N >= 1, got [${input.shape}]`);
  }
  if (input.dtype !== "float32") {
    throw new Error(
      `${where}: input must be float32, got ${input.dtype}; convert it with input.float()`,
    );
  }
  return input;
}

/** Checks `target` against a batch of `n` examples (its range is checked against the output). */
export function checkTarget(where: string, target: unknown, n: number): Targets {
  if (target === undefined || target === null) return null;
  if (typeof target === "number") {
    if (!Number.isInteger(target) || target < 0) {
      throw new Error(`${where}: target must be a class index (an integer >= 0), got ${target}`);
    }
    return target;
  }
  let list: ArrayLike<number>;
  if (target instanceof Tensor) {
    if (target.dtype !== "int32") {
      throw new Error(
        `${where}: a target tensor holds int32 class indices, got ${target.dtype} ` +
          `[${target.shape}]; convert labels with .int()`,
      );
    }
    if (target.numel() === 1) return checkTarget(where, target.toArray()[0], n);
    if (target.ndim !== 1) {
      throw new Error(
        `${where}: a target tensor holds one class per example ([${n}]), got [${target.shape}]; ` +
          "targets of outputs beyond [N, classes] (Captum's tuples) are not supported here",
      );
    }
    list = target.toArray();
  } else if (Array.isArray(target)) {
    list = target;
  } else {
    throw new Error(
      `${where}: target must be a class index, one per example or an int32 tensor of them, ` +
        `got ${showValue(target)}`,
    );
  }
  if (list.length !== n) {
    throw new Error(
      `${where}: ${list.length} targets for ${n} examples; give one class per example, or one ` +
        "number for all",
    );
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = list[i];
    if (typeof t !== "number" || !Number.isInteger(t) || t < 0) {
      throw new Error(`${where}: target[${i}] must be a class index, got ${showValue(t)}`);
    }
    out[i] = t;
  }
  return out;
}

/** The targets of `times` copies of the batch: tiled (steps, windows) or each repeated in place. */
export function expandTargets(t: Targets, times: number, interleave: boolean): Targets {
  if (t === null || typeof t === "number") return t;
  const n = t.length;
  const out = new Int32Array(n * times);
  for (let i = 0; i < out.length; i++) out[i] = interleave ? t[Math.floor(i / times)] : t[i % n];
  return out;
}

/**
 * Runs the forward function on a batch of `rows` and checks its output: a
 * tensor [rows] or [rows, classes], and a target that fits it.
 */
export function runForward(
  where: string,
  forward: ForwardFunc,
  x: Tensor,
  targets: Targets,
): Tensor {
  const out = forward(x);
  const rows = x.shape[0];
  if (!(out instanceof Tensor)) {
    throw new Error(`${where}: the model must return a tensor, got ${showValue(out)}`);
  }
  if ((out.ndim !== 1 && out.ndim !== 2) || out.shape[0] !== rows) {
    throw new Error(
      `${where}: the model gives [${out.shape}] for ${rows} examples; attributions need one ` +
        `score per example [${rows}] or per class [${rows}, classes] (for a segmentation ` +
        "output, explain a function that reduces it, as Captum's tutorials do: " +
        "(x) => model(x).sum([2, 3]))",
    );
  }
  if (out.ndim === 1) {
    if (targets !== null) {
      throw new Error(
        `${where}: the model gives one score per example ([${out.shape}]); leave target out`,
      );
    }
    return out;
  }
  const classes = out.shape[1];
  if (targets === null) {
    if (classes !== 1) {
      throw new Error(
        `${where}: the model gives ${classes} scores per example; name the class to explain ` +
          "with { target: c } (one for all) or { target: labels } (one per example)",
      );
    }
    return out;
  }
  const list = typeof targets === "number" ? [targets] : targets;
  for (const t of list) {
    if (t >= classes) {
      throw new Error(`${where}: target ${t} is out of range: the model has ${classes} classes`);
    }
  }
  return out;
}

/** The targets' scores of an output [rows] or [rows, classes], one per row. */
export function targetScores(out: Tensor, targets: Targets): Float32Array {
  const values = out.toArray() as Float32Array;
  if (out.ndim === 1) return values;
  const [rows, classes] = out.shape;
  const scores = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    const t = targets === null ? 0 : typeof targets === "number" ? targets : targets[i];
    scores[i] = values[i * classes + t];
  }
  return scores;
}

/**
 * d sum_i out[i, target_i] / d x: Captum's `compute_gradients` (the
 * gradient of each example's target score with respect to its input),
 * recorded even under `noGrad`, as Captum enables gradients for it.
 */
export function inputGradients(
  where: string,
  forward: ForwardFunc,
  x: Tensor,
  targets: Targets,
): Tensor {
  return enableGrad(() => {
    const leaf = x.detach().requiresGrad_();
    const out = runForward(where, forward, leaf, targets);
    if (!out.requiresGrad) {
      throw new Error(
        `${where}: the model's output does not depend on its input through ` +
          "differentiable operations (made under noGrad, or detached)",
      );
    }
    // The one-hot gradient of the target scores: the gradient of their sum.
    const seed = new Float32Array(out.numel());
    if (out.ndim === 1) seed.fill(1);
    else {
      const [rows, classes] = out.shape;
      for (let i = 0; i < rows; i++) {
        const t = targets === null ? 0 : typeof targets === "number" ? targets : targets[i];
        seed[i * classes + t] = 1;
      }
    }
    const [g] = grad(out, leaf, fromHost(seed, out.shape, { device: out.device }), {
      allowUnused: true,
    });
    if (g === null) throw new Error(`${where}: the model's output does not depend on its input`);
    return g;
  });
}

/**
 * Runs one attribution: checks the model's mode, stops its parameters from
 * requiring gradients for the pass (no weight gradient is computed, and no
 * `.grad` changes), frees what the pass made, and makes the result the
 * caller's: the enclosing scope's, or yours as a tensor you create.
 */
export function runAttribution<T extends Tensor | [Tensor, Tensor]>(
  where: string,
  forward: ForwardFunc,
  fn: () => T,
): T {
  const params = forward instanceof Module ? forward.parameters() : [];
  if (forward instanceof Module && forward.training) {
    throw new Error(
      `${where}: the model is in training mode: batch norm would normalize with the statistics ` +
        "of the batch of perturbed or interpolated inputs (and update its running statistics), " +
        "and dropout would drop at random; call model.eval() first, as Captum's tutorials do",
    );
  }
  const flags = params.map((p) => p.requiresGrad);
  let result: T;
  try {
    for (const p of params) p.requiresGrad = false;
    result = scope(fn);
  } finally {
    params.forEach((p, i) => (p.requiresGrad = flags[i]));
  }
  if (currentScope() === null) {
    for (const t of Array.isArray(result) ? result : [result]) disown(t);
  }
  return result;
}

/** A positive integer option, or the default when left out. */
export function positiveInt(where: string, key: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`${where}: ${key} must be an integer >= 1, got ${showValue(v)}`);
  }
  return v;
}

/** A boolean option, or the default when left out. */
export function boolOption(where: string, key: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== "boolean") {
    throw new Error(`${where}: ${key} must be true or false, got ${showValue(v)}`);
  }
  return v;
}

/**
 * Captum's `additional_forward_args`: not taken here; what to write instead.
 */
export function noAdditionalArgs(where: string, v: unknown): void {
  if (v === undefined) return;
  throw new Error(
    `${where}: additionalForwardArgs is not supported; explain a function that passes them, ` +
      "new evaluation.Saliency((x) => model(x, extra)) (with an extra tensor of one row " +
      "per example only for Saliency and InputXGradient, whose batch is the input's)",
  );
}
