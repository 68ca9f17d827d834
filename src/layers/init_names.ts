/**
 * torch's spellings of `nn.init` that this library writes otherwise:
 * `nn.init.xavier_uniform_(w)` was "not a function". Each throws, naming
 * ours (`nn.init.xavierUniform_`, torch's keywords in one options object),
 * and is marked deprecated, so an editor strikes it through. torch's
 * deprecated forms without the trailing underscore (`nn.init.normal`) name
 * the in-place one. `uniform_`, `normal_`, `constant_`, `ones_`, `zeros_`,
 * `eye_`, `dirac_`, `orthogonal_` and `sparse_` are spelled as torch's.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * try {
 *   nn.init.kaiming_normal_();
 * } catch (e) {
 *   console.log((e as Error).message.includes("nn.init.kaimingNormal_")); // true
 * }
 * ```
 *
 * @module
 */

/** torch's name -> ours. */
const INIT_NAMES: Readonly<Record<string, string>> = {
  calculate_gain: "calculateGain",
  xavier_uniform_: "xavierUniform_",
  xavier_normal_: "xavierNormal_",
  kaiming_uniform_: "kaimingUniform_",
  kaiming_normal_: "kaimingNormal_",
  trunc_normal_: "truncNormal_",
  _calculate_fan_in_and_fan_out: "fans",
  uniform: "uniform_",
  normal: "normal_",
  constant: "constant_",
  eye: "eye_",
  dirac: "dirac_",
  xavier_uniform: "xavierUniform_",
  xavier_normal: "xavierNormal_",
  kaiming_uniform: "kaimingUniform_",
  kaiming_normal: "kaimingNormal_",
  orthogonal: "orthogonal_",
  sparse: "sparse_",
};

function hint(name: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(
      `nn.init.${name} is torch's name: write nn.init.${INIT_NAMES[name]}(...) (torch's ` +
        "keyword arguments go in one options object, in camelCase: " +
        'nn.init.kaimingNormal_(w, { mode: "fan_out", nonlinearity: "relu" }))',
    );
  };
}

/** @deprecated torch's name: write `nn.init.calculateGain`. */
export const calculate_gain: (...args: unknown[]) => never = hint("calculate_gain");
/** @deprecated torch's name: write `nn.init.xavierUniform_`. */
export const xavier_uniform_: (...args: unknown[]) => never = hint("xavier_uniform_");
/** @deprecated torch's name: write `nn.init.xavierNormal_`. */
export const xavier_normal_: (...args: unknown[]) => never = hint("xavier_normal_");
/** @deprecated torch's name: write `nn.init.kaimingUniform_`. */
export const kaiming_uniform_: (...args: unknown[]) => never = hint("kaiming_uniform_");
/** @deprecated torch's name: write `nn.init.kaimingNormal_`. */
export const kaiming_normal_: (...args: unknown[]) => never = hint("kaiming_normal_");
/** @deprecated torch's name: write `nn.init.truncNormal_`. */
export const trunc_normal_: (...args: unknown[]) => never = hint("trunc_normal_");
/** @deprecated torch's name: write `nn.init.fans`. */
export const _calculate_fan_in_and_fan_out: (...args: unknown[]) => never = hint(
  "_calculate_fan_in_and_fan_out",
);
/** @deprecated torch's name: write `nn.init.uniform_`. */
export const uniform: (...args: unknown[]) => never = hint("uniform");
/** @deprecated torch's name: write `nn.init.normal_`. */
export const normal: (...args: unknown[]) => never = hint("normal");
/** @deprecated torch's name: write `nn.init.constant_`. */
export const constant: (...args: unknown[]) => never = hint("constant");
/** @deprecated torch's name: write `nn.init.eye_`. */
export const eye: (...args: unknown[]) => never = hint("eye");
/** @deprecated torch's name: write `nn.init.dirac_`. */
export const dirac: (...args: unknown[]) => never = hint("dirac");
/** @deprecated torch's name: write `nn.init.xavierUniform_`. */
export const xavier_uniform: (...args: unknown[]) => never = hint("xavier_uniform");
/** @deprecated torch's name: write `nn.init.xavierNormal_`. */
export const xavier_normal: (...args: unknown[]) => never = hint("xavier_normal");
/** @deprecated torch's name: write `nn.init.kaimingUniform_`. */
export const kaiming_uniform: (...args: unknown[]) => never = hint("kaiming_uniform");
/** @deprecated torch's name: write `nn.init.kaimingNormal_`. */
export const kaiming_normal: (...args: unknown[]) => never = hint("kaiming_normal");
/** @deprecated torch's name: write `nn.init.orthogonal_`. */
export const orthogonal: (...args: unknown[]) => never = hint("orthogonal");
/** @deprecated torch's name: write `nn.init.sparse_`. */
export const sparse: (...args: unknown[]) => never = hint("sparse");
