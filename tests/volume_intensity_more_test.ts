/**
 * MONAI 1.3's further intensity transforms of volumes
 * (data.transforms.volume: ScaleIntensity, ScaleIntensityRangePercentiles,
 * ThresholdIntensity, ShiftIntensity, AdjustContrast, GaussianSmooth,
 * GaussianSharpen and the random RandAdjustContrast, RandGaussianSmooth,
 * RandGaussianSharpen, RandHistogramShift, RandBiasField) against MONAI's
 * formulas run in PyTorch 1.13 (tests/fixtures/volume_intensity_more.json,
 * written by scripts/make_volume_intensity_more_fixtures.py). The random
 * cases there drew from a Python port of data.Rng in MONAI's order, so a
 * seed here gives MONAI's output at the same draws. Then: the random ones
 * equal the deterministic transform at the parameters drawn from the same
 * Rng, p, defaults, the spec round trip, and every bad argument.
 *
 * The volumes are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { data, type Tensor, tensor } from "../mod.ts";
import { loadFixture, storedNumber, type StoredRecord, testDevice } from "./helpers.ts";

const V = data.transforms.volume;
type VT = data.transforms.volume.VolumeTransform;

interface Case {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  x: string;
  out: StoredRecord;
  seed?: number;
}

const fx = loadFixture<{
  torch: string;
  rng: { seed: number; uniform: number[]; int: number[] };
  inputs: Record<string, StoredRecord>;
  cases: Case[];
}>("volume_intensity_more.json");

/** A fixture input on the test device. */
function input(name: string): Tensor {
  const s = fx.inputs[name];
  return tensor(Float32Array.from(s.data, storedNumber), [...s.shape], { device: testDevice });
}

/** A volume on the test device. */
function vol(values: ArrayLike<number>, shape: number[]): Tensor {
  return tensor(Float32Array.from(values), shape, { device: testDevice });
}

/** `t` applied to `x` with `rng`, as plain numbers (the tensor disposed). */
function run(t: VT, x: Tensor, rng = new data.Rng(0)): number[] {
  using y = t.apply(x, rng);
  assert.equal(y.device, testDevice);
  assert.deepEqual(y.shape, x.shape);
  return [...y.toArray()];
}

/** Equal values, NaN where NaN. */
function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (!(g === w || (g !== g && w !== w))) {
      assert.fail(`${what}: [${i}] is ${g}, expected ${w}`);
    }
  }
}

/**
 * |got - want| <= rtol |want| + atol * max|want| (NaN where NaN): float32
 * kernels of torch (conv, erf, pow) differ from ours by an ulp or two of the
 * largest value, so the absolute part scales with the volume.
 */
function assertNear(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  { rtol = 1e-5, atol = 2e-6 } = {},
): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    if (want[i] === want[i]) scale = Math.max(scale, Math.abs(want[i]));
  }
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (w !== w) {
      assert.ok(g !== g, `${what}: [${i}] is ${g}, expected NaN`);
      continue;
    }
    const ok = Math.abs(g - w) <= rtol * Math.abs(w) + atol * scale;
    if (!ok) assert.fail(`${what}: [${i}] is ${g}, expected ${w} (scale ${scale})`);
  }
}

/** Float32 arithmetic we repeat step for step (or float64 rounded once): compared exactly. */
const EXACT = new Set([
  "ScaleIntensity",
  "ScaleIntensityRangePercentiles",
  "ThresholdIntensity",
  "ShiftIntensity",
  "RandHistogramShift",
]);

// deno-lint-ignore no-explicit-any
const ctor = (op: string) => (V as any)[op] as new (o: unknown) => VT;

