/**
 * Shared test helpers: fixture loading, tensors from fixture records and
 * closeness checks that report the worst element.
 *
 * `LITS_TEST_DEVICE=cuda` runs the fixture-driven op tests (ops_test.ts) on
 * the GPU: they create their tensors with `fromStored(s, { device:
 * testDevice })`. Other tests stay on the CPU.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Device,
  functional as F,
  manualSeed,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { resetWarnings } from "../src/eval/metrics/pairs.ts";
import { cpuInfo } from "../bench/peak.ts";

/** Whether this CPU has AVX-512 (the CPU kernels that need it run here; elsewhere their fallbacks). */
export const AVX512: boolean = cpuInfo().avx512;

/** The device of the op tests: `LITS_TEST_DEVICE` (cpu or cuda), default cpu. */
export const testDevice: Device = (() => {
  const d = Deno.env.get("LITS_TEST_DEVICE") ?? "cpu";
  if (d !== "cpu" && d !== "cuda") {
    throw new Error(`LITS_TEST_DEVICE must be 'cpu' or 'cuda', got '${d}'`);
  }
  return d;
})();

/** A stored number: JSON has no NaN or infinities, so the generators write them as strings. */
export type StoredNumber = number | "nan" | "inf" | "-inf";

/** The number a stored one stands for. */
export const storedNumber = (v: StoredNumber): number =>
  v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;

/** A tensor as the fixtures store it. */
export interface Stored {
  shape: number[];
  data: number[];
  dtype?: "int32";
  grad?: boolean;
}

/** The same, where the data may hold NaN and infinities as strings. */
export interface StoredRecord extends Omit<Stored, "data"> {
  data: StoredNumber[];
}

/** Parses a JSON fixture next to this file (tests/fixtures/NAME). */
export function loadFixture<T = unknown>(name: string): T {
  return JSON.parse(Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url))) as T;
}

/** A tensor from a stored record (int32 when the record says so), on `device` (default cpu). */
export function fromStored(
  s: Stored | StoredRecord,
  options: { requiresGrad?: boolean; device?: Device } = {},
): Tensor {
  const requiresGrad = options.requiresGrad ?? s.grad ?? false;
  const device = options.device ?? "cpu";
  if (s.dtype === "int32") {
    return tensor(Int32Array.from(s.data, storedNumber), [...s.shape], { dtype: "int32", device });
  }
  return tensor(Float32Array.from(s.data, storedNumber), [...s.shape], { requiresGrad, device });
}

/** Values of a tensor or a plain array as numbers. */
function valuesOf(x: Tensor | ArrayLike<number>): ArrayLike<number> {
  return "toArray" in x && typeof (x as Tensor).toArray === "function"
    ? (x as Tensor).toArray()
    : x as ArrayLike<number>;
}

/** Tolerances of `assertClose`. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** What is compared, for the message. */
  what?: string;
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise
 * (null in `expected` stands for NaN/inf and is skipped); the error names
 * the worst element.
 */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: ArrayLike<number | null>,
  options: CloseOptions = {},
): void {
  const { rtol = 1e-5, atol = 1e-6, what = "values" } = options;
  const a = valuesOf(actual);
  if (a.length !== expected.length) {
    throw new Error(`${what}: length ${a.length}, expected ${expected.length}`);
  }
  let worst = -1, worstExcess = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const e = expected[i];
    if (e === null) continue;
    const diff = Math.abs(a[i] - e);
    const allowed = atol + rtol * Math.abs(e);
    if (!(diff <= allowed)) {
      count++;
      const excess = Number.isNaN(diff) ? Infinity : diff / allowed;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    const e = expected[worst] as number;
    const shown = Array.from({ length: Math.min(a.length, 6) }, (_, i) => `${a[i]}~${expected[i]}`)
      .join(", ");
    throw new Error(
      `${what}: ${count} of ${a.length} elements differ; worst at [${worst}]: got ${
        a[worst]
      }, expected ${e} ` +
        `(|diff| ${Math.abs(a[worst] - e).toExponential(3)}, allowed ${
          (atol + rtol * Math.abs(e)).toExponential(3)
        }); ` +
        `first: ${shown}`,
    );
  }
}

