/**
 * What a review of the 3-D layers found, against PyTorch 1.13's numbers
 * (tests/fixtures/layers_3d_fixes.json, written by
 * scripts/make_layers_3d_fixes_fixtures.py): max_pool3d windows whose real
 * values are all -inf (the gradient went into the padding), NaN windows
 * (torch's gradient goes to the last NaN), unbatched [C, D, H, W] inputs,
 * conv3d run in chunks (whole samples, several samples, one output depth
 * at a time) with the same values and gradients, the memory a chunked
 * forward takes, and the error messages the review named.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  emptyCache,
  functional as F,
  memoryStats,
  nn,
  noGrad,
  randn,
  scope,
  type Tensor,
} from "../mod.ts";
import { setConv3dWindowBytes } from "../src/tensor/ops/conv3d.ts";
import {
  fromStored,
  loadFixture,
  type Stored,
  storedNumber,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

interface OpCase {
  name: string;
  op: string;
  args: unknown[];
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: StoredRecord[];
  out: StoredRecord;
  G: Stored;
  grads: (Stored | null)[];
}

interface LayerCase {
  name: string;
  args: [number, number, number | [number, number, number]];
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  state: Record<string, Stored>;
  x: Stored;
  out: Stored;
  G: Stored;
  gx: Stored;
  grads: Record<string, Stored>;
}

const fx = loadFixture<{ pool: OpCase[]; conv: OpCase[]; convLayers: LayerCase[] }>(
  "layers_3d_fixes.json",
);

const on = (s: Stored | StoredRecord, requiresGrad = false): Tensor =>
  fromStored(s, { requiresGrad, device: testDevice });
const dev = (t: Tensor) => t.to(testDevice);
const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
// deno-lint-ignore no-explicit-any
const loose = (f: unknown) => f as (...a: any[]) => any;

/** Elementwise closeness; NaN must meet NaN and an infinity the same one. */
function close(t: Tensor | null, want: Stored | StoredRecord, what: string): void {
  assert.ok(t, `${what}: missing`);
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  assert.equal(t.device, testDevice, `${what}: device`);
  const rtol = testDevice === "cpu" ? 1e-5 : 1e-4;
  const data = want.data.map(storedNumber);
  const scale = data.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
  const atol = rtol * Math.max(scale, 1e-3);
  const got = t.toArray();
  data.forEach((e, i) => {
    const a = got[i];
    const ok = Number.isFinite(e) ? Math.abs(a - e) <= atol + rtol * Math.abs(e) : Object.is(a, e);
    assert.ok(ok, `${what}[${i}]: got ${a}, want ${e}`);
  });
}

/** Runs `fn` with conv3d's chunk budget set to `bytes`. */
function withBudget<T>(bytes: number, fn: () => T): T {
  const old = setConv3dWindowBytes(bytes);
  try {
    return fn();
  } finally {
    setConv3dWindowBytes(old);
  }
}

for (const c of fx.pool) {
  Deno.test(`layers 3d fixes: ${c.op} ${c.name}`, () => {
    scope(() => {
      const x = on(c.inputs[0], true);
      // deno-lint-ignore no-explicit-any
      const op = (F as any)[c.op] as (...a: unknown[]) => Tensor;
      const out = op(x, c.args[0], c.opts);
      close(out, c.out, `${c.name}: output`);
      out.backward(on(c.G));
      close(x.grad, c.grads[0]!, `${c.name}: gradient`);
      const Layer = c.op === "maxPool3d" ? nn.MaxPool3d : nn.AvgPool3d;
      const again = noGrad(() => new Layer(c.args[0] as number, c.opts).forward(on(c.inputs[0])));
      close(again, c.out, `${c.name}: nn module`);
    });
  });
}

