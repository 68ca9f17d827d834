/**
 * tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, erf, erfc, erfinv
 * and atan2 against PyTorch 1.13's CPU numbers (tests/fixtures/trig_more.json,
 * written by scripts/make_trig_more_fixtures.py): values at each op's edges
 * (domain ends, one ulp inside and outside them, overflow, NaN and the
 * infinities, the sign of zero) and at random points, and the gradients of
 * L = sum(out * G) for a fixed random G; int32 inputs promoted to float32 as
 * torch's; the methods and torch's arc* aliases; bad inputs, each with an
 * Error that says what to write; the native op codes' range.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 */
import assert from "node:assert/strict";
import * as L from "../mod.ts";
import { scope, type Tensor, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { BINARY_OP, UNARY_OP } from "../src/ffi/codes.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  storedNumber,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

interface Case {
  name: string;
  op: string;
  inputs: StoredRecord[];
  out: StoredRecord;
  G: StoredRecord;
  grads: StoredRecord[];
}

const fx = loadFixture<{
  torch: string;
  cases: Case[];
  ints: StoredRecord;
  intsOther: number[];
  promoted: Record<string, StoredRecord>;
}>("trig_more.json");

const UNARY = [
  "tan",
  "asin",
  "acos",
  "atan",
  "sinh",
  "cosh",
  "asinh",
  "acosh",
  "atanh",
  "erf",
  "erfc",
  "erfinv",
] as const;
type UnaryOp = typeof UNARY[number];

const OPS: Record<string, (x: Tensor[]) => Tensor> = {
  ...Object.fromEntries(UNARY.map((op) => [op, ([x]: Tensor[]) => L[op](x)])),
  atan2: ([a, b]) => L.atan2(a, b),
};

// On the CPU relative only, 1e-5: the small values are these ops' point (erfc's tail,
// asin(1e-8), atanh near 0), and libm's agree with torch's there to float32 rounding.
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-38] : [1e-4, 1e-5];
// CUDA's erfinv is its erfinvf, torch's CPU one Pavlis' approximation (within 3.3e-6 of
// the exact value near ±1, where erfinv's gradient e^(y^2) makes that up to 7.5e-5).
const rtolOf = (op: string) => op === "erfinv" && testDevice !== "cpu" ? 1e-3 : rtol;

/**
 * assertStored; with `signs`, the sign of each zero torch gives too (tan(-0) = -0, and the
 * quadrant of atan2(±0, ±0)). Not for gradients: the sign of a zero gradient is how torch's
 * graph happened to add it up.
 */
function assertMatches(
  t: Tensor | null,
  want: StoredRecord,
  what: string,
  signs = true,
  absolute = atol,
  relative = rtol,
): void {
  assertStored(t, want, what, relative, absolute);
  if (!signs) return;
  const got = t!.toArray();
  want.data.forEach((w, i) => {
    const e = storedNumber(w);
    if (e === 0) assert.ok(Object.is(got[i], e), `${what}[${i}]: got ${got[i]}, want ${e}`);
  });
}

Deno.test("trig more: the fixture is torch 1.13's and covers every op", () => {
  assert.match(fx.torch, /^1\.13/);
  const seen = new Set(fx.cases.map((c) => c.op));
  for (const op of Object.keys(OPS)) assert.ok(seen.has(op), `no fixture case for ${op}`);
});

for (const c of fx.cases) {
  Deno.test(`trig more: ${c.name}`, () => {
    scope(() => {
      const inputs = c.inputs.map((r) => fromStored(r, { requiresGrad: true, device: testDevice }));
      const out = OPS[c.op](inputs);
      assert.equal(out.dtype, "float32");
      assert.equal(out.device, testDevice);
      assertMatches(out, c.out, `${c.name}: out`, true, atol, rtolOf(c.op));
      out.mul(fromStored(c.G, { device: testDevice })).sum().backward();
      c.grads.forEach((g, k) =>
        assertMatches(
          inputs[k].grad,
          g,
          `${c.name}: grad of input ${k}`,
          false,
          atol,
          rtolOf(c.op),
        )
      );
    });
  });
}

