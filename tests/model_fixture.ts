/**
 * What the 3-D model tests (resnet3d, densenet3d) share with their fixture
 * scripts: the formula that fills a model's weights and buffers on both
 * sides (scripts/make_resnet3d_fixtures.py `value`, `formula`, `fill`), the
 * state dict as the fixtures list it, and the comparison with a stored
 * tensor, whole or sampled.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Tensor } from "../mod.ts";
import { endStep, memoryStats, nn, noGrad, optim, rand, randn, tensor, zeros } from "../mod.ts";
import { assertClose, assertShape, type Stored, testDevice } from "./helpers.ts";

/** A state-dict entry as the fixtures list it: name, shape, torch dtype. */
export type Entry = [string, number[], string];

/** A tensor whole, or sampled: every `stride`-th value, the sum and the sum of squares. */
export interface Sampled extends Stored {
  stride?: number;
  sum?: number;
  sumsq?: number;
  /** Gradients: max |torch float32 - torch float64|, the rounding allowed for. */
  noise?: number;
}

/** Frees a model's parameters and buffers. */
export function free(model: nn.Module): void {
  for (const t of model.stateDict().values()) t.dispose();
}

/** torch's dtype names for ours (num_batches_tracked is int64 there). */
export const torchDtype = (d: string) => d === "int32" ? "int64" : d;

/** Our state dict as the fixture lists it: name, shape, torch dtype. */
export const entries = (model: nn.Module): Entry[] =>
  [...model.stateDict()].map(([k, t]) => [k, [...t.shape], torchDtype(t.dtype)]);

/** The generator's `value`: exact integer arithmetic and one division, as in Python. */
const value = (p: number, i: number) => ((i * 7919 + (p + 1) * 104729) % 10007) / 10007;

/** The generator's `formula`: values lo + (hi - lo) * value(p, i), on the test device. */
export function formula(
  p: number,
  shape: number[],
  lo: number,
  hi: number,
  requiresGrad = false,
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, (_, i) => lo + (hi - lo) * value(p, i));
  return tensor(data, shape, { requiresGrad, device: testDevice });
}

/** The generator's `fill`: every parameter and buffer from the formula, by state-dict index. */
export function fill(model: nn.Module): void {
  const state = model.stateDict();
  const next = new Map<string, Tensor>();
  let p = 0;
  for (const [k, v] of state) {
    const at = p++;
    if (k.endsWith("num_batches_tracked")) {
      next.set(k, v);
      continue;
    }
    const name = k.split(".").at(-1)!;
    const isBN = v.ndim === 1 && state.has(`${k.slice(0, k.lastIndexOf("."))}.running_mean`);
    const shape = [...v.shape];
    if (name === "weight" && !isBN) {
      const b = Math.sqrt(6 / (v.numel() / v.shape[0]));
      next.set(k, formula(at, shape, -b, b));
    } else if (name === "weight" || name === "running_var") {
      next.set(k, formula(at, shape, 0.5, 1.5));
    } else if (isBN || name === "running_mean") next.set(k, formula(at, shape, -0.2, 0.2));
    else next.set(k, formula(at, shape, -0.1, 0.1));
  }
  model.loadStateDict(next, { strict: true });
  for (const [k, t] of next) if (!k.endsWith("num_batches_tracked")) t.dispose();
}

/**
 * Compares a tensor with a stored one, whole or sampled (then also its sum
 * and sum of squares); `tol.atol` is relative to the largest stored
 * magnitude, as values near 0 carry the rounding of the large ones, plus
 * `floor` (a conv bias before a training-mode batch norm has gradient 0 in
 * exact arithmetic: torch's and ours are rounding, ~1e-7) and three times
 * the stored `noise` where the fixture has one (torch's own float32
 * rounding, which a gradient through training-mode batch norms amplifies:
 * DenseNet's stem norm0 gets 2e-4 of its largest value).
 */