Deno.test("layers 3d fixes: a max window with no element inside is -inf and takes no gradient", () => {
  // torch 1.13 gives -inf and writes the gradient outside the input (heap corruption).
  scope(() => {
    const x = dev(randn([1, 2, 1, 3, 3])).requiresGrad_();
    // The one window reads depths -1 (padding) and 1 (past the end).
    const y = F.maxPool3d(x, [2, 1, 1], { stride: 1, padding: [1, 0, 0], dilation: [2, 1, 1] });
    assert.deepEqual(y.shape, [1, 2, 1, 3, 3]);
    assert.ok(y.toArray().every((v) => v === -Infinity));
    y.sum().backward();
    assert.ok(x.grad!.toArray().every((g) => g === 0));
    // With an element inside, the window's max is that element, and so is its gradient.
    const z = dev(randn([1, 1, 2, 1, 1])).requiresGrad_();
    const m = F.maxPool3d(z, [2, 1, 1], { stride: 1, padding: [1, 0, 0], dilation: [2, 1, 1] });
    assert.deepEqual([...m.toArray()], [z.toArray()[1], z.toArray()[0]]);
    m.sum().backward();
    assert.deepEqual([...z.grad!.toArray()], [1, 1]);
  });
});

/** The chunk budgets a conv case runs under: one call, one sample, two samples, one depth. */
function budgets(x: Stored, w: Stored, o: OpCase): [string, number][] {
  const [, c, d, h, ww] = x.shape.length === 5 ? x.shape : [1, ...x.shape];
  const od = o.out.shape[o.out.shape.length - 3];
  const sample = od * w.shape[2] * c * h * ww * 4;
  void d;
  return [
    ["one chunk", 2 ** 40],
    ["a sample a chunk", sample],
    ["two samples a chunk", 2 * sample],
    [
      "one depth a chunk",
      1,
    ],
  ];
}

for (const c of fx.conv) {
  for (const [how, bytes] of budgets(c.inputs[0] as Stored, c.inputs[1] as Stored, c)) {
    Deno.test(`layers 3d fixes: F.conv3d ${c.name}, ${how}`, () => {
      withBudget(bytes, () =>
        scope(() => {
          const [x, w, b] = c.inputs.map((s) => on(s, s.grad ?? true));
          const out = F.conv3d(x, w, b ?? null, c.opts);
          close(out, c.out, `${c.name}: output`);
          out.backward(on(c.G));
          [x, w, b].forEach((t, i) => {
            if (!t) return;
            if (c.grads[i] === null) assert.equal(t.grad, null, `${c.name}: no gradient ${i}`);
            else close(t.grad, c.grads[i]!, `${c.name}: gradient ${i}`);
          });
          const again = noGrad(() => F.conv3d(on(c.inputs[0]), w, b ?? null, c.opts));
          close(again, c.out, `${c.name}: under noGrad`);
        }));
    });
  }
}

for (const c of fx.convLayers) {
  Deno.test(`layers 3d fixes: nn.Conv3d ${c.name}, from torch's state dict`, () => {
    scope(() => {
      const m = new nn.Conv3d(...c.args, c.opts).to(testDevice);
      m.loadStateDict(new Map(Object.entries(c.state).map(([k, s]) => [k, fromStored(s)])));
      const x = on(c.x, true);
      const out = m.forward(x);
      close(out, c.out, `${c.name}: output`);
      out.backward(on(c.G));
      close(x.grad, c.gx, `${c.name}: input gradient`);
      for (const [name, p] of m.namedParameters()) {
        close(p.grad, c.grads[name], `${c.name}: ${name} gradient`);
      }
    });
  });
}

Deno.test("layers 3d fixes: a chunked conv3d forward holds the output and one chunk", () => {
  // [2, 8, 32, 64, 64] -> 8 channels, 3x3x3, padding 1: the depth windows
  // of all of it are 48 MiB, the output 8 MiB; chunks of 4 MiB of windows.
  noGrad(() => {
    const x = dev(randn([2, 8, 32, 64, 64])), w = dev(randn([8, 8, 3, 3, 3]));
    const mib = 2 ** 20;
    withBudget(4 * mib, () => {
      F.conv3d(x, w, null, { padding: 1 }).dispose(); // the kernels' own first-call state
      emptyCache(testDevice);
      const before = memoryStats(testDevice);
      const y = F.conv3d(x, w, null, { padding: 1 });
      const after = memoryStats(testDevice);
      const taken = (after.bytesFromSystem - before.bytesFromSystem) / mib;
      assert.equal(after.bytesInUse - before.bytesInUse, 8 * mib, "only the output stays");
      // Output 8, one chunk's windows 4 and result under 2, each rounded up to 4 MiB segments.
      assert.ok(taken <= 24, `took ${taken} MiB from the system`);
      y.dispose();
    });
  });
});

