/**
 * Opens the native library lazily and turns its int statuses into Errors.
 *
 * `LITS_NATIVE_LIB` overrides the library path. In a checkout a missing or
 * stale library is built on first use; from a registry the first use asks for
 * the build command (or `await init()`).
 *
 * The CUDA library (same symbol table) is opened by `cudaLib()` on the first
 * use of device "cuda"; `LITS_CUDA_LIB` overrides its path. It is never built
 * implicitly (nvcc takes a minute): a missing one gives the build command.
 *
 * @module
 */
import { buildCommand, buildLocalSync, defaultLibraryPath, isLocalCheckout } from "./build.ts";
import { cudaBuildCommand, cudaLibraryPath } from "./build_cuda.ts";
import { type NativeSymbols, symbols } from "./symbols.ts";
import { ABI_VERSION } from "./codes.ts";

export { ABI_VERSION };

let cpu: NativeSymbols | null = null;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function resolveCpuPath(): string {
  const override = Deno.env.get("LITS_NATIVE_LIB");
  if (override) {
    if (!exists(override)) {
      throw new Error(
        `LITS_NATIVE_LIB points to ${override}, which does not exist; ` +
          `unset it or build the library with: ${buildCommand()}`,
      );
    }
    return override;
  }
  if (isLocalCheckout()) return buildLocalSync();
  const path = defaultLibraryPath();
  if (!exists(path)) {
    throw new Error(
      `the native library is not built yet (looked for ${path}); ` +
        `build it with: ${buildCommand()}  (or call 'await init()' once before using tensors)`,
    );
  }
  return path;
}

/**
 * The CPU library's path: `LITS_NATIVE_LIB`, or (in a checkout) the local
 * build, made or refreshed now when needed.
 */
export function cpuLibraryPath(): string {
  return resolveCpuPath();
}

/**
 * Opens `path` with the symbol table and checks its ABI version. The Errors
 * start with `prefix`, name the library (`name`, e.g. "the CUDA library")
 * and end with the command that rebuilds it.
 */
function openLibrary(path: string, name: string, prefix: string, rebuild: string): NativeSymbols {
  let lib: Deno.DynamicLibrary<typeof symbols>;
  try {
    lib = Deno.dlopen(path, symbols);
  } catch (e) {
    throw new Error(
      `${prefix}cannot open ${name} ${path}: ${(e as Error).message}; rebuild it with: ${rebuild}`,
    );
  }
  const version = new Int32Array(1);
  lib.symbols.lits_abi_version(version);
  if (version[0] !== ABI_VERSION) {
    lib.close();
    throw new Error(
      `${prefix}${name} ${path} has ABI ${version[0]}, this code needs ${ABI_VERSION}; ` +
        `rebuild it with: ${rebuild}`,
    );
  }
  return lib.symbols as unknown as NativeSymbols;
}

/** The CPU library's symbols, opened (and in a checkout built) on first use. */
export function cpuLib(): NativeSymbols {
  if (cpu) return cpu;
  const path = resolveCpuPath();
  // OpenMP keeps libgomp's default wait policy: threads spin a while after a parallel region
  // before they sleep. (GOMP_SPINCOUNT=0 here slowed ResNet-50's training step by about 5% on
  // 2 virtual cores: a sleeping vCPU is slow to wake for the next op; and it reached the
  // processes we spawn, PyTorch among them, through the environment.)
  const lib = openLibrary(path, "the native library", "", buildCommand());
  applyModes(lib); // before it is kept: a bad flag in the environment throws on every use
  cpu = lib;
  return cpu;
}

let cuda: NativeSymbols | null = null;
let cudaFailure: Error | null = null;

function resolveCudaPath(): string {
  const override = Deno.env.get("LITS_CUDA_LIB");
  const path = override || cudaLibraryPath();
  if (!exists(path)) {
    throw new Error(
      override
        ? `device 'cuda' is unavailable: LITS_CUDA_LIB points to ${override}, which does not ` +
          `exist; unset it or build the CUDA library with: ${cudaBuildCommand()}`
        : `device 'cuda' is unavailable: the CUDA library is not built (looked for ${path}); ` +
          `build it with: ${cudaBuildCommand()} (needs nvcc from the CUDA 13 toolkit)`,
    );
  }
  return path;
}

/**
 * The CUDA library's symbols, opened and started (`lits_init`: driver,
 * device, cuBLAS, cuDNN) on first use. Throws an Error that says why CUDA
 * cannot run here (no library built, no driver, no device, cuBLAS or cuDNN
 * not found and where it looked). Once the library was opened, a failure is
 * final: later calls throw the same Error.
 */
