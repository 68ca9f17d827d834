/**
 * `Bilinear`: y = x1^T W x2 + b, as `torch.nn.Bilinear(in1, in2, out)`,
 * on `F.bilinear`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { bilinear } from "../tensor/ops/bilinear.ts";
import { Module, Parameter } from "./module.ts";
import { uniform_ } from "./init.ts";
import { type CallContract, checkContract } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { tensorShape } from "./parametrize.ts"; // a parametrized weight's shape, uncomputed

/** Options of `Bilinear`. */
export interface BilinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

const NEW_BILINEAR: CallContract<BilinearOptions> = {
  where: "nn.Bilinear",
  most: 4,
  known: ["bias"],
  usage: "new nn.Bilinear(20, 30, 40, { bias: false })",
};

/**
 * A bilinear layer on x1 [..., in1Features] and x2 [..., in2Features]
 * giving [..., outFeatures]. Initialised as torch's: weight and bias
 * U(-1/sqrt(in1Features), 1/sqrt(in1Features)).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const m = new nn.Bilinear(20, 30, 40);
 * console.log(m(randn([128, 20]), randn([128, 30])).shape); // [128, 40]
 * console.log([...m.stateDict().keys()]); // ["weight", "bias"]
 * ```
 */
export class Bilinear extends Module {
  /** [outFeatures, in1Features, in2Features]. */
  weight: Parameter;
  /** [outFeatures], or null. */
  bias: Parameter | null;

  constructor(
    in1Features: number,
    in2Features: number,
    outFeatures: number,
    options: BilinearOptions = {},
  ) {
    super();
    const o = checkContract(NEW_BILINEAR, arguments.length, options);
    for (
      const [name, v] of [["in1Features", in1Features], ["in2Features", in2Features], [
        "outFeatures",
        outFeatures,
      ]] as const
    ) {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
        throw new Error(
          `nn.Bilinear: ${name} must be an integer >= 1, got ${showValue(v)}; ` +
            `write ${NEW_BILINEAR.usage}`,
        );
      }
    }
    if (o.bias !== undefined && typeof o.bias !== "boolean") {
      throw new Error(`nn.Bilinear: bias must be true or false, got ${showValue(o.bias)}`);
    }
    const bound = 1 / Math.sqrt(in1Features);
    const empty = (shape: number[]) => Tensor.empty(shape, "float32", "cpu", false);
    this.weight = new Parameter(
      uniform_(empty([outFeatures, in1Features, in2Features]), -bound, bound),
    );
    this.bias = o.bias ?? true
      ? new Parameter(uniform_(empty([outFeatures]), -bound, bound))
      : null;
  }

  /** Input features of x1. */
  get in1Features(): number {
    return tensorShape(this, "weight")[1];
  }

  /** Input features of x2. */
  get in2Features(): number {
    return tensorShape(this, "weight")[2];
  }

  /** Output features. */
  get outFeatures(): number {
    return tensorShape(this, "weight")[0];
  }

  /** x1 [..., in1], x2 [..., in2] -> [..., out]. */
  forward(x1: Tensor, x2: Tensor): Tensor {
    return bilinear(x1, x2, this.weight, this.bias);
  }
}
