/**
 * Devices and their backends: each device is one library implementing
 * `lits.h`. Tensors ask for their backend; nothing here assumes host memory.
 *
 * @module
 */
import { check, cpuLib } from "../ffi/native.ts";
import type { NativeSymbols } from "../ffi/symbols.ts";

/** Where a tensor's memory lives. */
export type Device = "cpu" | "cuda";

/** Element types a tensor can hold. */
export type DType = "float32" | "int32";

/** The library behind a device. */
export function backend(device: Device): NativeSymbols {
  if (device === "cpu") return cpuLib();
  if (device === "cuda") {
    throw new Error(
      "device 'cuda' is unavailable: this version of @lits/vision has no CUDA backend built " +
        "(no native/cuda library); use device 'cpu'",
    );
  }
  throw new Error(`unknown device '${device}': expected 'cpu' or 'cuda'`);
}

/** Checks a device name and that its backend can run here. */
export function device(name: string): Device {
  if (name !== "cpu" && name !== "cuda") {
    throw new Error(`unknown device '${name}': expected 'cpu' or 'cuda'`);
  }
  backend(name);
  return name;
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
