/**
 * `ParametrizationList`, torch's `nn.utils.parametrize.ParametrizationList`:
 * the list of parametrizations on one tensor of a module
 * (`module.parametrizations.weight`), holding the unconstrained tensor as
 * `original` (or `original0`, `original1`, ... where the first
 * parametrization's `rightInverse` returns several). Calling it computes
 * the parametrized tensor; `rightInverse(t)` writes the originals that give
 * `t`. Made by `nn.utils.parametrize.registerParametrization`, not by hand.
 *
 * @module
 */
import { type Module, Parameter } from "./module.ts";
import { ModuleList } from "./containers.ts";
import { Tensor } from "../tensor/tensor.ts";
import { noGrad } from "../tensor/autograd.ts";
import { describe } from "./prune/base.ts";

/**
 * @internal What a built-in `rightInverse` throws where it has none (torch's
 * NotImplementedError): registration then keeps the original as it is.
 */
export class RightInverseUnavailable extends Error {}

/** A parametrization as the list calls it. */
interface Parametrization {
  (...xs: Tensor[]): unknown;
  rightInverse?: (x: Tensor) => unknown;
  constructor: { name: string };
}

/** Torch's `type(x).__name__` for the messages. */
function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return v instanceof Tensor ? "Tensor" : typeof v === "object" ? v.constructor.name : typeof v;
}

/**
 * The parametrizations on one tensor and its unconstrained original(s), as
 * torch's `ParametrizationList` (`module.parametrizations.weight`): modules
 * `0`, `1`, ... applied in order to `original` (state-dict key
 * `parametrizations.weight.original`).
 *
 * @example
 * ```ts
 * import { nn, type Tensor } from "@lits/vision";
 * class Double extends nn.Module {
 *   forward(x: Tensor): Tensor {
 *     return x.mul(2);
 *   }
 * }
 * const fc = nn.utils.parametrize.registerParametrization(new nn.Linear(2, 2), "weight", new Double());
 * const list = fc.parametrizations.weight as nn.utils.parametrize.ParametrizationList;
 * console.log(list.length, list.original.shape); // 1 [2, 2]
 * ```
 */
export class ParametrizationList extends ModuleList {
  /** Whether the parametrizations may change the tensor's shape (torch's `unsafe`). */
  unsafe: boolean;
  /** Whether there is one original (`original`) rather than several (`original0`, ...). */
  isTensor = true;
  /** How many originals there are. */
  ntensors = 1;

  /**
   * Runs the parametrizations' `rightInverse`s (last first, each that has
   * one) on `original`, keeps the result as `original` (written into the
   * same Parameter, so an optimizer made before keeps training it) or as
   * new Parameters `original0`, ...; then, unless `unsafe`, checks that the
   * list gives back a tensor of the original's shape.
   */
  constructor(modules: Module[], original: Parameter, unsafe = false) {
    super(modules);
    this.unsafe = unsafe;
    const where = "nn.utils.parametrize.registerParametrization";
    const shape = [...original.shape];
    // Returned from the scope, so that what rightInverse made outlives it.
    const value: unknown = noGrad(() => {
      let v: unknown = original;
      for (const m of [...this].reverse() as unknown as Parametrization[]) {
        if (typeof m.rightInverse !== "function") continue;
        try {
          v = m.rightInverse(v as Tensor);
        } catch (e) {
          if (!(e instanceof RightInverseUnavailable)) throw e;
        }
      }
      return v;
    });
    if (value instanceof Tensor) {
      if (value.shape.join() !== shape.join()) {
        throw new Error(
          `${where}: rightInverse returned a tensor of shape [${value.shape}] for an original of ` +
            `shape [${shape}]; one tensor is written into the original Parameter in place ` +
            "(torch's set_), so it must keep the shape: return an array ([a, b]) to register " +
            "new Parameters original0, original1, ...",
        );
      }
      if (value !== original) noGrad(() => original.copy_(value as Tensor));
      this.original = original;
    } else if (Array.isArray(value)) {
      value.forEach((t, i) => {
        if (!(t instanceof Tensor)) {
          throw new Error(
            `${where}: 'right_inverse' must return a Tensor or a Sequence of tensors (list, ` +
              `tuple...). Got element ${i} of the sequence with type ${typeName(t)}.`,
          );
        }
      });
      this.isTensor = false;
      this.ntensors = value.length;
      const fields = this as unknown as Record<string, unknown>;
      (value as Tensor[]).forEach((t, i) => {
        const copy = noGrad(() => t.detach().clone());
        fields[`original${i}`] = new Parameter(copy, original.requiresGrad);
      });
    } else {
      throw new Error(
        `${where}: 'right_inverse' must return a Tensor or a Sequence of tensors (list, ` +
          `tuple...). Got ${typeName(value)}`,
      );
    }
    if (unsafe) return;
    const z = this.forward();
    if (!(z instanceof Tensor)) {
      throw new Error(`${where}: A parametrization must return a tensor. Got ${typeName(z)}.`);
    }
    if (z.shape.join() !== shape.join()) {
      throw new Error(
        `${where}: Registering a parametrization may not change the shape of the tensor, ` +
          `unless \`unsafe\` flag is enabled.\nunparametrized shape: [${shape}]\n` +
          `parametrized shape: [${z.shape}]\n(pass { unsafe: true } as the fourth argument ` +
          "if the new shape is meant)",
      );
    }
  }

