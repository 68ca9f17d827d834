/**
 * gather, indexSelect, flip, roll, sort/argsort/topk, maskedFill,
 * interpolate (every mode) and instanceNorm against PyTorch 1.13's numbers
 * (tests/fixtures/indexing.json, written by
 * scripts/make_indexing_fixtures.py): outputs, indices, the gradients of
 * L = sum(out * G) for fixed random G, and instance norm's running
 * statistics. Then the argument checks and the layers.
 *
 * The fixture cases run on `LITS_TEST_DEVICE` (cpu or cuda), as ops_test.ts's.
 * `INDEXING_REPORT=1` prints the worst error of each case.
 */
import assert from "node:assert/strict";
import {
  functional as F,
  gather,
  indexSelect,
  nn,
  randn,
  scope,
  type Tensor,
  tensor,
  topk,
  ValuesIndices,
  zeros,
} from "../mod.ts";
import {
  fromStored,
  loadFixture,
  type StoredNumber,
  storedNumber,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

type Rec = StoredRecord;
type Num = StoredNumber;
interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: Rec[];
  outs: Rec[];
  G?: (Rec | null)[];
  grads?: (Rec | null)[];
  state?: Record<string, Rec>;
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("indexing.json");

const num = storedNumber;

const make = (r: Rec, requiresGrad = r.grad ?? false): Tensor =>
  fromStored(r, { requiresGrad, device: testDevice });

const worst = new Map<string, number>();

/** Asserts closeness elementwise (exact for int32); NaN must match NaN. */
function assertMatches(t: Tensor, want: Rec, what: string, rtol: number, atol: number): void {
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  assert.equal(t.dtype, want.dtype ?? "float32", `${what}: dtype`);
  const got = t.toArray();
  want.data.forEach((w, i) => {
    const e = num(w), a = got[i];
    if (!Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(e) && Number.isNaN(a)), `${what}[${i}]: ${a}`);
      return;
    }
    const err = Math.abs(a - e);
    const key = what.split(":")[0];
    worst.set(key, Math.max(worst.get(key) ?? 0, err / (atol + rtol * Math.abs(e))));
    assert.ok(err <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, expected ${e}`);
  });
}

type Op = (x: Tensor[], o: Case["opts"], c: Case) => Tensor | Tensor[];
const pair = (r: ValuesIndices): Tensor[] => [...r];

const OPS: Record<string, Op> = {
  gather: ([x, i], o) => x.gather(o.dim, i),
  indexSelect: ([x, i], o) => x.indexSelect(o.dim, i),
  flip: ([x], o) => x.flip(o.dims),
  roll: ([x], o) => x.roll(o.shifts, o.dims ?? undefined),
  sort: ([x], o) => pair(x.sort(o.dim, o.descending ?? false)),
  argsort: ([x], o) => x.argsort(o.dim, o.descending),
  topk: ([x], o) => pair(x.topk(o.k, o.dim, o.largest)),
  maskedFill: ([x, m], o) => x.maskedFill(m, o.value),
  interpolate: ([x], o) => F.interpolate(x, o),
  quantile: ([x], o) =>
    F.quantile(x, o.q, { dim: o.dim, keepDim: o.keepDim, interpolation: o.interpolation }),
  instanceNorm: ([x, w, b], o, c) => {
    const running = o.running
      ? { runningMean: make(c.state!.runningMean0), runningVar: make(c.state!.runningVar0) }
      : {};
    const y = F.instanceNorm(x, {
      ...running,
      weight: w ?? null,
      bias: b ?? null,
      momentum: o.momentum,
      useInputStats: o.useInputStats,
    });
    if (c.state?.runningMean) {
      assertMatches(
        running.runningMean!,
        c.state.runningMean,
        `${c.name}: running mean`,
        1e-5,
        1e-6,
      );
      assertMatches(running.runningVar!, c.state.runningVar, `${c.name}: running var`, 1e-5, 1e-6);
    }
    return y;
  },
};

/** Looser for the normalisations and cubic sums (another order of the same terms), and on the GPU. */
function tolerance(c: Case): [number, number] {
  const [rtol, atol] = /instance|bicubic|trilinear/.test(c.name) ? [1e-4, 1e-5] : [1e-5, 1e-6];
  return testDevice === "cpu" ? [rtol, atol] : [Math.max(rtol, 1e-4), Math.max(atol, 1e-4)];
}

for (const c of fx.cases) {
  Deno.test(`indexing: ${c.name}`, () => {
    scope(() => {
      const inputs = c.inputs.map((r) => make(r));
      const result = OPS[c.op](inputs, c.opts, c);
      const outs = Array.isArray(result) ? result : [result];
      const [rtol, atol] = tolerance(c);
      assert.equal(outs.length, c.outs.length, `${c.name}: number of outputs`);
      outs.forEach((o, i) => assertMatches(o, c.outs[i], `${c.name}: output ${i}`, rtol, atol));
      if (!c.G) {
        for (const o of outs) assert.equal(o.requiresGrad, false, `${c.name}: no gradient`);
        return;
      }
      const terms = outs.flatMap((o, i) => c.G![i] ? [o.mul(make(c.G![i]!, false)).sum()] : []);
      terms.reduce((a, b) => a.add(b)).backward();
      c.grads!.forEach((g, i) => {
        if (g) assertMatches(inputs[i].grad!, g, `${c.name}: gradient ${i}`, rtol, atol);
      });
    });
  });
}

if (Deno.env.get("INDEXING_REPORT") === "1") {
  Deno.test({
    name: "indexing: worst errors in tolerances (report)",
    fn() {
      for (const [k, v] of [...worst].sort((a, b) => b[1] - a[1])) {
        console.log(`${v.toFixed(3)}  ${k}`);
      }
    },
  });
}

Deno.test("indexing: torch's errors, with what to write", () => {
  scope(() => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const idx = (v: number[], shape = [v.length]) => tensor(Int32Array.from(v), shape);
    const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    throws(() => gather(x, 1, idx([3, 0], [2, 1])), /index 3 \(element 0 of the index\)/);
    throws(() => gather(x, 1, idx([0, -1], [2, 1])), /index -1 \(element 1 of the index\)/);
    throws(() => gather(x, 1, tensor([[0], [1]])), /int32 tensor.*index\.int\(\)/);
    throws(() => gather(x, 1, idx([0, 1])), /as many dimensions/);
    throws(() => gather(x, 0, idx([0, 0, 0, 0, 0, 0, 0, 0], [2, 4])), /larger than x/);
    throws(() => indexSelect(x, 0, idx([2])), /index 2 \(element 0 of the index\)/);
    throws(() => indexSelect(x, 0, idx([0, 1], [1, 2])), /1-D/);
    throws(() => x.flip([1, 1]), /repeated/);
    throws(() => x.flip(1.5 as number), /integer/);
    throws(() => x.roll([1, 2], [0]), /same length/);
    throws(() => x.roll([1, 2]), /without dims, shifts must be one integer/);
    throws(() => x.sort(0, { descending: true } as never), /descending must be a boolean/);
    throws(() => x.topk(4), /k must be an integer from 0 to 3/);
    throws(() => topk(x, 1, 1, "true" as never), /largest must be a boolean/);
    throws(() => x.maskedFill(tensor([[[1]], [[0]]]), 0), /not widen it/);
    throws(() => x.maskedFill(x.gt(2), tensor([1, 2])), /0-d tensor/);
    const img = zeros([1, 1, 4, 4]);
    throws(() => F.interpolate(img, { size: [2, 2], scale_factor: 2 } as never), /scaleFactor/);
    throws(() => F.interpolate(img, { size: [2, 2], scaleFactor: 2 }), /exactly one/);
    throws(() => F.interpolate(img, {}), /exactly one.*neither/);
    throws(() => F.interpolate(img, { size: 2, mode: "linear" }), /"linear" takes a 3-D/);
    throws(() => F.interpolate(img, { size: 2, alignCorners: true }), /alignCorners can only/);
    throws(() => F.interpolate(img, { size: 2, mode: "cubic" as never }), /unknown mode/);
    throws(() => F.interpolate(img, { size: [2, 2, 2] }), /2 numbers/);
    throws(() => F.interpolate(img, { scaleFactor: 0.1 }), /empty output/);
    throws(
      () => F.interpolate(img, { size: 2, antialias: true }),
      /antialias is only supported for the bilinear and bicubic modes/,
    );
    throws(() => F.interpolate(img, { size: 2, recomputeScaleFactor: true }), /only meaningful/);
    // torch accepts recompute_scale_factor=False beside a size (it changes nothing there).
    assert.deepEqual(F.interpolate(img, { size: 2, recomputeScaleFactor: false }).shape, [
      1,
      1,
      2,
      2,
    ]);
    throws(
      () => (F.interpolate as (...a: unknown[]) => Tensor)(img, 2, "bilinear"),
      /options go in one/,
    );
    throws(() => F.quantile(x, 1.5), /q must be a number in \[0, 1\]/);
    throws(() => F.quantile(x, 0.5, { keepdim: true } as never), /keepDim/);
    throws(() => F.quantile(x, 0.5, { interpolation: "cubic" as never }), /interpolation must be/);
    throws(() => F.quantile(zeros([0]), 0.5), /empty/);
    throws(() => F.instanceNorm(zeros([2, 3])), /\[N, C, \.\.\.spatial\]/);
    throws(() => F.instanceNorm(zeros([2, 3, 1, 1])), /more than 1 spatial element/);
    throws(() => F.instanceNorm(zeros([2, 3, 4]), { weight: zeros([2]) }), /must have shape \[3\]/);
    throws(() => new nn.Upsample({ scaleFactor: 2, mode: "bilinar" as never }), /unknown mode/);
    throws(() => new nn.InstanceNorm2d(3, { affine: "true" as never }), /affine must be a boolean/);
    throws(() => new nn.InstanceNorm2d(3).forward(zeros([4, 4])), /3-D or 4-D input/);
    throws(
      () => new nn.InstanceNorm2d(3, { affine: true }).forward(zeros([1, 2, 4, 4])),
      /3 channels/,
    );
  });
});

Deno.test("indexing: sort and topk results destructure and name their parts", () => {
  scope(() => {
    const r = tensor([2, 9, 1]).sort(-1, true);
    assert.ok(r instanceof ValuesIndices);
    const [values, indices] = r;
    assert.deepEqual([values.toList(), indices.toList()], [[9, 2, 1], [1, 0, 2]]);
    assert.equal(r.values, values);
    assert.equal(indices.dtype, "int32");
    const y = tensor(Int32Array.from([5, 1, 4]), [3]).long();
    assert.equal(y.dtype, "int32");
    assert.deepEqual(y.argsort().toList(), [1, 2, 0]);
  });
});

Deno.test("indexing: gathers from views, and an index that is a view", () => {
  scope(() => {
    const base = tensor([[1, 2, 3], [4, 5, 6]], undefined, { requiresGrad: true });
    const t = base.t(); // [3, 2], not contiguous
    const i = tensor(Int32Array.from([1, 0, 0, 2, 1, 1]), [2, 3]).t(); // [3, 2]
    const y = t.gather(0, i); // y[r][c] = t[i[r][c]][c]
    assert.deepEqual(y.toList(), [[2, 6], [1, 5], [1, 5]]);
    y.sum().backward();
    assert.deepEqual(base.grad!.toList(), [[2, 1, 0], [0, 2, 1]]);
  });
});

Deno.test("indexing: Upsample layers are F.interpolate with their options", () => {
  scope(() => {
    const x = randn([1, 2, 3, 5]);
    const same = (a: Tensor, b: Tensor) => assert.deepEqual(a.toArray(), b.toArray());
    same(
      new nn.Upsample({ size: [4, 7], mode: "bicubic" }).forward(x),
      F.interpolate(x, { size: [4, 7], mode: "bicubic" }),
    );
    same(new nn.Upsample([6, 6]).forward(x), F.interpolate(x, { size: [6, 6] }));
    same(
      new nn.UpsamplingNearest2d({ scaleFactor: 2 }).forward(x),
      F.interpolate(x, { scaleFactor: 2 }),
    );
    // torch's UpsamplingBilinear2d aligns corners, unlike F.interpolate's default.
    same(
      new nn.UpsamplingBilinear2d([5, 9]).forward(x),
      F.interpolate(x, { size: [5, 9], mode: "bilinear", alignCorners: true }),
    );
    assert.equal([...new nn.Upsample({ scaleFactor: 2 }).parameters()].length, 0);
  });
});

Deno.test("indexing: InstanceNorm2d trains with instance statistics, evaluates with running ones", () => {
  scope(() => {
    const m = new nn.InstanceNorm2d(2, { trackRunningStats: true, momentum: 0.5 });
    assert.deepEqual(
      [...m.stateDict().keys()],
      ["running_mean", "running_var", "num_batches_tracked"],
    );
    const x = randn([3, 2, 4, 4]);
    m.forward(x);
    const mean = x.mean([2, 3]).mean(0).mul(0.5); // 0.5 * 0 + 0.5 * mean over samples
    const got = m.runningMean!.toArray();
    mean.toArray().forEach((v, i) => assert.ok(Math.abs(v - got[i]) < 1e-6));
    assert.equal(m.stateDict().get("num_batches_tracked")!.item(), 0); // torch never counts them
    m.eval();
    const rm = m.runningMean!, rv = m.runningVar!;
    const want = x.sub(rm.reshape([1, 2, 1, 1])).div(rv.add(1e-5).sqrt().reshape([1, 2, 1, 1]));
    const y = m.forward(x).toArray();
    want.toArray().forEach((v, i) => assert.ok(Math.abs(v - y[i]) < 1e-5));
    // Without tracking, evaluation normalises each instance as training does.
    const plain = new nn.InstanceNorm2d(2);
    const a = plain.forward(x).toArray();
    plain.eval();
    assert.deepEqual(plain.forward(x).toArray(), a);
    // One unbatched sample [C, H, W].
    assert.deepEqual(plain.forward(x.narrow(0, 0, 1).squeeze(0)).shape, [2, 4, 4]);
  });
});

Deno.test("indexing: ported torch forms (None, tuple indexing, attributes) and their limits", () => {
  scope(() => {
    const img = randn([1, 1, 3, 4]);
    const same = (a: Tensor, b: Tensor) => assert.deepEqual(a.toArray(), b.toArray());
    // Python's None is "not given", as MONAI's F.interpolate(x, size=..., scale_factor=None).
    const none = null as never;
    same(
      F.interpolate(img, { size: [6, 8], scaleFactor: none, alignCorners: none }),
      F.interpolate(img, { size: [6, 8] }),
    );
    same(
      new nn.Upsample({ size: none, scaleFactor: 2 }).forward(img),
      F.interpolate(img, { scaleFactor: 2 }),
    );
    assert.throws(
      () => F.interpolate(img, { size: 2, mode: none }),
      /mode must be a mode's name, got null/,
    );
    // The 2d layers take only size or scaleFactor, as torch's.
    assert.throws(
      () => new nn.UpsamplingNearest2d({ scaleFactor: 2, mode: "bilinear" } as never),
      /unknown option 'mode'/,
    );
    assert.throws(
      () => new nn.UpsamplingBilinear2d({ scaleFactor: 2, alignCorners: false } as never),
      /unknown option 'alignCorners'/,
    );
    const up = new nn.Upsample({ scaleFactor: 2, mode: "bilinear" });
    assert.deepEqual([up.scaleFactor, up.mode, up.alignCorners, up.size], [
      2,
      "bilinear",
      undefined,
      undefined,
    ]);
    assert.throws(
      () => (up as unknown as { scale_factor: number }).scale_factor,
      /no \.scale_factor.*scaleFactor/,
    );
    assert.throws(
      () => ((up as unknown as { scale_factor: number }).scale_factor = 4),
      /no \.scale_factor to assign: write up\.scaleFactor/,
    );
    // torch's tuple index of sort/topk results.
    const r = tensor([[0.1, 0.7, 0.2]]).topk(1, 1);
    assert.equal(r[1], r.indices);
    assert.equal(r[0], r.values);
    assert.equal(r.length, 2);
    // long() stands in for int64: what int32 cannot hold is refused, not saturated.
    assert.throws(() => tensor([3e9]).long(), /3000000000 does not fit int32/);
    assert.throws(() => tensor([NaN]).long(), /NaN does not fit int32/);
    assert.deepEqual(tensor([2.7, -2.7]).long().toList(), [2, -2]);
    // 0-d inputs, as torch's.
    const five = tensor(5).reshape([]);
    assert.equal(gather(five, 0, tensor(Int32Array.from([0]), [1]).reshape([])).item(), 5);
    assert.throws(() => five.topk(0), /k must be 1 for a 0-d tensor/);
    // Messages name what was given.
    assert.throws(() => tensor([1, 2]).roll(NaN, 0), /got NaN/);
    assert.throws(() => five.roll(3, 0), /0-d tensor has no dimension to roll/); // torch's IndexError
    assert.equal(five.roll(3).item(), 5);
    // int32 labels take an integer fill and stay int32 (torch's int64); a fraction is refused.
    assert.deepEqual(tensor(Int32Array.from([1]), [1]).maskedFill(tensor([1]), 0).toList(), [0]);
    assert.throws(
      () => tensor(Int32Array.from([1]), [1]).maskedFill(tensor([1]), 0.5),
      /maskedFill: value 0.5 is not an integer and x is int32/,
    );
    assert.throws(
      () => new nn.InstanceNorm2d(3, { momentum: null } as never),
      /momentum.*got null/,
    );
  });
});

Deno.test("indexing: linear modes copy a dimension that keeps its size, as torch", () => {
  scope(() => {
    const x = tensor([[[0, 1, 2, 3, 4]]]);
    // floor(5 * 1.19) = 5: the row is kept, not resampled at 1 / 1.19.
    assert.deepEqual(F.interpolate(x, { scaleFactor: 1.19, mode: "linear" }).toList(), [[[
      0,
      1,
      2,
      3,
      4,
    ]]]);
  });
});
