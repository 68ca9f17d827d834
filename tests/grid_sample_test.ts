/**
 * F.gridSample and F.affineGrid against PyTorch 1.13
 * (tests/fixtures/grid_sample.json, written by
 * scripts/make_grid_sample_fixtures.py): every mode x paddingMode x
 * alignCorners on a [2, 3, 5, 7] input with a grid that holds corners,
 * pixel centres and far-away points, on a 1x1 image, and on NaN, infinite
 * and huge positions; outputs and the gradients of L = sum(out * G) for the
 * input and the grid. Then affineGrid, the identity round trip, and the
 * argument checks. Tensors are made on LITS_TEST_DEVICE.
 */
import assert from "node:assert/strict";
import { functional as F, noGrad, randn, scope, type Tensor, tensor } from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface SampleCase {
  mode: F.GridSampleMode;
  paddingMode: F.GridSamplePaddingMode;
  alignCorners: boolean;
  out: StoredRecord;
  gInput?: StoredRecord;
  gGrid?: StoredRecord;
}

interface SampleSet {
  input: StoredRecord;
  grid: StoredRecord;
  G: StoredRecord;
  cases: SampleCase[];
}

interface AffineCase {
  size: number[];
  alignCorners: boolean;
  theta: StoredRecord;
  out: StoredRecord;
  G: StoredRecord;
  gTheta: StoredRecord;
}

const fx = loadFixture<{
  torch: string;
  main: SampleSet;
  one: SampleSet;
  nonfinite: SampleSet;
  affine: AffineCase[];
}>("grid_sample.json");

const on = (s: StoredRecord, requiresGrad = false) =>
  fromStored(s, { requiresGrad, device: testDevice });

const assertMatches = assertStored;

for (
  const [setName, set] of Object.entries({ main: fx.main, one: fx.one, nonfinite: fx.nonfinite })
) {
  for (const c of set.cases) {
    const name = `${c.mode} ${c.paddingMode} alignCorners ${c.alignCorners}`;
    Deno.test(`gridSample ${setName}: ${name}`, () => {
      scope(() => {
        const x = on(set.input, true), grid = on(set.grid, true);
        const options = { mode: c.mode, paddingMode: c.paddingMode, alignCorners: c.alignCorners };
        const out = F.gridSample(x, grid, options);
        assert.equal(out.device, testDevice);
        // Bicubic sums 16 products (a few ulps more).
        const rtol = c.mode === "bicubic" ? 2e-5 : 1e-5;
        assertMatches(out, c.out, `${name}: output`, rtol, 2e-6);
        if (c.gInput === undefined) return;
        out.mul(on(set.G)).sum().backward();
        assertMatches(x.grad!, c.gInput, `${name}: input gradient`, rtol, 2e-6);
        // Border and reflection make some of them sums that cancel (taps that read one pixel).
        assertMatches(grid.grad!, c.gGrid!, `${name}: grid gradient`, 1e-4, 3e-5);
      });
    });
  }
}

Deno.test("gridSample: the same values without gradients, and under noGrad", () => {
  scope(() => {
    for (const c of fx.main.cases) {
      const options = { mode: c.mode, paddingMode: c.paddingMode, alignCorners: c.alignCorners };
      const plain = F.gridSample(on(fx.main.input), on(fx.main.grid), options);
      assert.equal(plain.requiresGrad, false);
      assertMatches(plain, c.out, `${c.mode} ${c.paddingMode}: no gradient`, 2e-5, 2e-6);
      const x = on(fx.main.input, true), grid = on(fx.main.grid, true);
      const quiet = noGrad(() => F.gridSample(x, grid, options));
      assert.equal(quiet.requiresGrad, false);
      assert.deepEqual(quiet.toArray(), plain.toArray());
    }
  });
});

Deno.test("gridSample: one channel at a time, and a strided grid, give the same values", () => {
  scope(() => {
    const x = on(fx.main.input), grid = on(fx.main.grid);
    for (const mode of ["bilinear", "nearest", "bicubic"] as const) {
      const all = F.gridSample(x, grid, { mode, paddingMode: "reflection" });
      for (let c = 0; c < 3; c++) {
        const one = F.gridSample(x.narrow(1, c, 1), grid, { mode, paddingMode: "reflection" });
        assert.deepEqual(one.toArray(), all.narrow(1, c, 1).toArray(), `${mode} channel ${c}`);
      }
      // The same grid stored [N, 2, H_out, W_out] and permuted into place.
      const strided = grid.permute([0, 3, 1, 2]).contiguous().permute([0, 2, 3, 1]);
      assert.equal(strided.isContiguous, false);
      assert.deepEqual(
        F.gridSample(x, strided, { mode, paddingMode: "reflection" }).toArray(),
        all.toArray(),
      );
    }
  });
});

