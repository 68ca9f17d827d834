/**
 * What the losses of `torch.nn.functional` share: the reduction name and its
 * application, and the opening checks of a loss on (input, target): the
 * argument count, the options, Tensors, and a float32 target of the input's
 * shape on its device. PyTorch broadcasts a mismatched target with a warning
 * that it "will likely lead to incorrect results" (an [N] target against
 * [N, 1] output squares N x N): here it is refused.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { type CallContract, checkContract } from "../../options.ts";
import type { Reduction } from "./loss.ts";
import { div, requireFloat, sameDevice } from "./elementwise.ts";
import { sum } from "./reduce.ts";
import { tensorHint } from "../tensor_hint.ts";

/** Checks a reduction name (PyTorch's three). */
export function checkReduction(where: string, reduction: unknown): Reduction {
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") {
    throw new Error(
      `${where}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`,
    );
  }
  return reduction;
}

/** @internal the loss per element, summed, or averaged over all elements. */
export function reduceLoss(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return loss;
  const total = sum(loss);
  return reduction === "sum" ? total : div(total, loss.numel());
}

/**
 * @internal the checks each loss opens with, in this order: its argument
 * count, its options, the reduction (default "mean"), input and target
 * Tensors.
 */
export function openLoss<T extends { reduction?: Reduction }>(
  contract: CallContract<T>,
  given: number,
  input: unknown,
  target: unknown,
  options: unknown,
): { o: T; reduction: Reduction; input: Tensor; target: Tensor } {
  const { where, usage } = contract;
  const o = checkContract(contract, given, options);
  const reduction = checkReduction(where, o.reduction ?? "mean");
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) {
    // A model's training outputs (InceptionOutputs) say what to take from them.
    const hint = tensorHint(input);
    const got = hint === null ? "" : ` (the input is ${hint})`;
    throw new Error(`${where}: input and target must be Tensors${got}; write ${usage}`);
  }
  return { o, reduction, input, target };
}

/** @internal float32 input and target of one shape on one device, or an Error naming both. */
export function checkPair(where: string, input: Tensor, target: Tensor): void {
  requireFloat(input, `${where} input`);
  if (target.dtype !== "float32") {
    throw new Error(
      `${where}: target [${target.shape}] is ${target.dtype}, expected float32 values like the ` +
        `input [${input.shape}]; convert with target.float()`,
    );
  }
  sameDevice(input, target, where);
  if (input.shape.join() !== target.shape.join() || input.ndim !== target.ndim) {
    throw new Error(
      `${where}: target [${target.shape}] must have the input's shape [${input.shape}]; ` +
        `reshape one of them (e.g. target.reshape(${JSON.stringify(input.shape)}))`,
    );
  }
}

/** @internal `openLoss`, then `checkPair`. */
export function openPairLoss<T extends { reduction?: Reduction }>(
  contract: CallContract<T>,
  given: number,
  input: unknown,
  target: unknown,
  options: unknown,
): { o: T; reduction: Reduction; input: Tensor; target: Tensor } {
  const opened = openLoss(contract, given, input, target, options);
  checkPair(contract.where, opened.input, opened.target);
  return opened;
}
