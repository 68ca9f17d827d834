/**
 * torchvision's automatic augmentations (AutoAugment, RandAugment,
 * TrivialAugmentWide, AugMix) and the colour ops they add (adjustSharpness,
 * autocontrast, equalize and their Random* transforms) against torchvision
 * 0.14 (tests/fixtures/autoaugment.json from
 * scripts/make_autoaugment_fixtures.py): each op given its parameters, the
 * magnitude tables and policies, whole forward() calls replayed from the
 * ops torchvision drew; then the distribution of what the classes draw
 * from the library's Rng, seeds, specs, value ranges and bad inputs.
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import {
  augMixSpace,
  autoAugmentSpace,
  POLICIES,
  randAugmentSpace,
  type SpaceEntry,
  trivialAugmentSpace,
} from "../src/data/transforms/autoaugment_space.ts";
import type { AugmentOp } from "../src/data/transforms/functional/autoaugment.ts";
import { assertClose, loadFixture, testDevice } from "./helpers.ts";

const T = data.transforms;
const { F } = T;
type Image = { data: Float32Array; width: number; height: number };
interface Rec {
  width: number;
  height: number;
  data: number[];
}
interface Run {
  name: "AutoAugment" | "RandAugment" | "TrivialAugmentWide" | "AugMix";
  options: { interpolation?: "nearest" | "bilinear"; fill?: number };
  ops?: AugmentOp[];
  original?: number;
  chains?: { weight: number; ops: AugmentOp[] }[];
  out: number[];
}
const fx = loadFixture<{
  sharpness: { input: Rec; factor: number; out: number[] }[];
  autocontrast: { input: Rec; out: number[] }[];
  equalize: { width: number; height: number; levels: number[]; out: number[] }[];
  ops_input: Rec;
  ops: {
    op: AugmentOp["op"];
    magnitude: number;
    interpolation: "nearest" | "bilinear";
    fill: number | null;
    out: number[];
  }[];
  ops_off_grid: { input: Rec; cases: { op: AugmentOp["op"]; magnitude: number; out: number[] }[] };
  spaces: Record<string, { op: string; signed: boolean; magnitudes: number[] | null }[]>;
  policies: Record<string, [string, number, number | null][][]>;
  runs_input: Rec;
  runs: Run[];
}>("autoaugment.json");

const img = (r: Rec): Image => ({
  data: Float32Array.from(r.data),
  width: r.width,
  height: r.height,
});
const loose = (v: unknown) => v as never;
const ramp = (w: number, h: number): Image => ({
  data: Float32Array.from({ length: w * h }, (_, i) => ((i * 37) % 101) / 100),
  width: w,
  height: h,
});

/**
 * Asserts `got` equals torchvision's `want` (1e-5 relative); `ties` pixels
 * may differ: nearest rotation by 30 degrees puts some source positions
 * exactly half-way between pixels, which torchvision's float32 grid rounds
 * one way and the library's double one the other.
 */
function assertImage(got: Image, want: number[], what: string, ties = 0): void {
  if (ties === 0) return assertClose(got.data, want, { what });
  const bad = want.filter((v, i) => !(Math.abs(got.data[i] - v) <= 1e-6 + 1e-5 * Math.abs(v)));
  assert.ok(bad.length <= ties, `${what}: ${bad.length} pixels differ (${ties} ties allowed)`);
}

/** How many nearest-interpolation ties an op list may produce (rotations by +-30 degrees). */
const tiesOf = (ops: AugmentOp[], interpolation = "nearest") =>
  interpolation === "nearest" && ops.some((o) => o.op === "Rotate" && Math.abs(o.magnitude) === 30)
    ? 2
    : 0;

