/**
 * Synthetic, deterministic inputs for the report tests: a training history
 * that converges, a 3-class test set with softmax probabilities from a
 * plausible (imperfect) model, and CT-like thumbnails of its mistakes.
 *
 * @module
 */
import type { HistoryEntry, Misclassified, ReportData } from "../src/eval/mod.ts";

/** mulberry32: a tiny seeded generator, so the page is the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 64x64 slice: a body ellipse, a liver blob when label >= 1, a lesion when 2. */
function slice(label: number, r: () => number): Float32Array {
  const n = 64, img = new Float32Array(n * n);
  const lx = 24 + 6 * r(), ly = 28 + 6 * r();
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const body = ((x - 32) / 27) ** 2 + ((y - 33) / 22) ** 2 < 1;
      let v = body ? 0.35 + 0.05 * r() : 0;
      if (body && label >= 1 && ((x - lx) / 13) ** 2 + ((y - ly) / 10) ** 2 < 1) v = 0.62;
      if (label === 2 && (x - lx - 3) ** 2 + (y - ly + 2) ** 2 < 12) v = 0.45;
      if (body && ((x - 40) / 3) ** 2 + ((y - 44) / 3) ** 2 < 1) v = 0.95; // spine
      img[y * n + x] = v;
    }
  }
  return img;
}

/** A full report input: 14 epochs, 300 test images, 3 classes. */
export function syntheticReportData(seed = 7): ReportData {
  const r = rng(seed);
  const history: HistoryEntry[] = [];
  for (let e = 1; e <= 14; e++) {
    const t = e / 14;
    history.push({
      epoch: e,
      trainLoss: 1.05 * Math.exp(-2.2 * t) + 0.12 + 0.02 * r(),
      trainAcc: 0.45 + 0.5 * (1 - Math.exp(-3 * t)) + 0.01 * r(),
      valLoss: 1.0 * Math.exp(-1.8 * t) + 0.3 + 0.12 * t * t + 0.03 * r(),
      valAcc: 0.45 + 0.38 * (1 - Math.exp(-3 * t)) + 0.02 * r(),
      lr: e <= 8 ? 1e-3 : e <= 12 ? 1e-4 : 1e-5,
      seconds: 18 + 3 * r(),
    });
  }
  const n = 300, k = 3;
  const yTrue = new Int32Array(n), yPred = new Int32Array(n);
  const scores = new Float32Array(n * k);
  const misclassified: Misclassified[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 5 === 0 ? 2 : i % 2; // 20% lesion, the rest split between 0 and 1
    yTrue[i] = y;
    const logits = [0, 0, 0].map((_, c) => (c === y ? 2.0 : 0) + 1.3 * (r() + r() + r() - 1.5));
    if (y === 2) logits[1] += 1.2; // lesions look like liver: the hard pair
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const z = e.reduce((a, b) => a + b, 0);
    e.forEach((v, c) => scores[i * k + c] = v / z);
    const p = e.indexOf(Math.max(...e));
    yPred[i] = p;
    if (p !== y) {
      misclassified.push({
        image: { data: slice(y, r), width: 64, height: 64 },
        trueLabel: y,
        predLabel: p,
        confidence: scores[i * k + p],
        id: `volume-${String(i % 40).padStart(2, "0")} slice ${40 + (i % 37)}`,
      });
    }
  }
  return {
    title: "SimpleCNN · synthetic LiTS (realistic)",
    classNames: ["no liver", "liver", "liver + lesion"],
    history,
    yTrue,
    yPred,
    scores,
    misclassified,
    config: {
      model: "simple",
      epochs: 14,
      batchSize: 32,
      optimizer: { name: "adamw", lr: 1e-3, weightDecay: 1e-4 },
      scheduler: "step",
      augment: ["flip", "rotate", "intensity"],
      seed: 0,
    },
  };
}
