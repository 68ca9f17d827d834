/**
 * torch's snake_case names of `nn.utils`, each a function that throws naming
 * ours (`nn.utils.parameters_to_vector` was "not a function"), marked
 * deprecated so an editor strikes it through with the same advice.
 *
 * @module
 */

function hint(name: string, ours: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(
      `nn.utils.${name} is torch's name: write nn.utils.${ours}(...) (torch's keyword ` +
        "arguments go in one options object, in camelCase)",
    );
  };
}

/** @deprecated torch's name: write `nn.utils.parametersToVector`. */
export const parameters_to_vector: (...args: unknown[]) => never = hint(
  "parameters_to_vector",
  "parametersToVector",
);
/** @deprecated torch's name: write `nn.utils.vectorToParameters`. */
export const vector_to_parameters: (...args: unknown[]) => never = hint(
  "vector_to_parameters",
  "vectorToParameters",
);
/** @deprecated torch's name: write `nn.utils.clipGradNorm_`. */
export const clip_grad_norm_: (...args: unknown[]) => never = hint(
  "clip_grad_norm_",
  "clipGradNorm_",
);
/** @deprecated torch's name: write `nn.utils.clipGradValue_`. */
export const clip_grad_value_: (...args: unknown[]) => never = hint(
  "clip_grad_value_",
  "clipGradValue_",
);