function runCases(ops: string[]): void {
  const cases = fx.cases.filter((c) => ops.includes(c.op));
  assert.ok(cases.length >= 3, `${ops}: ${cases.length} cases`);
  for (const c of cases) {
    using x = input(c.x);
    const before = [...x.toArray()];
    const want = c.out.data.map(storedNumber).map(Math.fround);
    const t = new (ctor(c.op))(structuredClone(c.opts));
    const again = V.fromSpec(JSON.parse(JSON.stringify(t.spec)));
    for (const [tr, what] of [[t, c.name], [again, `${c.name} (from spec)`]] as const) {
      const y = run(tr, x, new data.Rng(c.seed ?? 0));
      if (EXACT.has(c.op)) assertSame(y, want, what);
      else if (c.op === "RandBiasField") assertNear(y, want, what, { rtol: 1e-6, atol: 0 });
      else assertNear(y, want, what);
    }
    assertSame([...x.toArray()], before, `${c.name}: input unchanged`);
  }
}

Deno.test(`volume intensity more: fixtures by PyTorch ${fx.torch}; the Rng port matches data.Rng`, () => {
  assert.ok(fx.torch.startsWith("1.13"));
  assert.ok(fx.cases.length >= 70);
  const r = new data.Rng(fx.rng.seed);
  assert.deepEqual(fx.rng.uniform.map(() => r.uniform()), fx.rng.uniform);
  assert.deepEqual(fx.rng.int.map(() => r.int(3, 11)), fx.rng.int);
});

Deno.test("volume ScaleIntensity: rescale_array (constant volume * minv), factor, per channel", () => {
  runCases(["ScaleIntensity"]);
});

Deno.test("volume ScaleIntensityRangePercentiles: torch.quantile, relative, clip, per channel", () => {
  runCases(["ScaleIntensityRangePercentiles"]);
});

Deno.test("volume ThresholdIntensity and ShiftIntensity: float32 compare and add", () => {
  runCases(["ThresholdIntensity", "ShiftIntensity"]);
});

Deno.test("volume AdjustContrast: gamma on the min-max range with 1e-7, invertImage, retainStats", () => {
  runCases(["AdjustContrast"]);
});

Deno.test("volume GaussianSmooth / GaussianSharpen: erf, sampled, scalespace kernels, zero padding", () => {
  runCases(["GaussianSmooth", "GaussianSharpen"]);
});

Deno.test("volume random intensity: MONAI's output at the draws of the same seed", () => {
  runCases(["RandAdjustContrast", "RandGaussianSmooth", "RandGaussianSharpen"]);
  runCases(["RandHistogramShift", "RandBiasField"]);
});

Deno.test("volume ScaleIntensityRangePercentiles: numpy's float64 percentile above 1e6 voxels", () => {
  // 500,001 zeros then 500,000 voxels of 2^20: the 50.00003rd percentile lies 0.3 of the
  // way up the step (numpy: float64 rank 500000.3; torch's float32 rank would be 500000.3125).
  const n = 1_000_001, big = 2 ** 20;
  const values = new Float32Array(n);
  values.fill(big, 500_001);
  using x = vol(values, [1, 1, 1, n]);
  const t = new V.ScaleIntensityRangePercentiles({ lower: 50.00003, upper: 100, bMin: 0, bMax: 1 });
  const y = run(t, x);
  const rank = (50.00003 / 100) * (n - 1), w = rank - Math.floor(rank);
  const aMin = Math.fround(0 + big * w), f = Math.fround;
  assert.equal(y[0], f(f(0 - aMin) / f(big - aMin)));
  assert.equal(y[n - 1], 1);
});

/** The Rng of a seed after `p`'s draw (none at p = 1), as `applyHost` leaves it. */
function drawn(seed: number, p: number): { rng: data.Rng; applied: boolean } {
  const rng = new data.Rng(seed);
  return { rng, applied: rng.bernoulli(p) };
}

