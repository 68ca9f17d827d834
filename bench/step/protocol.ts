/**
 * What a `bench:step` worker reports, and the process counters both
 * workers read (the Python worker reads the same ones with `resource`).
 *
 * @module
 */

/** One worker run: per-step times and page faults of the timed steps. */
export interface WorkerResult {
  /** Milliseconds per timed step (warm-up excluded). */
  times: number[];
  /** Minor page faults per timed step: fresh memory the step touched. */
  faults: number[];
  /** Peak resident memory of the whole process (VmHWM), in KiB. */
  peakRssKb: number;
  /**
   * Bytes this library's allocator took from the system during the timed
   * steps (0: every buffer was reused); absent for PyTorch.
   */
  freshBufferBytes?: number;
}

/**
 * What a failed worker said last: the last line of its stderr before
 * /usr/bin/time's report (a Python traceback's last line is the error).
 */
export function failureReason(stderr: string): string {
  const own = stderr.split(/\n(?:Command exited with non-zero status|\tCommand being timed)/)[0];
  const lines = own.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.pop() ?? "no output";
}

/** Minor page faults of this process so far (/proc/self/stat field 10). */
export function minorFaults(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  // Fields after the parenthesised command name, which may hold spaces.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[7]);
}

/** Peak resident set size of this process in KiB (VmHWM). */
export function peakRssKb(): number {
  const m = /VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) : NaN;
}

/**
 * The options both lits sides build a model with at input side `size`:
 * the small CNN's classifier is sized for its input, as torch_models.py's.
 */
export function benchModelOptions(model: string, size: number) {
  return model === "simple"
    ? { inChannels: 1, numClasses: 3, imageSize: size }
    : { inChannels: 1, numClasses: 3 };
}
