/**
 * Decoders for encapsulated (compressed) frames: JPEG lossless through
 * `jpeg-lossless-decoder-js`, and JPEG baseline, JPEG-LS and JPEG 2000
 * through cornerstone's WebAssembly builds of libjpeg-turbo, CharLS and
 * OpenJPEG (the codecs the OHIF viewer uses). Each WebAssembly module is
 * loaded on first use. Every decoder gives little-endian samples.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm codec; deno.json has no import map
import { Decoder as LosslessDecoder } from "npm:jpeg-lossless-decoder-js@2.1.2";
import type { PixelEncoding } from "./transfer_syntax.ts";
import { decodeRle } from "./rle.ts";

/** One decoded frame: grey samples, little endian, `bytesPerSample` bytes each. */
export interface DecodedFrame {
  bytes: Uint8Array;
  bytesPerSample: number;
  width: number;
  height: number;
}

/** What the cornerstone codecs' decoders have in common. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

type WasmModule = Record<string, new () => WasmDecoder>;

const modules = new Map<string, Promise<WasmModule>>();

/** Loads (once) the WebAssembly module that has the decoder class `cls`. */
function wasmModule(cls: string): Promise<WasmModule> {
  let m = modules.get(cls);
  if (!m) {
    m = (async () => {
      // deno-lint-ignore no-explicit-any -- emscripten factories ship no types
      let factory: any;
      if (cls === "JPEGDecoder") {
        // deno-lint-ignore no-import-prefix -- pinned npm codec
        factory = (await import("npm:@cornerstonejs/codec-libjpeg-turbo-8bit@1.2.8/decodewasmjs"))
          .default;
      } else if (cls === "JpegLSDecoder") {
        // deno-lint-ignore no-import-prefix -- pinned npm codec
        factory = (await import("npm:@cornerstonejs/codec-charls@1.2.7/decodewasmjs")).default;
      } else {
        // deno-lint-ignore no-import-prefix -- pinned npm codec
        factory = (await import("npm:@cornerstonejs/codec-openjpeg@1.3.6/decodewasmjs")).default;
      }
      // OpenJPEG logs every decode at [INFO] level on stdout: keep the console clean.
      return await factory({ print: () => {} }) as WasmModule;
    })();
    modules.set(cls, m);
  }
  return m;
}

/** Text of whatever a codec threw (emscripten may throw numbers or strings). */
function reason(e: unknown): string {
  if (e instanceof Error) return e.message;
  // A C++ exception arrives as a pointer, with no message the module exports.
  if (typeof e === "number") return "the decoder rejected the codestream (corrupt data?)";
  return String(e);
}

/** Runs one of the WebAssembly decoders on `frame`. */
async function decodeWasm(cls: string, frame: Uint8Array): Promise<DecodedFrame> {
  const mod = await wasmModule(cls);
  const decoder = new mod[cls]();
  try {
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const info = decoder.getFrameInfo();
    if (info.componentCount !== 1) {
      throw new Error(`the codestream has ${info.componentCount} components, not one grey channel`);
    }
    return {
      bytes: decoder.getDecodedBuffer().slice(), // copy out of the WebAssembly heap
      bytesPerSample: info.bitsPerSample <= 8 ? 1 : 2,
      width: info.width,
      height: info.height,
    };
  } finally {
    decoder.delete();
  }
}

/** The sample precision in a JPEG's first start-of-frame marker, or undefined. */
function jpegPrecision(frame: Uint8Array): number | undefined {
  let at = 2;
  while (at + 4 < frame.length && frame[at] === 0xff) {
    const marker = frame[at + 1];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return frame[at + 4];
    }
    at += 2 + ((frame[at + 2] << 8) | frame[at + 3]);
  }
  return undefined;
}

/**
 * Decodes one encapsulated frame. `bytesPerSample` is BitsAllocated / 8
 * (RLE needs it; the JPEG family reads it from the codestream).
 */
export async function decodeFrame(
  encoding: PixelEncoding,
  frame: Uint8Array,
  width: number,
  height: number,
  bytesPerSample: number,
  syntaxName: string,
  source: string,
): Promise<DecodedFrame> {
  if (encoding === "rle") return decodeRle(frame, width, height, bytesPerSample, source);
  try {
    if (encoding === "jpeg-lossless") {
      const decoder = new LosslessDecoder();
      const out: Uint8Array | Uint16Array = decoder.decode(
        frame.buffer,
        frame.byteOffset,
        frame.length,
        bytesPerSample > 1 ? 2 : 1,
      );
      return {
        bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
        bytesPerSample: out.BYTES_PER_ELEMENT,
        width: decoder.xDim,
        height: decoder.yDim,
      };
    }
    if (encoding === "jpeg-baseline") {
      const precision = jpegPrecision(frame);
      if (precision !== undefined && precision !== 8) {
        throw new Error(
          `${precision}-bit lossy JPEG has no decoder here (libjpeg-turbo's npm build is 8-bit only)`,
        );
      }
      return await decodeWasm("JPEGDecoder", frame);
    }
    if (encoding === "jpeg-ls") return await decodeWasm("JpegLSDecoder", frame);
    if (encoding === "jpeg-2000") return await decodeWasm("J2KDecoder", frame);
  } catch (e) {
    throw new Error(`${source}: cannot decode ${syntaxName} pixel data: ${reason(e)}`, {
      cause: e,
    });
  }
  throw new Error(`${source}: no decoder for transfer syntax ${syntaxName}`);
}
