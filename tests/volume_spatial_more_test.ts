/**
 * The resampling volume transforms (data.transforms.volume: Rotate, Zoom,
 * Affine and their Rand* forms) and the host 3-D sampler under them,
 * against reference numbers (tests/fixtures/volume_spatial_more.json,
 * written by scripts/make_volume_spatial_more_fixtures.py: MONAI 1.3's
 * algorithms written in PyTorch 1.13, F.affine_grid + F.grid_sample on 5-D
 * inputs and F.interpolate). Then the random forms (same Rng -> same volume,
 * equal to the deterministic transform at the drawn parameters, p), and
 * every bad argument as an Error that says what to write.
 *
 * The volumes are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import { affineGridSample, sampleAffine } from "../src/data/transforms/volume/sample3d.ts";
import { run, type VolumeCase, volumeCases, type VT } from "./volume_cases.ts";
import { assertClose, assertEqualValues, type StoredRecord, testDevice } from "./helpers.ts";

const V = data.transforms.volume;
const { fx, input, check, runCases: runList } = volumeCases<
  { torch: string; inputs: Record<string, StoredRecord>; cases: VolumeCase[] }
>("volume_spatial_more.json", 1e-6);

function cases(op: string): VolumeCase[] {
  const list = fx.cases.filter((c) => c.op === op);
  assert.ok(list.length > 0, op);
  return list;
}

/** Each case of `op`, built from its options, applied, and rebuilt from its JSON spec. */
function runCases(op: string): void {
  runList(cases(op));
}

Deno.test(`volume spatial fixtures: written by PyTorch ${fx.torch}`, () => {
  assert.ok(fx.torch.startsWith("1.13"));
  assert.ok(fx.cases.length >= 100);
});

Deno.test("volume sampler: F.affine_grid + F.grid_sample 5-D, every mode, padding, align", () => {
  const seen = new Set<string>();
  for (const c of cases("sample")) {
    const s = fx.inputs[c.x];
    const v = {
      data: Float32Array.from(s.data as number[]),
      shape: s.shape as [number, number, number, number],
    };
    const o = c.opts;
    const out = affineGridSample(v, o.size, o.theta, {
      mode: o.mode,
      padding: o.padding,
      alignCorners: o.alignCorners,
    });
    assert.deepEqual(out.shape, c.out.shape, c.name);
    assertClose(out.data, (c.out.data as number[]).map(Math.fround), {
      rtol: 1e-5,
      atol: 1e-6,
      what: c.name,
    });
    seen.add(`${o.mode} ${o.padding} ${o.alignCorners}`);
  }
  assert.equal(seen.size, 12);
});

Deno.test("volume sampler: nearest ties round half away from zero, as torch 1.13 on the CPU", () => {
  // Source x = j - 0.5 for j = 0..6: -0.5, 0.5, ..., 5.5 on a row of 5 voxels (numbers from
  // F.grid_sample in torch 1.13, whose CPU kernel uses std::round).
  const v = { data: Float32Array.from([10, 20, 30, 40, 50]), shape: [1, 1, 1, 5] as [1, 1, 1, 5] };
  const m = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, -0.5], [0, 0, 0, 1]];
  const want: Record<string, number[]> = {
    "zeros true": [0, 20, 30, 40, 50, 0, 0],
    "border true": [10, 20, 30, 40, 50, 50, 50],
    "reflection true": [20, 20, 30, 40, 50, 50, 40],
    "zeros false": [0, 20, 30, 40, 50, 0, 0],
    "border false": [10, 20, 30, 40, 50, 50, 50],
    "reflection false": [10, 20, 30, 40, 50, 50, 50],
  };
  for (const [key, values] of Object.entries(want)) {
    const [padding, align] = key.split(" ");
    const out = sampleAffine(v, [1, 1, 7], m, {
      mode: "nearest",
      padding: padding as "zeros",
      alignCorners: align === "true",
    });
    assert.deepEqual([...out.data], values, key);
  }
});

