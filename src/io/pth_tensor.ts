/**
 * A PyTorch checkpoint's tensors made into library tensors: the storages
 * (placed in the file's bytes: read when a tensor needs them, once), a
 * tensor's elements gathered by its offset, sizes and strides (one pass with
 * running offsets; a contiguous tensor is not gathered at all), decoded by
 * safetensors.ts's rules (float32 and int32 elements are not decoded: their
 * bytes are the tensor's), and copied once into the tensor's memory; a
 * contiguous float32 or int32 tensor alone on its storage is read from a
 * file straight into its memory. A budget bounds what a file may make: an
 * expanded tensor (stride 0) of a one-element storage would otherwise turn
 * a few hundred bytes into gigabytes.
 *
 * @module
 */
import type { DeviceName } from "../tensor/device.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { ByteSource } from "./byte_source.ts";
import { decodeElements, ELEMENT_SIZE } from "./safetensors.ts";
import {
  emptyTensor,
  fillFromHost,
  fillFromSource,
  loadedDtype,
  storedAsIs,
} from "./tensor_fill.ts";
import type { TensorRef } from "./pickle_values.ts";
import type { FileError } from "./pickle_read.ts";

/** The most bytes one tensor's elements may take (a typed array's limit, with room). */
const MAX_TENSOR_BYTES = 2 ** 32;
/**
 * What a file's tensors may take, all together: this many times its
 * storages' bytes, plus SLACK_BYTES. Decoding widens at most 4x (uint8 and
 * bool to int32); views of one storage add a few more; far beyond that, a
 * file is expanding tensors (stride 0) or viewing one storage many times.
 */
const BUDGET_FACTOR = 16;
const SLACK_BYTES = 64 * 2 ** 20;

/**
 * One storage: its own bytes in the file, or a view (legacy format) into a
 * root's. The container places a root (checking its size against the file
 * first); its bytes are read when a tensor needs them, and kept only while
 * another tensor over them is still to be made.
 */
export class Storage {
  /** Where a root's bytes lie: its source, and the offset of its first byte. */
  source: ByteSource | null = null;
  at = 0;
  /** A root's tensors (of it and its views) still to be made, as the pickle built them. */
  uses = 0;
  #bytes: Uint8Array | null = null;
  constructor(
    readonly key: string,
    readonly dtype: string,
    readonly numel: number,
    readonly root: Storage | null = null,
    readonly offset = 0,
  ) {}

  /** A root's byte count. */
  get byteLength(): number {
    return this.numel * ELEMENT_SIZE[this.dtype];
  }

  /** Places a root's bytes at `at` in `source` (checked against its size by the caller). */
  place(source: ByteSource, at: number): void {
    this.source = source;
    this.at = at;
  }

  /** A root's bytes, read once while tensors over them are still to be made. */
  bytes(): Uint8Array {
    return this.#bytes ??= this.source!.bytes(this.at, this.byteLength);
  }

  /** One of a root's tensors is made: the last lets its bytes go. */
  made(): void {
    if (--this.uses <= 0) this.#bytes = null;
  }
}

/** What the tensors of one file may still take, in bytes. */
export class TensorBudget {
  #left: number;
  constructor(readonly storageBytes: number) {
    this.#left = BUDGET_FACTOR * storageBytes + SLACK_BYTES;
  }

  /** Takes `bytes` for tensor `name`, or throws when the file has asked for too much. */
  take(bytes: number, name: string, size: readonly number[], fail: (m: string) => FileError) {
    if (bytes > this.#left) {
      const mb = (b: number) => b < 2 ** 20 ? `${b} bytes` : `${(b / 2 ** 20).toFixed(1)} MB`;
      throw fail(
        `tensor '${name}' of size [${size}] would take ${mb(bytes)}, past what a file of ` +
          `${mb(this.storageBytes)} of storages may make (${BUDGET_FACTOR}x that plus ` +
          `${mb(SLACK_BYTES)}): it repeats its storages' elements (an expanded tensor, stride ` +
          "0, or many views of one storage); save t.clone() (or t.contiguous()) of such " +
          "tensors in PyTorch, so that the file holds their elements",
      );
    }
    this.#left -= bytes;
  }
}

/** Row-major copy of a strided tensor's elements (`es` bytes each) out of `src`. */
function gather(
  src: Uint8Array,
  es: number,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  n: number,
): Uint8Array {
  const out = new Uint8Array(n * es);
  // Elements are moved in units of the widest word the source's alignment allows.
  let unit = Math.min(es, 4);
  if ((src.byteOffset % unit) !== 0) unit = 1;

  const per = es / unit;
  const words = (b: Uint8Array) =>
    unit === 4
      ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2)
      : unit === 2
      ? new Uint16Array(b.buffer, b.byteOffset, b.byteLength >> 1)
      : b;
  const a = words(src), o = words(out);
  const nd = size.length;
  const inner = size[nd - 1], step = stride[nd - 1] * per;
  const index = new Array<number>(nd).fill(0);
  let base = offset * per, k = 0;
  for (let r = n / inner; r > 0; r--) {
    let p = base;
    if (per === 1) {
      for (let i = 0; i < inner; i++, p += step) o[k++] = a[p];
    } else {
      for (let i = 0; i < inner; i++, p += step) for (let j = 0; j < per; j++) o[k++] = a[p + j];
    }
    // The next row: the running offset moves by one stride, or wraps a dimension.
    for (let d = nd - 2; d >= 0; d--) {
      base += stride[d] * per;
      if (++index[d] < size[d]) break;
      base -= stride[d] * per * size[d];
      index[d] = 0;
    }
  }
  return out;
}

/**
 * A library tensor on `device` with `t`'s elements (a view is copied out of
 * its storage), named `name` in errors; `budget` is charged for it first.
 */
export function materialize(
  t: TensorRef,
  name: string,
  device: DeviceName | undefined,
  budget: TensorBudget,
  fail: (m: string) => FileError,
): Tensor {
  const s = t.storage as Storage;
  const root = s.root ?? s;
  const es = ELEMENT_SIZE[s.dtype];
  const offset = s.offset + t.offset;
  let n = 1;
  for (const d of t.size) n *= d;
  if (n * es > MAX_TENSOR_BYTES) {
    throw fail(`tensor '${name}' of size [${t.size}] is larger than a tensor here can be`);
  }
  budget.take(n * 4, name, t.size, fail);
  let expected = 1;
  let contiguous = true;
  for (let i = t.size.length - 1; i >= 0; i--) {
    if (t.size[i] !== 1 && t.stride[i] !== expected) contiguous = false;
    expected *= t.size[i];
  }
  // float32 and int32 bytes are the tensor's own: copied into it as they are.
  const same = storedAsIs(s.dtype);
  const dtype = loadedDtype(s.dtype);
  const tensorFail = (m: string) => fail(`tensor '${name}': ${m}`);
  const source = root.source!;
  if (same && contiguous && source.reads && root.uses === 1) {
    // Its storage's only tensor: read from the file straight into its memory.
    const out = emptyTensor(t.size, dtype, device, tensorFail);
    fillFromSource(out, source, root.at + offset * es, tensorFail);
    root.made();
    return out;
  }
  const all = root.bytes();
  const raw = contiguous || n === 0
    ? all.subarray(offset * es, (offset + n) * es)
    : gather(all, es, offset, t.size, t.stride, n);
  const host = same ? raw : decodeElements(raw, s.dtype, name, fail);
  const out = emptyTensor(t.size, dtype, device, tensorFail);
  fillFromHost(out, new Uint8Array(host.buffer, host.byteOffset, host.byteLength), tensorFail);
  root.made();
  return out;
}
