/**
 * The strided inputs of the view tests (habits_s10_test.ts,
 * review_view_test.ts): a fixture's ops applied in our spelling, and a
 * base tensor of 0, 1, 2, ...
 */
import { type Tensor, tensor } from "../mod.ts";

/** One view op of a fixture: its name and arguments. */
export type Op = [string, ...unknown[]];

/** The case's view ops as we spell them (x[:, ::2] is x.unfold(1, 1, 2).squeeze(-1)). */
export function apply(x: Tensor, ops: Op[]): Tensor {
  for (const [name, ...a] of ops) {
    const n = a as number[];
    if (name === "t") x = x.transpose(n[0], n[1]);
    else if (name === "permute") x = x.permute(a[0] as number[]);
    else if (name === "narrow") x = x.narrow(n[0], n[1], n[2]);
    else if (name === "step") x = x.unfold(n[0], 1, n[1]).squeeze(-1);
    else if (name === "select") x = x.select(n[0], n[1]);
    else if (name === "expand") x = x.expand(a[0] as number[]);
    else if (name === "unsqueeze") x = x.unsqueeze(n[0]);
    else throw new Error(`unknown op ${name}`);
  }
  return x;
}

/** 0, 1, 2, ... in `shape` (float32). */
export function base(shape: number[], requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, (_, i) => i), shape, { requiresGrad });
}

/** The values in logical order. */
export const flat = (t: Tensor): number[] => Array.from(t.contiguous().toArray());
