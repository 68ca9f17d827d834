/**
 * The batch norm backward kernels (`lits_batchnorm2d_backward_f32` and its
 * ReLU-masked twin, native/cpu/batchnorm.c), whose blocks of channels are
 * software-pipelined (the sums of one block beside the dx of the one
 * before): dx, dgamma and dbeta against float64 for shapes with one block,
 * many, a last block of fewer channels, one channel and one image, and the
 * same bits for 1, 2 and 3 threads.
 */
import assert from "node:assert/strict";
import { manualSeed, rand, randn, scope, zeros } from "../mod.ts";
import { cpuLib, lastError } from "../src/ffi/native.ts";

const lib = cpuLib();

/** [n, c, hw]: blocks of 1 (64 planes of 64^2), of 4 with a last of 1, of 33 with a last of 31, ... */
const SHAPES: [number, number, number][] = [
  [16, 64, 4096],
  [4, 301, 1000],
  [2, 130, 64],
  [1, 5, 7],
  [3, 1, 50],
];

interface Out {
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
}

function run(
  [n, c, hw]: [number, number, number],
  masked: boolean,
): Out & { inputs: Float32Array[] } {
  return scope(() => {
    manualSeed(n * 1000 + c);
    const x = randn([n, c, hw]), dy = randn([n, c, hw]), gamma = randn([c]);
    const mean = randn([c]).mul(0.1), invstd = rand([c]).add(0.5);
    const coef = randn([3 * c]); // the ReLU's mask: (x - mean') * scale' + shift' > 0
    const dx = zeros([n, c, hw]), dgamma = zeros([c]), dbeta = zeros([c]);
    const tail = [
      gamma.ptr,
      mean.ptr,
      invstd.ptr,
      dx.ptr,
      dgamma.ptr,
      dbeta.ptr,
      n,
      c,
      hw,
      1e-5,
    ] as const;
    const st = masked
      ? lib.lits_batchnorm2d_backward_relu_f32!(x.ptr, dy.ptr, coef.ptr, ...tail)
      : lib.lits_batchnorm2d_backward_f32(x.ptr, dy.ptr, ...tail);
    assert.equal(st, 0, lastError(lib));
    const arr = (t: { toArray(): unknown }) => t.toArray() as Float32Array;
    return {
      dx: arr(dx),
      dgamma: arr(dgamma),
      dbeta: arr(dbeta),
      inputs: [x, dy, gamma, mean, invstd, coef].map(arr),
    };
  });
}

/** dx, dgamma and dbeta in float64 (the mask decided in float32, as the kernel's). */
function reference([n, c, hw]: [number, number, number], masked: boolean, inputs: Float32Array[]) {
  const [x, dy, gamma, mean, invstd, coef] = inputs;
  const dx = new Float64Array(n * c * hw),
    dgamma = new Float64Array(c),
    dbeta = new Float64Array(c);
  const m = n * hw;
  for (let ch = 0; ch < c; ch++) {
    const at = (i: number, j: number) => (i * c + ch) * hw + j;
    const d = (i: number, j: number) => {
      if (!masked) return dy[at(i, j)];
      const v = Math.fround(Math.fround(x[at(i, j)] - coef[ch]) * coef[c + ch]) + coef[2 * c + ch];
      return v <= 0 ? 0 : dy[at(i, j)];
    };
    let s = 0, dot = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        s += d(i, j);
        dot += (x[at(i, j)] - mean[ch]) * d(i, j);
      }
    }
    dgamma[ch] = dot * invstd[ch];
    dbeta[ch] = s;
    const k = dot * invstd[ch] ** 2 / m;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        dx[at(i, j)] = (d(i, j) - s / m - (x[at(i, j)] - mean[ch]) * k) * invstd[ch] * gamma[ch];
      }
    }
  }
  return { dx, dgamma, dbeta };
}

function close(got: Float32Array, want: Float64Array, what: string): void {
  const scale = want.reduce((a, v) => Math.max(a, Math.abs(v)), 0) || 1;
  const i = got.findIndex((v, j) => !(Math.abs(v - want[j]) <= 1e-4 * scale));
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, want ${want[i]}`);
}

for (const shape of SHAPES) {
  for (const masked of [false, true]) {
    Deno.test(`batch norm backward${masked ? " + ReLU mask" : ""} [${shape}]: float64's values`, () => {
      const { dx, dgamma, dbeta, inputs } = run(shape, masked);
      const want = reference(shape, masked, inputs);
      close(dx, want.dx, "dx");
      close(dgamma, want.dgamma, "dgamma");
      close(dbeta, want.dbeta, "dbeta");
    });
  }
}

Deno.test("batch norm backward: the same bits with 1, 2 and 3 threads", () => {
  const before = new Int32Array(1);
  assert.equal(lib.lits_get_num_threads(before), 0);
  try {
    for (const shape of SHAPES) {
      for (const masked of [false, true]) {
        const [one, two, three] = [1, 2, 3].map((t) => {
          assert.equal(lib.lits_set_num_threads(t), 0);
          return run(shape, masked);
        });
        for (const [other, t] of [[two, 2], [three, 3]] as const) {
          for (const key of ["dx", "dgamma", "dbeta"] as const) {
            const i = other[key].findIndex((v, j) => !Object.is(v, one[key][j]));
            assert.equal(
              i,
              -1,
              `[${shape}]${masked ? " masked" : ""} ${key}: 1 and ${t} threads at ${i}`,
            );
          }
        }
      }
    }
  } finally {
    lib.lits_set_num_threads(before[0]);
  }
});
