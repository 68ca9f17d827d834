/**
 * GEMM and convolution kernels of the CPU backend. Run with `deno task bench`;
 * each case prints its GFLOP/s (the sgemm ceiling here is about 245 GFLOP/s
 * on both cores with the environment's OpenBLAS kernels).
 */
import { functional as F, noGrad, randn } from "../mod.ts";

function gflops(flops: number, ms: number): string {
  return `${(flops / ms / 1e6).toFixed(1)} GFLOP/s`;
}

for (const n of [256, 1024]) {
  const a = randn([n, n]), b = randn([n, n]);
  let last = 0;
  Deno.bench(`sgemm ${n}x${n}x${n}`, { group: "gemm" }, (t) => {
    t.start();
    const start = performance.now();
    noGrad(() => a.matmul(b).dispose());
    last = performance.now() - start;
    t.end();
  });
  addEventListener(
    "unload",
    () => console.log(`sgemm ${n}: ${gflops(2 * n ** 3, last)} (last run)`),
  );
}

// The small CNN's first and ResNet-50's 3x3 stage-1 convolution, batch 16.
const convs: [string, number[], number[], number, number][] = [
  ["simple-cnn conv1 1->16 256^2", [16, 1, 256, 256], [16, 1, 3, 3], 1, 1],
  ["resnet50 layer1 3x3 64->64 56^2", [16, 64, 56, 56], [64, 64, 3, 3], 1, 1],
];
for (const [name, xs, ws, stride, padding] of convs) {
  const x = randn(xs), w = randn(ws);
  const [n, c, h, wd] = xs, [k, , r, s] = ws;
  const flops = 2 * n * k * c * r * s * h * wd / (stride * stride);
  let last = 0;
  Deno.bench(`conv2d forward ${name}`, { group: "conv" }, (t) => {
    t.start();
    const start = performance.now();
    noGrad(() => F.conv2d(x, w, null, { stride, padding }).dispose());
    last = performance.now() - start;
    t.end();
  });
  addEventListener(
    "unload",
    () => console.log(`conv2d ${name}: ${gflops(flops, last)} (last run)`),
  );
}
