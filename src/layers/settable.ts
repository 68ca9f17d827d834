/**
 * Settings that PyTorch users assign after construction (`bn.momentum =
 * 0.01`, `drop.p = 0`, `act.negativeSlope = 0.2`, `m.inplace = false`):
 * each is an own, enumerable property of its module, so `String(model)`,
 * `console.log(model)` and JSON show it where a plain field was, forward
 * reads it at each call, and an assignment is checked as the constructor
 * checks the value, so a bad one fails where it is written rather than at
 * the next forward (or never).
 *
 * @module
 */
import { showValue } from "../tensor/ops/show_value.ts";

/**
 * @internal Makes `name` a setting of `m`: it holds `check(initial)`, and
 * each assignment stores `check(value)`, which throws for a bad value (the
 * old one stays). `changed` runs after each accepted assignment.
 */
export function setting<T>(
  m: object,
  name: string,
  initial: unknown,
  check: (v: unknown) => T,
  changed?: (v: T) => void,
): void {
  let value = check(initial);
  Object.defineProperty(m, name, {
    configurable: true,
    enumerable: true,
    get: () => value,
    set: (v: unknown) => {
      value = check(v);
      changed?.(value);
    },
  });
}

/** @internal A check of a boolean setting: `where` names the layer ("nn.MaxPool2d"). */
export function flag(where: string, name: string): (v: unknown) => boolean {
  return (v) => {
    if (typeof v !== "boolean") {
      throw new Error(`${where}: ${name} must be true or false, got ${showValue(v)}`);
    }
    return v;
  };
}

/** @internal A check of a finite number setting. */
export function finite(where: string, name: string): (v: unknown) => number {
  return (v) => {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new Error(`${where}: ${name} must be a finite number, got ${showValue(v)}`);
    }
    return v;
  };
}

/** @internal A check of a number setting that may be infinite (a bound), not NaN. */
export function numeric(where: string, name: string): (v: unknown) => number {
  return (v) => {
    if (typeof v !== "number" || Number.isNaN(v)) {
      throw new Error(`${where}: ${name} must be a number, got ${showValue(v)}`);
    }
    return v;
  };
}

/** @internal A check of an integer setting (a dimension). */
export function integer(where: string, name: string): (v: unknown) => number {
  return (v) => {
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new Error(`${where}: ${name} must be an integer, got ${showValue(v)}`);
    }
    return v;
  };
}

/** @internal A check of a probability setting (a dropout's p): a number in [0, 1]. */
export function probability(where: string, name = "p"): (v: unknown) => number {
  return (v) => {
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
      throw new Error(`${where}: ${name} must be a number in [0, 1], got ${showValue(v)}`);
    }
    return v;
  };
}