Deno.test("F.adjustSharpness, F.autocontrast: torchvision's float ops", () => {
  for (const c of fx.sharpness) {
    assertImage(F.adjustSharpness(img(c.input), c.factor), c.out, `sharpness ${c.factor}`);
  }
  for (const c of fx.autocontrast) assertImage(F.autocontrast(img(c.input)), c.out, "autocontrast");
  // A range: torchvision's op on (x - lo) / (hi - lo), mapped back.
  const c = fx.autocontrast[0], hu = img(c.input);
  hu.data = hu.data.map((v) => -1000 + 2000 * v);
  const want = c.out.map((v) => -1000 + 2000 * v);
  assertClose(F.autocontrast(hu, [-1000, 1000]).data, want, { atol: 1e-3, what: "HU range" });
});

Deno.test("F.equalize: torchvision's uint8 histogram equalisation on 8-bit levels", () => {
  for (const c of fx.equalize) {
    const x = {
      data: Float32Array.from(c.levels, (v) => v / 255),
      width: c.width,
      height: c.height,
    };
    const out = F.equalize(x);
    assert.deepEqual([...out.data].map((v) => Math.round(v * 255)), c.out);
    assert.ok(out.data.every((v) => v === Math.fround(Math.round(v * 255) / 255)), "on the grid");
  }
  // Below 255 pixels under the top level torchvision keeps the levels.
  const small = ramp(5, 5);
  assert.deepEqual([...F.equalize(small).data], [...F.posterize(small, 8).data]);
});

Deno.test("F.applyAugmentOp: every op of torchvision's _apply_op, both interpolations, fill", () => {
  const input = img(fx.ops_input);
  for (const c of fx.ops) {
    const opts = { interpolation: c.interpolation, ...(c.fill === null ? {} : { fill: c.fill }) };
    const out = F.applyAugmentOp(input, c.op, c.magnitude, opts);
    const what = `${c.op} ${c.magnitude} ${c.interpolation} fill ${c.fill}`;
    assertImage(out, c.out, what, tiesOf([c], c.interpolation));
  }
  const off = img(fx.ops_off_grid.input);
  for (const c of fx.ops_off_grid.cases) {
    assertImage(F.applyAugmentOp(off, c.op, c.magnitude), c.out, `${c.op} off the 1/255 grid`);
  }
  // Identity and Color (a grey image has no saturation) hand back the input.
  assert.equal(F.applyAugmentOp(input, "Identity", 0), input);
  assert.equal(F.applyAugmentOp(input, "Color", -0.5), input);
});

Deno.test("magnitude tables and policies: torchvision's, to the float32 bit", () => {
  const mine: Record<string, SpaceEntry[]> = {
    autoaugment: autoAugmentSpace(10, 9, 11),
    autoaugment_224: autoAugmentSpace(10, 224, 200),
    randaugment: randAugmentSpace(31, 9, 11),
    randaugment_9: randAugmentSpace(9, 64, 48),
    randaugment_5: randAugmentSpace(5, 32, 32),
    randaugment_40: randAugmentSpace(40, 320, 256),
    trivialaugment: trivialAugmentSpace(31),
    trivialaugment_13: trivialAugmentSpace(13),
    augmix: augMixSpace(9, 11, true),
    augmix_basic: augMixSpace(30, 20, false),
  };
  assert.deepEqual(Object.keys(mine).sort(), Object.keys(fx.spaces).sort());
  for (const [key, want] of Object.entries(fx.spaces)) {
    const got = mine[key].map((e) => ({ ...e, magnitudes: e.magnitudes && [...e.magnitudes] }));
    const exact = want.map((e) => ({
      ...e,
      magnitudes: e.magnitudes && e.magnitudes.map((v) => Math.fround(v)),
    }));
    assert.deepEqual(got, exact, key);
  }
  const policies = Object.fromEntries(
    Object.entries(POLICIES).map(([k, v]) => [k, v.map((pair) => pair.map((s) => [...s]))]),
  );
  assert.deepEqual(policies, fx.policies);
});