Deno.test("gridSample: NaN positions with border and reflection padding give finite gradients", () => {
  scope(() => {
    // torch's own bilinear backward reads outside the input here; ours is the clipped position's.
    const x = randn([1, 2, 3, 4], { device: testDevice, requiresGrad: true });
    const grid = tensor([NaN, 0.2, 0.3, NaN, NaN, NaN, Infinity, -Infinity], [1, 2, 2, 2], {
      device: testDevice,
      requiresGrad: true,
    });
    for (const paddingMode of ["border", "reflection"] as const) {
      x.grad = null;
      grid.grad = null;
      const out = F.gridSample(x, grid, { paddingMode });
      assert.ok(out.toArray().every(Number.isFinite), paddingMode);
      out.sum().backward();
      assert.ok(x.grad!.toArray().every(Number.isFinite), `${paddingMode}: input gradient`);
      // Each NaN or infinite coordinate was clipped: its gradient is 0; the others' are not.
      const gg = grid.grad!.toArray();
      assert.deepEqual([0, 3, 4, 5, 6, 7].map((i) => gg[i] + 0), [0, 0, 0, 0, 0, 0], paddingMode);
      assert.ok(gg[1] !== 0 && gg[2] !== 0 && Number.isFinite(gg[1] + gg[2]), paddingMode);
      // All the gradient lands on pixels: 2 channels x 4 outputs.
      assert.ok(Math.abs(x.grad!.sum().item() - 8) < 1e-5, `${paddingMode}: gradient sum`);
    }
  });
});

Deno.test("gridSample: nearest rounds half to even, and gives the grid a zero gradient", () => {
  scope(() => {
    // alignCorners false on 4 pixels: x = (g + 1) * 2 - 0.5.
    const x = tensor([[[[10, 20, 30, 40]]]], undefined, { device: testDevice });
    const g = [-1, -0.5, 0, 0.5, 1]; // x = -0.5, 0.5, 1.5, 2.5, 3.5
    const grid = tensor(g.flatMap((v) => [v, 0]), [1, 1, 5, 2], {
      device: testDevice,
      requiresGrad: true,
    });
    const out = F.gridSample(x, grid, { mode: "nearest" });
    assert.deepEqual([...out.toArray()], [10, 10, 30, 30, 0]); // pixels -0, 0, 2, 2, 4 (outside)
    out.sum().backward();
    assert.deepEqual([...grid.grad!.toArray()], Array(10).fill(0));
    const border = F.gridSample(x, grid, { mode: "nearest", paddingMode: "border" });
    assert.deepEqual([...border.toArray()], [10, 10, 30, 30, 40]); // 3.5 is clipped to 3 first
  });
});

Deno.test("affineGrid: 2-D and 3-D, both alignCorners, and theta's gradient", () => {
  for (const c of fx.affine) {
    scope(() => {
      const theta = on(c.theta, true);
      const grid = F.affineGrid(theta, c.size, { alignCorners: c.alignCorners });
      const what = `affineGrid [${c.size}] alignCorners ${c.alignCorners}`;
      assertMatches(grid, c.out, what, 1e-5, 2e-6);
      grid.mul(on(c.G)).sum().backward();
      assertMatches(theta.grad!, c.gTheta, `${what}: theta gradient`, 1e-5, 1e-5);
    });
  }
});

Deno.test("affineGrid(identity) then gridSample returns the input", () => {
  scope(() => {
    const x = on(fx.main.input);
    const identity = tensor([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0], [2, 2, 3], {
      device: testDevice,
    });
    for (const alignCorners of [false, true]) {
      const grid = F.affineGrid(identity, x.shape, { alignCorners });
      for (const mode of ["bilinear", "nearest", "bicubic"] as const) {
        for (const paddingMode of ["zeros", "border", "reflection"] as const) {
          const y = F.gridSample(x, grid, { mode, paddingMode, alignCorners });
          const a = y.toArray(), b = x.toArray();
          const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
          assert.ok(worst < 1e-5, `${mode} ${paddingMode} ${alignCorners}: off by ${worst}`);
        }
      }
    }
  });
});

