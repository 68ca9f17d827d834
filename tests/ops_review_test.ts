/**
 * Findings of the review of the day's new tensor ops and layers (op docs
 * audit, op gaps, nn gaps, nn docs audit, F.* docs audit): F.gumbelSoftmax's
 * own random draws and zeros are freed by the step as its other
 * intermediates (they were the caller's, left to the collector, so a
 * training loop that never yields grew by them every call); and the calls a
 * refused options object spells out run as written (torch's `ceil_mode`
 * given past the positional slots came back as `ceil_mode`, which the op
 * then refused).
 */
import assert from "node:assert/strict";
import {
  endStep,
  functional as F,
  log,
  manualSeed,
  memoryStats,
  noGrad,
  rand,
  randn,
  softmax,
} from "../mod.ts";
import { assertClose, messageOf } from "./helpers.ts";

Deno.test("ops review: F.gumbelSoftmax in a training loop keeps memory flat", () => {
  using logits = randn([8, 5], { requiresGrad: true });
  for (const hard of [false, true]) {
    const step = () => {
      F.gumbelSoftmax(logits, { tau: 0.5, hard }).mul(logits).sum().backward();
      logits.grad!.zero_();
      endStep();
    };
    for (let i = 0; i < 3; i++) step();
    const before = memoryStats().bytesInUse;
    for (let i = 0; i < 20; i++) step();
    assert.equal(memoryStats().bytesInUse - before, 0, `hard: ${hard}`);
  }
});

Deno.test("ops review: F.gumbelSoftmax draws its noise as rand() does, so a seed repeats it", () => {
  using logits = randn([3, 4]);
  manualSeed(7);
  using u = rand([3, 4]);
  // softmax((logits + g) / tau), g = -log(E), E = -log(1 - u).
  const want = noGrad(() => softmax(logits.sub(log(u.neg().log1p().neg())).div(0.5), 1));
  manualSeed(7);
  const got = F.gumbelSoftmax(logits, { tau: 0.5 });
  assertClose(got, want.toArray(), { what: "gumbelSoftmax", rtol: 1e-6, atol: 1e-7 });
});

Deno.test("ops review: a refused keyword object names the options after the slots in our spelling", () => {
  using x = randn([1, 2, 7, 7]);
  const cases: [() => unknown, string, () => unknown][] = [
    [
      () => F.maxPool2d(x, { kernel_size: 2, stride: 2, ceil_mode: true } as never),
      "write F.maxPool2d(x, 2, { stride: 2, ceilMode: true })",
      () => F.maxPool2d(x, 2, { stride: 2, ceilMode: true }),
    ],
    [
      () => F.avgPool2d(x, { kernel_size: 3, padding: 1, count_include_pad: false } as never),
      "write F.avgPool2d(x, 3, { padding: 1, countIncludePad: false })",
      () => F.avgPool2d(x, 3, { padding: 1, countIncludePad: false }),
    ],
  ];
  for (const [refused, message, written] of cases) {
    assert.ok(messageOf(refused).includes(message), messageOf(refused));
    written(); // the call the message spells runs as it is
  }
});
