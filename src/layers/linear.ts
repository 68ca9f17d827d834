/**
 * `Linear`: y = x W^T + b, as `torch.nn.Linear`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { linear } from "../tensor/ops/matmul.ts";
import { Module, Parameter } from "./module.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { kaimingUniform_, uniform_ } from "./init.ts";
import { type CallContract, checkContract } from "../options.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

const NEW_LINEAR: CallContract<LinearOptions> = {
  where: "nn.Linear",
  most: 3,
  known: ["bias"],
  usage: "new nn.Linear(4, 2, { bias: false })",
};

/**
 * Fully connected layer on [N, inFeatures] inputs. Initialised as PyTorch:
 * weight kaiming-uniform with a = sqrt(5), bias U(-1/sqrt(in), 1/sqrt(in)).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const fc = new nn.Linear(4, 2);
 * console.log(fc.forward(randn([3, 4])).shape); // [3, 2]
 * ```
 */
export class Linear extends Module {
  /** [outFeatures, inFeatures]. */
  weight: Parameter;
  /** [outFeatures], or null. */
  bias: Parameter | null;

  /** Input features, read from the weight (a swapped weight counts). */
  get inFeatures(): number {
    return tensorShape(this, "weight")[1];
  }

  /** Output features, read from the weight. */
  get outFeatures(): number {
    return tensorShape(this, "weight")[0];
  }

  constructor(
    inFeatures: number,
    outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const o = checkContract(NEW_LINEAR, arguments.length, options);
    for (const [n, v] of [["inFeatures", inFeatures], ["outFeatures", outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        const got = typeof v === "object" && v !== null
          ? "an object; the sizes come first, as numbers: new nn.Linear(784, 20, { bias: true })"
          : String(v);
        throw new Error(`Linear: ${n} must be a positive integer, got ${got}`);
      }
    }
    const w = Tensor.empty([outFeatures, inFeatures], "float32", "cpu", false);
    this.weight = new Parameter(kaimingUniform_(w, { a: Math.sqrt(5) }));
    this.bias = null;
    if (o.bias ?? true) {
      const bound = 1 / Math.sqrt(inFeatures);
      this.bias = new Parameter(
        uniform_(Tensor.empty([outFeatures], "float32", "cpu", false), -bound, bound),
      );
    }
  }

  /** x [N, inFeatures] -> [N, outFeatures]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

// torch's attribute names (`model.fc.in_features` when replacing a head).
addNameHints(Linear.prototype, "nn.Linear", {
  in_features: "write fc.inFeatures",
  out_features: "write fc.outFeatures",
});
