/**
 * F.convTranspose2d and nn.ConvTranspose2d against PyTorch 1.13
 * (tests/fixtures/conv_transpose.json, written by
 * scripts/make_conv_transpose_fixtures.py): outputs and the gradients of
 * L = sum(out * G) over strides, paddings, output paddings, dilations,
 * groups and rectangular geometry; a layer loaded from torch's state dict;
 * a small U-Net's up path end to end (with op fusion on and off); torch's
 * initialisation bounds; the refusals. With `LITS_TEST_DEVICE=cuda` the
 * same runs on device "cuda", and on a CPU-only machine one test reruns
 * this file with the CPU library standing in for CUDA.
 */
import assert from "node:assert/strict";
import { autocast, cat, functional as F, nn, noGrad, randn, scope, type Tensor } from "../mod.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";

const { convTranspose2d } = F;
const { ConvTranspose2d } = nn;
import { cpuLibraryPath } from "../src/ffi/native.ts";
import { assertShape, fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

interface Case {
  name: string;
  opts: {
    stride: [number, number];
    padding: [number, number];
    outputPadding: [number, number];
    groups: number;
    dilation: [number, number];
  };
  x: Stored;
  weight: Stored;
  bias: Stored | null;
  out: Stored;
  G: Stored;
  grads: [Stored, Stored, Stored | null];
}
interface LayerCase {
  args: [number, number, number | [number, number]];
  // deno-lint-ignore no-explicit-any
  kw: Record<string, any>;
  state: Record<string, Stored>;
  x: Stored;
  outputSize: number[] | null;
  out: Stored;
}
interface Fixture {
  cases: Case[];
  layers: LayerCase[];
  unet: {
    state: Record<string, Stored>;
    x: Stored;
    out: Stored;
    G: Stored;
    xGrad: Stored;
    grads: Record<string, Stored>;
  };
}

const fx = loadFixture<Fixture>("conv_transpose.json");
const on = (s: Stored, requiresGrad = false) => fromStored(s, { requiresGrad, device: testDevice });

/** |a - e| <= rtol * (|e| + max |e|): relative, with cancellation judged against the largest. */
function close(actual: Tensor | null, expected: Stored, rtol: number, what: string): void {
  assert.ok(actual, `${what}: no value`);
  assertShape(actual, expected.shape, `${what}: shape`);
  const a = actual.toArray(), e = expected.data;
  const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (let i = 0; i < e.length; i++) {
    const allowed = rtol * (Math.abs(e[i]) + scale);
    if (!(Math.abs(a[i] - e[i]) <= allowed)) {
      assert.fail(`${what}: [${i}] got ${a[i]}, expected ${e[i]} (allowed ${allowed})`);
    }
  }
}

Deno.test("convTranspose2d: outputs and gradients as PyTorch's", () => {
  for (const c of fx.cases) {
    scope(() => {
      const rtol = c.name.startsWith("long sums") ? 1e-4 : 1e-5;
      const x = on(c.x, true), w = on(c.weight, true);
      const b = c.bias ? on(c.bias, true) : null;
      const out = convTranspose2d(x, w, b, c.opts);
      assert.equal(out.device, testDevice);
      close(out, c.out, rtol, `${c.name}: output`);
      out.backward(on(c.G));
      close(x.grad, c.grads[0], rtol, `${c.name}: x grad`);
      close(w.grad, c.grads[1], rtol, `${c.name}: weight grad`);
      if (b) close(b.grad, c.grads[2]!, rtol, `${c.name}: bias grad`);
      // Through the functional namespace's options object, numbers for pairs.
      if (c.opts.stride[0] === c.opts.stride[1] && c.opts.padding[0] === c.opts.padding[1]) {
        const again = noGrad(() =>
          convTranspose2d(on(c.x), on(c.weight), b, { ...c.opts, stride: c.opts.stride[0] })
        );
        close(again, c.out, rtol, `${c.name}: stride as a number`);
      }
    });
  }
});

Deno.test("nn.ConvTranspose2d: torch's state dict loads; outputs (and outputSize) match", () => {
  for (const [i, c] of fx.layers.entries()) {
    scope(() => {
      const what = `layer ${i} ${JSON.stringify(c.args)} ${JSON.stringify(c.kw)}`;
      const m = new ConvTranspose2d(...c.args, c.kw).to(testDevice);
      assert.deepEqual([...m.stateDict().keys()], Object.keys(c.state), what);
      m.loadStateDict(new Map(Object.entries(c.state).map(([k, s]) => [k, fromStored(s)])));
      const out = c.outputSize ? m.forward(on(c.x), c.outputSize) : m.forward(on(c.x));
      close(out, c.out, 1e-5, what);
    });
  }
});

/** The fixture's U-Net: encoder conv -> BN -> ReLU (the skip), pool, conv -> BN -> ReLU, up, cat. */
class UNet extends nn.Module {
  conv1 = new nn.Conv2d(1, 4, 3, { padding: 1 });
  bn1 = new nn.BatchNorm2d(4);
  conv2 = new nn.Conv2d(4, 8, 3, { padding: 1 });
  bn2 = new nn.BatchNorm2d(8);
  up = new ConvTranspose2d(8, 4, 2, { stride: 2 });
  conv3 = new nn.Conv2d(8, 2, 3, { padding: 1 });
  forward(x: Tensor): Tensor {
    const skip = this.bn1.forward(this.conv1.forward(x)).relu();
    const d = this.bn2.forward(this.conv2.forward(F.maxPool2d(skip, 2))).relu();
    const u = this.up.forward(d).relu();
    return this.conv3.forward(cat([u, skip], 1));
  }
}

Deno.test("nn.ConvTranspose2d: a U-Net up path end to end, op fusion on and off", () => {
  const u = fx.unet;
  for (const fused of [true, false]) {
    const was = setFusion(fused);
    try {
      scope(() => {
        const net = new UNet();
        net.loadStateDict(new Map(Object.entries(u.state).map(([k, s]) => [k, fromStored(s)])));
        net.to(testDevice).train();
        const x = on(u.x, true);
        const out = net.forward(x);
        close(out, u.out, 1e-4, `fused ${fused}: output`);
        out.backward(on(u.G));
        close(x.grad, u.xGrad, 1e-4, `fused ${fused}: x grad`);
        for (const [name, p] of net.namedParameters()) {
          if (name === "conv1.bias" || name === "conv2.bias") {
            // A bias before a batch norm has gradient 0: both sides hold rounding noise.
            assert.ok(p.grad!.abs().max().item() < 1e-4, `fused ${fused}: ${name} grad`);
          } else close(p.grad, u.grads[name], 1e-4, `fused ${fused}: ${name} grad`);
        }
      });
    } finally {
      setFusion(was);
    }
  }
});

Deno.test("nn.ConvTranspose2d: torch's initialisation (fan_in from the weight's second dimension)", () => {
  scope(() => {
    // fan_in = (8 / 2) * 3 * 3 = 36: weight and bias in U(-1/6, 1/6).
    const m = new ConvTranspose2d(16, 8, 3, { groups: 2 });
    assert.deepEqual(m.weight.shape, [16, 4, 3, 3]);
    assert.deepEqual(m.bias!.shape, [8]);
    const wmax = m.weight.abs().max().item();
    assert.ok(wmax <= 1 / 6 && wmax > 0.9 / 6, `weight bound ${wmax}`);
    assert.ok(m.bias!.abs().max().item() <= 1 / 6);
    assert.equal(new ConvTranspose2d(2, 3, 2, { bias: false }).bias, null);
    assert.deepEqual([m.inChannels, m.outChannels, m.groups], [16, 8, 2]);
    assert.deepEqual([m.kernelSize, m.stride, m.padding], [[3, 3], [1, 1], [0, 0]]);
  });
});

Deno.test("convTranspose2d: fp32 under autocast (as PyTorch's CPU autocast), unbatched input", () => {
  scope(() => {
    const x = randn([2, 3, 4, 5]).to(testDevice), w = randn([3, 2, 3, 3]).to(testDevice);
    const plain = convTranspose2d(x, w, null, { stride: 2 });
    const cast = autocast("bfloat16", () => convTranspose2d(x, w, null, { stride: 2 }));
    assert.equal(cast.dtype, "float32");
    assert.deepEqual(cast.toArray(), plain.toArray());
    const one = convTranspose2d(x.select(0, 1), w, null, { stride: 2 });
    assertShape(one, [2, 9, 11]);
    const row = plain.select(0, 1).contiguous();
    close(one, { shape: [...row.shape], data: Array.from(row.toArray()) }, 1e-6, "unbatched");
  });
});

Deno.test("convTranspose2d / nn.ConvTranspose2d: refusals name the fix", () => {
  scope(() => {
    const x = randn([1, 3, 4, 4]), w = randn([3, 2, 3, 3]);
    const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
    // deno-lint-ignore no-explicit-any
    const anyOpts = (o: Record<string, unknown>) => o as any;
    throws(() => convTranspose2d(x, w, null, anyOpts({ padding: "same" })), /no "same" or "valid"/);
    throws(() => new ConvTranspose2d(3, 2, 3, anyOpts({ padding: "valid" })), /no "same"/);
    throws(
      () => convTranspose2d(x, w, null, { stride: 2, outputPadding: 2 }),
      /smaller than either stride 2,2 or dilation 1,1/,
    );
    throws(() => new ConvTranspose2d(3, 2, 3, { outputPadding: 1 }), /smaller than either/);
    throws(() => convTranspose2d(randn([1, 4, 4, 4]), w), /expects 3 input channels, got 4/);
    throws(() => convTranspose2d(randn([1, 1, 3, 4, 4]), w), /3-D or 4-D input/);
    throws(() => convTranspose2d(x, w, randn([3])), /bias must be \[2\]/);
    throws(() => convTranspose2d(randn([1, 3, 1, 1]), w, null, { padding: 2 }), /output would be/);
    throws(
      () => convTranspose2d(x, w, anyOpts({ stride: 2 })),
      /the other options fourth: write F.convTranspose2d\(x, weight, null, \{ stride: 2 \}\)/,
    );
    throws(() => convTranspose2d(x, w, null, anyOpts({ output_padding: 1 })), /'outputPadding'/);
    throws(() => new ConvTranspose2d(3, 2, 3, anyOpts({ padding_mode: "zeros" })), /unknown/);
    throws(() => new ConvTranspose2d(4, 6, 3, { groups: 4 }), /not divisible by groups 4/);
    throws(() => convTranspose2d(x, w, null, { groups: 2 }), /not divisible by groups/);
    const m = new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1 });
    throws(() => m.forward(x, [9, 9]), /valid sizes range from \[7,7\] to \[8,8\]/);
    throws(() => m.forward(x, [8]), /must have 2 or 4 elements/);
    assertShape(m.forward(x, [1, 2, 8, 7]), [1, 2, 8, 7]);
    throws(() => (m as unknown as { output_padding: unknown }).output_padding, /outputPadding/);
  });
});

// On the CPU: this file again with the CPU library standing in for CUDA (device "cuda").
Deno.test({
  name: "convTranspose2d: device 'cuda' with the CPU library standing in",
  ignore: testDevice !== "cpu",
  fn: async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", new URL(import.meta.url).pathname],
      env: { LITS_CUDA_LIB: cpuLibraryPath(), LITS_TEST_DEVICE: "cuda", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.ok(out.success, text.slice(-4000));
    assert.match(text, /ok \| 6 passed \| 0 failed \| 1 ignored/);
  },
});
