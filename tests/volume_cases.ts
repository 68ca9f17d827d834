/**
 * What the volume-transform fixture tests share (tests/volume_spatial_more_test.ts,
 * tests/volume_monai_aliases_test.ts): a fixture of named inputs and cases
 * (an op, its options, the input's name, torch's output), each case built,
 * applied, rebuilt from its JSON spec and applied again, the input left as
 * it was. Tensors on `LITS_TEST_DEVICE`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { data, type Tensor } from "../mod.ts";
import {
  assertClose,
  assertEqualValues,
  fromStored,
  loadFixture,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

const V = data.transforms.volume;
export type VT = data.transforms.volume.VolumeTransform;

/** One fixture case: `new V[op](opts).apply(inputs[x])` is `out`. */
export interface VolumeCase {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  x: string;
  out: StoredRecord;
}

/** The output of `t` on `x`, as plain numbers and shape (the tensor disposed). */
export function run(t: VT, x: Tensor, rng: data.Rng): { shape: number[]; v: number[] } {
  using y = t.apply(x, rng);
  assert.equal(y.device, testDevice);
  return { shape: [...y.shape], v: [...y.toArray()] };
}

/**
 * The fixture `file` (its `inputs` and `cases`, and whatever else `T`
 * names), with `input(name)` and `runCases(list)`, which checks each case
 * within `atol` (and rtol 1e-5).
 */
export function volumeCases<
  T extends { torch: string; inputs: Record<string, StoredRecord>; cases: VolumeCase[] },
>(file: string, atol: number) {
  const fx = loadFixture<T>(file);
  const input = (name: string): Tensor => fromStored(fx.inputs[name], { device: testDevice });
  const check = (c: VolumeCase, y: Tensor, what: string): void => {
    assert.deepEqual([...y.shape], c.out.shape, `${what}: shape`);
    assert.equal(y.device, testDevice, `${what}: device`);
    assertClose(y, (c.out.data as number[]).map(Math.fround), { rtol: 1e-5, atol, what });
  };
  /** Each case of `list`: built from its options, applied, and rebuilt from its JSON spec. */
  const runCases = (list: VolumeCase[]): void => {
    for (const c of list) {
      using x = input(c.x);
      const before = [...x.toArray()];
      // deno-lint-ignore no-explicit-any
      const Ctor = (V as any)[c.op] as new (o: unknown) => VT;
      const t = new Ctor(structuredClone(c.opts));
      using y = t.apply(x, new data.Rng(0));
      check(c, y, c.name);
      const again = V.fromSpec(JSON.parse(JSON.stringify(t.spec)));
      using z = again.apply(x, new data.Rng(1));
      check(c, z, `${c.name} (from spec)`);
      assert.notEqual(y, x);
      assertEqualValues(x, before, `${c.name}: input unchanged`);
    }
  };
  return { fx, input, check, runCases };
}
