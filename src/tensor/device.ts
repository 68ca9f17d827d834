/**
 * Devices and their backends: each device is one library implementing
 * `lits.h`. Tensors ask for their backend; nothing here assumes host memory.
 *
 * @module
 */
import { check, cpuLib, cudaLib } from "../ffi/native.ts";
import type { NativeSymbols } from "../ffi/symbols.ts";

/** Where a tensor's memory lives. */
export type Device = "cpu" | "cuda";

/**
 * Element types a tensor can hold: `x.dtype` is the plain string, so it
 * compares with `===` and goes through JSON as it is. torch's dtype
 * attributes are not on it: `x.dtype.is_floating_point` and
 * `x.dtype.itemsize` read undefined when run unchecked (TypeScript refuses
 * them: `deno check`, `deno test`, the editor); write `x.isFloatingPoint()`
 * and `x.elementSize()`, and `x.dtype === "float32"` for torch's
 * `x.dtype == torch.float32`.
 *
 * @example
 * ```ts
 * import { tensor } from "@lits/vision";
 * const x = tensor([1.5]);
 * console.log(x.dtype === "float32", x.isFloatingPoint(), x.elementSize()); // true true 4
 * ```
 */
export type DType = "float32" | "int32";

/** A device as the functions that take one accept it: torch's "cuda:0" is "cuda". */
export type DeviceName = Device | "cuda:0";

/**
 * @internal the device a name means: "cpu", "cuda", or torch's "cuda:0",
 * which is "cuda" (the backend drives one GPU). "cuda:1" and up are
 * refused, saying how to pick that GPU (CUDA_VISIBLE_DEVICES); any other
 * name is unknown (`expected` lists the names the caller takes).
 */
export function deviceName(name: unknown, expected = "'cpu' or 'cuda'"): Device {
  if (name === "cpu" || name === "cuda") return name;
  if (name === "cuda:0") return "cuda";
  // torch's own form only: no spaces, no leading zeros (" cuda:0 ", "cuda:00" are unknown).
  const index = typeof name === "string" ? /^cuda:([1-9]\d*)$/.exec(name) : null;
  if (index !== null) {
    throw new Error(
      `device '${name}': this library drives one GPU, "cuda" (or "cuda:0"); to run on GPU ` +
        `${index[1]}, make it the only one the process sees: CUDA_VISIBLE_DEVICES=${index[1]} ` +
        'deno run ..., then use "cuda"',
    );
  }
  throw unknownDevice(name, expected);
}

/**
 * The library behind a device. For "cuda" the first call opens and starts the
 * CUDA library and throws, with the reason, when it cannot run here.
 */
export function backend(device: DeviceName): NativeSymbols {
  if (device === "cpu") return cpuLib();
  if (device === "cuda") return cudaLib();
  return backend(deviceName(device));
}

/** Dtype names a PyTorch habit may hand where a device goes (`x.to(torch.bfloat16)`). */
const DTYPE_NAMES = new Set([
  "bfloat16",
  "bf16",
  "float16",
  "half",
  "fp16",
  "float32",
  "float",
  "fp32",
  "float64",
  "double",
  "int32",
  "int64",
  "long",
  "int",
  "int16",
  "short",
  "int8",
  "uint8",
]);

/** A dtype's name without torch's "torch." prefix, lower case. */
const bareDtype = (v: string): string => v.toLowerCase().replace(/^torch\./, "");

const isDtypeName = (v: unknown): v is string =>
  typeof v === "string" && DTYPE_NAMES.has(bareDtype(v));

const INT_NAMES = new Set(["int32", "int64", "long", "int", "int16", "short", "int8", "uint8"]);
const FLOAT_NAMES = new Set(["float32", "float", "fp32"]);

/** What to write for `.to(name)` with a dtype's name: the cast for int and float32, else autocast. */
function toDtypeAdvice(name: string): string {
  const bare = bareDtype(name);
  const moves = ".to() only moves tensors and modules between devices";
  if (INT_NAMES.has(bare)) {
    return `${moves}; for an integer copy of a tensor write x.int() (or x.long(): integer ` +
      "tensors are int32 here, torch's x.to(torch.int64) too)";
  }
  if (FLOAT_NAMES.has(bare)) {
    return `${moves}; for a float32 copy of a tensor write x.float() (modules and float ` +
      "tensors are float32 already)";
  }
  return TO_DTYPE;
}

