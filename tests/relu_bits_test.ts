/**
 * A ReLU output written in the forward keeps its mask as bits
 * (`lits_fused_relu_mask_f32`), and its backward reads those instead of the
 * output (`lits_relu_bits_backward_f32`): the same values as the masks taken
 * from the output (`lits_relu_mask_backward_f32`), bit for bit, and the same
 * gradients as the plain path.
 */
import assert from "node:assert/strict";
import { functional as F, manualSeed, memoryStats, randn, type Tensor, tensor } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";
import { assertBits, countCalls, fusedAndPlain, twoBlocks } from "./helpers.ts";

const lib = cpuLib();

/** n values with NaN, +-0, negatives and positives among them. */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s >>> 8;
    out[i] = u % 97 === 0 ? NaN : u % 89 === 0 ? -0 : u % 83 === 0 ? 0 : (u / 2 ** 24 * 2 - 1) * 3;
  }
  return out;
}

/** Planes of 63 (not a whole word), 70001 (pieces of 32768) and 65535 values (8.9 MB: streamed). */
const SHAPES: [number, number, number][] = [[2, 3, 63], [1, 2, 70001], [2, 17, 65535], [3, 1, 5]];

/** A coef array (mean, scale, shift) of c channels. */
function coefOf(c: number): Float32Array {
  return Float32Array.from({ length: 3 * c }, (_, i) => (i % c) * 0.1 - 0.2 + (i >= c ? 0.5 : 0));
}

/** The bits the kernel documents: plane p's element j at word p * ceil(hw / 16) + j / 16. */
function wantBits(y: Float32Array, planes: number, hw: number): Uint16Array {
  const words = Math.ceil(hw / 16), bits = new Uint16Array(planes * words);
  for (let p = 0; p < planes; p++) {
    for (let j = 0; j < hw; j++) {
      if (!(y[p * hw + j] <= 0)) bits[p * words + (j >> 4)] |= 1 << (j & 15);
    }
  }
  return bits;
}

Deno.test("relu bits: the forward writes lits_fused_affine_f32's values and the mask of each", () => {
  for (const [n, c, hw] of SHAPES) {
    const size = n * c * hw, planes = n * c;
    const x = tensor(values(size, 1), [size]), r = tensor(values(size, 2), [size]);
    const coef = tensor(coefOf(c), [3 * c]);
    for (const [xc, withR] of [[null, false], [coef, false], [coef, true], [null, true]] as const) {
      const rp = withR ? r.ptr : null, rc = withR ? coef.ptr : null;
      const want = tensor(new Float32Array(size), [size]),
        got = tensor(new Float32Array(size), [size]);
      const mask = tensor(new Int32Array(Math.ceil(planes * Math.ceil(hw / 16) / 2)), [
        Math.ceil(planes * Math.ceil(hw / 16) / 2),
      ]);
      const what = `[${n}, ${c}, ${hw}] coef ${xc !== null} r ${withR}`;
      assert.equal(
        lib.lits_fused_affine_f32!(x.ptr, xc?.ptr ?? null, rp, rc, want.ptr, n, c, hw, 1),
        0,
      );
      assert.equal(
        lib.lits_fused_relu_mask_f32!(x.ptr, xc?.ptr ?? null, rp, rc, got.ptr, mask.ptr, n, c, hw),
        0,
        what,
      );
      const y = want.toArray() as Float32Array;
      assertBits(got.toArray() as Float32Array, y, what);
      const bits = new Uint16Array(
        (mask.toArray() as Int32Array).buffer,
        0,
        planes * Math.ceil(hw / 16),
      );
      assert.deepEqual(bits, wantBits(y, planes, hw), `${what}: mask`);
    }
  }
});

