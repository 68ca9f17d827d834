/**
 * The forward of ResNet-50's stem (7x7, stride 2, padding 3, one channel
 * to 64; batch 16, 256 x 256), fp32 and under bf16 rules, variants
 * alternating call by call in one process, so that other work on shared
 * cores falls on all alike: median ms of each, GFLOP/s, and the ratios to
 * conv_stem.c's direct kernel (the default) of the general paths
 * (`LITS_CONV_STEM=off`: im2col tiles and packed_gemm.c's GEMM, or in bf16
 * bf16_gemm.c's). x is cold (a 64 MiB buffer is written before each call).
 *
 *   deno run -A bench/stem_ab.ts [rounds]
 *
 * @module
 */
import { randn } from "../mod.ts";
import { check, cpuLib } from "../src/ffi/native.ts";
import { cpuInfo, describeCpu } from "./peak.ts";

const lib = cpuLib();
const rounds = Number(Deno.args[0] ?? 21);
const [n, h, k, r] = [16, 256, 64, 7];
const oh = Math.floor((h + 6 - r) / 2) + 1;
const flops = 2 * n * k * oh * oh * r * r;
const geom = new Int32Array([n, 1, h, h, k, r, r, 2, 2, 3, 3, 1, 1, 1]);
const x = randn([n, 1, h, h]), w = randn([k, 1, r, r]), y = randn([n, k, oh, oh]);
const flush = randn([16 << 20]);
const variants: [string, string | undefined][] = [["stem", undefined], ["general", "off"]];
const passes = [
  ["fp32", lib.lits_conv2d_forward_f32],
  ["bf16", lib.lits_conv2d_forward_bf16_f32],
] as const;

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

console.log(describeCpu(cpuInfo()));
console.log(`${rounds} calls of each, alternating; ms (medians), GFLOP/s, general / stem`);
for (const [name, fn] of passes) {
  if (!fn) {
    console.log(`${name}: not in this library`);
    continue;
  }
  const times = variants.map(() => [] as number[]);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < variants.length; j++) {
      const v = (i + j) % variants.length; // each goes first in turn
      const env = variants[v][1];
      env === undefined ? Deno.env.delete("LITS_CONV_STEM") : Deno.env.set("LITS_CONV_STEM", env);
      check(lib, lib.lits_fill_f32(flush.ptr, flush.numel(), i), () => "flush");
      const t0 = performance.now();
      const st = fn(geom, x.ptr, null, 0, w.ptr, null, y.ptr);
      times[v].push(performance.now() - t0);
      check(lib, st, () => `stem forward ${name} (${variants[v][0]})`);
    }
  }
  const ms = times.map(median);
  console.log(
    name.padEnd(6) +
      variants.map(([v], i) =>
        `${v} ${ms[i].toFixed(2)} ms (${(flops / ms[i] / 1e6).toFixed(0)} GFLOP/s)`
      ).join("  ") + `  general/stem ${(ms[1] / ms[0]).toFixed(2)}`,
  );
}
Deno.env.delete("LITS_CONV_STEM");
