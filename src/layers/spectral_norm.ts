/**
 * Spectral normalisation, as torch 1.13's hook form
 * `torch.nn.utils.spectral_norm` (Miyato et al., 2018): the Parameter
 * `weight` becomes `weight_orig` (the same object), with the buffers
 * `weight_u` and `weight_v` (approximate first left and right singular
 * vectors of the weight as a matrix), and `module.weight` becomes the plain
 * tensor `weight_orig / sigma`, `sigma = u . (W v)`, recomputed by a forward
 * pre-hook before each call. In training mode the hook first runs the power
 * iteration, writing u and v in place, unrecorded by autograd; in eval mode
 * it uses the stored ones. The hook makes the module's `forward` its own,
 * which turns off the models' fused paths (models/plain.ts).
 *
 * @module
 */
import { Module, type Parameter, setBufferSlot } from "./module.ts";
import type { RemovableHandle } from "./module_hooks.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { randn } from "../tensor/ops/random.ts";
import { normalize } from "../tensor/ops/vector_norm.ts";
import { ConvTranspose1d } from "./conv_transpose1d.ts";
import { ConvTranspose2d } from "./conv_transpose.ts";
import { checkParameter, describe } from "./prune/base.ts";
import { clearRecomputed, defineRecomputed, setRecomputed } from "./recomputed.ts";

/** What the hook needs: torch's `SpectralNorm` fields. */
interface SpectralNormState {
  dim: number;
  nPowerIterations: number;
  eps: number;
  hook: RemovableHandle;
}

/** Each module's spectrally normalised parameters: name -> its state. */
const normed = new WeakMap<Module, Map<string, SpectralNormState>>();

/** @internal The names of `module`'s spectrally normalised parameters (exportOnnx's refusal). */
export function spectralNormedNames(module: Module): string[] {
  return [...(normed.get(module)?.keys() ?? [])];
}

/** Module internals used here (protected on `Module`). */
interface BufferAccess {
  registerBuffer(name: string, t: Tensor | null): Tensor | null;
  buffer(name: string): Tensor | null;
}

/** `weight` with `dim` first, as a [size of dim, rest] matrix (torch's `reshape_weight_to_matrix`). */
function asMatrix(weight: Tensor, dim: number): Tensor {
  const w = dim === 0
    ? weight
    : weight.permute([dim, ...[...weight.shape.keys()].filter((d) => d !== dim)]);
  return w.reshape([w.shape[0], -1]);
}

/**
 * `weight_orig / sigma` (torch's `compute_weight`); with `powerIteration`,
 * first the power iteration, unrecorded, its results written into the
 * buffers u and v and used as their copies, so a graph made by an earlier
 * forward keeps the u and v it used (GAN's `D(real) + D(fake)` before one
 * backward).
 */
function computeWeight(
  module: Module,
  name: string,
  s: SpectralNormState,
  powerIteration: boolean,
) {
  const weight = (module as unknown as Record<string, Tensor>)[`${name}_orig`];
  const access = module as unknown as BufferAccess;
  let u = access.buffer(`${name}_u`)!;
  let v = access.buffer(`${name}_v`)!;
  const mat = asMatrix(weight, s.dim);
  if (powerIteration) {
    // The last results are torch's clones: op results, so the step frees them.
    [u, v] = noGrad(() => {
      const m = mat.detach();
      let [uNew, vNew] = [u, v];
      for (let i = 0; i < s.nPowerIterations; i++) {
        vNew = normalize(m.t().mv(uNew), 2, 0, s.eps);
        uNew = normalize(m.mv(vNew), 2, 0, s.eps);
      }
      v.copy_(vNew);
      u.copy_(uNew);
      return [uNew, vNew];
    });
  }
  const sigma = u.dot(mat.mv(v));
  return weight.div(sigma);
}

/** Throws unless `n` is a positive integer count of power iterations (torch's ValueError). */
function checkIterations(n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n <= 0) {
    throw new Error(
      "nn.utils.spectralNorm: Expected n_power_iterations to be positive, but got " +
        `n_power_iterations=${typeof n === "number" ? n : describe(n)}`,
    );
  }
  return n;
}

/** The dimension `dim` means for a tensor of rank `ndim`; throws if bad. */
function checkDim(dim: unknown, ndim: number, name: string): number {
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    throw new Error(
      `nn.utils.spectralNorm: dim must be an integer (or undefined: 1 for a ConvTranspose, ` +
        `else 0), got ${describe(dim)}`,
    );
  }
  if (dim < -ndim || dim >= ndim) {
    throw new Error(
      `nn.utils.spectralNorm: dim ${dim} is out of range for '${name}' of rank ${ndim} ` +
        `(expected one in [${-ndim}, ${ndim - 1}])`,
    );
  }
  return dim < 0 ? dim + ndim : dim;
}

/**
 * Applies spectral normalisation to parameter `name` of `module`, as torch
 * 1.13's `nn.utils.spectral_norm(module, name, n_power_iterations, eps,
 * dim)`: the parameter becomes `${name}_orig` (the same Parameter object, so
 * an optimizer made before keeps training it), appended after the other
 * parameters, with the buffers `${name}_u` and `${name}_v` (state-dict keys
 * `bias`, `weight_orig`, `weight_u`, `weight_v` for a Linear);
 * `module[name]` is recomputed before every forward as the weight over its
 * largest singular value, estimated by `nPowerIterations` steps of power
 * iteration in training mode (u and v updated in place, not recorded by
 * autograd) and by the stored u and v in eval mode. `dim` is the output
 * dimension (default 1 for a ConvTranspose, else 0). The initial u and v
 * are drawn from this library's generator (`manualSeed`), so they differ
 * from torch's draw: load torch's `weight_u` and `weight_v` through
 * `loadStateDict` for torch's numbers. Returns the module.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const fc = nn.utils.spectralNorm(new nn.Linear(20, 40));
 * console.log([...fc.stateDict().keys()]); // ["bias", "weight_orig", "weight_u", "weight_v"]
 * console.log(fc(randn([2, 20])).shape); // [2, 40]
 * ```
 */
