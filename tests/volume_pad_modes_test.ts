/**
 * MONAI's pad modes on the volume pads (`SpatialPad`, `ResizeWithPadOrCrop`,
 * `CropForeground` with allowSmaller false), against reference numbers
 * (tests/fixtures/volume_pad_modes.json, written by
 * scripts/make_volume_pad_modes_fixtures.py: MONAI 1.3's `pad_nd` in
 * PyTorch 1.13 and numpy): torch's "constant", "reflect", "replicate",
 * "circular" (wider than the axis through numpy's "wrap", as MONAI falls
 * back), numpy's "edge", "wrap", "symmetric" and statistics, a fill
 * `value`; then what MONAI refuses (a reflect pad as wide as the axis,
 * `value` with another mode, unknown modes), refused here with what to
 * write. `Zoom`'s keepSize pad is the same code (its own tests hold).
 *
 * The volumes are made on `LITS_TEST_DEVICE` (cpu or cuda).
 */
import assert from "node:assert/strict";
import { data, tensor } from "../mod.ts";
import { run, type VolumeCase, volumeCases, type VT } from "./volume_cases.ts";
import { type StoredRecord, testDevice } from "./helpers.ts";

const V = data.transforms.volume;
interface Refused {
  name: string;
  op: string;
  // deno-lint-ignore no-explicit-any
  opts: Record<string, any>;
  x: string;
  monai: string;
}
const { fx, input, runCases } = volumeCases<{
  torch: string;
  inputs: Record<string, StoredRecord>;
  cases: VolumeCase[];
  raises: Refused[];
  exact: VolumeCase[];
}>("volume_pad_modes.json", 1e-6);

const MODES = [
  "constant",
  "edge",
  "reflect",
  "symmetric",
  "wrap",
  "replicate",
  "circular",
  "linear_ramp",
  "maximum",
  "mean",
  "median",
  "minimum",
];

/** A transform `op` built from `opts`. */
// deno-lint-ignore no-explicit-any
const make = (op: string, opts: Record<string, any>): VT =>
  new ((V as never)[op] as new (o: unknown) => VT)(structuredClone(opts));

Deno.test(`volume pad modes fixtures: written by PyTorch ${fx.torch}`, () => {
  assert.ok(fx.torch.startsWith("1.13"));
  assert.ok(fx.cases.length >= 100);
  assert.ok(fx.raises.length >= 4);
});

for (const op of ["SpatialPad", "ResizeWithPadOrCrop", "CropForeground"]) {
  Deno.test(`volume ${op}: every MONAI pad mode, as MONAI 1.3's pad_nd`, () => {
    const list = fx.cases.filter((c) => c.op === op);
    const modes = new Set(list.map((c) => c.opts.mode ?? "constant"));
    assert.deepEqual([...modes].sort(), [...MODES].sort(), `${op}: modes covered`);
    runCases(list);
  });
}

Deno.test("volume pads: circular wider than the axis wraps (MONAI falls back to numpy's wrap)", () => {
  const c = fx.cases.find((k) => k.name === "SpatialPad b [7, 8, 6] symmetric circular")!;
  assert.ok(c, "the wide circular case");
  // Axis 0 of 2 voxels padded (2, 3): torch's circular pad refuses that, numpy's wrap does not.
  runCases([c]);
  const wrap = fx.cases.find((k) => k.name === c.name.replace("circular", "wrap"))!;
  assert.deepEqual(wrap.out.data, c.out.data);
});

Deno.test("volume pads: a fill value with mode constant; empty pads 0 and keeps the voxels", () => {
  runCases(fx.cases.filter((c) => c.name.includes(" value ")));
  using x = input("a");
  const { shape, v } = run(
    new V.SpatialPad({ spatialSize: [3, 6, 5], mode: "empty" }),
    x,
    new data.Rng(0),
  );
  assert.deepEqual(shape, [2, 3, 6, 5]);
  const xs = x.toArray();
  // Row (c 0, z 0, y 1) is the input's row (0, 0, 0); rows y 0 and y 5 are the pad.
  assert.deepEqual(v.slice(5, 10), [...xs.slice(0, 5)]);
  assert.deepEqual(v.slice(0, 5), [0, 0, 0, 0, 0]);
  assert.deepEqual(v.slice(25, 30), [0, 0, 0, 0, 0]);
});

