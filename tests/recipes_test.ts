/**
 * PyTorch Recipes and the FGSM tutorial, ported line by line and checked
 * against PyTorch 1.13 (tests/fixtures/recipes.json, written by
 * scripts/make_recipes_fixtures.py).
 */
import assert from "node:assert/strict";
import { amp, clamp, io, nn, optim, randn, type Tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, type Stored } from "./helpers.ts";

const F = nn.functional;

interface Fixture {
  fgsm: {
    state: Record<string, Stored>;
    images: Stored;
    targets: Stored;
    epsilons: number[];
    accuracy: number[];
    attacked: number[][][];
    grad0: Stored;
    perturbed0: Stored;
  };
  checkpoint: {
    init: Record<string, Stored>;
    x: Stored;
    y: Stored;
    paramGroups: Record<string, unknown>[];
    stateKeys: Record<string, string[]>;
    final: Record<string, Stored>;
  };
  warmstart: {
    netA: Record<string, Stored>;
    plain: { missing: string[]; unexpected: string[] };
    renamed: { missing: string[]; unexpected: string[] };
  };
}
const fx = loadFixture<Fixture>("recipes.json");
const stateOf = (s: Record<string, Stored>) =>
  new Map(Object.entries(s).map(([k, v]) => [k, fromStored(v)]));

class FgsmNet extends nn.Module {
  conv1 = new nn.Conv2d(1, 4, 5);
  conv2 = new nn.Conv2d(4, 8, 5);
  conv2_drop = new nn.Dropout2d();
  fc1 = new nn.Linear(8, 16);
  fc2 = new nn.Linear(16, 10);
  forward(x: Tensor): Tensor {
    x = F.relu(F.maxPool2d(this.conv1(x), 2));
    x = F.relu(F.maxPool2d(this.conv2_drop(this.conv2(x)), 2));
    x = x.view(-1, 8);
    x = F.relu(this.fc1(x));
    x = F.dropout(x, 0.5, this.training);
    x = this.fc2(x);
    return F.logSoftmax(x, 1);
  }
}

function fgsmAttack(image: Tensor, epsilon: number, dataGrad: Tensor): Tensor {
  const signDataGrad = dataGrad.sign();
  return clamp(image.add(signDataGrad.mul(epsilon)), 0, 1);
}

Deno.test("FGSM tutorial: accuracy per epsilon, predictions, input gradient as torch's", () => {
  const model = new FgsmNet();
  model.loadStateDict(stateOf(fx.fgsm.state));
  model.eval();
  const images = fromStored(fx.fgsm.images), targets = fromStored(fx.fgsm.targets);
  fx.fgsm.epsilons.forEach((epsilon, e) => {
    let correct = 0;
    const rows: number[][] = [];
    for (let i = 0; i < images.shape[0]; i++) {
      const data = images.slice(i, i + 1).clone(), target = targets.slice(i, i + 1);
      data.requiresGrad = true; // data.requires_grad = True
      const output = model(data);
      const initPred = output.argmax(1, true); // output.max(1, keepdim=True)[1]
      if (initPred.item() !== target.item()) continue;
      const loss = F.nllLoss(output, target);
      model.zeroGrad();
      loss.backward();
      const perturbed = fgsmAttack(data, epsilon, data.grad!.detach()); // data.grad.data
      const finalPred = model(perturbed).argmax(1, true);
      if (finalPred.item() === target.item()) correct += 1;
      rows.push([i, initPred.item(), finalPred.item()]);
    }
    assert.deepEqual(rows, fx.fgsm.attacked[e], `epsilon ${epsilon}`);
    assert.equal(correct / images.shape[0], fx.fgsm.accuracy[e]);
  });
  const x0 = images.slice(0, 1).clone().requiresGrad_(true);
  F.nllLoss(model(x0), targets.slice(0, 1)).backward();
  assertClose(x0.grad!, fx.fgsm.grad0.data, { rtol: 1e-4, atol: 1e-7 });
  assertClose(fgsmAttack(x0, 0.1, x0.grad!.detach()), fx.fgsm.perturbed0.data);
});

