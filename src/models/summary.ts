/**
 * `summary(model, inputShape)`: each layer's output shape and parameter
 * count, like torchinfo. It runs one forward pass on zeros in eval mode
 * without gradients, with every module's `forward` wrapped for the call (a
 * forward hook made by hand, removed afterwards), so the rows are the calls
 * in execution order (a module called twice, like a block's shared ReLU,
 * gives two rows) and the shapes are the real ones. A container cut off by
 * `maxDepth` (its children not listed) shows all of its parameters, as
 * torchinfo does, so the rows at the limit add up to the model's total.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { zeros } from "../tensor/ops/creation.ts";
import { noGrad } from "../tensor/autograd.ts";
import type { Module } from "../layers/module.ts";
import { checkArity, checkOptions } from "../options.ts";

/** One module call of the summary's forward pass. */
export interface SummaryRow {
  /** Dotted path as in the state dict ("layer1.0.conv1"); "" for the model. */
  name: string;
  /** Class name ("Conv2d"). */
  type: string;
  /** 0 for the model, 1 for its children, ... */
  depth: number;
  /** Shape of the output. */
  outputShape: number[];
  /**
   * Parameters held by the module itself (not its children, which have rows
   * of their own); at the `maxDepth` limit, where its children are not
   * listed, all of its parameters (torchinfo's collapsed container).
   */
  params: number;
}

/** Options of `summary`. */
export interface SummaryOptions {
  /** Deepest level listed, 0 for the model alone (torchinfo's `depth`; default: all). */
  maxDepth?: number;
}

const fmtInt = (n: number) => n.toLocaleString("en-US");
const fmtShape = (s: readonly number[]) => `[${s.join(", ")}]`;

/** The result of `summary`: rows and totals; prints as a table. */
export class ModelSummary {
  constructor(
    /** The model's class name. */
    readonly model: string,
    /** Shape of the zero input. */
    readonly inputShape: number[],
    /** One per module call, in execution order. */
    readonly rows: SummaryRow[],
    /** Parameters in the model. */
    readonly totalParams: number,
    /** Parameters that require gradients. */
    readonly trainableParams: number,
  ) {}

  /** The table, torchinfo style. */
  toString(): string {
    const label = (r: SummaryRow) =>
      r.depth === 0 ? r.type : `${"  ".repeat(r.depth - 1)}${r.name} (${r.type})`;
    const w0 = Math.max(24, ...this.rows.map((r) => label(r).length)) + 2;
    const w1 = Math.max(16, ...this.rows.map((r) => fmtShape(r.outputShape).length)) + 2;
    const line = (a: string, b: string, c: string) => a.padEnd(w0) + b.padEnd(w1) + c;
    const rule = "=".repeat(w0 + w1 + 12);
    const out = [rule, line("Layer (type)", "Output Shape", "Param #"), rule];
    for (const r of this.rows) {
      out.push(
        line(label(r), fmtShape(r.outputShape), r.params > 0 ? fmtInt(r.params) : "--"),
      );
    }
    const mb = (this.totalParams * 4 / 1e6).toFixed(2);
    out.push(
      rule,
      `Input shape: ${fmtShape(this.inputShape)}`,
      `Total params: ${fmtInt(this.totalParams)}`,
      `Trainable params: ${fmtInt(this.trainableParams)}`,
      `Non-trainable params: ${fmtInt(this.totalParams - this.trainableParams)}`,
      `Params size (MB): ${mb}`,
      rule,
    );
    return out.join("\n");
  }

  /** `console.log(models.summary(...))` prints the table. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}

/**
 * Runs `model` once on zeros of `inputShape` (eval mode, no gradients; the
 * training flags are restored after) and lists each module call's output
 * shape and parameter count.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const s = models.summary(models.simpleCNN({ imageSize: 64 }), [1, 1, 64, 64]);
 * console.log(s.totalParams); // 622467
 * console.log(s.rows.find((r) => r.name === "features.2")!.outputShape); // [1, 16, 32, 32]
 * console.log(s.toString().split("\n")[1].startsWith("Layer (type)")); // true
 * // At the depth limit a container row carries all its children's parameters.
 * const top = models.summary(models.simpleCNN({ imageSize: 64 }), [1, 1, 64, 64], { maxDepth: 1 });
 * console.log(top.rows.map((r) => r.params)); // [0, 97152, 525315]
 * ```
 */
export function summary(
  model: Module,
  inputShape: number[],
  options?: SummaryOptions,
): ModelSummary {
  const usage = "models.summary(model, [1, 1, 224, 224], { maxDepth: 3 })";
  checkArity("models.summary", arguments.length, 3, usage);
  if (options && typeof options === "object" && Object.hasOwn(options, "depth")) {
    throw new Error(`models.summary: torchinfo's 'depth' is 'maxDepth' here: ${usage}`);
  }
  const o = checkOptions<SummaryOptions>("models.summary", options, ["maxDepth"], usage);
  const maxDepth = o.maxDepth ?? Infinity;
  if (!(maxDepth === Infinity || (Number.isInteger(maxDepth) && maxDepth >= 0))) {
    throw new Error(
      `models.summary: maxDepth must be an integer >= 0, got ${String(maxDepth)}; ${usage}`,
    );
  }
  const rows: SummaryRow[] = [];
  const modes = new Map<Module, boolean>();
  const restore: (() => void)[] = [];
  for (const [name, m] of model.namedModules()) {
    modes.set(m, m.training);
    const depth = name === "" ? 0 : name.split(".").length;
    if (depth > maxDepth) continue;
    const own = Object.getOwnPropertyDescriptor(m, "forward");
    const original = m.forward;
    // Collapsed at the limit: count the children's parameters too (torchinfo).
    const collapsed = depth === maxDepth;
    let params = 0;
    for (const [k, p] of m.namedParameters()) {
      if (collapsed || !k.includes(".")) params += p.numel();
    }
    m.forward = (...inputs: Tensor[]): Tensor => {
      // The row is added on entry so a container comes before its children.
      const row: SummaryRow = { name, type: m.constructor.name, depth, outputShape: [], params };
      rows.push(row);
      const y = original.apply(m, inputs);
      row.outputShape = [...y.shape];
      return y;
    };
    restore.push(() => {
      if (own) Object.defineProperty(m, "forward", own);
      else delete (m as { forward?: unknown }).forward;
    });
  }
  try {
    model.eval();
    noGrad(() => {
      model.forward(zeros(inputShape));
    });
  } finally {
    for (const undo of restore) undo();
    for (const [m, training] of modes) m.training = training;
  }
  const all = model.parameters();
  return new ModelSummary(
    model.constructor.name,
    [...inputShape],
    rows,
    all.reduce((n, p) => n + p.numel(), 0),
    all.reduce((n, p) => n + (p.requiresGrad ? p.numel() : 0), 0),
  );
}
