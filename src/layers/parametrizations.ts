/**
 * `nn.utils.parametrizations`, as torch 1.13's
 * `torch.nn.utils.parametrizations`: `orthogonal` and `spectralNorm`, made
 * with `nn.utils.parametrize.registerParametrization`.
 *
 * @module
 */
export {
  orthogonal,
  type OrthogonalMap,
  type OrthogonalOptions,
} from "./parametrization_orthogonal.ts";
export { spectralNorm, type SpectralNormOptions } from "./parametrization_spectral.ts";

/** @deprecated torch's name: write `nn.utils.parametrizations.spectralNorm`. */
export const spectral_norm: (...args: unknown[]) => never = () => {
  throw new Error(
    "nn.utils.parametrizations.spectral_norm is torch's name: write " +
      'nn.utils.parametrizations.spectralNorm(module, "weight", { nPowerIterations, eps, dim })',
  );
};
