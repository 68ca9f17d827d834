/**
 * The training loss of a model whose training output carries auxiliary
 * classifiers' logits (Inception v3's `InceptionOutputs`, GoogLeNet's
 * `GoogLeNetOutputs`): the main loss plus the auxiliary heads' losses at
 * the weights their recipes give them. torchvision's reference training
 * script has no rule for them (its `criterion(output, target)` fails on
 * the namedtuple), so the trainer takes the recipes users train with:
 *
 * - Inception v3: `loss(logits) + 0.4 * loss(auxLogits)`, PyTorch's
 *   fine-tuning tutorial ("Finetuning Torchvision Models");
 * - GoogLeNet: `loss(logits) + 0.3 * (loss(auxLogits1) + loss(auxLogits2))`,
 *   the paper's discount weight (Szegedy et al. 2015, section 5).
 *
 * Accuracy is counted on the main logits; the training loss the trainer
 * reports includes the auxiliary terms, so it is not comparable with the
 * validation loss (evaluation runs the main head alone).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { GoogLeNetOutputs, InceptionOutputs } from "../models/aux_outputs.ts";

/** The weight of Inception v3's auxiliary loss (PyTorch's fine-tuning tutorial). */
export const INCEPTION_AUX_WEIGHT = 0.4;
/** The weight of each of GoogLeNet's two auxiliary losses (the paper's). */
export const GOOGLENET_AUX_WEIGHT = 0.3;

/**
 * The main logits of a model's training output and its loss: `lossOf(output)`
 * for a tensor, and with the auxiliary heads' losses added for the outputs
 * above.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * import { trainingLoss } from "./aux_loss.ts";
 * const out = new models.InceptionOutputs(zeros([2, 3]), zeros([2, 3]));
 * const { logits, loss } = trainingLoss(out, (l) => l.sum().add(1));
 * console.log(logits === out.logits, loss.item()); // true 1.4
 * ```
 */
export function trainingLoss(
  output: unknown,
  lossOf: (logits: Tensor) => Tensor,
): { logits: Tensor; loss: Tensor } {
  if (output instanceof InceptionOutputs) {
    const aux = lossOf(output.auxLogits).mul(INCEPTION_AUX_WEIGHT);
    return { logits: output.logits, loss: lossOf(output.logits).add(aux) };
  }
  if (output instanceof GoogLeNetOutputs) {
    const aux = lossOf(output.auxLogits1).add(lossOf(output.auxLogits2)).mul(GOOGLENET_AUX_WEIGHT);
    return { logits: output.logits, loss: lossOf(output.logits).add(aux) };
  }
  return { logits: output as Tensor, loss: lossOf(output as Tensor) };
}
