/**
 * `returnIndices` of F.adaptiveMaxPool1d / 2d / 3d and nn.AdaptiveMaxPool1d
 * / 2d / 3d, against PyTorch 1.13's values, int32 indices and gradients of
 * L = sum(values * G) (tests/fixtures/layer_options.json, written by
 * scripts/make_layer_options_fixtures.py): torch's bins (unequal,
 * overlapping, larger than the input, null keeping a size), the first
 * maximum of a bin, its last NaN, -inf bins, batched and unbatched inputs.
 * The plain path (no indices) gives the same values and gradients. Then
 * F.maxUnpool* fed adaptive indices, the bad options (each error naming the
 * function and what to write), and the ONNX refusal.
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda), as the op tests.
 */
import assert from "node:assert/strict";
import { functional as F, nn, onnx, randn, scope, type Tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

type Size = number | (number | null)[];
interface PoolCase {
  name: string;
  dim: 1 | 2 | 3;
  outputSize: Size;
  input: StoredRecord;
  values: StoredRecord;
  indices: StoredRecord;
  G: StoredRecord;
  grad: StoredRecord;
}
interface UnpoolCase {
  name: string;
  dim: 1 | 2 | 3;
  outputSize: number;
  kernel: number;
  stride: number;
  input: StoredRecord;
  out: StoredRecord;
  G: StoredRecord;
  grad: StoredRecord;
}
const fx = loadFixture<{ torch: string; pools: PoolCase[]; unpools: UnpoolCase[] }>(
  "layer_options.json",
);
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
const assertMatches = (t: Tensor | null, want: StoredRecord, what: string) =>
  assertStored(t, want, what, rtol, atol);

// deno-lint-ignore no-explicit-any
type Loose = any;
const POOLS: Record<1 | 2 | 3, { f: Loose; layer: Loose; unpool: Loose }> = {
  1: { f: F.adaptiveMaxPool1d, layer: nn.AdaptiveMaxPool1d, unpool: F.maxUnpool1d },
  2: { f: F.adaptiveMaxPool2d, layer: nn.AdaptiveMaxPool2d, unpool: F.maxUnpool2d },
  3: { f: F.adaptiveMaxPool3d, layer: nn.AdaptiveMaxPool3d, unpool: F.maxUnpool3d },
};

for (const c of fx.pools) {
  Deno.test(`adaptive max indices: ${c.name}, as torch ${fx.torch}`, () => {
    scope(() => {
      const { f, layer } = POOLS[c.dim];
      const x = fromStored(c.input, { requiresGrad: true, device: testDevice });
      const g = fromStored(c.G, { device: testDevice });
      const [values, indices] = f(x, c.outputSize, { returnIndices: true }) as Tensor[];
      assertMatches(values, c.values, "values");
      assert.equal(indices.dtype, "int32");
      assert.equal(indices.device, testDevice);
      assert.deepEqual([...indices.shape], c.indices.shape, "indices shape");
      assert.deepEqual([...indices.toArray()], c.indices.data, "indices");
      values.mul(g).sum().backward();
      assertMatches(x.grad, c.grad, "grad (with indices)");
      // The layer gives the same pair; returnIndices: false and no options give the values.
      const [lv, li] = new layer(c.outputSize, { returnIndices: true })(x) as Tensor[];
      assertMatches(lv, c.values, "layer values");
      assert.deepEqual([...li.toArray()], c.indices.data, "layer indices");
      const plain = f(x, c.outputSize) as Tensor;
      assertMatches(plain, c.values, "values without indices");
      assertMatches(f(x, c.outputSize, { returnIndices: false }), c.values, "returnIndices false");
      assertMatches(new layer(c.outputSize)(x), c.values, "layer without indices");
      // The plain path's gradient goes to the first maximum: torch's, where no NaN decides.
      if (!c.input.data.includes("nan")) {
        x.grad = null;
        plain.mul(g).sum().backward();
        assertMatches(x.grad, c.grad, "grad (values only)");
      }
    });
  });
}

for (const c of fx.unpools) {
  Deno.test(`adaptive max indices: maxUnpool${c.dim}d of ${c.name}, as torch`, () => {
    scope(() => {
      const { f, unpool } = POOLS[c.dim];
      const x = fromStored(c.input, { device: testDevice });
      const [values, indices] = f(x, c.outputSize, { returnIndices: true }) as Tensor[];
      const v = values.detach().requiresGrad_(true);
      const y = unpool(v, indices, c.kernel, {
        stride: c.stride,
        outputSize: x.shape.slice(-c.dim),
      }) as Tensor;
      assertMatches(y, c.out, "unpooled");
      y.mul(fromStored(c.G, { device: testDevice })).sum().backward();
      assertMatches(v.grad, c.grad, "grad of the values");
    });
  });
}

Deno.test("adaptive max indices: unbatched inputs give unbatched values and indices", () => {
  scope(() => {
    for (
      const [dim, shape, size] of [[1, [3, 7], 3], [2, [2, 5, 7], [2, null]], [
        3,
        [2, 3, 5, 4],
        [2, 2, 3],
      ]] as [1 | 2 | 3, number[], Size][]
    ) {
      const x = randn(shape, { device: testDevice });
      const [v, i] = POOLS[dim].f(x, size, { returnIndices: true }) as Tensor[];
      const [bv, bi] = POOLS[dim].f(x.unsqueeze(0), size, { returnIndices: true }) as Tensor[];
      assert.deepEqual([...v.shape], bv.shape.slice(1), `${dim}d values shape`);
      assert.deepEqual([...i.shape], bi.shape.slice(1), `${dim}d indices shape`);
      assert.deepEqual([...i.toArray()], [...bi.toArray()], `${dim}d indices`);
      assert.deepEqual([...v.toArray()], [...bv.toArray()], `${dim}d values`);
    }
  });
});

Deno.test("adaptive max indices: bad options are refused, naming the function", () => {
  scope(() => {
    const x1 = randn([1, 2, 6], { device: testDevice });
    const x2 = randn([1, 2, 6, 6], { device: testDevice });
    const x3 = randn([1, 2, 4, 4, 4], { device: testDevice });
    const cases: [string, Tensor, Size][] = [
      ["adaptiveMaxPool1d", x1, 2],
      ["adaptiveMaxPool2d", x2, [2, 2]],
      ["adaptiveMaxPool3d", x3, [2, 2, 2]],
    ];
    for (const [i, [name, x, size]] of cases.entries()) {
      const { f, layer } = POOLS[(i + 1) as 1 | 2 | 3];
      const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re, name);
      throws(
        () => f(x, size, { returnIndices: "yes" }),
        new RegExp(
          `^Error: ${name}: returnIndices must be true or false, got "yes"`,
        ),
      );
      throws(() => f(x, size, { returnIndices: 1 }), /returnIndices must be true or false, got 1/);
      throws(
        () => f(x, size, { return_indices: true }),
        /unknown option 'return_indices' \(write 'returnIndices'\)/,
      );
      throws(
        () => f(x, size, true),
        new RegExp(
          `${name}: expected an options object, got boolean true; write it as .*returnIndices: true`,
        ),
      );
      throws(() => f(x, size, {}, 1), new RegExp(`${name}: takes at most 3 arguments`));
      throws(() => f(x.int(), size, { returnIndices: true }), new RegExp(name));
      throws(() => f(x, 0, { returnIndices: true }), new RegExp(`${name}: .*output size`));
      throws(() => f(x, NaN, { returnIndices: true }), new RegExp(`${name}: .*output size`));
      throws(() => f(x.flatten(), size, { returnIndices: true }), new RegExp(`${name}: expected`));
      throws(() => f("x", size, { returnIndices: true }), new RegExp(name));
      const nnName = `nn.AdaptiveMaxPool${i + 1}d`;
      throws(
        () => new layer(size, { returnIndices: "no" }),
        new RegExp(`${nnName}: returnIndices must be true or false, got "no"`),
      );
      throws(
        () => new layer(size, true),
        new RegExp(`${nnName}: expected an options object, got boolean true; .*returnIndices`),
      );
      throws(() => new layer(size, { return_indices: true }), /write 'returnIndices'/);
      throws(() => new layer(size, {}, 1), new RegExp(`${nnName}: takes at most 2 arguments`));
    }
  });
});