export function assertStored(
  actual: Tensor,
  expected: Sampled,
  relTol: { rtol: number; atol: number },
  what: string,
  floor = 1e-12,
): void {
  assertShape(actual, expected.shape, `${what}: shape`);
  const a = actual.toArray();
  const max = expected.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const tol = { rtol: relTol.rtol, atol: relTol.atol * max + floor + 3 * (expected.noise ?? 0) };
  if (expected.stride === undefined) {
    assertClose(a, expected.data, { ...tol, what });
    return;
  }
  const stride = expected.stride;
  const picked = expected.data.map((_, i) => a[i * stride]);
  assertClose(picked, expected.data, { ...tol, what: `${what} (every ${stride}th)` });
  let sum = 0, sumsq = 0;
  for (const v of a) {
    sum += v;
    sumsq += v * v;
  }
  // The sum may cancel: its tolerance scales with the values' size.
  const scale = Math.sqrt(expected.sumsq! * a.length);
  assertClose([sum], [expected.sum!], { rtol: 0, atol: tol.rtol * scale + tol.atol, what });
  assertClose([sumsq], [expected.sumsq!], { ...tol, what: `${what} sum of squares` });
}

/** Options of `assertStepsHoldMemory`. */
export interface StepsHoldMemoryOptions {
  /** The batch's labels (default [0, 2]). */
  labels?: number[];
  /** SGD's lr (default 0.01; momentum 0.9). */
  lr?: number;
  /** Then check that an eval forward under noGrad leaves only its logits (default true). */
  evalForward?: boolean;
}

/**
 * Five SGD steps of `model` (in training mode) on `x` with `labels`:
 * finite losses, every parameter a gradient, and no growth of the bytes in
 * use or taken from the system after the third (the allocator's layout
 * settles within two steps; the first also makes the optimizer's state);
 * then, with `evalForward`, an eval forward under noGrad leaves only its
 * logits. Frees `x`, the model and the optimizer.
 */
export function assertStepsHoldMemory(
  model: nn.Module,
  x: Tensor,
  { labels = [0, 2], lr = 0.01, evalForward = true }: StepsHoldMemoryOptions = {},
): void {
  const opt = new optim.SGD(model.parameters(), { lr, momentum: 0.9 });
  const lossFn = new nn.CrossEntropyLoss();
  const y = tensor(Int32Array.from(labels), [labels.length]);
  let settled = memoryStats();
  const losses: number[] = [];
  for (let step = 0; step < 5; step++) {
    opt.zeroGrad();
    const loss = lossFn.forward(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
    if (step === 2) settled = memoryStats();
  }
  const end = memoryStats();
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(model.parameters().every((p) => p.grad !== null), "every parameter has a gradient");
  assert.equal(end.bytesInUse, settled.bytesInUse, "bytes in use grew");
  assert.equal(end.bytesFromSystem, settled.bytesFromSystem, "asked the system for more");
  opt.zeroGrad();
  endStep();
  if (evalForward) {
    model.eval();
    let before = memoryStats().bytesInUse;
    const probe = zeros([2, 3]);
    const oneSmallTensor = memoryStats().bytesInUse - before; // the allocator's smallest block
    probe.dispose();
    before = memoryStats().bytesInUse;
    const logits = noGrad(() => model.forward(x));
    assert.equal(memoryStats().bytesInUse - before, oneSmallTensor, "only the logits remain");
    logits.dispose();
  }
  x.dispose();
  y.dispose();
  free(model);
  for (const s of opt.state.values()) s.tensors.forEach((t) => t.dispose());
}

/** Fills batch norms' statistics and affine parameters with seeded random values. */
export function randomiseBatchNorms(model: nn.Module): void {
  const state = new Map<string, Tensor>();
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof nn.BatchNorm2d)) continue;
    const n = m.numFeatures;
    state.set(`${name}.running_mean`, randn([n]).mul(0.2));
    state.set(`${name}.running_var`, rand([n]).add(0.5));
    state.set(`${name}.weight`, rand([n]).add(0.5));
    state.set(`${name}.bias`, randn([n]).mul(0.2));
  }
  model.loadStateDict(state, { strict: false });
  for (const t of state.values()) t.dispose();
}
