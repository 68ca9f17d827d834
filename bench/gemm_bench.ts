/**
 * GEMM kernels of the CPU backend: square products (the ceiling the
 * convolution benchmarks are measured against) and the small CNN's Linear
 * layers (forward, input gradient, weight gradient). `deno task bench`
 * prints GFLOP/s per case and as a share of the ceiling.
 *
 * @module
 */
import { noGrad, randn, type Tensor } from "../mod.ts";
import { gemm2d } from "../src/tensor/ops/matmul.ts";
import { measureCeiling, rateBench } from "./rate.ts";

measureCeiling();

for (const n of [256, 1024, 2048]) {
  const a = randn([n, n]), b = randn([n, n]);
  rateBench("gemm", `sgemm ${n}x${n}x${n}`, { flops: 2 * n ** 3 }, () => {
    noGrad(() => a.matmul(b).dispose());
  });
}

// The small CNN's classifier: x [16, 32768] x W^T [32768, 256] and its gradients.
const [batch, inF, outF] = [16, 128 * 16 * 16, 256];
const x = randn([batch, inF]), w = randn([outF, inF]), g = randn([batch, outF]);
const linear: [string, () => Tensor][] = [
  ["linear 16x32768 -> 256 forward (x W^T)", () => gemm2d(x, w, false, true)],
  ["linear backward input (g W)", () => gemm2d(g, w, false, false)],
  ["linear backward weight (g^T x)", () => gemm2d(g, x, true, false)],
];
for (const [name, fn] of linear) {
  rateBench("linear", name, { flops: 2 * batch * inF * outF }, () => noGrad(() => fn().dispose()));
}
