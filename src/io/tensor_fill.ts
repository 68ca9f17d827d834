/**
 * Loaded tensors filled with their elements: from host values (one copy
 * into the tensor's memory), or read from a file straight into a CPU
 * tensor's memory (no copy at all: that memory is the caching allocator's,
 * so a load after a load faults no fresh pages in). Shared by the `.pth`
 * and safetensors readers.
 *
 * @module
 */
import { check } from "../ffi/native.ts";
import type { DeviceName, DType } from "../tensor/device.ts";
import { noteKept } from "../tensor/collector.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { ByteSource } from "./byte_source.ts";

/**
 * A new tensor, yours (as `tensor(...)` makes one: no step frees it; inside
 * a scope, the scope's), and kept on purpose as a model's parameters are:
 * the collector counts its bytes, but a checkpoint of hundreds of MB loaded
 * in one go is no pile of forgotten temporaries to warn about. `fail` words
 * an Error about it.
 */
export function emptyTensor(
  shape: readonly number[],
  dtype: DType,
  device: DeviceName | undefined,
  fail: (m: string) => Error,
): Tensor {
  let t: Tensor;
  try {
    t = Tensor.empty(shape, dtype, device ?? "cpu", false);
  } catch (e) {
    throw fail((e as Error).message);
  }
  noteKept(t);
  return t;
}

/**
 * Fills `out` (dense, 4-byte elements) with `host`'s bytes; disposes it and
 * throws `fail`'s Error when the copy fails.
 */
export function fillFromHost(out: Tensor, host: Uint8Array, fail: (m: string) => Error): void {
  if (host.byteLength === 0) return;
  try {
    check(out.lib, out.lib.lits_copy_h2d(out.ptr, host, host.byteLength), () => "copy");
  } catch (e) {
    out.dispose();
    throw fail((e as Error).message);
  }
}

/**
 * Fills `out` (dense, 4-byte little-endian elements) with the bytes of
 * `source` from `at` on: a CPU tensor's memory is read into directly, any
 * other goes through host memory. Disposes `out` and throws `fail`'s
 * Error when the read fails.
 */
export function fillFromSource(
  out: Tensor,
  source: ByteSource,
  at: number,
  fail: (m: string) => Error,
): void {
  const bytes = out.numel() * 4;
  if (bytes === 0) return;
  let host: Uint8Array;
  try {
    if (out.device === "cpu") {
      // A view of the tensor's native memory, dropped right after the read.
      source.readInto(at, new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(out.ptr, bytes)));
      return;
    }
    host = source.bytes(at, bytes);
  } catch (e) {
    out.dispose();
    throw fail((e as Error).message);
  }
  fillFromHost(out, host, fail);
}

/** @internal whether this machine stores numbers little-endian, as the files do. */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** @internal the library dtype a stored safetensors-style dtype loads as. */
export function loadedDtype(stored: string): "float32" | "int32" {
  return stored.startsWith("F") || stored === "BF16" ? "float32" : "int32";
}

/** @internal whether stored elements are the loaded tensor's bytes as they are (F32, I32 here). */
export function storedAsIs(stored: string): boolean {
  return LITTLE_ENDIAN && (stored === "F32" || stored === "I32");
}
