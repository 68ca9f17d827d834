/**
 * The 3-D layers against PyTorch 1.13's numbers (tests/fixtures/layers_3d.json,
 * written by scripts/make_layers_3d_fixtures.py): F.conv3d (padding, "same"
 * with even kernels, stride, dilation, groups), nn.Conv3d's padding modes
 * from torch's state dict, the 3-D max (ties: the first maximum gets the
 * gradient), average (ceil mode, countIncludePad, divisorOverride) and
 * adaptive pools, BatchNorm3d and InstanceNorm3d over training steps
 * (running statistics) and evaluation: outputs, and the gradients of
 * L = sum(out * G) for a fixed G.
 *
 * The cases run on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { functional as F, nn, noGrad, scope, type Tensor } from "../mod.ts";
import { fromStored, loadFixture, type Stored, testDevice } from "./helpers.ts";

interface OpCase {
  name: string;
  op: string;
  args: unknown[];
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  inputs: Stored[];
  out: Stored;
  G: Stored;
  grads: Stored[];
}

interface LayerCase {
  name: string;
  args: [number, number, number | [number, number, number]];
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  state: Record<string, Stored>;
  x: Stored;
  out: Stored;
  G: Stored;
  gx: Stored;
  grads: Record<string, Stored>;
}

interface NormStep {
  training: boolean;
  x: Stored;
  out: Stored;
  G: Stored;
  gx: Stored;
  grads: Record<string, Stored>;
  after: Record<string, Stored>;
}

interface NormCase {
  name: string;
  cls: "BatchNorm3d" | "InstanceNorm3d";
  args: [number];
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  state: Record<string, Stored>;
  steps: NormStep[];
}

const fx = loadFixture<{
  torch: string;
  conv: OpCase[];
  convLayers: LayerCase[];
  pool: OpCase[];
  norm: NormCase[];
}>("layers_3d.json");

const on = (s: Stored, requiresGrad = false): Tensor =>
  fromStored(s, { requiresGrad, device: testDevice });

/** Elementwise closeness, the absolute part scaled by the expected values' magnitude. */
function close(t: Tensor | null, want: Stored, what: string): void {
  assert.ok(t, `${what}: missing`);
  assert.deepEqual([...t.shape], want.shape, `${what}: shape`);
  assert.equal(t.device, testDevice, `${what}: device`);
  const rtol = testDevice === "cpu" ? 1e-5 : 1e-4;
  const scale = want.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const atol = rtol * Math.max(scale, 1e-3);
  const got = t.toArray();
  want.data.forEach((e, i) => {
    const a = got[i];
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `${what}[${i}]: got ${a}, want ${e}`);
  });
}

/** A torch state dict as loadStateDict takes it. */
const stateOf = (state: Record<string, Stored>) =>
  new Map(Object.entries(state).map(([k, s]) => [k, fromStored(s)]));

for (const c of fx.conv) {
  Deno.test(`layers 3d: F.conv3d ${c.name}`, () => {
    scope(() => {
      const [x, w, b] = c.inputs.map((s) => on(s, true));
      const out = F.conv3d(x, w, b ?? null, c.opts);
      close(out, c.out, `${c.name}: output`);
      out.backward(on(c.G));
      [x, w, b].forEach((t, i) => t && close(t.grad, c.grads[i], `${c.name}: gradient ${i}`));
    });
  });
}

for (const c of fx.convLayers) {
  Deno.test(`layers 3d: nn.Conv3d ${c.name}, from torch's state dict`, () => {
    scope(() => {
      const m = new nn.Conv3d(...c.args, c.opts).to(testDevice);
      assert.deepEqual([...m.stateDict().keys()], Object.keys(c.state));
      m.loadStateDict(stateOf(c.state));
      const x = on(c.x, true);
      const out = m.forward(x);
      close(out, c.out, `${c.name}: output`);
      out.backward(on(c.G));
      close(x.grad, c.gx, `${c.name}: input gradient`);
      for (const [name, p] of m.namedParameters()) {
        close(p.grad, c.grads[name], `${c.name}: ${name} gradient`);
      }
    });
  });
}

/** The nn module of a pool case, made with its arguments and options. */
function poolModule(c: OpCase): nn.Module {
  switch (c.op) {
    case "maxPool3d":
      return new nn.MaxPool3d(c.args[0] as number, c.opts);
    case "avgPool3d":
      return new nn.AvgPool3d(c.args[0] as number, c.opts);
    case "adaptiveAvgPool3d":
      return new nn.AdaptiveAvgPool3d(c.args[0] as number);
    default:
      return new nn.AdaptiveMaxPool3d(c.args[0] as number);
  }
}

for (const c of fx.pool) {
  Deno.test(`layers 3d: ${c.op} ${c.name}`, () => {
    scope(() => {
      const x = on(c.inputs[0], true);
      // deno-lint-ignore no-explicit-any
      const op = (F as any)[c.op] as (...a: unknown[]) => Tensor;
      const adaptive = c.op.startsWith("adaptive");
      const out = adaptive ? op(x, c.args[0]) : op(x, c.args[0], c.opts);
      close(out, c.out, `${c.name}: output`);
      out.backward(on(c.G));
      close(x.grad, c.grads[0], `${c.name}: gradient`);
      const again = noGrad(() => poolModule(c).forward(on(c.inputs[0])));
      close(again, c.out, `${c.name}: nn module`);
    });
  });
}

for (const c of fx.norm) {
  Deno.test(`layers 3d: nn.${c.name}, training steps then evaluation`, () => {
    scope(() => {
      const m = new nn[c.cls](...c.args, c.opts).to(testDevice);
      assert.deepEqual([...m.stateDict().keys()], Object.keys(c.state));
      m.loadStateDict(stateOf(c.state));
      c.steps.forEach((s, i) => {
        const what = `${c.name} step ${i}${s.training ? "" : " (eval)"}`;
        m.train(s.training);
        m.zeroGrad();
        const x = on(s.x, true);
        const out = m.forward(x);
        close(out, s.out, `${what}: output`);
        out.backward(on(s.G));
        close(x.grad, s.gx, `${what}: input gradient`);
        for (const [name, p] of m.namedParameters()) {
          close(p.grad, s.grads[name], `${what}: ${name} gradient`);
        }
        const after = m.stateDict();
        for (const [key, want] of Object.entries(s.after)) {
          const t = after.get(key)!;
          if (want.dtype === "int32") assert.deepEqual([...t.toArray()], want.data, key);
          else close(t, want, `${what}: ${key}`);
        }
      });
    });
  });
}
