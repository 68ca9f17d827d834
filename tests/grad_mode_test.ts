/**
 * enableGrad and setGradEnabled (torch.enable_grad, torch.set_grad_enabled):
 * what is recorded in each form, nested with noGrad and after plain calls,
 * against what PyTorch 1.13 records in the same scenarios
 * (tests/fixtures/grad_mode.json, written by scripts/make_grad_mode_fixtures.py);
 * async call chains through their awaits; the previous mode restored after
 * an exception; the transfer-learning tutorial's train/val loop against
 * torch's numbers, flat in memory; and the argument checks.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  enableGrad,
  endStep,
  isGradEnabled,
  memoryStats,
  nn,
  noGrad,
  optim,
  scope,
  setGradEnabled,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertStored, fromStored, loadFixture, type StoredRecord, testDevice } from "./helpers.ts";

interface Tutorial {
  init: Record<string, StoredRecord>;
  batches: Record<"train" | "val", { x: StoredRecord; y: StoredRecord }[]>;
  losses: number[];
  final: Record<string, StoredRecord>;
  grads: Record<string, StoredRecord>;
}
const fx = loadFixture<{ torch: string; modes: Record<string, boolean[]>; tutorial: Tutorial }>(
  "grad_mode.json",
);

const w = tensor([1, 2], undefined, { requiresGrad: true, device: testDevice });
const tick = () => new Promise<void>((r) => setTimeout(r, 1));

/** Whether an op on w is recorded here (requiresGrad and gradFn agree). */
function recorded(): boolean {
  return scope(() => {
    const y = w.mul(3);
    assert.equal(y.requiresGrad, y.gradFn !== null);
    return y.requiresGrad;
  });
}

/** Runs fn, which throws, and swallows its error. */
function swallow(fn: () => unknown): void {
  assert.throws(fn, /boom/);
}
const boom = (): never => {
  throw new Error("boom");
};

/** The same scenarios as the generator's, observation for observation. */
const SCENARIOS: Record<string, (seen: boolean[]) => void> = {
  enable_in_no_grad(seen) {
    noGrad(() => {
      enableGrad(() => seen.push(recorded(), isGradEnabled()));
      seen.push(recorded());
    });
    seen.push(recorded());
  },
  nested(seen) {
    noGrad(() => {
      seen.push(recorded());
      enableGrad(() => {
        seen.push(recorded());
        noGrad(() => seen.push(recorded()));
        seen.push(recorded());
      });
      seen.push(recorded());
    });
    seen.push(recorded());
  },
  set_grad_enabled_blocks(seen) {
    for (const phase of ["train", "val", "train"]) {
      setGradEnabled(phase === "train", () => seen.push(recorded()));
    }
    noGrad(() => {
      setGradEnabled(true, () => seen.push(recorded()));
      seen.push(recorded());
    });
  },
  plain_call_in_blocks(seen) {
    noGrad(() => {
      setGradEnabled(true);
      seen.push(recorded());
    });
    seen.push(isGradEnabled());
    enableGrad(() => {
      setGradEnabled(false);
      seen.push(recorded());
    });
    seen.push(isGradEnabled(), recorded());
  },
  global_off(seen) {
    setGradEnabled(false);
    seen.push(recorded(), isGradEnabled());
    enableGrad(() => seen.push(recorded()));
    seen.push(recorded());
    noGrad(() => seen.push(recorded()));
    seen.push(isGradEnabled());
    setGradEnabled(true, () => seen.push(recorded()));
    seen.push(isGradEnabled());
    setGradEnabled(true);
    seen.push(recorded(), isGradEnabled());
  },
  exceptions(seen) {
    noGrad(() => {
      swallow(() => enableGrad(boom));
      seen.push(recorded());
    });
    swallow(() => noGrad(boom));
    seen.push(recorded());
    setGradEnabled(false);
    swallow(() => enableGrad(boom));
    seen.push(isGradEnabled());
    setGradEnabled(true);
  },
  no_leaf(seen) {
    const x = tensor([1, 2], undefined, { device: testDevice });
    noGrad(() =>
      enableGrad(() => {
        seen.push(x.mul(2).requiresGrad, x.mul(w).requiresGrad);
      })
    );
  },
};

Deno.test("each switch records what torch 1.13 records, nested and after plain calls", () => {
  assert.deepEqual(Object.keys(SCENARIOS).sort(), Object.keys(fx.modes).sort());
  for (const [name, run] of Object.entries(SCENARIOS)) {
    const seen: boolean[] = [];
    run(seen);
    assert.deepEqual(seen, fx.modes[name], name);
    assert.equal(isGradEnabled(), true, `${name} left recording on`);
  }
});

Deno.test("a plain setGradEnabled(false) holds for the code that follows until set back", () => {
  try {
    setGradEnabled(false);
    const y = w.mul(2).add(1);
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.equal(isGradEnabled(), false);
  } finally {
    setGradEnabled(true);
  }
  assert.equal(w.mul(2).requiresGrad, true);
  endStep();
});