Deno.test("whole torchvision forward() calls, replayed from the ops they drew", () => {
  const input = img(fx.runs_input);
  for (const [i, r] of fx.runs.entries()) {
    const interpolation = r.options.interpolation ?? (r.name === "AugMix" ? "bilinear" : "nearest");
    const opts = {
      interpolation,
      ...(r.options.fill === undefined ? {} : { fill: r.options.fill }),
    };
    let out = input;
    if (r.name === "AugMix") {
      out = F.augMix(input, { original: r.original!, chains: r.chains! }, opts);
    } else for (const s of r.ops!) out = F.applyAugmentOp(out, s.op, s.magnitude, opts);
    const ops = r.ops ?? r.chains!.flatMap((c) => c.ops);
    assertImage(out, r.out, `${r.name} run ${i}`, tiesOf(ops, interpolation));
    // Every magnitude torchvision drew is in this library's table for that class.
    const space = r.name === "AutoAugment"
      ? autoAugmentSpace(10, input.height, input.width)
      : r.name === "RandAugment"
      ? randAugmentSpace(31, input.height, input.width)
      : r.name === "TrivialAugmentWide"
      ? trivialAugmentSpace(31)
      : augMixSpace(input.height, input.width, (r.options as { allOps?: boolean }).allOps ?? true);
    for (const s of ops) {
      const e = space.find((x) => x.op === s.op);
      assert.ok(e, `${r.name}: ${s.op} in the space`);
      const table = e.magnitudes ?? [0];
      assert.ok(table.includes(Math.fround(Math.abs(s.magnitude))), `${s.op} ${s.magnitude}`);
      if (!e.signed) assert.ok(s.magnitude >= 0 || e.magnitudes === null);
    }
  }
});

/** Counts of `key(x)` over many draws. */
function counts<T>(n: number, draw: () => T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) for (const x of draw()) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

/** |count - expected| within 5 standard deviations (binomial) plus a little. */
function near(count: number, expected: number, what: string): void {
  assert.ok(
    Math.abs(count - expected) <= 5 * Math.sqrt(expected) + 3,
    `${what}: ${count}, expected about ${expected.toFixed(1)}`,
  );
}

Deno.test("TrivialAugmentWide draws: ops, magnitude bins and signs uniform", () => {
  const t = new T.TrivialAugmentWide(), rng = new data.Rng(11), n = 4200;
  const draws = Array.from({ length: n }, () => t.drawParams(32, 32, rng)[0]);
  const space = trivialAugmentSpace(31);
  const byOp = counts(1, () => draws, (d) => d.op);
  for (const e of space) near(byOp.get(e.op) ?? 0, n / 14, e.op);
  // Bins: every one of the 31 about equally often (ops whose tables hold no repeats).
  const strict = draws.filter((d) =>
    !["Identity", "Posterize", "AutoContrast", "Equalize"].includes(d.op)
  );
  const bins = counts(1, () => strict, (d) => {
    return String(space.find((e) => e.op === d.op)!.magnitudes!.indexOf(Math.abs(d.magnitude)));
  });
  assert.equal(bins.size, 31);
  for (const [bin, c] of bins) near(c, strict.length / 31, `bin ${bin}`);
  const signed = draws.filter((d) => space.find((e) => e.op === d.op)!.signed && d.magnitude !== 0);
  near(signed.filter((d) => d.magnitude < 0).length, signed.length / 2, "negative signs");
});

