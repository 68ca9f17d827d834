/**
 * The tests' own bf16 rounding and inputs, for the references that the
 * bf16 kernels (native/cpu/bf16_gemm.c, conv_bf16.c) are checked against.
 */

// c10::BFloat16's round_to_nearest_even: NaN -> 0x7FC0, else add 0x7FFF plus
// the lowest kept bit and truncate.
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/** The bits of float32 `bits` rounded to bf16 (and back to float32 bits). */
export function bf16Bits(bits: number): number {
  u32[0] = bits;
  if (Number.isNaN(f32[0])) return 0x7fc00000;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
}

/** x rounded to float32, then to bf16. */
export function bf16(x: number): number {
  f32[0] = x;
  u32[0] = bf16Bits(u32[0]);
  return f32[0];
}

/** Deterministic normal-ish values (sum of uniforms from a 32-bit LCG). */
export function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next() + next() + next() - 1.5;
  return out;
}

/** The bf16 bits of each value (RNE), and those values widened back. */
export function rounded(v: Float32Array): { half: Uint16Array; wide: Float32Array } {
  const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const half = new Uint16Array(v.length), wide = new Float32Array(v.length);
  const wideBits = new Uint32Array(wide.buffer);
  for (let i = 0; i < v.length; i++) {
    wideBits[i] = bf16Bits(bits[i]);
    half[i] = wideBits[i] >>> 16;
  }
  return { half, wide };
}

/** The first byte where two arrays' bits differ, or -1. */
export function firstDifference(a: ArrayBufferView, b: ArrayBufferView): number {
  const ua = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ub = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return ua.length === ub.length ? -1 : ua.length;
}
