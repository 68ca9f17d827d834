/**
 * How a tensor prints (`console.log(t)`, `Deno.inspect(t)`, `String(t)`):
 * PyTorch's repr, values laid out by torch/_tensor_str.py's rules, with our
 * facts appended.
 *
 * ```
 * tensor([[1.0000, 2.5000],
 *         [3.0000, 4.0000]], shape=[2, 2], dtype=float32, device=cpu, requiresGrad=true)
 * ```
 *
 * PyTorch's rules: one format for the whole tensor, chosen from its nonzero
 * finite values (4 decimals; `1.` when all are integers; scientific when the
 * largest is over 1e8 or over 1000 times the smallest, or the smallest is
 * under 1e-4), right-aligned to a common width, rows wrapped at 80
 * characters; over 1000 elements, only the first and last 3 along each
 * dimension, with `...`. Numbers round half to even on their exact binary
 * value, as Python's format does.
 *
 * @module
 */
import type { DType } from "./device.ts";

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE = 3;
const LINE_WIDTH = 80;

/** |v| exactly as digits * 10^-scale (every double is such a decimal). */
function exactDecimal(v: number): { digits: bigint; scale: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(v));
  const hi = view.getUint32(0), lo = view.getUint32(4);
  const biased = hi >>> 20;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased !== 0) mant |= 1n << 52n;
  const exp2 = (biased === 0 ? 1 : biased) - 1075;
  if (exp2 >= 0) return { digits: mant << BigInt(exp2), scale: 0 };
  return { digits: mant * 5n ** BigInt(-exp2), scale: -exp2 };
}

/** n / 10^k rounded half to even (k >= 0). */
function roundDiv(n: bigint, k: number): bigint {
  if (k <= 0) return n * 10n ** BigInt(-k);
  const p = 10n ** BigInt(k);
  const q = n / p, r2 = (n % p) * 2n;
  return r2 > p || (r2 === p && q % 2n === 1n) ? q + 1n : q;
}

function nonFinite(v: number): string | null {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return null;
}

function sign(v: number): string {
  return v < 0 || Object.is(v, -0) ? "-" : "";
}

/** Python's `'{:.Nf}'.format(v)`. */
export function formatFixed(v: number, decimals: number): string {
  const nf = nonFinite(v);
  if (nf) return nf;
  // toFixed rounds the exact value too, but ties up; only a value with a 5
  // just past the last decimal can be a tie (scaling such a value is exact).
  const a = Math.abs(v), scaled = a * 10 ** (decimals + 1);
  if (a < 1e21 && !(Number.isInteger(scaled) && scaled % 10 === 5)) {
    return sign(v) + a.toFixed(decimals);
  }
  const { digits, scale } = exactDecimal(v);
  const s = roundDiv(digits, scale - decimals).toString().padStart(decimals + 1, "0");
  const int = s.slice(0, s.length - decimals);
  return sign(v) + (decimals > 0 ? `${int}.${s.slice(s.length - decimals)}` : int);
}

