/**
 * GEMM kernels of the CPU backend: square products (the ceiling the
 * convolution benchmarks are measured against) and the small CNN's Linear
 * layers (forward, input gradient, weight gradient), and bf16 GEMMs beside
 * fp32 ones where the CPU has AVX512_BF16. `deno task bench`
 * prints GFLOP/s per case and as a share of the ceiling.
 *
 * @module
 */
import { noGrad, randn, type Tensor } from "../mod.ts";
import { gemm2d } from "../src/tensor/ops/matmul.ts";
import { measureCeiling, rateBench } from "./rate.ts";
import { check, cpuLib } from "../src/ffi/native.ts";

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

// bf16 autocast GEMMs (lits_gemm_bf16_f32: fp32 in, rounded to bf16 while
// packed, fp32 sums) beside our fp32 GEMM (lits_gemm_f32, OpenBLAS) on the
// same arrays: ResNet-50's 1x1 convolutions at batch 16, 256 x 256 input, as
// [out, in] x [in, batch * h * w] products, and 2048^3.
const lib = cpuLib();
const level = new Int32Array(1);
const bf16 = lib.lits_gemm_bf16_f32;
if (bf16 && lib.lits_bf16_support && lib.lits_bf16_support(level) === 0 && level[0] > 0) {
  const shapes: [string, number, number, number][] = [
    ["layer1 1x1 256 -> 64 at 64x64", 64, 16 * 64 * 64, 256],
    ["layer3 1x1 1024 -> 256 at 16x16", 256, 16 * 16 * 16, 1024],
    ["layer3 1x1 256 -> 1024 at 16x16", 1024, 16 * 16 * 16, 256],
    ["square", 2048, 2048, 2048],
  ];
  for (const [what, m, n, k] of shapes) {
    const host = (shape: number[]) => {
      using t = randn(shape);
      return t.toArray();
    };
    const a = host([m, k]), b = host([k, n]), c = new Float32Array(m * n);
    const [pa, pb, pc] = [a, b, c].map((x) => Deno.UnsafePointer.of(x));
    const shape = `${m}x${n}x${k}`, flops = 2 * m * n * k;
    rateBench("gemm bf16", `bf16 gemm ${shape} (${what})`, { flops, bf16: true }, () => {
      check(lib, bf16(0, 0, m, n, k, 1, pa, k, pb, n, 0, pc, n), () => `bf16 gemm ${shape}`);
    });
    rateBench("gemm bf16", `fp32 gemm ${shape} (lits_gemm_f32)`, { flops }, () => {
      check(
        lib,
        lib.lits_gemm_f32(0, 0, m, n, k, 1, pa, k, pb, n, 0, pc, n, 1, 0, 0, 0),
        () => `fp32 gemm ${shape}`,
      );
    });
  }
} else {
  console.log("gemm_bench: no bf16 rows: this CPU (or library) has no AVX512_BF16 GEMM");
}
