"""Writes tests/fixtures/monai3d.json: MONAI 1.3's 3d_classification tutorial
(densenet_training_array.py / _dict.py) on two tiny volumes, written in
PyTorch 1.13 from MONAI's code paths, for tests/monai3d_tutorial_test.ts.

- The volumes: float32 [X, Y, Z] arrays, stored i-fastest (NIfTI's order, as
  the test writes them to .nii files) with their dims and labels.
- `val_transforms`: ScaleIntensity() (rescale_array: min-max over the whole
  volume, in float32), EnsureChannelFirst() ([1, X, Y, Z]) and
  Resize((4, 4, 4)) (its default mode "area": F.interpolate), batched [2, 1,
  4, 4, 4] as DataLoader(batch_size=2) gives them.
- RandRotate90(prob=1, max_k=1): torch.rot90(img, 1, (1, 2)) on each.
- ROCAUCMetric()(y_pred_act, y_onehot).aggregate() with the tutorial's
  post transforms (Activations(softmax=True), AsDiscrete(to_onehot=C)):
  MONAI's compute_roc_auc, average "macro" (its rank loop `_calculate`,
  ties counted half), on a binary case with tied scores and a 3-class one.

Run with /usr/bin/python3 scripts/make_monai3d_fixtures.py (PyTorch 1.13).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import enc, ser

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "monai3d.json")
SIZE = (4, 4, 4)

torch.manual_seed(0)
rng = np.random.default_rng(20260901)


def rescale_array(arr, minv=0.0, maxv=1.0):
    """MONAI's rescale_array (ScaleIntensity's default)."""
    arr = arr.to(torch.float32)
    mina, maxa = arr.min(), arr.max()
    if mina == maxa:
        return arr * minv
    norm = (arr - mina) / (maxa - mina)
    return (norm * (maxv - minv)) + minv


def val_transform(x):
    x = rescale_array(x)
    x = x[None]  # EnsureChannelFirst on a 3-D NIfTI: no channel dim, one added
    return F.interpolate(x[None], size=SIZE, mode="area")[0]  # Resize, mode "area"


def calculate(y_pred, y):
    """MONAI's metrics.rocauc._calculate."""
    if len(y.unique()) == 1:
        return float("nan")
    n = len(y)
    indices = y_pred.argsort()
    y = y[indices].numpy()
    y_pred = y_pred[indices].numpy()
    nneg = auc = tmp_pos = tmp_neg = 0.0
    for i in range(n):
        y_i = float(y[i])
        if i + 1 < n and y_pred[i] == y_pred[i + 1]:
            tmp_pos += y_i
            tmp_neg += 1 - y_i
            continue
        if tmp_pos + tmp_neg > 0:
            tmp_pos += y_i
            tmp_neg += 1 - y_i
            nneg += tmp_neg
            auc += tmp_pos * (nneg - tmp_neg / 2)
            tmp_pos = tmp_neg = 0
            continue
        if y_i == 1:
            auc += nneg
        else:
            nneg += 1
    return auc / (nneg * (n - nneg))


def compute_roc_auc_macro(y_pred, y):
    """MONAI's compute_roc_auc with average "macro" on [N, C] scores and one-hot y."""
    return float(np.mean([calculate(p, t) for p, t in zip(y_pred.T, y.T)]))


volumes = []
for dims, label in [((7, 6, 5), 0), ((5, 6, 7), 1)]:
    x = torch.from_numpy(rng.normal(100, 40, dims).astype(np.float32))
    volumes.append({"dims": list(dims), "label": label,
                    "values": [enc(v) for v in x.numpy().flatten(order="F").tolist()],
                    "x": x})
batch = torch.stack([val_transform(v["x"]) for v in volumes])
rotated = torch.stack([torch.rot90(b, 1, (1, 2)) for b in batch])

auc_cases = []
for name, n, c, tie in [("binary with ties", 12, 2, True), ("three classes", 15, 3, False)]:
    y = torch.arange(n) % c
    y = y[torch.randperm(n)]
    logits = torch.randn(n, c)
    if tie:
        logits[3] = logits[0]
        logits[7] = logits[5]
        logits[9] = logits[0]
    probs = torch.softmax(logits, 1)  # Activations(softmax=True) per sample
    onehot = F.one_hot(y, c).to(torch.float32)  # AsDiscrete(to_onehot=c)
    auc_cases.append({"name": name, "labels": ser(y), "logits": ser(logits),
                      "auc": enc(compute_roc_auc_macro(probs, onehot))})

fixture = {
    "torch": torch.__version__,
    "size": list(SIZE),
    "volumes": [{k: v[k] for k in ("dims", "label", "values")} for v in volumes],
    "batch": ser(batch),
    "rotated": ser(rotated),
    "auc": auc_cases,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