Deno.test("async fn: each chain keeps its mode through its awaits, nested and side by side", async () => {
  const seen: boolean[] = [];
  await noGrad(async () => {
    await tick();
    seen.push(recorded()); // false
    seen.push(enableGrad(() => recorded())); // true: a synchronous switch inside the chain
    await enableGrad(async () => {
      await tick();
      seen.push(recorded()); // true
      seen.push(noGrad(() => recorded())); // false
      await tick();
      seen.push(recorded(), isGradEnabled()); // true true
    });
    seen.push(recorded()); // false again
  });
  assert.deepEqual(seen, [false, true, true, false, true, true, false]);
  assert.equal(isGradEnabled(), true);

  // Two chains interleaving, and code outside both, each see their own mode.
  const log: string[] = [];
  const chain = (mode: boolean) => async () => {
    for (let i = 0; i < 3; i++) {
      await tick();
      log.push(`${mode}:${recorded()}`);
    }
  };
  const a = setGradEnabled(true, chain(true));
  const b = setGradEnabled(false, chain(false));
  assert.equal(recorded(), true);
  await Promise.all([a, b]);
  assert.deepEqual(log.sort(), [
    "false:false",
    "false:false",
    "false:false",
    ...Array(3).fill("true:true"),
  ]);
  endStep();
});

Deno.test("async fn: enableGrad's chain records under a global setGradEnabled(false), scope's does not", async () => {
  setGradEnabled(false);
  try {
    const seen: boolean[] = [];
    await enableGrad(async () => {
      await tick();
      seen.push(recorded());
    });
    await scope(async () => {
      await tick();
      seen.push(recorded()); // a scope changes no mode
    });
    await noGrad(async () => {
      await scope(async () => {
        await tick();
        seen.push(enableGrad(() => recorded()), recorded());
      });
    });
    assert.deepEqual(seen, [true, false, true, false]);
  } finally {
    setGradEnabled(true);
  }
});

Deno.test("async fn: a plain call sets the rest of its chain only; a rejection restores the mode", async () => {
  const seen: boolean[] = [];
  await noGrad(async () => {
    setGradEnabled(true);
    await tick();
    seen.push(recorded(), isGradEnabled()); // the chain's mode, through the await
  });
  seen.push(isGradEnabled());
  await assert.rejects(
    enableGrad(async () => {
      await tick();
      throw new Error("boom");
    }),
    /boom/,
  );
  await assert.rejects(
    noGrad(async () => {
      await tick();
      boom();
    }),
    /boom/,
  );
  seen.push(isGradEnabled(), recorded());
  assert.deepEqual(seen, [true, true, true, true, true]);
});

Deno.test("backward inside an enableGrad chain records nothing of its own", async () => {
  const g = await noGrad(async () =>
    await enableGrad(async () => {
      await tick();
      const x = tensor([1, 2, 3], undefined, { requiresGrad: true, device: testDevice });
      x.mul(x).sum().backward();
      const grad = x.grad!;
      assert.equal(grad.requiresGrad, false);
      return Array.from(grad.toArray());
    })
  );
  assert.deepEqual(g, [2, 4, 6]);
});

function tutorialModel(): nn.Linear {
  const model = new nn.Linear(4, 3).to(testDevice);
  const t = fx.tutorial;
  model.loadStateDict({ weight: fromStored(t.init.weight), bias: fromStored(t.init.bias) });
  return model;
}

const batchesOf = (phase: "train" | "val") =>
  fx.tutorial.batches[phase].map((b) => ({
    x: fromStored(b.x, { device: testDevice }).keep(),
    y: fromStored(b.y, { device: testDevice }).keep(),
  }));

Deno.test("the tutorial's train/val loop under setGradEnabled matches torch's numbers", () => {
  const model = tutorialModel();
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const batches = { train: batchesOf("train"), val: batchesOf("val") };
  const losses: number[] = [];
  let grads: Record<string, Float32Array> = {};
  for (let epoch = 0; epoch < 2; epoch++) {
    for (const phase of ["train", "val"] as const) {
      if (phase === "train") model.train();
      else model.eval();
      let running = 0;
      for (const { x, y } of batches[phase]) {
        optimizer.zeroGrad();
        running += setGradEnabled(phase === "train", () => {
          const outputs = model.forward(x);
          const loss = criterion.forward(outputs, y);
          if (phase === "train") {
            loss.backward();
            optimizer.step();
          } else {
            assert.equal(outputs.requiresGrad, false);
            assert.equal(loss.gradFn, null);
          }
          return loss.item();
        }) * x.shape[0];
      }
      losses.push(running);
      if (phase === "train") {
        grads = {
          weight: model.weight.grad!.toArray() as Float32Array,
          bias: model.bias!.grad!.toArray() as Float32Array,
        };
      }
    }
  }
  losses.forEach((l, i) =>
    assert.ok(Math.abs(l - fx.tutorial.losses[i]) <= 1e-5 * Math.abs(l), `loss ${i}: ${l}`)
  );
  assertStored(model.weight, fx.tutorial.final.weight, "weight");
  assertStored(model.bias!, fx.tutorial.final.bias, "bias");
  for (const k of ["weight", "bias"]) {
    const want = fx.tutorial.grads[k];
    assertStored(tensor(Array.from(grads[k]), want.shape), want, `${k}.grad`);
  }
  endStep();
});

