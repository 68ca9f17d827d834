// unique with dim and uniqueConsecutive against torch 1.13, their NaN and
// signed-zero handling, gradients refused, and bad arguments.
// Fixtures: /usr/bin/python3 scripts/make_unique_dim_fixtures.py
import assert from "node:assert/strict";
import { scope, type Tensor, tensor, unique, uniqueConsecutive } from "../mod.ts";
import { fromStored, loadFixture, storedNumber, type StoredRecord, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  fn: "unique" | "uniqueConsecutive";
  x: StoredRecord;
  options: Record<string, unknown>;
  out: StoredRecord[];
}
const fx = loadFixture<{ cases: Case[] }>("unique_dim.json");

const floats = (v: number[], shape = [v.length]) =>
  tensor(Float32Array.from(v), shape, { device: testDevice });
const ints = (v: number[], shape = [v.length]) =>
  tensor(Int32Array.from(v), shape, { dtype: "int32", device: testDevice });

/** Exact equality: NaN equal to NaN, and -0 told from 0 (the one torch keeps of a tie). */
function assertSame(got: Tensor, want: StoredRecord, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  assert.equal(got.dtype, want.dtype ?? "float32", `${what}: dtype`);
  assert.equal(got.device, testDevice, `${what}: device`);
  const a = Array.from(got.toArray());
  const e = want.data.map((d) => Math.fround(storedNumber(d))); // 9 digits: float32 exactly
  assert.equal(a.length, e.length, `${what}: length`);
  a.forEach((v, i) => assert.ok(Object.is(v, e[i]), `${what} [${i}]: ${v} vs torch ${e[i]}`));
}

Deno.test("unique with dim and uniqueConsecutive match torch 1.13", () => {
  for (const c of fx.cases) {
    scope(() => {
      const x = fromStored(c.x, { device: testDevice });
      const out = c.fn === "unique" ? unique(x, c.options) : uniqueConsecutive(x, c.options);
      const outs = Array.isArray(out) ? out : [out];
      assert.equal(outs.length, c.out.length, `${c.name}: outputs`);
      outs.forEach((t, k) => assertSame(t, c.out[k], `${c.name} output ${k}`));
    });
  }
  assert.ok(fx.cases.length >= 40);
});

Deno.test("the Tensor methods take dim too", () => {
  scope(() => {
    const x = floats([1, 2, 0, 5, 1, 2], [3, 2]);
    const [values, inverse, counts] = x.unique({ dim: 0, returnInverse: true, returnCounts: true });
    assert.deepEqual(values.toList(), [[0, 5], [1, 2]]);
    assert.deepEqual(inverse.toList(), [1, 0, 1]);
    assert.deepEqual(counts.toList(), [1, 2]);
    assert.deepEqual(x.unique({ dim: null }).toList(), [0, 1, 2, 5]);
    const [runs, n] = ints([1, 1, 2, 1]).uniqueConsecutive({ returnCounts: true });
    assert.deepEqual([runs.toList(), n.toList()], [[1, 2, 1], [2, 1, 1]]);
    assert.deepEqual(x.uniqueConsecutive({ dim: 1 }).toList(), [[1, 2], [0, 5], [1, 2]]);
  });
});

Deno.test("unique with dim: a slice holding NaN is its own, after the numbers at its place", () => {
  scope(() => {
    const nan = NaN;
    const x = floats([1, nan, 1, nan, 0, 2, nan, 1, 1, 0, nan, 1], [6, 2]);
    const [values, inverse, counts] = unique(x, {
      dim: 0,
      returnInverse: true,
      returnCounts: true,
    });
    // Rows: [1,NaN] [1,NaN] [0,2] [NaN,1] [1,0] [NaN,1]; equal rows are kept in order.
    assert.deepEqual(values.toList(), [[0, 2], [1, 0], [1, nan], [1, nan], [nan, 1], [nan, 1]]);
    assert.deepEqual(inverse.toList(), [2, 3, 0, 4, 1, 5]);
    assert.deepEqual(counts.toList(), [1, 1, 1, 1, 1, 1]);
    // The flat unique: each NaN its own, after the numbers, as torch 2's.
    const [flat, inv, n] = unique(floats([2, nan, 1, nan, 2]), {
      returnInverse: true,
      returnCounts: true,
    });
    assert.deepEqual([flat.toList(), inv.toList(), n.toList()], [
      [1, 2, nan, nan],
      [1, 2, 0, 3, 1],
      [1, 2, 1, 1],
    ]);
  });
});

