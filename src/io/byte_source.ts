/**
 * Bytes read by position, from a buffer or from an open file, for the
 * readers of `.pth` and safetensors files: they read the directory, the
 * header or the pickle first, check every size against `size`, then read
 * each tensor's bytes where they lie, from a file straight into the
 * tensor's memory (tensor_fill.ts). `Deno.readFile` of the whole file
 * would put it in fresh memory first, and fresh memory is page faults: on
 * these machines reading a 100 MB checkpoint that way took 130-300 ms, and
 * reading it into memory the allocator already holds 20 ms.
 *
 * @module
 */

/** Bytes read by position: a buffer's, or a file's. */
export interface ByteSource {
  /** How many bytes there are. */
  readonly size: number;
  /**
   * Whether `bytes` reads (a file) rather than views (a buffer): a reader
   * then reads a tensor's bytes straight into its memory with `readInto`.
   */
  readonly reads: boolean;
  /** The bytes [at, at + length): a view of a buffer, or read from a file; past the end throws. */
  bytes(at: number, length: number): Uint8Array;
  /** Reads the bytes [at, at + into.length) into `into`; past the end throws. */
  readInto(at: number, into: Uint8Array): void;
}

/** Throws unless [at, at + length) lies within `size` bytes. */
function checkRange(at: number, length: number, size: number): void {
  if (!(Number.isSafeInteger(at) && Number.isSafeInteger(length) && at >= 0 && length >= 0)) {
    throw new RangeError(`bytes [${at}, ${at + length}) are not a range`);
  }
  if (at + length > size) {
    throw new RangeError(`bytes [${at}, ${at + length}) lie past the end (${size} bytes)`);
  }
}

/** A buffer as a `ByteSource`: `bytes` gives views of it, nothing is copied. */
export function bufferSource(buffer: Uint8Array): ByteSource {
  return {
    size: buffer.length,
    reads: false,
    bytes(at, length) {
      checkRange(at, length, buffer.length);
      return buffer.subarray(at, at + length);
    },
    readInto(at, into) {
      checkRange(at, into.length, buffer.length);
      into.set(buffer.subarray(at, at + into.length));
    },
  };
}

/**
 * An open regular file as a `ByteSource` (closed with `using` or `close`),
 * its size taken when it is opened. A file that shrinks while it is read
 * gives an Error, never short data.
 */
export class FileSource implements ByteSource, Disposable {
  readonly reads = true;
  #file: Deno.FsFile | null;

  private constructor(file: Deno.FsFile, readonly size: number) {
    this.#file = file;
  }

  /**
   * Opens `path`, or gives null when it is no regular file (a pipe, a
   * device: read those whole); a missing or unreadable file throws Deno's
   * error.
   */
  static async open(path: string): Promise<FileSource | null> {
    const file = await Deno.open(path, { read: true });
    try {
      const info = await file.stat();
      if (info.isFile) return new FileSource(file, info.size);
      if (info.isDirectory) throw new Deno.errors.IsADirectory("it is a directory");
    } catch (e) {
      file.close();
      throw e;
    }
    file.close();
    return null;
  }

  bytes(at: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.readInto(at, out);
    return out;
  }

  readInto(at: number, into: Uint8Array): void {
    checkRange(at, into.length, this.size);
    const file = this.#file;
    if (file === null) throw new Error("the file was closed");
    file.seekSync(at, Deno.SeekMode.Start);
    for (let done = 0; done < into.length;) {
      const n = file.readSync(into.subarray(done));
      if (n === null || n === 0) {
        throw new Error(
          `the file ended at byte ${at + done}, before the ${this.size} it had when opened ` +
            "(it changed while being read)",
        );
      }
      done += n;
    }
  }

  /** Closes the file (once). */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens `path` as a `ByteSource`: a regular file is read by position, any
 * other (a pipe, a device) is read whole first. `close` closes it; errors
 * are Deno's.
 */
export async function openSource(path: string): Promise<ByteSource & Disposable> {
  const file = await FileSource.open(path);
  if (file !== null) return file;
  const all = bufferSource(await Deno.readFile(path));
  return Object.assign(all, { [Symbol.dispose]: () => {} });
}