Deno.test("RandAugment draws: numOps uniform ops at one magnitude bin, random signs", () => {
  const t = new T.RandAugment({ numOps: 3, magnitude: 20 }), rng = new data.Rng(5), n = 1400;
  const space = randAugmentSpace(31, 40, 48);
  const ops = Array.from({ length: n }, () => t.drawParams(48, 40, rng));
  assert.ok(ops.every((o) => o.length === 3));
  const byOp = counts(1, () => ops.flat(), (d) => d.op);
  for (const e of space) near(byOp.get(e.op) ?? 0, 3 * n / 14, e.op);
  for (const o of ops.flat()) {
    const e = space.find((x) => x.op === o.op)!;
    assert.equal(Math.abs(o.magnitude), e.magnitudes ? e.magnitudes[20] : 0, o.op);
  }
  const signed = ops.flat().filter((d) => space.find((e) => e.op === d.op)!.signed);
  near(signed.filter((d) => d.magnitude < 0).length, signed.length / 2, "negative signs");
  // numOps 0 is the identity.
  const x = ramp(6, 5);
  assert.equal(new T.RandAugment({ numOps: 0 }).apply(x, new data.Rng(0)), x);
});

Deno.test("AutoAugment draws: sub-policies uniform, each op at its probability", () => {
  for (const policy of ["imagenet", "cifar10", "svhn"] as const) {
    const t = new T.AutoAugment({ policy }), rng = new data.Rng(3), n = 5000;
    const byOp = counts(n, () => t.drawParams(16, 12, rng), (d) => d.op);
    const expected = new Map<string, number>();
    for (const pair of fx.policies[policy]) {
      for (const [op, p] of pair) expected.set(op, (expected.get(op) ?? 0) + n * p / 25);
    }
    for (const [op, e] of expected) near(byOp.get(op) ?? 0, e, `${policy} ${op}`);
    assert.deepEqual([...byOp.keys()].filter((k) => !expected.has(k)), []);
  }
  // Signs: ShearX in svhn draws both signs about equally often.
  const t = new T.AutoAugment({ policy: "svhn" }), rng = new data.Rng(9);
  const shears = Array.from({ length: 3000 }, () => t.drawParams(16, 16, rng)).flat()
    .filter((o) => o.op === "ShearX");
  near(shears.filter((o) => o.magnitude < 0).length, shears.length / 2, "ShearX negative");
});

Deno.test("AugMix draws: depths 1-3, uniform ops below severity, Beta and Dirichlet weights", () => {
  const n = 1500, rng = new data.Rng(21);
  const t = new T.AugMix();
  const draws = Array.from({ length: n }, () => t.drawParams(20, 16, rng));
  const chains = draws.flatMap((d) => d.chains);
  assert.ok(draws.every((d) => d.chains.length === 3));
  for (const depth of [1, 2, 3]) {
    near(chains.filter((c) => c.ops.length === depth).length, chains.length / 3, `depth ${depth}`);
  }
  const space = augMixSpace(16, 20, true), ops = chains.flatMap((c) => c.ops);
  const byOp = counts(1, () => ops, (o) => o.op);
  for (const e of space) near(byOp.get(e.op) ?? 0, ops.length / 13, e.op);
  for (const o of ops) {
    const table = space.find((e) => e.op === o.op)!.magnitudes;
    if (table) assert.ok(table.slice(0, 3).includes(Math.abs(o.magnitude)), `${o.op} bin < 3`);
  }
  for (const d of draws) {
    const total = d.original + d.chains.reduce((s, c) => s + c.weight, 0);
    assert.ok(Math.abs(total - 1) < 1e-9 && d.chains.every((c) => c.weight >= 0));
  }
  // Beta(alpha, alpha): mean 1/2, variance 1 / (4 (2 alpha + 1)); alpha < 1 and > 1.
  for (const alpha of [0.3, 1, 2.5]) {
    const m = new T.AugMix({ alpha, mixtureWidth: 1, chainDepth: 1 }), r = new data.Rng(alpha * 10);
    const w = Array.from({ length: 4000 }, () => m.drawParams(8, 8, r).original);
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    const want = 1 / (4 * (2 * alpha + 1));
    assert.ok(Math.abs(mean - 0.5) < 0.03, `alpha ${alpha}: mean ${mean}`);
    assert.ok(
      Math.abs(variance - want) < 0.15 * want,
      `alpha ${alpha}: variance ${variance} vs ${want}`,
    );
  }
  // chainDepth > 0 fixes the depth; allOps false leaves out the four colour ops.
  const fixed = new T.AugMix({ chainDepth: 2, allOps: false }).drawParams(8, 8, new data.Rng(1));
  assert.ok(fixed.chains.every((c) => c.ops.length === 2));
  const basic = new T.AugMix({ allOps: false }), r = new data.Rng(2);
  const names = new Set(
    Array.from({ length: 300 }, () => basic.drawParams(8, 8, r)).flatMap((d) =>
      d.chains.flatMap((c) => c.ops.map((o) => o.op))
    ),
  );
  assert.deepEqual([...names].sort(), augMixSpace(8, 8, false).map((e) => e.op).sort());
});

