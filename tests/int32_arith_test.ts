/**
 * Integer arithmetic on int32 tensors against PyTorch 1.13's on integer
 * tensors (tests/fixtures/int32_arith.json, written by
 * scripts/make_int32_arith_fixtures.py): add and sub (with alpha), mul,
 * neg, abs, maximum, minimum, clamp and its one-sided forms, square and pow
 * give exact int32 with values near 2^31; a float32 tensor, a fractional
 * number or true division promote to float32, with torch's values and the
 * float operand's gradient; results torch's int64 holds but int32 cannot
 * are Errors, never wrapped. Then the functional forms, in-place forms and
 * the bad inputs, each with an error that says what to write.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 */
import assert from "node:assert/strict";
import {
  abs,
  add,
  clamp,
  clampMax,
  clampMin,
  div,
  exp,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  sqrt,
  square,
  sub,
  type Tensor,
  tensor,
} from "../mod.ts";
import {
  assertEqualValues,
  assertStored,
  fromStored,
  loadFixture,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

type Arg = StoredRecord | number | null;

interface Case {
  name: string;
  op: string;
  args: Arg[];
  opts: { alpha?: number };
  dtype: "int32" | "float32";
  out?: StoredRecord;
  overflow?: { shape: number[]; data: number[] };
  G?: StoredRecord;
  grads?: (StoredRecord | null)[];
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("int32_arith.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-6, 0] : [1e-5, 1e-6];

const isRecord = (a: Arg): a is StoredRecord => a !== null && typeof a === "object";

/** The case's arguments: records as tensors on the test device (float ones requiring grad). */
function argsOf(c: Case): (Tensor | number | null)[] {
  return c.args.map((a, i) =>
    isRecord(a) ? fromStored(a, { device: testDevice, requiresGrad: c.grads?.[i] != null }) : a
  );
}

/** The op as a PyTorch user writes it: the Tensor method. */
function run(c: Case, args: (Tensor | number | null)[]): Tensor {
  const [x, b, h] = args as [Tensor, Tensor & number, number | null];
  switch (c.op) {
    case "add":
      return x.add(b, c.opts);
    case "sub":
      return x.sub(b, c.opts);
    case "mul":
      return x.mul(b);
    case "div":
      return x.div(b);
    case "neg":
      return x.neg();
    case "abs":
      return x.abs();
    case "maximum":
      return x.maximum(b);
    case "minimum":
      return x.minimum(b);
    case "clamp":
      return x.clamp(b, h);
    case "clampMin":
      return x.clampMin(b);
    case "clampMax":
      return x.clampMax(b);
    case "square":
      return x.square();
    case "pow":
      return x.pow(b);
  }
  throw new Error(`unknown op ${c.op}`);
}

/** The same through the top-level functions (torch.add(x, y), torch.clamp(x, 0, 1) ...). */
function runFunctional(c: Case, args: (Tensor | number | null)[]): Tensor {
  const [x, b, h] = args as [Tensor, Tensor & number, number | null];
  switch (c.op) {
    case "add":
      return add(x, b, c.opts);
    case "sub":
      return sub(x, b, c.opts);
    case "mul":
      return mul(x, b);
    case "div":
      return div(x, b);
    case "neg":
      return neg(x);
    case "abs":
      return abs(x);
    case "maximum":
      return maximum(x, b);
    case "minimum":
      return minimum(x, b);
    case "clamp":
      return clamp(x, b, h);
    case "clampMin":
      return clampMin(x, b);
    case "clampMax":
      return clampMax(x, b);
    case "square":
      return square(x);
    case "pow":
      return pow(x, b);
  }
  throw new Error(`unknown op ${c.op}`);
}

const fits = (c: Case) => c.overflow === undefined;

Deno.test("int32 with int32 or an integer: exact int32, as torch's int64 (values near 2^31)", () => {
  const cases = fx.cases.filter((c) => c.dtype === "int32" && fits(c));
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    for (const form of [run, runFunctional]) {
      const y = form(c, argsOf(c));
      assert.equal(y.dtype, "int32", `${c.name}: dtype`);
      assert.equal(y.device, testDevice, `${c.name}: device`);
      assert.equal(y.requiresGrad, false, `${c.name}: an integer result takes no gradient`);
      assert.deepEqual([...y.shape], c.out!.shape, `${c.name}: shape`);
      assertEqualValues(y, c.out!.data as number[], c.name);
    }
  }
});

Deno.test("a float32 tensor, a fractional number or true division: float32, torch's values and gradients", () => {
  const cases = fx.cases.filter((c) => c.dtype === "float32");
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    const args = argsOf(c);
    const y = run(c, args);
    assert.equal(y.dtype, "float32", `${c.name}: dtype`);
    assertStored(y, c.out!, c.name, rtol, atol);
    if (!c.grads) {
      assert.equal(y.requiresGrad, false, `${c.name}: no float input, no gradient`);
      continue;
    }
    y.mul(fromStored(c.G!, { device: testDevice })).sum().backward();
    c.grads.forEach((g, i) => {
      if (g) assertStored((args[i] as Tensor).grad, g, `${c.name}: grad ${i}`, rtol, atol);
    });
    assertStored(runFunctional(c, argsOf(c)), c.out!, `${c.name} (functional)`, rtol, atol);
  }
});

Deno.test("results int32 cannot hold are Errors that say what to write, never wrapped", () => {
  const cases = fx.cases.filter((c) => !fits(c));
  assert.ok(cases.length >= 10);
  for (const c of cases) {
    // torch's int64 gives these exactly; int32 would wrap them.
    assert.ok(c.overflow!.data.some((v) => v < -(2 ** 31) || v >= 2 ** 31), c.name);
    const want = c.name === "alpha overflow"
      ? /^Error: (x\.add \(alpha 2\): )?mul: /
      : new RegExp(`^Error: ${c.op === "square" ? "mul" : c.op}: `);
    for (const form of [run, runFunctional]) {
      assert.throws(() => form(c, argsOf(c)), want, c.name);
      assert.throws(
        () => form(c, argsOf(c)),
        /is beyond int32, this library's integer type \(torch's int64 holds it\); convert to float32 first \(x\.float\(\)\)/,
        c.name,
      );
    }
  }
  const big = tensor(new Int32Array([2 ** 31 - 1]), [1], { device: testDevice });
  assert.throws(() => big.add(1), /^Error: add: 2147483647 \+ 1 = 2147483648 is beyond int32/);
  assert.throws(() => big.mul(2 ** 40), /^Error: mul: 2147483647 \* 1099511627776 = /);
  assert.throws(
    () => big.clamp(2 ** 32),
    /^Error: clamp: clamp\(2147483647, 4294967296, null\) = /,
  );
  // A bound beyond int32 that no value takes is no error: the values are exact.
  assertEqualValues(big.clamp(-(2 ** 40), 2 ** 40), [2 ** 31 - 1]);
  assertEqualValues(big.mul(0), [0]);
});

