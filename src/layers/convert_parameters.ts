/**
 * Parameters as one flat vector and back, as torch's
 * `torch.nn.utils.parameters_to_vector` / `vector_to_parameters` (the
 * habit of second-order methods, evolution strategies and weight
 * averaging).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { cat } from "../tensor/ops/join.ts";

/** The tensors of `parameters`, all on one device (torch's `_check_param_device`). */
function sameDevice(where: string, parameters: unknown, usage: string): Tensor[] {
  if (parameters instanceof Tensor) {
    throw new Error(
      `${where}: expected an iterable of parameters, got one Tensor (torch would iterate over ` +
        `its rows); write ${usage.replace("model.parameters()", "[t]")}`,
    );
  }
  if (parameters === null || typeof parameters !== "object" || !(Symbol.iterator in parameters)) {
    throw new Error(`${where}: expected an iterable of parameters; write ${usage}`);
  }
  const list = [...(parameters as Iterable<unknown>)];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) {
      throw new Error(`${where}: entry ${i} is not a Tensor; write ${usage}`);
    }
    if (p.device !== (list[0] as Tensor).device) {
      throw new Error(
        `${where}: found two parameters on different devices (${(list[0] as Tensor).device} and ` +
          `${p.device}, entry ${i}); move the model with model.to(device) first`,
      );
    }
  });
  if (list.length === 0) throw new Error(`${where}: got no parameters`);
  return list as Tensor[];
}

/**
 * The parameters flattened and joined into one vector, in their order, as
 * torch's `parameters_to_vector` (recorded by autograd: a gradient of the
 * vector flows back to each parameter).
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = new nn.Linear(3, 2);
 * console.log(nn.utils.parametersToVector(fc.parameters()).shape); // [8]
 * ```
 */
export function parametersToVector(parameters: Iterable<Tensor>): Tensor {
  const usage = "nn.utils.parametersToVector(model.parameters())";
  if (arguments.length !== 1) {
    throw new Error(`nn.utils.parametersToVector: takes 1 argument; write ${usage}`);
  }
  const list = sameDevice("nn.utils.parametersToVector", parameters, usage);
  return cat(list.map((p) => p.reshape([-1])));
}

/**
 * Writes consecutive pieces of `vec` into the parameters, in their order,
 * as torch's `vector_to_parameters`: in place and not recorded by autograd
 * (torch's `param.data = ...`), so optimizers keep their parameters. The
 * parameters get copies: unlike torch's, they do not share memory with
 * `vec` afterwards. `vec` must be 1-D with exactly as many elements as the
 * parameters (torch ignores a longer vector's tail).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * const fc = new nn.Linear(3, 2);
 * nn.utils.vectorToParameters(zeros([8]), fc.parameters());
 * console.log(fc.bias!.toList()); // [0, 0]
 * ```
 */
export function vectorToParameters(vec: Tensor, parameters: Iterable<Tensor>): void {
  const where = "nn.utils.vectorToParameters";
  const usage = "nn.utils.vectorToParameters(vec, model.parameters())";
  if (arguments.length !== 2) throw new Error(`${where}: takes 2 arguments; write ${usage}`);
  if (!(vec instanceof Tensor)) {
    throw new Error(`${where}: expected a Tensor first, got ${typeof vec}; write ${usage}`);
  }
  const list = sameDevice(where, parameters, usage);
  const total = list.reduce((n, p) => n + p.numel(), 0);
  if (vec.ndim !== 1 || vec.numel() !== total) {
    throw new Error(
      `${where}: vec has shape [${vec.shape}], the parameters have ${total} elements in all; ` +
        `pass a 1-D vector of ${total} (parametersToVector's shape)`,
    );
  }
  if (vec.device !== list[0].device) {
    throw new Error(`${where}: vec is on ${vec.device}, the parameters on ${list[0].device}`);
  }
  noGrad(() => {
    let at = 0;
    for (const p of list) {
      p.copy_(vec.narrow(0, at, p.numel()).reshape([...p.shape]));
      at += p.numel();
    }
  });
}
