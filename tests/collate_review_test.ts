/**
 * Review of data.defaultCollate beyond tests/collate_test.ts: typed arrays
 * of the other element types JavaScript has (Float16Array, BigInt64Array),
 * which torch's numpy counterparts (float16, int64) keep as numbers.
 */
import assert from "node:assert/strict";
import { data, type Tensor } from "../mod.ts";
import { messageOf } from "./helpers.ts";

Deno.test("defaultCollate: a Float16Array is floats, not truncated to int32", () => {
  const F16 = (globalThis as Record<string, unknown>).Float16Array as
    | (new (v: number[]) => ArrayBufferView)
    | undefined;
  if (F16 === undefined) return; // a runtime without it
  const t = data.defaultCollate([new F16([0.5, 1.75]), new F16([2.25, -3.5])] as never) as Tensor;
  assert.equal(t.dtype, "float32");
  assert.deepEqual(t.shape, [2, 2]);
  assert.deepEqual([...t.toArray()], [0.5, 1.75, 2.25, -3.5]);
});

Deno.test("defaultCollate: BigInt64Array values are int32 where they fit, else an Error", () => {
  const t = data.defaultCollate([
    new BigInt64Array([1n, -2n]),
    new BigInt64Array([3n, 2147483647n]),
  ] as never) as Tensor;
  assert.equal(t.dtype, "int32");
  assert.deepEqual([...t.toArray()], [1, -2, 3, 2147483647]);
  const u = data.defaultCollate([new BigUint64Array([7n])] as never) as Tensor;
  assert.deepEqual([...u.toArray()], [7]);
  assert.match(
    messageOf(() => data.defaultCollate([new BigInt64Array([1n]), new BigInt64Array([2n ** 40n])])),
    /sample 1: a BigInt64Array value \(1099511627776\) does not fit int32/,
  );
});