const classes = () => [
  new T.AutoAugment({ policy: "svhn", fill: 0.2 }),
  new T.RandAugment({ numOps: 3, magnitude: 15, interpolation: "bilinear" }),
  new T.TrivialAugmentWide({ numMagnitudeBins: 11 }),
  new T.AugMix({ severity: 5, mixtureWidth: 2, alpha: 0.7 }),
];

Deno.test("apply = drawParams then the functional ops; seeds reproduce; specs round-trip", () => {
  const x = ramp(13, 11);
  for (const t of classes()) {
    for (let seed = 0; seed < 6; seed++) {
      const out = t.apply(x, new data.Rng(seed));
      const params = t.drawParams(13, 11, new data.Rng(seed));
      const spec = t.spec as Record<string, unknown>;
      const opts = {
        interpolation: (spec.interpolation ?? (t.name === "AugMix" ? "bilinear" : "nearest")) as
          | "nearest"
          | "bilinear",
        fill: (spec.fill ?? 0) as number,
      };
      const want = !Array.isArray(params) ? F.augMix(x, params, opts) : params.reduce(
        (im, o) => F.applyAugmentOp(im, o.op, o.magnitude, opts),
        x as Image,
      );
      assert.deepEqual([...out.data], [...want.data], `${t.name} seed ${seed}`);
      const again = T.fromSpec(JSON.parse(JSON.stringify(t.spec))).apply(x, new data.Rng(seed));
      assert.deepEqual([...again.data], [...out.data], `${t.name} from its spec`);
    }
    const outs = new Set(
      Array.from({ length: 8 }, (_, s) => t.apply(x, new data.Rng(100 + s)).data.join()),
    );
    assert.ok(outs.size >= 4, `${t.name}: seeds give different results`);
  }
  assert.deepEqual(new T.AutoAugment({ policy: "svhn", fill: 0.2 }).spec, {
    name: "AutoAugment",
    policy: "svhn",
    fill: 0.2,
  });
});

Deno.test("valueRange: on HU the same as on [0, 1] mapped there and back; p; batches", () => {
  const x = ramp(12, 10), hu = { ...x, data: x.data.map((v) => -1000 + 2000 * v) };
  const range: [number, number] = [-1000, 1000];
  const pairs = [
    [
      new T.AutoAugment({ policy: "cifar10" }),
      new T.AutoAugment({ policy: "cifar10", valueRange: range }),
    ],
    [new T.RandAugment({ numOps: 4 }), new T.RandAugment({ numOps: 4, valueRange: range })],
    [new T.TrivialAugmentWide(), new T.TrivialAugmentWide({ valueRange: range })],
    [new T.AugMix(), new T.AugMix({ valueRange: range })],
  ] as const;
  for (const [unit, wide] of pairs) {
    for (let seed = 0; seed < 10; seed++) {
      const want = unit.apply(x, new data.Rng(seed)).data.map((v) => -1000 + 2000 * v);
      const got = wide.apply(hu, new data.Rng(seed)).data;
      assertClose(got, want, { atol: 2e-3, rtol: 0, what: `${unit.name} seed ${seed}` });
    }
  }
  for (const t of [new T.AutoAugment({ p: 0 }), new T.AugMix({ p: 0 })]) {
    assert.equal(t.apply(x, new data.Rng(0)), x);
  }
  const batch = tensor(Float32Array.from({ length: 2 * 64 }, (_, i) => (i % 9) / 9), [2, 1, 8, 8], {
    device: testDevice,
  });
  for (const t of classes()) {
    using out = t.apply(batch, new data.Rng(4));
    assert.deepEqual(out.shape, [2, 1, 8, 8]);
    assert.equal(out.device, testDevice);
    assert.ok(out.toArray().every((v) => v >= 0 && v <= 1), t.name);
  }
  batch.dispose();
});