Deno.test("unique and uniqueConsecutive have no gradient, as torch's", () => {
  scope(() => {
    const x = floats([1, 2, 1, 2], [2, 2]).requiresGrad_(true);
    const u = unique(x, { dim: 0 });
    assert.equal(u.requiresGrad, true);
    assert.throws(
      () => u.sum().backward(),
      /unique_dim has no gradient.*unique\(x\.detach\(\), \{ dim \}\)/,
    );
    assert.throws(
      () => uniqueConsecutive(x).sum().backward(),
      /unique_consecutive has no gradient/,
    );
    assert.throws(
      () => uniqueConsecutive(x, { dim: 1 }).sum().backward(),
      /unique_consecutive has no gradient/,
    );
    assert.throws(() => unique(x).sum().backward(), /_unique2 has no gradient/);
  });
});

Deno.test("unique and uniqueConsecutive: bad arguments say what to write", () => {
  scope(() => {
    const x = floats([1, 2, 3, 4], [2, 2]);
    const loose = <T>(v: unknown) => v as T;
    const bad: [() => unknown, RegExp][] = [
      [
        () => unique(x, { dim: 2 }),
        /unique: dim 2 is out of range for 2 dimensions \(expected -2 to 1\)/,
      ],
      [() => unique(x, { dim: -3 }), /unique: dim -3 is out of range/],
      [() => unique(x, { dim: 0.5 }), /unique: dim must be an integer, got 0\.5/],
      [() => unique(x, { dim: loose("0") }), /unique: dim must be an integer, got "0"/],
      [
        () => unique(floats([3], []), { dim: 0 }),
        /dim 0 is out of range for a 0-d tensor; leave dim out/,
      ],
      [
        () => unique(floats([], [2, 0]), { dim: 0 }),
        /x \[2,0\] has a dimension of size 0 other than dim 0/,
      ],
      [
        () => unique(x, loose({ dim: 0, return_inverse: true })),
        /unknown option 'return_inverse' \(write 'returnInverse'\)/,
      ],
      [
        () => unique(x, { returnCounts: loose(1) }),
        /unique: returnCounts must be a boolean, got 1/,
      ],
      [
        () => loose<(...a: unknown[]) => unknown>(unique)(x, 0),
        /unique: expected an options object, got number 0; write it as unique\(x, \{ returnCounts: true \}\)/,
      ],
      [
        () => loose<(...a: unknown[]) => unknown>(unique)(x, {}, 0),
        /unique: takes \(x, options\), got 3 arguments/,
      ],
      [() => uniqueConsecutive(loose([1, 2])), /uniqueConsecutive: .*expected a Tensor/],
      [() => uniqueConsecutive(x, { dim: 5 }), /uniqueConsecutive: dim 5 is out of range/],
      [
        () => uniqueConsecutive(x, loose({ sorted: true })),
        /uniqueConsecutive: unknown option 'sorted'/,
      ],
      [() => uniqueConsecutive(x, loose({ return_counts: true })), /write 'returnCounts'/],
      [
        () => uniqueConsecutive(floats([], [0, 3]), { dim: 1 }),
        /has a dimension of size 0 other than dim 1/,
      ],
      [
        () => loose<(...a: unknown[]) => unknown>(x.uniqueConsecutive.bind(x))({}, 1),
        /uniqueConsecutive: takes at most 1 argument, got 2; write x\.uniqueConsecutive/,
      ],
    ];
    for (const [fn, re] of bad) assert.throws(fn, re, `no error matching ${re}`);
  });
});
