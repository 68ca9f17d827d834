/**
 * Prepared convolution weights (native/cpu/conv_prepared.c,
 * src/tensor/ops/conv_prepared.ts): a forward under noGrad keeps Winograd's
 * transformed planes, or the GEMM convolutions' packed weights (1x1 layers,
 * im2col), between calls. These check that it gives the very floats of the
 * plain forward, and that every way of changing the weights (an optimizer
 * step, loadStateDict, a write by hand, a flipped bit) is seen.
 */
import assert from "node:assert/strict";
import {
  functional as F,
  manualSeed,
  nn,
  noGrad,
  optim,
  randn,
  type Tensor,
  tensor,
} from "../mod.ts";
import { cpuLib } from "../src/ffi/native.ts";
import type { Conv2dOptions } from "../src/tensor/ops/conv.ts";
import { AVX512, withEnv } from "./helpers.ts";

const lib = cpuLib();
const ignore = lib.lits_conv2d_forward_prepared_f32 === null;

/**
 * The plain forward (nothing prepared): the weights' gradient recorded, on a
 * copy of them, so that the buffer of `w`'s own storage is left alone.
 */
function plain(x: Tensor, w: Tensor, options: Conv2dOptions = { padding: 1 }): Float32Array {
  const copy = tensor(w.toArray() as Float32Array).reshape([...w.shape]).requiresGrad_();
  return F.conv2d(x, copy, null, options).toArray() as Float32Array;
}

/** Exact equality without node:assert's diff (slow on large arrays). */
function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, want ${want[i]}`);
}

function prepared(x: Tensor, w: Tensor, options: Conv2dOptions = { padding: 1 }): Float32Array {
  return noGrad(() => F.conv2d(x, w, null, options).toArray() as Float32Array);
}

/** Largest difference over the root mean square of `want`. */
function relError(got: Float32Array, want: Float32Array): number {
  let d = 0, ss = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    ss += want[i] * want[i];
  }
  return d / Math.sqrt(ss / want.length);
}

// Winograd by default (conv.c's winograd_wins and enough_tiles): planes
// packed from 128 input channels, U itself below. `same`: blocks of 32+
// tiles, where the plain forward takes the same GEMM; narrower blocks (6
// images at 8 x 9: 18 tiles a thread) go to packed_gemm.c prepared but to
// OpenBLAS plain, which sums in another order: there the two agree to
// Winograd's own accuracy. The plain forward makes its packed planes in
// one pass (conv_winograd_pack.c), the prepared one transforms, then
// packs: channels that are no multiple of 16 and row blocks of 12, 8 + 8
// (100 = 7 x 12 + 16), 4 (136) and a zero-padded 10 (70) check that the
// two lay out the same values.
const SHAPES: { shape: [number, number, number, number, number]; same: boolean }[] = [
  { shape: [2, 32, 48, 32, 33], same: true },
  { shape: [8, 256, 136, 16, 16], same: true },
  { shape: [2, 136, 100, 32, 32], same: true },
  { shape: [2, 130, 70, 32, 32], same: true },
  { shape: [6, 128, 128, 8, 9], same: false },
];

for (const { shape: [n, c, k, h, w], same } of SHAPES) {
  Deno.test({
    name: `prepared weights: ${c} -> ${k} at ${h} x ${w}, batch ${n}: the plain forward's floats`,
    ignore,
    fn() {
      manualSeed(1);
      const x = randn([n, c, h, w]), wt = randn([k, c, 3, 3]);
      const agree = (got: Float32Array, want: Float32Array) => {
        if (same) assert.ok(got.every((v, i) => v === want[i]), "not the plain forward's floats");
        else assert.ok(relError(got, want) < 1e-4, `error ${relError(got, want)}`);
      };
      const want = plain(x, wt);
      agree(prepared(x, wt), want); // prepares
      agree(prepared(x, wt), want); // reads the prepared planes
      // Another image size and batch: the same buffer serves it.
      const x2 = randn([n + 1, c, h + 4, w + 2]);
      agree(prepared(x2, wt), plain(x2, wt));
      // F(2x2, 3x3) needs fewer planes: the buffer is remade for that tile.
      withEnv({ LITS_WINOGRAD_TILE: "2" }, () => agree(prepared(x, wt), plain(x, wt)));
      agree(prepared(x, wt), want);
    },
  });
}

