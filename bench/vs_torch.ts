/**
 * What the side-by-side benchmarks against PyTorch share (interpolate_bench.ts,
 * pool_indices_bench.ts, grid_sample_vs_torch.ts): the thread count, the
 * timing loop of this library's runs, the PyTorch worker (a Python script in
 * bench/ that answers one JSON line per request, see torch_timing.py) and the
 * rounds that alternate the sides so that other work on shared cores falls on
 * all alike. For the benchmarks only: not part of `mod.ts`.
 *
 * @module
 */
import { noGrad, scope, type Tensor } from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";

/** One case's times (ms) of `reps` runs: forward without gradients, forward + backward. */
export type Times = { fwd: number[]; both: number[] };

/** The native library's OpenMP thread count (the PyTorch worker is given the same). */
export function threads(): number {
  const out = new Int32Array(1);
  cpuLib().lits_get_num_threads(out);
  return out[0];
}

/**
 * Times (ms) of `reps` runs of `fwd` and of `both` (forward + backward), after
 * one warm-up run that is not kept; `after` (not timed) runs after each `both`.
 */
export function timeRuns(
  reps: number,
  fwd: () => void,
  both: () => void,
  after?: () => void,
): Times {
  const times: Times = { fwd: [], both: [] };
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    fwd();
    const t1 = performance.now();
    both();
    const t2 = performance.now();
    after?.();
    if (i > 0) {
      times.fwd.push(t1 - t0);
      times.both.push(t2 - t1);
    }
  }
  return times;
}

/**
 * This library's side of a case, as a training step runs it: times (ms) of
 * `reps` forwards of `op(...inputs)` without gradients, and of forward +
 * backwards (`op(...leaves).backward(g)`, the leaves being detached copies
 * of `inputs` that require gradients), after a warm-up run (`timeRuns`).
 *
 * Every run gives its memory back before the next, so that each reuses the
 * same buffers from the caching allocator and faults in no fresh pages: the
 * forward returns nothing out of its `noGrad` (a tensor returned out of a
 * scope outside every scope goes to the training step, which only
 * `zeroGrad()` or `endStep()` ends, and a bench reaches neither: each
 * forward's output stayed, and each forward + backward then took 64 MiB of
 * fresh pages at [16,64,128,128], ~75 ms instead of ~15), the backward runs
 * in a scope, and the leaves' gradients are freed at once, not left to the
 * collector. The caller keeps `inputs` and `g`.
 */
export function timeOpRuns(
  reps: number,
  op: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  g: Tensor,
): Times {
  const leaves = inputs.map((x) => x.detach().requiresGrad_());
  try {
    return timeRuns(
      reps,
      () => noGrad(() => void op(...inputs)),
      () => scope(() => op(...leaves).backward(g)),
      () =>
        leaves.forEach((t) => {
          const grad = t.grad;
          t.grad = null;
          grad?.dispose();
        }),
    );
  } finally {
    leaves.forEach((t) => t.dispose());
  }
}

/** A running PyTorch worker: its first line (version, threads), requests, and the end. */
export interface TorchWorker {
  /** The worker's first line: `{ torch: version, threads: n }`. */
  header: { torch: string; threads: number };
  /** Sends one request (a JSON line) and reads its answer. */
  ask(request: unknown): Promise<Times>;
  /** Closes the worker's stdin and waits for it to end. */
  close(): Promise<void>;
}

/** Starts `/usr/bin/python3 bench/<script> ...args` and reads its header line. */
export async function startTorchWorker(script: string, args: string[]): Promise<TorchWorker> {
  const worker = new Deno.Command("/usr/bin/python3", {
    args: [new URL(script, import.meta.url).pathname, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = worker.stdin.getWriter();
  const lines = worker.stdout.pipeThrough(new TextDecoderStream()).values();
  let pending = "";
  async function readLine(): Promise<string> {
    while (!pending.includes("\n")) {
      const next = await lines.next();
      if (next.done) throw new Error(`${script} ended early (is torch installed?)`);
      pending += next.value;
    }
    const at = pending.indexOf("\n");
    const line = pending.slice(0, at);
    pending = pending.slice(at + 1);
    return line;
  }
  const header = JSON.parse(await readLine());
  return {
    header,
    async ask(request: unknown): Promise<Times> {
      await writer.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
      return JSON.parse(await readLine());
    },
    async close(): Promise<void> {
      await writer.close();
      await worker.status;
    },
  };
}

/**
 * `rounds` rounds over the cases, each case run by every side in turn (the
 * order rotated from round to round, so no side always goes first); per case
 * and side, each round's fastest forward and forward + backward.
 */
export async function runRounds<K, S extends string>(
  cases: K[],
  sides: readonly S[],
  rounds: number,
  run: (side: S, k: K) => Times | Promise<Times>,
): Promise<Record<S, Times>[]> {
  const best = cases.map(() =>
    Object.fromEntries(sides.map((s): [S, Times] => [s, { fwd: [], both: [] }])) as Record<
      S,
      Times
    >
  );
  for (let r = 0; r < rounds; r++) {
    for (const [i, k] of cases.entries()) {
      const order = sides.map((_, j) => sides[(j + r) % sides.length]);
      for (const side of order) {
        const t = await run(side, k);
        best[i][side].fwd.push(Math.min(...t.fwd));
        best[i][side].both.push(Math.min(...t.both));
      }
    }
  }
  return best;
}

/** The median of `v` (the upper one of an even count). */
export function median(v: number[]): number {
  return [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
}
