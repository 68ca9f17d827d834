/**
 * Habits from torchvision's reference classification recipe
 * (references/classification): its `set_weight_decay` walk with
 * `named_parameters(recurse=False)` and `isinstance(m, _BatchNorm)`, and
 * `output.max(1)[1]` in its accuracy. Each must do what it means or fail
 * loudly; before, they silently walked everything or read undefined.
 */
import assert from "node:assert/strict";
import {
  data,
  distributed,
  functional,
  inferenceMode,
  io,
  nn,
  optim,
  type Tensor,
  tensor,
} from "../mod.ts";
import { assertClose } from "./helpers.ts";

/** torchvision's set_weight_decay: norm parameters in one group, the rest in another. */
function weightDecayGroups(model: nn.Module): { norm: nn.Parameter[]; other: nn.Parameter[] } {
  const norm: nn.Parameter[] = [], other: nn.Parameter[] = [];
  for (const m of model.modules()) {
    for (const [, p] of m.namedParameters("", false)) {
      (m instanceof nn.NormBase || m instanceof nn.GroupNorm ? norm : other).push(p);
    }
  }
  return { norm, other };
}

Deno.test("named_parameters(recurse=False) and buffers(recurse=False): a module's own only", () => {
  const m = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
  assert.equal(m.parameters().length, 4);
  assert.equal(m.parameters(false).length, 0);
  assert.equal(m.buffers(false).length, 0);
  assert.equal(m.buffers().length, 3);
  const bn = m[1];
  assert.deepEqual([...bn.namedParameters("bn", false)].map(([k]) => k), ["bn.weight", "bn.bias"]);
  assert.deepEqual([...bn.namedBuffers("", false)].map(([k]) => k), [
    "running_mean",
    "running_var",
    "num_batches_tracked",
  ]);
  // The recipe's groups: each parameter once, so the optimizer takes them.
  const { norm, other } = weightDecayGroups(m);
  assert.equal(norm.length, 2);
  assert.equal(other.length, 2);
  const opt = new optim.SGD([{ params: other }, { params: norm, options: { weightDecay: 0 } }], {
    lr: 0.1,
    weightDecay: 1e-4,
  });
  assert.deepEqual(opt.paramGroups.map((g) => g.weightDecay), [1e-4, 0]);
});

Deno.test("the module walks refuse torch's keyword forms instead of walking with a prefix '[object Object]'", () => {
  const m = new nn.Sequential(new nn.Linear(2, 2));
  const loose = (v: unknown) => v as never;
  assert.throws(
    () => [...m.namedParameters(loose({ recurse: false }))],
    /namedParameters: the prefix must be a string, got an object; write namedParameters\("", false\)/,
  );
  assert.throws(() => m.parameters(loose("x")), /parameters: recurse must be true or false/);
  assert.throws(() => m.stateDict(loose({ keepVars: true })), /keep_vars has no counterpart/);
  assert.throws(
    () => [...m.namedModules(loose(new Set()))],
    /namedModules: the prefix must be a string/,
  );
  const buffers = m.buffers as (...args: unknown[]) => unknown;
  assert.throws(() => buffers.call(m, true, 1), /buffers: takes at most 1 arguments/);
});

Deno.test("isinstance(m, _BatchNorm): nn.BatchNormBase covers SyncBatchNorm, which is no BatchNorm2d", () => {
  const model = new nn.Sequential(
    new nn.Conv2d(1, 2, 3),
    new nn.BatchNorm2d(2),
    new nn.InstanceNorm2d(2),
  );
  const sync = distributed.convertSyncBatchnorm(model) as nn.Sequential;
  const bn = sync[1];
  assert.equal(bn instanceof nn.BatchNorm2d, false);
  assert.equal(bn instanceof nn.BatchNormBase, true);
  assert.equal(sync[2] instanceof nn.InstanceNormBase, true);
  assert.equal(sync[2] instanceof nn.NormBase, true);
  assert.equal(sync[0] instanceof nn.NormBase, false);
  assert.equal(weightDecayGroups(sync).norm.length, 2);
});