Deno.test("volume random intensity: the deterministic transform at the parameters drawn", () => {
  using x = input("smooth");
  using xa = input("a");
  for (let s = 0; s < 6; s++) {
    // RandAdjustContrast: gamma uniform in the sorted pair; a number g means [0.5, g].
    const gammas: [number | [number, number], number, number][] = [
      [[1.9, 0.7], 0.7, 1.9],
      [2.5, 0.5, 2.5],
    ];
    for (const [gamma, lo, hi] of gammas) {
      const t = new V.RandAdjustContrast({ gamma, p: 0.6, retainStats: true });
      const { rng, applied } = drawn(s, 0.6);
      const want = applied
        ? run(new V.AdjustContrast({ gamma: rng.uniform(lo, hi), retainStats: true }), xa)
        : [...xa.toArray()];
      assertSame(
        run(t, xa, new data.Rng(s)),
        want,
        `RandAdjustContrast gamma ${gamma} seed ${s}`,
      );
    }
    // RandGaussianSmooth: sigma x (depth), y, z in turn.
    {
      const t = new V.RandGaussianSmooth({ p: 1, sigmaY: [1, 2], approx: "sampled" });
      const { rng } = drawn(s, 1);
      const sigma = [[0.25, 1.5], [1, 2], [0.25, 1.5]].map(([lo, hi]) => rng.uniform(lo, hi));
      const want = run(new V.GaussianSmooth({ sigma, approx: "sampled" }), x);
      assertSame(run(t, x, new data.Rng(s)), want, `RandGaussianSmooth seed ${s}`);
    }
    // RandGaussianSharpen: sigma1 x, y, z; sigma2 x, y, z (a number s: [s, sigma1]); alpha.
    {
      const t = new V.RandGaussianSharpen({ p: 1, sigma2Y: [0.2, 0.3], alpha: [1, 4] });
      const { rng } = drawn(s, 1);
      const sigma1 = [0, 1, 2].map(() => rng.uniform(0.5, 1));
      const sigma2 = [
        rng.uniform(0.5, sigma1[0]),
        rng.uniform(0.2, 0.3),
        rng.uniform(0.5, sigma1[2]),
      ];
      const alpha = rng.uniform(1, 4);
      const want = run(new V.GaussianSharpen({ sigma1, sigma2, alpha }), x);
      assertSame(run(t, x, new data.Rng(s)), want, `RandGaussianSharpen seed ${s}`);
    }
  }
});

Deno.test("volume random intensity: defaults are MONAI's", () => {
  using x = input("smooth");
  // Deterministic defaults.
  assertSame(
    run(new V.GaussianSmooth(), x),
    run(new V.GaussianSmooth({ sigma: 1, approx: "erf" }), x),
    "smooth",
  );
  assertSame(
    run(new V.GaussianSharpen(), x),
    run(new V.GaussianSharpen({ sigma1: 3, sigma2: 1, alpha: 30, approx: "erf" }), x),
    "sharpen",
  );
  assertSame(
    run(new V.ScaleIntensity(), x),
    run(new V.ScaleIntensity({ minv: 0, maxv: 1 }), x),
    "scale",
  );
  // Random defaults: p 0.1; the ranges through the draws.
  for (
    const t of [
      new V.RandAdjustContrast(),
      new V.RandGaussianSmooth(),
      new V.RandGaussianSharpen(),
      new V.RandHistogramShift(),
      new V.RandBiasField(),
    ]
  ) {
    assert.equal(t.p, 0.1, t.name);
  }
  const { rng } = drawn(3, 1);
  const sigma = [0, 1, 2].map(() => rng.uniform(0.25, 1.5));
  assertSame(
    run(new V.RandGaussianSmooth({ p: 1 }), x, new data.Rng(3)),
    run(new V.GaussianSmooth({ sigma }), x),
    "RandGaussianSmooth default ranges",
  );
  const r2 = new data.Rng(4);
  const s1 = [0, 1, 2].map(() => r2.uniform(0.5, 1));
  const s2 = s1.map((hi) => r2.uniform(0.5, hi));
  const alpha = r2.uniform(10, 30);
  assertSame(
    run(new V.RandGaussianSharpen({ p: 1 }), x, new data.Rng(4)),
    run(new V.GaussianSharpen({ sigma1: s1, sigma2: s2, alpha }), x),
    "RandGaussianSharpen default ranges",
  );
  const r3 = new data.Rng(5);
  assertSame(
    run(new V.RandAdjustContrast({ p: 1 }), x, new data.Rng(5)),
    run(new V.AdjustContrast({ gamma: r3.uniform(0.5, 4.5) }), x),
    "RandAdjustContrast default gamma",
  );
});