Deno.test("volume Rotate: MONAI's rotate (create_rotate about the centre), keepSize both ways", () => {
  runCases("Rotate");
  // keepSize false grows the size to the turned corners; a zero angle is the identity.
  const grown = cases("Rotate").filter((c) => c.opts.keepSize === false);
  assert.ok(
    grown.some((c) => c.out.shape.slice(1).join() !== fx.inputs[c.x].shape.slice(1).join()),
  );
  const still = cases("Rotate").find((c) => c.opts.angle.every?.((a: number) => a === 0))!;
  using x = input(still.x);
  using y = new V.Rotate(still.opts as never).apply(x);
  assertClose(y, x.toArray(), { rtol: 1e-6, atol: 1e-6, what: "zero angle" });
});

Deno.test("volume Zoom: F.interpolate by scale_factor, then MONAI's pad or crop back", () => {
  runCases("Zoom");
  // keepSize false: floor(size * zoom).
  using x = input("b");
  using y = new V.Zoom({ zoom: [0.7, 1.5, 1.01], keepSize: false }).apply(x);
  assert.deepEqual(y.shape, [1, 3, 10, 6]);
});

Deno.test("volume Affine: MONAI's AffineGrid (rotate, shear, translate, scale) and Resample", () => {
  runCases("Affine");
});

Deno.test("volume RandAffine not applied: the volume, or resampled to spatialSize as MONAI", () => {
  for (const c of cases("RandAffineIdentity")) {
    using x = input(c.x);
    const t = new V.RandAffine({ ...c.opts, rotateRange: 1 } as never);
    using y = t.apply(x, new data.Rng(0));
    check(c, y, c.name);
  }
  using x = input("a");
  using y = new V.RandAffine({ p: 0, rotateRange: 1 }).apply(x, new data.Rng(0));
  assertEqualValues(y, x.toArray(), "p 0, no spatialSize");
  using z = new V.RandAffine({ p: 0, rotateRange: 1, spatialSize: [-1, 0, 5] }).apply(x);
  assertEqualValues(z, x.toArray(), "p 0, spatialSize the volume's");
});

/** A random transform, and the deterministic one it equals at the draws `rng` gives next. */
interface RandCase {
  t: VT;
  det: (rng: data.Rng) => VT;
}

const RAND: RandCase[] = [
  {
    t: new V.RandRotate({ p: 1, rangeX: 0.4, rangeY: [0.1, 0.3], rangeZ: -0.2 }),
    det: (r) =>
      new V.Rotate({ angle: [r.uniform(-0.4, 0.4), r.uniform(0.1, 0.3), r.uniform(-0.2, 0.2)] }),
  },
  {
    t: new V.RandRotate({
      p: 1,
      rangeX: 0.5,
      keepSize: false,
      mode: "nearest",
      paddingMode: "zeros",
    }),
    det: (r) =>
      new V.Rotate({
        angle: [r.uniform(-0.5, 0.5), r.uniform(0, 0), r.uniform(0, 0)],
        keepSize: false,
        mode: "nearest",
        paddingMode: "zeros",
      }),
  },
  {
    t: new V.RandZoom({ p: 1, minZoom: 0.7, maxZoom: 1.3, mode: "trilinear" }),
    det: (r) => new V.Zoom({ zoom: r.uniform(0.7, 1.3), mode: "trilinear" }),
  },
  {
    t: new V.RandZoom({ p: 1, minZoom: [0.6, 0.8], maxZoom: [1.4, 1.2], keepSize: false }),
    det: (r) => {
      const [a, b] = [r.uniform(0.6, 1.4), r.uniform(0.8, 1.2)];
      return new V.Zoom({ zoom: [a, a, b], keepSize: false });
    },
  },
  {
    t: new V.RandZoom({
      p: 1,
      minZoom: [0.8, 0.9, 1],
      maxZoom: [1.2, 1.1, 1.5],
      paddingMode: "wrap",
    }),
    det: (r) =>
      new V.Zoom({
        zoom: [r.uniform(0.8, 1.2), r.uniform(0.9, 1.1), r.uniform(1, 1.5)],
        paddingMode: "wrap",
      }),
  },
  {
    t: new V.RandAffine({
      p: 1,
      rotateRange: [0.3, [0.1, 0.2]],
      shearRange: 0.1,
      translateRange: [1, 2, [-1, 0]],
      scaleRange: [0.1, 0.2, 0.1],
      spatialSize: [3, 5, 4],
      paddingMode: "zeros",
    }),
    det: (r) =>
      new V.Affine({
        rotateParams: [r.uniform(-0.3, 0.3), r.uniform(0.1, 0.2)],
        shearParams: [r.uniform(-0.1, 0.1)],
        translateParams: [r.uniform(-1, 1), r.uniform(-2, 2), r.uniform(-1, 0)],
        scaleParams: [1 + r.uniform(-0.1, 0.1), 1 + r.uniform(-0.2, 0.2), 1 + r.uniform(-0.1, 0.1)],
        spatialSize: [3, 5, 4],
        paddingMode: "zeros",
      }),
  },
  {
    t: new V.RandAffine({ p: 1, rotateRange: 0.5, mode: "nearest" }),
    det: (r) => new V.Affine({ rotateParams: r.uniform(-0.5, 0.5), mode: "nearest" }),
  },
];

