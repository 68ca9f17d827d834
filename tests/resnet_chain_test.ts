/**
 * ResNet's stages in evaluation under bf16 autocast as one channels-last
 * bf16 chain (src/models/resnet_chain.ts): it runs every convolution of the
 * stages where it applies, ends as close to the fp32 logits as the op-by-op
 * bf16 path does, frees what it made, and stands aside (the modules run one
 * by one) for gradients, training, hooks, fp32 and LITS_ONEDNN=off. Ignored
 * where the CPU library does not run the chain (no oneDNN, or no bf16).
 */
import assert from "node:assert/strict";
import {
  autocast,
  manualSeed,
  memoryStats,
  models,
  nn,
  noGrad,
  randn,
  scope,
  type Tensor,
} from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import { stagesInBf16 } from "../src/models/resnet_chain.ts";
import { countCalls, fromStored, loadFixture, type Stored, withEnv } from "./helpers.ts";

const lib = cpuLib();
const available = (() => {
  if (lib.lits_conv2d_nhwc_bf16_takes === null) return false;
  const out = new Int32Array(1);
  const probe = new Int32Array([1, 16, 4, 4, 16, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  return lib.lits_conv2d_nhwc_bf16_takes(probe, 0, out) === 0 && out[0] === 1;
})();

/** A ResNet in evaluation with running statistics of two training batches. */
function net(name: "resnet18" | "resnet50"): models.ResNet {
  manualSeed(5);
  const m = models.create(name, { inChannels: 1, numClasses: 3 }) as models.ResNet;
  for (let i = 0; i < 2; i++) noGrad(() => scope(() => void m.forward(randn([4, 1, 64, 64]))));
  m.eval();
  return m;
}

/** fn with the chain wherever the library can run it (the default, unless LITS_BF16_CHAIN says otherwise). */
const chainOn = <T>(fn: () => T) => withEnv({ LITS_BF16_CHAIN: "on" }, fn);

/** fn's result, and how many channels-last bf16 convolutions ran. */
const counting = <T>(fn: () => T) => countCalls(["lits_conv2d_nhwc_bf16"], fn);

const logits = (m: models.ResNet, x: Tensor, bf16: boolean) =>
  noGrad(() =>
    scope(() =>
      (bf16 ? autocast("bfloat16", () => m.forward(x)) : m.forward(x)).toArray() as Float32Array
    )
  );

const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((e, v, i) => Math.max(e, Math.abs(v - b[i])), 0);

for (const [name, convs] of [["resnet18", 19], ["resnet50", 52]] as const) {
  Deno.test({
    name: `ResNet chain: ${name}'s ${convs} stage convolutions in one chain, as close as op by op`,
    ignore: !available,
    fn() {
      chainOn(() => {
        using m = net(name);
        using x = randn([2, 1, 64, 64]);
        const fp32 = logits(m, x, false);
        const before = memoryStats().bytesInUse;
        const [chained, calls] = counting(() => logits(m, x, true));
        assert.equal(calls, convs);
        assert.equal(memoryStats().bytesInUse, before, "the chain's activations were not freed");
        const [opByOp, none] = counting(() =>
          withEnv({ LITS_ONEDNN: "off" }, () => logits(m, x, true))
        );
        assert.equal(none, 0);
        const scale = fp32.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
        const errChain = maxDiff(chained, fp32), errOps = maxDiff(opByOp, fp32);
        // bf16 rounding through the network: the chain rounds once per
        // convolution (after its batch norm, residual and ReLU), the op-by-op
        // path the inputs of each.
        assert.ok(
          errChain <= 2 * errOps + 1e-3 * scale,
          `chain ${errChain} from fp32, op by op ${errOps}, logits up to ${scale}`,
        );
        assert.ok(errChain < 0.05 * scale, `chain ${errChain} from fp32, logits up to ${scale}`);
      });
    },
  });
}

Deno.test({
  name: "ResNet chain: not for gradients, training, hooks or fp32; their results unchanged",
  ignore: !available,
  fn() {
    chainOn(() => {
      using m = net("resnet18");
      using x = randn([2, 1, 64, 64]);
      const opByOp = withEnv({ LITS_ONEDNN: "off" }, () => logits(m, x, true));
      // Gradients in evaluation (Grad-CAM): module by module, and the gradient flows.
      scope(() => {
        using xg = randn([2, 1, 64, 64], { requiresGrad: true });
        const [out, calls] = counting(() => autocast("bfloat16", () => m.forward(xg)));
        assert.equal(calls, 0);
        out.sum().backward();
        assert.ok(xg.grad !== null);
      });
      let seen = 0;
      const handle = m.layer2[1].registerForwardHook(() => void seen++);
      const [hooked, withHook] = counting(() => logits(m, x, true));
      handle.remove();
      assert.equal(withHook, 0);
      assert.equal(seen, 1);
      // (Module by module, the 3x3 layers run oneDNN's kernels here and ours
      // under LITS_ONEDNN=off: fp32 sums in another order, bf16 roundings apart.)
      const scale = Math.max(...opByOp.map(Math.abs));
      assert.ok(maxDiff(hooked, opByOp) < 1e-2 * scale, `${maxDiff(hooked, opByOp)} of ${scale}`);
      const [, fp32] = counting(() => logits(m, x, false));
      assert.equal(fp32, 0);
      m.train();
      const [, training] = counting(() =>
        noGrad(() => scope(() => void autocast("bfloat16", () => m.forward(x))))
      );
      assert.equal(training, 0);
    });
  },
});

interface ChainFixture {
  state: Record<string, Stored>;
  x: Stored;
  out: Stored;
  out_dtype: string;
  fp32: Stored;
}

Deno.test({
  name: "ResNet chain: two torchvision Bottlenecks against PyTorch 1.13's CPU autocast",
  ignore: !available,
  fn() {
    chainOn(() => {
      // scripts/make_chain_fixtures.py: stride 2 with a downsampling shortcut, then identity.
      const f = loadFixture<ChainFixture>("resnet_chain.json");
      assert.equal(f.out_dtype, "bfloat16");
      using stage = new nn.Sequential(
        new models.Bottleneck(32, 16, 2, models.downsample(32, 64, 2)),
        new models.Bottleneck(64, 16),
      );
      // (The fixture leaves out the int64 num_batches_tracked counters.)
      const state = new Map(Object.entries(f.state).map(([k, v]) => [k, fromStored(v)]));
      stage.loadStateDict(state, { strict: false });
      stage.eval();
      using x = fromStored(f.x);
      const [got, calls] = counting(() =>
        noGrad(() =>
          scope(() =>
            autocast("bfloat16", () => stagesInBf16([stage], x))!.toArray() as Float32Array
          )
        )
      );
      assert.equal(calls, 7);
      const torch = Float32Array.from(f.out.data), fp32 = Float32Array.from(f.fp32.data);
      const top = fp32.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // PyTorch rounds to bf16 after each op, the chain once per convolution:
      // both a few bf16 steps (2^-8) of the largest output from the fp32
      // result and from each other, the chain no farther from fp32.
      const errTorch = maxDiff(torch, fp32), errChain = maxDiff(got, fp32);
      const apart = maxDiff(got, torch);
      assert.ok(apart < 2 ** -6 * top, `chain vs PyTorch ${apart}, outputs up to ${top}`);
      assert.ok(errChain <= errTorch, `chain ${errChain} from fp32, PyTorch's bf16 ${errTorch}`);
    });
  },
});

Deno.test({
  name: "ResNet chain: by default wherever bf16 runs; LITS_BF16_CHAIN=off and =on",
  ignore: !available,
  fn() {
    using m = net("resnet18");
    using x = randn([2, 1, 64, 64]);
    const chained = (v: string | undefined) =>
      counting(() => withEnv({ LITS_BF16_CHAIN: v }, () => logits(m, x, true)))[1];
    assert.equal(chained(undefined), 19);
    assert.equal(chained("off"), 0);
    assert.equal(chained("on"), 19);
  },
});