// The GEMM convolutions (packed_gemm.c's weights, packed once): 1x1 layers
// with row blocks of 12, 8 + 8 (64, 100) and a zero-padded 10 (70), input
// channels that are no multiple of 16, stride 2, and a 5x5 convolution
// through im2col tiles.
const GEMM: { shape: [number, number, number, number, number]; r: number; stride?: number }[] = [
  { shape: [2, 256, 64, 16, 16], r: 1 },
  { shape: [3, 40, 100, 12, 20], r: 1 },
  { shape: [2, 130, 70, 16, 8], r: 1, stride: 2 },
  { shape: [2, 24, 40, 20, 18], r: 5 },
];

for (const { shape: [n, c, k, h, w], r, stride } of GEMM) {
  Deno.test({
    name: `prepared weights: ${r}x${r} ${c} -> ${k} at ${h} x ${w}${
      stride ? `, stride ${stride}` : ""
    }, batch ${n}: packed once, the plain forward's floats`,
    ignore,
    fn() {
      manualSeed(5);
      const st = stride ?? 1, pad = (r - 1) / 2, options = { stride: st, padding: pad };
      const params = new Int32Array([n, c, h, w, k, r, r, st, st, pad, pad, 1, 1, 1]);
      const bytes = new BigInt64Array(1);
      assert.equal(lib.lits_conv2d_prepared_bytes!(params, Deno.UnsafePointer.of(bytes)), 0);
      // The packed weights are packed_gemm.c's, which runs on AVX-512 CPUs only.
      if (AVX512) assert.ok(bytes[0] >= BigInt(64 + 4 * k * c * r * r), `bytes ${bytes[0]}`);
      else assert.equal(bytes[0], 0n, "nothing to prepare without AVX-512");
      const x = randn([n, c, h, w]), wt = randn([k, c, r, r]);
      const want = plain(x, wt, options);
      assertSame(prepared(x, wt, options), want, "prepares");
      assertSame(prepared(x, wt, options), want, "reads the packed weights");
      const x2 = randn([n + 1, c, h + 2, w + 6]); // another size: the same buffer
      assertSame(prepared(x2, wt, options), plain(x2, wt, options), "another size");
    },
  });
}

Deno.test({
  name: "prepared weights: an optimizer step, loadStateDict and a write by hand are all seen",
  ignore,
  fn() {
    for (const r of [3, 1]) changesSeen(r); // Winograd's planes, packed GEMM weights
  },
});

/** Changes to the weights of an r x r convolution, each seen by its next forward. */
function changesSeen(r: number): void {
  manualSeed(2);
  const options = { padding: (r - 1) / 2, bias: false };
  const conv = new nn.Conv2d(64, 64, r, options);
  const x = randn([2, 64, 32, 32]);
  const eval_ = () => noGrad(() => conv.forward(x).toArray() as Float32Array);
  /** The weights were changed to `changed` in place: prepared and plain agree, and differ from `old`. */
  const seen = (old: Float32Array, what: string) => {
    const want = plain(x, conv.weight, { padding: options.padding });
    assert.ok(want.some((v, i) => v !== old[i]), `${what}: the change shows in the output`);
    assertSame(eval_(), want, what);
    return want;
  };
  let out = eval_();
  // An optimizer step writes the weights in native code (the gradient
  // comes from a copy: a forward that records it would let the buffer go).
  const copy = tensor(conv.weight.toArray() as Float32Array).reshape([...conv.weight.shape]);
  F.conv2d(x, copy.requiresGrad_(), null, { padding: options.padding }).sum().backward();
  conv.weight.grad = copy.grad;
  new optim.SGD(conv.parameters(), { lr: 0.5 }).step();
  out = seen(out, "after an optimizer step");
  // loadStateDict copies into the same storage.
  conv.loadStateDict(new nn.Conv2d(64, 64, r, options).stateDict());
  out = seen(out, "after loadStateDict");
  // One bit of the last weight, written straight into native memory.
  const host = conv.weight.toArray() as Float32Array;
  new Uint32Array(host.buffer, host.byteOffset, host.length)[host.length - 1] ^= 1 << 20;
  lib.lits_copy_h2d(conv.weight.ptr, host, host.byteLength);
  out = seen(out, "after one flipped bit");
  // Two weights swapped: the same values in other places.
  [host[0], host[1]] = [host[1], host[0]];
  lib.lits_copy_h2d(conv.weight.ptr, host, host.byteLength);
  seen(out, "after a swap");
}