Deno.test("volume pads: numpy's float32 numbers bit for bit: NaN and infinities in a line, the mean's pairwise and row sums, linspace's two forms, a NaN or infinite fill value", () => {
  const modes = new Set(fx.exact.map((c) => c.opts.mode ?? "constant"));
  assert.deepEqual(
    [...modes].sort(),
    ["constant", "linear_ramp", "maximum", "mean", "median", "minimum"],
  );
  const decode = (v: unknown) => typeof v === "string" ? Number(v.replace("inf", "Infinity")) : v;
  for (const c of fx.exact) {
    const opts = { ...c.opts, value: decode(c.opts.value) };
    if (c.opts.value === undefined) delete opts.value;
    const want = (c.out.data as (number | string)[]).map((v) => Math.fround(decode(v) as number));
    using x = input(c.x);
    const t = make(c.op, opts);
    for (const [what, tr] of [["", t], [" (from its spec)", V.fromSpec(structuredClone(t.spec))]]) {
      const { shape, v } = run(tr as VT, x, new data.Rng(0));
      assert.deepEqual(shape, c.out.shape, c.name);
      const bad = v.findIndex((y, i) =>
        !(y === want[i] || (Number.isNaN(y) && Number.isNaN(want[i])))
      );
      assert.equal(bad, -1, `${c.name}${what}: voxel ${bad}: ${v[bad]}, numpy ${want[bad]}`);
    }
  }
  // numpy's median of a line with a NaN is NaN, wherever the NaN sorts.
  for (const line of [[1, NaN, 3], [NaN, 1, 2, 3], [5, 4, NaN, 1]]) {
    using x = tensor(line, [1, line.length, 1, 1], { device: testDevice });
    const { v } = run(
      new V.SpatialPad({ spatialSize: [line.length + 2, 1, 1], mode: "median" }),
      x,
      new data.Rng(0),
    );
    assert.ok(Number.isNaN(v[0]) && Number.isNaN(v.at(-1)!), `${line}: ${v}`);
  }
});

Deno.test("volume pads: what MONAI refuses is refused, saying why and what to write", () => {
  for (const r of fx.raises) {
    using x = input(r.x);
    const t = () => make(r.op, r.opts).apply(x, new data.Rng(0));
    const want = r.monai.startsWith("'value'")
      ? /value applies to mode "constant" only.*leave value out/
      : /mode "reflect" pads \d+ voxels onto an axis of \d+ \(torch's reflect pad needs fewer/;
    assert.throws(t, want, r.name);
  }
  using x = input("b");
  // The widest reflect pad torch takes (one less than the axis) works; one more is refused.
  run(new V.SpatialPad({ spatialSize: [4, 7, 4], mode: "reflect" }), x, new data.Rng(0));
  assert.throws(
    () => new V.SpatialPad({ spatialSize: [5, 7, 4], mode: "reflect" }).apply(x),
    /volume\.SpatialPad: mode "reflect" pads 2 voxels onto an axis of 2 .*"symmetric" or "edge", or a smaller spatialSize/,
  );
  using c = input("c");
  // The box grown by 6 from the foreground at z 1..2 of 5: 5 voxels before (an axis of 5).
  assert.throws(
    () => new V.CropForeground({ margin: 6, allowSmaller: false, mode: "reflect" }).apply(c),
    /volume\.CropForeground: mode "reflect" pads 5 voxels onto an axis of 5.*smaller margin/,
  );
  run(new V.CropForeground({ margin: 6, mode: "reflect" }), c, new data.Rng(0)); // allowSmaller
  const bad: [() => unknown, RegExp][] = [
    [
      () => new V.SpatialPad({ spatialSize: 4, mode: "zeros" as never }),
      /volume\.SpatialPad: mode must be one of edge, constant, .*got "zeros".*write "constant"/,
    ],
    [
      () => new V.ResizeWithPadOrCrop({ spatialSize: 4, mode: "border" as never }),
      /refuses grid_sample's "border": write "edge"/,
    ],
    [
      () => new V.CropForeground({ mode: "reflection" as never }),
      /volume\.CropForeground: mode must be one of .*write "reflect"/,
    ],
    [() => new V.SpatialPad({ spatialSize: 4, mode: 3 as never }), /mode must be one of.*got 3/],
    [
      () => new V.SpatialPad({ spatialSize: 4, mode: "reflect", value: 0 }),
      /value applies to mode "constant" only, not "reflect"/,
    ],
    [() => new V.CropForeground({ mode: "wrap", value: 1 }), /value applies to mode "constant"/],
    [
      () => new V.SpatialPad({ spatialSize: 4, value: "0" as never }),
      /volume\.SpatialPad: value must be a number \(NaN and Infinity too\), got "0"/,
    ],
    [() => new V.CropForeground({ value: true as never }), /value must be a number/],
    [
      () => new V.SpatialPad({ spatialSize: 4, constant_values: 1 } as never),
      /unknown parameter 'constant_values'/,
    ],
    [
      () => new V.Zoom({ zoom: 0.5, paddingMode: "zeros" as never }),
      /volume\.Zoom: paddingMode must be one of.*write "constant"/,
    ],
  ];
  for (const [f, re] of bad) assert.throws(f, re);
});

Deno.test("volume pads: the spec keeps mode and value, and rebuilds the same transform", () => {
  const t = new V.ResizeWithPadOrCrop({ spatialSize: [2, 6, 8], mode: "median", method: "end" });
  assert.deepEqual(t.spec, {
    name: "volume.ResizeWithPadOrCrop",
    spatialSize: [2, 6, 8],
    mode: "median",
    method: "end",
  });
  using x = input("a");
  assert.deepEqual(
    run(V.fromSpec(JSON.parse(JSON.stringify(t.spec))), x, new data.Rng(0)),
    run(t, x, new data.Rng(0)),
  );
});
