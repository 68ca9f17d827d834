/**
 * ONNX export figures, side by side in one process: export time and file
 * size of ResNet-50, and inference time at batch 1 of ResNet-18 in ONNX
 * Runtime (onnxruntime-node, CPU, its default graph optimisations, which
 * fold batch norm into the convolutions) against our own eval forward, the
 * two taking turns round after round so background load falls on both.
 *
 * `deno run -A bench/onnx_export.ts [--size 256] [--rounds 30] [--ort-threads N]`
 * (ONNX Runtime's intra-op threads; default its own choice, one per core).
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- bench-only dependency, pinned; no import map
import * as ort from "npm:onnxruntime-node@1.30.0";
import { models, noGrad, onnx, rand } from "../mod.ts";
import { describeCpu } from "./peak.ts";

const { exportOnnx } = onnx;

function option(key: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${key}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}
const size = option("size", 256);
const rounds = option("rounds", 30);
const ortThreads = option("ort-threads", 0); // 0: ONNX Runtime's default

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const options = { inChannels: 1, numClasses: 3 };
const shape: ["N", number, number, number] = ["N", 1, size, size];
console.log(
  `CPU: ${describeCpu()}; image ${size} x ${size}; ${rounds} rounds; ` +
    `ONNX Runtime threads: ${ortThreads || "default"}`,
);

{
  using net = models.resnet50(options);
  const times: number[] = [];
  let bytes: Uint8Array = new Uint8Array();
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    bytes = exportOnnx(net, { inputShape: shape, normalize: { mean: 0.2, std: 0.25 } });
    times.push(performance.now() - t);
  }
  console.log(
    `resnet50 export: median ${median(times).toFixed(0)} ms of 3, ` +
      `${bytes.length} bytes (${(bytes.length / 2 ** 20).toFixed(1)} MiB; ` +
      `parameters ${net.numParameters()} x 4 = ${net.numParameters() * 4} bytes)`,
  );
}

using net = models.resnet18(options).eval();
const session = await ort.InferenceSession.create(
  exportOnnx(net, { inputShape: shape }),
  ortThreads > 0 ? { intraOpNumThreads: ortThreads } : {},
);
using x = rand([1, 1, size, size]);
const pixels = x.toArray() as Float32Array;
const feeds = { image: new ort.Tensor("float32", pixels, [1, 1, size, size]) };

function ours(): Float32Array {
  const y = noGrad(() => net.forward(x));
  const out = y.toArray() as Float32Array;
  y.dispose();
  return out;
}
async function theirs(): Promise<Float32Array> {
  return (await session.run(feeds)).logits.data as Float32Array;
}

const a = ours(), b = await theirs();
const diff = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
for (let i = 0; i < 3; i++) { // warm-up: plans, caches, ORT's first-run allocations
  ours();
  await theirs();
}
const tOurs: number[] = [], tOrt: number[] = [];
for (let r = 0; r < rounds; r++) {
  let t = performance.now();
  ours();
  tOurs.push(performance.now() - t);
  t = performance.now();
  await theirs();
  tOrt.push(performance.now() - t);
}
const mo = median(tOurs), mr = median(tOrt);
console.log(
  `resnet18 batch 1 forward: ours median ${mo.toFixed(1)} ms (min ${
    Math.min(...tOurs).toFixed(1)
  }), ONNX Runtime ${ort.env.versions.node} median ${mr.toFixed(1)} ms (min ${
    Math.min(...tOrt).toFixed(1)
  }); ours / ORT = ${(mo / mr).toFixed(2)}; max |logit diff| ${diff.toExponential(2)}`,
);
await session.release();
