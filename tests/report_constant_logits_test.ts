/**
 * The evaluation report of a model whose logits do not change with the
 * image (a fresh VisionTransformer: torchvision initialises its head to
 * zeros): Grad-CAM has nothing to explain and says so (ConstantLogitsError),
 * and the report keeps its numbers and mistakes without heat maps, with a
 * one-line warning, where the whole `deno task evaluate` used to fail at the
 * heat maps after computing everything. A CNN's report keeps its heat maps.
 */
import assert from "node:assert/strict";
import { models, type nn } from "../mod.ts";
import { ResizedSplit } from "../src/train/resized_split.ts";
import { testSplit } from "../src/train/test_report.ts";
import { capture, withTinyLiTS } from "./train_data.ts";

/** testSplit of `model` on the tiny split, what it warned, and how many mistakes have heat maps. */
async function evaluate(root: string, model: nn.Module) {
  const ds = new ResizedSplit({ root, split: "test" });
  let result: Awaited<ReturnType<typeof testSplit>> | null = null;
  const { code, stderr } = await capture(async () => {
    result = await testSplit(model, ds, {
      batchSize: 4,
      transform: [],
      workers: 0,
      device: "cpu",
    });
    return 0;
  }, []);
  assert.equal(code, 0);
  const mistakes = result!.evaluation.misclassified;
  return { stderr, mistakes: mistakes.length, maps: mistakes.filter((m) => m.heatmap).length };
}

Deno.test("report: a model whose logits ignore the image keeps its numbers, without heat maps", async () => {
  await withTinyLiTS(32, async (root) => {
    using vit = new models.VisionTransformer(
      { name: "ViT tiny", patchSize: 8, numLayers: 1, numHeads: 2, hiddenDim: 16, mlpDim: 32 },
      { imageSize: 32, inChannels: 1, numClasses: 3 },
    );
    const v = await evaluate(root, vit);
    assert.ok(v.mistakes > 0, "a fresh model makes mistakes");
    assert.equal(v.maps, 0);
    assert.match(
      v.stderr,
      /report: no Grad-CAM heat maps: gradCam: every token of layer .*zero gradient/,
    );
    using cnn = models.create("simple", { imageSize: 32 }) as nn.Module;
    const c = await evaluate(root, cnn);
    assert.ok(c.mistakes > 0);
    assert.equal(c.maps, c.mistakes, "every mistake of a CNN gets its heat map");
    assert.doesNotMatch(c.stderr, /no Grad-CAM/);
  });
});
