/**
 * Steady loops reuse their buffers: after a warm-up, neither the bytes in use
 * nor the bytes the caching allocator took from the system grow, run after
 * run, so no step faults in fresh pages.
 *
 * - pool -> conv -> unpool and pool -> conv -> interpolate training steps,
 *   as a user writes them (a Module, SGD, zeroGrad);
 * - the kernel benches' loop (`timeOpRuns` in bench/vs_torch.ts: a forward
 *   without gradients, then forward + backward, never a zeroGrad): its
 *   forward used to return its output out of its scope, to the training
 *   step, which a bench never ends, so every forward + backward took fresh
 *   memory;
 * - why: what a scope or noGrad returns outside every scope is the step's,
 *   held until zeroGrad() or endStep().
 *
 * Runs on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import {
  endStep,
  functional as F,
  manualSeed,
  memoryStats,
  nn,
  noGrad,
  optim,
  randn,
  scope,
  type Tensor,
} from "../mod.ts";
import { testDevice } from "./helpers.ts";
import { timeOpRuns } from "../bench/vs_torch.ts";

const dev = { device: testDevice };
/** [4, 16, 64, 64]: 1 MiB a tensor, past the allocator's small classes. */
const SHAPE = [4, 16, 64, 64];

/** Bytes in use and taken from the system after each of `steps` runs of `step`. */
function track(steps: number, step: () => void): { inUse: number[]; fromSystem: number[] } {
  const inUse: number[] = [], fromSystem: number[] = [];
  for (let i = 0; i < steps; i++) {
    step();
    const m = memoryStats(testDevice);
    inUse.push(m.bytesInUse);
    fromSystem.push(m.bytesFromSystem);
  }
  return { inUse, fromSystem };
}

/** Flat from step `from` (0-based) on: no growth and no fresh memory. */
function assertFlat(r: { inUse: number[]; fromSystem: number[] }, from: number, what: string) {
  const inUse = r.inUse.slice(from), sys = r.fromSystem.slice(from);
  assert.deepEqual(inUse, inUse.map(() => inUse[0]), `${what}: bytes in use ${r.inUse}`);
  assert.deepEqual(sys, sys.map(() => sys[0]), `${what}: bytes from the system ${r.fromSystem}`);
}

const poolUnpool = (x: Tensor): Tensor => {
  const [v, i] = F.maxPool2d(x, 2, { returnIndices: true });
  return F.maxUnpool2d(v, i, 2, { outputSize: x.shape });
};

class SegNetBlock extends nn.Module {
  conv = new nn.Conv2d(SHAPE[1], SHAPE[1], 3, { padding: 1 });
  constructor(readonly up: "unpool" | "interpolate") {
    super();
  }
  override forward(x: Tensor): Tensor {
    if (this.up === "interpolate") {
      return F.interpolate(this.conv.forward(F.avgPool2d(x, 2)), { scaleFactor: 2 });
    }
    const [v, i] = F.maxPool2d(x, 2, { returnIndices: true });
    return F.maxUnpool2d(this.conv.forward(v), i, 2, { outputSize: x.shape });
  }
}

for (const up of ["unpool", "interpolate"] as const) {
  Deno.test(`a pool -> conv -> ${up} training step reuses its buffers`, () => {
    manualSeed(0);
    const net = new SegNetBlock(up).to(testDevice);
    const opt = new optim.SGD(net.parameters(), { lr: 1e-3, momentum: 0.9 });
    const x = randn(SHAPE, dev);
    try {
      const r = track(8, () => {
        opt.zeroGrad();
        const loss = net.forward(x).square().mean();
        loss.backward();
        opt.step();
        loss.item();
      });
      assertFlat(r, 2, up);
    } finally {
      endStep();
      opt.dispose();
      x.dispose();
    }
  });
}

/** An op of the kernel benches, its inputs' shapes. */
type BenchCase = [string, (...xs: Tensor[]) => Tensor, number[][]];
const benchCases: BenchCase[] = [
  ["pool -> unpool", poolUnpool, [SHAPE]],
  ["bilinear interpolate", (t) => F.interpolate(t, { scaleFactor: 2, mode: "bilinear" }), [SHAPE]],
  ["gridSample", (t, g) => F.gridSample(t, g, { alignCorners: false }), [
    SHAPE,
    [SHAPE[0], SHAPE[2], SHAPE[3], 2],
  ]],
];

for (const [name, op, shapes] of benchCases) {
  Deno.test(`the kernel benches' forward and forward + backward runs reuse their buffers: ${name}`, () => {
    manualSeed(1);
    const xs = shapes.map((shape) => randn(shape, dev).keep());
    const g = noGrad(() => randn([...op(...xs).shape], dev)).keep();
    try {
      timeOpRuns(2, op, xs, g); // the allocator's cache now holds what a run needs
      const before = memoryStats(testDevice);
      const times = timeOpRuns(6, op, xs, g);
      const after = memoryStats(testDevice);
      assert.equal(times.fwd.length, 6);
      assert.equal(times.both.length, 6);
      assert.equal(after.bytesInUse, before.bytesInUse, "bytes in use grew");
      assert.equal(after.bytesFromSystem, before.bytesFromSystem, "fresh memory was taken");
    } finally {
      endStep();
      [...xs, g].forEach((t) => t.dispose());
    }
  });
}

Deno.test("what a scope returns outside every scope is the step's until endStep()", () => {
  const x = randn(SHAPE, dev);
  try {
    endStep();
    const start = memoryStats(testDevice).bytesInUse;
    // The benches' old forward: each output went to the step, and a loop
    // that never reaches zeroGrad() or endStep() keeps every one.
    for (let i = 0; i < 3; i++) scope(() => noGrad(() => poolUnpool(x)));
    assert.equal(memoryStats(testDevice).bytesInUse - start, 3 * x.numel() * 4);
    endStep();
    assert.equal(memoryStats(testDevice).bytesInUse, start);
    for (let i = 0; i < 3; i++) noGrad(() => void poolUnpool(x)); // returns nothing: freed
    assert.equal(memoryStats(testDevice).bytesInUse, start);
  } finally {
    endStep();
    x.dispose();
  }
});
