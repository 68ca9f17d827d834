/**
 * Review of the torch.Tensor methods audit (tests/tensor_docs_test.ts covers
 * the numbers): the errors around them name methods that exist and the op
 * the user called, and the 0-d unfold of size 0 is torch's.
 */
import assert from "node:assert/strict";
import { arange, noGrad, randn, tensor, zeros } from "../mod.ts";

const int = (v: number[]) => tensor(v, undefined, { dtype: "int32" });

Deno.test("tensor_docs review: an in-graph copy_, fill_ or zero_ names a method that exists", () => {
  const w = randn([2, 3], { requiresGrad: true });
  const y = w.mul(2);
  assert.throws(() => y.narrow(0, 0, 1).copy_(zeros([1, 3])), (e: Error) => {
    assert.doesNotMatch(e.message, /x\.copy\b(?!_)/, "there is no out-of-place x.copy");
    assert.match(e.message, /noGrad/);
    assert.match(e.message, /cat|where/);
    return true;
  });
  assert.throws(() => y.fill_(0), (e: Error) => {
    assert.doesNotMatch(e.message, /x\.fill\b(?!_)/);
    assert.match(e.message, /fullLike\(x, value\)/);
    return true;
  });
  assert.throws(() => y.zero_(), (e: Error) => {
    assert.doesNotMatch(e.message, /x\.zero\b(?!_)/);
    assert.match(e.message, /zerosLike\(x\)/);
    return true;
  });
  // Those that have an out-of-place form still name it.
  assert.throws(() => y.mul_(2), /out-of-place x\.mul\b/);
});

Deno.test("tensor_docs review: a write into overlapping unfold windows names unfold", () => {
  const x = arange(5);
  assert.throws(() => noGrad(() => x.unfold(0, 2, 1).mul_(2)), /unfold\(\) windows that overlap/);
  // Windows that do not overlap are written through.
  noGrad(() => x.unfold(0, 2, 2).mul_(2));
  assert.deepEqual(x.toList(), [0, 2, 4, 6, 4]);
});

Deno.test("tensor_docs review: indexFill's errors name indexFill", () => {
  const x = arange(5);
  assert.throws(
    () => x.indexFill(0, int([1]), tensor([1, 2])),
    /^Error: indexFill: value must be a number or a 0-d tensor, got a tensor of shape \[2\]/,
  );
  assert.deepEqual(x.indexFill(0, int([1, -1]), tensor(7)).toList(), [0, 7, 2, 3, 7]);
});

Deno.test("tensor_docs review: unfold of a 0-d tensor gives [size], size 0 too (torch's)", () => {
  assert.deepEqual(tensor(3).unfold(0, 0, 1).shape, [0]);
  assert.deepEqual(tensor(3).unfold(0, 1, 1).toList(), [3]);
  assert.throws(() => tensor(3).unfold(0, 2, 1), /size 2 must be an integer in \[0, 1\]/);
});

Deno.test("tensor_docs review: unfold of a 0-d tensor keeps its gradient", () => {
  const x = tensor(3, undefined, { requiresGrad: true });
  x.unfold(0, 1, 1).mul(5).sum().backward();
  assert.equal(x.grad!.item(), 5);
});

Deno.test("x.view(dtype) names the conversions (it said 'invalid shape [int32]')", () => {
  assert.throws(
    () => zeros([2]).view("int32" as never),
    /view: takes a shape, got the dtype "int32"; torch's x.view\(dtype\) reinterprets the bits.*x.int\(\)/,
  );
});
