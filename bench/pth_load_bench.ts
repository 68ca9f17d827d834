/**
 * Loading a checkpoint: `io.loadPth` of torchvision's ResNet-50 state dict
 * (102 MB) in torch.save's zip format and in its legacy format, beside
 * `torch.load` of the same files, and `io.loadSafetensors` of the same
 * tensors (PyTorch's own safetensors reader is not installed here, so that
 * row has no torch figure). A PyTorch worker (bench/pth_load_torch.py, same
 * thread count) writes the files and answers one load at a time, alternating
 * with this library's loads (the order rotated each round), so that other
 * work on the shared cores falls on both alike. Each side's figure per round
 * is its fastest of `reps` loads; the table gives the minimum and the median
 * over the rounds, and ours over torch's. The file is in the page cache
 * (every round reads it); the tensors of each load are disposed (untimed).
 *
 * Ours includes what the tensor collector costs: loaded tensors are yours,
 * so it counts their bytes and forces a full GC past its bound (a GC, the
 * "gc" column, that a loop which never disposes needs; `LITS_COLLECTOR=0`
 * turns it off, to see the reading alone).
 *
 *   deno run -A bench/pth_load_bench.ts [rounds] [reps] [dir]
 *
 * @module
 */
import { join } from "node:path";
import { collectorStats, io, type Tensor } from "../mod.ts";
import { describeCpu } from "./peak.ts";
import { median, startTorchWorker, threads } from "./vs_torch.ts";

/** One file: its name in the table, its path, and how this library loads it. */
interface Case {
  name: string;
  path: string;
  load: (path: string) => Promise<unknown>;
  /** Whether torch.load reads it (the safetensors file: not here). */
  torch: boolean;
}

/** Per case: each round's fastest load (ms) by side, and our forced GCs' ms. */
interface Figures {
  ours: number[];
  torch: number[];
  gcMs: number[];
}

/** Every tensor in a loaded value (a Map of tensors, here), disposed. */
function disposeAll(v: unknown): void {
  if (v instanceof Map) { for (const t of v.values()) (t as Tensor).dispose(); }
}

/** Our fastest of `reps` loads of `k`, and the forced-GC ms of that load. */
async function ours(k: Case, reps: number): Promise<{ ms: number; gcMs: number }> {
  let best = { ms: Infinity, gcMs: 0 };
  for (let i = 0; i < reps; i++) {
    const before = collectorStats().forcedGcMs;
    const t0 = performance.now();
    const v = await k.load(k.path);
    const ms = performance.now() - t0;
    const gcMs = collectorStats().forcedGcMs - before;
    disposeAll(v);
    if (ms < best.ms) best = { ms, gcMs };
  }
  return best;
}

if (import.meta.main) {
  const args = Deno.args;
  const rounds = Number(args[0] ?? 9);
  const reps = Number(args[1] ?? 1);
  const dir = args[2] ?? await Deno.makeTempDir({ prefix: "pth_load_bench_" });
  const made = args[2] === undefined;
  const worker = await startTorchWorker("pth_load_torch.py", [`${threads()}`]);
  const ask = (q: unknown) => worker.ask(q) as unknown as Promise<Record<string, unknown>>;
  const [zip, legacy] = (await ask({ case: "make", dir })).files as string[];
  const safetensors = join(dir, "resnet50.safetensors");
  const sd = await io.loadPth(zip) as Map<string, Tensor>;
  await io.saveSafetensors(safetensors, sd);
  disposeAll(sd);

  const cases: Case[] = [
    { name: "resnet50.pth (zip)", path: zip, load: (p) => io.loadPth(p), torch: true },
    { name: "resnet50_legacy.pth", path: legacy, load: (p) => io.loadPth(p), torch: true },
    { name: "resnet50.safetensors", path: safetensors, load: io.loadSafetensors, torch: false },
  ];
  const figures = cases.map((): Figures => ({ ours: [], torch: [], gcMs: [] }));
  // Round 0 warms both sides up (first reads, allocator, JIT) and is not kept.
  for (let r = 0; r <= rounds; r++) {
    for (const [i, k] of cases.entries()) {
      const sides = r % 2 === 0 ? ["ours", "torch"] : ["torch", "ours"];
      for (const side of sides) {
        if (side === "ours") {
          const { ms, gcMs } = await ours(k, reps);
          if (r > 0) figures[i].ours.push(ms), figures[i].gcMs.push(gcMs);
        } else if (k.torch) {
          const t = (await ask({ case: "load", path: k.path, reps })).load as number[];
          if (r > 0) figures[i].torch.push(Math.min(...t));
        }
      }
    }
  }
  await worker.close();
  const sizes = cases.map((k) => (Deno.statSync(k.path).size / 2 ** 20).toFixed(1));
  if (made) await Deno.remove(dir, { recursive: true });

  const header = worker.header;
  console.log(
    `checkpoint loading vs torch ${header.torch}.load, ${threads()} threads (torch ` +
      `${header.threads}); ${rounds} rounds, fastest of ${reps} each; ms; ${describeCpu()}`,
  );
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-").padStart(8);
  console.log(
    `${"file".padEnd(22)}${"MiB".padStart(7)} | ${"ours min".padStart(8)}${"median".padStart(8)}` +
      `${"gc med".padStart(8)} | ${"torch min".padStart(9)}${"median".padStart(8)} | ` +
      `${"ours/torch (median)"}`,
  );
  for (const [i, k] of cases.entries()) {
    const { ours: o, torch: t, gcMs } = figures[i];
    const tMin = t.length ? Math.min(...t) : NaN;
    const tMed = t.length ? median(t) : NaN;
    const ratio = t.length ? (median(o) / tMed).toFixed(2) : "-";
    console.log(
      `${k.name.padEnd(22)}${sizes[i].padStart(7)} | ${f(Math.min(...o))}${f(median(o))}` +
        `${f(median(gcMs))} | ${f(tMin).padStart(9)}${f(tMed)} | ${ratio.padStart(8)}`,
    );
  }
}