Deno.test({
  name: "prepared weights: a frozen layer keeps them while the input's gradient is recorded",
  ignore,
  fn() {
    manualSeed(3);
    const x = randn([2, 32, 32, 32]).requiresGrad_();
    const wt = randn([32, 32, 3, 3]); // requiresGrad false: frozen
    const y = F.conv2d(x, wt, null, { padding: 1 });
    y.sum().backward();
    const gx = x.grad!.toArray() as Float32Array;
    assertSame(y.toArray() as Float32Array, plain(x.detach(), wt), "frozen forward");
    // The same gradient through the plain forward.
    const x2 = x.detach().requiresGrad_();
    F.conv2d(x2, wt.detach().requiresGrad_(), null, { padding: 1 }).sum().backward();
    assertSame(gx, x2.grad!.toArray() as Float32Array, "input gradient");
  },
});

Deno.test({
  name: "prepared weights: bad buffers are refused or ignored, never read past",
  ignore,
  fn() {
    for (const r of [3, 1]) badBuffers(r); // Winograd's planes, packed GEMM weights
  },
});

/** Short, NULL and garbage buffers for an r x r convolution. */
function badBuffers(r: number): void {
  manualSeed(4);
  const [n, c, k, h, w] = [1, 32, 32, 32, 32], pad = (r - 1) / 2;
  const x = randn([n, c, h, w]), wt = randn([k, c, r, r]);
  const y = randn([n, k, h, w]);
  const params = new Int32Array([n, c, h, w, k, r, r, 1, 1, pad, pad, 1, 1, 1]);
  const out = new BigInt64Array(1);
  assert.equal(lib.lits_conv2d_prepared_bytes!(params, Deno.UnsafePointer.of(out)), 0);
  if (r === 1 && !AVX512) return assert.equal(out[0], 0n, "nothing to prepare without AVX-512");
  assert.ok(out[0] > 64n, `prepared bytes ${out[0]}`);
  const call = (buf: Deno.PointerValue, bytes: bigint) =>
    lib.lits_conv2d_forward_prepared_f32!(
      params,
      x.ptr,
      null,
      0,
      wt.ptr,
      null,
      y.ptr,
      buf,
      bytes,
    );
  const short = new Uint8Array(Number(out[0]) - 4);
  assert.equal(call(Deno.UnsafePointer.of(short), BigInt(short.byteLength)), 0); // plain forward
  assert.ok(short.every((b) => b === 0), "a short buffer is not written");
  assertSame(y.toArray() as Float32Array, plain(x, wt, { padding: pad }), "forward");
  assert.equal(call(null, 100n), 1); // NULL with bytes: LITS_ERR_ARGUMENT
  const buf = new Uint8Array(Number(out[0]));
  assert.equal(call(Deno.UnsafePointer.of(buf), -1n), 1);
  assert.equal(call(null, 0n), 0); // no buffer: the plain forward
  // Garbage in the buffer is remade, not trusted.
  buf.fill(0xff);
  assert.equal(call(Deno.UnsafePointer.of(buf), BigInt(buf.byteLength)), 0);
  assertSame(y.toArray() as Float32Array, plain(x, wt, { padding: pad }), "forward");
}
