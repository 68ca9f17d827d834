/**
 * Builds the CUDA library (`liblits_cuda.so`) from `native/cuda` with nvcc.
 *
 * Separate from the CPU build on purpose: `deno task build` and
 * `deno task test` never need nvcc. `deno task build:cuda` runs this; the
 * result needs no CUDA at link time beyond nvcc's static runtime, and finds
 * cuBLAS and cuDNN when it starts (see `native/cuda/loader.cu`).
 *
 * @module
 */
import { INCLUDE_FILES, isLocalCheckout } from "./build.ts";

/** The sources of `native/cuda`, kept equal to the folder by a test. */
export const CUDA_SOURCES = [
  "vendor.h",
  "loader.h",
  "common.cuh",
  "indexing.cuh",
  "gather.cuh",
  "block_reduce.cuh",
  "elementwise.cuh",
  "random.cuh",
  "loss.cuh",
  "optim.cuh",
  "pool.cuh",
  "guard.cuh",
  "conv_plan.cuh",
  "conv_run.cuh",
  "gemm.cuh",
  "bf16.cuh",
  "bf16_convert.cuh",
  "exports.map",
  "library.cu",
  "loader.cu",
  "alloc.cu",
  "copy.cu",
  "gather.cu",
  "sort.cu",
  "cumsum.cu",
  "elementwise.cu",
  "reduce.cu",
  "softmax.cu",
  "loss.cu",
  "random.cu",
  "optim.cu",
  "gemm.cu",
  "bf16_convert.cu",
  "bf16_gemm.cu",
  "bf16_gemm_batched.cu",
  "conv_plan.cu",
  "conv.cu",
  "conv_bf16.cu",
  "pool.cu",
  "maxpool.cu",
  "batchnorm.cu",
] as const;

/** Machine code for Ampere (sm_80, also runs on 8.6/8.9) and Hopper (sm_90),
 * plus PTX that newer GPUs compile when they load the library. */
export const NVCC_ARCH_FLAGS = [
  "-gencode",
  "arch=compute_80,code=sm_80",
  "-gencode",
  "arch=compute_90,code=sm_90",
  "-gencode",
  "arch=compute_90,code=compute_90",
] as const;

const NVCC_FLAGS = ["-std=c++17", "-O3", "-Xcompiler", "-fPIC,-Wall,-Wextra"] as const;
const LIB_NAME = "liblits_cuda.so";
const nativeRoot = new URL("../../native/", import.meta.url);

/** The command a person runs to build the CUDA library by hand. */
export function cudaBuildCommand(): string {
  return isLocalCheckout()
    ? "deno task build:cuda"
    : `deno run -A ${new URL("../../scripts/build_cuda.ts", import.meta.url).href}`;
}

/** Where the CUDA library is built (before any `LITS_CUDA_LIB` override). */
export function cudaLibraryPath(): string {
  if (isLocalCheckout()) return new URL(`build/${LIB_NAME}`, nativeRoot).pathname;
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/lits-vision/${nativeRoot.href.replace(/[^A-Za-z0-9.@-]+/g, "_")}/${LIB_NAME}`;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * The nvcc to use: `NVCC`, then `nvcc` on PATH, then the CUDA toolkit's
 * usual place. Null when there is none.
 */
export function findNvcc(): string | null {
  const fromEnv = Deno.env.get("NVCC");
  if (fromEnv) return fromEnv;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && isFile(`${dir}/nvcc`)) return `${dir}/nvcc`;
  }
  for (const p of ["/usr/local/cuda/bin/nvcc", "/usr/bin/nvcc"]) if (isFile(p)) return p;
  return null;
}

async function run(cmd: string, args: string[], what: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${what} failed (${cmd} ${args.join(" ")}):\n${text}`);
  }
}

function mtime(path: string): number {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

/** Options of `buildCuda`. */
export interface BuildCudaOptions {
  /** Rebuild even when the library is newer than its sources. */
  force?: boolean;
  /** Where to write the library (default `cudaLibraryPath()`). */
  out?: string;
  /** The nvcc to run (default `findNvcc()`). */
  nvcc?: string;
}

/**
 * Compiles `native/cuda/*.cu` in parallel and links `liblits_cuda.so`.
 * Returns the library path. Throws when nvcc is missing (with what to install)
 * or fails (with its output).
 */
export async function buildCuda(options: BuildCudaOptions = {}): Promise<string> {
  if (!isLocalCheckout()) {
    throw new Error(
      "building the CUDA library needs a checkout of @lits/vision (git clone), where " +
        "`deno task build:cuda` builds it; then point LITS_CUDA_LIB at the result",
    );
  }
  const out = options.out ?? cudaLibraryPath();
  const srcDir = new URL("cuda/", nativeRoot).pathname;
  const sources = [
    ...CUDA_SOURCES.map((s) => `${srcDir}${s}`),
    ...INCLUDE_FILES.map((h) => `${nativeRoot.pathname}include/${h}`),
  ];
  if (!options.force && mtime(out) > 0 && sources.every((s) => mtime(s) <= mtime(out))) return out;
  const nvcc = options.nvcc ?? findNvcc();
  if (nvcc === null) {
    throw new Error(
      "building the CUDA library needs nvcc (the CUDA 13 toolkit), which was not found on PATH " +
        "or in /usr/local/cuda/bin; install the toolkit or set NVCC",
    );
  }
  const objDir = `${out}.objs`;
  await Deno.mkdir(objDir, { recursive: true });
  const units = CUDA_SOURCES.filter((s) => s.endsWith(".cu"));
  await Promise.all(units.map((u) =>
    run(nvcc, [
      ...NVCC_FLAGS,
      ...NVCC_ARCH_FLAGS,
      `-I${nativeRoot.pathname}include`,
      "-c",
      `${srcDir}${u}`,
      "-o",
      `${objDir}/${u}.o`,
    ], `nvcc ${u}`)
  ));
  const tmp = `${out}.${Deno.pid}.tmp`;
  await run(nvcc, [
    "-shared",
    "-Xcompiler",
    "-fPIC",
    ...units.map((u) => `${objDir}/${u}.o`),
    "-Xlinker",
    `--version-script=${srcDir}exports.map`,
    "-Xlinker",
    "-Bsymbolic",
    "-o",
    tmp,
  ], `linking ${LIB_NAME}`);
  await Deno.rename(tmp, out);
  await Deno.remove(objDir, { recursive: true });
  return out;
}
