/**
 * ResNet-101/152, ResNeXt-50 32x4d / 101 32x8d and Wide ResNet-50-2 / 101-2
 * against torchvision 0.14 (tests/fixtures/resnet_family.json,
 * scripts/make_resnet_family_fixtures.py): parameter counts, the state dict
 * (a SHA-256 of its names, shapes and dtypes; resnext50_32x4d's whole) and
 * each stage's first block; for the grouped and the wide path, full-size
 * models with formula weights: evaluation logits, the gradients of
 * sum(logits * G) in evaluation, and training-mode logits; the fused paths
 * (block output, bf16 stage chain) with grouped convolutions; the registry.
 */
import assert from "node:assert/strict";
import { autocast, models, noGrad, scope, type Tensor } from "../mod.ts";
import { stagesInBf16 } from "../src/models/resnet_chain.ts";
import { loadFixture, testDevice } from "./helpers.ts";
import { assertStored, entries, fill, formula, free, type Sampled } from "./model_fixture.ts";

interface StructureCase {
  model: string;
  numParams: number;
  entries: number;
  sha256: string;
  firstBlocks: number[][][];
  state?: string[];
}

interface NumericsCase {
  model: string;
  options: { inChannels: number; numClasses: number };
  input: number[];
  /** The input formula's seed: the generator's first at which the input gradient is well
   * conditioned at float32 (make_resnet_family_fixtures.py `conditioned`). */
  inputSeed: number;
  evalLogits: Sampled;
  inputGrad: Sampled;
  grads: Record<string, Sampled>;
  trainLogits: Sampled;
}

const FX = loadFixture<{ structure: StructureCase[]; numerics: NumericsCase[] }>(
  "resnet_family.json",
);
const TOL = testDevice === "cpu" ? { rtol: 2e-4, atol: 2e-5 } : { rtol: 2e-3, atol: 2e-4 };
const BUILD: Record<string, (o?: models.ResNetOptions) => models.ResNet> = {
  resnet101: models.resnet101,
  resnet152: models.resnet152,
  resnext50_32x4d: models.resnext50_32x4d,
  resnext101_32x8d: models.resnext101_32x8d,
  wide_resnet50_2: models.wideResnet50_2,
  wide_resnet101_2: models.wideResnet101_2,
};

/** The generator's lines: "name|shape|dtype" per entry. */
const lines = (m: models.ResNet) => entries(m).map(([k, s, d]) => `${k}|${s.join(",")}|${d}`);

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const conv = (c: models.Bottleneck["conv1"]) => [
  c.weight.shape[1] * c.options.groups,
  c.weight.shape[0],
  c.weight.shape[2],
  typeof c.options.stride === "number" ? c.options.stride : c.options.stride![0],
  c.options.groups,
];

// ---------------------------------------------------------- structure

Deno.test("resnet family: parameter counts, state dicts and each stage's first block are torchvision's", async () => {
  for (const c of FX.structure) {
    const net = BUILD[c.model]();
    try {
      const ours = lines(net);
      if (c.state) assert.deepEqual(ours, c.state, `${c.model}: state dict`);
      assert.equal(ours.length, c.entries, `${c.model}: entries`);
      assert.equal(await sha256(ours.join("\n")), c.sha256, `${c.model}: state dict`);
      assert.equal(net.numParameters(), c.numParams, `${c.model}: parameters`);
      const firsts = [net.layer1, net.layer2, net.layer3, net.layer4].map((s) => {
        const b = s[0] as models.Bottleneck;
        return [conv(b.conv1), conv(b.conv2), conv(b.conv3)];
      });
      assert.deepEqual(firsts, c.firstBlocks, `${c.model}: first blocks`);
    } finally {
      free(net);
    }
  }
});

// ---------------------------------------------------------- numerics

/** The generator's `fill`, then its `tame`: each bn3 weight from the formula in [0.1, 0.3]. */
function built(c: NumericsCase): models.ResNet {
  const net = BUILD[c.model](c.options);
  fill(net);
  const state = [...net.stateDict()];
  const tamed = new Map<string, Tensor>();
  state.forEach(([k, v], p) => {
    if (k.endsWith("bn3.weight")) tamed.set(k, formula(p, [...v.shape], 0.1, 0.3));
  });
  net.loadStateDict(tamed, { strict: false });
  for (const t of tamed.values()) t.dispose();
  return net;
}

