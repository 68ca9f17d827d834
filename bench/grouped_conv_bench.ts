/**
 * Grouped convolutions (depthwise, as MobileNet's, EfficientNet's and
 * ConvNeXt's, and ResNeXt-style groups), batch 16: each pass with the
 * library's choice (oneDNN's JIT kernels where it is installed and has
 * one; our depthwise kernels) beside im2col + GEMM per group
 * (`LITS_CONV_ALGO=gemm`, what ran before either) in the same group, so
 * Deno's summary prints their ratio; fp32, and bf16 autocast's
 * convolutions on a CPU with AVX512_BF16. The rates count a direct
 * convolution's multiply-adds (grouped: c / groups inputs per output).
 *
 * @module
 */
import { randn, type Tensor } from "../mod.ts";
import { check, cpuLib } from "../src/ffi/native.ts";
import { rateBench } from "./rate.ts";

/** [name, n, c, h, k, kernel, stride, padding, groups] (square images and kernels). */
type Shape = [string, number, number, number, number, number, number, number, number];
const shapes: Shape[] = [
  ["depthwise 3x3 64 56^2", 16, 64, 56, 64, 3, 1, 1, 64],
  ["depthwise 3x3/2 128 28^2", 16, 128, 28, 128, 3, 2, 1, 128],
  ["depthwise 5x5 96 28^2", 16, 96, 28, 96, 5, 1, 2, 96],
  ["depthwise 7x7 96 56^2", 16, 96, 56, 96, 7, 1, 3, 96],
  ["3x3 256 in 8 groups 14^2", 16, 256, 14, 256, 3, 1, 1, 8],
  ["1x1 256 in 8 groups 28^2", 16, 256, 28, 256, 1, 1, 0, 8],
  ["3x3 128 in 32 groups 28^2 (4 channels a group)", 16, 128, 28, 128, 3, 1, 1, 32],
];

const lib = cpuLib();
const level = new Int32Array(1);
const hasBf16 = lib.lits_conv2d_forward_bf16_f32 !== undefined &&
  lib.lits_bf16_support!(level) === 0 && level[0] > 0;

/** fn with LITS_CONV_ALGO=gemm (im2col + GEMM per group) when `gemm`; read on every call. */
function inChoice(gemm: boolean, fn: () => void): void {
  if (!gemm) return fn();
  Deno.env.set("LITS_CONV_ALGO", "gemm");
  try {
    fn();
  } finally {
    Deno.env.delete("LITS_CONV_ALGO");
  }
}

for (const [name, n, c, h, k, r, s, p, groups] of shapes) {
  const oh = Math.floor((h + 2 * p - r) / s) + 1;
  const x = randn([n, c, h, h]), w = randn([k, c / groups, r, r]), y = randn([n, k, oh, oh]);
  const dx = randn([n, c, h, h]), dw = randn([k, c / groups, r, r]);
  const geom = new Int32Array([n, c, h, h, k, r, r, s, s, p, p, 1, 1, groups]);
  const flops = 2 * n * k * (c / groups) * r * r * oh * oh;
  const call = (what: string, status: number) => check(lib, status, () => `${name} ${what}`);
  const p0 = (t: Tensor) => t.ptr;
  const precisions = hasBf16 ? ["fp32", "bf16"] as const : ["fp32"] as const;
  for (const precision of precisions) {
    const bf16 = precision === "bf16";
    const forward = bf16 ? lib.lits_conv2d_forward_bf16_f32! : lib.lits_conv2d_forward_f32;
    const data = bf16 ? lib.lits_conv2d_backward_data_bf16_f32! : lib.lits_conv2d_backward_data_f32;
    const filter = bf16
      ? lib.lits_conv2d_backward_filter_bf16_f32!
      : lib.lits_conv2d_backward_filter_f32;
    for (const gemm of [false, true]) {
      const tag = `[${precision}${gemm ? ", LITS_CONV_ALGO=gemm" : ""}]`;
      const work = { flops, bf16 };
      const passes: [string, () => number][] = [
        ["forward", () => forward(geom, p0(x), null, 0, p0(w), null, p0(y))],
        ["backward-data", () => data(geom, p0(w), p0(y), p0(dx))],
        ["backward-filter", () => filter(geom, p0(x), null, 0, p0(y), p0(dw))],
      ];
      for (const [pass, run] of passes) {
        rateBench(
          `${name} ${pass} ${precision}`,
          `${name} ${pass} ${tag}`,
          work,
          () => inChoice(gemm, () => call(pass, run())),
        );
      }
    }
  }
}