/**
 * Asserts `t` has a stored record's shape and values (torch's, from a
 * fixture): each within atol + rtol |expected|, NaN and the infinities
 * exactly where torch has them. `t` null (a missing gradient) fails.
 */
export function assertStored(
  t: Tensor | null,
  want: StoredRecord,
  what: string,
  rtol = 1e-5,
  atol = 1e-6,
): void {
  assert.ok(t, `${what}: missing`);
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  const got = t.toArray();
  want.data.forEach((w, i) => {
    const e = storedNumber(w), a = got[i];
    if (!Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(e) && Number.isNaN(a)), `${what}[${i}]: ${a}`);
      return;
    }
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, want ${e}`);
  });
}

/** Asserts two shapes are equal. */
export function assertShape(t: Tensor, expected: readonly number[], what = "shape"): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${what}: got [${t.shape}], expected [${expected}]`);
  }
}

/** Asserts exact equality of integer values. */
export function assertEqualValues(
  actual: Tensor | ArrayLike<number>,
  expected: ArrayLike<number>,
  what = "values",
): void {
  const a = valuesOf(actual);
  if (a.length !== expected.length) {
    throw new Error(`${what}: length ${a.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== expected[i]) {
      throw new Error(
        `${what}: element [${i}] is ${a[i]}, expected ${expected[i]} (got [${
          Array.from(a).slice(0, 12)
        }])`,
      );
    }
  }
}

/** Mean and (population) variance of values. */
export function moments(
  values: ArrayLike<number>,
): { mean: number; variance: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    s += values[i];
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const mean = s / values.length;
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - mean) ** 2;
  return { mean, variance: v / values.length, min, max };
}

/**
 * Runs fn with environment variables set (undefined: unset), restoring them
 * after: the native side reads LITS_CONV_ALGO and the like on every call.
 */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const was = Object.keys(vars).map((k) => [k, Deno.env.get(k)] as const);
  for (const [k, v] of Object.entries(vars)) {
    v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of was) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
  }
}

/**
 * fn's result, and how many times the CPU library's functions `names` ran
 * during it (all of them together).
 */
export function countCalls<T>(names: string[], fn: () => T): [T, number] {
  const counter = countingCalls(names);
  try {
    return [fn(), counter.calls()];
  } finally {
    counter.restore();
  }
}

/** countCalls for an async `fn` (an in-process command main): counts until it settles. */
export async function countCallsAsync<T>(
  names: string[],
  fn: () => Promise<T>,
): Promise<[T, number]> {
  const counter = countingCalls(names);
  try {
    return [await fn(), counter.calls()];
  } finally {
    counter.restore();
  }
}

/**
 * fn() with the CPU library's optional functions `names` hidden (null), as
 * on a backend without them: the op takes its composed path.
 */
export function withoutSymbols<T>(names: string[], fn: () => T): T {
  const lib = cpuLib() as unknown as Record<string, unknown>;
  const saved = names.map((name) => lib[name]);
  saved.forEach((f, i) => assert.ok(f, `${names[i]} is in the CPU library`));
  names.forEach((name) => lib[name] = null);
  try {
    return fn();
  } finally {
    names.forEach((name, i) => lib[name] = saved[i]);
  }
}

/** fn() with the CPU library's OpenMP threads set to `threads`, restoring the count after. */
export function withThreads<T>(threads: number, fn: () => T): T {
  const lib = cpuLib(), before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  assert.equal(lib.lits_set_num_threads(threads), 0);
  try {
    return fn();
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
}

/** The CPU library's functions `names` wrapped to count their calls, until restore(). */
function countingCalls(names: string[]) {
  const lib = cpuLib() as unknown as Record<string, (...a: unknown[]) => number>;
  const saved = names.map((name) => lib[name]);
  let calls = 0;
  names.forEach((name, i) => lib[name] = (...a: unknown[]) => (calls++, saved[i](...a)));
  return { calls: () => calls, restore: () => names.forEach((name, i) => lib[name] = saved[i]) };
}

/** got and want are the same bits (NaN payloads aside, -0 not +0): names the first that is not. */
export function assertBits(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, what);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, want ${want[i]}`);
}

/** Runs `fn` with op fusion (deferral) on and off; returns both results' values. */
export function fusedAndPlain(fn: () => Tensor[]): [Float32Array[], Float32Array[]] {
  const run = (on: boolean) => {
    const was = setFusion(on);
    try {
      return scope(() => fn().map((t) => t.toArray() as Float32Array));
    } finally {
      setFusion(was);
    }
  };
  return [run(true), run(false)];
}

/**
 * Random running statistics and affine parameters of a batch norm of k
 * channels in evaluation (drawn on the host, then on `device`).
 */
export function randomEvalStats(k: number, device: Device = "cpu") {
  return {
    runningMean: randn([k]).to(device),
    runningVar: randn([k]).abs().add(0.5).to(device),
    weight: randn([k]).to(device),
    bias: randn([k]).to(device),
    eps: 1e-5,
  };
}

/**
 * Each of got within rel * (|want| + mean|want|) + 1e-30 of want: a fused
 * kernel's result against the ops one by one, which sum in another order.
 */
export function assertNearMean(
  got: Float32Array,
  want: Float32Array,
  rel: number,
  what: string,
): void {
  assert.equal(got.length, want.length, what);
  let scale = 0;
  want.forEach((v) => scale += Math.abs(v));
  scale /= Math.max(1, want.length);
  got.forEach((v, i) =>
    assert.ok(
      Math.abs(v - want[i]) <= rel * (Math.abs(want[i]) + scale) + 1e-30,
      `${what}: element ${i} is ${v}, want ${want[i]}`,
    )
  );
}

/**
 * Runs `f` with console.warn captured, the metrics' once-only warnings
 * reset first: its value or its error, and what it warned.
 */
export function captureWarnings(
  f: () => unknown,
): { value?: unknown; error?: Error; warned: string[] } {
  const warned: string[] = [];
  const original = console.warn;
  console.warn = (msg: string) => void warned.push(msg);
  resetWarnings();
  try {
    return { value: f(), warned };
  } catch (e) {
    return { error: e as Error, warned };
  } finally {
    console.warn = original;
  }
}

/** The message of the Error that `f` throws (the test fails when it throws nothing). */
export function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail("expected an Error");
}