export function spectralNorm<M extends Module>(
  module: M,
  name = "weight",
  nPowerIterations = 1,
  eps = 1e-12,
  dim?: number,
): M {
  const where = "nn.utils.spectralNorm";
  if (arguments.length > 5) {
    throw new Error(
      `${where}: takes (module, name, nPowerIterations, eps, dim), got ${arguments.length} ` +
        `arguments; write ${where}(module, "weight", 1, 1e-12)`,
    );
  }
  if (typeof name === "object" && name !== null) {
    // torch's keywords (spectral_norm(m, n_power_iterations=2)) ported as an options object.
    const o = name as Record<string, unknown>;
    const args = [
      JSON.stringify(o.name ?? "weight"),
      String(o.nPowerIterations ?? o.n_power_iterations ?? 1),
      String(o.eps ?? 1e-12),
      ...(o.dim === undefined ? [] : [String(o.dim)]),
    ];
    throw new Error(
      `${where}: takes positional arguments (module, name, nPowerIterations, eps, dim), got ` +
        `an options object; write ${where}(module, ${args.join(", ")})`,
    );
  }
  if (module instanceof Module && normed.get(module)?.has(name)) {
    // torch's RuntimeError, word for word.
    throw new Error(`Cannot register two spectral_norm hooks on the same parameter ${name}`);
  }
  const n = checkIterations(nPowerIterations);
  if (typeof eps !== "number" || !(eps >= 0)) {
    throw new Error(`${where}: eps must be a number >= 0, got ${describe(eps)}`);
  }
  const weight = checkParameter(where, module, name);
  const isTransposed = module instanceof ConvTranspose1d || module instanceof ConvTranspose2d;
  const d = checkDim(dim ?? (isTransposed ? 1 : 0), weight.ndim, name);
  const [h, w] = asMatrix(weight, d).shape;
  const [u, v] = noGrad(() => [
    normalize(randn([h], { device: weight.device }), 2, 0, eps),
    normalize(randn([w], { device: weight.device }), 2, 0, eps),
  ]);
  const fields = module as unknown as Record<string, unknown>;
  const access = module as unknown as BufferAccess;
  delete fields[name];
  fields[`${name}_orig`] = weight;
  access.registerBuffer(`${name}_u`, u);
  access.registerBuffer(`${name}_v`, v);
  for (const suffix of ["_u", "_v"]) {
    Object.defineProperty(module, name + suffix, {
      configurable: true,
      enumerable: false,
      get: () => access.buffer(name + suffix),
    });
  }
  const state: SpectralNormState = { dim: d, nPowerIterations: n, eps, hook: null! };
  // Read before a forward (or once freed): from the stored u and v, no power iteration.
  defineRecomputed(
    module,
    name,
    () => computeWeight(module, name, state, false),
    `${module.constructor.name}.${name} is spectrally normalised: it is recomputed from ` +
      `${name}_orig before each forward; write the values into ${name}_orig, or remove the ` +
      `normalisation first (nn.utils.removeSpectralNorm(m, "${name}"))`,
  );
  setRecomputed(module, name, weight.detach()); // torch's `weight.data` until the first forward
  state.hook = module.registerForwardPreHook((m) => {
    setRecomputed(m, name, computeWeight(m, name, state, m.training));
  });
  if (!normed.has(module)) normed.set(module, new Map());
  normed.get(module)!.set(name, state);
  return module;
}

/**
 * Removes the spectral normalisation of `module[name]`, as torch 1.13's
 * `nn.utils.remove_spectral_norm(module, name)`: `module[name]` is a
 * Parameter again (the object that was `${name}_orig`, now holding the
 * weight over sigma from the stored u and v), appended after the other
 * parameters; `${name}_orig`, the buffers `${name}_u` and `${name}_v` and
 * the hook are gone. Returns the module.
 *
 * @example
 * ```ts
 * import { nn } from "@lits/vision";
 * const fc = nn.utils.spectralNorm(new nn.Linear(4, 2));
 * nn.utils.removeSpectralNorm(fc);
 * console.log([...fc.stateDict().keys()]); // ["bias", "weight"]
 * ```
 */
export function removeSpectralNorm<M extends Module>(module: M, name = "weight"): M {
  if (!(module instanceof Module)) {
    throw new Error(
      `nn.utils.removeSpectralNorm: expected an nn.Module first, got ${describe(module)}`,
    );
  }
  const state = normed.get(module)?.get(name);
  if (!state) {
    // torch's ValueError, with the module's class for its repr.
    throw new Error(`spectral_norm of '${name}' not found in ${module.constructor.name}`);
  }
  const fields = module as unknown as Record<string, unknown>;
  const orig = fields[`${name}_orig`] as Parameter;
  noGrad(() => {
    const w = computeWeight(module, name, state, false);
    orig.copy_(w);
  });
  state.hook.remove();
  normed.get(module)!.delete(name);
  clearRecomputed(module, name);
  delete fields[`${name}_orig`];
  for (const suffix of ["_u", "_v"]) {
    delete fields[name + suffix];
    setBufferSlot(module, name + suffix, undefined);
  }
  fields[name] = orig; // re-added last: torch registers a new Parameter
  return module;
}
