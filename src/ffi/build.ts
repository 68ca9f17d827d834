/**
 * Builds the CPU native library from the C sources that ship with the
 * package: into `native/build/` in a checkout, or into a cache folder when
 * the package was imported from a registry.
 *
 * @module
 */

/** The C sources of `native/cpu`, kept equal to the folder by a test. */
export const CPU_SOURCES = [
  "common.h",
  "library.c",
  "alloc.c",
  "copy.c",
  "gather.c",
  "resample_internal.h",
  "resample.c",
  "resample_backward.c",
  "pool_indices.c",
  "squeeze_excite.c",
  "inverted_residual.c",
  "sort.c",
  "cumsum.c",
  "elementwise.c",
  "gelu.h",
  "gelu_tables.h",
  "gelu.c",
  "layer_norm.c",
  "reduce.c",
  "softmax.c",
  "loss.c",
  "random.c",
  "optim.c",
  "optim_more.c",
  "grid_sample.c",
  "gemm.c",
  "gemm_wide.c",
  "gemm_short_nt.c",
  "conv_internal.h",
  "gemm_prefetch.h",
  "transpose16.h",
  "conv.c",
  "conv_tiles.h",
  "conv_tiles.c",
  "conv_gemm.c",
  "conv_moments.c",
  "conv_data_pointwise.c",
  "packed_gemm.c",
  "conv_filter_pack.h",
  "conv_filter_pack.c",
  "conv_filter_pointwise.c",
  "conv_depthwise_filter.c",
  "conv_depthwise.c",
  "conv_depthwise_chw.c",
  "conv_filter_outer.c",
  "gemm_nt.c",
  "conv_stem.h",
  "conv_stem.c",
  "conv_stem_pool.c",
  "conv_direct.h",
  "conv_direct.c",
  "conv_direct_pool.c",
  "conv_winograd.h",
  "conv_winograd.c",
  "conv_winograd4.c",
  "conv_winograd_pack.c",
  "conv_prepared.c",
  "pool_internal.h",
  "pool.c",
  "maxpool.c",
  "maxpool_separable.c",
  "batchnorm.c",
  "fused_internal.h",
  "exp16.h",
  "silu16.h",
  "fused.c",
  "stream_store.h",
  "measure.c",
  "bf16_internal.h",
  "bf16_blocking.h",
  "bf16_pack.c",
  "bf16_pack16.c",
  "bf16_gemm.c",
  "bf16_dy.c",
  "bf16_act.c",
  "bf16_gemm_batched.c",
  "bf16_amx.c",
  "conv_bf16.c",
  "conv_bf16_squeeze.c",
  "conv_bf16_direct.c",
  "conv_bf16_filter.c",
  "conv_bf16_cols.c",
  "conv_bf16_pointwise.c",
  "conv_bf16_rounded.c",
  "onednn_load.h",
  "onednn_load.c",
  "conv_bf16_onednn.h",
  "conv_bf16_onednn.c",
  "conv_nhwc_bf16.c",
  "conv_nhwc_bf16_pointwise.c",
  "conv_bf16_blocked.c",
  "conv_onednn_f32.h",
  "conv_onednn_f32.c",
  "conv_f32_blocked.c",
] as const;

const LIB_NAME = "liblits_cpu.so";
// -mprefer-vector-width=512: on AVX-512 CPUs gcc otherwise vectorises with
// 256-bit registers; the batch-norm and fused epilogue loops (double sums,
// masks) run 10-30% faster with 512 (measured, bench/norm_pool_bench.ts).
// -fno-math-errno: sqrtf may otherwise set errno, which keeps gcc from
// vectorising any loop that calls it (Adam's step ran scalar, 2.6x slower);
// nothing reads errno, and vsqrtps rounds exactly as sqrtf does.
/** @internal the CPU library's compiler flags (the benchmarks record them). */
export const CFLAGS = [
  "-O3",
  "-march=native",
  "-mprefer-vector-width=512",
  "-fno-math-errno",
  "-fopenmp",
  "-fPIC",
  "-shared",
  "-Wall",
  "-Wextra",
  // A call without a declaration builds (gcc 12) and fails only when the
  // library loads (an undefined symbol): make it an error here.
  "-Werror=implicit-function-declaration",
];
// -z nodelete: the library (and with it libgomp) stays mapped when Deno
// closes it at exit; OpenMP threads still spinning there (OMP_WAIT_POLICY=
// active, GOMP_SPINCOUNT > 0) would otherwise run unmapped code and crash.
const LIBS = ["-lopenblas", "-lmvec", "-lm", "-ldl", "-lpthread", "-Wl,-z,nodelete"];

