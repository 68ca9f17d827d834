/**
 * The training part of `deno task gpu:check`: the small CNN learns a
 * synthetic three-class task on the GPU (a bright square at the top left, at
 * the bottom right, or none, under noise), a fresh batch uploaded every step.
 * The loss must fall, held-out accuracy must beat chance, and device memory
 * must be flat once the step is warm (the same bytes in use, nothing new
 * from cudaMalloc). Prints one JSON line.
 *
 * Usage: deno run -A bench/gpu/train_check.ts [STEPS] [DEVICE]
 *
 * @module
 */
import { endStep, manualSeed, memoryStats, models, nn, noGrad, optim, tensor } from "../../mod.ts";
import type { Device } from "../../mod.ts";

const steps = Number(Deno.args[0] ?? 300);
const dev = (Deno.args[1] ?? "cuda") as Device;
const batch = 32, size = 64, warm = 20;

/** A seeded batch: images [batch, 1, size, size] and labels. */
function makeBatch(seed: number): { x: Float32Array; y: Int32Array } {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const x = new Float32Array(batch * size * size);
  const y = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const label = Math.floor(next() * 3);
    y[b] = label;
    const img = x.subarray(b * size * size, (b + 1) * size * size);
    for (let i = 0; i < img.length; i++) img[i] = (next() - 0.5) * 1.6;
    if (label < 2) {
      const off = label === 0 ? 8 : size - 24, jitter = Math.floor(next() * 6);
      for (let r = 0; r < 16; r++) {
        for (let c = 0; c < 16; c++) img[(off + jitter + r) * size + off + c - jitter] += 0.4;
      }
    }
  }
  return { x, y };
}

manualSeed(7);
const net = models.simpleCNN({ imageSize: size, dropout: 0.2 }).to(dev).train();
const opt = new optim.Adam(net.parameters(), { lr: 1e-3 });
const lossFn = new nn.CrossEntropyLoss();
const losses: number[] = [], inUse: number[] = [], fromSystem: number[] = [];
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  const { x, y } = makeBatch(i + 1);
  using xb = tensor(x, [batch, 1, size, size], { device: dev });
  using yb = tensor(y, [batch], { device: dev });
  opt.zeroGrad();
  const loss = lossFn.forward(net.forward(xb), yb);
  loss.backward();
  opt.step();
  losses.push(loss.item());
  endStep();
  if (i >= warm) {
    const m = memoryStats(dev);
    inUse.push(m.bytesInUse);
    fromSystem.push(m.bytesFromSystem);
  }
}
const seconds = (performance.now() - t0) / 1000;

net.eval();
const held = makeBatch(1_000_003);
const correct = noGrad(() => {
  using xb = tensor(held.x, [batch, 1, size, size], { device: dev });
  const pred = net.forward(xb).argmax(1).toArray();
  endStep();
  return Array.from(pred).filter((p, i) => p === held.y[i]).length;
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
// The data tensors are freed with `using` after memoryStats ran, so the
// in-use count is read at the same point of every step.
console.log(JSON.stringify({
  steps,
  seconds,
  firstLoss: mean(losses.slice(0, 20)),
  lastLoss: mean(losses.slice(-20)),
  accuracy: correct / batch,
  flatInUse: new Set(inUse).size === 1,
  flatFromSystem: new Set(fromSystem).size === 1,
  bytesInUse: inUse.at(-1),
  bytesFromSystem: fromSystem.at(-1),
}));
