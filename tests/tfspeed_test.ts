// GELU (exact and tanh) and layer norm on their CPU kernels (native/cpu/gelu.c,
// layer_norm.c) against PyTorch 1.13 and float64 references
// (scripts/make_tfspeed_fixtures.py -> fixtures/tfspeed.json).
import assert from "node:assert/strict";
import { autocast, functional as F, noGrad, type Tensor, tensor } from "../mod.ts";
import {
  assertBits,
  assertStored,
  fromStored,
  loadFixture,
  type Stored,
  type StoredNumber,
  storedNumber,
  type StoredRecord,
  withoutSymbols,
  withThreads,
} from "./helpers.ts";

interface GeluCase {
  x: StoredRecord;
  y: StoredRecord;
  G: Stored;
  dx: StoredRecord;
  y64: StoredNumber[];
  d64: StoredNumber[];
}
interface LayerNormCase {
  name: string;
  normalizedShape: number[];
  eps: number;
  x: Stored;
  source?: Stored;
  y: StoredRecord;
  G: Stored;
  dx: StoredRecord;
  weight?: Stored;
  dweight?: StoredRecord;
  bias?: Stored;
  dbias?: StoredRecord;
}
const fixture = loadFixture<
  { gelu: Record<"none" | "tanh", GeluCase>; layerNorm: LayerNormCase[] }
>(
  "tfspeed.json",
);

/** The float32 spacing at |v| (denormals: 2^-149). */
function ulp(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

for (const approximate of ["none", "tanh"] as const) {
  const c = fixture.gelu[approximate];
  const run = () => {
    const x = fromStored(c.x, { requiresGrad: true });
    const y = F.gelu(x, { approximate });
    y.mul(fromStored(c.G)).sum().backward();
    return { x, y };
  };

  Deno.test(`F.gelu ${approximate}: torch's values, gradients and edges (inf, NaN)`, () => {
    const { x, y } = run();
    // torch's erf is 1.5e-7 off (absolute): atol 1e-6 covers it; NaN and inf exactly where torch has them.
    assertStored(y, c.y, `gelu ${approximate}`, 1e-5, 1e-6);
    assertStored(x.grad, c.dx, `gelu ${approximate} grad`, 1e-5, 1e-6);
  });

  Deno.test(`F.gelu ${approximate}: within 3 ulp of float64 on every edge, incl. the far tails`, () => {
    const { x, y } = run();
    const got = y.toArray(),
      xs = x.toArray(),
      dx = x.grad!.toArray(),
      g = fromStored(c.G).toArray();
    c.y64.forEach((s, i) => {
      const want = storedNumber(s);
      if (!Number.isFinite(want) || !Number.isFinite(Math.fround(want))) return;
      const err = Math.abs(got[i] - want) / ulp(want);
      assert.ok(err <= 3, `gelu ${approximate}(${xs[i]}) = ${got[i]}, float64 ${want}: ${err} ulp`);
    });
    // Gradients: near their root (x = -0.75) two terms of ~0.3 cancel; 4 ulp of max(|g'|, 1/4).
    c.d64.forEach((s, i) => {
      const want = storedNumber(s) * g[i];
      if (!Number.isFinite(want) || Math.abs(xs[i]) > 1e19) return;
      const err = Math.abs(dx[i] - want) / ulp(Math.max(Math.abs(want), Math.abs(g[i]) / 4));
      assert.ok(err <= 4, `gelu ${approximate}'(${xs[i]}) * G = ${dx[i]}, float64 ${want}: ${err}`);
    });
  });
}

Deno.test("F.gelu: the odd lengths of the vector loop's tail and its threads agree", () => {
  for (const n of [1, 15, 16, 17, 33, 40000]) {
    const values = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 8);
    const whole = F.gelu(tensor(values)).toArray() as Float32Array;
    const each = values.map((v) => F.gelu(tensor([v])).item());
    assertBits(whole, Float32Array.from(each), `gelu n=${n}`);
  }
});

function layerNormRun(c: LayerNormCase) {
  const x = c.source
    ? fromStored(c.source, { requiresGrad: true })
    : fromStored(c.x, { requiresGrad: true });
  const input = c.source ? x.t() : x;
  assert.equal(input.isContiguous, !c.source);
  const w = c.weight ? fromStored(c.weight, { requiresGrad: true }) : null;
  const b = c.bias ? fromStored(c.bias, { requiresGrad: true }) : null;
  const y = F.layerNorm(input, c.normalizedShape, w, b, c.eps);
  y.mul(fromStored(c.G)).sum().backward();
  const dx = c.source ? x.grad!.t().contiguous() : x.grad;
  return { y, dx, dw: w?.grad ?? null, db: b?.grad ?? null };
}

