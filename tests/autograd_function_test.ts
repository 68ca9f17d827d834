/**
 * autograd.Function, the port of torch.autograd.Function: custom ops with
 * their own backward against PyTorch 1.13's numbers
 * (tests/fixtures/autograd_function.json, written by
 * scripts/make_autograd_function_fixtures.py, which defines the same ops in
 * torch), a finite-difference gradient check, the ctx API, the errors
 * worded as torch's, memory over a training loop, and use in a Module.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  autograd,
  endStep,
  isGradEnabled,
  memoryStats,
  nn,
  noGrad,
  optim,
  scope,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

type Ctx = autograd.FunctionCtx;

interface Case {
  name: string;
  inputs: (StoredRecord & { grad: boolean })[];
  outs: StoredRecord[];
  G: (StoredRecord | null)[];
  grads: (StoredRecord | null)[];
  k?: number;
  needs?: boolean[];
}

const fx = loadFixture<{ torch: string; cases: Case[] }>("autograd_function.json");
const byName = (name: string): Case => fx.cases.find((c) => c.name === name)!;
const [rtol, atol] = testDevice === "cpu" ? [1e-5, 1e-6] : [1e-4, 1e-5];
const make = (r: StoredRecord & { grad?: boolean }) =>
  fromStored(r, { requiresGrad: r.grad ?? false, device: testDevice });
const on = (values: number[], requiresGrad = true) =>
  tensor(values, undefined, { requiresGrad, device: testDevice });

// ---- the ops the fixture script defines in torch ----

class LegendrePolynomial3 extends autograd.Function {
  static override forward(ctx: Ctx, input: Tensor): Tensor {
    ctx.saveForBackward(input);
    return input.pow(3).mul(5).sub(input.mul(3)).mul(0.5);
  }
  static override backward(ctx: Ctx, gradOutput: Tensor): Tensor {
    const [input] = ctx.savedTensors;
    return gradOutput.mul(1.5).mul(input!.pow(2).mul(5).sub(1));
  }
}

let lastNeeds: readonly boolean[] = [];
class MulAddConst extends autograd.Function {
  static override forward(ctx: Ctx, x: Tensor, w: Tensor, k: number, b: Tensor): Tensor {
    ctx.saveForBackward(x, w);
    ctx.k = k;
    lastNeeds = ctx.needsInputGrad;
    return x.matmul(w).mul(k).add(b);
  }
  static override backward(ctx: Ctx, g: Tensor) {
    const [x, w] = ctx.savedTensors as Tensor[];
    const k = ctx.k as number;
    const [nx, nw, , nb] = ctx.needsInputGrad;
    // b's gradient unreduced ([m, n] for b [n]): summed to b's shape, as torch does.
    return [
      nx ? g.matmul(w.t()).mul(k) : null,
      nw ? x.t().matmul(g).mul(k) : null,
      null,
      nb ? g : null,
    ];
  }
}

let seenGrads: (Tensor | null)[] = [];
class TwoOutputs extends autograd.Function {
  static override forward(ctx: Ctx, x: Tensor): [Tensor, Tensor] {
    const e = x.exp(); // an intermediate that is also an output
    ctx.saveForBackward(x, e);
    return [e, x.mul(x)];
  }
  static override backward(ctx: Ctx, ga: Tensor, gb: Tensor): Tensor {
    seenGrads.forEach((g) => g?.dispose()); // the last call's copies
    seenGrads = [ga, gb].map((g) => g?.clone().keep() ?? null);
    const [x, e] = ctx.savedTensors as Tensor[];
    return ga.mul(e).add(gb.mul(2).mul(x));
  }
}

/** L = sum(out_i * G_i) over the outputs the case uses, then backward. */
function lossOf(outs: Tensor[], c: Case): Tensor {
  let loss: Tensor | null = null;
  c.G.forEach((g, i) => {
    if (g === null) return;
    const term = outs[i].mul(make(g)).sum();
    loss = loss === null ? term : loss.add(term);
  });
  return loss!;
}

function checkCase(c: Case, run: (inputs: Tensor[]) => Tensor[]): void {
  const inputs = c.inputs.map(make);
  const outs = run(inputs);
  outs.forEach((o, i) => assertStored(o, c.outs[i], `${c.name} out ${i}`, rtol, atol));
  lossOf(outs, c).backward();
  inputs.forEach((t, i) => {
    const want = c.grads[i];
    if (want === null) assert.equal(t.grad, null, `${c.name}: input ${i} gets no gradient`);
    else assertStored(t.grad, want, `${c.name} grad ${i}`, rtol, atol);
  });
  endStep();
}