/** Where the slope of `y` (a map of an even ramp) changes. */
function bends(y: number[]): number[] {
  const at: number[] = [];
  for (let i = 1; i < y.length - 1; i++) {
    if (Math.abs((y[i + 1] - y[i]) - (y[i] - y[i - 1])) > 1e-4) at.push(i);
  }
  return at;
}

Deno.test("volume RandHistogramShift: monotone, ends kept, one piece per control point", () => {
  const n = 601; // 600 steps: the control points of 3..7 fall on voxels
  using x = vol(Array.from({ length: n }, (_, i) => i / 10 - 20), [1, 1, 1, n]);
  for (const points of [3, 4, 7]) {
    const t = new V.RandHistogramShift({ p: 1, numControlPoints: points });
    for (let s = 0; s < 10; s++) {
      const y = run(t, x, new data.Rng(s));
      assert.ok(
        Math.abs(y[0] + 20) < 1e-5 && Math.abs(y[n - 1] - 40) < 1e-5,
        `ends ${y[0]} ${y[n - 1]}`,
      );
      for (let i = 1; i < n; i++) assert.ok(y[i] >= y[i - 1] - 1e-5, `monotone at ${i}`);
      // The slope changes exactly at the inner control points.
      const seg = (n - 1) / (points - 1);
      assert.deepEqual(bends(y), Array.from({ length: points - 2 }, (_, k) => (k + 1) * seg));
    }
  }
  // A [lo, hi] pair (sorted) draws the count first: rng.int(lo, hi + 1).
  const t = new V.RandHistogramShift({ p: 1, numControlPoints: [6, 4] });
  const seen = new Set<number>();
  for (let s = 0; s < 40; s++) {
    const points = new data.Rng(s).int(4, 7);
    assert.equal(bends(run(t, x, new data.Rng(s))).length, points - 2, `seed ${s}`);
    seen.add(points);
  }
  assert.equal(seen.size, 3);
  // A constant volume is returned unchanged.
  using c = vol([3, 3, 3, 3], [1, 1, 2, 2]);
  assert.deepEqual(run(new V.RandHistogramShift({ p: 1 }), c), [3, 3, 3, 3]);
});

Deno.test("volume RandBiasField: exp of the Legendre field; coefficients in coeffRange", () => {
  using x = vol(new Float32Array(3 * 4 * 5).fill(2), [1, 3, 4, 5]);
  // Every coefficient c: degree 1 gives exp(c (1 + z + y + x)) on [-1, 1]^3.
  const c = 0.05;
  const y = run(new V.RandBiasField({ p: 1, degree: 1, coeffRange: [c, c] }), x);
  assert.ok(Math.abs(y[0] - 2 * Math.exp(-2 * c)) < 1e-6);
  assert.ok(Math.abs(y[59] - 2 * Math.exp(4 * c)) < 1e-6);
  // The height axis has 4 points (-1, -1/3, 1/3, 1).
  const i = (1 * 4 + 1) * 5 + 2; // coordinates z = 0, y = -1/3, x = 0
  assert.ok(Math.abs(y[i] - 2 * Math.exp(c * (1 - 1 / 3))) < 1e-6);
  // A zero range is the identity; |log(y / x)| <= (number of terms) * max |c|, as |P| <= 1.
  assert.deepEqual(run(new V.RandBiasField({ p: 1, coeffRange: [0, 0] }), x), [...x.toArray()]);
  const t = new V.RandBiasField({ p: 1, degree: 2, coeffRange: [-0.1, 0.1] });
  for (let s = 0; s < 20; s++) {
    for (const v of run(t, x, new data.Rng(s))) {
      assert.ok(Math.abs(Math.log(v / 2)) <= 10 * 0.1 + 1e-6);
    }
  }
});

