/**
 * A small Python pickler: the opcodes of protocol 2 (torch.save's default)
 * that pth_write.ts needs to write dicts, lists, numbers, strings and
 * tensors' `_rebuild_tensor_v2` calls, as Python's own pickler writes them.
 *
 * @module
 */

/** Writes pickle opcodes into a growing buffer. */
export class Pickler {
  #out = new Uint8Array(1024);
  #length = 0;
  #memo = 0;
  #view = new DataView(this.#out.buffer);

  #reserve(n: number): number {
    if (this.#length + n > this.#out.length) {
      const grown = new Uint8Array(Math.max(this.#out.length * 2, this.#length + n));
      grown.set(this.#out.subarray(0, this.#length));
      this.#out = grown;
      this.#view = new DataView(grown.buffer);
    }
    const at = this.#length;
    this.#length += n;
    return at;
  }

  // #reserve may replace #out and #view: each write reserves first, then reads them.
  #op(...bytes: number[]): void {
    const at = this.#reserve(bytes.length);
    this.#out.set(bytes, at);
  }

  #raw(bytes: Uint8Array): void {
    const at = this.#reserve(bytes.length);
    this.#out.set(bytes, at);
  }

  #u32(n: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, n, true);
  }

  /** PROTO 2: the header. */
  proto(): void {
    this.#op(0x80, 2);
  }

  /** STOP, and the pickle's bytes. */
  stop(): Uint8Array {
    this.#op(0x2e);
    return this.#out.slice(0, this.#length);
  }

  /** MARK. */
  mark(): void {
    this.#op(0x28);
  }

  /** None. */
  none(): void {
    this.#op(0x4e);
  }

  /** True or False. */
  bool(b: boolean): void {
    this.#op(b ? 0x88 : 0x89);
  }

  /** A Python int (a safe integer), in the shortest form Python writes. */
  int(n: number): void {
    if (n >= 0 && n < 256) return this.#op(0x4b, n);
    if (n >= 0 && n < 65536) return this.#op(0x4d, n & 255, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) {
      this.#op(0x4a);
      const at = this.#reserve(4);
      this.#view.setInt32(at, n, true);
      return;
    }
    // LONG1: little-endian two's complement, as short as keeps the sign.
    const bytes: number[] = [];
    let v = BigInt(n);
    for (;;) {
      const b = Number(v & 255n);
      bytes.push(b);
      v >>= 8n;
      if ((v === 0n && !(b & 0x80)) || (v === -1n && b & 0x80)) break;
    }
    this.#op(0x8a, bytes.length, ...bytes);
  }

  /** A Python float (BINFLOAT, big-endian). */
  float(x: number): void {
    this.#op(0x47);
    const at = this.#reserve(8);
    this.#view.setFloat64(at, x, false);
  }

  /** A Python str (BINUNICODE, UTF-8). */
  str(s: string): void {
    const bytes = new TextEncoder().encode(s);
    this.#op(0x58);
    this.#u32(bytes.length);
    this.#raw(bytes);
  }

  /** GLOBAL module.name. */
  global(module: string, name: string): void {
    this.#op(0x63);
    this.#raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  /** TUPLE of the items since MARK (EMPTY_TUPLE when `empty`). */
  tuple(empty = false): void {
    this.#op(empty ? 0x29 : 0x74);
  }

  /** EMPTY_LIST. */
  emptyList(): void {
    this.#op(0x5d);
  }

  /** APPENDS: the items since MARK onto the list below it. */
  appends(): void {
    this.#op(0x65);
  }

  /** EMPTY_DICT. */
  emptyDict(): void {
    this.#op(0x7d);
  }

  /** SETITEMS: the key, value pairs since MARK into the dict below it. */
  setitems(): void {
    this.#op(0x75);
  }

  /** REDUCE: calls the global below the argument tuple. */
  reduce(): void {
    this.#op(0x52);
  }

  /** BINPERSID: the tuple on the stack is a persistent id. */
  persid(): void {
    this.#op(0x51);
  }

  /** Memoizes the top of the stack; returns its memo index. */
  put(): number {
    const i = this.#memo++;
    if (i < 256) this.#op(0x71, i);
    else {
      this.#op(0x72);
      this.#u32(i);
    }
    return i;
  }

  /** Pushes memo entry `i` again. */
  get(i: number): void {
    if (i < 256) this.#op(0x68, i);
    else {
      this.#op(0x6a);
      this.#u32(i);
    }
  }
}
