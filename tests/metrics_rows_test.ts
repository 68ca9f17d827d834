/**
 * Metrics given lists of per-sample Tensors, as MONAI's `decollate_batch`
 * or a loop of `outputs.push(probs[0])` gives them: [C] (or [1, C]) rows
 * for a score matrix, one-element Tensors for labels and binary scores.
 * These were read as rows of NaN ("row 0 of the score matrix sums to NaN
 * ... needs probabilities") and labels as "[object Object]". They now equal
 * the stacked Tensor's result; sklearn 1.2.1 gives 0.91666... for the
 * stacked probabilities (roc_auc_score(y, torch.stack(rows).numpy(),
 * multi_class="ovr")), 0.86111... for the macro AP, 0.75 for the binary
 * case; it takes lists of 0-d tensors too, and raises an "inhomogeneous
 * shape" ValueError for a list of [C] tensors, which MONAI stacks.
 */
import assert from "node:assert/strict";
import { metrics, stack, tensor } from "../mod.ts";

const y = [0, 1, 2, 2, 1, 0];
const probRows = [
  [0.7, 0.2, 0.1],
  [0.1, 0.6, 0.3],
  [0.1, 0.2, 0.7],
  [0.2, 0.5, 0.3],
  [0.3, 0.4, 0.3],
  [0.6, 0.3, 0.1],
];

Deno.test("score rows given as per-sample Tensors equal the stacked [N, C] Tensor", () => {
  const rows = probRows.map((r) => tensor(r));
  const wide = probRows.map((r) => tensor([r])); // [1, C] each, batch size 1
  using probs = stack(rows);
  try {
    const want = metrics.rocAuc(y, probs);
    assert.ok(Math.abs(want - 0.9166666666666666) < 1e-12, `${want}`);
    assert.equal(metrics.rocAuc(y, rows), want);
    assert.equal(metrics.rocAuc(y, wide), want);
    assert.equal(
      metrics.rocAuc(y, rows, { average: "weighted" }),
      metrics.rocAuc(y, probs, {
        average: "weighted",
      }),
    );
    const ap = metrics.averagePrecision(y, rows);
    assert.ok(Math.abs(ap - 0.861111111111111) < 1e-12, `${ap}`);
    assert.equal(ap, metrics.averagePrecision(y, probs));
  } finally {
    for (const t of [...rows, ...wide]) t.dispose();
  }
});

Deno.test("labels and binary scores given as one-element Tensors", () => {
  const yt = y.map((v) => tensor(new Int32Array([v]), []));
  const pred = [0, 1, 2, 1, 1, 0].map((v) => tensor(new Int32Array([v]), [1]));
  const yb = [0, 0, 1, 1].map((v) => tensor(new Int32Array([v]), []));
  const sb = [0.1, 0.4, 0.35, 0.8].map((v) => tensor([v]).reshape([]));
  const rows = probRows.map((r) => tensor(r));
  try {
    // sklearn: confusion_matrix of lists of 0-d tensors.
    assert.deepEqual(metrics.confusionMatrix(yt, pred, 3), [[2, 0, 0], [0, 2, 0], [0, 1, 1]]);
    const r = metrics.classificationReport(yt, pred);
    assert.deepEqual(r, metrics.classificationReport(y, [0, 1, 2, 1, 1, 0]));
    assert.equal(metrics.rocAuc(yt, rows), metrics.rocAuc(y, probRows));
    assert.ok(Math.abs(metrics.rocAuc(yb, sb) - 0.75) < 1e-7); // roc_auc_score: 0.75
    assert.deepEqual(metrics.rocCurve(yb, sb).tpr, [0, 0.5, 0.5, 1, 1]);
  } finally {
    for (const t of [...yt, ...pred, ...yb, ...sb, ...rows]) t.dispose();
  }
});

Deno.test("lists of Tensors that are not one sample each say what to pass", () => {
  using batch = tensor([probRows.slice(0, 3)].flat()); // [3, 3]: a batch, not a row
  using one = tensor(probRows[0]);
  using short = tensor([0.5, 0.5]);
  assert.throws(
    () => metrics.rocAuc([0, 1, 2], [batch, batch, batch]),
    /rocAuc: scores\[0\] is a Tensor of shape \[3,3\] \(float32\); each entry of a list must be one sample's scores.*one \[N, C\] Tensor \(cat\(batches\) or stack\(rows\)\)/,
  );
  assert.throws(
    () => metrics.rocAuc([0, 1], [one, short]),
    /scores is a list of per-sample Tensors but scores\[1\] is a Tensor of shape \[2\] \(float32\), not a row of 3 scores/,
  );
  // One-hot or logit rows as labels: one number per sample is needed.
  assert.throws(
    () => metrics.confusionMatrix([one, one] as never, [0, 1], 3),
    /confusionMatrix: yTrue\[0\] is a Tensor of shape \[3\] \(float32\); a label is one number per sample.*argmax/,
  );
  // A number list with a Tensor in it is named, not read as NaN.
  assert.throws(
    () => metrics.rocAuc([0, 1], [0.5, one]),
    /rocAuc: scores\[0\] is a number but scores\[1\] is a Tensor of shape \[3\]/,
  );
});