function checkLayerNorm(c: LayerNormCase, r: ReturnType<typeof layerNormRun>, where: string) {
  const rtol = 1e-5, atol = c.name.includes("mean 1000") ? 1e-3 : 2e-5;
  assertStored(r.y, c.y, `${where} ${c.name} y`, rtol, atol);
  assertStored(r.dx, c.dx, `${where} ${c.name} dx`, rtol, atol);
  if (c.dweight) assertStored(r.dw, c.dweight, `${where} ${c.name} dweight`, rtol, atol);
  if (c.dbias) assertStored(r.db, c.dbias, `${where} ${c.name} dbias`, rtol, atol);
}

for (const c of fixture.layerNorm) {
  Deno.test(`F.layerNorm ${c.name}: torch's output and gradients (native and composed)`, () => {
    checkLayerNorm(c, layerNormRun(c), "native");
    const composed = withoutSymbols(
      ["lits_layer_norm_f32", "lits_layer_norm_backward_f32"],
      () => layerNormRun(c),
    );
    checkLayerNorm(c, composed, "composed");
  });
}

Deno.test("F.layerNorm: under bf16 autocast it stays fp32, as torch's CPU autocast", () => {
  const c = fixture.layerNorm[0];
  const x = fromStored(c.x), w = fromStored(c.weight!), b = fromStored(c.bias!);
  const plain = F.layerNorm(x, c.normalizedShape, w, b, c.eps).toArray() as Float32Array;
  const cast = autocast("bfloat16", () => F.layerNorm(x, c.normalizedShape, w, b, c.eps));
  assertBits(cast.toArray() as Float32Array, plain, "layerNorm under autocast");
});

Deno.test("F.layerNorm: weight and bias gradients are the same bits on 1 and 2 threads", () => {
  const values = Float32Array.from({ length: 130 * 24 }, (_, i) => Math.cos(i * 1.3) * 3);
  const grads = (threads: number) =>
    withThreads(threads, () => {
      const x = tensor(values, [130, 24], { requiresGrad: true });
      const w = tensor(new Float32Array(24).fill(1.5), [24], { requiresGrad: true });
      const b = tensor(new Float32Array(24), [24], { requiresGrad: true });
      F.layerNorm(x, [24], w, b).mul(x).sum().backward();
      return [x.grad!, w.grad!, b.grad!].map((t: Tensor) => t.toArray() as Float32Array);
    });
  const [one, two] = [grads(1), grads(2)];
  one.forEach((g, i) => assertBits(two[i], g, `gradient ${i}`));
});

Deno.test("F.layerNorm: without gradients it keeps no statistics and records nothing", () => {
  const x = tensor([[1, 2, 3], [2, 4, 8]], undefined, { requiresGrad: true });
  const y = noGrad(() => F.layerNorm(x, [3]));
  assert.equal(y.requiresGrad, false);
  assert.deepEqual(
    Array.from(y.toArray(), (v) => v.toFixed(4)),
    ["-1.2247", "0.0000", "1.2247", "-1.0690", "-0.2673", "1.3363"],
  );
});

Deno.test("gelu.c: every 997th float32 against float64, vectorised and portable loops", async () => {
  const { CFLAGS } = await import("../src/ffi/build.ts");
  const dir = await Deno.makeTempDir({ prefix: "lits-gelu-" });
  try {
    const native = new URL("../native/", import.meta.url).pathname;
    const out = `${dir}/gelu_check`;
    const flags = CFLAGS.filter((f) => !["-shared", "-fPIC"].includes(f));
    const args = [...flags, `-I${native}include`, `-I${native}cpu`, `${native}cpu/gelu.c`];
    const cc = new Deno.Command("gcc", {
      args: [...args, new URL("./gelu_check.c", import.meta.url).pathname, "-lm", "-o", out],
      stderr: "piped",
    }).outputSync();
    assert.ok(cc.success, new TextDecoder().decode(cc.stderr));
    for (const scalar of ["0", "1"]) {
      const run = new Deno.Command(out, {
        env: { LITS_GELU_SCALAR: scalar, OMP_NUM_THREADS: "1" },
        stdout: "piped",
      }).outputSync();
      assert.ok(run.success);
      const r = JSON.parse(new TextDecoder().decode(run.stdout));
      const limits = { gelu: 2.5, geluGrad: 2, geluTanh: 3, geluTanhGrad: 3 };
      for (const [fn, limit] of Object.entries(limits)) {
        const what = `${fn} (LITS_GELU_SCALAR=${scalar}): ${JSON.stringify(r[fn])}`;
        assert.ok(r[fn].maxUlp <= limit, what);
        assert.equal(r[fn].badEdges, 0, what);
        assert.equal(r[fn].denormalOver16, 0, what);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
