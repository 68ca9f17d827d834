/**
 * The fp32 filter gradient of ResNet-50's and the small CNN's stride-1 3x3
 * convolutions (batch 16), Winograd's planes through gemm_nt.c (the
 * default from 32 input channels) against the same with OpenBLAS's NT
 * SGEMM (`LITS_CONV_ALGO=openblas`, F(4x4) forced as the default is) and
 * against oneDNN (`LITS_ONEDNN=all`), alternating call by call in one
 * process, so that other work on shared cores falls on all alike: median
 * ms of each and the ratios. x and dy are cold (a 64 MiB buffer is written
 * before each call), x read through a batch norm's transform and ReLU, as
 * a training step reads it.
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

/** [name, n, c, h, k]: 3x3, stride 1, padding 1, square images. */
const shapes: [string, number, number, number, number][] = [
  ["simple 32->64 64^2", 16, 32, 64, 64],
  ["simple 64->128 32^2", 16, 64, 32, 128],
  ["resnet50 64->64 64^2", 16, 64, 64, 64],
  ["resnet50 128->128 32^2", 16, 128, 32, 128],
  ["resnet50 256->256 16^2", 16, 256, 16, 256],
  ["resnet50 512->512 8^2", 16, 512, 8, 512],
];

/** The variants: environment settings applied before each call. */
const variants: [string, Record<string, string>][] = [
  ["gemm_nt", { LITS_CONV_ALGO: "", LITS_ONEDNN: "off", LITS_WINOGRAD_TILE: "" }],
  ["openblas", { LITS_CONV_ALGO: "openblas", LITS_ONEDNN: "off", LITS_WINOGRAD_TILE: "4" }],
  ["onednn", { LITS_CONV_ALGO: "", LITS_ONEDNN: "all", LITS_WINOGRAD_TILE: "" }],
];

function setEnv(vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) v === "" ? Deno.env.delete(k) : Deno.env.set(k, v);
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

console.log(describeCpu(cpuInfo()));
console.log(`${rounds} calls of each, alternating; ms (medians) and ratios to gemm_nt`);
console.log("shape                      gemm_nt  openblas    onednn  openblas/nt  onednn/nt");
const flush = randn([16 << 20]);
for (const [name, n, c, h, k] of shapes) {
  const x = randn([n, c, h, h]), dy = randn([n, k, h, h]), dw = randn([k, c, 3, 3]);
  const coef = randn([3 * c]).abs().add(0.5);
  const geom = new Int32Array([n, c, h, h, k, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
  const times = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < variants.length; i++) {
      const v = (r + i) % variants.length; // each goes first in turn
      setEnv(variants[v][1]);
      check(lib, lib.lits_fill_f32(flush.ptr, flush.size, r), () => "flush");
      const t0 = performance.now();
      const st = lib.lits_conv2d_backward_filter_f32(geom, x.ptr, coef.ptr, 1, dy.ptr, dw.ptr);
      times[v].push(performance.now() - t0);
      check(lib, st, () => `${name} filter gradient (${variants[v][0]})`);
    }
  }
  const [nt, blas, dnn] = times.map(median);
  console.log(
    `${name.padEnd(26)} ${nt.toFixed(2).padStart(7)} ${blas.toFixed(2).padStart(9)} ${
      dnn.toFixed(2).padStart(9)
    } ${(blas / nt).toFixed(2).padStart(12)} ${(dnn / nt).toFixed(2).padStart(10)}`,
  );
}
setEnv({ LITS_CONV_ALGO: "", LITS_ONEDNN: "", LITS_WINOGRAD_TILE: "" });