/** What `.to()` does with dtypes, for the errors that meet one. */
const TO_DTYPE = ".to() only moves tensors and modules between devices, and tensors stay " +
  "float32 (int32 for labels). For bfloat16 mixed precision, run the forward and the loss " +
  'under autocast("bfloat16", () => ...)';

/**
 * @internal the Error of PyTorch's dtype casts (`x.half()`, `model.bfloat16()`,
 * `x.double()`): tensors here stay float32, and bfloat16 is autocast's.
 */
export function dtypeCastError(where: string): Error {
  return new Error(
    `${where}: tensors stay float32 here (int32 for labels), so there is no float16, bfloat16 ` +
      "or float64 copy; for bfloat16 mixed precision run the forward and the loss under " +
      'autocast("bfloat16", () => ...), or train with --precision bf16; for a count or a ' +
      "sum to divide, read it as a number with .item() (torch's running_corrects.double() / n)",
  );
}

/** The Error for a device name that is none of `expected`, with what was likely meant. */
function unknownDevice(name: unknown, expected: string): Error {
  const shown = typeof name === "string" ? `'${name}'` : JSON.stringify(name) ?? String(name);
  let hint = "";
  if (isDtypeName(name)) {
    hint = `; ${shown} is a dtype: ${toDtypeAdvice(name)}`;
  } else if (typeof name === "object" && name !== null) {
    hint = '; .to() takes the device name itself, as in .to("cuda"), not an options object' +
      ("dtype" in name
        ? ' (for bfloat16 mixed precision use autocast("bfloat16", () => ...))'
        : "");
  }
  return new Error(`unknown device ${shown}: expected ${expected}${hint}`);
}

/**
 * @internal Throws unless `dtype` (an option of `where`) is one a tensor
 * holds, saying what to use for PyTorch's others; undefined is the default.
 */
export function checkDtype(where: string, dtype: unknown): void {
  if (dtype === undefined || dtype === "float32" || dtype === "int32") return;
  const name = typeof dtype === "string" ? dtype.toLowerCase() : "";
  const hint = ["bfloat16", "bf16", "float16", "half", "fp16"].includes(name)
    ? "; tensors hold float32: for bfloat16 mixed precision, run the forward and the loss " +
      'under autocast("bfloat16", () => ...)'
    : ["int64", "long", "int", "int16", "int8", "uint8", "bool"].includes(name)
    ? "; integer tensors (class labels too) are int32"
    : ["float64", "double", "float", "fp32"].includes(name)
    ? "; floating-point tensors are float32"
    : "";
  throw new Error(
    `${where}: unknown dtype ${JSON.stringify(dtype)}: expected "float32" or "int32"${hint}`,
  );
}

/**
 * @internal Throws when `.to()` (of a tensor or a module, `where`) got more
 * than the device: PyTorch's `x.to("cpu", torch.bfloat16)` or
 * `.to(device, non_blocking=True)` would otherwise lose the rest silently.
 */
export function checkToArguments(where: string, args: ArrayLike<unknown>): void {
  if (args.length <= 1) return;
  const second = args[1];
  const why = isDtypeName(second)
    ? `'${second}' is a dtype: ${toDtypeAdvice(second)}`
    : "non_blocking and copy have no counterpart: a copy to the host waits for the device";
  throw new Error(
    `${where}: takes one argument, the device ('cpu' or 'cuda'), got ${args.length}; ${why}`,
  );
}

/**
 * Checks a device name and that its backend can run here; "auto" picks
 * `defaultDevice()`, and torch's "cuda:0" is "cuda" (one GPU is driven).
 * Throws an Error that says why a device is unavailable
 * (for "cuda": no CUDA library built, no driver, no GPU, cuBLAS or cuDNN not
 * found, with the folders searched).
 *
 * @example
 * ```ts
 * import { device } from "@lits/vision";
 * console.log(device("cpu")); // "cpu"
 * console.log(["cpu", "cuda"].includes(device("auto"))); // true
 * ```
 */
