/**
 * amp.GradScaler against torch 1.13's GradScaler (tests/fixtures/
 * grad_scaler.json, written by scripts/make_grad_scaler_fixtures.py: torch's
 * own class on CPU tensors, its two CUDA kernels written out): two models
 * with their own SGD under one scaled loss, steps skipped where the second
 * model's input is infinite, an unscale_ and clip before a step, the scale
 * and growth tracker after every update, the state dict. Then the pass-
 * through when disabled, the order rules and bad input.
 *
 * Tensors are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { amp, endStep, nn, optim, randn, type Tensor, tensor } from "../mod.ts";
import {
  assertStored,
  fromStored,
  loadFixture,
  messageOf,
  type StoredNumber,
  storedNumber,
  type StoredRecord,
  testDevice,
} from "./helpers.ts";

type Weights = Record<string, StoredRecord>;
interface Step {
  x1: StoredRecord;
  x2: StoredRecord;
  y1: StoredRecord;
  y2: StoredRecord;
  scaled: StoredNumber;
  clipNorm: number | null;
  scale: number;
  tracker: number;
  m1: Weights;
  m2: Weights;
}
const fx = loadFixture<{
  init1: Weights;
  init2: Weights;
  initScale: number;
  growthInterval: number;
  clipAt: number[];
  steps: Step[];
  stateDict: Record<string, number>;
}>("grad_scaler.json");

const on = (s: StoredRecord): Tensor => fromStored(s, { device: testDevice });

function linear(w: Weights): nn.Linear {
  const m = new nn.Linear(4, 3).to(testDevice);
  m.loadStateDict(new Map(Object.entries(w).map(([k, v]) => [k, on(v)])));
  return m;
}

Deno.test("GradScaler: torch 1.13's trajectory, skipped steps, unscale_ and clip, state dict", () => {
  const m1 = linear(fx.init1), m2 = linear(fx.init2);
  const o1 = new optim.SGD(m1.parameters(), { lr: 0.1, momentum: 0.9 });
  const o2 = new optim.SGD(m2.parameters(), { lr: 0.1, momentum: 0.9 });
  const scaler = new amp.GradScaler({ initScale: fx.initScale, growthInterval: fx.growthInterval });
  const ce = nn.functional.crossEntropy;
  let skipped = 0;
  fx.steps.forEach((s, it) => {
    const loss = ce(m1.forward(on(s.x1)), on(s.y1)).add(ce(m2.forward(on(s.x2)), on(s.y2)));
    const scaled = scaler.scale(loss);
    const want = storedNumber(s.scaled);
    if (Number.isNaN(want)) {
      assert.ok(Number.isNaN(scaled.item()), `step ${it}: scaled loss`);
      skipped++;
    } else {
      assert.ok(Math.abs(scaled.item() - want) <= 1e-5 * Math.abs(want), `step ${it}: scaled loss`);
    }
    scaled.backward();
    if (fx.clipAt.includes(it)) {
      scaler.unscale_(o1);
      scaler.unscale_(o2);
      const norm = nn.utils.clipGradNorm_(m1.parameters(), 0.5).item();
      assert.ok(Math.abs(norm - s.clipNorm!) <= 1e-5 * s.clipNorm!, `step ${it}: clip norm`);
    }
    scaler.step(o1);
    scaler.step(o2);
    scaler.update();
    o1.zeroGrad();
    o2.zeroGrad();
    assert.equal(scaler.getScale(), s.scale, `step ${it}: scale`);
    assert.equal(scaler.stateDict()._growth_tracker, s.tracker, `step ${it}: tracker`);
    for (const [m, w] of [[m1, s.m1], [m2, s.m2]] as const) {
      const sd = m.stateDict();
      for (const k of Object.keys(w)) assertStored(sd.get(k)!, w[k], `step ${it}: ${k}`);
    }
  });
  assert.equal(skipped, 2);
  assert.deepEqual(scaler.stateDict(), fx.stateDict);
  endStep();
});

Deno.test("GradScaler: a skipped step leaves the parameters and the optimizer state", () => {
  const m = new nn.Linear(2, 1).to(testDevice);
  const opt = new optim.Adam(m.parameters(), { lr: 0.1 });
  const scaler = new amp.GradScaler({ initScale: 8 });
  const before = m.weight.toArray().slice();
  const x = tensor([1, Infinity], [1, 2], { device: testDevice });
  scaler.scale(m.forward(x).sum()).backward();
  scaler.step(opt);
  scaler.update();
  assert.deepEqual(m.weight.toArray(), before);
  assert.equal(opt.state.size, 0);
  assert.equal(scaler.getScale(), 4);
  endStep();
});

Deno.test("GradScaler: gradients come out unscaled, and the scale never grows to infinity", () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true, device: testDevice });
  const opt = new optim.SGD([w], { lr: 0 });
  const scaler = new amp.GradScaler({ initScale: 2 ** 127, growthInterval: 1 });
  const c = tensor([0.25, 0.5], undefined, { device: testDevice });
  scaler.scale(w.mul(c).sum()).backward();
  assert.deepEqual([...w.grad!.toArray()], [2 ** 125, 2 ** 126]);
  scaler.unscale_(opt);
  assert.deepEqual([...w.grad!.toArray()], [0.25, 0.5]);
  scaler.step(opt);
  scaler.update(); // 2^128 overflows float32: the scale stays
  assert.equal(scaler.getScale(), 2 ** 127);
  assert.equal(scaler.stateDict()._growth_tracker, 0);
  scaler.update(1024);
  assert.equal(scaler.getScale(), 1024);
  endStep();
});

Deno.test("GradScaler: scale() keeps an array's nesting", () => {
  const scaler = new amp.GradScaler({ initScale: 4 });
  const a = tensor([1], undefined, { device: testDevice });
  const b = tensor([2], undefined, { device: testDevice });
  const [sa, [sb]] = scaler.scale([a, [b]] as const) as unknown as [Tensor, [Tensor]];
  assert.deepEqual([...sa.toArray(), ...sb.toArray()], [4, 8]);
  assert.match(messageOf(() => scaler.scale([a, 3] as unknown as Tensor[])), /tensor or an array/);
  endStep();
});

Deno.test("GradScaler({ enabled: false }): every method passes through, as torch's", () => {
  const m = new nn.Linear(2, 1).to(testDevice);
  const opt = new optim.SGD(m.parameters(), { lr: 0.5 });
  const scaler = new amp.GradScaler({ enabled: false });
  const loss = m.forward(randn([3, 2]).to(testDevice)).sum();
  assert.equal(scaler.scale(loss), loss);
  loss.backward();
  const before = m.weight.toArray().slice();
  scaler.unscale_(opt);
  scaler.step(opt);
  scaler.update();
  assert.notDeepEqual(m.weight.toArray(), before);
  assert.equal(scaler.getScale(), 1);
  assert.equal(scaler.isEnabled(), false);
  assert.deepEqual(scaler.stateDict(), {});
  scaler.loadStateDict({}); // a no-op, as torch's
  endStep();
});

Deno.test("GradScaler: the order rules and state dicts, as torch's", () => {
  const m = new nn.Linear(2, 1).to(testDevice);
  const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
  const scaler = new amp.GradScaler();
  assert.match(messageOf(() => scaler.step(opt)), /before any scale\(\)/);
  assert.match(messageOf(() => scaler.update()), /before any scale\(\)/);
  const loss = scaler.scale(m.forward(randn([3, 2]).to(testDevice)).sum());
  assert.match(messageOf(() => scaler.update()), /no inf checks were recorded/);
  const idle = tensor([1], undefined, { requiresGrad: true, device: testDevice });
  const other = new optim.SGD([idle], { lr: 0.1 });
  assert.match(messageOf(() => scaler.step(other)), /no gradients were checked/);
  loss.backward();
  scaler.unscale_(opt);
  assert.match(messageOf(() => scaler.unscale_(opt)), /already called on this optimizer/);
  scaler.step(opt);
  assert.match(messageOf(() => scaler.step(opt)), /already called since the last update/);
  assert.match(messageOf(() => scaler.unscale_(opt)), /after step\(\)/);
  scaler.update();
  opt.zeroGrad();

  const copy = new amp.GradScaler();
  copy.loadStateDict({ ...scaler.stateDict(), scale: 512, _growth_tracker: 7 });
  assert.equal(copy.getScale(), 512);
  assert.equal(copy.stateDict()._growth_tracker, 7);
  assert.match(messageOf(() => copy.loadStateDict({})), /empty, possibly saved from a disabled/);
  assert.match(messageOf(() => copy.loadStateDict({ scale: 2 })), /missing growth_factor/);
  assert.match(
    messageOf(() => copy.loadStateDict({ ...scaler.stateDict(), growth_factor: 0.5 })),
    /growthFactor must be a number > 1/,
  );
  assert.equal(copy.getScale(), 512); // a refused dict changed nothing
  endStep();
});

Deno.test("GradScaler: bad options and torch's names say what to write", () => {
  const bad: [unknown, RegExp][] = [
    [{ growthFactor: 1 }, /growthFactor must be a number > 1/],
    [{ backoffFactor: 1 }, /backoffFactor must be a number in \(0, 1\)/],
    [{ growthInterval: 0 }, /growthInterval must be a positive integer/],
    [{ growthInterval: 1.5 }, /growthInterval must be a positive integer/],
    [{ initScale: NaN }, /initScale must be a finite number > 0/],
    [{ initScale: -1 }, /initScale must be a finite number > 0/],
    [{ enabled: "yes" }, /enabled must be true or false/],
    [{ init_scale: 1024 }, /initScale/],
  ];
  for (const [o, re] of bad) {
    assert.match(messageOf(() => new amp.GradScaler(o as amp.GradScalerOptions)), re);
  }
  const scaler = new amp.GradScaler();
  assert.match(messageOf(() => scaler.step({} as optim.SGD)), /expected an optimizer/);
  assert.match(
    messageOf(() => (scaler as unknown as { get_scale: unknown }).get_scale),
    /write scaler.getScale\(\)/,
  );
  assert.match(
    messageOf(() => (scaler.step as (...a: unknown[]) => void)(null, () => 0)),
    /takes 1 argument, got 2/,
  );
  assert.match(messageOf(() => scaler.setGrowthInterval(-2)), /positive integer/);
});