/** Python's `'{:.Ne}'.format(v)`. */
export function formatSci(v: number, decimals: number): string {
  const nf = nonFinite(v);
  if (nf) return nf;
  const { digits, scale } = exactDecimal(v);
  let q = 0n, e = 0;
  if (digits !== 0n) {
    const len = digits.toString().length;
    e = len - 1 - scale;
    q = roundDiv(digits, len - 1 - decimals);
    if (q.toString().length > decimals + 1) {
      q /= 10n; // 9.99995 -> 10.000: one more power of ten
      e += 1;
    }
  }
  const s = q.toString().padStart(decimals + 1, "0");
  const mant = decimals > 0 ? `${s[0]}.${s.slice(1)}` : s;
  return `${sign(v)}${mant}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/** torch's _Formatter: one format and width for all printed values. */
class Formatter {
  #floating: boolean;
  #intMode = true;
  #sciMode = false;
  width = 1;

  constructor(values: readonly number[], floating: boolean) {
    this.#floating = floating;
    if (!floating) {
      for (const v of values) this.width = Math.max(this.width, String(v).length);
      return;
    }
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (finite.length === 0) return;
    const abs = finite.map(Math.abs);
    const min = Math.min(...abs), max = Math.max(...abs);
    this.#intMode = finite.every((v) => v === Math.ceil(v));
    const spread = max / min > 1000 || max > 1e8;
    this.#sciMode = this.#intMode ? spread : spread || min < 1e-4;
    for (const v of finite) {
      const len = this.#sciMode
        ? formatSci(v, PRECISION).length
        : this.#intMode
        ? formatFixed(v, 0).length + 1
        : formatFixed(v, PRECISION).length;
      this.width = Math.max(this.width, len);
    }
  }

  format(v: number): string {
    let s: string;
    if (!this.#floating) s = String(v);
    else if (this.#sciMode) s = formatSci(v, PRECISION);
    else if (this.#intMode) s = formatFixed(v, 0) + (Number.isFinite(v) ? "." : "");
    else s = formatFixed(v, PRECISION);
    return s.padStart(this.width);
  }
}

/** Indices printed along a dimension of `size` (all, or the edges). */
function shown(size: number, summarize: boolean): number[] {
  const all = [...Array(size).keys()];
  return summarize && size > 2 * EDGE ? [...all.slice(0, EDGE), ...all.slice(size - EDGE)] : all;
}

/**
 * The values part of torch's repr (`_tensor_str(t, indent)`): the nested
 * brackets of `values` (row-major, of `shape`), as PyTorch lays them out.
 */
export function formatValues(
  values: ArrayLike<number>,
  shape: readonly number[],
  dtype: DType,
  indent: number,
): string {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size === 0) return "[]";
  const summarize = size > THRESHOLD;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const printed: number[] = [];
  const gather = (dim: number, at: number) => {
    if (dim === shape.length) printed.push(values[at]);
    else for (const i of shown(shape[dim], summarize)) gather(dim + 1, at + i * strides[dim]);
  };
  gather(0, 0);
  const fmt = new Formatter(printed, dtype === "float32");
  if (shape.length === 0) return fmt.format(values[0]);

  const vector = (at: number, ind: number): string => {
    const n = shape[shape.length - 1];
    const cells = shown(n, summarize).map((i) => fmt.format(values[at + i]));
    if (summarize && n > 2 * EDGE) cells.splice(EDGE, 0, " ...");
    const perLine = Math.max(1, Math.floor((LINE_WIDTH - ind) / (fmt.width + 2)));
    const lines: string[] = [];
    for (let i = 0; i < cells.length; i += perLine) {
      lines.push(cells.slice(i, i + perLine).join(", "));
    }
    return "[" + lines.join(",\n" + " ".repeat(ind + 1)) + "]";
  };
  const nested = (dim: number, at: number, ind: number): string => {
    if (dim === shape.length - 1) return vector(at, ind);
    const parts = shown(shape[dim], summarize).map((i) =>
      nested(dim + 1, at + i * strides[dim], ind + 1)
    );
    if (summarize && shape[dim] > 2 * EDGE) parts.splice(EDGE, 0, "...");
    const sep = "," + "\n".repeat(shape.length - dim - 1) + " ".repeat(ind + 1);
    return "[" + parts.join(sep) + "]";
  };
  return nested(0, 0, indent);
}

/** What a tensor's printout says besides its values. */
export interface TensorFacts {
  shape: readonly number[];
  dtype: DType;
  device: string;
  /** Values in row-major order, or null when the tensor was freed. */
  values: ArrayLike<number> | null;
  requiresGrad: boolean;
  /** The op that made it, for non-leaf tensors. */
  gradFn: string | null;
}

/** The full printout: `tensor(values, shape=..., dtype=..., device=...)`. */
export function formatTensor(f: TensorFacts): string {
  const prefix = "tensor(";
  const body = f.values === null
    ? "<disposed>"
    : formatValues(f.values, f.shape, f.dtype, prefix.length);
  const suffixes = [`shape=[${f.shape.join(", ")}]`, `dtype=${f.dtype}`, `device=${f.device}`];
  if (f.gradFn !== null) suffixes.push(`gradFn=<${f.gradFn}>`);
  else if (f.requiresGrad) suffixes.push("requiresGrad=true");
  // torch's _add_suffixes: a suffix that would pass 80 columns starts a line.
  let text = prefix + body;
  let last = text.length - text.lastIndexOf("\n") + 1;
  for (const s of suffixes) {
    if (last + s.length + 2 > LINE_WIDTH) {
      text += ",\n" + " ".repeat(prefix.length) + s;
      last = prefix.length + s.length;
    } else {
      text += ", " + s;
      last += s.length + 2;
    }
  }
  return text + ")";
}
