/**
 * Test helper: PyTorch checkpoint bytes built by hand, a few opcodes at a
 * time (protocol 2 pickles in torch.save's zip container), for files that
 * PyTorch would not write: hostile ones and odd layouts.
 */
// deno-lint-ignore no-import-prefix -- pinned, as the library's own import of it
import { zipSync } from "npm:fflate@0.8.3";

/** Bytes, byte values or text (UTF-8). */
export type Part = Uint8Array | number[] | string;
/** The parts, one after another. */
export const bytes = (...parts: Part[]): Uint8Array => {
  const arrays = parts.map((p) =>
    typeof p === "string"
      ? new TextEncoder().encode(p)
      : p instanceof Uint8Array
      ? p
      : Uint8Array.from(p)
  );
  const out = new Uint8Array(arrays.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of arrays) out.set(p, (at += p.length) - p.length);
  return out;
};
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
/** BINUNICODE. */
export const str = (s: string) => bytes([0x58, ...u32(new TextEncoder().encode(s).length)], s);
/** BININT. */
export const int = (n: number) => bytes([0x4a, ...u32(n)]);
/** MARK, the items, TUPLE. */
export const tup = (...items: Part[]) => bytes([0x28], ...items, [0x74]);
/** GLOBAL module.name. */
export const glob = (module: string, name: string) => bytes(`c${module}\n${name}\n`);
const PROTO = [0x80, 0x02];
/** A persistent id of storage `key` (torch.<cls>) of `numel` elements, loaded (BINPERSID). */
export const storage = (key: string, numel: number, cls = "FloatStorage") =>
  bytes(tup(str("storage"), glob("torch", cls), str(key), str("cpu"), int(numel)), "Q");
/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
export const rebuild = (st: Uint8Array, offset: number, size: number[], stride: number[]) =>
  bytes(
    glob("torch._utils", "_rebuild_tensor_v2"),
    tup(
      st,
      int(offset),
      tup(...size.map(int)),
      tup(...stride.map(int)),
      [0x89],
      glob("collections", "OrderedDict"),
      ")R",
    ),
    "R",
  );
/** A dict of `entries` (EMPTY_DICT, MARK, key value ..., SETITEMS). */
export const dict = (entries: [string, Uint8Array][]) =>
  bytes("}(", ...entries.flatMap(([k, v]) => [str(k), v]), "u");

/** A zip as torch.save writes it (records stored), with `pad` bytes of a record first to shift the rest. */
export function pth(
  pkl: Uint8Array,
  records: Record<string, Uint8Array> = {},
  pad = 0,
): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  if (pad > 0) files["archive/pad"] = new Uint8Array(pad);
  files["archive/data.pkl"] = bytes(PROTO, pkl, ".");
  for (const [k, v] of Object.entries(records)) files[`archive/data/${k}`] = v;
  files["archive/version"] = bytes("3\n");
  return zipSync(files, { level: 0 });
}

/**
 * A "billion laughs" pickle: L0 = [], L_i = [L_{i-1}] * 10 through the memo,
 * 30 deep (10^30 paths in about 1 KB), in a dict under "lol" beside
 * "arch": "resnet18".
 */
export function laughs(): Uint8Array {
  const levels = [bytes("]q", [0], "0")];
  for (let i = 1; i <= 30; i++) {
    levels.push(
      bytes("](", ...Array.from({ length: 10 }, () => bytes("h", [i - 1])), "eq", [i], "0"),
    );
  }
  return bytes(...levels, "}(", str("arch"), str("resnet18"), str("lol"), "h", [30], "u");
}
