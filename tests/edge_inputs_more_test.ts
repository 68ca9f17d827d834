/**
 * Edge inputs a fuzzing audit found, each made to work as torch's or refused
 * with an Error that names the op and says what to write:
 *
 * - convolutions whose input has 0 channels (torch 1.13 returns an empty
 *   [N, 0, ...] tensor whatever the weight: refused here, before any native call);
 * - tensors of more than 8 dimensions made by a view (reshape, view,
 *   unsqueeze, expand, unflatten, repeat), and repeat of 5-D or more tensors;
 * - sizes past what can be allocated (eye, repeatInterleave, diag, conv2d's
 *   padding), with one exact element count; BigInt data in `tensor`;
 * - `F.avgPool2d` / `nn.AvgPool2d` with `divisorOverride`, against PyTorch
 *   1.13 (tests/fixtures/edge_inputs_more.json, written by
 *   scripts/make_edge_inputs_more_fixtures.py), gradients included, and its
 *   ONNX export run in ONNX Runtime;
 * - constant `F.pad`, written once: values and gradients of a reference
 *   built from narrow views, bit for bit.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  cat,
  eye,
  full,
  functional as F,
  manualSeed,
  nn,
  noGrad,
  onnx,
  randn,
  type Tensor,
  tensor,
  zeros,
} from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  type Stored,
  testDevice,
} from "./helpers.ts";
import { assertRunsAsOurs } from "./onnx_check.ts";

const dev = { device: testDevice };
const rn = (shape: readonly number[], requiresGrad = false) =>
  randn([...shape], { ...dev, requiresGrad });

// ---- 1. zero input channels ----------------------------------------------------------------

Deno.test("conv with 0 input channels: refused by the op's own name, before native code", () => {
  const cases: [string, () => unknown][] = [
    ["conv1d", () => F.conv1d(rn([1, 0, 4]), rn([3, 0, 3]))],
    ["conv1d", () => F.conv1d(rn([0, 4]), rn([3, 0, 3]))], // unbatched
    ["conv2d", () => F.conv2d(rn([1, 0, 4, 4]), rn([3, 0, 3, 3]), rn([3]))],
    ["conv2d", () => F.conv2d(rn([2, 0, 4, 4]), rn([4, 0, 3, 3]), null, { groups: 2 })],
    ["conv3d", () => F.conv3d(rn([1, 0, 4, 4, 4]), rn([3, 0, 3, 3, 3]))],
    ["conv3d", () => F.conv3d(rn([0, 4, 4, 4]), rn([3, 0, 3, 3, 3]))], // unbatched
    ["convTranspose1d", () => F.convTranspose1d(rn([1, 0, 4]), rn([0, 3, 3]))],
    ["convTranspose2d", () => F.convTranspose2d(rn([1, 0, 4, 4]), rn([0, 3, 3, 3]))],
  ];
  for (const [op, f] of cases) {
    const m = messageOf(f);
    assert.match(m, new RegExp(`^${op}: the input has 0 channels`), m);
    assert.doesNotMatch(m, /lits_|prepared/, m);
  }
  // Weights without a gradient (the prepared-weights path) take the same check.
  assert.match(
    messageOf(() => noGrad(() => F.conv2d(zeros([1, 0, 5, 5], dev), zeros([3, 0, 3, 3], dev)))),
    /^conv2d: the input has 0 channels/,
  );
  // One channel still works.
  assert.deepEqual(F.conv2d(rn([1, 1, 4, 4]), rn([3, 1, 3, 3])).shape, [1, 3, 2, 2]);
  const notes = loadFixture<{ notes: { conv2d_zero_channels_shape: number[] } }>(
    "edge_inputs_more.json",
  ).notes;
  // What torch does instead (recorded by the generator): no output channels at all.
  assert.deepEqual(notes.conv2d_zero_channels_shape, [2, 0, 4, 4]);
});

// ---- 2. more than 8 dimensions -------------------------------------------------------------

Deno.test("views of more than 8 dimensions are refused where they are made, naming the op", () => {
  const nine = [1, 1, 1, 1, 1, 1, 1, 1, 1];
  const eight = rn([1, 1, 1, 1, 1, 1, 1, 2]);
  const cases: [string, () => unknown][] = [
    ["reshape", () => rn([1]).reshape(nine)],
    ["view", () => rn([1]).view(nine)],
    ["unsqueeze", () => eight.unsqueeze(0)],
    ["unsqueeze", () => eight.transpose(0, 7).unsqueeze(-1)], // a strided view
    ["expand", () => rn([1]).expand(nine)],
    ["unflatten", () => eight.unflatten(7, [2, 1])],
    ["repeat", () => rn([2]).repeat(nine)],
  ];
  for (const [op, f] of cases) {
    assert.equal(
      messageOf(f),
      `${op}: would make a tensor of 9 dimensions; this library's tensors have at most 8`,
    );
  }
  // Eight still work, and op on them too.
  assert.equal(eight.reshape([1, 1, 1, 1, 1, 1, 2, 1]).add(1).ndim, 8);
  assert.equal(rn([1]).expand([1, 1, 1, 1, 1, 1, 1, 3]).contiguous().numel(), 3);
  assert.match(messageOf(() => zeros(nine)), /^zeros: at most 8 dimensions, got 9/);
});

Deno.test("repeat of 5-D and more tensors: torch's values and gradient", () => {
  manualSeed(3);
  const x = rn([1, 2, 1, 2, 3], true);
  const reps = [2, 1, 3, 2, 1];
  const r = x.repeat(reps);
  assert.deepEqual(r.shape, [2, 2, 3, 4, 3]);
  const xv = x.toArray(), rv = r.toArray();
  const [A, B, C, D, E] = r.shape;
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < B; b++) {
      for (let c = 0; c < C; c++) {
        for (let d = 0; d < D; d++) {
          for (let e = 0; e < E; e++) {
            const at = (((a * B + b) * C + c) * D + d) * E + e;
            assert.equal(rv[at], xv[b * 6 + (d % 2) * 3 + e], `at ${[a, b, c, d, e]}`);
          }
        }
      }
    }
  }
  r.sum().backward();
  assert.deepEqual([...new Set(x.grad!.toArray())], [12]); // 2 * 3 * 2 copies
  // 8-D with leading counts: more than 4 dimensions of counts.
  const y = rn([2, 1, 1, 1, 1, 1, 1, 2]).repeat([1, 1, 1, 1, 1, 1, 2, 1]);
  assert.deepEqual(y.shape, [2, 1, 1, 1, 1, 1, 2, 2]);
});

// ---- 3. sizes past what can be allocated, BigInt ----------------------------------------

Deno.test("sizes past what can be allocated: the op's name and one exact count", () => {
  const eyeMessage = messageOf(() => eye(2 ** 31));
  assert.match(eyeMessage, /^eye: cannot allocate 4611686018427387904 elements/);
  const ri = messageOf(() => rn([3]).repeatInterleave(2 ** 31));
  assert.match(ri, /^repeatInterleave: cannot allocate 6442450944 elements/);
  assert.match(
    messageOf(() => zeros([3], dev).diag(-(2 ** 31))),
    /^diag: cannot allocate 4611686031312289801 elements/,
  );
  const conv = messageOf(() =>
    F.conv2d(rn([1, 1, 4, 4]), rn([1, 1, 3, 3]), null, { padding: 1e9 })
  );
  assert.match(conv, /^conv2d: cannot allocate 4000000008000000004 elements/);
  for (const m of [eyeMessage, ri, conv]) assert.doesNotMatch(m, /e\+|lits_alloc/, m);
  // One number: the bytes are 4 per element, exact.
  assert.match(conv, /\(16000000032000000016 bytes\)/);
  // Padding past what a tensor holds.
  assert.match(
    messageOf(() => F.pad(rn([1, 1]), [2 ** 30, 2 ** 30, 2 ** 30, 2 ** 30])),
    /^pad: cannot allocate/,
  );
});

Deno.test("tensor() of BigInt data says to write Number(v) or an Int32Array", () => {
  // deno-lint-ignore no-explicit-any
  const m = messageOf(() => tensor([1n, 2n] as any));
  assert.match(m, /^tensor: an element is the BigInt 1n: write Number\(v\)/);
  assert.match(m, /Int32Array/);
  // deno-lint-ignore no-explicit-any
  assert.match(messageOf(() => tensor([[1], [2n]] as any)), /BigInt 2n/);
});

// ---- 4. avgPool2d's divisorOverride --------------------------------------------------------

interface PoolCase {
  kernel: number | number[];
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  x: Stored;
  out: Stored;
  G: Stored;
  dx: Stored;
}
const fx = loadFixture<{ torch: string; avgPool2d: PoolCase[] }>("edge_inputs_more.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];

Deno.test("avgPool2d divisorOverride: torch's values and gradients (F and nn)", () => {
  assert.ok(fx.avgPool2d.length >= 7);
  for (const [i, c] of fx.avgPool2d.entries()) {
    const what = `case ${i} ${JSON.stringify(c.opts)}`;
    const kernel = c.kernel as number | [number, number];
    for (const via of ["F", "nn"] as const) {
      const x = fromStored(c.x, { requiresGrad: true, device: testDevice });
      const y: Tensor = via === "F"
        ? F.avgPool2d(x, kernel, c.opts)
        : new nn.AvgPool2d(kernel, c.opts).forward(x);
      assertStored(y, c.out, `${via} ${what}: out`, rtol, atol);
      y.mul(fromStored(c.G, { device: testDevice })).sum().backward();
      assertStored(x.grad!, c.dx, `${via} ${what}: dx`, rtol, atol);
    }
  }
  const pool = new nn.AvgPool2d(2, { divisorOverride: 3 });
  assert.equal(pool.divisorOverride, 3);
  assert.equal(new nn.AvgPool2d(2).divisorOverride, null);
});

Deno.test("avgPool2d divisorOverride: bad values name the option", () => {
  for (const bad of [0, 2.5, NaN, "3"]) {
    const m = messageOf(() =>
      // deno-lint-ignore no-explicit-any
      F.avgPool2d(rn([1, 1, 4, 4]), 2, { divisorOverride: bad as any })
    );
    assert.match(m, /^avgPool2d: divisorOverride must be a nonzero integer or null/, m);
  }
  // null is torch's None: the window's count.
  const x = rn([1, 1, 4, 4]);
  assert.deepEqual(
    F.avgPool2d(x, 2, { divisorOverride: null }).toArray(),
    F.avgPool2d(x, 2).toArray(),
  );
  assert.match(
    messageOf(() => F.avgPool2d(x, 2, { divisor: 3 } as never)),
    /unknown option 'divisor'/,
  );
});

Deno.test({
  name: "avgPool2d divisorOverride: ONNX export runs as ours in ONNX Runtime",
  ignore: testDevice !== "cpu",
  fn: async () => {
    manualSeed(5);
    for (
      const opts of [
        { divisorOverride: 3 },
        { stride: 2, padding: 1, ceilMode: true, divisorOverride: 5 },
        { stride: 2, padding: 1, ceilMode: true, countIncludePad: false, divisorOverride: -2 },
      ]
    ) {
      const pool = new nn.AvgPool2d(3, opts);
      const probe = noGrad(() => pool.forward(randn([1, 2, 7, 8])));
      const model = new nn.Sequential(pool, new nn.Flatten(), new nn.Linear(probe.numel(), 3));
      model.eval();
      const bytes = onnx.exportOnnx(model, { inputShape: ["N", 2, 7, 8] });
      await assertRunsAsOurs(model, bytes, [2, 7, 8], { nonTrivial: true });
    }
  },
});

// ---- 5. constant pad written once ----------------------------------------------------------

/** The reference: every padded dimension joined from blocks (the former path), with narrow views. */
function padReference(x: Tensor, amounts: number[], value: number): Tensor {
  let y = x;
  for (let k = 0; k < amounts.length / 2; k++) {
    const d = x.ndim - 1 - k, before = amounts[2 * k], after = amounts[2 * k + 1];
    const start = Math.max(-before, 0), cut = start + Math.max(-after, 0);
    y = y.narrow(d, start, y.shape[d] - cut);
    const block = (n: number) => full(y.shape.map((s, i) => (i === d ? n : s)), value, dev);
    const parts = [...(before > 0 ? [block(before)] : []), y, ...(after > 0 ? [block(after)] : [])];
    if (parts.length > 1) y = cat(parts, d);
  }
  return y;
}

