/**
 * MONAI's 3d_classification tutorial (densenet_training_array.py, its dict
 * variant and densenet_evaluation_array.py) as a MONAI user ports it:
 * the validation pipeline on NIfTI files written here, batched by the
 * DataLoader, and RandRotate90 in the loader, against the numbers MONAI's
 * code paths give in PyTorch 1.13 (tests/fixtures/monai3d.json, from
 * scripts/make_monai3d_fixtures.py); the AUC of the dict variant against
 * MONAI's ROCAUCMetric; and every line that is spelled otherwise here
 * (`len(value)` as `value.length`, MONAI's class names) throwing what to
 * write.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { data, metrics, models, tensor } from "../mod.ts";
import { assertClose, fromStored, loadFixture, messageOf, type Stored } from "./helpers.ts";
import { encodeNifti } from "./nifti_files.ts";

const V = data.transforms.volume;
const FX = loadFixture<{
  torch: string;
  size: [number, number, number];
  volumes: { dims: number[]; label: number; values: number[] }[];
  batch: Stored;
  rotated: Stored;
  auc: { name: string; labels: Stored; logits: Stored; auc: number }[];
}>("monai3d.json");

/** The fixture's volumes as .nii files in a fresh folder: the tutorial's items. */
async function writeItems(): Promise<{ dir: string; items: data.VolumeItem[] }> {
  const dir = await Deno.makeTempDir({ prefix: "monai3d_" });
  const items = await Promise.all(FX.volumes.map(async (v, n) => {
    const image = join(dir, `IXI${n}-T1.nii`);
    await Deno.writeFile(image, encodeNifti(v.dims, v.values, [1, 1, 1]));
    return { image, label: v.label };
  }));
  return { dir, items };
}

Deno.test(`monai3d fixtures: written by PyTorch ${FX.torch}`, () => {
  assert.ok(FX.torch.startsWith("1.13"));
});