Deno.test("volume Rand* resampling: equal to the deterministic transform at the drawn parameters", () => {
  using x = input("a");
  for (const { t, det } of RAND) {
    const outs = new Set<string>();
    for (let s = 0; s < 8; s++) {
      const got = run(t, x, new data.Rng(s));
      const want = run(det(new data.Rng(s)), x, new data.Rng(99));
      assert.deepEqual(got, want, `${t.name} ${JSON.stringify(t.spec)} seed ${s}`);
      outs.add(JSON.stringify(got));
    }
    assert.ok(outs.size >= 3, `${t.name}: ${outs.size} distinct outputs in 8 draws`);
  }
});

Deno.test("volume Rand* resampling: same Rng -> same volume; rebuilt from JSON -> same volume", () => {
  using x = input("b");
  for (const { t } of RAND) {
    const again = V.fromSpec(JSON.parse(JSON.stringify(t.spec)));
    for (let s = 0; s < 4; s++) {
      const a = run(t, x, data.Rng.forSample(3, 1, s));
      assert.deepEqual(a, run(t, x, data.Rng.forSample(3, 1, s)), `${t.name}: same stream`);
      assert.deepEqual(a, run(again, x, data.Rng.forSample(3, 1, s)), `${t.name}: from spec`);
    }
  }
});

Deno.test("volume Rand* resampling: p draws first; p 0 never, p 1 always; default p 0.1", () => {
  using x = input("a");
  const base = [...x.toArray()];
  const makers: [(p: number) => VT, (r: data.Rng) => VT][] = [
    [
      (p) => new V.RandRotate({ p, rangeZ: [0.2, 0.4] }),
      (r) => new V.Rotate({ angle: [r.uniform(0, 0), r.uniform(0, 0), r.uniform(0.2, 0.4)] }),
    ],
    [
      (p) => new V.RandZoom({ p, minZoom: 1.2, maxZoom: 1.4 }),
      (r) => new V.Zoom({ zoom: r.uniform(1.2, 1.4) }),
    ],
    [
      (p) => new V.RandAffine({ p, translateRange: [[0.5, 1]] }),
      (r) => new V.Affine({ translateParams: [r.uniform(0.5, 1)] }),
    ],
  ];
  for (const [make, det] of makers) {
    for (let s = 0; s < 10; s++) {
      assert.deepEqual(run(make(0), x, new data.Rng(s)).v, base, `${make(0).name} p 0`);
      assert.notDeepEqual(run(make(1), x, new data.Rng(s)).v, base, `${make(1).name} p 1`);
    }
    // With p in (0, 1): one bernoulli draw first, then the parameters.
    const half = make(0.5);
    let applied = 0;
    for (let s = 0; s < 40; s++) {
      const r = new data.Rng(s);
      const want = r.bernoulli(0.5) ? run(det(r), x, r).v : base;
      if (want !== base) applied++;
      assert.deepEqual(run(half, x, new data.Rng(s)).v, want, `${half.name} p 0.5 seed ${s}`);
    }
    assert.ok(applied > 8 && applied < 32, `applied ${applied} of 40`);
  }
  for (const t of [new V.RandRotate(), new V.RandZoom(), new V.RandAffine()]) {
    assert.equal(t.p, 0.1);
  }
});