const bits = (t: Tensor) => [...new Uint32Array(t.contiguous().toArray().buffer)];

Deno.test("constant pad: values and gradients bit for bit, crops, -0, NaN, strided input", () => {
  manualSeed(7);
  const cases: [number[], number[], number, number[] | null][] = [
    [[2, 3, 5, 6], [1, 2, 3, 1], 0, null],
    [[2, 3, 5, 6], [1, -2, -1, 3], 2.5, null],
    [[4, 7], [0, 3], -0, null],
    [[3, 4, 5], [2, 2, 0, 0, 1, 1], NaN, null],
    [[2, 3, 4, 5], [-1, -1, 2, 0, 0, 0, 1, 1], 1, [0, 2, 1, 3]],
    [[5], [3, -2], 7, null],
    [[2, 3, 4], [0, 0, -1, 0], 1, null],
  ];
  for (const [shape, amounts, value, perm] of cases) {
    const what = `[${shape}] pad [${amounts}] value ${value}`;
    const base = rn(shape, true);
    const x = perm ? base.permute(perm) : base;
    const y = F.pad(x, amounts, "constant", value);
    const ref = padReference(x.detach(), amounts, value);
    assert.deepEqual(y.shape, ref.shape, what);
    assert.deepEqual(bits(y), bits(ref), what);
    const g = rn(y.shape);
    y.mul(g).sum().backward();
    // The gradient is dy's interior: the reference's own backward.
    const leaf = base.detach().requiresGrad_(true);
    const refY = padReference(perm ? leaf.permute(perm) : leaf, amounts, value);
    refY.mul(g).sum().backward();
    assert.deepEqual(bits(base.grad!), bits(leaf.grad!), `${what}: grad`);
  }
  // -0 inside the input stays -0; an empty input is all value, with an (empty) gradient.
  assert.deepEqual(bits(F.pad(tensor([-0, 1, -0], dev), [1, 1])), bits(tensor([0, -0, 1, -0, 0])));
  const empty = rn([2, 0, 3], true);
  const p = F.pad(empty, [1, 1], "constant", 4);
  assert.deepEqual(p.shape, [2, 0, 5]);
  p.sum().backward();
  assert.deepEqual(empty.grad!.shape, [2, 0, 3]);
  // Crops only: a view of the input.
  assert.deepEqual(F.pad(tensor([1, 2, 3], dev), [-1, -1]).toArray(), new Float32Array([2]));
});