  /** The one original (torch's `original`), where `rightInverse` gave one tensor. */
  declare original: Parameter;

  /** The originals, `original` or `original0`, `original1`, ... */
  originals(): Parameter[] {
    const fields = this as unknown as Record<string, Parameter>;
    return this.isTensor
      ? [this.original]
      : Array.from({ length: this.ntensors }, (_, i) => fields[`original${i}`]);
  }

  /** The parametrized tensor: the first parametrization of the originals, then each next. */
  override forward(): Tensor {
    const calls = [...this] as unknown as Parametrization[];
    let x = calls[0](...this.originals()) as Tensor;
    for (const m of calls.slice(1)) x = m(x) as Tensor;
    return x;
  }

  /**
   * Writes into the originals the values whose parametrization is `value`:
   * each parametrization's `rightInverse`, last first, then a copy into
   * `original` (or `original0`, ...), unrecorded by autograd, as torch's.
   * Every parametrization must have a `rightInverse`.
   */
  rightInverse(value: Tensor): void {
    const where = "nn.utils.parametrize: assigning to a parametrized tensor";
    noGrad(() => {
      let v: unknown = value;
      for (const m of [...this].reverse() as unknown as Parametrization[]) {
        if (typeof m.rightInverse !== "function") {
          throw new Error(
            `${where}: parametrization ${m.constructor.name} does not implement right_inverse. ` +
              "Give it a method rightInverse(x) returning the original for x, or write into " +
              "module.parametrizations.<name>.original directly",
          );
        }
        v = m.rightInverse(v as Tensor);
      }
      const originals = this.originals();
      const values = this.isTensor ? [v] : v;
      if (this.isTensor && !(v instanceof Tensor)) {
        throw new Error(`${where}: \`right_inverse\` should return a tensor. Got ${typeName(v)}`);
      }
      if (!Array.isArray(values) || values.length !== originals.length) {
        throw new Error(
          `${where}: 'right_inverse' must return a sequence of tensors of length ` +
            `${originals.length}. Got ${describe(v)}.`,
        );
      }
      values.forEach((t, i) => {
        const name = this.isTensor ? "original" : `original${i}`;
        if (!(t instanceof Tensor)) {
          throw new Error(
            `${where}: \`right_inverse\` must return a sequence of tensors. Got element ${i} of ` +
              `type ${typeName(t)}`,
          );
        }
        if (t.shape.join() !== originals[i].shape.join()) {
          throw new Error(
            `${where}: the tensor returned by \`right_inverse\` has shape [${t.shape}] while ` +
              `\`${name}\` has shape [${originals[i].shape}]; it is written into ${name} in ` +
              "place, so rightInverse must return the original's shape",
          );
        }
      });
      values.forEach((t, i) => {
        if (t !== originals[i]) originals[i].copy_(t as Tensor);
      });
    });
  }
}
