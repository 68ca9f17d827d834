/**
 * Guided Backpropagation (Springenberg et al., "Striving for Simplicity",
 * 2015) and Deconvolution (Zeiler & Fergus, ECCV 2014), as Captum's
 * `GuidedBackprop` and `Deconvolution`: the gradient of the target's score
 * with respect to the input, with the gradient of every `nn.ReLU` module
 * of the model overridden for the pass:
 *
 * - GuidedBackprop: relu(g), g the gradient of the ReLU's input (ReLU's
 *   own rule, g_out * (x > 0), then only its positive part passes);
 * - Deconvolution: relu(g_out), the ReLU's output gradient made positive,
 *   whatever the sign of its input.
 *
 * As Captum's hooks (a forward pre-hook and a forward hook on each
 * ReLU module, tensor hooks on its input and output), the replaced
 * gradient is the whole gradient of the ReLU's input tensor (through the
 * ReLU and any other use of that tensor). A ReLU module called several
 * times in one pass (torchvision's Bottleneck calls its `relu` three
 * times) gets the rule at every call, each call paired with its own
 * output gradient (Captum pairs with the last output gradient seen, which
 * is the same call in a chain of layers, torch's backward order).
 *
 * Only `nn.ReLU` modules (and subclasses) are overridden, as Captum's: a
 * ReLU written as a function (`F.relu(x)`, `x.relu()`, DenseNet's last
 * one) keeps its ordinary gradient; this library warns once when it sees
 * one, or no ReLU module at all. `nn.ReLU(true)` (inplace) changes
 * nothing. Hooking a ReLU turns off the models' fused kernels that would
 * skip its call (models/plain.ts), so every module call is seen.
 *
 * @module
 */
import { Module } from "../../layers/module.ts";
import { ReLU } from "../../layers/basic.ts";
import type { RemovableHandle } from "../../layers/module_hooks.ts";
import type { GradNode } from "../../tensor/autograd.ts";
import { Tensor } from "../../tensor/tensor.ts";
import { enableGrad } from "../../tensor/grad_mode.ts";
import { grad } from "../../tensor/autograd_grad.ts";
import { relu } from "../../tensor/ops/elementwise.ts";
import { showValue } from "../../tensor/ops/show_value.ts";
import { checkArity, checkOptions } from "../../options.ts";
import { warnOnce } from "../metrics/pairs.ts";
import {
  Attribution,
  checkInput,
  checkTarget,
  noAdditionalArgs,
  runAttribution,
  runForward,
  type Target,
  type Targets,
} from "./common.ts";
import { targetSeed } from "./layer.ts";
import { refusePositionalTarget } from "./attribute_args.ts";

/** Options of `GuidedBackprop.attribute` and `Deconvolution.attribute`: Captum's keywords. */
export interface GuidedBackpropOptions {
  /** The class explained: one for the batch or one per example (see `Target`). */
  target?: Target;
  /** Captum's `additional_forward_args`: not supported (the Error says what to write). */
  additionalForwardArgs?: never;
}

/** One call of a hooked ReLU: its output's gradient, once backward reached it. */
interface ReluCall {
  outGrad: Tensor | null;
}

/**
 * @internal The gradient of the targets' scores with respect to `x`, with
 * every nn.ReLU module's gradient overridden (Captum's
 * `ModifiedReluGradientAttribution`): relu of the input's gradient
 * (guided) or of the output's (`useGradOutput`, deconvolution). Hooks are
 * off after, whatever happens; functional ReLUs are warned about.
 */
export function modifiedReluGradients(
  where: string,
  model: Module,
  x: Tensor,
  targets: Targets,
  useGradOutput: boolean,
): Tensor {
  const handles: RemovableHandle[] = [];
  const hookedNodes = new Set<unknown>();
  let calls = 0;
  try {
    for (const m of new Set(model.modules())) {
      if (!(m instanceof ReLU)) continue;
      let current: ReluCall | null = null;
      handles.push(m.registerForwardPreHook((_m, inputs) => {
        current = null;
        const t = inputs[0];
        if (!(t instanceof Tensor) || !t.requiresGrad) return;
        const call: ReluCall = { outGrad: null };
        current = call;
        // As Captum: nothing is replaced before the output's gradient was seen.
        t.registerHook((g) => {
          if (call.outGrad === null) return;
          return relu(useGradOutput ? call.outGrad : g);
        });
      }));
      handles.push(m.registerForwardHook((_m, _inputs, out) => {
        const call = current;
        current = null;
        if (call === null || !(out instanceof Tensor) || !out.requiresGrad) return;
        calls++;
        hookedNodes.add(out.gradFn);
        out.registerHook((g) => {
          call.outGrad = g;
        });
      }));
    }
    return enableGrad(() => {
      const leaf = x.detach().requiresGrad_();
      const out = runForward(where, model, leaf, targets);
      if (!out.requiresGrad) {
        throw new Error(
          `${where}: the model's output does not depend on its input through ` +
            "differentiable operations (made under noGrad, or detached)",
        );
      }
      warnUnhooked(where, out, hookedNodes, calls);
      const [g] = grad(out, leaf, targetSeed(out, targets), { allowUnused: true });
      if (g === null) throw new Error(`${where}: the model's output does not depend on its input`);
      return g;
    });
  } finally {
    for (const h of handles) h.remove();
  }
}