Deno.test("RandomAdjustSharpness, RandomAutocontrast, RandomEqualize: p, specs, F's numbers", () => {
  const x = ramp(9, 7);
  const cases = [
    [new T.RandomAdjustSharpness({ sharpnessFactor: 2.5, p: 1 }), F.adjustSharpness(x, 2.5)],
    [new T.RandomAutocontrast({ p: 1 }), F.autocontrast(x)],
    [new T.RandomEqualize({ p: 1 }), F.equalize(x)],
  ] as const;
  for (const [t, want] of cases) {
    assert.deepEqual([...t.apply(x, new data.Rng(0)).data], [...want.data], t.name);
    assert.deepEqual(T.fromSpec(t.spec).spec, t.spec);
  }
  for (const t of [new T.RandomAutocontrast(), new T.RandomEqualize()]) assert.equal(t.p, 0.5);
  const half = new T.RandomAutocontrast(), rng = new data.Rng(8);
  const applied = Array.from({ length: 2000 }, () => half.apply(x, rng) !== x).filter(Boolean);
  near(applied.length, 1000, "p 0.5");
  const hu = { ...x, data: x.data.map((v) => -1000 + 2000 * v) };
  const wide = new T.RandomAdjustSharpness({ sharpnessFactor: 3, p: 1, valueRange: [-1000, 1000] });
  assertClose(
    wide.apply(hu, new data.Rng(0)).data,
    F.adjustSharpness(x, 3).data.map((v) => -1000 + 2000 * v),
    { atol: 1e-3, rtol: 0 },
  );
});