Deno.test("volume RandZoom: sizes from floor(size * zoom) across the range (keepSize false)", () => {
  using x = input("b"); // [1, 5, 7, 6]
  const t = new V.RandZoom({ p: 1, minZoom: 0.8, maxZoom: 1.2, keepSize: false });
  const sizes = new Set<string>();
  for (let s = 0; s < 60; s++) {
    const [, d, h, w] = run(t, x, new data.Rng(s)).shape;
    // One factor for all three axes keeps the ratios: the same z gives all three sizes.
    const ok = [4, 5].includes(d) && h >= 5 && h <= 8 && w >= 4 && w <= 7;
    assert.ok(ok, `${d} ${h} ${w}`);
    sizes.add(`${d},${h},${w}`);
  }
  assert.ok(sizes.size >= 4, [...sizes].join(" "));
});

Deno.test("volume resampling transforms: registered, and plain data", () => {
  const names = V.transformNames();
  for (const n of ["Rotate", "RandRotate", "Zoom", "RandZoom", "Affine", "RandAffine"]) {
    assert.ok(names.includes(`volume.${n}`), n);
  }
  const t = V.fromSpec({ name: "volume.RandAffine", p: 0.3, rotateRange: [0.1, 0, 0] });
  assert.deepEqual(t.spec, { name: "volume.RandAffine", p: 0.3, rotateRange: [0.1, 0, 0] });
  assert.equal(t.p, 0.3);
  // In a pipeline, with the others.
  using x = input("b");
  const pipe = V.compose([
    new V.RandRotate({ p: 1, rangeX: 0.2 }),
    new V.RandZoom({ p: 1 }),
    new V.ResizeWithPadOrCrop({ spatialSize: [4, 6, 6] }),
  ]);
  assert.deepEqual(run(pipe, x, new data.Rng(0)).shape, [1, 4, 6, 6]);
});

