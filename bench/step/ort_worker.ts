/**
 * The ONNX Runtime side of `deno task bench:step` (variant `onnxruntime`):
 * times evaluation forwards of a model exported from PyTorch by
 * `onnx_export.py` (the same architecture as `torch_worker.py`'s) in
 * ONNX Runtime's CPU provider, with THREADS intra-op threads, one inter-op
 * thread and all graph optimisations on, and prints one JSON line (see
 * `WorkerResult` in `protocol.ts`). ONNX Runtime does not train: eval only.
 *
 * Usage: deno run -A bench/step/ort_worker.ts MODEL.onnx WARMUP STEPS BATCH SIZE THREADS
 *        deno run -A bench/step/ort_worker.ts --check (prints the version, or fails)
 *
 * `BENCH_ORT_MODULE` replaces the module imported (default
 * `npm:onnxruntime-node@1.30.0`), e.g. to see the bench's skip note.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- bench-only dependency, pinned as in tests/onnx_runtime_test.ts
import type * as Ort from "npm:onnxruntime-node@1.30.0";
import { minorFaults, peakRssKb, type WorkerResult } from "./protocol.ts";

const specifier = Deno.env.get("BENCH_ORT_MODULE") ?? "npm:onnxruntime-node@1.30.0";
const ort: typeof Ort = await import(specifier);

if (Deno.args[0] === "--check") {
  console.log(ort.env.versions.node ?? ort.env.versions.common);
  Deno.exit(0);
}

const [file, warmup, steps, batch, size, threads] = Deno.args;
const nWarm = Number(warmup), nSteps = Number(steps), n = Number(batch), s = Number(size);

const session = await ort.InferenceSession.create(file, {
  executionProviders: ["cpu"],
  intraOpNumThreads: Number(threads),
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
});
const input = session.inputNames[0], output = session.outputNames[0];
// Standard normal pixels (Box-Muller), as the other workers' randn.
const pixels = new Float32Array(n * s * s);
for (let i = 0; i < pixels.length; i++) {
  pixels[i] = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
}
const x = new ort.Tensor("float32", pixels, [n, 1, s, s]);

const times: number[] = [];
const faults: number[] = [];
for (let i = 0; i < nWarm + nSteps; i++) {
  const f0 = minorFaults(), t0 = performance.now();
  const out = await session.run({ [input]: x });
  out[output].data; // the logits are on the host when run resolves
  const t1 = performance.now(), f1 = minorFaults();
  for (const t of Object.values(out)) t.dispose();
  if (i >= nWarm) times.push(t1 - t0), faults.push(f1 - f0);
}
await session.release();

const result: WorkerResult = { times, faults, peakRssKb: peakRssKb() };
console.log(JSON.stringify(result));
