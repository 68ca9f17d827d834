/**
 * utils.checkpoint / utils.checkpointSequential, the ports of
 * torch.utils.checkpoint: the gradients equal those of the plain forward
 * (dropout replays its mask, batch norm in training, parameters reached
 * when no input requires grad), several outputs, less memory held between
 * forward and backward, and the errors.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  autocast,
  endStep,
  manualSeed,
  memoryStats,
  models,
  nn,
  noGrad,
  randn,
  type Tensor,
  utils,
} from "../mod.ts";
import { messageOf, testDevice } from "./helpers.ts";

const dev = { device: testDevice };
const gradsOf = (m: nn.Module) => m.parameters().map((p) => Array.from(p.grad!.toArray()));

function mlp(): nn.Sequential {
  manualSeed(11);
  return new nn.Sequential(
    new nn.Linear(16, 32),
    new nn.ReLU(),
    new nn.Dropout(0.3),
    new nn.Linear(32, 32),
    new nn.Tanh(),
    new nn.Linear(32, 4),
  ).to(testDevice);
}

Deno.test("checkpoint: the same gradients as the plain forward, dropout's mask replayed", () => {
  const plain = mlp(), ck = mlp();
  manualSeed(3);
  const x = randn([8, 16], { requiresGrad: true, ...dev });
  const x2 = x.detach().requiresGrad_();
  manualSeed(5);
  const y = plain(x);
  manualSeed(5);
  const y2 = utils.checkpoint(ck, x2, { useReentrant: false });
  assert.deepEqual(Array.from(y2.toArray()), Array.from(y.toArray()));
  y.square().sum().backward();
  y2.square().sum().backward();
  assert.deepEqual(gradsOf(ck), gradsOf(plain));
  assert.deepEqual(Array.from(x2.grad!.toArray()), Array.from(x.grad!.toArray()));
  endStep();
});

Deno.test("checkpoint: ResNet-18's stages in training (batch norm), input without grad", () => {
  const make = () => {
    manualSeed(2);
    return models.resnet18({ numClasses: 3, inChannels: 1 }).to(testDevice);
  };
  manualSeed(4);
  const x = randn([2, 1, 64, 64], dev);
  // The model's own forward fuses its stem; the same modules called one by one, as here, do not.
  const run = (m: ReturnType<typeof make>, ck: boolean) => {
    let h = m.maxpool(m.relu(m.bn1(m.conv1(x))));
    for (const s of ["layer1", "layer2", "layer3", "layer4"] as const) {
      h = ck ? utils.checkpoint(m[s], h, { useReentrant: false }) : m[s](h);
    }
    m.fc(h.mean([2, 3])).square().sum().backward();
    return m;
  };
  assert.deepEqual(gradsOf(run(make(), true)), gradsOf(run(make(), false)));
  endStep();
});

Deno.test("checkpoint: several outputs; a non-tensor argument; under noGrad it just runs", () => {
  const w = randn([4, 4], { requiresGrad: true, ...dev });
  const x = randn([3, 4], { requiresGrad: true, ...dev });
  const f = (h: Tensor, k: number) => [h.matmul(w).mul(k), h.sum(1)];
  const [a, b] = utils.checkpoint(f, x, 2);
  a.sum().add(b.square().sum()).backward();
  const gw = Array.from(w.grad!.toArray()), gx = Array.from(x.grad!.toArray());
  w.grad = null;
  x.grad = null;
  const [a2, b2] = f(x, 2);
  a2.sum().add(b2.square().sum()).backward();
  assert.deepEqual(gw, Array.from(w.grad!.toArray()));
  assert.deepEqual(gx, Array.from(x.grad!.toArray()));
  const y = noGrad(() => utils.checkpoint(f, x, 2)[0].sum().item());
  assert.equal(typeof y, "number");
  endStep();
});

Deno.test("checkpoint: under autocast the recomputation runs in bf16 too, as torch's", () => {
  // torch saves the autocast state with the part and recomputes under it: the
  // gradients are those of the plain bf16 forward, not of an fp32 recomputation.
  const plain = mlp(), ck = mlp();
  plain.eval(), ck.eval();
  manualSeed(3);
  const x = randn([8, 16], dev);
  const head = (m: nn.Sequential) => new nn.Sequential(m[0], m[1], m[2], m[3], m[4]);
  const y = autocast("bfloat16", () => plain[5](head(plain)(x)));
  const y2 = autocast("bfloat16", () => ck[5](utils.checkpoint(head(ck), x)));
  assert.deepEqual(Array.from(y2.toArray()), Array.from(y.toArray()));
  y.square().sum().backward();
  y2.square().sum().backward();
  assert.deepEqual(gradsOf(ck), gradsOf(plain));
  // And a part checkpointed with autocast off inside an autocast forward stays fp32.
  const p3 = mlp(), c3 = mlp();
  p3.eval(), c3.eval();
  const fp32 = (m: nn.Sequential) => (h: Tensor) =>
    autocast("bfloat16", () => head(m)(h), { enabled: false });
  autocast("bfloat16", () => p3[5](fp32(p3)(x))).square().sum().backward();
  autocast("bfloat16", () => c3[5](utils.checkpoint(fp32(c3), x))).square().sum().backward();
  assert.deepEqual(gradsOf(c3), gradsOf(p3));
  endStep();
});

Deno.test("checkpoint: the node's inputs are the part's own arguments and parameters", () => {
  const first = new nn.Linear(4, 4).to(testDevice), part = new nn.Linear(4, 4).to(testDevice);
  const x = randn([2, 4], { requiresGrad: true, ...dev });
  const y = utils.checkpoint(part, first(x));
  // Leaves before the part (x, first's weight and bias) are not the checkpoint's inputs.
  const leaves = y.gradFn!.nextFunctions
    .map(([n]) => (n as { variable?: Tensor } | null)?.variable)
    .filter((t) => t !== undefined);
  const params = part.parameters();
  assert.ok(leaves.length === params.length && leaves.every((t) => params.includes(t!)));
  y.sum().backward();
  assert.ok(first.weight.grad !== null && x.grad !== null && part.weight.grad !== null);
  endStep();
});

Deno.test("checkpoint: a part that closes over an earlier activation (a skip connection)", () => {
  // torch's non-reentrant checkpoint passes the gradient on to `skip`; here the
  // nested pass ran skip's own graph and freed it before the outer pass got there.
  const run = (ck: boolean) => {
    manualSeed(6);
    const first = new nn.Linear(4, 4).to(testDevice), part = new nn.Linear(4, 4).to(testDevice);
    const x = randn([2, 4], { requiresGrad: true, ...dev });
    const skip = first(x);
    const f = (h: Tensor) => part(h).mul(skip).tanh();
    const y = ck ? utils.checkpoint(f, skip.relu()) : f(skip.relu());
    y.square().sum().backward();
    return [...gradsOf(first), ...gradsOf(part), Array.from(x.grad!.toArray())];
  };
  assert.deepEqual(run(true), run(false));
  endStep();
});

Deno.test("checkpointSequential: less memory held until backward, the same gradients", () => {
  const deep = () => {
    manualSeed(8);
    const layers: nn.Module[] = [];
    for (let i = 0; i < 12; i++) layers.push(new nn.Linear(256, 256), new nn.ReLU());
    return new nn.Sequential(...layers).to(testDevice);
  };
  const plain = deep(), ck = deep();
  manualSeed(1);
  const x = randn([256, 256], dev);
  endStep();
  const base = memoryStats().bytesInUse;
  const y = plain(x).sum();
  const heldPlain = memoryStats().bytesInUse - base;
  y.backward();
  endStep();
  const base2 = memoryStats().bytesInUse;
  const y2 = utils.checkpointSequential(ck, 4, x, { useReentrant: false }).sum();
  const heldCk = memoryStats().bytesInUse - base2;
  y2.backward();
  assert.ok(heldCk < heldPlain / 2, `held ${heldCk} bytes checkpointed, ${heldPlain} plain`);
  assert.deepEqual(gradsOf(ck), gradsOf(plain));
  endStep();
});

Deno.test("checkpoint: errors name what to write; an input changed in place is caught", () => {
  const lin = new nn.Linear(2, 2).to(testDevice);
  const x = randn([1, 2], { requiresGrad: true, ...dev });
  assert.match(messageOf(() => utils.checkpoint(3 as never, x)), /fn must be a function/);
  assert.match(
    messageOf(() => utils.checkpoint(() => 3 as never, x)),
    /fn must return a tensor or a non-empty array/,
  );
  assert.match(
    messageOf(() => utils.checkpoint(lin, x, { use_reentrant: false })),
    /unknown option 'use_reentrant' \(write 'useReentrant'\)/,
  );
  assert.match(messageOf(() => utils.checkpointSequential([lin], 0, x)), /segments must be/);
  assert.match(
    messageOf(() => utils.checkpointSequential(lin as never, 1, x)),
    /functions must be an nn\.Sequential or an array/,
  );
  const h = randn([1, 2], dev);
  const y = utils.checkpoint(lin, h);
  noGrad(() => h.mul_(2));
  assert.match(messageOf(() => y.sum().backward()), /modified by an in-place operation/);
  endStep();
});
