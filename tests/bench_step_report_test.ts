/**
 * `deno task bench:step`'s handling of a reference that cannot run a case
 * (PyTorch 1.13 has no CPU bf16 backward of ReLU6, so MobileNetV2's bf16
 * training step fails there): the reason is read from the worker's stderr
 * and the report gives the variant a row that says so, instead of the run
 * ending without a report.
 */
import assert from "node:assert/strict";
import { failureReason } from "../bench/step/protocol.ts";
import { report, type Row } from "../bench/step/report.ts";

const TRACEBACK = [
  "Traceback (most recent call last):",
  '  File "/work/main/bench/step/torch_worker.py", line 54, in main',
  "    loss.backward()",
  "RuntimeError: \"hardshrink_backward_cpu\" not implemented for 'BFloat16'",
  "Command exited with non-zero status 1",
  '\tCommand being timed: "/usr/bin/python3 bench/step/torch_worker.py mobilenetv2 train"',
  "\tUser time (seconds): 1.67",
  "\tExit status: 1",
  "",
].join("\n");

Deno.test("failureReason: a traceback's last line, not /usr/bin/time's report", () => {
  assert.equal(
    failureReason(TRACEBACK),
    "RuntimeError: \"hardshrink_backward_cpu\" not implemented for 'BFloat16'",
  );
  // Without /usr/bin/time (not installed): the last line all the same.
  assert.equal(failureReason("warning: x\nError: boom\n\n"), "Error: boom");
  assert.equal(failureReason(""), "no output");
});

Deno.test("report: a failed reference gets a row with its reason and the table's 13 cells", () => {
  const ok: Row = {
    model: "mobilenetv2",
    mode: "train",
    variant: "lits-bf16",
    medianMs: 442.3,
    roundMedians: [442.3],
    peakRssMb: 900,
    faultsPerStep: 49,
    processFaults: 70000,
    freshBufferBytes: 0,
    flops: 1e10,
  };
  const failed: Row = {
    model: "mobilenetv2",
    mode: "train",
    variant: "torch-bf16",
    medianMs: NaN,
    roundMedians: [],
    peakRssMb: NaN,
    faultsPerStep: NaN,
    processFaults: NaN,
    flops: 0,
    failed: "RuntimeError: a | b",
  };
  const peak = { fmaGflops: 234, copyGBps: 60, bf16Gflops: 468 };
  const text = report({
    rows: [ok, failed],
    peak,
    peakStart: peak,
    peakEnd: peak,
    cpu: {
      model: "AMD EPYC",
      family: "25",
      modelNumber: "17",
      cpus: 2,
      avx512: true,
      avx512bf16: true,
      amx: false,
    },
    machine: "test",
    batch: 16,
    size: 256,
    work: new Map(),
    bf16: true,
    loadAtStart: "0 0 0",
    busyBefore: [],
    notes: [],
    kernels: false,
    data: false,
  });
  const lines = text.split("\n");
  const row = lines.find((l) => l.startsWith("| mobilenetv2 | train | torch-bf16 |"));
  assert.ok(row, text);
  assert.match(row, /\| failed: RuntimeError: a \\\| b \|/);
  const header = lines.find((l) => l.startsWith("| model | pass |"))!;
  const cells = (l: string) => l.split(/(?<!\\)\|/).length;
  assert.equal(cells(row), cells(header));
  // Our own row is still there, with its figures.
  assert.ok(lines.some((l) => l.startsWith("| mobilenetv2 | train | lits-bf16 | 442.3 |")), text);
});