Deno.test("general checkpoint: io.save to model.pt writes torch's optimizer layout; resuming matches torch", async () => {
  const c = fx.checkpoint;
  const x = fromStored(c.x), y = fromStored(c.y);
  let model = new nn.Linear(3, 2);
  model.loadStateDict(stateOf(c.init));
  let optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = (i: number) => {
    optimizer.zeroGrad();
    F.mseLoss(model(x.select(0, i)), y.select(0, i)).backward();
    optimizer.step();
  };
  step(0);
  step(1);
  const path = await Deno.makeTempFile({ suffix: ".pt" });
  try {
    await io.save(path, {
      epoch: 2,
      model_state_dict: model.stateDict(),
      optimizer_state_dict: optimizer.stateDict(), // torch's optimizer.state_dict()
      loss: 0.4,
    });
    // What torch.load gives torch's optimizer.load_state_dict: param_groups, state by index.
    const raw = await io.loadPth(path) as Record<string, Record<string, unknown>>;
    const saved = raw.optimizer_state_dict as {
      param_groups: Record<string, unknown>[];
      state: Map<number, Record<string, unknown>>;
    };
    assert.deepEqual(saved.param_groups, c.paramGroups);
    assert.deepEqual(
      Object.fromEntries([...saved.state].map(([k, v]) => [String(k), Object.keys(v).sort()])),
      c.stateKeys,
    );
    // The recipe's load half, here: a fresh model and optimizer resume.
    model = new nn.Linear(3, 2);
    optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const checkpoint = await io.load(path) as Record<string, never>;
    model.loadStateDict(checkpoint.model_state_dict);
    optimizer.loadStateDict(checkpoint.optimizer_state_dict);
    assert.equal(checkpoint.epoch, 2);
    model.train();
    step(2);
    step(3);
    for (const [k, v] of model.stateDict()) assertClose(v, c.final[k].data);
    // A safetensors checkpoint keeps this library's layout.
    const st = path.replace(/\.pt$/, ".safetensors");
    await io.save(st, { optimizer: optimizer.stateDict() });
    const back = await io.load(st) as { optimizer: Record<string, unknown> };
    assert.deepEqual(Object.keys(back.optimizer).sort(), ["paramGroups", "state"]);
    await Deno.remove(st);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("warmstarting: loadStateDict(sd, { strict: false }) with renamed keys, as torch", () => {
  class NetB extends nn.Module {
    fc1 = new nn.Linear(4, 3);
    head = new nn.Linear(3, 2);
    extra = new nn.Linear(2, 2);
    forward(x: Tensor): Tensor {
      return this.extra(this.head(F.relu(this.fc1(x))));
    }
  }
  const w = fx.warmstart, netB = new NetB();
  const sd = stateOf(w.netA);
  const plain = netB.loadStateDict(sd, { strict: false });
  assert.deepEqual([plain.missingKeys, plain.unexpectedKeys], [
    w.plain.missing,
    w.plain.unexpected,
  ]);
  const renamed = new Map([...sd].map(([k, v]) => [k.replace("fc2", "head"), v]));
  const r = netB.loadStateDict(renamed, { strict: false });
  assert.deepEqual([r.missingKeys, r.unexpectedKeys], [w.renamed.missing, w.renamed.unexpected]);
  assertClose(netB.head.weight, w.netA["fc2.weight"].data);
});

Deno.test("AMP recipe: loss.item() after opt.zeroGrad() when backward ran from scaler.scale(loss)", () => {
  const net = new nn.Sequential(new nn.Linear(8, 8), new nn.ReLU(), new nn.Linear(8, 4));
  const opt = new optim.SGD(net.parameters(), { lr: 0.01 });
  const scaler = new amp.GradScaler();
  const x = randn([5, 8]), y = randn([5, 4]);
  for (let i = 0; i < 3; i++) {
    const loss = F.mseLoss(net(x), y);
    const before = loss.item();
    scaler.scale(loss).backward();
    scaler.step(opt);
    scaler.update();
    opt.zeroGrad();
    assert.equal(loss.item(), before); // torch keeps it; it was freed at zeroGrad here
  }
});

Deno.test("recipes' torch spellings get the call to write with the user's values", () => {
  // "Defining a Neural Network": nn.Conv2d(1, 32, 3, 1)
  assert.throws(
    () => new (nn.Conv2d as unknown as new (...a: unknown[]) => unknown)(1, 32, 3, 1),
    /write new nn\.Conv2d\(1, 32, 3, \{ stride: 1 \}\)/,
  );
  // ... and nn.Dropout2d after a Linear (torch 1.13: element-wise dropout, with a warning).
  const drop = new nn.Dropout2d(0.5);
  assert.throws(() => drop(randn([1, 128])), /2-D input \[1,128\].*write new nn\.Dropout\(0\.5\)/);
  // FGSM's F.dropout(x, training=self.training): this.training, not the mode it ran in.
  assert.throws(
    () => F.dropout(randn([2]), { training: false } as never),
    /write F\.dropout\(x, 0\.5, this\.training\)/,
  );
});