Deno.test("output.max(1)[1] and const [, pred] = output.max(1) throw naming argmax; tensor(t) names clone().detach()", () => {
  const x = tensor([1, 5, 3, 2], [2, 2]);
  const loose = x as unknown as Record<number, unknown> & Iterable<unknown>;
  assert.throws(() => loose[1], /Tensor has no \[1\]: torch's x\[i\] is x.select\(0, i\).*argmax/);
  assert.throws(() => loose[0], /Tensor has no \[0\]/);
  // Destructuring and for-of throw naming what to write (rows would read two rows of values).
  assert.throws(() => {
    const [, pred] = loose;
    return pred;
  }, /Tensor is not iterable: torch's `for row in x` is x.unbind\(0\).*argmax\(dim\) the indices/);
  assert.throws(() => {
    const rows = [];
    for (const row of loose) rows.push(row);
    return rows;
  }, /Tensor is not iterable/);
  assert.throws(() => [...loose], /Tensor is not iterable/);
  // A tensor is no dataset stream either: the loader names TensorDataset.
  assert.throws(
    () => new data.DataLoader(x as never, { batchSize: 2 }),
    /got a Tensor of shape \[2,2\] \(torch's TensorDataset\(x, y\) is new data.TensorDataset/,
  );
  // torch.tensor(t) and torch.tensor([t0, t1]) say what to write.
  assert.throws(() => tensor(x as never), /torch.tensor\(t\) copy is t.clone\(\).detach\(\)/);
  assert.throws(() => tensor([x, x] as never), /a Tensor \[2,2\]: .* is stack\(\[a, b\]\)/);
  // What they meant, and the pairs that do index.
  assert.deepEqual([...x.argmax(1).toArray()], [1, 0]);
  assert.deepEqual([...x.topk(1, 1)[1].toArray()], [1, 0]);
  assert.throws(() => new optim.SGD(x as never, { lr: 1 }), /got one tensor; write \[t\]/);
  assert.throws(() => new optim.SGD([{ params: x as never }], { lr: 1 }), /needs params/);
});

Deno.test("ClassificationPresetEval's Resize(size, interpolation) and Normalize([mean], [std]) on one channel", () => {
  const T = data.transforms;
  const rng = new data.Rng(0);
  const img = { data: Float32Array.from({ length: 24 }, (_, i) => i), width: 6, height: 4 };
  // torchvision 0.14: T.Resize(2, interpolation=NEAREST)(torch.arange(24.).reshape(1, 4, 6))
  const near = new T.Resize({ size: 2, interpolation: "nearest" }).apply(img, rng);
  assert.deepEqual([near.height, near.width, ...near.data], [2, 3, 0, 2, 4, 12, 14, 16]);
  // T.Resize(3, antialias=False): bilinear, as without the option.
  const bil = new T.Resize({ size: 3, interpolation: "bilinear", antialias: false }).apply(
    img,
    rng,
  );
  assert.deepEqual([...bil.data.slice(0, 4)], [1.25, 2.75, 4.25, 5.75]);
  // T.Resize(3, max_size=4, antialias=False)(torch.arange(32.).reshape(1, 4, 8)): [1, 2, 4].
  const wide = { data: Float32Array.from({ length: 32 }, (_, i) => i), width: 8, height: 4 };
  const capped = new T.Resize({ size: 3, maxSize: 4 }).apply(wide, rng);
  assert.deepEqual([capped.height, capped.width, ...capped.data], [
    2,
    4,
    4.5,
    6.5,
    8.5,
    10.5,
    20.5,
    22.5,
    24.5,
    26.5,
  ]);
  assert.throws(
    () => new T.Resize({ size: [3, 3], maxSize: 5 }),
    /maxSize goes with a number size/,
  );
  assert.throws(() => new T.Resize({ size: 3, maxSize: 3 }), /maxSize must be above size/);
  assert.throws(
    () => new T.Resize({ size: 3, interpolation: "nearest", antialias: true }),
    /Resize: antialias goes with interpolation "bilinear" or "bicubic"/,
  );
  const norm = new T.Normalize({ mean: [0.5], std: [0.25] });
  assert.deepEqual([
    ...norm.apply({ data: new Float32Array([0.5, 1]), width: 2, height: 1 }, rng).data,
  ], [0, 2]);
  assert.throws(
    () => new T.Normalize({ mean: [0.485, 0.456, 0.406] as never, std: 0.2 }),
    /mean has 3 values .* these images have one channel: write mean: 0.485/,
  );
});

Deno.test("torch.inference_mode() and a typed torch.load of the recipe's checkpoint", async () => {
  const w = tensor([1, 2], undefined, { requiresGrad: true });
  assert.equal(inferenceMode(() => w.mul(3)).requiresGrad, false);
  assert.throws(() => inferenceMode(1 as never), /inferenceMode: expected a function/);
  const model = new nn.Linear(2, 1);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await io.save(path, { model: model.stateDict(), epoch: 3 });
    // The recipe's resume: checkpoint["model"], checkpoint["epoch"], typed as the caller knows them.
    const ck = await io.load<{ model: Map<string, Tensor>; epoch: number }>(path);
    assert.deepEqual(model.loadStateDict(ck.model), { missingKeys: [], unexpectedKeys: [] });
    assert.equal(ck.epoch, 3);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("Resize nearest picks torch's source pixels where the float64 product is whole (124 -> 224)", () => {
  const img = {
    data: Float32Array.from({ length: 124 * 124 }, (_, i) => i % 124 + 1000 * Math.floor(i / 124)),
    width: 124,
    height: 124,
  };
  const T = data.transforms;
  const out = new T.Resize({ size: [224, 224], interpolation: "nearest" }).apply(
    img,
    new data.Rng(0),
  );
  // torchvision 0.14: T.Resize([224, 224], interpolation=NEAREST)(torch.arange(124.).repeat(124, 1)[None])
  // columns 56, 112, 168 -> 30, 61, 92 (floorf in float32, not the next pixel).
  assert.deepEqual([56, 112, 168].map((c) => out.data[c]), [30, 61, 92]);
  assert.deepEqual([56, 112, 168].map((r) => Math.floor(out.data[r * 224] / 1000)), [30, 61, 92]);
});

Deno.test("F.resize(img, 16) and F.resizedCrop(..., 16): the smaller edge, as torchvision's (not a square)", () => {
  const F = data.transforms.F;
  const img = { data: new Float32Array(64 * 48), width: 64, height: 48 };
  // torchvision 0.14: TF.resize(x, 16) and TF.resized_crop(x, 0, 0, 48, 64, 16) on [1, 48, 64]: [1, 16, 21].
  for (const out of [F.resize(img, 16), F.resizedCrop(img, 0, 0, 48, 64, 16)]) {
    assert.deepEqual([out.height, out.width], [16, 21]);
  }
  assert.deepEqual([F.resize(img, [16, 16]).height, F.resize(img, [16, 16]).width], [16, 16]);
  const r = new data.transforms.Resize({ size: 16 }).apply(img, new data.Rng(0));
  assert.deepEqual([r.height, r.width], [16, 21]);
});

Deno.test("bilinear warps of a one-pixel-high or -wide image read no neighbour past the edge (was NaN)", () => {
  const F = data.transforms.F;
  const row = { data: new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]), width: 7, height: 1 };
  // torchvision 0.14: TF.rotate(torch.tensor([.1, ..., .7]).reshape(1, 1, 7), 30, interpolation=BILINEAR)
  const turned = F.rotate(row, 30, { interpolation: "bilinear" });
  assertClose(turned.data, [0, 0, 0.15669873356819153, 0.4, 0.24330127239227295, 0, 0], {
    atol: 1e-6,
  });
  const column = { ...row, width: 1, height: 7 };
  const same = F.applyAugmentOp(column, "TranslateX", 0, { interpolation: "bilinear" });
  assertClose(same.data, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], { atol: 1e-6 });
});

Deno.test("autocontrast with a NaN pixel leaves the rest as torch's; fill: [v] as torchvision's list; F.resize's 4th number named", () => {
  const F = data.transforms.F;
  const img = {
    data: Float32Array.from([0.1, NaN, 0.5, 2, -1, 0.7, 0.3, 0.9, 0.2]),
    width: 3,
    height: 3,
  };
  // torch: amin/amax are NaN, so the scale is not finite: min 0, scale 1, then clamp to [0, 1].
  const out = F.applyAugmentOp(img, "AutoContrast", 0);
  assert.deepEqual([...out.data].map((v) => Number.isNaN(v) ? "nan" : Math.fround(v)), [
    Math.fround(0.1),
    "nan",
    0.5,
    1,
    0,
    Math.fround(0.7),
    Math.fround(0.3),
    Math.fround(0.9),
    Math.fround(0.2),
  ]);
  const flat = { data: new Float32Array(16).fill(0.3), width: 4, height: 4 };
  const a = F.applyAugmentOp(flat, "TranslateX", 2, { fill: [0.5] });
  const b = F.applyAugmentOp(flat, "TranslateX", 2, { fill: 0.5 });
  assert.deepEqual([...a.data], [...b.data]);
  assert.throws(
    () => new data.transforms.TrivialAugmentWide({ fill: [0.5, 0.5] as never }),
    /fill has 2 values/,
  );
  assert.throws(
    () => F.resize(flat, [2, 2], "bilinear", 300 as never),
    /max_size, which is Resize's maxSize/,
  );
});

Deno.test("F.avgPool2d and nn.AvgPool2d take an unbatched [C, H, W], as torch (gradient too)", () => {
  const x = tensor(Array.from({ length: 40 }, (_, i) => i), [2, 4, 5], { requiresGrad: true });
  // torch 1.13: F.avg_pool2d(torch.arange(40.).reshape(2, 4, 5), 2)
  const y = functional.avgPool2d(x, 2);
  assert.deepEqual([...y.shape], [2, 2, 2]);
  assert.deepEqual([...y.toArray()], [3, 5, 13, 15, 23, 25, 33, 35]);
  // F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)[0, 0, :6]
  const z = new nn.AvgPool2d(3, { stride: 1, padding: 1, countIncludePad: false })(x);
  assert.deepEqual([...z.toArray().slice(0, 6)], [3, 3.5, 4.5, 5.5, 6, 5.5]);
  y.sum().backward();
  assert.deepEqual([...x.grad!.toArray().slice(0, 5)], [0.25, 0.25, 0.25, 0.25, 0]);
});