Deno.test("monai3d: val_transforms (ScaleIntensity, Resize area) batched as MONAI's DataLoader", async () => {
  const { dir, items } = await writeItems();
  try {
    // Compose([ScaleIntensity(), EnsureChannelFirst(), Resize((4, 4, 4))]): the dataset reads
    // channel-first, so EnsureChannelFirst is left out.
    const valTransforms = V.compose([
      new V.ScaleIntensity(),
      new V.Resize({ spatialSize: FX.size }),
    ]);
    const valDs = new data.VolumeDataset(items, { transform: valTransforms });
    const valLoader = new data.DataLoader(valDs, { batchSize: 2 });
    let batches = 0;
    for await (using valData of valLoader) {
      batches++;
      assert.deepEqual(valData[0].shape, FX.batch.shape);
      assertClose(valData[0], FX.batch.data, { what: "val batch" });
      assert.deepEqual([...valData[1].toArray()], FX.volumes.map((v) => v.label));
    }
    assert.equal(batches, 1);
    // RandRotate90 goes to the loader; with prob 1 and max_k 1 it is torch.rot90(x, 1, (1, 2)).
    const rotLoader = new data.DataLoader(valDs, {
      batchSize: 2,
      transform: V.compose([new V.RandRotate90({ p: 1, maxK: 1 })]),
    });
    for await (using batch of rotLoader) {
      assertClose(batch.images, FX.rotated.data, { what: "rotated batch" });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monai3d: the tutorial's pipeline in one Compose names the loader and the dataset", () => {
  // RandRotate90 in the dataset's transform: it is drawn per sample and epoch in the loader.
  assert.match(
    messageOf(() =>
      new data.VolumeDataset([{ image: "a.nii.gz", label: 0 }], {
        transform: V.compose([new V.ScaleIntensity(), new V.RandRotate90()]),
      })
    ),
    /RandRotate90, a random transform.*new data\.DataLoader\(ds, \{ transform/,
  );
  assert.match(messageOf(() => new V.EnsureChannelFirst()), /reads each file channel-first/);
  assert.match(messageOf(() => V.AddChannel()), /reads each file channel-first/);
  assert.match(messageOf(() => new V.LoadImage()), /data\.VolumeDataset reads the NIfTI files/);
  assert.match(
    messageOf(() => new data.ImageDataset({ image_files: ["a.nii.gz"], labels: [0] })),
    /new data\.VolumeDataset\(images\.map\(\(image, i\) => \(\{ image, label: labels\[i\] \}\)\)/,
  );
  assert.match(
    messageOf(() => new V.Resize([96, 96, 96] as never)),
    /write it as new data\.transforms\.volume\.Resize\(\{ spatialSize/,
  );
  assert.match(messageOf(() => new V.RandRotate90({ prob: 0.8 } as never)), /write 'p'/);
});

Deno.test("monai3d: the dict variant's transform names name the array transforms", () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new V.LoadImaged({ keys: ["img"], ensure_channel_first: true }), /VolumeDataset/],
    [() => new V.ScaleIntensityd({ keys: ["img"] }), /new V\.ScaleIntensity\(\)/],
    [() => new V.Resized({ keys: ["img"] }), /new V\.Resize\(\{ spatialSize/],
    [() => new V.RandRotate90d({ keys: ["img"] }), /RandRotate90\(\{ p: 0\.8, spatialAxes/],
    [() => new V.Activations({ softmax: true }), /yPred\.softmax\(1\)/],
    [() => new V.AsDiscrete({ to_onehot: 2 }), /class indices as they are/],
    [() => data.decollateBatch([]), /unbind\(0\)/],
    [() => new metrics.ROCAUCMetric(), /metrics\.rocAucScore\(y, yPred\.softmax\(1\)\)/],
    [() => metrics.compute_roc_auc([], []), /rocAucScore/],
  ];
  for (const [f, want] of cases) assert.match(messageOf(f), want);
  // Not volume transforms: the registry and a Compose do not take them.
  assert.ok(!V.transformNames().includes("volume.EnsureChannelFirst"));
});

Deno.test("monai3d: DenseNet121(spatial_dims=3, ...) names models.densenet3d121", () => {
  const want = /models\.densenet3d121\(\{ inChannels: 1, numClasses: 2 \}\)/;
  assert.match(
    messageOf(() => new models.DenseNet121({ spatial_dims: 3, in_channels: 1, out_channels: 2 })),
    want,
  );
  assert.match(
    messageOf(() => models.densenet121({ spatialDims: 3, inChannels: 1, numClasses: 2 } as never)),
    want,
  );
  assert.match(
    messageOf(() => models.densenet161({ spatial_dims: 3 } as never)),
    /densenet3d121\/169\/201\/264/,
  );
  assert.match(
    messageOf(() =>
      models.densenet3d121({ spatialDims: 3, inChannels: 1, outChannels: 2 } as never)
    ),
    /out_channels is numClasses/,
  );
});

Deno.test("monai3d: accuracy as the tutorial counts it; len(value) as value.length throws", () => {
  using valOutputs = tensor(new Float32Array([0.2, 0.9, 0.7, 0.1, 0.3, 0.4]), [3, 2]);
  using valLabels = tensor(new Int32Array([1, 0, 0]), [3], { dtype: "int32" });
  using value = valOutputs.argmax(1).eq(valLabels);
  // metric_count += len(value) gave undefined, and the accuracy NaN.
  assert.match(
    messageOf(() => (value as unknown as { length: number }).length),
    /torch's len\(x\) is x\.shape\[0\]/,
  );
  using correct = value.sum();
  assert.equal(correct.item() / value.shape[0], 2 / 3);
});

Deno.test("monai3d: a dataset whose labels field is a Tensor is still read per sample", async () => {
  using labels = tensor(new Int32Array([1, 0]), [2], { dtype: "int32" });
  const ds = {
    length: 2,
    labels,
    get: (i: number) =>
      Promise.resolve({
        image: { data: new Float32Array(1), width: 1, height: 1 },
        label: [0, 1][i],
      }),
  };
  assert.deepEqual([...await data.datasetLabels(ds)], [0, 1]);
});

Deno.test("monai3d: the dict variant's AUC is MONAI's ROCAUCMetric (macro, one-hot)", () => {
  for (const c of FX.auc) {
    using logits = fromStored(c.logits);
    using probs = logits.softmax(1);
    using y = fromStored(c.labels);
    const auc = metrics.rocAucScore(y, probs);
    assert.ok(Math.abs(auc - c.auc) < 1e-6, `${c.name}: ${auc} vs MONAI's ${c.auc}`);
  }
});
