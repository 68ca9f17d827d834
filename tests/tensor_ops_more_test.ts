/**
 * The tensor functions a ported training script reaches for beyond the
 * basics (argmin, prod, cumprod, countNonzero, logical ops, remainder,
 * fmod, floorDivide, maskedSelect, nonzero, bincount, unique, isclose,
 * allclose, equal, tril, triu, tile, repeatInterleave, viewAs, reshapeAs,
 * diff, meshgrid, eye) against PyTorch 1.13 (tests/fixtures/
 * tensor_ops_more.json, written by scripts/make_tensor_ops_more_fixtures.py):
 * values, dtypes and the gradients of L = sum(out * G). Then randperm and
 * randint (the library's generator, so properties and reproducibility, not
 * torch's draws), the bad inputs, the ops torch gives no gradient, and a
 * training loop of them that frees nothing by hand.
 */
import assert from "node:assert/strict";
import {
  allclose,
  argmin,
  bincount,
  countNonzero,
  cumprod,
  diff,
  empty,
  endStep,
  equal,
  eye,
  floorDivide,
  fmod,
  isclose,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  manualSeed,
  maskedSelect,
  memoryStats,
  meshgrid,
  nn,
  nonzero,
  optim,
  prod,
  randint,
  randn,
  randperm,
  remainder,
  repeatInterleave,
  scope,
  type Tensor,
  tensor,
  tile,
  tril,
  triu,
  unique,
} from "../mod.ts";
import { fromStored, loadFixture, storedNumber, type StoredRecord, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  outs: StoredRecord[];
  G?: StoredRecord[];
  grads?: (StoredRecord | null)[];
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("tensor_ops_more.json");
const dev = { device: testDevice };
const ints = (values: number[], shape = [values.length]) =>
  tensor(new Int32Array(values), shape, { dtype: "int32", device: testDevice });
const floats = (values: number[], shape = [values.length]) =>
  tensor(Float32Array.from(values), shape, dev);

function assertMatches(t: Tensor, want: StoredRecord, what: string, rtol = 1e-5, atol = 1e-6) {
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  assert.equal(t.dtype, want.dtype ?? "float32", `${what}: dtype`);
  assert.equal(t.device, testDevice, `${what}: device`);
  const got = t.toArray();
  want.data.forEach((w, i) => {
    const e = storedNumber(w), a = got[i];
    if (!Number.isFinite(e)) {
      assert.ok(Object.is(a, e) || (Number.isNaN(e) && Number.isNaN(a)), `${what}[${i}]: ${a}`);
      return;
    }
    if (t.dtype === "int32" || e === 0) {
      assert.ok(a === e, `${what}[${i}]: ${a} !== ${e}`); // the fixtures write -0 as 0
      return;
    }
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, want ${e}`);
  });
}

type Result = Tensor | Tensor[] | boolean;
type Op = (x: Tensor[], o: Case["opts"]) => Result;
const OPS: Record<string, Op> = {
  argmin: ([x], o) => (o.dim === undefined ? x.argmin() : x.argmin(o.dim, o.keepDim ?? false)),
  prod: ([x], o) => (o.dim === undefined ? prod(x) : x.prod(o.dim, o.keepDim ?? false)),
  cumprod: ([x], o) => (o.dim === 0 ? cumprod(x, 0) : x.cumprod(o.dim)),
  countNonzero: ([x], o) => countNonzero(x, o.dim),
  logicalAnd: ([a, b]) => logicalAnd(a, b),
  logicalOr: ([a, b]) => (a.ndim > 1 ? a.logicalOr(b) : logicalOr(a, b)),
  logicalXor: ([a, b]) => logicalXor(a, b),
  logicalNot: ([x]) => x.logicalNot(),
  remainder: ([a, b], o) => remainder(a, b ?? o.other),
  fmod: ([a, b], o) => a.fmod(b ?? o.other),
  floorDivide: ([a, b], o) => floorDivide(a, b ?? o.other),
  maskedSelect: ([x, m]) => x.maskedSelect(m),
  nonzero: ([x], o) => (o.asTuple ? nonzero(x, { asTuple: true }) : x.nonzero()),
  bincount: ([x, w], o) => bincount(x, { weights: w?.float(), minlength: o.minlength }),
  unique: ([x], o) => unique(x, o),
  isclose: ([a, b], o) => isclose(a, b, o),
  allclose: ([a, b], o) => allclose(a, b, o),
  equal: ([a, b]) => equal(a, b),
  tril: ([x], o) => tril(x, o.diagonal ?? 0),
  triu: ([x], o) => x.triu(o.diagonal),
  tile: ([x], o) => tile(x, o.dims),
  repeatInterleave: ([x, r], o) =>
    r === undefined && o.repeats === undefined
      ? repeatInterleave(x)
      : repeatInterleave(x, r ?? o.repeats, o.dim),
  viewAs: ([x, y]) => x.viewAs(y),
  reshapeAs: ([x, y]) => x.reshapeAs(y),
  diff: ([x, p, a], o) => diff(x, { ...o, prepend: p, append: a }),
  meshgrid: (xs, o) => (o.indexing ? meshgrid(...xs, { indexing: o.indexing }) : meshgrid(xs)),
  eye: (_, o) => (o.m === undefined ? eye(o.n, dev) : eye(o.n, o.m, dev)),
};

for (const c of fx.cases) {
  Deno.test(`tensor ops: ${c.name}`, () => {
    scope(() => {
      const inputs = c.inputs.map((r) => fromStored(r, dev));
      const result = OPS[c.op](inputs, c.opts);
      const outs = typeof result === "boolean"
        ? [floats([+result], [])]
        : Array.isArray(result)
        ? result
        : [result];
      assert.equal(outs.length, c.outs.length, `${c.name}: number of results`);
      outs.forEach((t, i) => assertMatches(t, c.outs[i], `${c.name}: output ${i}`));
      if (!c.G) {
        outs.forEach((t) => assert.equal(t.requiresGrad, false, `${c.name}: no gradient`));
        return;
      }
      let loss: Tensor | null = null;
      outs.forEach((t, i) => {
        if (!t.requiresGrad) return;
        const term = t.mul(fromStored(c.G![i], dev)).sum();
        loss = loss === null ? term : loss.add(term);
      });
      (loss as unknown as Tensor).backward();
      c.grads!.forEach((g, i) => {
        if (g) assertMatches(inputs[i].grad!, g, `${c.name}: gradient ${i}`);
        else assert.equal(inputs[i].grad, null, `${c.name}: input ${i} has no gradient`);
      });
    });
  });
}

Deno.test("randperm: a permutation from the library's generator, reproduced by manualSeed", () => {
  scope(() => {
    manualSeed(7);
    const p = randperm(1000, dev);
    assert.equal(p.dtype, "int32");
    assert.equal(p.device, testDevice);
    const v = [...p.toArray()];
    assert.deepEqual([...v].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
    assert.ok(v.some((x, i) => x !== i), "shuffled");
    manualSeed(7);
    assert.deepEqual([...randperm(1000, dev).toArray()], v);
    assert.notDeepEqual([...randperm(1000, dev).toArray()], v);
    assert.deepEqual(randperm(0).shape, [0]);
    assert.deepEqual([...randperm(1).toArray()], [0]);
    assert.equal(randperm(4, { dtype: "float32" }).dtype, "float32");
    // Each value lands in each place about equally often.
    manualSeed(1);
    const firsts = new Array(4).fill(0);
    for (let i = 0; i < 2000; i++) firsts[randperm(4).toArray()[0]]++;
    for (const f of firsts) assert.ok(Math.abs(f - 500) < 90, `first places: ${firsts}`);
  });
});

Deno.test("randint: [low, high), int32 by default, reproduced by manualSeed", () => {
  scope(() => {
    manualSeed(3);
    const r = randint(-2, 3, [4000], dev);
    assert.equal(r.dtype, "int32");
    const v = r.toArray();
    const counts = new Map<number, number>();
    for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
    for (const n of counts.values()) assert.ok(Math.abs(n - 800) < 120, `counts ${[...counts]}`);
    manualSeed(3);
    assert.deepEqual([...randint(-2, 3, [4000], dev).toArray()], [...v]);
    const h = randint(10, [2, 3]);
    assert.deepEqual(h.shape, [2, 3]);
    assert.ok([...h.toArray()].every((x) => x >= 0 && x < 10));
    const f = randint(0, 5, [3], { dtype: "float32" });
    assert.equal(f.dtype, "float32");
    assert.ok([...randint(2 ** 31 - 2, 2 ** 31, [50]).toArray()].every((x) => x >= 2 ** 31 - 2));
  });
});

Deno.test("eye and empty: shapes, dtypes, options", () => {
  scope(() => {
    assert.deepEqual(eye(2, { dtype: "int32" }).toList(), [[1, 0], [0, 1]]);
    assert.equal(eye(2, { dtype: "int32" }).dtype, "int32");
    assert.deepEqual(eye(0).shape, [0, 0]);
    const e = empty([2, 3], dev);
    assert.deepEqual([...e.shape], [2, 3]);
    assert.equal(empty([1], { dtype: "int32" }).dtype, "int32");
    assert.equal(eye(2, 2, { requiresGrad: true }).requiresGrad, true);
  });
});

Deno.test("bad inputs get errors that say what to write", () => {
  scope(() => {
    const x = floats([1, 2, 3]);
    const labels = ints([0, 2, 1]);
    const bad: [() => unknown, RegExp][] = [
      [() => randperm(-1), /randperm: n must be an integer >= 0/],
      [() => randperm(2.5), /randperm: n must be an integer/],
      [() => randperm(3, { dtype: "int64" as never }), /unknown dtype/],
      [() => randint(5, 5, [2]), /low must be less than high, got low 5 >= high 5/],
      [() => randint(0, 2.5, [2]), /high must be an integer/],
      [() => randint(0, 5, 3 as never), /the shape is a list of sizes/],
      [() => randint(0, 5, [2], { requiresGrad: true }), /only float32 tensors can require/],
      [() => eye(-1), /eye: n must be an integer >= 0/],
      [() => eye(2, NaN), /eye: m must be an integer >= 0/],
      [() => empty([2, -1]), /empty: shape must be non-negative integers/],
      [() => argmin(x, 1), /argmin: dimension 1 is out of range/],
      [() => argmin(floats([])), /argmin: cannot reduce an empty tensor/],
      [() => x.argmin(0, 1 as never), /keepDim is the third argument/],
      [() => prod(x, [0] as never), /prod: reduces one dimension or all/],
      [() => prod(x, 2), /prod: dimension 2 is out of range/],
      [() => prod(ints([65536, 65536])), /does not fit int32/],
      [() => cumprod(x, 1.5), /cumprod: dim must be an integer/],
      [() => (cumprod as (...a: unknown[]) => Tensor)(x), /cumprod: takes \(x, dim\)/],
      [() => logicalAnd(x, 1 as never), /logicalAnd: b: expected a Tensor/],
      [() => logicalAnd(x, floats([1, 2])), /cannot be broadcast/],
      [() => (logicalNot as (...a: unknown[]) => Tensor)(x, x), /logicalNot: takes one tensor/],
      [() => remainder(labels, 0), /integer division by zero/],
      [() => floorDivide(labels, ints([1, 0, 1])), /integer division by zero/],
      [() => fmod(x, floats([1, 2])), /fmod: shapes \[3\] and \[2\] cannot be broadcast/],
      [() => remainder(x, "2" as never), /remainder: other: expected a Tensor/],
      [() => maskedSelect(x, floats([0.2, 0.9, 1])), /mask holds 0.2.*x\.gt\(0\.5\)/],
      [() => maskedSelect(x, floats([1, 0])), /cannot be broadcast/],
      [() => maskedSelect(x, floats([NaN, 1, 0])), /mask holds NaN/],
      [() => nonzero(x, { as_tuple: true } as never), /unknown option 'as_tuple'/],
      [() => bincount(x), /bincount: expected an int32 tensor/],
      [() => bincount(ints([1, -1])), /values >= 0.*-1/],
      [() => bincount(ints([1, 2], [1, 2])), /must be 1-D/],
      [() => bincount(labels, { minlength: -1 }), /minlength must be an integer >= 0/],
      [() => bincount(labels, { minlength: NaN }), /minlength must be an integer >= 0/],
      [
        () => bincount(labels, { weights: floats([1, 2]) }),
        /weights must be 1-D with x's length 3/,
      ],
      [() => unique(x, { dim: 1 }), /unique: dim 1 is out of range for 1 dimensions/],
      [() => unique(x, { return_counts: true } as never), /unknown option 'return_counts'/],
      [() => isclose(x, labels.float(), { rtol: -1 }), /rtol must be a number >= 0/],
      [() => isclose(x, labels), /a is float32 and b int32/],
      [() => allclose(x, floats([1, 2])), /cannot be broadcast/],
      [() => equal(x, [1, 2, 3] as never), /equal: b: expected a Tensor/],
      [() => tril(x), /tril: x must have at least 2 dimensions/],
      [() => triu(floats([1, 2], [1, 2]), 0.5), /diagonal must be an integer/],
      [() => tile(x, [-1]), /tile: dims must be a list of counts >= 0/],
      [() => repeatInterleave(x, -1), /repeats must be integers >= 0/],
      [() => repeatInterleave(x, ints([1, 2]), 0), /2 repeats for 3 slices/],
      [() => repeatInterleave(x, floats([1, 1, 1]), 0), /repeats must be a number or an int32/],
      [() => repeatInterleave(x, 2, 1), /repeatInterleave: dimension 1 is out of range/],
      [() => repeatInterleave(x), /one-argument form takes a 1-D int32 tensor/],
      [() => x.viewAs(floats([1, 2])), /cannot view \[3\]/],
      [() => diff(floats([1], [])), /diff: x must have at least one dimension/],
      [() => diff(x, { n: -1 }), /diff: n must be an integer >= 0/],
      [() => diff(x, { dim: 1 }), /diff: dimension 1 is out of range/],
      [() => diff(x, { prepend: floats([1, 2], [1, 2]) }), /prepend \[1,2\] must match x \[3\]/],
      [() => meshgrid(floats([1, 2], [1, 2]), x), /0-d or 1-D/],
      [() => meshgrid(x, labels), /share one dtype and device/],
      [() => meshgrid(x, { indexing: "ji" as never }), /indexing must be "ij" or "xy"/],
      [() => meshgrid(), /needs at least one tensor/],
    ];
    for (const [fn, re] of bad) assert.throws(fn, re, `no error matching ${re}`);
  });
});

Deno.test("ops torch gives no gradient: a backward through them throws, naming the op", () => {
  scope(() => {
    const x = floats([1.5, -2, 3.25]).requiresGrad_(true);
    const y = floorDivide(x, 2);
    assert.equal(y.requiresGrad, true);
    assert.throws(() => y.sum().backward(), /floor_divide has no gradient/);
    const w = floats([1, 2, 3]).requiresGrad_(true);
    assert.throws(
      () => bincount(ints([0, 1, 1]), { weights: w }).sum().backward(),
      /bincount has no gradient/,
    );
    assert.throws(() => unique(x).sum().backward(), /_unique2 has no gradient/);
    // Masks never require one.
    assert.equal(logicalAnd(x, x).requiresGrad, false);
    assert.equal(isclose(x, x).requiresGrad, false);
    assert.equal(argmin(x).requiresGrad, false);
    assert.equal(countNonzero(x).requiresGrad, false);
  });
});

Deno.test("unique: NaN after the numbers, each its own; sorted: false is sorted too", () => {
  scope(() => {
    const [values, inverse, counts] = unique(floats([2, NaN, 1, NaN, 2]), {
      returnInverse: true,
      returnCounts: true,
    });
    assert.deepEqual(values.toList(), [1, 2, NaN, NaN]);
    assert.deepEqual(inverse.toList(), [1, 2, 0, 3, 1]);
    assert.deepEqual(counts.toList(), [1, 2, 1, 1]);
    assert.deepEqual(ints([3, 1, 2, 1]).unique({ sorted: false }).toList(), [1, 2, 3]);
    const [classes, n] = ints([2, 0, 2]).unique({ returnCounts: true });
    assert.deepEqual([classes.toList(), n.toList()], [[0, 2], [1, 2]]);
  });
});

Deno.test("int32 arithmetic is exact past float32's 2^24", () => {
  scope(() => {
    const big = ints([16777217, -16777219, 2147483647]);
    assert.deepEqual(remainder(big, 2).toList(), [1, 1, 1]);
    assert.deepEqual(floorDivide(big, 2).toList(), [8388608, -8388610, 1073741823]);
    assert.deepEqual(big.fmod(2).toList(), [1, -1, 1]);
    assert.deepEqual(big.diff().toList(), [-33554436, -2130706430]);
    assert.throws(() => floorDivide(ints([-2147483648]), -1), /beyond int32/);
    assert.deepEqual(tril(ints([16777217, 2, 3, 4], [2, 2])).toList(), [[16777217, 0], [3, 4]]);
    assert.deepEqual(maskedSelect(big, ints([0, 1, 1])).toList(), [-16777219, 2147483647]);
    assert.deepEqual([...repeatInterleave(big, 2).toArray()].slice(0, 3), [
      16777217,
      16777217,
      -16777219,
    ]);
  });
});

Deno.test("viewAs refuses what view refuses; tile and repeatInterleave take varargs forms", () => {
  scope(() => {
    const x = randn([2, 3]).t();
    assert.throws(() => x.viewAs(randn([6])), /cannot be viewed as \[6\]/);
    assert.deepEqual(x.reshapeAs(randn([6])).shape, [6]);
    assert.deepEqual(floats([1, 2]).tile(2, 2).shape, [2, 4]);
    assert.deepEqual(floats([1, 2]).repeatInterleave(2).toList(), [1, 1, 2, 2]);
  });
});

Deno.test("the new ops in a training loop that frees nothing by hand stay flat", () => {
  const lin = new nn.Linear(4, 4);
  const opt = new optim.SGD(lin.parameters(), { lr: 0.01 });
  const x = randn([6, 4]), labels = ints([0, 1, 1, 2, 0, 1]).to("cpu");
  const counts: number[] = [];
  for (let i = 0; i < 12; i++) {
    opt.zeroGrad();
    const h = lin.forward(x);
    const picked = maskedSelect(h, h.gt(0)).sum();
    const tri = tril(h.reshape([6, 4]), 1).remainder(3).mean();
    const p = h.tanh().add(2).prod(1).mean().add(h.sigmoid().cumprod(1).mean());
    const rep = repeatInterleave(h, 2, 0).diff({ dim: 0 }).square().mean();
    const grid = meshgrid(h.select(0, 0), h.select(1, 0)).reduce((a, b) => a.add(b.mean()), picked);
    const [, n] = unique(labels, { returnCounts: true });
    const w = bincount(labels, { minlength: 3 }).float().add(n.float().sum());
    picked.add(tri).add(p).add(rep).add(grid.mean()).add(w.mean().mul(0)).backward();
    opt.step();
    counts.push(memoryStats().buffersInUse);
  }
  assert.equal(counts[11], counts[5], `buffers in use: ${counts}`);
});

Deno.test("results computed on the host are op results (the step frees them); created ones are yours", () => {
  const x = floats([1, 0, 2]).requiresGrad_(true), labels = ints([0, 2, 2]);
  const made = [
    maskedSelect(x, x.gt(0)),
    nonzero(x),
    unique(labels),
    bincount(labels),
    remainder(x, 2),
    floorDivide(labels, 2),
    cumprod(x, 0),
    tril(labels.reshape([1, 3])),
    repeatInterleave(labels, 2),
    diff(labels),
    countNonzero(x),
  ];
  for (const t of made) assert.notEqual(t.owner, null, `${t.gradFn?.name ?? t.dtype} [${t.shape}]`);
  endStep();
  assert.ok(made.every((t) => !t.isAlive), "endStep freed them");
  const created = [randperm(3), randint(3, [2]), eye(2), empty([2])];
  for (const t of created) assert.equal(t.owner, null);
  assert.ok(x.isAlive && labels.isAlive);
});

Deno.test("torch's snake_case names of these ops throw, naming the method to write", () => {
  const x = tensor([1, 2, 3]);
  const torchNames = x as unknown as Record<string, unknown>;
  assert.throws(() => torchNames.masked_select, /Tensor has no \.masked_select: .*x\.maskedSelect/);
  assert.throws(() => torchNames.repeat_interleave, /x\.repeatInterleave\(repeats, dim\)/);
  assert.throws(() => torchNames.floor_divide, /x\.floorDivide\(other\)/);
  assert.throws(() => torchNames.view_as, /x\.viewAs\(other\)/);
  assert.throws(() => torchNames.logical_not, /x\.logicalNot\(\)/);
  x.dispose();
});

Deno.test("argmin and argmax of int32 are exact (float32 would round above 2^24) and first on ties", () => {
  // torch 1.13: t.argmin() 4, t.argmax() 0, t.argmin(1) [2, 1], t.argmax(0, keepdim=True) [[0, 0, 1]].
  const t = tensor(new Int32Array([16777217, 16777216, 5, 5, -2147483648, 7]), [2, 3], {
    dtype: "int32",
  });
  assert.deepEqual(argmin(t).toList(), 4);
  assert.deepEqual(t.argmax().toList(), 0);
  assert.deepEqual(argmin(t, 1).toList(), [2, 1]);
  assert.deepEqual(t.argmax(0, true).toList(), [[0, 0, 1]]);
  assert.deepEqual(argmin(t, -1, true).shape, [2, 1]);
  assert.equal(argmin(t, 1).dtype, "int32");
  const ties = tensor(new Int32Array([3, 1, 1, 3]), [4], { dtype: "int32" });
  assert.deepEqual([argmin(ties).item(), ties.argmax().item()], [1, 0]);
  t.dispose();
  ties.dispose();
});