Deno.test("autograd.Function: the Legendre polynomial of torch's tutorial, against torch", () => {
  checkCase(byName("legendre"), ([x]) => {
    const y = LegendrePolynomial3.apply(x);
    assert.equal(y.gradFn?.name, "LegendrePolynomial3Backward"); // torch's grad_fn name
    assert.equal(y.requiresGrad, true);
    return [y];
  });
});

Deno.test("autograd.Function: tensors and a number as arguments, needsInputGrad, broadcast grads", () => {
  for (const name of ["mul_add_const", "mul_add_const_frozen_w"]) {
    const c = byName(name);
    checkCase(c, ([x, w, b]) => [MulAddConst.apply(x, w, c.k!, b)]);
    assert.deepEqual(lastNeeds, c.needs, `${name}: needsInputGrad`);
  }
});

Deno.test("autograd.Function: two outputs, one unused in the loss, against torch", () => {
  checkCase(byName("two_outputs_first_used"), ([x]) => TwoOutputs.apply(x));
  // The unused output's gradient reaches backward as zeros (torch materializes them).
  assert.deepEqual(seenGrads[1]!.toList(), [[0, 0], [0, 0], [0, 0]]);
  checkCase(byName("two_outputs_both_used"), ([x]) => TwoOutputs.apply(x));
  assert.ok(seenGrads[1]!.toArray().some((v) => v !== 0));
  seenGrads.forEach((g) => g?.dispose());
});

/** Central differences of sum(f(x) * G) against the custom backward. */
function gradcheck(f: (x: Tensor) => Tensor[], values: number[], eps = 1e-2): void {
  const G = values.map((_, i) => Math.sin(1 + 3 * i));
  const lossAt = (v: number[]) =>
    noGrad(() =>
      f(on(v, false)).reduce(
        (s, o) => s + o.mul(on(G.slice(0, o.numel()), false).reshape([...o.shape])).sum().item(),
        0,
      )
    );
  const x = on(values);
  scope(() => {
    const outs = f(x);
    outs.map((o) => o.mul(on(G.slice(0, o.numel()), false).reshape([...o.shape])).sum())
      .reduce((a, b) => a.add(b)).backward();
  });
  const analytic = x.grad!.toArray();
  values.forEach((v, i) => {
    const up = [...values], down = [...values];
    up[i] = v + eps;
    down[i] = v - eps;
    const numeric = (lossAt(up) - lossAt(down)) / (2 * eps);
    const err = Math.abs(numeric - analytic[i]);
    assert.ok(
      err <= 1e-2 * Math.max(1, Math.abs(numeric)),
      `d/dx[${i}]: ${analytic[i]} vs ${numeric}`,
    );
  });
}

Deno.test("autograd.Function: gradcheck by finite differences", () => {
  gradcheck((x) => [LegendrePolynomial3.apply(x)], [0.3, -0.8, 1.2, 0.05]);
  gradcheck((x) => TwoOutputs.apply(x), [0.3, -0.8, 1.2, 0.05]);
  gradcheck(
    (
      x,
    ) => [
      MulAddConst.apply(
        x.reshape([2, 2]),
        on([1, -2, 0.5, 3], false).reshape([2, 2]),
        0.5,
        on([0.1, 0.2]),
      ),
    ],
    [0.3, -0.8, 1.2, 0.05],
  );
});

Deno.test("autograd.Function: forward runs without recording; outputs otherwise not recorded", () => {
  let recorded: boolean | null = null;
  class Probe extends autograd.Function {
    static override forward(_ctx: Ctx, x: Tensor): Tensor {
      recorded = isGradEnabled();
      const y = x.mul(2);
      assert.equal(y.requiresGrad, false);
      return y;
    }
    static override backward(_ctx: Ctx, g: Tensor): Tensor {
      return g.mul(2);
    }
  }
  const x = on([1, 2]);
  assert.equal(Probe.apply(x).requiresGrad, true);
  assert.equal(recorded, false);
  // Under noGrad, or with no input requiring grad: a plain result, as torch's.
  assert.equal(noGrad(() => Probe.apply(x)).gradFn, null);
  assert.equal(Probe.apply(on([1, 2], false)).requiresGrad, false);
  endStep();
});

