/**
 * Habits from PyTorch's "Learn the Basics" and transfer-learning tutorials,
 * ported line by line: a tensor used as a JavaScript number
 * (`running_corrects += torch.sum(preds == labels)`), torch's `out=`
 * (`torch.matmul(a, b, out=y)`), `torch.tensor(data, dtype=...)`,
 * `copy.deepcopy(model.state_dict())`, and the messages of `x.type(...)`,
 * `x.double()` and sizes given as an object.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual, types } from "node:util";
import {
  abs,
  cat,
  endStep,
  eq,
  gt,
  matmul,
  nn,
  noGrad,
  optim,
  pow,
  randn,
  sqrt,
  stack,
  type Tensor,
  tensor,
  where,
} from "../mod.ts";
import { messageOf, testDevice } from "./helpers.ts";

const on = (data: number[], shape?: number[]): Tensor =>
  tensor(data, shape, { device: testDevice });

Deno.test("a one-element tensor in JavaScript arithmetic is its value (torch's Python number)", () => {
  const preds = on([0, 1, 1, 0]), labels = on([0, 1, 0, 0]);
  let runningCorrects = 0;
  runningCorrects += preds.eq(labels).sum() as unknown as number;
  assert.equal(runningCorrects, 3);
  const epochAcc = runningCorrects / 4;
  assert.equal(epochAcc, 0.75);
  let runningLoss = 0;
  runningLoss += (on([0.5]) as unknown as number) * 4;
  assert.equal(runningLoss, 2);
  assert.equal(Number(tensor([[4]], { device: testDevice })), 4);
  assert.ok((on([3]) as unknown as number) > 2);
  assert.equal("loss " + on([0.5]), "loss 0.5");
  assert.equal(`${on([2])}`, String(on([2])));
  assert.match(`${on([2])}`, /^tensor\(\[2\.\], shape=\[1\]/);
  const int = tensor(new Int32Array([7]), [1], { device: testDevice });
  assert.equal((int as unknown as number) + 1, 8);
});

Deno.test("a tensor of several elements in JavaScript arithmetic throws, naming what to write", () => {
  const x = randn([2, 3]).to(testDevice);
  assert.match(
    messageOf(() => Number(x)),
    /\[2,3\] of 6 elements used as a number: .*sum\(\)\.item\(\)/,
  );
  assert.match(
    messageOf(() => (x as unknown as number) + 1),
    /used as a primitive \(\+ or ==\): .*`\$\{t\}` for text/,
  );
  assert.match(messageOf(() => (x as unknown as number) > 0), /used as a number/);
  assert.match(`${x}`, /^tensor\(/); // text still works
  endStep();
});

Deno.test("torch's out= and other extra arguments throw instead of being dropped", () => {
  const a = on([1, 2, 3, 4], [2, 2]), y3 = on([0, 0, 0, 0], [2, 2]);
  assert.match(
    messageOf(() => (matmul as (...a: unknown[]) => Tensor)(a, a.T, { out: y3 })),
    /matmul: takes at most 2 arguments, got 3; torch's out= has no counterpart here: assign the result \(y = matmul\(a, b\)\)/,
  );
  assert.deepEqual([...y3.toArray()], [0, 0, 0, 0]);
  const calls: [string, () => unknown][] = [
    ["cat", () => (cat as (...a: unknown[]) => Tensor)([a, a], 0, { out: y3 })],
    ["stack", () => (stack as (...a: unknown[]) => Tensor)([a, a], 0, 1)],
    ["pow", () => (pow as (...a: unknown[]) => Tensor)(a, 2, { out: y3 })],
    ["sqrt", () => (sqrt as (...a: unknown[]) => Tensor)(a, { out: y3 })],
    ["abs", () => (abs as (...a: unknown[]) => Tensor)(a, { out: y3 })],
    ["where", () => (where as (...a: unknown[]) => Tensor)(a.gt(1), a, 0, { out: y3 })],
    ["gt", () => (gt as (...a: unknown[]) => Tensor)(a, 1, { out: y3 })],
    ["eq", () => (eq as (...a: unknown[]) => Tensor)(a, 1, { out: y3 })],
  ];
  for (const [name, f] of calls) {
    assert.match(messageOf(f), new RegExp(`^${name}: takes at most \\d arguments?, got \\d`), name);
  }
  assert.match(messageOf(calls[1][1]), /; write stack\(\[a, b\], dim\)$/);
  // the plain calls are unchanged
  assert.deepEqual([...matmul(a, a).toArray()], [7, 10, 15, 22]);
  assert.deepEqual([...cat([a, a], 1).shape], [2, 4]);
  endStep();
});

Deno.test("tensor(data, { dtype }): the options second, as torch.tensor(data, dtype=...); integers that float32 would round are refused", () => {
  const y = tensor([0, 1, 1], { dtype: "int32", device: testDevice });
  assert.equal(y.dtype, "int32");
  assert.deepEqual([...y.shape], [3]);
  const w = tensor([[1, 2]], { requiresGrad: true, device: testDevice });
  assert.ok(w.requiresGrad);
  assert.deepEqual([...w.shape], [1, 2]);
  // integer lists past 2^24 would round in float32 (torch keeps them int64, exact)
  assert.match(
    messageOf(() => tensor([16777217, 1])),
    /the integer 16777217 does not fit float32 exactly .* \{ dtype: "int32" \}/,
  );
  assert.equal(tensor([16777217, 1], { dtype: "int32" }).sum().item(), 16777218);
  assert.deepEqual([...tensor([0.5, 16777217]).toArray()], [0.5, 16777216]); // float data rounds, as torch's
  assert.deepEqual([...tensor([16777216, 2 ** 31]).toArray()], [16777216, 2 ** 31]); // exact in float32
  // past int32, integers are JavaScript's spelling of large floats (1e30), as torch's floats
  assert.deepEqual([...tensor([1e15, -1e30]).toArray()], [Math.fround(1e15), Math.fround(-1e30)]);
  assert.match(
    messageOf(() => tensor([1], "x" as unknown as number[])),
    /tensor: the second argument is the shape \(or the options\), got string/,
  );
  assert.match(
    messageOf(() => tensor([1], { dtpye: "int32" } as unknown as { dtype: "int32" })),
    /dtpye/,
  );
});

Deno.test("nn.utils.cloneStateDict: copy.deepcopy(model.state_dict()) kept past steps and blocks", () => {
  const model = new nn.Linear(3, 2).to(testDevice);
  const opt = new optim.SGD(model.parameters(), { lr: 0.5 });
  const first = [...model.weight.toArray()];
  // taken inside a no-grad block and assigned, not returned (the tutorial's phase loop)
  let best = new Map<string, Tensor>();
  noGrad(() => {
    best = nn.utils.cloneStateDict(model.stateDict());
    model.weight.mul(2); // other work of the block, freed with it
  });
  for (let i = 0; i < 3; i++) {
    opt.zeroGrad();
    model.forward(randn([4, 3]).to(testDevice)).sum().backward();
    opt.step();
  }
  opt.zeroGrad();
  endStep();
  assert.notDeepEqual([...model.weight.toArray()], first);
  assert.deepEqual([...best.get("weight")!.toArray()], first);
  assert.ok(best.get("weight") !== model.weight);
  model.loadStateDict(best);
  assert.deepEqual([...model.weight.toArray()], first);
  assert.match(
    messageOf(() => nn.utils.cloneStateDict({} as Map<string, Tensor>)),
    /expected a state dict \(model.stateDict\(\), a Map\), got object/,
  );
});

Deno.test("a state dict reads as torch's dict: sd['fc.weight'] is the entry", () => {
  const model = new nn.Sequential(new nn.Linear(3, 2)).to(testDevice);
  const sd = model.stateDict();
  const byIndex = (sd as unknown as Record<string, Tensor>)["0.weight"];
  assert.equal(byIndex, sd.get("0.weight"));
  assert.deepEqual([...byIndex.shape], [2, 3]); // torch's model.state_dict()[name].size()
  assert.ok(sd instanceof Map);
  assert.equal(sd.size, 2);
  assert.deepEqual([...sd.keys()], ["0.weight", "0.bias"]);
  assert.equal((sd as unknown as Record<string, unknown>)["0.nope"], undefined);
  assert.match(
    messageOf(() => ((sd as unknown as Record<string, unknown>)["0.weight"] = byIndex)),
    /sd\["0\.weight"\] = \.\.\. does not change the entry of a Map; write sd\.set\("0\.weight", tensor\)/,
  );
  // still a real Map: node's checks, deep equality, Map's own methods, unchanged keys and JSON
  assert.ok(types.isMap(sd));
  assert.ok(isDeepStrictEqual(sd, new Map(sd)));
  assert.equal(Map.prototype.get.call(sd, "0.bias"), sd.get("0.bias"));
  assert.deepEqual(Object.keys(sd), []);
  assert.equal(JSON.stringify(sd), "{}");
  assert.deepEqual(model.loadStateDict(sd), { missingKeys: [], unexpectedKeys: [] });
});

Deno.test("torch's x.type(torch.float), x.double() and sizes as an object say what to write", () => {
  const x = on([1, 2]);
  assert.match(
    messageOf(() => (x as unknown as { type(t: string): Tensor }).type("float")),
    /Tensor has no \.type: torch's x\.type\(torch\.float\) is x\.float\(\) here/,
  );
  assert.match(messageOf(() => x.double()), /read it as a number with \.item\(\)/);
  assert.match(
    messageOf(() => new nn.Linear({ inFeatures: 784 } as unknown as number, 20)),
    /Linear: inFeatures must be a positive integer, got an object; .*new nn\.Linear\(784, 20/,
  );
});