Deno.test({
  name: "trig more: the CPU's erfinv is torch's calc_erfinv, within an ulp at every point",
  ignore: testDevice !== "cpu",
  fn() {
    // The same float32 steps as torch's (rational start, two Newton steps): bit for bit here;
    // one step fewer is off by up to 1.6e-7, two ulps.
    scope(() => {
      for (const c of fx.cases.filter((c) => c.op === "erfinv")) {
        const x = fromStored(c.inputs[0]);
        const got = L.erfinv(x).toArray();
        c.out.data.forEach((w, i) => {
          const e = storedNumber(w);
          if (!Number.isFinite(e)) return assert.ok(Object.is(got[i], e));
          const ulp = 2 ** (Math.floor(Math.log2(Math.abs(e))) - 23);
          assert.ok(Math.abs(got[i] - e) <= ulp, `${c.name}[${i}]: got ${got[i]}, want ${e}`);
        });
      }
    });
  },
});

Deno.test("trig more: int32 inputs give float32, as torch promotes them", () => {
  scope(() => {
    const ints = fromStored(fx.ints, { device: testDevice });
    assert.equal(ints.dtype, "int32");
    for (const op of UNARY) {
      const y = L[op](ints);
      assert.equal(y.dtype, "float32", op);
      assertMatches(y, fx.promoted[op], `${op}(int32)`);
      assertMatches(ints[op](), fx.promoted[op], `x.${op}() of int32`);
    }
    const other = tensor(Int32Array.from(fx.intsOther), [fx.intsOther.length], {
      dtype: "int32",
      device: testDevice,
    });
    assertMatches(L.atan2(ints, other), fx.promoted.atan2, "atan2(int32, int32)");
    assertMatches(L.atan2(ints, other.float()), fx.promoted.atan2, "atan2(int32, float32)");
    assertMatches(ints.atan2(other), fx.promoted.atan2, "x.atan2(other) of int32");
  });
});

Deno.test("trig more: methods and torch's arc* aliases give the functions' values and gradients", () => {
  scope(() => {
    const v = [-0.75, -0.2, 0, 0.4, 0.9];
    const x = () => tensor(v, [5], { requiresGrad: true, device: testDevice });
    const pairs: [string, (t: Tensor) => Tensor, (t: Tensor) => Tensor][] = [
      ...UNARY.map((op): [string, (t: Tensor) => Tensor, (t: Tensor) => Tensor] => [
        `x.${op}()`,
        (t) => t[op](),
        (t) => L[op](t),
      ]),
      ["arcsin", L.arcsin, L.asin],
      ["arccos", L.arccos, L.acos],
      ["arctan", L.arctan, L.atan],
      ["arcsinh", L.arcsinh, L.asinh],
      ["arccosh", (t) => L.arccosh(t.add(2)), (t) => L.acosh(t.add(2))],
      ["arctanh", L.arctanh, L.atanh],
      ["x.arcsin()", (t) => t.arcsin(), L.asin],
      ["x.arccos()", (t) => t.arccos(), L.acos],
      ["x.arctan()", (t) => t.arctan(), L.atan],
      ["x.arcsinh()", (t) => t.arcsinh(), L.asinh],
      ["x.arccosh()", (t) => t.add(2).arccosh(), (t) => L.acosh(t.add(2))],
      ["x.arctanh()", (t) => t.arctanh(), L.atanh],
      ["arctan2", (t) => L.arctan2(t, t.add(1)), (t) => L.atan2(t, t.add(1))],
      ["x.atan2()", (t) => t.atan2(t.add(1)), (t) => L.atan2(t, t.add(1))],
      ["x.arctan2()", (t) => t.arctan2(t.add(1)), (t) => L.atan2(t, t.add(1))],
    ];
    for (const [what, f, g] of pairs) {
      const a = x(), b = x();
      const ya = f(a), yb = g(b);
      assert.deepEqual(ya.toArray(), yb.toArray(), `${what}: values`);
      ya.sum().backward();
      yb.sum().backward();
      assert.deepEqual(a.grad!.toArray(), b.grad!.toArray(), `${what}: gradient`);
    }
  });
});