Deno.test("autograd.Function: tensors saved or set on ctx in forward live until backward", () => {
  class Tanh2 extends autograd.Function {
    static override forward(ctx: Ctx, x: Tensor): Tensor {
      const t = x.tanh(); // an intermediate, neither input nor output
      ctx.saveForBackward(t);
      ctx.scale = x.gt(0).add(1); // 2 where x > 0, else 1
      return t.mul(ctx.scale as Tensor);
    }
    static override backward(ctx: Ctx, g: Tensor): Tensor {
      const [t] = ctx.savedTensors as Tensor[];
      return g.mul(ctx.scale as Tensor).mul(t.pow(2).neg().add(1));
    }
  }
  const x = on([0.5, -1]);
  const y = Tanh2.apply(x);
  y.sum().backward();
  const d = (v: number) => 1 - Math.tanh(v) ** 2;
  const g = x.grad!.toArray();
  assert.ok(Math.abs(g[0] - 2 * d(0.5)) < 1e-6 && Math.abs(g[1] - d(-1)) < 1e-6, `${g}`);
  endStep();
});

Deno.test("autograd.Function: an input returned as is becomes a view, the input untouched", () => {
  class Identity extends autograd.Function {
    static override forward(_ctx: Ctx, x: Tensor): Tensor {
      return x;
    }
    static override backward(_ctx: Ctx, g: Tensor): Tensor {
      return g.mul(3);
    }
  }
  const x = on([1, 2]);
  const y = Identity.apply(x);
  assert.notEqual(y, x);
  assert.equal(x.gradFn, null); // still a leaf
  assert.equal(y.gradFn?.name, "IdentityBackward");
  y.sum().backward();
  assert.deepEqual(x.grad!.toList(), [3, 3]);
  endStep();
});

Deno.test("autograd.Function: markNonDifferentiable, int outputs and setMaterializeGrads(false)", () => {
  let got: (Tensor | null)[] = [];
  class MaxWithIndex extends autograd.Function {
    static override forward(
      ctx: Ctx,
      x: Tensor,
      materialize: boolean,
    ): [Tensor, Tensor, Tensor, string] {
      ctx.setMaterializeGrads(materialize);
      const mask = x.gt(0); // float32 here: marked
      ctx.markNonDifferentiable(mask);
      return [x.mul(2), x.argmax(), mask, "tag"];
    }
    static override backward(_ctx: Ctx, g: Tensor, ...rest: (Tensor | null)[]) {
      got = rest.map((r) => r?.clone().keep() ?? null);
      return [g.mul(2), null];
    }
  }
  const x = on([1, -3, 2]);
  const [y, idx, mask, tag] = MaxWithIndex.apply(x, true);
  assert.equal(tag, "tag");
  assert.equal(idx.requiresGrad, false);
  assert.equal(mask.requiresGrad, false);
  assert.equal(y.requiresGrad, true);
  y.sum().backward();
  assert.deepEqual(x.grad!.toList(), [2, 2, 2]);
  // Zeros for the outputs nothing reached (torch's tensor(0) for the index), null for the string.
  assert.deepEqual(got.map((g) => g?.toList() ?? null), [0, [0, 0, 0], null]);
  got.forEach((g) => g?.dispose());
  x.grad = null;
  MaxWithIndex.apply(x, false)[0].sum().backward();
  assert.deepEqual(got, [null, null, null]);
  assert.deepEqual(x.grad!.toList(), [2, 2, 2]);
  endStep();
});

Deno.test("autograd.Function: outputs of several calls in one graph, a retained graph twice", () => {
  const x = on([0.5, -1]);
  const [a, b] = TwoOutputs.apply(x);
  const y = LegendrePolynomial3.apply(a.add(b));
  y.sum().backward(undefined, { retainGraph: true });
  const once = [...x.grad!.toArray()];
  y.sum().backward();
  assert.deepEqual([...x.grad!.toArray()], once.map((v) => 2 * v));
  // Without retainGraph, a second pass through the saved tensors is refused.
  assert.throws(() => y.sum().backward(), /already used and freed/);
  endStep();
});

