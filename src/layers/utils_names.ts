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
/** @deprecated torch's name: write `nn.utils.weightNorm`. */
export const weight_norm: (...args: unknown[]) => never = hint("weight_norm", "weightNorm");
/** @deprecated torch's name: write `nn.utils.removeWeightNorm`. */
export const remove_weight_norm: (...args: unknown[]) => never = hint(
  "remove_weight_norm",
  "removeWeightNorm",
);
/** @deprecated torch's name: write `nn.utils.spectralNorm`. */
export const spectral_norm: (...args: unknown[]) => never = hint("spectral_norm", "spectralNorm");
/** @deprecated torch's name: write `nn.utils.removeSpectralNorm`. */
export const remove_spectral_norm: (...args: unknown[]) => never = hint(
  "remove_spectral_norm",
  "removeSpectralNorm",
);
/** @deprecated torch's name: write `nn.utils.fuseConvBnEval`. */
export const fuse_conv_bn_eval: (...args: unknown[]) => never = hint(
  "fuse_conv_bn_eval",
  "fuseConvBnEval",
);
/** @deprecated torch's name: write `nn.utils.fuseConvBnWeights`. */
export const fuse_conv_bn_weights: (...args: unknown[]) => never = hint(
  "fuse_conv_bn_weights",
  "fuseConvBnWeights",
);
/** @deprecated torch's name: write `nn.utils.fuseLinearBnEval`. */
export const fuse_linear_bn_eval: (...args: unknown[]) => never = hint(
  "fuse_linear_bn_eval",
  "fuseLinearBnEval",
);
/** @deprecated torch's name: write `nn.utils.fuseLinearBnWeights`. */
export const fuse_linear_bn_weights: (...args: unknown[]) => never = hint(
  "fuse_linear_bn_weights",
  "fuseLinearBnWeights",
);
