/**
 * A module's hooks as PyTorch's: full backward hooks (the gradInput and
 * gradOutput each sees, a replaced gradInput), backward pre-hooks, forward
 * pre-hooks and `prepend`, against PyTorch 1.13's numbers
 * (tests/fixtures/module_hooks.json, written by
 * scripts/make_module_hooks_fixtures.py); when they do not run; that the
 * fused model paths turn off while hooked and on again; memory.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { endStep, memoryStats, models, nn, noGrad, randn, type Tensor, tensor } from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

type Rec = StoredRecord;
interface Call {
  layer?: number;
  gradInput: (Rec | null)[];
  gradOutput: (Rec | null)[];
}
const fx = loadFixture<{
  state: Record<string, Rec>;
  x: Rec;
  G: Rec;
  seen: { calls: Call[]; weight0: Rec };
  replaced: Record<string, Rec>;
  pre: Record<string, Rec>;
  two: Call;
}>("module_hooks.json");
const [rtol, atol] = testDevice === "cpu" ? [1e-4, 1e-5] : [1e-3, 1e-4];

function make(): nn.Sequential {
  const net = new nn.Sequential(
    new nn.Conv2d(1, 2, 3),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(32, 3),
  );
  const sd = new Map(Object.entries(fx.state).map(([k, v]) => [k, fromStored(v)]));
  net.loadStateDict(sd);
  return net.to(testDevice);
}
const input = (requiresGrad = false) => fromStored(fx.x, { requiresGrad, device: testDevice });
const upstream = () => fromStored(fx.G, { device: testDevice });

function assertCall(
  got: { gradInput: (Tensor | null)[]; gradOutput: (Tensor | null)[] },
  want: Call,
) {
  const what = `layer ${want.layer ?? "two"}`;
  assert.equal(got.gradInput.length, want.gradInput.length, `${what}: gradInput entries`);
  assert.equal(got.gradOutput.length, want.gradOutput.length, `${what}: gradOutput entries`);
  want.gradInput.forEach((w, i) => {
    if (w === null) assert.equal(got.gradInput[i], null, `${what}: gradInput[${i}] null`);
    else assertStored(got.gradInput[i], w, `${what}: gradInput[${i}]`, rtol, atol);
  });
  want.gradOutput.forEach((w, i) =>
    assertStored(got.gradOutput[i], w!, `${what}: gradOutput[${i}]`, rtol, atol)
  );
}

Deno.test("registerFullBackwardHook: each layer's gradInput and gradOutput, in torch's order", () => {
  const net = make();
  const calls: { layer: number; gradInput: (Tensor | null)[]; gradOutput: (Tensor | null)[] }[] =
    [];
  [...net].forEach((m, layer) =>
    m.registerFullBackwardHook((_m, gradInput, gradOutput) => {
      calls.push({ layer, gradInput, gradOutput });
    })
  );
  net(input()).backward(upstream());
  assert.deepEqual(calls.map((c) => c.layer), fx.seen.calls.map((c) => c.layer));
  // The hooks' copies are the caller's: still readable after backward (Grad-CAM keeps them).
  calls.forEach((c, i) => assertCall(c, fx.seen.calls[i]));
  assertStored((net[0] as nn.Conv2d).weight.grad, fx.seen.weight0, "conv weight .grad", rtol, atol);
  endStep();
});

Deno.test("registerFullBackwardHook: a returned gradInput replaces the gradient that flows on", () => {
  const net = make();
  net[1].registerFullBackwardHook((_m, [g]) => [g!.mul(0.5)]);
  const x = input(true);
  net(x).backward(upstream());
  const want = fx.replaced;
  assertStored((net[0] as nn.Conv2d).weight.grad, want.weight0, "conv weight", rtol, atol);
  assertStored(x.grad, want.input, "input", rtol, atol);
  assertStored(
    (net[3] as nn.Linear).weight.grad,
    want.weight3,
    "linear weight (above the hook)",
    rtol,
    atol,
  );
  endStep();
});

Deno.test("registerForwardPreHook: a returned array replaces the arguments", () => {
  const net = make();
  net[3].registerForwardPreHook((_m, [h]: Tensor[]) => [h.mul(2)]);
  const out = net(input());
  assertStored(out, fx.pre.out, "output", rtol, atol);
  out.backward(upstream());
  assertStored((net[3] as nn.Linear).weight.grad, fx.pre.weight3, "linear weight", rtol, atol);
  endStep();
});

Deno.test("registerFullBackwardHook: two inputs, one needing no gradient, gets zeros (torch 1.13)", () => {
  class Two extends nn.Module {
    forward(a: Tensor, b: Tensor): Tensor {
      return a.mul(b);
    }
  }
  const two = new Two();
  let got: { gradInput: (Tensor | null)[]; gradOutput: (Tensor | null)[] } | null = null;
  two.registerFullBackwardHook((_m, gradInput, gradOutput) => {
    got = { gradInput, gradOutput };
  });
  const a = tensor([1, 2], undefined, { requiresGrad: true, device: testDevice });
  const b = tensor([3, 4], undefined, { device: testDevice });
  two(a, b).sum().backward();
  assertCall(got!, fx.two);
  assert.deepEqual(a.grad!.toList(), [3, 4]);
  endStep();
});

Deno.test("registerFullBackwardHook: one null per argument when none needs a gradient; null gradOutput where none came (torch 1.13)", () => {
  // torch 1.13: (None, None) for a two-argument module none of whose inputs requires grad,
  // and None in gradOutput for an output that got no gradient (unused, or needing none).
  const lin = new nn.Linear(2, 2).to(testDevice);
  class Two extends nn.Module {
    lin = lin;
    forward(a: Tensor, b: Tensor): Tensor {
      return this.lin(a).add(b);
    }
  }
  const two = new Two();
  const seen: [(Tensor | null)[], (Tensor | null)[]][] = [];
  two.registerFullBackwardHook((_m, gi, go) => void seen.push([gi, go]));
  const on = (v: number[], requiresGrad = false) =>
    tensor(v, undefined, { requiresGrad, device: testDevice });
  two(on([1, 2]), on([3, 4])).sum().backward();
  assert.deepEqual(seen[0][0], [null, null]);
  assert.deepEqual(seen[0][1].map((g) => g!.toList()), [[1, 1]]);
  class Split extends nn.Module {
    forward(a: Tensor): Tensor[] {
      return [a.mul(2), a.mul(3), on([5, 6])];
    }
  }
  const split = new Split();
  split.registerFullBackwardHook((_m, gi, go) => void seen.push([gi, go]));
  const pre: (Tensor | null)[][] = [];
  split.registerFullBackwardPreHook((_m, go) => void pre.push(go));
  const a = on([1, 2], true);
  (split(a) as unknown as Tensor[])[0].sum().backward();
  const [gi, go] = seen[1];
  assert.deepEqual(gi.map((g) => g!.toList()), [[2, 2]]);
  assert.deepEqual(go.map((g) => g?.toList() ?? null), [[1, 1], null, null]);
  assert.deepEqual(pre[0].map((g) => g?.toList() ?? null), [[1, 1], null, null]);
  assert.deepEqual(a.grad!.toList(), [2, 2]);
  endStep();
});

Deno.test("registerFullBackwardPreHook: a returned gradOutput flows into the module; prepend", () => {
  const fc = new nn.Linear(2, 1).to(testDevice);
  const order: string[] = [];
  fc.registerFullBackwardPreHook((_m, [g]) => {
    order.push("x10");
    return [g!.mul(10)];
  });
  fc.registerFullBackwardPreHook(() => void order.push("first"), { prepend: true });
  let seen: Tensor | null = null;
  fc.registerFullBackwardHook((_m, _gi, [go]) => void (seen = go));
  fc(tensor([[1, 2]], undefined, { device: testDevice })).sum().backward();
  assert.deepEqual(order, ["first", "x10"]);
  assert.deepEqual(fc.weight.grad!.toList(), [[10, 20]]);
  assert.deepEqual((seen as Tensor | null)!.toList(), [[10]], "gradOutput after the pre-hooks");
  endStep();
});

Deno.test("module hooks: not under noGrad; removed, the fused model paths come back", () => {
  const net = make();
  let fired = 0;
  const h = net[1].registerFullBackwardHook(() => void fired++);
  noGrad(() => net(input()));
  assert.equal(fired, 0);
  assert.ok(Object.hasOwn(net[1], "forward"), "hooked: the instance's forward");
  h.remove();
  h.remove();
  assert.ok(!Object.hasOwn(net[1], "forward"), "no hooks: the class's forward again");
  // A hooked ResNet block runs the module calls (the hook fires), in eval too.
  const model = models.resnet18({ numClasses: 3, inChannels: 1 }).to(testDevice);
  model.eval();
  let grads = 0;
  model.layer4[1].registerFullBackwardHook(() => void grads++);
  model(randn([1, 1, 64, 64], { device: testDevice })).sum().backward();
  assert.equal(grads, 1);
  endStep();
});

Deno.test("module hooks: bad hooks and results are errors that say what to write", () => {
  const fc = new nn.Linear(2, 1).to(testDevice);
  const x = tensor([[1, 2]], undefined, { device: testDevice });
  assert.match(messageOf(() => fc.registerFullBackwardHook(3 as never)), /expected a function/);
  assert.match(
    messageOf(() => fc.registerFullBackwardHook((async () => {}) as never)),
    /hooks run synchronously/,
  );
  assert.match(
    messageOf(() => fc.registerForwardHook(() => {}, { prepend: 1, with_kwargs: true } as never)),
    /unknown option 'with_kwargs'/,
  );
  const h = fc.registerFullBackwardHook(() => [tensor([1]), null] as never);
  assert.match(messageOf(() => fc(x).sum().backward()), /returned 2 gradients.*array of 1/);
  h.remove();
  const p = fc.registerForwardPreHook(() => 3);
  assert.match(messageOf(() => fc(x)), /pre-hook returns nothing, an array/);
  p.remove();
  const names = fc as unknown as Record<string, () => void>;
  assert.match(messageOf(() => names.register_full_backward_hook()), /registerFullBackwardHook/);
  endStep();
});

Deno.test("module hooks: a training loop with a backward hook stays flat in memory", () => {
  const net = make();
  const kept: Tensor[] = [];
  net[1].registerFullBackwardHook((_m, _gi, [go]) => {
    kept.length = 0;
    kept.push(go!);
  });
  const step = () => {
    net.zeroGrad();
    net(input()).backward(upstream());
  };
  for (let i = 0; i < 3; i++) step();
  const before = memoryStats().bytesInUse;
  for (let i = 0; i < 10; i++) step();
  assert.equal(memoryStats().bytesInUse, before);
  endStep();
});