Deno.test("autograd.Function: a multi-output backward may return the gradients it got", () => {
  class Pair extends autograd.Function {
    static override forward(_ctx: Ctx, x: Tensor, y: Tensor): [Tensor, Tensor] {
      return [x.mul(1), y.mul(1)];
    }
    static override backward(_ctx: Ctx, gx: Tensor, gy: Tensor): [Tensor, Tensor] {
      return [gx, gy];
    }
  }
  const x = on([1, 2]), y = on([3]);
  const [a, b] = Pair.apply(x, y);
  a.mul(on([2, 5], false)).sum().add(b.mul(3).sum()).backward();
  assert.deepEqual([x.grad!.toList(), y.grad!.toList()], [[2, 5], [3]]);
  endStep();
});

Deno.test("autograd.Function: a multi-output call returned from a scope still backwards", () => {
  const x = on([0.5, -1]);
  // The outputs leave the scope; what joins them for backward must not be freed with it.
  const [a, b] = scope(() => TwoOutputs.apply(x));
  b.sum().add(a.sum()).backward();
  const e = [Math.exp(0.5), Math.exp(-1)];
  const g = x.grad!.toArray();
  assert.ok(Math.abs(g[0] - (e[0] + 1)) < 1e-5 && Math.abs(g[1] - (e[1] - 2)) < 1e-5, `${g}`);
  endStep();
});

Deno.test("autograd.Function: a saved tensor written in place after forward: torch's error", () => {
  const x = on([1, 2]);
  const h = x.mul(1);
  const y = LegendrePolynomial3.apply(h);
  noGrad(() => h.add_(1));
  assert.throws(
    () => y.sum().backward(),
    /modified by an in-place operation: \[2\], saved by 'LegendrePolynomial3Backward'/,
  );
  endStep();
});

Deno.test("autograd.Function: wrong gradients from backward: count, shape, type, device", () => {
  const make = (back: (g: Tensor) => unknown) =>
    class Bad extends autograd.Function {
      static override forward(_ctx: Ctx, x: Tensor, _k: number): Tensor {
        return x.mul(2);
      }
      static override backward(_ctx: Ctx, g: Tensor) {
        return back(g) as Tensor[];
      }
    };
  const x = on([1, 2, 3]);
  const run = (back: (g: Tensor) => unknown) => make(back).apply(x, 2).sum().backward();
  assert.throws(
    () => run((g) => g),
    /function BadBackward returned an incorrect number of gradients \(expected 2, got 1\)/,
  );
  assert.throws(() => run((g) => [g, null, g]), /expected 2, got 3/);
  assert.throws(
    () => run((g) => [g.narrow(0, 0, 2), null]),
    /Function BadBackward returned an invalid gradient at index 0 - got \[2\] but expected shape compatible with \[3\]/,
  );
  assert.throws(() => run((g) => [g.sum(), null]), /got \[\] but expected shape compatible/);
  assert.throws(
    () => run((g) => [g, g]),
    /gradient different than null at position 2, but the corresponding forward input was not a Tensor/,
  );
  assert.throws(
    () => run(() => [3, null]),
    /returned number 3 as the gradient of forward argument 0/,
  );
  // Extra trailing nulls are accepted, as torch's; a broadcast gradient is summed.
  run((g) => [g, null, null]);
  assert.deepEqual(x.grad!.toList(), [1, 1, 1]);
  x.grad = null;
  run((g) => [g.unsqueeze(0).expand([2, 3]), null]);
  assert.deepEqual(x.grad!.toList(), [2, 2, 2]);
  endStep();
});