Deno.test("gridSample: empty outputs keep their shape", () => {
  scope(() => {
    const x = randn([2, 3, 4, 4], { device: testDevice, requiresGrad: true });
    const grid = randn([2, 0, 5, 2], { device: testDevice, requiresGrad: true });
    const y = F.gridSample(x, grid);
    assert.deepEqual([...y.shape], [2, 3, 0, 5]);
    y.sum().backward();
    assert.deepEqual([...x.grad!.shape], [2, 3, 4, 4]);
    assert.deepEqual([...grid.grad!.shape], [2, 0, 5, 2]);
  });
});

Deno.test("gridSample and affineGrid: bad arguments say what to write", () => {
  scope(() => {
    const x = randn([2, 3, 5, 7], { device: testDevice });
    const grid = randn([2, 4, 5, 2], { device: testDevice });
    const bad = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, pattern);
    bad(() => F.gridSample(x.narrow(0, 0, 1).reshape([3, 5, 7]), grid), /4-D \[N, C, H, W\]/);
    bad(() => F.gridSample(x, grid.reshape([2, 20, 2])), /grid must be \[N, H_out, W_out, 2\]/);
    bad(() => F.gridSample(x, randn([2, 4, 5, 3], { device: testDevice })), /last dimension/);
    bad(() => F.gridSample(x, grid.narrow(0, 0, 1)), /same batch size/);
    bad(
      () => F.gridSample(randn([1, 1, 2, 3, 4]), randn([1, 2, 3, 4, 3])),
      /5-D \(volumetric\) sampling is not implemented/,
    );
    bad(() => F.gridSample(x.int(), grid), /gridSample: input: expected a float32/);
    bad(() => F.gridSample(x, grid.int()), /gridSample: grid: expected a float32/);
    bad(() => F.gridSample(x, [[0, 0]] as unknown as Tensor), /grid: expected a Tensor/);
    // deno-lint-ignore no-explicit-any
    const anyOptions = (o: unknown) => o as any;
    bad(() => F.gridSample(x, grid, { mode: anyOptions("linear") }), /mode must be "bilinear"/);
    bad(
      () => F.gridSample(x, grid, { paddingMode: anyOptions("reflect") }),
      /torch's name for it is "reflection"/,
    );
    bad(() => F.gridSample(x, grid, anyOptions({ padding_mode: "border" })), /'paddingMode'/);
    bad(() => F.gridSample(x, grid, anyOptions({ align_corners: true })), /'alignCorners'/);
    bad(() => F.gridSample(x, grid, { alignCorners: anyOptions(1) }), /true or false/);
    bad(() => F.gridSample(x, grid, anyOptions("nearest")), /options object/);
    bad(
      () => (F.gridSample as (...a: unknown[]) => Tensor)(x, grid, "bilinear", "zeros"),
      /at most 3 arguments/,
    );
    bad(() => F.gridSample(randn([1, 1, 0, 4]), randn([1, 2, 2, 2])), /empty spatial/);
    const theta = randn([2, 2, 3], { device: testDevice });
    bad(() => F.affineGrid(theta, [2, 3, 4]), /size must be \[N, C, H, W\]/);
    bad(() => F.affineGrid(theta, [3, 1, 4, 4]), /shape \[3, 2, 3\].*got theta \[2,2,3\]/);
    bad(() => F.affineGrid(theta, [2, 1, 4, 4, 4]), /3-D affine matrices of shape \[2, 3, 4\]/);
    bad(() => F.affineGrid(theta, [2, 1, 0, 4]), /positive integers/);
    bad(() => F.affineGrid(theta.int(), [2, 1, 4, 4]), /theta: expected a float32/);
    bad(
      () => F.affineGrid(theta, [2, 1, 4, 4], anyOptions({ align_corners: true })),
      /'alignCorners'/,
    );
    bad(() => F.affineGrid(theta, [2, 1, 4, 4], anyOptions(false)), /options object/);
  });
});

Deno.test("gridSample: a second call before the first backward leaves the first's gradient intact", () => {
  scope(() => {
    const c = fx.main.cases.find((k) => k.mode === "bilinear" && k.paddingMode === "reflection")!;
    const x = on(fx.main.input, true), grid = on(fx.main.grid, true);
    const out = F.gridSample(x, grid, { paddingMode: "reflection", alignCorners: c.alignCorners });
    // Another call in between, with other positions and sizes.
    const other = F.gridSample(on(fx.one.input, true), on(fx.one.grid, true), { mode: "bicubic" });
    out.mul(on(fx.main.G)).sum().backward();
    other.sum().backward();
    assertMatches(grid.grad!, c.gGrid!, "grid gradient after another call", 1e-4, 3e-5);
    assertMatches(x.grad!, c.gInput!, "input gradient after another call");
  });
});