export function device(name: string): Device {
  if (name === "auto") return defaultDevice();
  const dev = deviceName(name, "'cpu', 'cuda' or 'auto'");
  backend(dev);
  return dev;
}

/**
 * Whether device "cuda" can run here (a GPU, its driver, cuBLAS 13 and cuDNN 9,
 * and the built CUDA library). `device("cuda")` says why not.
 *
 * @example
 * ```ts
 * import { cudaAvailable } from "@lits/vision";
 * console.log(typeof cudaAvailable()); // "boolean"
 * ```
 */
export function cudaAvailable(): boolean {
  try {
    cudaLib();
    return true;
  } catch {
    return false; // the reason stays available from device("cuda")
  }
}

/**
 * The device `--device auto` means: "cuda" when it can run here, else "cpu".
 *
 * @example
 * ```ts
 * import { defaultDevice, zeros } from "@lits/vision";
 * const dev = defaultDevice();
 * using x = zeros([2], { device: dev });
 * console.log(x.device === dev); // true
 * ```
 */
export function defaultDevice(): Device {
  return cudaAvailable() ? "cuda" : "cpu";
}

/**
 * A description of a device's backend: for "cpu" the BLAS and threads, for
 * "cuda" the GPU, driver, and which cuBLAS and cuDNN were loaded from where.
 *
 * @example
 * ```ts
 * import { backendInfo } from "@lits/vision";
 * console.log(backendInfo("cpu").startsWith("cpu:")); // true
 * ```
 */
export function backendInfo(dev: Device = "cpu"): string {
  const lib = backend(dev);
  const buf = new Uint8Array(4096);
  check(lib, lib.lits_backend_info(buf, buf.length), () => `backendInfo ${dev}`);
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/**
 * Waits until the device has finished all queued work (a no-op on "cpu").
 * Copies to the host (`toArray`, `item`) wait by themselves; timing GPU work
 * needs this.
 *
 * @example
 * ```ts
 * import { synchronize } from "@lits/vision";
 * synchronize("cpu");
 * ```
 */
export function synchronize(dev: Device = "cpu"): void {
  const lib = backend(dev);
  check(lib, lib.lits_synchronize(), () => `synchronize ${dev}`);
}

/** Bytes and buffers held by a device's native allocator. */
export interface MemoryStats {
  /** Bytes handed out and not yet freed. */
  bytesInUse: number;
  /** Buffers handed out and not yet freed. */
  buffersInUse: number;
  /** Freed bytes kept in the cache for reuse. */
  bytesCached: number;
  /** Freed buffers kept in the cache for reuse. */
  buffersCached: number;
  /** Bytes ever obtained from the system. */
  bytesFromSystem: number;
}

/**
 * Memory held by a device's allocator.
 *
 * @example
 * ```ts
 * import { memoryStats, zeros } from "@lits/vision";
 * const before = memoryStats().bytesInUse;
 * using t = zeros([1024]);
 * console.log(memoryStats().bytesInUse - before); // 4096
 * ```
 */
export function memoryStats(dev: Device = "cpu"): MemoryStats {
  const lib = backend(dev);
  const out = new BigInt64Array(5);
  check(lib, lib.lits_memory_stats(out), () => "memoryStats");
  return {
    bytesInUse: Number(out[0]),
    buffersInUse: Number(out[1]),
    bytesCached: Number(out[2]),
    buffersCached: Number(out[3]),
    bytesFromSystem: Number(out[4]),
  };
}

/**
 * Gives the device allocator's cached free memory back to the system, as
 * `torch.cuda.empty_cache()`: buffers in use stay, and the next allocations
 * take fresh memory again. Worth calling after a phase whose shapes will not
 * come back (a warm-up on other batch sizes, an evaluation at another size),
 * so that its cache does not add to the peak of what follows.
 *
 * @example
 * ```ts
 * import { emptyCache, memoryStats, zeros } from "@lits/vision";
 * zeros([1 << 20]).dispose();
 * emptyCache();
 * console.log(memoryStats().bytesCached); // 0
 * ```
 */
export function emptyCache(dev: Device = "cpu"): void {
  const lib = backend(dev);
  check(lib, lib.lits_empty_cache(), () => `emptyCache ${dev}`);
}
