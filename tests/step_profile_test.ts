// bench/step_profile.ts's FLOP count of the native calls against bench/flops.ts's count of the
// model's layers: the same work, counted once from the layers and once from the calls.
import assert from "node:assert/strict";
import { autocast, models, nn, noGrad, randn, tensor } from "../mod.ts";
import { backend } from "../src/tensor/device.ts";
import { countForward } from "../bench/flops.ts";
import { callFlops, timeNative } from "../bench/step_profile.ts";

type Native = Record<string, unknown>;

/** FLOPs the timed native calls of `fn` count. */
function countedFlops(fn: () => void): number {
  const timer = timeNative(backend("cpu") as unknown as Native);
  try {
    timer.set(true);
    fn();
  } finally {
    timer.set(false);
    timer.restore();
  }
  return [...timer.byName.values()].reduce((s, e) => s + e.flops, 0);
}

const bf16 = (): boolean => {
  const lib = backend("cpu"), level = new Int32Array(1);
  return !!lib.lits_bf16_support && lib.lits_bf16_support(level) === 0 && level[0] > 0;
};

for (const name of ["resnet18", "simple"]) {
  const size = name === "simple" ? 32 : 64;
  for (const precision of ["fp32", "bf16"]) {
    const run = <T>(f: () => T): T => precision === "bf16" ? autocast("bfloat16", f) : f();
    Deno.test(`step_profile: ${name} ${precision} eval forward's FLOPs as its layers'`, () => {
      if (precision === "bf16" && !bf16()) return;
      const net = models.create(name, { inChannels: 1, numClasses: 3, imageSize: size }).eval();
      const x = randn([2, 1, size, size]);
      const want = countForward(net, x.shape).forwardFlops;
      const got = countedFlops(() => noGrad(() => run(() => net.forward(x)).toArray()));
      assert.equal(got, want);
    });
    Deno.test(`step_profile: ${name} ${precision} training step's FLOPs as its layers'`, () => {
      if (precision === "bf16" && !bf16()) return;
      const net = models.create(name, { inChannels: 1, numClasses: 3, imageSize: size }).train();
      const x = randn([2, 1, size, size]), y = tensor(new Int32Array([0, 2]), [2]);
      const want = countForward(net, x.shape).trainStepFlops;
      const lossFn = new nn.CrossEntropyLoss();
      const got = countedFlops(() => {
        const loss = run(() => lossFn.forward(net.forward(x), y));
        loss.backward();
        loss.item();
      });
      assert.equal(got, want);
    });
  }
}

Deno.test("step_profile: callFlops of a strided, padded, grouped, dilated convolution and a batched GEMM", () => {
  // n c h w k r s sh sw ph pw dh dw groups: out 5 x 4 (h: (11 + 2 - 2*2 - 1) / 2 + 1; w: (7 + 0 - 2 - 1) / 1 + 1)
  const p = Int32Array.from([2, 6, 11, 7, 4, 3, 3, 2, 1, 1, 0, 2, 1, 2]);
  assert.equal(callFlops("lits_conv2d_forward_f32", [p]), 2 * 2 * 4 * 5 * 5 * 3 * 3 * 3);
  assert.equal(callFlops("lits_conv2d_backward_filter_bf16dy_f32", [p]), 2 * 2 * 4 * 5 * 5 * 27);
  assert.equal(callFlops("lits_conv2d_bf16dy_takes", [p]), 0);
  assert.equal(callFlops("lits_conv2d_backward_bias_f32", [p]), 0);
  const gemm = [0, 1, 3, 5, 7, 1, null, 7, null, 7, 0, null, 5, 4, 21, 35, 15];
  assert.equal(callFlops("lits_gemm_f32", gemm), 2 * 3 * 5 * 7 * 4);
  assert.equal(callFlops("lits_gemm_bf16_batched_f32", gemm), 2 * 3 * 5 * 7 * 4);
  assert.equal(callFlops("lits_gemm_bf16_f32", gemm.slice(0, 13)), 2 * 3 * 5 * 7);
});