Deno.test("volume intensity more: p = 0 never applies, p = 1 always; same Rng, same volume", () => {
  using x = input("a");
  const base = [...x.toArray()];
  const makers: ((p: number) => VT)[] = [
    (p) => new V.RandAdjustContrast({ p }),
    (p) => new V.RandGaussianSmooth({ p }),
    (p) => new V.RandGaussianSharpen({ p }),
    (p) => new V.RandHistogramShift({ p }),
    (p) => new V.RandBiasField({ p, coeffRange: [0.1, 0.2] }),
  ];
  for (const make of makers) {
    const never = make(0), always = make(1), half = make(0.5);
    const again = V.fromSpec(JSON.parse(JSON.stringify(half.spec)));
    const outs = new Set<string>();
    let applied = 0;
    for (let s = 0; s < 16; s++) {
      assert.deepEqual(run(never, x, new data.Rng(s)), base, `${never.name} p = 0`);
      assert.notDeepEqual(run(always, x, new data.Rng(s)), base, `${always.name} p = 1`);
      const a = run(half, x, new data.Rng(s));
      assert.deepEqual(run(half, x, new data.Rng(s)), a, `${half.name}: same stream`);
      assert.deepEqual(run(again, x, new data.Rng(s)), a, `${half.name}: rebuilt from spec`);
      if (JSON.stringify(a) !== JSON.stringify(base)) applied++;
      outs.add(JSON.stringify(a));
    }
    assert.ok(applied > 2 && applied < 14, `${half.name}: applied ${applied} of 16 at p = 0.5`);
    assert.ok(outs.size > 3, `${half.name}: ${outs.size} distinct outputs`);
  }
});

Deno.test("volume intensity more: specs round-trip and register under volume.fromSpec", () => {
  const names = V.transformNames();
  for (
    const n of [
      "ScaleIntensity",
      "ScaleIntensityRangePercentiles",
      "ThresholdIntensity",
      "ShiftIntensity",
      "AdjustContrast",
      "RandAdjustContrast",
      "GaussianSmooth",
      "RandGaussianSmooth",
      "GaussianSharpen",
      "RandGaussianSharpen",
      "RandHistogramShift",
      "RandBiasField",
    ]
  ) {
    assert.ok(names.includes(`volume.${n}`), n);
  }
  const t = new V.ScaleIntensityRangePercentiles({
    lower: 1,
    upper: 99,
    bMin: 0,
    bMax: 1,
    clip: true,
  });
  assert.deepEqual(t.spec, {
    name: "volume.ScaleIntensityRangePercentiles",
    lower: 1,
    upper: 99,
    bMin: 0,
    bMax: 1,
    clip: true,
  });
  assert.deepEqual(new V.ScaleIntensity({ minv: null, maxv: null, factor: 0.2 }).spec, {
    name: "volume.ScaleIntensity",
    minv: null,
    maxv: null,
    factor: 0.2,
  });
  assert.deepEqual(V.fromSpec({ name: "volume.GaussianSmooth", sigma: [1, 2, 3] }).spec, {
    name: "volume.GaussianSmooth",
    sigma: [1, 2, 3],
  });
});

