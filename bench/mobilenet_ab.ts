/**
 * An evaluation forward timed in fresh processes that take turns: this
 * checkout's TypeScript on library A, then on library B (`LITS_NATIVE_LIB`),
 * then ONNX Runtime on the same model exported from PyTorch, round after
 * round, so that a shared machine's slow moments fall on every side alike.
 * Prints each run's min and median and, at the end, every side's min and
 * median over the rounds' medians.
 *
 * Usage: deno run -A bench/mobilenet_ab.ts LIB_A LIB_B [--model mobilenetv2] [--ort MODEL.onnx]
 *        [--rounds 5] [--steps 10] [--batch 16] [--size 256]
 *
 * The ONNX model: `python3 bench/step/onnx_export.py MODEL BATCH SIZE MODEL.onnx`.
 *
 * @module
 */
import { models, noGrad, randn } from "../mod.ts";

const args = [...Deno.args];
const flag = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};

if (args[0] === "--worker") { // one process: warm up, then `steps` timed forwards
  const [, model, batch, size, steps] = args;
  const net = models.create(model, { inChannels: 1, numClasses: 3 }).eval();
  const x = randn([Number(batch), 1, Number(size), Number(size)]);
  const step = () => noGrad(() => net.forward(x).toArray());
  for (let i = 0; i < 3; i++) step();
  const times: number[] = [];
  for (let i = 0; i < Number(steps); i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ times }));
  Deno.exit(0);
}

const model = flag("--model", "mobilenetv2"), ort = flag("--ort", "");
const rounds = Number(flag("--rounds", "5")), steps = flag("--steps", "10");
const batch = flag("--batch", "16"), size = flag("--size", "256");
const [libA, libB] = args;
if (!libA || !libB) {
  console.error("usage: deno run -A bench/mobilenet_ab.ts LIB_A LIB_B [--ort MODEL.onnx] ...");
  Deno.exit(2);
}
const here = new URL(".", import.meta.url).pathname;

async function run(cmd: string[], env: Record<string, string> = {}): Promise<number[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...cmd],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop()!;
  return (JSON.parse(text) as { times: number[] }).times;
}

const sides: [string, () => Promise<number[]>][] = [
  [
    "A",
    () =>
      run([`${here}mobilenet_ab.ts`, "--worker", model, batch, size, steps], {
        LITS_NATIVE_LIB: libA,
      }),
  ],
  [
    "B",
    () =>
      run([`${here}mobilenet_ab.ts`, "--worker", model, batch, size, steps], {
        LITS_NATIVE_LIB: libB,
      }),
  ],
];
if (ort) {
  sides.push([
    "onnxruntime",
    () => run([`${here}step/ort_worker.ts`, ort, "3", steps, batch, size, "2"]),
  ]);
}
const medians = new Map<string, number[]>(sides.map(([k]) => [k, []]));
const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
for (let r = 0; r < rounds; r++) {
  const line: string[] = [];
  for (const [name, go] of sides) {
    const t = sorted(await go());
    medians.get(name)!.push(t[t.length >> 1]);
    line.push(`${name} min ${t[0].toFixed(1)} med ${t[t.length >> 1].toFixed(1)}`);
  }
  console.log(`round ${r + 1}: ${line.join(" | ")}  (load ${Deno.loadavg()[0].toFixed(2)})`);
}
for (const [name, m] of medians) {
  const s = sorted(m);
  console.log(`${name}: medians min ${s[0].toFixed(1)} median ${s[s.length >> 1].toFixed(1)} ms`);
}