Deno.test("trig more: strided inputs, large tensors (threads) and no gradient for constants", () => {
  scope(() => {
    const dev = { device: testDevice };
    // A transposed view reads as its dense copy.
    const m = tensor([[0.1, 0.2, 0.3], [-0.4, -0.5, 0.6]], [2, 3], dev);
    for (const op of UNARY) {
      assert.deepEqual(L[op](m.t()).toArray(), L[op](m.t().contiguous()).toArray(), op);
    }
    const n = tensor([[1, -2], [3, 0.5], [-1, 2]], [3, 2], dev);
    assert.deepEqual(
      L.atan2(m.t(), n).toArray(),
      L.atan2(m.t().contiguous(), n).toArray(),
      "atan2 of a transposed view",
    );
    // Past the CPU kernels' thread threshold, every element as the small tensor's.
    const base = [-1.5, -1, -0.5, 0, 0.5, 0.99, 1, 3];
    const reps = 5000;
    const big = tensor(Array.from({ length: base.length * reps }, (_, i) => base[i % 8]), [
      base.length * reps,
    ], dev);
    const small = tensor(base, [8], dev);
    for (const op of [...UNARY, "atan2"] as const) {
      const f = (t: Tensor) => op === "atan2" ? L.atan2(t, t.flip([0])) : L[op as UnaryOp](t);
      const want = f(small).toArray();
      const got = op === "atan2"
        ? L.atan2(big, tensor(base.slice().reverse(), [8], dev).repeat([reps])).toArray()
        : f(big).toArray();
      for (let i = 0; i < got.length; i++) {
        const w = want[i % 8];
        assert.ok(Object.is(got[i], w), `${op} at ${i}: got ${got[i]}, want ${w}`);
      }
    }
    // No input requires a gradient: none is recorded.
    const y = L.atan2(small, small);
    assert.equal(y.requiresGrad, false);
    assert.equal(L.erfinv(small).requiresGrad, false);
  });
});

Deno.test("trig more: a number operand of atan2 is a 0-d tensor", () => {
  scope(() => {
    const y = tensor([1, -1, 0], [3], { requiresGrad: true, device: testDevice });
    const out = L.atan2(y, -2);
    const want = [1, -1, 0].map((v) => Math.fround(Math.atan2(v, -2)));
    assert.deepEqual([...out.toArray()], want);
    out.sum().backward();
    // d/dy = x / (x² + y²)
    assert.deepEqual(
      [...y.grad!.toArray()],
      [1, -1, 0].map((v) => Math.fround(Math.fround(-2) * Math.fround(1 / (v * v + 4)))),
    );
    const x = tensor([2, -2], [2], { device: testDevice });
    assert.deepEqual([...L.atan2(0.5, x).toArray()], [
      Math.fround(Math.atan2(0.5, 2)),
      Math.fround(Math.atan2(0.5, -2)),
    ]);
  });
});

const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
type Loose = (...a: unknown[]) => Tensor;