Deno.test("relu bits: the backward gives lits_relu_mask_backward_f32's dx and channel sums", () => {
  for (const [n, c, hw] of SHAPES) {
    const size = n * c * hw, planes = n * c, words = Math.ceil(hw / 16);
    const x = tensor(values(size, 3), [size]), y = tensor(new Float32Array(size), [size]);
    const coef = tensor(coefOf(c), [3 * c]);
    const mask = tensor(new Int32Array(Math.ceil(planes * words / 2)), [
      Math.ceil(planes * words / 2),
    ]);
    assert.equal(
      lib.lits_fused_relu_mask_f32!(x.ptr, coef.ptr, null, null, y.ptr, mask.ptr, n, c, hw),
      0,
    );
    const dy = tensor(values(size, 4), [size]), dy2 = tensor(values(size, 5), [size]);
    for (const two of [false, true]) {
      for (const summed of [false, true]) {
        const what = `[${n}, ${c}, ${hw}] dy2 ${two} sums ${summed}`;
        const want = tensor(new Float32Array(size), [size]),
          got = tensor(new Float32Array(size), [size]);
        const ws = tensor(new Float32Array(c), [c]), gs = tensor(new Float32Array(c).fill(7), [c]);
        const g2 = two ? dy2.ptr : null;
        assert.equal(
          lib.lits_relu_mask_backward_f32!(
            dy.ptr,
            g2,
            y.ptr,
            null,
            null,
            null,
            want.ptr,
            n,
            c,
            hw,
            summed ? ws.ptr : null,
          ),
          0,
        );
        assert.equal(
          lib.lits_relu_bits_backward_f32!(
            dy.ptr,
            g2,
            mask.ptr,
            got.ptr,
            n,
            c,
            hw,
            summed ? gs.ptr : null,
          ),
          0,
          what,
        );
        assertBits(got.toArray() as Float32Array, want.toArray() as Float32Array, what);
        if (summed) {
          assertBits(gs.toArray() as Float32Array, ws.toArray() as Float32Array, `${what}: sums`);
        }
      }
    }
  }
});

Deno.test("relu bits: bad calls are refused with a message, an empty one sums to zeros", () => {
  const t = tensor(new Float32Array(32), [32]), m = tensor(new Int32Array(2), [2]);
  const refused = (status: number, text: string) => {
    assert.notEqual(status, 0);
    assert.match(lastError(lib), new RegExp(text));
  };
  refused(lib.lits_fused_relu_mask_f32!(t.ptr, null, null, null, t.ptr, null, 1, 2, 16), "mask");
  refused(lib.lits_fused_relu_mask_f32!(t.ptr, null, null, null, t.ptr, m.ptr, -1, 2, 16), "n=");
  refused(lib.lits_relu_bits_backward_f32!(t.ptr, null, null, t.ptr, 1, 2, 16, null), "mask");
  refused(lib.lits_relu_bits_backward_f32!(null, null, m.ptr, t.ptr, 1, 2, 16, null), "dy");
  const sums = tensor(new Float32Array(2).fill(5), [2]);
  assert.equal(lib.lits_relu_bits_backward_f32!(t.ptr, null, m.ptr, t.ptr, 0, 2, 16, sums.ptr), 0);
  assert.deepEqual(Array.from(sums.toArray()), [0, 0]);
});

/**
 * fn's values with fusion on and off (the plain path), and how often the
 * CPU library's functions `a` and `b` ran in both.
 */
function fusedAndPlainCounting(
  a: string,
  b: string,
  fn: () => Tensor[],
): [Float32Array[], Float32Array[], number, number] {
  const [[[fused, plain], bCalls], aCalls] = countCalls(
    [a],
    () => countCalls([b], () => fusedAndPlain(fn)),
  );
  return [fused, plain, aCalls, bCalls];
}

Deno.test("relu bits: residual blocks' gradients are the plain path's, and the bits are freed", () => {
  const before = memoryStats().bytesInUse;
  const [fused, plain, writes, reads] = fusedAndPlainCounting(
    "lits_fused_relu_mask_f32",
    "lits_relu_bits_backward_f32",
    twoBlocks,
  );
  assert.equal(writes, 2, "both ReLU outputs written with their bits");
  assert.equal(reads, 2, "both backwards read the bits");
  assert.equal(memoryStats().bytesInUse, before, "the bits were freed with their outputs");
  fused.forEach((v, i) => assertBits(v, plain[i], `#${i}`));
});

/** relu(conv(x) + bias) written by a product: the values and every gradient. */
function convRelu(): Tensor[] {
  manualSeed(6);
  const x = randn([2, 3, 6, 5], { requiresGrad: true });
  const w = randn([4, 3, 3, 3], { requiresGrad: true }), b = randn([4], { requiresGrad: true });
  const out = F.relu(F.conv2d(x, w, b, { padding: 1 }));
  out.mul(out.add(1)).sum().backward();
  return [out, x.grad!, w.grad!, b.grad!];
}

Deno.test("relu bits: a convolution's bias gradient is summed as its ReLU's bits are applied", () => {
  const [fused, plain, reads, passes] = fusedAndPlainCounting(
    "lits_relu_bits_backward_f32",
    "lits_conv2d_backward_bias_f32",
    convRelu,
  );
  assert.equal(reads, 1);
  // The plain path sums the bias gradient in a pass of its own, the fused one with the mask.
  assert.equal(passes, 1, "one pass for the bias gradient: the plain path's");
  fused.forEach((v, i) => assertBits(v, plain[i], `#${i}`));
});