Deno.test("layers 3d fixes: unbatched [C, D, H, W] volumes are one sample, as torch 1.13", () => {
  scope(() => {
    const x = dev(randn([2, 4, 5, 6]));
    const batched = x.unsqueeze(0);
    const w = dev(randn([3, 2, 3, 3, 3]));
    const pairs: [Tensor, Tensor][] = [
      [F.conv3d(x, w, null, { padding: 1 }), F.conv3d(batched, w, null, { padding: 1 })],
      [F.maxPool3d(x, 2), F.maxPool3d(batched, 2)],
      [F.avgPool3d(x, 3, { padding: 1 }), F.avgPool3d(batched, 3, { padding: 1 })],
      [new nn.MaxPool3d(2).forward(x), new nn.MaxPool3d(2).forward(batched)],
      [new nn.AvgPool3d(2).forward(x), new nn.AvgPool3d(2).forward(batched)],
    ];
    const conv = new nn.Conv3d(2, 3, 3, { padding: 1, paddingMode: "replicate" }).to(testDevice);
    pairs.push([conv.forward(x), conv.forward(batched)]);
    for (const [one, many] of pairs) {
      assert.deepEqual(one.shape, many.shape.slice(1));
      assert.deepEqual([...one.toArray()], [...many.toArray()]);
    }
  });
});

Deno.test("layers 3d fixes: the errors the review named say what is wrong", () => {
  scope(() => {
    const x4 = dev(randn([1, 4, 4, 4, 4]));
    throws(
      () => F.conv3d(x4, dev(randn([3, 2, 3, 3, 3])), null, { groups: 2 }),
      /the weight's 3 output channels \(dimension 0\) are not divisible by groups 2/,
    );
    throws(() => new nn.AdaptiveAvgPool3d(NaN), /got NaN; write new nn\.AdaptiveAvgPool3d\(\[1/);
    throws(() => new nn.AdaptiveMaxPool3d([1, NaN, 2]), /got \[1,NaN,2\]; write new nn\.Adapt/);
    throws(() => F.adaptiveAvgPool3d(x4, NaN), /got NaN; write F\.adaptiveAvgPool3d\(x, \[1/);
    const x = dev(randn([1, 3, 4, 4, 4])), w = dev(randn([2, 3, 3, 3, 3]));
    throws(
      () => F.conv3d(x, w, null, { dilation: 1e9 }),
      /kernel spans 2000000001 x 2000000001 x 2000000001 .*more than the padded input 4 x 4 x 4/,
    );
    throws(
      () => F.conv3d(x, w, null, { dilation: [1, 2, 1], padding: [0, 0, 1] }),
      /kernel spans 3 x 5 x 3 .*padded input 4 x 4 x 6/,
    );
    throws(
      () => F.maxPool3d(x, 3, { dilation: 1e9 }),
      /a window spans 2000000001 x 2000000001 x 2000000001, more than the padded input 4 x 4 x 4/,
    );
    throws(
      () => F.avgPool3d(x, 5),
      /a window spans 5 x 5 x 5, more than the padded input 4 x 4 x 4/,
    );
    const reflect = new nn.Conv3d(2, 4, 3, { padding: 3, paddingMode: "reflect" });
    throws(
      () => reflect.to(testDevice).forward(dev(randn([1, 2, 4, 4, 3]))),
      /reflect padding of 3 must be less than the size 3 of dimension 4 of the input \[1,2,4,4,3\]/,
    );
    throws(
      () => reflect.forward(dev(randn([2, 3, 4, 4]))),
      /size 3 of dimension 1 of the input \[2,3,4,4\]/,
    );
    throws(
      () => loose(F.conv3d)(dev(randn([4, 4, 4])), w),
      /expected input \[N, C, D, H, W\] \(or/,
    );
  });
});