Deno.test("trig more: bad inputs give Errors that say what to write", () => {
  scope(() => {
    const x = tensor([0.5, 0.25]);
    for (const op of UNARY) {
      const f = L[op] as unknown as Loose;
      throws(
        () => f(0.5),
        new RegExp(`^Error: ${op}: expected a Tensor, got number; write ${op}\\(x\\)`),
      );
      throws(() => f([0.5]), new RegExp(`${op}: expected a Tensor, got an array`));
      throws(() => f(null), new RegExp(`${op}: expected a Tensor, got null`));
      throws(() => f(undefined), new RegExp(`${op}: expected a Tensor, got undefined`));
      throws(
        () => f(x, 1),
        new RegExp(`${op}: takes one tensor, got 2 arguments; write ${op}\\(x\\)`),
      );
      const m = (x as unknown as Record<string, Loose>)[op];
      throws(() => m.call(x, 1), new RegExp(`${op}: takes at most 0 arguments, got 1`));
    }
    for (const alias of ["arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh"] as const) {
      const f = L[alias] as unknown as Loose;
      throws(
        () => f("x"),
        new RegExp(`${alias}: expected a Tensor, got string; write ${alias}\\(x\\)`),
      );
      throws(() => f(x, x), new RegExp(`${alias}: takes one tensor`));
    }
    const atan2 = L.atan2 as unknown as Loose;
    throws(() => atan2(x), /atan2: takes 2 arguments \(input, other\), got 1; write atan2\(y, x\)/);
    throws(() => atan2(x, x, x), /atan2: takes 2 arguments/);
    throws(() => atan2(1, 2), /atan2: expected at least one Tensor.*Math\.atan2\(y, x\)/);
    throws(() => atan2(x, [1, 2]), /atan2: other: expected a Tensor, got an array/);
    throws(() => atan2("1", x), /atan2: input: expected a Tensor, got string/);
    throws(() => atan2(x, tensor([1, 2, 3])), /atan2: shapes \[2\] and \[3\] cannot be broadcast/);
    throws(() => (L.arctan2 as unknown as Loose)(x), /arctan2: takes 2 arguments.*arctan2\(y, x\)/);
    throws(() => (x.atan2 as unknown as Loose).call(x, x, x), /atan2: takes at most 1 argument/);
    throws(
      () => (x.atan2 as unknown as Loose).call(x),
      /atan2: other: expected a Tensor, got undefined/,
    );
  });
});

Deno.test("trig more: the native library refuses op codes past the last", () => {
  const lib = cpuLib();
  const x = new Float32Array([0.5]), y = new Float32Array(1);
  const p = (a: Float32Array) => Deno.UnsafePointer.of(a);
  const last = Math.max(...Object.values(UNARY_OP));
  assert.equal(last, UNARY_OP.erfinv);
  assert.equal(lib.lits_unary_f32(last, p(x), p(y), 1, 0), 0);
  assert.ok(Math.abs(y[0] - 0.4769362762) < 1e-6, `erfinv(0.5) = ${y[0]}`);
  assert.notEqual(lib.lits_unary_f32(last + 1, p(x), p(y), 1, 0), 0);
  assert.match(lastError(lib), new RegExp(`lits_unary_f32: unknown op ${last + 1}`));
  assert.notEqual(lib.lits_unary_backward_f32(last + 1, p(x), p(y), p(x), p(y), 1, 0), 0);
  assert.match(lastError(lib), /lits_unary_backward_f32: unknown op/);
  // erfinv's backward reads y, and the others x: a NULL one is an error, not a crash.
  assert.notEqual(lib.lits_unary_backward_f32(UNARY_OP.erfinv, p(x), null, p(x), p(y), 1, 0), 0);
  assert.match(lastError(lib), /needs y, which is NULL/);
  assert.notEqual(lib.lits_unary_backward_f32(UNARY_OP.asin, null, p(y), p(x), p(y), 1, 0), 0);
  assert.match(lastError(lib), /needs x, which is NULL/);
  const lastBinary = Math.max(...Object.values(BINARY_OP));
  assert.equal(lastBinary, BINARY_OP.atan2);
  const shape = new BigInt64Array([1n]), st = new BigInt64Array([1n]);
  assert.equal(lib.lits_binary_f32(lastBinary, 1, shape, p(x), st, p(x), st, p(y)), 0);
  assert.ok(Math.abs(y[0] - Math.PI / 4) < 1e-6, `atan2(0.5, 0.5) = ${y[0]}`);
  assert.notEqual(lib.lits_binary_f32(lastBinary + 1, 1, shape, p(x), st, p(x), st, p(y)), 0);
  assert.match(lastError(lib), new RegExp(`lits_binary_f32: unknown op ${lastBinary + 1}`));
});