Deno.test("bad inputs: clear errors that say what to write", () => {
  const x = ramp(5, 5);
  const cases: [() => unknown, RegExp][] = [
    [
      () => new T.AutoAugment({ policy: loose("IMAGENET") }),
      /policy must be "imagenet", "cifar10" or "svhn"/,
    ],
    [() => new T.AutoAugment(loose("imagenet")), /AutoAugment: expected an options object/],
    [
      () => new T.RandAugment(loose({ num_ops: 2 })),
      /unknown parameter 'num_ops' \(write 'numOps'\)/,
    ],
    [() => Reflect.construct(T.RandAugment, [2, 9]), /RandAugment: takes at most 1 arguments/],
    [() => new T.RandAugment({ numOps: -1 }), /numOps must be an integer >= 0, got -1/],
    [() => new T.RandAugment({ magnitude: 31 }), /magnitude must be an integer >= 0 <= 30, got 31/],
    [
      () => new T.RandAugment({ magnitude: 4, numMagnitudeBins: 1 }),
      /numMagnitudeBins must be an integer >= 2/,
    ],
    [
      () => new T.TrivialAugmentWide({ numMagnitudeBins: 2.5 }),
      /numMagnitudeBins must be an integer/,
    ],
    [() => new T.AugMix({ severity: 11 }), /severity must be an integer >= 1 <= 10, got 11/],
    [() => new T.AugMix({ severity: 0 }), /severity must be an integer >= 1/],
    [() => new T.AugMix({ alpha: 0 }), /alpha must be a finite number > 0, got 0/],
    [() => new T.AugMix({ alpha: NaN }), /alpha must be a finite number > 0, got NaN/],
    [() => new T.AugMix({ mixtureWidth: 0 }), /mixtureWidth must be an integer >= 1/],
    [() => new T.AugMix({ chainDepth: 1.5 }), /chainDepth must be an integer/],
    [() => new T.AugMix({ allOps: loose("false") }), /allOps must be true or false, got "false"/],
    [
      () => new T.AugMix({ interpolation: loose("bicubic") }),
      /interpolation must be "nearest" or "bilinear"/,
    ],
    [
      () => new T.TrivialAugmentWide({ fill: 128 }),
      /fill 128 is outside valueRange \[0, 1\].*128 -> 0\.502/,
    ],
    [() => new T.TrivialAugmentWide({ fill: loose([0.5, 0.5]) }), /fill has 2 values/],
    [() => new T.RandAugment({ valueRange: loose([1, 0]) }), /valueRange must be \[lo, hi\]/],
    [() => new T.AutoAugment({ p: 2 }), /AutoAugment: p must be a probability in \[0, 1\], got 2/],
    [() => new T.RandomAdjustSharpness(loose({})), /sharpnessFactor must be a finite number >= 0/],
    [
      () => new T.RandomAdjustSharpness({ sharpnessFactor: -1 }),
      /sharpnessFactor must be a finite number >= 0, got -1/,
    ],
    [
      () => new T.RandomEqualize(loose({ value_range: [0, 1] })),
      /'value_range' \(write 'valueRange'\)/,
    ],
    [
      () => F.applyAugmentOp(x, loose("Shear"), 0.1),
      /applyAugmentOp: unknown op "Shear" \(known: Identity, ShearX/,
    ],
    [
      () => F.applyAugmentOp(x, "Rotate", NaN),
      /magnitude of Rotate must be a finite number, got NaN/,
    ],
    [
      () => F.applyAugmentOp(x, "Rotate", 10, loose({ interp: "nearest" })),
      /applyAugmentOp: unknown option 'interp'/,
    ],
    [() => F.applyAugmentOp(x, "Rotate", 10, loose({ fill: "0" })), /fill must be a finite number/],
    [
      () => F.applyAugmentOp(x, "Color", -1.5),
      /Color's factor 1 \+ magnitude must be >= 0, got -0\.5/,
    ],
    [
      () => F.applyAugmentOp(x, "Posterize", 9),
      /posterize: bits must be an integer in 0\.\.8, got 9/,
    ],
    [
      () => F.applyAugmentOp(x, "Solarize", 300),
      /solarize: threshold must be a finite number <= the range's top 1/,
    ],
    [
      () => F.applyAugmentOp(x, "Brightness", -2),
      /adjustBrightness: factor must be a finite number >= 0/,
    ],
    [
      () => F.applyAugmentOp({ ...x, width: 4 }, "Invert", 0),
      /applyAugmentOp: image has 25 values/,
    ],
    [() => F.augMix(x, loose({ original: 1 })), /augMix: params must be \{ original, chains/],
    [
      () => F.augMix(x, loose({ original: "1", chains: [] })),
      /params\.original must be a finite number/,
    ],
    [
      () => F.augMix(x, loose({ original: 1, chains: [{ weight: NaN, ops: [] }] })),
      /chains\[0\]\.weight/,
    ],
    [
      () => F.augMix(x, loose({ original: 1, chains: [{ weight: 1 }] })),
      /chains\[0\]\.ops must be an array/,
    ],
    [
      () => F.adjustSharpness(x, -0.5),
      /adjustSharpness: factor must be a finite number >= 0, got -0\.5/,
    ],
    [
      () => F.adjustSharpness(x, loose("2")),
      /adjustSharpness: factor must be a finite number >= 0, got "2"/,
    ],
    [() => F.equalize(x, loose([0])), /equalize: valueRange must be \[lo, hi\]/],
    [
      () => F.autocontrast(loose({ data: [1], width: 1, height: 1 })),
      /autocontrast: image\.data must be a Float32Array/,
    ],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
});
