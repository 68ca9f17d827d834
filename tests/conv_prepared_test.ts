/**
 * Prepared convolution weights (native/cpu/conv_prepared.c,
 * src/tensor/ops/conv_prepared.ts): a forward under noGrad keeps Winograd's
 * transformed planes between calls. These check that it gives the very
 * floats of the plain forward, and that every way of changing the weights
 * (an optimizer step, loadStateDict, a write by hand, a flipped bit) is seen.
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
import { withEnv } from "./helpers.ts";

const lib = cpuLib();
const ignore = lib.lits_conv2d_forward_prepared_f32 === null;

/**
 * The plain forward (nothing prepared): the weights' gradient recorded, on a
 * copy of them, so that the buffer of `w`'s own storage is left alone.
 */
function plain(x: Tensor, w: Tensor): Float32Array {
  const copy = tensor(w.toArray() as Float32Array).reshape([...w.shape]).requiresGrad_();
  return F.conv2d(x, copy, null, { padding: 1 }).toArray() as Float32Array;
}

/** Exact equality without node:assert's diff (slow on large arrays). */
function assertSame(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, want ${want[i]}`);
}

function prepared(x: Tensor, w: Tensor): Float32Array {
  return noGrad(() => F.conv2d(x, w, null, { padding: 1 }).toArray() as Float32Array);
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

Deno.test({
  name: "prepared weights: an optimizer step, loadStateDict and a write by hand are all seen",
  ignore,
  fn() {
    manualSeed(2);
    const conv = new nn.Conv2d(64, 64, 3, { padding: 1, bias: false });
    const x = randn([2, 64, 32, 32]);
    const eval_ = () => noGrad(() => conv.forward(x).toArray() as Float32Array);
    /** The weights were changed to `changed` in place: prepared and plain agree, and differ from `old`. */
    const seen = (old: Float32Array, what: string) => {
      const want = plain(x, conv.weight);
      assert.ok(want.some((v, i) => v !== old[i]), `${what}: the change shows in the output`);
      assertSame(eval_(), want, what);
      return want;
    };
    let out = eval_();
    // An optimizer step writes the weights in native code (the gradient
    // comes from a copy: a forward that records it would let the buffer go).
    const copy = tensor(conv.weight.toArray() as Float32Array).reshape([...conv.weight.shape]);
    F.conv2d(x, copy.requiresGrad_(), null, { padding: 1 }).sum().backward();
    conv.weight.grad = copy.grad;
    new optim.SGD(conv.parameters(), { lr: 0.5 }).step();
    out = seen(out, "after an optimizer step");
    // loadStateDict copies into the same storage.
    conv.loadStateDict(new nn.Conv2d(64, 64, 3, { padding: 1, bias: false }).stateDict());
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
  },
});

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
    manualSeed(4);
    const [n, c, k, h, w] = [1, 32, 32, 32, 32];
    const x = randn([n, c, h, w]), wt = randn([k, c, 3, 3]);
    const y = randn([n, k, h, w]);
    const params = new Int32Array([n, c, h, w, k, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    const out = new BigInt64Array(1);
    assert.equal(lib.lits_conv2d_prepared_bytes!(params, Deno.UnsafePointer.of(out)), 0);
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
    assertSame(y.toArray() as Float32Array, plain(x, wt), "forward");
    assert.equal(call(null, 100n), 1); // NULL with bytes: LITS_ERR_ARGUMENT
    const buf = new Uint8Array(Number(out[0]));
    assert.equal(call(Deno.UnsafePointer.of(buf), -1n), 1);
    assert.equal(call(null, 0n), 0); // no buffer: the plain forward
    // Garbage in the buffer is remade, not trusted.
    buf.fill(0xff);
    assert.equal(call(Deno.UnsafePointer.of(buf), BigInt(buf.byteLength)), 0);
    assertSame(y.toArray() as Float32Array, plain(x, wt), "forward");
  },
});