Deno.test("adaptive max indices: ONNX refuses returnIndices by name, exports the plain pools", () => {
  // The 1-D pools take [N, C, H W] from an image through Flatten(2).
  const to1d = () => new nn.Flatten(2);
  // The graph ends in [N, classes]: a Flatten after the pool.
  const S = (...layers: nn.Module[]) => new nn.Sequential(...layers, new nn.Flatten());
  const cases: [string, nn.Module, nn.Module, onnx.ExportOnnxOptions["inputShape"]][] = [
    [
      "AdaptiveMaxPool1d",
      S(to1d(), new nn.AdaptiveMaxPool1d(2, { returnIndices: true })),
      S(to1d(), new nn.AdaptiveMaxPool1d(2)),
      ["N", 2, 2, 3],
    ],
    [
      "AdaptiveMaxPool2d",
      S(new nn.AdaptiveMaxPool2d(2, { returnIndices: true })),
      S(new nn.AdaptiveMaxPool2d(2)),
      ["N", 2, 4, 4],
    ],
    [
      "AdaptiveMaxPool3d",
      S(new nn.AdaptiveMaxPool3d(2, { returnIndices: true })),
      S(new nn.AdaptiveMaxPool3d(2)),
      ["N", 2, 4, 4, 4],
    ],
  ];
  for (const [name, withIndices, plain, inputShape] of cases) {
    assert.throws(
      () => onnx.exportOnnx(withIndices, { inputShape }),
      new RegExp(`${name} with returnIndices is not exported`),
    );
    assert.ok(onnx.exportOnnx(plain, { inputShape }).length > 0, name);
  }
});