/** Warns once where the pass has ReLUs that are not nn.ReLU modules, or no ReLU module ran. */
function warnUnhooked(where: string, out: Tensor, hooked: Set<unknown>, calls: number): void {
  let functional = 0;
  const seen = new Set<unknown>();
  const stack: unknown[] = [out.gradFn];
  while (stack.length > 0) {
    const node = stack.pop() as GradNode | null;
    if (node === null || seen.has(node)) continue;
    seen.add(node);
    if (node.name === "relu" && !hooked.has(node)) functional++;
    for (const [next] of node.nextFunctions) if (next !== null) stack.push(next);
  }
  const method = where.split(".")[0];
  if (functional > 0) {
    warnOnce(
      `${method}: ${functional} ReLU(s) in this model run as functions (F.relu, x.relu()), not ` +
        "nn.ReLU modules; as in Captum, only nn.ReLU modules get the modified gradient, the " +
        "others keep their ordinary one: make them nn.ReLU modules for the method's rule everywhere",
    );
  } else if (calls === 0) {
    warnOnce(
      `${method}: no nn.ReLU module ran in the forward pass, so the attributions are the plain ` +
        "gradient (as Captum's); the method overrides only nn.ReLU modules' gradients",
    );
  }
}

/** The shared body of the two classes. */
abstract class ModifiedReluAttribution extends Attribution<GuidedBackpropOptions> {
  /** The model whose ReLU modules are hooked (Captum's `model`). */
  readonly model: Module;
  readonly #where: string;
  readonly #useGradOutput: boolean;

  protected constructor(where: string, model: Module, useGradOutput: boolean) {
    if (!(model instanceof Module)) {
      throw new Error(
        `${where}: needs the model itself (an nn.Module, whose ReLU modules it hooks, as ` +
          `Captum asserts), got ${showValue(model)}; write new evaluation.${where}(model)` +
          (typeof model === "function"
            ? " (to explain softmax scores, make a Module whose forward applies it)"
            : ""),
      );
    }
    super(where, model);
    this.model = model;
    this.#where = where;
    this.#useGradOutput = useGradOutput;
  }

  /** The attributions of `input` [N, ...]: a tensor of its shape. */
  attribute(input: Tensor, options?: GuidedBackpropOptions): Tensor {
    const where = `${this.#where}.attribute`;
    const usage = `${this.#where === "GuidedBackprop" ? "gbp" : "deconv"}.attribute`;
    checkArity(where, arguments.length, 2, `${usage}(input, { target: 1 })`);
    refusePositionalTarget(where, options, usage);
    const o = checkOptions<GuidedBackpropOptions>(
      where,
      options,
      ["target", "additionalForwardArgs"],
      `${usage}(input, { target: 1 })`,
    );
    noAdditionalArgs(where, o.additionalForwardArgs);
    const x = checkInput(where, input, `${usage}(input, { target: 1 })`);
    const targets = checkTarget(where, o.target, x.shape[0]);
    return runAttribution(
      where,
      this.model,
      () => modifiedReluGradients(where, this.model, x, targets, this.#useGradOutput),
    );
  }
}

/**
 * Captum's `GuidedBackprop(model)`: `attribute(input, { target })` gives the
 * gradient of the target's score with respect to the input, each nn.ReLU
 * module passing back only the positive part of its gradient; of the
 * input's shape.
 *
 * The model must be an nn.Module in evaluation mode (`model.eval()`); its
 * ReLUs must be nn.ReLU modules to be guided (functional ones are warned
 * about, and keep their gradient, as Captum's). Gradients are recorded
 * even under `noGrad`, the parameters' `.grad` stay as they were, the
 * hooks are removed after (also when the call throws), and the result is
 * yours (or the enclosing scope's).
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const gbp = new evaluation.GuidedBackprop(net);
 * const attr = gbp.attribute(randn([2, 1, 16, 16]), { target: 1 });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class GuidedBackprop extends ModifiedReluAttribution {
  /** `model`: the nn.Module whose ReLU modules are guided. */
  constructor(model: Module) {
    checkArity("GuidedBackprop", arguments.length, 1, "new evaluation.GuidedBackprop(model)");
    super("GuidedBackprop", model, false);
  }
}

/**
 * Captum's `Deconvolution(model)`: `attribute(input, { target })` gives the
 * deconvnet attributions: the gradient of the target's score with respect
 * to the input where every nn.ReLU module passes back relu(its output's
 * gradient), whatever its input's sign; of the input's shape.
 *
 * The same rules as `GuidedBackprop`: an nn.Module in evaluation mode,
 * nn.ReLU modules (functional ReLUs keep their gradient, with a warning),
 * hooks off after, `.grad` untouched, the result yours.
 *
 * @example
 * ```ts
 * import { evaluation, models, randn } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 16, numClasses: 3 }).eval();
 * const deconv = new evaluation.Deconvolution(net);
 * const attr = deconv.attribute(randn([2, 1, 16, 16]), { target: [0, 2] });
 * console.log(attr.shape); // [2, 1, 16, 16]
 * ```
 */
export class Deconvolution extends ModifiedReluAttribution {
  /** `model`: the nn.Module whose ReLU modules are overridden. */
  constructor(model: Module) {
    checkArity("Deconvolution", arguments.length, 1, "new evaluation.Deconvolution(model)");
    super("Deconvolution", model, true);
  }
}
