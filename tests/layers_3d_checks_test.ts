/**
 * The 3-D layers beyond torch's numbers: Conv3d's default initialisation
 * (statistics), Dropout3d (whole channels, scale, gradient, eval),
 * BatchNorm3d as BatchNorm2d on [N, C, D * H, W], and every refused input,
 * each with an error that names the function and says what to write.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  functional as F,
  manualSeed,
  nn,
  noGrad,
  ones,
  randn,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertClose, moments, testDevice } from "./helpers.ts";

const dev = (t: Tensor) => t.to(testDevice);
const throws = (fn: () => unknown, re: RegExp) => assert.throws(fn, re);
// deno-lint-ignore no-explicit-any
const loose = (f: unknown) => f as (...a: any[]) => any;

function checkUniform(t: Tensor, bound: number, what: string): void {
  const m = moments(t.toArray());
  assert.ok(m.min >= -bound && m.max <= bound, `${what}: [${m.min}, ${m.max}], bound ${bound}`);
  const variance = bound * bound / 3;
  assert.ok(Math.abs(m.variance / variance - 1) < 0.1, `${what}: variance ${m.variance}`);
  assert.ok(m.max > 0.9 * bound && m.min < -0.9 * bound, `${what}: range too narrow`);
}

Deno.test("layers 3d: Conv3d init is uniform in ±1/sqrt(fan_in) (kaiming a=sqrt(5)), bias too", () => {
  scope(() => {
    manualSeed(3);
    const conv = new nn.Conv3d(8, 64, 3);
    assert.deepEqual(conv.weight.shape, [64, 8, 3, 3, 3]);
    checkUniform(conv.weight, 1 / Math.sqrt(8 * 27), "weight");
    const grouped = new nn.Conv3d(8, 2048, [1, 3, 1], { groups: 4 }); // fan_in = 2 * 3
    checkUniform(grouped.weight, 1 / Math.sqrt(6), "grouped weight");
    checkUniform(grouped.bias!, 1 / Math.sqrt(6), "grouped bias");
    assert.equal(new nn.Conv3d(2, 3, 3, { bias: false }).bias, null);
    assert.deepEqual([...conv.stateDict().keys()], ["weight", "bias"]);
    assert.deepEqual(
      [conv.inChannels, conv.outChannels, conv.kernelSize, conv.stride, conv.padding],
      [8, 64, [3, 3, 3], [1, 1, 1], [0, 0, 0]],
    );
  });
});

Deno.test("layers 3d: Dropout3d zeroes whole channels with probability p, scales the rest", () => {
  scope(() => {
    manualSeed(5);
    const p = 0.3, x = dev(ones([8, 50, 2, 2, 3])).requiresGrad_();
    const y = new nn.Dropout3d(p).forward(x);
    const perChannel = y.sum([2, 3, 4]).toArray();
    const kept = perChannel.filter((v) => Math.abs(v - 12 / (1 - p)) < 1e-4).length;
    const dropped = perChannel.filter((v) => v === 0).length;
    assert.equal(kept + dropped, 400, "each channel all kept or all dropped");
    assert.ok(Math.abs(dropped / 400 - p) < 0.08, `dropped ${dropped} of 400`);
    y.sum().backward();
    assertClose(x.grad!, y.toArray(), { what: "gradient is the mask" });
    // One unbatched volume [C, D, H, W], as torch 1.13 reads a 4-D input.
    const v = F.dropout3d(dev(ones([40, 2, 2, 2])), 0.5).sum([1, 2, 3]).toArray();
    assert.ok(v.every((s) => s === 0 || s === 16));
  });
});

Deno.test("layers 3d: Dropout3d is the identity in eval and for p = 0; p = 1 zeroes all", () => {
  scope(() => {
    const x = dev(randn([2, 3, 2, 2, 2]));
    assert.equal(new nn.Dropout3d(0.5).eval().forward(x), x);
    assert.equal(F.dropout3d(x, 0), x);
    assert.equal(F.dropout3d(x, 0.9, false), x);
    assert.ok(new nn.Dropout3d(1).forward(x).toArray().every((v) => v === 0));
  });
});

Deno.test("layers 3d: BatchNorm3d is BatchNorm2d on [N, C, D * H, W], running stats too", () => {
  scope(() => {
    const bn3 = new nn.BatchNorm3d(3, { momentum: 0.2 }).to(testDevice);
    const bn2 = new nn.BatchNorm2d(3, { momentum: 0.2 }).to(testDevice);
    for (let i = 0; i < 2; i++) {
      const x = dev(randn([2, 3, 4, 5, 6]).mul(3).add(1));
      const a = bn3.forward(x), b = bn2.forward(x.reshape([2, 3, 20, 6]));
      assertClose(a, b.toArray(), { what: `step ${i}` });
    }
    for (const key of ["running_mean", "running_var", "num_batches_tracked"]) {
      assertClose(bn3.stateDict().get(key)!, bn2.stateDict().get(key)!.toArray(), { what: key });
    }
    bn3.eval();
    bn2.eval();
    const x = dev(randn([1, 3, 2, 2, 2]));
    assertClose(bn3.forward(x), bn2.forward(x.reshape([1, 3, 4, 2])).toArray(), { what: "eval" });
  });
});

Deno.test("layers 3d: conv3d refuses bad inputs, saying what to write", () => {
  scope(() => {
    const x = dev(randn([1, 3, 4, 4, 4])), w = dev(randn([2, 3, 3, 3, 3]));
    throws(() => F.conv3d(dev(randn([3, 4, 4])), w), /expected input \[N, C, D, H, W\] \(or unb/);
    throws(
      () => F.conv3d(x, dev(randn([2, 3, 3, 3]))),
      /conv3d x \[1,3,4,4,4\] weight \[2,3,3,3\]/,
    );
    throws(
      () => F.conv3d(x, dev(randn([2, 4, 3, 3, 3]))),
      /input has 3 channels, weight expects 4/,
    );
    throws(() => F.conv3d(x, w, dev(randn([3]))), /bias must be \[2\]/);
    throws(() => loose(F.conv3d)(x, w, { padding: 1 }), /third argument is the bias.*null, \{/);
    throws(() => loose(F.conv3d)(x, w, null, { padding_mode: "zeros" }), /unknown option/);
    throws(() => loose(F.conv3d)(x, w, null, {}, 1), /takes at most 4 arguments/);
    throws(() => F.conv3d(x, w, null, { stride: NaN }), /stride must be integers >= 1, got NaN/);
    throws(() => loose(F.conv3d)(x, w, null, { stride: [1, 2] }), /stride must be a number or 3/);
    throws(() => F.conv3d(x, w, null, { padding: -1 }), /padding must be integers >= 0/);
    throws(() => loose(F.conv3d)(x, w, null, { padding: "full" }), /"valid" or "same", got "full"/);
    throws(
      () => F.conv3d(x, w, null, { padding: "same", stride: 2 }),
      /"same" is not supported for strided convolutions/,
    );
    throws(() => F.conv3d(x, w, null, { groups: 0 }), /groups must be an integer >= 1, got 0/);
    throws(() => F.conv3d(x, w, null, { dilation: 3 }), /kernel spans 7 x 7 x 7 .*input 4 x 4 x 4/);
    throws(() => F.conv3d(x.int(), w), /conv3d/);
    throws(() => loose(F.conv3d)([1, 2], w), /conv3d/);
  });
});

Deno.test("layers 3d: nn.Conv3d refuses bad options and inputs, saying what to write", () => {
  scope(() => {
    const mode = (m: string) => ({ paddingMode: m }) as never;
    throws(() => new nn.Conv3d(2, 4, 3, mode("wrap")), /paddingMode must be one of zeros, refl/);
    throws(() => new nn.Conv3d(3, 4, 3, { groups: 2 }), /channels 3 -> 4 are not divisible by/);
    throws(() => new nn.Conv3d(0, 4, 3), /inChannels must be a positive integer, got 0/);
    throws(() => new nn.Conv3d(2, 4, [3, 3] as never), /kernel size must be a number or 3/);
    throws(() => new nn.Conv3d(2, 4, 3, { padding: "same", stride: 2 }), /strided/);
    throws(() => new nn.Conv3d(2, 4, 3, { bias: 1 as never }), /bias must be true or false/);
    const Conv3d = nn.Conv3d as unknown as new (...a: unknown[]) => nn.Module;
    throws(() => new Conv3d(2, 4, 3, 1, 1), /takes at most 4 arguments/);
    throws(() => new nn.Conv3d(2, 4, 3, { padding_mode: "reflect" } as never), /'paddingMode'/);
    const conv = new nn.Conv3d(2, 4, 3, { padding: 1 }).to(testDevice);
    throws(() => conv.forward(dev(randn([2, 4, 4]))), /expected input \[N, C, D, H, W\] \(or/);
    throws(() => conv.forward(dev(randn([1, 3, 4, 4, 4]))), /input has 3 channels, weight expe/);
    const reflect = new nn.Conv3d(2, 4, 3, { padding: 3, paddingMode: "reflect" });
    throws(
      () => reflect.to(testDevice).forward(dev(randn([1, 2, 4, 4, 4])).unsqueeze(0)),
      /expected an input \[N, C, D, H, W\] \(or unbatched \[C, D, H, W\]\), got \[1,1,2,4,4,4\]/,
    );
    throws(
      () => reflect.forward(dev(randn([1, 2, 3, 4, 4]))),
      /reflect padding of 3 must be less than the size 3 of dimension 2 of the input \[1,2,3,4,4\]/,
    );
    throws(() => (conv as unknown as { kernel_size: unknown }).kernel_size, /conv\.kernelSize/);
  });
});

Deno.test("layers 3d: the pools refuse bad inputs, saying what to write", () => {
  scope(() => {
    const x = dev(randn([1, 2, 4, 4, 4]));
    for (const f of [F.maxPool3d, F.avgPool3d]) {
      const name = f.name;
      throws(() => f(dev(randn([4, 4, 4])), 2), /expected \[N, C, D, H, W\] or unbatched \[C, D/);
      throws(() => f(x, 3, { padding: 2 }), new RegExp(`${name}: padding 2,2,2 must be at most`));
      throws(() => f(x, 5), new RegExp(`${name}: input \\[1,2,4,4,4\\] is too small`));
      throws(() => f(x, [2, 2] as never), /kernel size must be a number or 3 numbers/);
      throws(() => f(x, 2, { stride: 0 }), /stride must be integers >= 1, got 0/);
      throws(() => f(x, 2, { ceilMode: "yes" as never }), /ceilMode must be true or false/);
      throws(() => loose(f)(x, 2, {}, 1), /takes at most 3 arguments/);
      throws(() => f(x.int(), 2), new RegExp(name));
    }
    // returnIndices is offered (tests/pool_indices_test.ts); only true or false.
    throws(() => F.maxPool3d(x, 2, { returnIndices: 1 as never }), /returnIndices must be true/);
    throws(() => new nn.MaxPool3d(2, { returnIndices: "yes" as never }), /must be true or false/);
    throws(() => F.maxPool3d(x, 2, { dilation: 0 }), /dilation must be integers >= 1/);
    throws(() => loose(F.avgPool3d)(x, 2, { dilation: 2 }), /unknown option 'dilation'/);
    throws(() => F.avgPool3d(x, 2, { divisorOverride: 0 }), /divisorOverride must be a nonzero/);
    throws(() => F.avgPool3d(x, 2, { divisorOverride: 1.5 }), /nonzero integer or null, got 1.5/);
    throws(() => new nn.AvgPool3d(2, { count_include_pad: false } as never), /'countIncludePad'/);
    for (const f of [F.adaptiveAvgPool3d, F.adaptiveMaxPool3d]) {
      throws(() => f(x, [1, 1] as never), /must be a number or 3 entries \[depth, height, width\]/);
      throws(() => f(x, 0), /output size must be integers >= 1 \(or null\)/);
      throws(() => f(dev(randn([2, 4, 4])), 1), /expected \[N, C, D, H, W\] or \[C, D, H, W\]/);
    }
    throws(() => loose(F.adaptiveAvgPool3d)(x, 1, true), /takes \(x, outputSize\)/);
    throws(() => new nn.AdaptiveAvgPool3d([1, 2] as never), /3 entries/);
    // returnIndices is offered (tests/adaptive_max_indices_test.ts), in an options object.
    throws(
      () => loose(F.adaptiveMaxPool3d)(x, 1, true),
      /expected an options object, got boolean true; write it as .*\{ returnIndices: true \}/,
    );
  });
});

Deno.test("layers 3d: the norms and Dropout3d refuse bad inputs, saying what to write", () => {
  scope(() => {
    const bn = new nn.BatchNorm3d(3).to(testDevice);
    throws(
      () => bn.forward(dev(randn([2, 3, 4, 4]))),
      /expected input \[N, 3, D, H, W\].*BatchNorm2d/,
    );
    throws(() => bn.forward(dev(randn([2, 4, 2, 2, 2]))), /BatchNorm3d\(3\): expected input/);
    throws(() => new nn.BatchNorm3d(0), /numFeatures must be a positive integer/);
    throws(() => new nn.BatchNorm3d(3, { momentum: 2 }), /momentum must be in \[0, 1\] or null/);
    throws(() => new nn.BatchNorm3d(3, { track_running_stats: false } as never), /'trackRunning/);
    const inorm = new nn.InstanceNorm3d(2, { affine: true }).to(testDevice);
    throws(() => inorm.forward(dev(randn([2, 4, 4]))), /expected a 4-D or 5-D input/);
    throws(() => inorm.forward(dev(randn([1, 3, 2, 2, 2]))), /expected input with 2 channels/);
    throws(() => new nn.InstanceNorm3d(2, { momentum: null as never }), /refuses None too/);
    throws(() => new nn.InstanceNorm3d(2, { affine: 1 as never }), /affine must be a boolean/);
    throws(() => new nn.Dropout3d(1.5), /probability must be a number in \[0, 1\], got 1.5/);
    throws(() => new nn.Dropout3d(0.5, "yes" as never), /inplace must be true or false/);
    throws(() => F.dropout3d(dev(randn([2, 3, 4])), 0.5), /expected input \[N, C, D, H, W\]/);
    throws(() => F.dropout3d(dev(randn([1, 1, 1, 1, 1])), NaN), /p must be a number in \[0, 1\]/);
    throws(() => loose(F.dropout3d)(tensor([1]), 0.5, true, 1), /takes at most 3 arguments/);
    // Unused here but shows the unbatched form works as documented.
    assert.deepEqual(noGrad(() => inorm.forward(dev(randn([2, 3, 3, 3])))).shape, [2, 3, 3, 3]);
  });
});
