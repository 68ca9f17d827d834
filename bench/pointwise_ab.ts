/**
 * ResNet-50's 1x1 convolutions as its evaluation forward calls them (batch
 * 16, 256 x 256 input): a block's last reading its input through the
 * deferred batch norm and ReLU and writing the block's output with its own
 * batch norm, the residual and a ReLU; a block's first reading the block's
 * input as it is (each stage's strided downsampling and first convolution
 * are left out: they are not stride 1 or read other inputs). On tensors
 * from our allocator (2 MiB pages: JS arrays of the same size, on 4 KiB
 * pages, ran the 64 x 64 layers 10-20% slower) with x rewritten by
 * streaming stores before each call, as the layer before leaves it. With
 * two or more libraries (`LITS_AB_LIBS=a.so,b.so`, e.g. builds of two
 * commits) the calls alternate library by library in one process, so
 * that other work on the shared cores falls on all alike, and the bits
 * are compared; with none, the current build alone.
 *
 *   deno run -A bench/pointwise_ab.ts [rounds]
 *
 * @module
 */
import { rand } from "../mod.ts";
import { check, cpuLib, cpuLibraryPath } from "../src/ffi/native.ts";
import { symbols } from "../src/ffi/symbols.ts";
import { cpuInfo, describeCpu } from "./peak.ts";

/** The one entry point the libraries are compared on, as src/ffi/symbols.ts declares it. */
const table = { lits_conv2d_forward_epilogue_f32: symbols.lits_conv2d_forward_epilogue_f32 };

const lib = cpuLib();
const rewrite = lib.lits_fused_affine_f32;
if (!rewrite) {
  throw new Error("this library has no lits_fused_affine_f32 (rebuild: deno task build)");
}
const paths = (Deno.env.get("LITS_AB_LIBS") ?? cpuLibraryPath()).split(",");
const libs = paths.map((p) => {
  const run = Deno.dlopen(p, table).symbols.lits_conv2d_forward_epilogue_f32;
  if (!run) throw new Error(`${p} has no lits_conv2d_forward_epilogue_f32`);
  return run;
});
const rounds = Number(Deno.args[0] ?? 15);
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

/** [c, h, k, calls a forward, residual]: stride-1 1x1 layers of ResNet-50's evaluation. */
const LAYERS: [number, number, number, number, boolean][] = [
  [64, 64, 64, 1, false],
  [64, 64, 256, 3, true],
  [64, 64, 256, 1, false], // layer1's downsample (stride 1)
  [256, 64, 64, 2, false],
  [256, 64, 128, 1, false],
  [128, 32, 512, 4, true],
  [512, 32, 128, 3, false],
  [512, 32, 256, 1, false], // layer3's first block, before its stride-2 3x3
  [256, 16, 1024, 6, true],
  [1024, 16, 256, 5, false],
  [1024, 16, 512, 1, false], // layer4's first block
  [512, 8, 2048, 3, true],
  [2048, 8, 512, 2, false],
];

console.log(describeCpu(cpuInfo()));
console.log(`${rounds} calls each, alternating; ms (medians); ${paths.join(" vs ")}`);
const n = 16, totals = libs.map(() => 0);
for (const [c, h, k, calls, residual] of LAYERS) {
  const hw = h * h, flops = 2 * n * c * k * hw;
  const x = rand([n, c, h, h]), w = rand([k, c, 1, 1]).sub(0.5);
  const r = residual ? rand([n, k, h, h]) : null;
  const coef = (ch: number) => rand([3 * ch]).add(0.5); // mean, scale, shift
  const xc = residual ? coef(c) : null, yc = residual ? coef(k) : null;
  const ys = libs.map(() => rand([n, k, h, h]));
  const geom = new Int32Array([n, c, h, h, k, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
  const times = libs.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < libs.length; j++) {
      const v = (i + j) % libs.length; // each goes first in turn
      // x rewritten in place with streaming stores (its own values: an identity transform).
      check(lib, rewrite(x.ptr, null, null, null, x.ptr, n, c, hw, 0), () => "x");
      const t0 = performance.now();
      const st = libs[v](
        geom,
        x.ptr,
        xc?.ptr ?? null,
        residual ? 1 : 0,
        w.ptr,
        null,
        yc?.ptr ?? null,
        r?.ptr ?? null,
        null,
        residual ? 1 : 0,
        ys[v].ptr,
        null,
        0n,
      );
      times[v].push(performance.now() - t0);
      if (st !== 0) throw new Error(`${paths[v]}: status ${st} for ${c} -> ${k} at ${h}^2`);
    }
  }
  const ms = times.map(median);
  ms.forEach((t, i) => totals[i] += t * calls);
  const bits = ys.map((y) => y.toArray() as Float32Array);
  const same = bits.every((b) => b.every((v, i) => Object.is(v, bits[0][i])));
  console.log(
    `${c} -> ${k} at ${h}^2${residual ? " + residual" : ""} (x${calls}): ` +
      ms.map((t) => `${t.toFixed(2)} ms (${(flops / t / 1e6).toFixed(0)} GFLOP/s)`).join(" vs ") +
      (libs.length > 1
        ? `  ratios ${ms.slice(1).map((t) => (t / ms[0]).toFixed(3)).join(" ")}` +
          (same ? "  same bits" : "  BITS DIFFER")
        : ""),
  );
  for (const t of [x, w, r, xc, yc, ...ys]) t?.dispose();
}
console.log(`a forward's stride-1 1x1 layers: ${totals.map((t) => t.toFixed(1)).join(" vs ")} ms`);
