/**
 * Memory of the PyTorch habit loop: a fresh input and labels made with
 * `tensor(...)` every step, nothing disposed, a small CNN like the README's.
 * Prints RSS and `memoryStats()` at steps 50, 300 and 2,000.
 *
 *   deno run -A bench/habits_memory.ts [steps=300] [loop=turn|sync|collect|readme|create]
 *
 * loop: `turn` awaits one event-loop turn a step (what I/O or a loader with
 * workers gives), `sync` never yields, `collect` never yields but awaits
 * `collectGarbage()` every 50 steps, `readme` never yields and makes its
 * input and labels once, before the loop (the README's example), `create`
 * only times `tensor(...)` of the step's 128 KiB input, disposed at once and
 * dropped undisposed (`steps` tensors each, no model).
 * `LITS_COLLECTOR=0` turns the collector off, `LITS_HOST_BUFFERS=0` gives
 * `tensor(...)` native memory instead of V8's, for the figures without them.
 *
 * @module
 */
import { collectGarbage, collectorStats, memoryStats, nn, optim, tensor } from "../mod.ts";

const steps = Number(Deno.args[0] ?? 300);
const loop = Deno.args[1] ?? "turn";
if (!["turn", "sync", "collect", "readme", "create"].includes(loop)) {
  throw new Error(`unknown loop '${loop}'`);
}

const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }),
  new nn.BatchNorm2d(8),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Flatten(),
  new nn.Linear(8 * 32 * 32, 3),
);
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const lossFn = new nn.CrossEntropyLoss();
const batch = 8;
const pixels = new Float32Array(batch * 64 * 64); // 128 KiB a step, as the loop
const labels = new Int32Array(batch);
const mib = (b: number) => (b / 2 ** 20).toFixed(1);

if (loop === "create") {
  const host = Deno.env.get("LITS_HOST_BUFFERS") === "0" ? "native" : "host buffer";
  for (const disposed of [true, false]) {
    for (let i = 0; i < 200; i++) tensor(pixels, [batch, 1, 64, 64]).dispose(); // warm up
    const gcs = collectorStats().forcedGcMs;
    const t = performance.now();
    for (let i = 0; i < steps; i++) {
      const x = tensor(pixels, [batch, 1, 64, 64]);
      if (disposed) x.dispose();
    }
    const us = (performance.now() - t) * 1000 / steps;
    const gcUs = (collectorStats().forcedGcMs - gcs) * 1000 / steps;
    console.log(
      `tensor(128 KiB Float32Array), ${host}, ${disposed ? "disposed" : "dropped"}: ` +
        `${us.toFixed(1)} us each (forced GC ${gcUs.toFixed(1)} us of it), RSS ` +
        `${mib(Deno.memoryUsage().rss)} MiB`,
    );
  }
  Deno.exit(0);
}

const once = loop === "readme"
  ? { x: tensor(pixels, [batch, 1, 64, 64]), y: tensor(labels, [batch]) }
  : null;

const t0 = performance.now();
for (let step = 1; step <= steps; step++) {
  for (let i = 0; i < pixels.length; i += 97) pixels[i] = Math.sin(step + i);
  for (let i = 0; i < batch; i++) labels[i] = (step + i) % 3;
  const x = once?.x ?? tensor(pixels, [batch, 1, 64, 64]);
  const y = once?.y ?? tensor(labels, [batch]);
  opt.zeroGrad();
  lossFn.forward(model.forward(x), y).backward();
  opt.step();
  if (loop === "turn") await new Promise((resolve) => setTimeout(resolve, 0));
  if (loop === "collect" && step % 50 === 0) await collectGarbage();
  if (step === 50 || step === 300 || step === 2000 || step === steps) {
    const m = memoryStats();
    const c = collectorStats();
    const u = Deno.memoryUsage();
    console.log(
      `step ${step}: RSS ${mib(u.rss)} MiB (JS heap ${mib(u.heapTotal)}, external ` +
        `${mib(u.external)}), in use ${mib(m.bytesInUse)} MiB ` +
        `(${m.buffersInUse} buffers), cached ${mib(m.bytesCached)} MiB, from system ` +
        `${mib(m.bytesFromSystem)} MiB; collected ${c.tensorsCollected} tensors ` +
        `(${mib(c.bytesCollected)} MiB), watched ${mib(c.bytesWatched)} MiB; ` +
        `${c.forcedGcs} forced GCs (${c.forcedGcMs.toFixed(0)} ms)`,
    );
  }
}
const ms = (performance.now() - t0) / steps;
const off = (name: string) => Deno.env.get(name) === "0" ? "off" : "on";
console.log(
  `loop ${loop}, collector ${off("LITS_COLLECTOR")}, host buffers ${off("LITS_HOST_BUFFERS")}: ${
    ms.toFixed(2)
  } ms a step`,
);
