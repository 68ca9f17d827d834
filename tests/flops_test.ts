/**
 * bench/flops.ts (the Conv2d + Linear multiply-adds behind bench:step's
 * GFLOP/s) against known counts, and bench/peak.ts's native measurements
 * (lits_measure_fma_peak, lits_measure_copy_bandwidth): argument checks and
 * sane, positive results.
 */
import assert from "node:assert/strict";
import { models, nn } from "../mod.ts";
import { countForward } from "../bench/flops.ts";
import { cpuInfo, measurePeak } from "../bench/peak.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";

Deno.test("countForward: ResNet-50 at 224 x 224 x 3, 1000 classes, is torchvision's 4.09 G MACs", () => {
  using net = models.create("resnet50", { inChannels: 3, numClasses: 1000 });
  const w = countForward(net, [1, 3, 224, 224]);
  // The commonly quoted count of torchvision's resnet50 (conv + fc, e.g. ptflops, fvcore).
  const known = 4_089_184_256;
  assert.ok(Math.abs(w.macs / known - 1) < 0.01, `${w.macs} MACs vs ${known}`);
  assert.equal(w.macs, known, "the same layers, so the same count to the last MAC");
  // fc: 2048 -> 1000; 53 convolutions (49 in the blocks, 4 downsamples) and the fc.
  assert.equal(w.linearMacs, 2048 * 1000);
  assert.equal(w.layerCalls, 54);
  assert.equal(w.forwardFlops, 2 * w.macs);
  // conv1 reads the image, whose gradient training does not compute: 112^2 * 64 * 3 * 49.
  assert.equal(w.inputMacs, 112 * 112 * 64 * 3 * 49);
  assert.equal(w.trainStepFlops, 6 * w.macs - 2 * w.inputMacs);
  // The counts are linear in the batch.
  assert.equal(countForward(net, [4, 3, 224, 224]).macs, 4 * w.macs);
});

Deno.test("countForward: the small CNN at 256 x 256 x 1 matches the hand count of its layer table", () => {
  using net = models.create("simple", { inChannels: 1, numClasses: 3 });
  // 3x3 convolutions (padding 1) at 256, 128, 64, 32 after each 2x2 pool:
  // H * W * out * in * 9; then Linear(128 * 16 * 16, 256) and Linear(256, 3).
  const conv = 256 * 256 * 16 * 1 * 9 + 128 * 128 * 32 * 16 * 9 + 64 * 64 * 64 * 32 * 9 +
    32 * 32 * 128 * 64 * 9;
  const linear = 128 * 16 * 16 * 256 + 256 * 3;
  const w = countForward(net, [16, 1, 256, 256]);
  assert.deepEqual(
    [w.convMacs, w.linearMacs, w.layerCalls, w.inputMacs],
    [16 * conv, 16 * linear, 6, 16 * 256 * 256 * 16 * 9],
  );
  assert.equal(conv, 235_929_600);
  assert.ok(net.training, "training flags restored");
});

Deno.test("countForward: grouped and strided convolutions, checked argument", () => {
  const net = new nn.Sequential(new nn.Conv2d(4, 8, 3, { stride: 2, padding: 1, groups: 2 }));
  // out [1, 8, 4, 4]; each output element: 4 / 2 * 3 * 3 = 18 MACs.
  assert.equal(countForward(net, [1, 4, 8, 8]).convMacs, 8 * 4 * 4 * 18);
  assert.throws(() => countForward(net, [0, 4, 8, 8]), /inputShape must be positive integers/);
  net.dispose();
});

Deno.test("lits_measure_*: bad arguments give a status and a clear error", () => {
  const lib = cpuLib();
  const out = new Float64Array(1);
  assert.equal(lib.lits_measure_fma_peak!(0, out), 1);
  assert.match(lastError(lib), /lits_measure_fma_peak: seconds must be in \[0.01, 60\], got 0/);
  assert.equal(lib.lits_measure_fma_peak!(0.05, null), 1);
  assert.match(lastError(lib), /gflops_host is NULL/);
  assert.equal(lib.lits_measure_copy_bandwidth!(1000, out), 1);
  assert.match(lastError(lib), /bytes must be in \[1 MiB, 64 GiB\], got 1000/);
  assert.equal(lib.lits_measure_copy_bandwidth!(1 << 20, null), 1);
  assert.match(lastError(lib), /gbps_host is NULL/);
});

Deno.test("measurePeak: positive FMA peak and copy bandwidth; cpuInfo reads /proc/cpuinfo", () => {
  const p = measurePeak({ fmaSeconds: 0.03, copyBytes: 8 << 20 });
  // Positive and finite only: speed is never asserted (a loaded machine measured 0.72 GFLOP/s).
  assert.ok(p.fmaGflops > 0 && p.fmaGflops < 1e6, `FMA peak ${p.fmaGflops} GFLOP/s`);
  assert.ok(p.copyGBps > 0 && p.copyGBps < 1e5, `copy ${p.copyGBps} GB/s`);
  const c = cpuInfo();
  if (Deno.build.os === "linux") {
    assert.ok(c.cpus >= 1 && c.model !== "?" && /^\d+$/.test(c.family), JSON.stringify(c));
  }
});
