/**
 * The convolutions of the small CNN and of ResNet-50 (batch 16, 1 x 256 x 256
 * input): forward, backward-data and backward-filter kernels, each in
 * GFLOP/s and as a share of the SGEMM ceiling measured in the same run.
 * The kernels are called directly on preallocated tensors, so the figures
 * are the kernels' own. GFLOP/s counts a direct convolution's
 * multiply-adds: Winograd does fewer, so its figure can pass the ceiling.
 * The `[bf16]` rows are the bf16 kernels (PyTorch CPU autocast's
 * convolution: bf16 inputs, fp32 sums; the direct vdpbf16ps kernels for
 * filters with several taps, im2col + the vdpbf16ps GEMM for 1x1) on
 * ResNet-50's shapes, beside the fp32 rows, compared with the bf16 peak;
 * they are left out on a CPU without AVX512_BF16.
 *
 * @module
 */
import { randn, type Tensor } from "../mod.ts";
import { check, cpuLib } from "../src/ffi/native.ts";
import { measureCeiling, rateBench } from "./rate.ts";

measureCeiling();

/** [name, n, c, h, k, kernel, stride, padding] (square images and kernels). */
type Shape = [string, number, number, number, number, number, number, number];
const shapes: Shape[] = [
  ["simple conv1 1->16 256^2", 16, 1, 256, 16, 3, 1, 1],
  ["simple conv2 16->32 128^2", 16, 16, 128, 32, 3, 1, 1],
  ["simple conv3 32->64 64^2", 16, 32, 64, 64, 3, 1, 1],
  ["simple conv4 64->128 32^2", 16, 64, 32, 128, 3, 1, 1],
  ["resnet50 stem 7x7/2 1->64 256^2", 16, 1, 256, 64, 7, 2, 3],
  ["resnet50 layer1 1x1 64->64 64^2", 16, 64, 64, 64, 1, 1, 0],
  ["resnet50 layer1 3x3 64->64 64^2", 16, 64, 64, 64, 3, 1, 1],
  ["resnet50 layer1 1x1 64->256 64^2", 16, 64, 64, 256, 1, 1, 0],
  ["resnet50 layer1 1x1 256->64 64^2", 16, 256, 64, 64, 1, 1, 0],
  ["resnet50 layer2 3x3/2 128->128 64^2", 16, 128, 64, 128, 3, 2, 1],
  ["resnet50 layer2 1x1 128->512 32^2", 16, 128, 32, 512, 1, 1, 0],
  ["resnet50 layer3 1x1 256->1024 16^2", 16, 256, 16, 1024, 1, 1, 0],
  ["resnet50 layer2 3x3 128->128 32^2", 16, 128, 32, 128, 3, 1, 1],
  ["resnet50 layer3 3x3 256->256 16^2", 16, 256, 16, 256, 3, 1, 1],
  ["resnet50 layer3 1x1 1024->256 16^2", 16, 1024, 16, 256, 1, 1, 0],
  ["resnet50 layer4 3x3 512->512 8^2", 16, 512, 8, 512, 3, 1, 1],
  ["resnet50 layer4 1x1 512->2048 8^2", 16, 512, 8, 2048, 1, 1, 0],
  ["resnet50 layer4 1x1/2 1024->2048 16^2 (downsample)", 16, 1024, 16, 2048, 1, 2, 0],
];

const lib = cpuLib();

/** The shapes that also get `[bf16]` rows: ResNet-50's. */
const bf16Shapes = new Set(shapes.map(([name]) => name).filter((n) => n.startsWith("resnet50")));
const level = new Int32Array(1);
const hasBf16 = lib.lits_conv2d_forward_bf16_f32 !== undefined &&
  lib.lits_bf16_support!(level) === 0 && level[0] > 0;

/**
 * Runs fn with LITS_CONV_ALGO set (the native side reads it on every call);
 * "winograd2" is Winograd with F(2x2, 3x3) tiles (LITS_WINOGRAD_TILE=2),
 * "openblas" the default choice with OpenBLAS for every GEMM.
 */
function withAlgo(algo: string | null, fn: () => void): void {
  if (algo === null) return fn();
  Deno.env.set("LITS_CONV_ALGO", algo === "winograd2" ? "winograd" : algo);
  if (algo === "winograd2") Deno.env.set("LITS_WINOGRAD_TILE", "2");
  try {
    fn();
  } finally {
    Deno.env.delete("LITS_CONV_ALGO");
    Deno.env.delete("LITS_WINOGRAD_TILE");
  }
}

for (const [name, n, c, h, k, r, s, p] of shapes) {
  const oh = Math.floor((h + 2 * p - r) / s) + 1;
  const x = randn([n, c, h, h]), w = randn([k, c, r, r]), y = randn([n, k, oh, oh]);
  const dx = randn([n, c, h, h]), dw = randn([k, c, r, r]);
  const geom = new Int32Array([n, c, h, h, k, r, r, s, s, p, p, 1, 1, 1]);
  const flops = 2 * n * k * c * r * r * oh * oh;
  const call = (what: string, status: number) => check(lib, status, () => `${name} ${what}`);
  const p0 = (t: Tensor) => t.ptr;
  // 3x3 layers with stride 1 have up to three algorithms, Winograd with two
  // tile sizes: each is measured (the library picks the faster one per
  // kernel; see pick_algo in conv.c). The direct kernels need rows of 32.
  // "openblas" is the library's choice with OpenBLAS for every GEMM instead
  // of packed_gemm.c's and of the 1x1 filter gradient's dot-product kernel
  // (conv_filter_pointwise.c; on AVX-512 CPUs).
  const algos = r === 3 && s === 1
    ? ["winograd", "winograd2", ...(h >= 32 ? ["direct"] : []), "gemm", "openblas"]
    : [null, "openblas"];
  for (const algo of algos) {
    const tag = algo ? ` [${algo}]` : "";
    rateBench("conv forward", `${name} forward${tag}`, { flops }, () =>
      withAlgo(algo, () => {
        call("forward", lib.lits_conv2d_forward_f32(geom, p0(x), null, 0, p0(w), null, p0(y)));
      }));
    if (c > 1) {
      rateBench(
        "conv backward data",
        `${name} backward-data${tag}`,
        { flops },
        () =>
          withAlgo(algo, () => {
            call("backward data", lib.lits_conv2d_backward_data_f32(geom, p0(w), p0(y), p0(dx)));
          }),
      );
    }
    rateBench(
      "conv backward filter",
      `${name} backward-filter${tag}`,
      { flops },
      () =>
        withAlgo(algo, () => {
          call(
            "backward filter",
            lib.lits_conv2d_backward_filter_f32(geom, p0(x), null, 0, p0(y), p0(dw)),
          );
        }),
    );
  }
  if (!hasBf16 || !bf16Shapes.has(name)) continue;
  const work = { flops, bf16: true };
  rateBench("conv forward", `${name} forward [bf16]`, work, () => {
    call(
      "bf16 forward",
      lib.lits_conv2d_forward_bf16_f32!(geom, p0(x), null, 0, p0(w), null, p0(y)),
    );
  });
  if (c > 1) {
    rateBench("conv backward data", `${name} backward-data [bf16]`, work, () => {
      call(
        "bf16 backward data",
        lib.lits_conv2d_backward_data_bf16_f32!(geom, p0(w), p0(y), p0(dx)),
      );
    });
  }
  rateBench("conv backward filter", `${name} backward-filter [bf16]`, work, () => {
    call(
      "bf16 backward filter",
      lib.lits_conv2d_backward_filter_bf16_f32!(geom, p0(x), null, 0, p0(y), p0(dw)),
    );
  });
}