const nativeRoot = new URL("../../native/", import.meta.url);

/** True when the package runs from a local checkout (file: URLs). */
export function isLocalCheckout(): boolean {
  return nativeRoot.protocol === "file:";
}

/** Where the built CPU library lives (before any `LITS_NATIVE_LIB` override). */
export function defaultLibraryPath(): string {
  if (isLocalCheckout()) return new URL(`build/${LIB_NAME}`, nativeRoot).pathname;
  return `${cacheDir()}/${LIB_NAME}`;
}

function cacheDir(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/lits-vision/${nativeRoot.href.replace(/[^A-Za-z0-9.@-]+/g, "_")}`;
}

/** The command a person runs to build the library by hand. */
export function buildCommand(): string {
  return isLocalCheckout()
    ? "deno task build"
    : `deno run -A ${new URL("../../scripts/build.ts", import.meta.url).href}`;
}

function isStale(lib: string, sources: string[]): boolean {
  let libTime: number;
  try {
    libTime = Deno.statSync(lib).mtime?.getTime() ?? 0;
  } catch {
    return true;
  }
  return sources.some((s) => (Deno.statSync(s).mtime?.getTime() ?? 0) > libTime);
}

function compile(srcDir: string, includeDir: string, out: string): void {
  Deno.mkdirSync(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const tmp = `${out}.${Deno.pid}.tmp`;
  const cFiles = CPU_SOURCES.filter((s) => s.endsWith(".c")).map((s) => `${srcDir}/${s}`);
  const args = [...CFLAGS, `-I${includeDir}`, ...cFiles, ...LIBS, "-o", tmp];
  let result: Deno.CommandOutput;
  try {
    result = new Deno.Command("gcc", { args, stdout: "piped", stderr: "piped" }).outputSync();
  } catch (e) {
    throw new Error(
      `building the native library needs gcc, which was not found (${(e as Error).message}); ` +
        "install it with: apt-get install -y gcc libopenblas-dev",
    );
  }
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr);
    throw new Error(`gcc failed building ${out}:\n${text}`);
  }
  Deno.renameSync(tmp, out);
}

/** The headers of `native/include` both backends compile against. */
export const INCLUDE_FILES = ["lits.h", "lits_check.h", "lits_sort.h"] as const;

function localSources(): string[] {
  const srcDir = new URL("cpu", nativeRoot).pathname;
  return [
    ...CPU_SOURCES.map((s) => `${srcDir}/${s}`),
    ...INCLUDE_FILES.map((h) => new URL(`include/${h}`, nativeRoot).pathname),
  ];
}

/**
 * True when a checkout's library is missing or older than its sources (the
 * next use would compile it); false for a registry copy.
 */
export function needsLocalBuild(): boolean {
  return isLocalCheckout() && isStale(defaultLibraryPath(), localSources());
}

/**
 * Builds the library from a local checkout when it is missing or older than
 * its sources. Returns the library path.
 */
export function buildLocalSync(force = false): string {
  const lib = defaultLibraryPath();
  if (force || isStale(lib, localSources())) {
    compile(new URL("cpu", nativeRoot).pathname, new URL("include", nativeRoot).pathname, lib);
  }
  return lib;
}

/**
 * Builds the library wherever the package came from: a checkout builds in
 * place; a registry copy downloads its C sources into the cache folder first.
 * Returns the library path.
 */
export async function build(force = false): Promise<string> {
  if (isLocalCheckout()) return buildLocalSync(force);
  const lib = defaultLibraryPath();
  try {
    if (!force) {
      Deno.statSync(lib);
      return lib;
    }
  } catch { /* not built yet */ }
  const dir = cacheDir();
  Deno.mkdirSync(`${dir}/cpu`, { recursive: true });
  Deno.mkdirSync(`${dir}/include`, { recursive: true });
  const fetchText = async (rel: string, dest: string) => {
    const url = new URL(rel, nativeRoot);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`cannot download ${url.href}: HTTP ${res.status}`);
    await Deno.writeTextFile(dest, await res.text());
  };
  for (const s of CPU_SOURCES) await fetchText(`cpu/${s}`, `${dir}/cpu/${s}`);
  for (const h of INCLUDE_FILES) await fetchText(`include/${h}`, `${dir}/include/${h}`);
  compile(`${dir}/cpu`, `${dir}/include`, lib);
  return lib;
}