export function cudaLib(): NativeSymbols {
  if (cuda) return cuda;
  if (cudaFailure) throw cudaFailure;
  const path = resolveCudaPath(); // not kept: the library may be built later
  envFlag("LITS_CUDA_TF32"); // read by lits_init: refused here by name when it is no flag
  try {
    const unavailable = "device 'cuda' is unavailable: ";
    const syms = openLibrary(path, "the CUDA library", unavailable, cudaBuildCommand());
    if (syms.lits_init() !== 0) {
      // Stays open: after the CUDA runtime started (threads, a context),
      // unloading it is not safe; the Error is kept and thrown again.
      const why = lastError(syms).replace(/^lits_init: the CUDA backend is unavailable: /, "");
      throw new Error(`device 'cuda' is unavailable: ${why || "lits_init failed"}`);
    }
    applyModes(syms);
    cuda = syms;
    return cuda;
  } catch (e) {
    cudaFailure = e as Error;
    throw cudaFailure;
  }
}

/**
 * Whether the CUDA library was opened and started (device "cuda" has been
 * used); asks nothing of the driver, so checking it never starts CUDA.
 */
export function cudaOpened(): boolean {
  return cuda !== null;
}

/**
 * The process-wide switches set from TypeScript (`useDeterministicAlgorithms`,
 * `useWinogradConvolutions`); null until called (each library then follows
 * `LITS_DETERMINISTIC` / `LITS_WINOGRAD`). Kept here so a library opened
 * later gets them too.
 */
const modes: { deterministic: boolean | null; winograd: boolean | null } = {
  deterministic: null,
  winograd: null,
};

function applyModes(lib: NativeSymbols): void {
  const deterministic = modes.deterministic ?? envFlag("LITS_DETERMINISTIC");
  if (deterministic !== null) {
    check(lib, lib.lits_set_deterministic(deterministic ? 1 : 0), () => "deterministic mode");
  }
  const winograd = modes.winograd ?? envFlag("LITS_WINOGRAD");
  if (winograd !== null) {
    check(lib, lib.lits_set_winograd(winograd ? 1 : 0), () => "Winograd convolutions");
  }
}

/**
 * An on/off variable of the environment: null when unset; a value that is
 * none of 1/true/on/yes, 0/false/off/no is an Error (LITS_WINOGRAD=false
 * left Winograd on, and LITS_DETERMINISTIC=false turned determinism on).
 */
export function envFlag(name: string): boolean | null {
  const v = Deno.env.get(name);
  if (v === undefined || v === "") return null;
  const t = v.trim().toLowerCase();
  if (["1", "true", "on", "yes"].includes(t)) return true;
  if (["0", "false", "off", "no"].includes(t)) return false;
  throw new Error(
    `${name}=${v} in the environment: expected 1 or 0 (or true/false, on/off, yes/no)`,
  );
}

/**
 * Sets the deterministic mode of every native library, open now or later
 * (`useDeterministicAlgorithms` is the public face).
 */
export function setDeterministic(on: boolean): void {
  modes.deterministic = on;
  if (cpu) applyModes(cpu);
  if (cuda) applyModes(cuda);
}

/**
 * Allows or forbids Winograd convolutions in every native library, open now
 * or later (`useWinogradConvolutions` is the public face).
 */
export function setWinograd(on: boolean): void {
  modes.winograd = on;
  if (cpu) applyModes(cpu);
  if (cuda) applyModes(cuda);
}

/** The text of the native library's last error. */
export function lastError(lib: NativeSymbols): string {
  const p = lib.lits_last_error();
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/**
 * Throws when a native call did not succeed. `what` names the op and shapes;
 * it is a function so that the happy path builds no string.
 */
export function check(lib: NativeSymbols, status: number, what: () => string): void {
  if (status !== 0) throw new Error(`${what()}: ${lastError(lib) || `native status ${status}`}`);
}

/**
 * @internal a C parameter struct of int32 fields: each value must fit, or the
 * struct would carry a wrapped (negative) size into the native checks.
 */
export function int32Params(values: readonly number[], what: () => string): Int32Array {
  const big = values.find((v) => !(Math.abs(v) <= 0x7fffffff));
  if (big !== undefined) {
    throw new Error(`${what()}: size ${big} does not fit the native int32 parameters`);
  }
  return new Int32Array(values);
}