Deno.test("autograd.Function: what forward and ctx refuse", () => {
  const x = on([1, 2]);
  class NoForward extends autograd.Function {}
  assert.throws(() => NoForward.apply(x), /NoForward: you must implement the forward function/);
  class NoBackward extends autograd.Function {
    static override forward(_ctx: Ctx, x: Tensor): Tensor {
      return x.mul(2);
    }
  }
  assert.throws(() => NoBackward.apply(x).sum().backward(), /must implement the backward/);
  const apply = LegendrePolynomial3.apply;
  assert.throws(() => (apply as (x: Tensor) => Tensor)(x), /MyFn\.apply\.bind\(MyFn\)/);
  class ReturnsNumber extends autograd.Function {
    static override forward(): autograd.FunctionOutput {
      return 5 as unknown as Tensor;
    }
  }
  assert.throws(() => ReturnsNumber.apply(), /forward returned number 5; it returns a tensor/);
  class Async extends autograd.Function {
    // deno-lint-ignore require-await
    static override forward = (async () => x) as unknown as typeof autograd.Function.forward;
  }
  assert.throws(() => Async.apply(x), /forward is an async function/);
  class SavesNumber extends autograd.Function {
    static override forward(ctx: Ctx, x: Tensor): Tensor {
      ctx.saveForBackward(x, 3 as unknown as Tensor);
      return x.mul(1);
    }
  }
  assert.throws(
    () => SavesNumber.apply(x),
    /saveForBackward can only save tensors .* argument 1 is number 3/,
  );
  class TorchNames extends autograd.Function {
    static override forward(ctx: Ctx, x: Tensor): Tensor {
      (ctx.save_for_backward as (t: Tensor) => void)(x);
      return x.mul(1);
    }
  }
  assert.throws(
    () => TorchNames.apply(x),
    /ctx.save_for_backward is torch's name; write ctx.saveForBackward/,
  );
  class Dirty extends autograd.Function {
    static override forward(ctx: Ctx, x: Tensor): Tensor {
      ctx.markDirty(x);
      return x;
    }
  }
  assert.throws(() => Dirty.apply(x), /markDirty \(an in-place forward\) is not supported/);
  class SavesLate extends autograd.Function {
    static override forward(_ctx: Ctx, x: Tensor): Tensor {
      return x.mul(2);
    }
    static override backward(ctx: Ctx, g: Tensor): Tensor {
      ctx.saveForBackward(g);
      return g;
    }
  }
  assert.throws(
    () => SavesLate.apply(x).sum().backward(),
    /saveForBackward is only allowed inside forward/,
  );
  class Materialize extends autograd.Function {
    static override forward(ctx: Ctx, x: Tensor): Tensor {
      ctx.setMaterializeGrads("no" as unknown as boolean);
      return x.mul(1);
    }
  }
  assert.throws(() => Materialize.apply(x), /setMaterializeGrads takes true or false/);
  // backward has no createGraph (double backward): refused by its options check.
  const y = LegendrePolynomial3.apply(x).sum();
  assert.throws(
    () => y.backward(undefined, { createGraph: true } as { retainGraph?: boolean }),
    /unknown option 'createGraph'/,
  );
  endStep();
});

Deno.test("autograd.Function: inside an nn.Module, trained with an optimizer", () => {
  class Net extends nn.Module {
    fc = new nn.Linear(3, 2);
    forward(x: Tensor): Tensor {
      return LegendrePolynomial3.apply(this.fc.forward(x));
    }
  }
  const net = new Net().to(testDevice);
  const opt = new optim.SGD(net.parameters(), { lr: 0.05 });
  const x = tensor([[0.1, 0.2, -0.3], [0.5, -0.1, 0.2]], undefined, { device: testDevice });
  const target = tensor([[0.2, -0.1], [0.0, 0.3]], undefined, { device: testDevice });
  const losses: number[] = [];
  for (let i = 0; i < 20; i++) {
    opt.zeroGrad();
    const loss = net(x).sub(target).pow(2).mean();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  assert.ok(losses[19] < losses[0] * 0.9, `${losses[0]} -> ${losses[19]}`);
  assert.ok(net.fc.weight.grad !== null);
  endStep();
});

Deno.test("autograd.Function: a training loop with the custom ops stays flat in memory", () => {
  const fc = new nn.Linear(4, 4).to(testDevice);
  const opt = new optim.SGD(fc.parameters(), { lr: 0.01 });
  const x = tensor(Array.from({ length: 16 }, (_, i) => Math.sin(i)), [4, 4], {
    device: testDevice,
  });
  let atStep10 = 0;
  for (let step = 0; step < 50; step++) {
    opt.zeroGrad();
    const h = LegendrePolynomial3.apply(fc.forward(x).tanh());
    const [a, b] = TwoOutputs.apply(h);
    const loss = a.mean().add(b.mean()).add(MulAddConst.apply(h, fc.weight, 0.5, fc.bias!).mean());
    loss.backward();
    opt.step();
    if (step === 10) atStep10 = memoryStats().bytesInUse;
  }
  assert.equal(memoryStats().bytesInUse, atStep10);
  endStep();
  x.dispose();
});
