/**
 * The fp32 filter gradient of ResNet-50's and the small CNN's 3x3
 * convolutions (batch 16), variants alternating call by call in one
 * process, so that other work on shared cores falls on all alike: median
 * ms of each and the ratios to the default. Stride 1: Winograd's planes
 * through gemm_nt.c (the default from 32 input channels) against the same
 * with OpenBLAS's NT SGEMM (`LITS_CONV_ALGO=openblas`, F(4x4) forced as
 * the default is) and against oneDNN (`LITS_ONEDNN=all`). Stride 2 (and
 * the 7x7 stem): conv_filter_outer.c's outer products (the default for
 * 128+ channels; forced for the stem) against oneDNN and against im2col +
 * OpenBLAS (`LITS_CONV_ALGO=gemm`). x and dy are cold (a 64 MiB buffer is
 * written before each call), x read through a batch norm's transform and
 * ReLU, as a training step reads it (the stem's x without).
 *
 *   deno run -A bench/filter_ab.ts [rounds]
 *
 * @module
 */
import { randn } from "../mod.ts";
import { check, cpuLib } from "../src/ffi/native.ts";
import { cpuInfo, describeCpu } from "./peak.ts";

const lib = cpuLib();
const rounds = Number(Deno.args[0] ?? 15);

/** [name, n, c, h, k, r, stride, padding]: square images and filters. */
type Shape = [string, number, number, number, number, number, number, number];
type Variant = [string, Record<string, string>];
const off = {
  LITS_CONV_ALGO: "",
  LITS_ONEDNN: "off",
  LITS_WINOGRAD_TILE: "",
  LITS_FILTER_TAPS: "",
};
const groups: [Shape[], Variant[]][] = [
  [
    [
      ["simple 32->64 64^2", 16, 32, 64, 64, 3, 1, 1],
      ["simple 64->128 32^2", 16, 64, 32, 128, 3, 1, 1],
      ["resnet50 64->64 64^2", 16, 64, 64, 64, 3, 1, 1],
      ["resnet50 128->128 32^2", 16, 128, 32, 128, 3, 1, 1],
      ["resnet50 256->256 16^2", 16, 256, 16, 256, 3, 1, 1],
      ["resnet50 512->512 8^2", 16, 512, 8, 512, 3, 1, 1],
    ],
    [
      ["gemm_nt", off],
      ["openblas", { ...off, LITS_CONV_ALGO: "openblas", LITS_WINOGRAD_TILE: "4" }],
      ["onednn", { ...off, LITS_ONEDNN: "all" }],
    ],
  ],
  [
    [
      ["resnet50 3x3/2 128 64^2", 16, 128, 64, 128, 3, 2, 1],
      ["resnet50 3x3/2 256 32^2", 16, 256, 32, 256, 3, 2, 1],
      ["resnet50 3x3/2 512 16^2", 16, 512, 16, 512, 3, 2, 1],
      ["resnet50 stem 7x7/2 1->64", 16, 1, 256, 64, 7, 2, 3],
    ],
    [
      ["outer", { ...off, LITS_FILTER_TAPS: "outer" }],
      ["onednn", { ...off, LITS_ONEDNN: "all" }],
      ["gemm", { ...off, LITS_CONV_ALGO: "gemm" }],
    ],
  ],
];

function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) v === "" ? Deno.env.delete(k) : Deno.env.set(k, v);
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

console.log(describeCpu(cpuInfo()));
console.log(`${rounds} calls of each, alternating; ms (medians) and ratios to the first`);
const flush = randn([16 << 20]);
for (const [shapes, variants] of groups) {
  const names = variants.map(([v]) => v);
  console.log(
    "shape".padEnd(28) + names.map((v) => v.padStart(10)).join("") +
      names.slice(1).map((v) => `${v}/${names[0]}`.padStart(18)).join(""),
  );
  for (const [name, n, c, h, k, r, stride, pad] of shapes) {
    const oh = Math.floor((h + 2 * pad - r) / stride) + 1;
    const x = randn([n, c, h, h]), dy = randn([n, k, oh, oh]), dw = randn([k, c, r, r]);
    const coef = c > 1 ? randn([3 * c]).abs().add(0.5) : null;
    const geom = new Int32Array([n, c, h, h, k, r, r, stride, stride, pad, pad, 1, 1, 1]);
    const times = variants.map(() => [] as number[]);
    for (let i = 0; i < rounds; i++) {
      for (let j = 0; j < variants.length; j++) {
        const v = (i + j) % variants.length; // each goes first in turn
        setEnv(variants[v][1]);
        check(lib, lib.lits_fill_f32(flush.ptr, flush.numel(), i), () => "flush");
        const t0 = performance.now();
        const st = lib.lits_conv2d_backward_filter_f32(
          geom,
          x.ptr,
          coef?.ptr ?? null,
          coef ? 1 : 0,
          dy.ptr,
          dw.ptr,
        );
        times[v].push(performance.now() - t0);
        check(lib, st, () => `${name} filter gradient (${variants[v][0]})`);
      }
    }
    const ms = times.map(median);
    console.log(
      name.padEnd(28) + ms.map((t) => t.toFixed(2).padStart(10)).join("") +
        ms.slice(1).map((t) => (t / ms[0]).toFixed(2).padStart(18)).join(""),
    );
  }
}
setEnv({ ...off, LITS_ONEDNN: "" });
