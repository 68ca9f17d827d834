/**
 * What the review of the s11 changes found: products whose inner dimension
 * is 0 with an operand of three or more dimensions (zeros, or the bias, as
 * torch's; they threw reshape's "-1" error), and the commands that read a
 * plain state dict (`deno task evaluate`, predict, export): a volume model's
 * name, an `--image-size` that is not a multiple of a ViT's patch, and a
 * split whose images are smaller than the model takes are bad flags (exit
 * 2) that say what to give, not models.create's errors (exit 1).
 * Fixture: tests/fixtures/review_s11.json (scripts/make_review_s11_fixtures.py).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { functional as F, inner, io, matmul, type Tensor, train, zeros } from "../mod.ts";
import { weightsSpec } from "../src/train/flag_specs.ts";
import { UsageError } from "../src/train/errors.ts";
import { capture, withTinyLiTS } from "./train_data.ts";
import { assertStored, fromStored, loadFixture, messageOf, type Stored } from "./helpers.ts";

interface ProductCase {
  name: string;
  op: "matmul" | "linear" | "inner";
  shapes: number[][];
  bias: Stored | null;
  G: Stored;
  out: Stored;
  grads: Stored[];
}
const FX = loadFixture<{ emptyProducts: ProductCase[] }>("review_s11.json");

Deno.test("matmul, F.linear, inner: an inner dimension of 0 with 3-D operands gives torch's zeros and gradients", () => {
  for (const c of FX.emptyProducts) {
    // The operands have no elements to store; the bias does.
    const xs = c.shapes.map((s) => zeros(s, { requiresGrad: true }));
    const b = c.bias ? fromStored(c.bias, { requiresGrad: true }) : null;
    const y: Tensor = c.op === "matmul"
      ? matmul(xs[0], xs[1])
      : c.op === "linear"
      ? F.linear(xs[0], xs[1], b)
      : inner(xs[0], xs[1]);
    assertStored(y, c.out, `${c.name}: output`);
    y.mul(fromStored(c.G)).sum().backward();
    [...xs, ...(b ? [b] : [])].forEach((t, i) => {
      assertStored(t.grad, c.grads[i], `${c.name}: gradient ${i}`);
    });
  }
});

Deno.test("weightsSpec: a volume model's name and a ViT side off its patch grid are bad flags", () => {
  const plain = { checkpoint: "w.safetensors", "image-size": 32 };
  for (const model of ["resnet3d18", "densenet3d121"]) {
    assert.throws(
      () => weightsSpec(null, { ...plain, model }, "--model"),
      (err: unknown) => err instanceof UsageError,
    );
    assert.match(
      messageOf(() => weightsSpec(null, { ...plain, model }, "--model")),
      new RegExp(
        `^--model ${model}: a volume model \\(input \\[N, C, D, H, W\\]\\); the commands take ` +
          "the 2-D models: simple, alexnet, .*googlenet$",
      ),
    );
  }
  const vit = () =>
    weightsSpec(
      null,
      { checkpoint: "w.safetensors", model: "vit_b_16", "image-size": 40 },
      "--model",
    );
  assert.throws(vit, (err: unknown) => err instanceof UsageError);
  assert.match(
    messageOf(vit),
    /^--image-size 40: model vit_b_16 cuts the images into 16 x 16 patches; give --image-size 32 or 48$/,
  );
  // A side on the grid, and the other models' sides, stay as they were.
  assert.equal(
    weightsSpec(null, { checkpoint: "w", model: "vit_b_16", "image-size": 48 }, "--model").options
      .imageSize,
    48,
  );
  assert.equal(
    weightsSpec(null, { checkpoint: "w", model: "resnet18", "image-size": 40 }, "--model").name,
    "resnet18",
  );
});

Deno.test("evaluate: a plain state dict on images below the model's side says to give --image-size (exit 2)", async () => {
  await withTinyLiTS(40, async (root, dir) => {
    // The refusals come before the model is built: any plain state dict will do.
    using w = zeros([1]);
    const file = join(dir, "plain.safetensors");
    await io.saveSafetensors(file, new Map([["x", w]]));
    const evaluate = (model: string) =>
      capture(train.evaluateMain, [
        "--checkpoint",
        file,
        "--model",
        model,
        "--data",
        root,
        "--split",
        "test",
        "--out",
        join(dir, "report.html"),
      ]);
    const inc = await evaluate("inception_v3");
    assert.equal(inc.code, 2, inc.stderr);
    assert.match(
      inc.stderr,
      /the images are 40x40 and model inception_v3 needs images of at least 75 pixels; give --image-size 75 or more \(they are resized to it\)/,
    );
    const vit = await evaluate("vit_b_16");
    assert.equal(vit.code, 2, vit.stderr);
    assert.match(
      vit.stderr,
      /the images are 40x40 and model vit_b_16 cuts them into 16 x 16 patches; give --image-size 32 or 48/,
    );
    const volume = await evaluate("resnet3d10");
    assert.equal(volume.code, 2, volume.stderr);
    assert.match(volume.stderr, /--model resnet3d10: a volume model/);
  });
});