Deno.test("int32 bad inputs: torch's refusals, and the float-only ops keep their message", () => {
  const y = tensor(new Int32Array([1, -2, 3]), [3], { device: testDevice });
  assert.throws(
    () => y.add(y, { alpha: 0.5 }),
    /^Error: x\.add: alpha must be an integer for int32 operands, got 0\.5 \(torch: "For integral input tensors, argument alpha must not be a floating point number"\); write x\.float\(\)\.add\(y, \{ alpha: 0\.5 \}\)/,
  );
  assert.throws(() => y.sub(2, { alpha: 1.5 }), /^Error: x\.sub: alpha must be an integer/);
  assert.throws(() => y.add(y, { alhpa: 2 } as never), /x\.add: unknown option 'alhpa'/);
  assert.throws(
    () => y.pow(-1),
    /^Error: pow: an int32 tensor to a negative integer power -1 \(torch: "Integers to negative integer powers are not allowed"\); write x\.float\(\)\.pow\(-1\)/,
  );
  assert.throws(
    () => y.add(tensor(new Int32Array([1, 2]), [2], { device: testDevice })),
    /^Error: add: shapes \[3\] and \[2\] cannot be broadcast together/,
  );
  assert.throws(
    () => y.maximum(2 as never),
    /x\.maximum: takes a Tensor, got number; against a number write x\.clampMin\(0\)/,
  );
  assert.throws(() => y.clamp(), /^Error: clamp: at least one of min and max must be given/);
  assert.throws(
    () => y.clamp(y as never, 1),
    /^Error: clamp: min must be a number, null or undefined, got a Tensor/,
  );
  // torch's rounding_mode= is there now: int32 stays int32, rounded toward -inf.
  assert.deepEqual(
    Array.from(y.div(2, { roundingMode: "floor" }).toArray()),
    Array.from(y.toArray(), (v) => Math.floor(v / 2)),
  );
  assert.equal(y.div(2, { roundingMode: "floor" }).dtype, "int32");
  assert.throws(
    () => y.add("1" as never),
    /x\.add: the operand must be a Tensor or a number, got string/,
  );
  for (const [name, f] of [["exp", exp], ["sqrt", sqrt]] as const) {
    assert.throws(
      () => f(y),
      new RegExp(
        `^Error: ${name}: expected a float32 tensor, got int32 \\[3\\]; convert it with \\.float\\(\\)`,
      ),
    );
  }
  assert.throws(() => y.sigmoid(), /^Error: sigmoid: expected a float32 tensor, got int32/);
  assert.throws(() => pow(2, y), /^Error: pow: expected a float32 tensor, got int32/);
  assert.throws(() => y.requiresGrad_(), /only float32 tensors can require gradients/);
});

Deno.test("int32 in-place forms write int32; a float32 result into an int32 tensor is refused", () => {
  const y = tensor(new Int32Array([1, -2, 3]), [3], { device: testDevice });
  y.add_(1).mul_(3).sub_(tensor(new Int32Array([1]), [1], { device: testDevice }));
  assertEqualValues(y, [5, -4, 11]);
  y.clamp_(0, 6);
  assertEqualValues(y, [5, 0, 6]);
  assert.equal(y.dtype, "int32");
  assert.throws(() => y.div_(2), /x\.div_: the result is float32, the tensor int32/);
  assert.throws(() => y.add_(0.5), /x\.add_: the result is float32, the tensor int32/);
});

Deno.test("labels arithmetic as PyTorch code writes it: labels - 1, 2 * y, (y == c) counts", () => {
  const labels = tensor(new Int32Array([1, 2, 3, 2]), [4], { device: testDevice });
  const shifted = labels.sub(1);
  assert.equal(shifted.dtype, "int32");
  assertEqualValues(shifted, [0, 1, 2, 1]);
  assertEqualValues(shifted.mul(2).add(shifted).neg().abs(), [0, 3, 6, 3]);
  assertEqualValues(shifted.sum(), [4]);
  // A float32 operand: torch's promotion, with the gradient to the float side only.
  const w = tensor([0.5, 1, 2, 4], undefined, { requiresGrad: true, device: testDevice });
  const loss = w.mul(shifted).sum();
  assert.equal(loss.item(), 0 + 1 + 4 + 4);
  loss.backward();
  assert.deepEqual([...w.grad!.toArray()], [0, 1, 2, 1]);
  assert.deepEqual([...labels.div(2).toArray()], [0.5, 1, 1.5, 1]);
});