Deno.test("volume intensity more: bad options are Errors naming the transform and what to write", () => {
  const bad: [() => unknown, RegExp][] = [
    [
      () => new V.ScaleIntensity({ minv: NaN }),
      /volume\.ScaleIntensity: minv must be a finite number, got NaN/,
    ],
    [
      () => new V.ScaleIntensity({ factor: 0.5 }),
      /factor scales only with minv: null and maxv: null/,
    ],
    [() => new V.ScaleIntensity({ channel_wise: true } as never), /write 'channelWise'/],
    [() => new V.ScaleIntensity({ dtype: "float32" } as never), /unknown parameter 'dtype'/],
    [() => new V.ScaleIntensity({ channelWise: 1 } as never), /channelWise must be true or false/],
    [() => new V.ScaleIntensity({ p: 0.5 } as never), /ScaleIntensity has no p/],
    [
      () => new (V.ScaleIntensity as never as new (a: unknown) => VT)(0),
      /expected an options object/,
    ],
    [
      () => new V.ScaleIntensityRangePercentiles({ lower: -1, upper: 99, bMin: 0, bMax: 1 }),
      /lower must be a finite number >= 0 <= 100, got -1/,
    ],
    [
      () => new V.ScaleIntensityRangePercentiles({ lower: 1, upper: 101, bMin: 0, bMax: 1 }),
      /upper must be a finite number >= 0 <= 100/,
    ],
    [
      () => new V.ScaleIntensityRangePercentiles({ lower: 1, upper: 99, bMin: 0 } as never),
      /bMin and bMax are required, as MONAI.s b_min and b_max/,
    ],
    [
      () =>
        new V.ScaleIntensityRangePercentiles({ lower: 1, upper: 99, b_min: 0, bMax: 1 } as never),
      /write 'bMin'/,
    ],
    [
      () => new V.ThresholdIntensity({} as never),
      /threshold must be a finite number, got undefined/,
    ],
    [() => new V.ThresholdIntensity({ threshold: 0, cval: NaN }), /cval must be a finite number/],
    [
      () => new V.ThresholdIntensity({ threshold: 0, above: "no" } as never),
      /above must be true or false/,
    ],
    [
      () => new V.ShiftIntensity({ offset: Infinity }),
      /offset must be a finite number, got Infinity/,
    ],
    [() => new V.ShiftIntensity({ offsets: 1 } as never), /unknown parameter 'offsets'/],
    [() => new V.AdjustContrast({ gamma: 0 }), /gamma must be a finite number > 0, got 0/],
    [() => new V.AdjustContrast({ gamma: 1, invert_image: true } as never), /write 'invertImage'/],
    [
      () => new V.RandAdjustContrast({ gamma: 0.4 }),
      /gamma must be a finite number > 0\.5, got 0\.4/,
    ],
    [() => new V.RandAdjustContrast({ gamma: [0, 1] }), /gamma must be a finite number > 0, got 0/],
    [
      () => new V.RandAdjustContrast({ gamma: [1, 2, 3] as never }),
      /gamma must be a \[lo, hi\] pair/,
    ],
    [() => new V.RandAdjustContrast({ prob: 0.5 } as never), /write 'p': MONAI's prob/],
    [() => new V.RandAdjustContrast({ p: 2 }), /p must be a probability in \[0, 1\], got 2/],
    [
      () => new V.GaussianSmooth({ sigma: 0, approx: "sampled" }),
      /a sigma of 0 needs approx "erf" or "scalespace"/,
    ],
    [
      () => new V.GaussianSmooth({ sigma: [1, -1, 1] }),
      /sigma must be a finite number >= 0, got -1/,
    ],
    [() => new V.GaussianSmooth({ sigma: [1, 2] }), /\[depth, height, width\] numbers >= 0/],
    [() => new V.GaussianSmooth({ sigma: NaN }), /got NaN/],
    [
      () => new V.GaussianSmooth({ approx: "ERF" } as never),
      /approx must be "erf", "sampled" or "scalespace".*write "erf"/,
    ],
    [() => new V.GaussianSmooth({ approx: "gauss" } as never), /approx must be "erf"/],
    [() => new V.GaussianSmooth({ truncated: 3 } as never), /unknown parameter 'truncated'/],
    [
      () => new V.RandGaussianSmooth({ sigmaX: 1 } as never),
      /sigmaX must be a \[lo, hi\] pair.*write \[s, s\]/,
    ],
    [
      () => new V.RandGaussianSmooth({ sigmaY: [2, 1, 0] as never }),
      /sigmaY must be an \[a, b\] pair, got \[2,1,0\]/,
    ],
    [
      () => new V.RandGaussianSmooth({ sigmaZ: [-1, 1] }),
      /sigmaZ must be a finite number >= 0, got -1/,
    ],
    [
      () => new V.RandGaussianSmooth({ sigmaZ: [0, 1], approx: "sampled" }),
      /a sigma of 0 needs approx/,
    ],
    [() => new V.RandGaussianSmooth({ sigma_x: [1, 2] } as never), /write 'sigmaX'/],
    [() => new V.GaussianSharpen({ sigma1: -3 }), /sigma1 must be a finite number >= 0/],
    [() => new V.GaussianSharpen({ alpha: NaN }), /alpha must be a finite number, got NaN/],
    [
      () => new V.RandGaussianSharpen({ alpha: 20 } as never),
      /alpha must be a \[lo, hi\] pair.*\[a, a\]/,
    ],
    [() => new V.RandGaussianSharpen({ sigma2X: -1 }), /sigma2X must be a finite number >= 0/],
    [() => new V.RandGaussianSharpen({ sigma1_x: [1, 2] } as never), /write 'sigma1X'/],
    [
      () => new V.RandHistogramShift({ numControlPoints: 2 }),
      /numControlPoints must be an integer >= 3, got 2/,
    ],
    [
      () => new V.RandHistogramShift({ numControlPoints: 4.5 }),
      /must be an integer >= 3, got 4\.5/,
    ],
    [
      () => new V.RandHistogramShift({ numControlPoints: [3] as never }),
      /integer >= 3 or a \[lo, hi\] pair/,
    ],
    [
      () => new V.RandHistogramShift({ num_control_points: 5 } as never),
      /write 'numControlPoints'/,
    ],
    [() => new V.RandBiasField({ degree: 0 }), /degree must be an integer >= 1, got 0/],
    [() => new V.RandBiasField({ coeffRange: [0.1, NaN] }), /coeffRange must be a finite number/],
    [
      () => new V.RandBiasField({ coeffRange: 0.1 } as never),
      /coeffRange must be an \[a, b\] pair/,
    ],
    [() => new V.RandBiasField({ coeff_range: [0, 1] } as never), /write 'coeffRange'/],
    [
      () => V.fromSpec({ name: "volume.GaussianSmooth", sigma: "1" }),
      /sigma must be a finite number >= 0/,
    ],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
  // Inputs: a volume transform takes a [C, D, H, W] float32 tensor.
  using flat = tensor(new Float32Array(8), [2, 2, 2], { device: testDevice });
  assert.throws(() => new V.GaussianSmooth().apply(flat), /no channel: write x\.unsqueeze\(0\)/);
});

Deno.test("GaussianSmooth: a sigma of 0 leaves that axis as it is (MONAI's in-plane smoothing)", () => {
  const data = Float32Array.from({ length: 4 * 5 * 6 }, (_, i) => Math.sin(i * 0.7) * 10);
  using x = tensor(data, [1, 4, 5, 6], { device: testDevice });
  for (const approx of ["erf", "scalespace"] as const) {
    using none = new V.GaussianSmooth({ sigma: 0, approx }).apply(x);
    assert.deepEqual([...none.toArray()], [...x.toArray()], approx);
    // Smoothing H and W only equals smoothing each D slice alone.
    using inPlane = new V.GaussianSmooth({ sigma: [0, 1, 1], approx }).apply(x);
    const got = inPlane.toArray();
    for (let d = 0; d < 4; d++) {
      using slice = tensor(data.slice(d * 30, (d + 1) * 30), [1, 1, 5, 6], { device: testDevice });
      using alone = new V.GaussianSmooth({ sigma: [0, 1, 1], approx }).apply(slice);
      const want = alone.toArray();
      for (let i = 0; i < 30; i++) assert.ok(Math.abs(got[d * 30 + i] - want[i]) < 1e-5);
    }
    // ... and differs from smoothing all three axes.
    using all = new V.GaussianSmooth({ sigma: 1, approx }).apply(x);
    assert.ok(all.toArray().some((v, i) => Math.abs(v - got[i]) > 1e-3));
  }
});

Deno.test("RandBiasField: an axis of one voxel gets the field at -1, not NaN", () => {
  using x = tensor(new Float32Array(6).fill(1), [1, 1, 2, 3], { device: testDevice });
  using y = new V.RandBiasField({ p: 1 }).apply(x, new data.Rng(0));
  const v = y.toArray();
  assert.ok(v.every((f) => Number.isFinite(f) && f > 0), `${[...v]}`);
  assert.ok(new Set(v).size > 1); // a field, not a constant
});