/** bytesInUse at the start of each of `n` iterations of `step`, after a warm-up. */
function usage(n: number, step: (i: number) => void): number[] {
  for (let i = 0; i < 3; i++) step(i);
  const seen: number[] = [];
  for (let i = 0; i < n; i++) {
    seen.push(memoryStats().bytesInUse);
    step(i);
  }
  return seen;
}

Deno.test("the tutorial loop stays flat in memory over 20 iterations of each phase", () => {
  const model = tutorialModel();
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const batches = batchesOf("train");
  for (const phase of ["train", "val"]) {
    if (phase === "train") model.train();
    else model.eval();
    const seen = usage(20, (i) => {
      const { x, y } = batches[i % 2];
      optimizer.zeroGrad();
      setGradEnabled(phase === "train", () => {
        const loss = criterion.forward(model.forward(x), y);
        if (phase === "train") {
          loss.backward();
          optimizer.step();
        }
        return loss.item();
      });
    });
    assert.deepEqual(seen, Array(20).fill(seen[0]), `${phase}: ${seen}`);
  }
  endStep();
});

Deno.test("a training step in noGrad(() => enableGrad(...)) keeps its graph until backward", () => {
  const model = tutorialModel();
  const criterion = new nn.CrossEntropyLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
  const [{ x, y }] = batchesOf("train");
  const seen = usage(20, () => {
    noGrad(() => {
      // The loss leaves enableGrad; what its graph saved must not be freed with it.
      const loss = enableGrad(() => criterion.forward(model.forward(x), y));
      assert.equal(loss.requiresGrad, true);
      optimizer.zeroGrad();
      loss.backward();
      assert.ok(model.weight.grad !== null);
      optimizer.step();
    });
  });
  assert.deepEqual(seen, Array(20).fill(seen[0]), `${seen}`);
  endStep();
});

Deno.test("setGradEnabled(false, fn) frees what fn made except what it returns; true keeps its graph", () => {
  endStep();
  const model = tutorialModel();
  const [{ x }] = batchesOf("train");
  const before = memoryStats().bytesInUse;
  const out = setGradEnabled(false, () => model.forward(x).relu());
  assert.equal(out.gradFn, null);
  out.dispose();
  assert.equal(memoryStats().bytesInUse, before); // the result was all fn left
  const train: Tensor = setGradEnabled(true, () => model.forward(x).relu().sum());
  assert.ok(train.gradFn !== null);
  train.backward(); // the graph outlived fn
  assert.ok(model.weight.grad !== null);
  endStep();
});

Deno.test("bad arguments name the function and what to write", () => {
  const call = setGradEnabled as unknown as (...a: unknown[]) => unknown;
  const cases: [() => unknown, RegExp][] = [
    [
      () => enableGrad(3 as unknown as () => void),
      /enableGrad: expected a function, got number; write enableGrad\(\(\) => \.\.\.\)/,
    ],
    [() => call(), /setGradEnabled: takes a mode and optionally a function, got 0 arguments/],
    [
      () => call(true, () => 1, 2),
      /setGradEnabled: takes a mode .* got 3 arguments; write setGradEnabled\(phase === "train"/,
    ],
    [() => call(1), /setGradEnabled: mode must be true or false, got number 1/],
    [() => call("train", () => 1), /mode must be true or false, got the string "train"/],
    [() => call(null), /mode must be true or false, got null/],
    [() => call(() => 1, true), /got function .*\(the mode comes first\)/],
    [() => call(true, 5), /setGradEnabled: expected a function after the mode, got number 5/],
    [() => call(false, undefined), /expected a function after the mode, got undefined/],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
  assert.equal(isGradEnabled(), true);
});

Deno.test("a plain function returning a promise is refused, naming the async form", async () => {
  const late = () => Promise.resolve(1);
  assert.throws(
    () => enableGrad(late),
    /enableGrad: fn returned a Promise .* write `await enableGrad\(async/,
  );
  assert.throws(
    () => setGradEnabled(true, late),
    /setGradEnabled: fn returned a Promise .*`await setGradEnabled\(mode, async/,
  );
  assert.throws(
    () => setGradEnabled(false, late),
    /setGradEnabled: fn returned a Promise .*`await setGradEnabled\(mode, async/,
  );
  assert.equal(isGradEnabled(), true);
  await tick();
});

Deno.test("work a finished async noGrad left running follows the mode around it, whatever else is open", async () => {
  const tick = () => new Promise((r) => setTimeout(r, 1));
  const later = () =>
    (async () => {
      await tick();
      await tick();
      await tick();
      return isGradEnabled();
    })();
  let alone: Promise<boolean> | undefined;
  await noGrad(async () => {
    alone = later();
    await Promise.resolve(); // an async chain that ends before its work does
  });
  assert.equal(await alone, true);
  let beside: Promise<boolean> | undefined;
  await noGrad(async () => {
    beside = later();
    await Promise.resolve();
  });
  // Another chain open meanwhile does not bring the finished one's mode back.
  assert.equal(await enableGrad(async () => await beside!), true);
});