for (const c of FX.numerics) {
  Deno.test(`resnet family: ${c.model} (formula weights): eval logits, gradients of sum(logits * G), training logits`, () => {
    const net = built(c).eval();
    try {
      scope(() => {
        const x = formula(c.inputSeed, c.input, -1, 1, true);
        const logits = net.forward(x);
        assertStored(logits.to("cpu"), c.evalLogits, TOL, "eval logits");
        logits.mul(formula(1001, [...logits.shape], -1, 1)).sum().backward();
        assertStored(x.grad!.to("cpu"), c.inputGrad, TOL, "input grad");
        const params = new Map(net.namedParameters());
        for (const [k, g] of Object.entries(c.grads)) {
          assertStored(params.get(k)!.grad!.to("cpu"), g, TOL, `${k}.grad`);
        }
        // Batch statistics: the convolutions (grouped ones too) hand their moments to the norms.
        net.train();
        const t = noGrad(() => net.forward(x.detach()));
        assertStored(t.to("cpu"), c.trainLogits, TOL, "training logits");
      });
    } finally {
      free(net);
    }
  });
}

Deno.test("resnet family: under bf16 autocast the stage chain declines grouped convolutions; the module path runs", () => {
  const c = FX.numerics.find((n) => n.model === "resnext50_32x4d")!;
  const net = built(c).eval();
  // Where the CPU library has the chain at all, it would take these stages but for the groups.
  const was = Deno.env.get("LITS_BF16_CHAIN");
  Deno.env.set("LITS_BF16_CHAIN", "on");
  try {
    scope(() => {
      const x = formula(c.inputSeed, c.input, -1, 1);
      const stem = noGrad(() =>
        net.maxpool.forward(net.relu.forward(net.bn1.forward(net.conv1.forward(x))))
      );
      const stages = [net.layer1, net.layer2, net.layer3, net.layer4];
      assert.equal(noGrad(() => autocast("bfloat16", () => stagesInBf16(stages, stem))), null);
      const y: Tensor = noGrad(() => autocast("bfloat16", () => net.forward(x)));
      const ref = c.evalLogits.data;
      const got = y.toArray();
      const max = Math.max(...ref.map(Math.abs));
      got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]) < 0.05 * max, `${v} ~ ${ref[i]}`));
    });
  } finally {
    if (was === undefined) Deno.env.delete("LITS_BF16_CHAIN");
    else Deno.env.set("LITS_BF16_CHAIN", was);
    free(net);
  }
});

Deno.test("resnet family: BasicBlock refuses groups and widths, as torchvision's", () => {
  assert.throws(
    () => new models.BasicBlock(64, 64, 1, null, 32, 4),
    /takes groups 1 and baseWidth 64 only.*use Bottleneck/,
  );
  const config = {
    name: "ResNeXt-18?",
    block: models.BasicBlock,
    layers: [2, 2, 2, 2] as const,
    groups: 32,
  };
  assert.throws(() => new models.ResNet(config), /takes groups 1 and baseWidth 64 only/);
});

Deno.test("resnet family: the registry builds them under torchvision's names", () => {
  for (const n of Object.keys(BUILD)) {
    assert.ok(models.names().includes(n), n);
    assert.ok(models.takesOption(n, "zeroInitResidual"), n);
  }
  assert.equal(models.canonicalName("Wide_ResNet50_2"), "wide_resnet50_2");
  assert.equal(models.canonicalName("wideresnet101_2"), "wide_resnet101_2");
  const net = models.create("resnext50_32x4d", {
    inChannels: 1,
    numClasses: 3,
    zeroInitResidual: true,
  });
  try {
    assert.equal(net.numParameters(), 25028904 - 2 * 64 * 7 * 7 - 997 * 2049);
    const last = (net as models.ResNet).layer4[2] as models.Bottleneck;
    assert.equal(last.bn3.weight!.abs().max().item(), 0);
  } finally {
    free(net);
  }
});