/**
 * Two residual blocks: the first block's output feeds the second's
 * convolution and its shortcut, so its gradient is the sum of two branches.
 * Deferred, that sum is never written: the first block's ReLU backward adds
 * it as it masks (the ReLU backward's dy2). Both ReLU outputs are read
 * (by a convolution, by the sum), so both are written in the forward. Returns
 * the output and every gradient.
 */
export function twoBlocks(): Tensor[] {
  manualSeed(13);
  const input = randn([2, 3, 9, 7], { requiresGrad: true });
  const w0 = randn([4, 3, 1, 1], { requiresGrad: true });
  const w1 = randn([4, 4, 3, 3], { requiresGrad: true });
  const w2 = randn([4, 4, 1, 1], { requiresGrad: true });
  const g = randn([4], { requiresGrad: true }), b = randn([4], { requiresGrad: true });
  const bn = (t: Tensor) => F.batchNorm(t, null, null, g, b, { training: true });
  const x = F.conv2d(input, w0, null); // an op result, as a block's input is
  const a = F.relu(bn(F.conv2d(x, w1, null, { padding: 1 })).add(x));
  const out = F.relu(bn(F.conv2d(a, w2, null)).add(a));
  out.sum().backward(); // (a product here would call lits_binary_f32 for its own gradient)
  return [out, input.grad!, w0.grad!, w1.grad!, w2.grad!, g.grad!, b.grad!];
}
