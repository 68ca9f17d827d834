/**
 * Batch norm with a non-default eps (0.1) against PyTorch
 * (tests/fixtures/bn_eps.json, written by scripts/make_bn_eps_fixture.py):
 * output, gradients and running statistics, on the plain and the fused
 * (batch norm + ReLU) backward; and that every backward call is given the
 * forward's eps, which the CUDA backend hands to cuDNN.
 */
import assert from "node:assert/strict";
import { functional as F, nn, type Tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { setFusion } from "../src/tensor/ops/fusion.ts";
import { assertClose, fromStored, loadFixture, type Stored } from "./helpers.ts";

interface EpsCase {
  relu: boolean;
  /** With relu: out = conv2d(relu(bn(x)), conv), a 1x1 convolution. */
  conv: Stored | null;
  input: Stored;
  weight: Stored;
  bias: Stored;
  G: Stored;
  out: Stored;
  inputGrad: Stored;
  weightGrad: Stored;
  biasGrad: Stored;
  runningMean: Stored;
  runningVar: Stored;
}

const fixture = loadFixture<{ eps: number; cases: EpsCase[] }>("bn_eps.json");
const backwards = ["lits_batchnorm2d_backward_f32", "lits_batchnorm2d_backward_relu_f32"];

/** Runs `fn`, recording each batch-norm backward call's name and its last (eps) argument. */
function recordingEps<T>(fn: () => T): [T, [string, number][]] {
  const lib = cpuLib() as unknown as Record<string, ((...a: unknown[]) => number) | null>;
  const calls: [string, number][] = [];
  const saved = backwards.map((n) => lib[n]);
  backwards.forEach((n, i) => {
    const f = saved[i];
    if (f) {
      lib[n] = (...a: unknown[]) => {
        calls.push([n, a[a.length - 1] as number]);
        return f(...a);
      };
    }
  });
  try {
    return [fn(), calls];
  } finally {
    backwards.forEach((n, i) => (lib[n] = saved[i]));
  }
}

/** One training step of nn.BatchNorm2d(3, { eps }) (then ReLU, conv) under L = sum(out * G). */
function step(c: EpsCase): { out: Tensor; bn: nn.BatchNorm2d; x: Tensor } {
  const bn = new nn.BatchNorm2d(3, { eps: fixture.eps });
  bn.loadStateDict(
    new Map([["weight", fromStored(c.weight)], ["bias", fromStored(c.bias)]]),
    { strict: false },
  );
  const x = fromStored(c.input, { requiresGrad: true });
  // x * 1 is an op result (exact): the fused path defers only op results, not leaves.
  const y = bn.forward(x.mul(1));
  // The convolution reads the ReLU's output unwritten, so its backward is the fused one.
  const out = c.conv ? F.conv2d(y.relu(), fromStored(c.conv), null) : y;
  out.mul(fromStored(c.G)).sum().backward();
  return { out, bn, x };
}

for (const c of fixture.cases) {
  for (const fused of [true, false]) {
    const what = `BatchNorm2d eps ${fixture.eps}${c.relu ? " + ReLU + conv" : ""}, fusion ${fused}`;
    Deno.test(`${what}: output, gradients and running statistics as PyTorch`, () => {
      const was = setFusion(fused);
      try {
        const [{ out, bn, x }, calls] = recordingEps(() => step(c));
        const tol = { rtol: 1e-4, atol: 1e-5 };
        assertClose(out, c.out.data, { ...tol, what: `${what} out` });
        assertClose(x.grad!, c.inputGrad.data, { ...tol, what: `${what} input grad` });
        assertClose(bn.weight!.grad!, c.weightGrad.data, { ...tol, what: `${what} weight grad` });
        assertClose(bn.bias!.grad!, c.biasGrad.data, { ...tol, what: `${what} bias grad` });
        assertClose(bn.runningMean!, c.runningMean.data, { ...tol, what: `${what} running mean` });
        assertClose(bn.runningVar!, c.runningVar.data, { ...tol, what: `${what} running var` });
        // The fused path is taken where it exists, and both are given the forward's eps.
        const want = fused && c.relu ? backwards[1] : backwards[0];
        assert.deepEqual(calls.map(([n]) => n), [want]);
        assert.ok(Math.abs(calls[0][1] - fixture.eps) < 1e-7, `${what}: eps ${calls[0][1]}`);
      } finally {
        setFusion(was);
      }
    });
  }
}

Deno.test("batch norm backward: a negative or NaN eps is an Error from the native call, no crash", () => {
  const lib = cpuLib();
  const f = Deno.UnsafePointer.of(new Float32Array(8));
  const g = Deno.UnsafePointer.of(new Float32Array(2));
  const dx = Deno.UnsafePointer.of(new Float32Array(8));
  const call = (eps: number) =>
    lib.lits_batchnorm2d_backward_f32(f, f, null, g, g, dx, null, null, 2, 2, 2, eps);
  for (const eps of [-1, NaN]) {
    assert.notEqual(call(eps), 0, `eps ${eps} was accepted`);
    assert.match(lastError(lib), /lits_batchnorm2d_backward_f32: eps=.* must be >= 0/);
  }
  assert.equal(call(0.1), 0);
});
