/**
 * The argument checks of Tensor's methods: counts, operands, options, and
 * an assigned `.grad`, each failing with what to write instead.
 *
 * @module
 */
import { Tensor } from "./tensor.ts";
import * as ew from "./ops/elementwise.ts";
import { checkOptions, moduleName } from "../options.ts";

/**
 * Throws when a method gets more arguments than it takes: JavaScript drops
 * them, so torch's `x.sum(1, true, dtype)` habit or C++'s `slice(dim, start,
 * end)` would run as something else.
 */
export function atMost(where: string, given: number, most: number, usage: string): void {
  if (given <= most) return;
  throw new Error(
    `${where}: takes at most ${most} argument${
      most === 1 ? "" : "s"
    }, got ${given}; write ${usage}`,
  );
}

/** PyTorch's checks of an assigned `.grad`: it must match the tensor it is the gradient of. */
export function checkAssignedGrad(t: Tensor, g: Tensor): void {
  if (!(g instanceof Tensor)) {
    throw new Error(`grad: assigned value must be a Tensor or null, got ${typeof g}`);
  }
  const what = g.shape.join() !== t.shape.join()
    ? `a different size: [${g.shape}] for tensor [${t.shape}]`
    : g.dtype !== t.dtype
    ? `a different type: ${g.dtype} for a ${t.dtype} tensor`
    : g.device !== t.device
    ? `data located on a different device: ${g.device} for a tensor on ${t.device}`
    : !g.isAlive
    ? "been released (disposed, or freed at a step boundary)"
    : null;
  if (what !== null) throw new Error(`grad: assigned grad has ${what}`);
}

/** A binary op's other operand: a tensor or a number, else an Error naming the method. */
export function operand(where: string, other: unknown): Tensor | number {
  if (other instanceof Tensor || typeof other === "number") return other;
  const module = moduleName(other);
  const got = other === null
    ? "null"
    : module
    ? `an nn.${module} (a module: call it, model(x), for its output)`
    : typeof other;
  throw new Error(`x.${where}: the operand must be a Tensor or a number, got ${got}`);
}

/** maximum/minimum take a tensor, as torch's; a number has its own method. */
export function tensorOperand(where: string, other: unknown, numberForm: string): void {
  if (other instanceof Tensor) return;
  const got = other === null ? "null" : typeof other;
  throw new Error(`x.${where}: takes a Tensor, got ${got}; against a number write ${numberForm}`);
}

/**
 * `other * alpha` for add and sub's `{ alpha }` (torch's alpha=); `self`, the
 * tensor added to, refuses a fractional alpha where both are integers, as torch.
 */
export function scaled(
  where: string,
  other: Tensor | number,
  options: { alpha?: number },
  self?: Tensor,
): Tensor | number {
  const o = checkOptions<{ alpha?: number }>(
    `x.${where}`,
    options,
    ["alpha"],
    `x.${where}(y, { alpha: 2 })`,
  );
  if (o.alpha === undefined || o.alpha === 1) return other;
  if (typeof o.alpha !== "number") {
    throw new Error(`x.${where}: alpha must be a number, got ${typeof o.alpha}`);
  }
  const integral = typeof other === "number" ? Number.isInteger(other) : other.dtype === "int32";
  if (self?.dtype === "int32" && integral && !Number.isInteger(o.alpha)) {
    throw new Error(
      `x.${where}: alpha must be an integer for int32 operands, got ${o.alpha} (torch: "For ` +
        `integral input tensors, argument alpha must not be a floating point number"); write ` +
        `x.float().${where}(y, { alpha: ${o.alpha} })`,
    );
  }
  if (typeof other === "number") return other * o.alpha;
  try {
    return ew.mul(other, o.alpha);
  } catch (e) {
    // An int32 alpha * other past int32: say it is the call's alpha, not a mul of the user's.
    throw new Error(`x.${where} (alpha ${o.alpha}): ${(e as Error).message}`);
  }
}