Deno.test("volume resampling options: bad values are Errors naming the transform and the fix", () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new V.Rotate({ angle: [0.1, 0.2] as never }), /three angles .* write \[a0, a1, a2\]/],
    [() => new V.Rotate({ angle: [0.1] as never }), /write \[angle, 0, 0\]/],
    [() => new V.Rotate({ angle: NaN }), /volume\.Rotate: angle must be finite radians/],
    [() => new V.Rotate({ angle: [0, Infinity, 0] }), /angle must be finite radians/],
    [() => new V.Rotate({} as never), /angle must be finite radians.*got undefined/],
    [() => new V.Rotate({ angle: 1, mode: "cubic" as never }), /"bilinear" .* or "nearest"/],
    [() => new V.Rotate({ angle: 1, mode: "bicubic" as never }), /only supports 4D input/],
    [() => new V.Rotate({ angle: 1, mode: 2 as never }), /mode must be "bilinear"/],
    [() => new V.Rotate({ angle: 1, paddingMode: "edge" as never }), /write "border"/],
    [() => new V.Rotate({ angle: 1, padding_mode: "zeros" } as never), /write 'paddingMode'/],
    [() => new V.Rotate({ angle: 1, keep_size: false } as never), /write 'keepSize'/],
    [() => new V.Rotate({ angle: 1, keepSize: "no" as never }), /keepSize must be true or false/],
    [() => new V.Rotate({ angle: 1, p: 0.5 } as never), /Rotate has no p/],
    [() => new V.Rotate({ angle: 1, dtype: "float64" } as never), /unknown parameter 'dtype'/],
    [() => new V.RandRotate({ rangeX: [0.3, 0.1, 0] as never }), /rangeX must be a number r/],
    [() => new V.RandRotate({ rangeY: NaN }), /rangeY must be a finite number/],
    [() => new V.RandRotate({ range_x: 0.1 } as never), /write 'rangeX'/],
    [() => new V.RandRotate({ prob: 0.5 } as never), /write 'p': MONAI's prob/],
    [() => new V.RandRotate({ p: 2 }), /p must be a probability/],
    [() => new V.Zoom({ zoom: 0 }), /volume\.Zoom: zoom must be a finite number > 0/],
    [() => new V.Zoom({ zoom: [1, 2] as never }), /zoom factors/],
    [() => new V.Zoom({ zoom: NaN }), /got NaN/],
    [() => new V.Zoom({ zoom: 1.1, mode: "bicubic" as never }), /write "trilinear"/],
    [() => new V.Zoom({ zoom: 1.1, paddingMode: "border" as never }), /write "edge"/],
    [
      () => new V.Zoom({ zoom: 1.1, paddingMode: "grid-wrap" as never }),
      /paddingMode must be one of/,
    ],
    [() => new V.Zoom({ zoom: 1.1, alignCorners: true }), /"trilinear" only/],
    [() => new V.Zoom({ zoom: 1.1, keep_size: true } as never), /write 'keepSize'/],
    [() => new V.RandZoom({ minZoom: [0.9, 0.8], maxZoom: 1.1 }), /same length/],
    [() => new V.RandZoom({ minZoom: 1.2, maxZoom: 0 }), /maxZoom must be a finite number > 0/],
    [() => new V.RandZoom({ minZoom: [1, 1, 1, 1] }), /a list of 1, 2 or 3/],
    [() => new V.RandZoom({ min_zoom: 0.8 } as never), /write 'minZoom'/],
    [() => new V.Affine({ rotateParams: [1, 2, 3, 4] }), /up to 3 \(radians/],
    [() => new V.Affine({ shearParams: [0, 0, 0, 0, 0, 0, 1] }), /up to 6/],
    [() => new V.Affine({ scaleParams: [1, NaN] }), /scaleParams must be a finite number/],
    [() => new V.Affine({ translateParams: "1" as never }), /translateParams must be/],
    [
      () =>
        new V.Affine({
          rotateParams: 1,
          affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
        }),
      /give the matrix or the parameters/,
    ],
    [() => new V.Affine({ affine: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] }), /4 x 4 affine matrix/],
    [() => new V.Affine({ spatialSize: [4, 4] as never }), /\[depth, height, width\]/],
    [() => new V.Affine({ paddingMode: "replicate" as never }), /write "border"/],
    [() => new V.Affine({ rotate_params: 1 } as never), /write 'rotateParams'/],
    [() => new V.Affine({ p: 1 } as never), /Affine has no p/],
    [() => new V.RandAffine({ rotateRange: [null, 0.1] as never }), /write 0 for an axis/],
    [() => new V.RandAffine({ rotateRange: [[0.2, NaN]] }), /rotateRange must be a finite number/],
    [
      () => new V.RandAffine({ rotateRange: "0.1" as never }),
      /rotateRange must be a number or a list/,
    ],
    [() => new V.RandAffine({ translateRange: [1, 1, 1, 1] }), /up to 3 entries/],
    [() => new V.RandAffine({ shearRange: [[1, 2, 3]] as never }), /\[a, b\] pair/],
    [() => new V.RandAffine({ cache_grid: true } as never), /unknown parameter 'cache_grid'/],
    [() => new V.RandAffine({ prob: 0.2 } as never), /write 'p'/],
    [() => new (V.Zoom as never as new (a: unknown) => VT)(1.2), /expected an options object/],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
  // Checks that need the volume.
  using x = input("b"); // [1, 5, 7, 6]
  assert.throws(
    () => new V.Zoom({ zoom: [0.1, 1, 1] }).apply(x),
    /volume\.Zoom: zoom 0\.1 makes axis 0 of 5 voxels 0 voxels/,
  );
  assert.throws(
    () => new V.Zoom({ zoom: [0.55, 1, 1], paddingMode: "reflect" }).apply(x),
    /paddingMode "reflect" pads 2 voxels onto an axis of 2/,
  );
  using flat = tensor(new Float32Array(8), [2, 2, 2], { device: testDevice });
  assert.throws(() => new V.Rotate({ angle: 1 }).apply(flat), /write x\.unsqueeze\(0\)/);
});
