"""Writes tests/fixtures/notebook.json: what a community fine-tuning notebook
(ImageFolder, weighted CrossEntropyLoss, SGD parameter groups,
ReduceLROnPlateau on macro-F1, torch.save of a checkpoint dict, sklearn's
report and ROC AUC) leaves behind, for tests/notebook_test.ts.

- "ckpt": a torch.save'd checkpoint dict (base64 of the .pth bytes) of a
  small Linear head after one SGD step (momentum, weight decay, two
  parameter groups), holding the notebook's `best_f1` as sklearn returns it
  (numpy.float64) and other numpy scalars; the batch and the loss of the next
  step after torch.load + load_state_dict, to check the resume.
- "numpy_array": a checkpoint holding a numpy array, which stays refused.
- "metrics": sklearn's roc_auc_score(multi_class="ovr") and the text of
  classification_report(target_names, digits=4) on fixed predictions.

Inputs are float32 written with 9 significant digits. Run with
/usr/bin/python3 scripts/make_notebook_fixtures.py (PyTorch 1.13, sklearn 1.2).
"""
import base64
import io
import json
import os

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import classification_report, f1_score, roc_auc_score

torch.set_num_threads(1)
torch.manual_seed(20261206)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "notebook.json")


def f32(t):
    return [float("%.9g" % v) for v in t.detach().flatten().tolist()]


def pth(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    return base64.b64encode(buf.getvalue()).decode()


# ---- the checkpoint: a head trained one step, then resumed one step
model = nn.Linear(4, 3)
model.weight.data = torch.tensor(f32(model.weight)).reshape(3, 4)
model.bias.data = torch.tensor(f32(model.bias))
init = {"weight": f32(model.weight), "bias": f32(model.bias)}
weights = torch.tensor([0.5, 0.3, 0.2])  # 1 / counts, normalised
crit = nn.CrossEntropyLoss(weight=weights)
opt = torch.optim.SGD([{"params": [model.weight], "lr": 1e-2}, {"params": [model.bias]}],
                      lr=1e-1, momentum=0.9, weight_decay=1e-4)
x1 = torch.tensor(f32(torch.randn(6, 4))).reshape(6, 4)
y1 = torch.tensor([0, 1, 2, 2, 1, 0])
x2 = torch.tensor(f32(torch.randn(6, 4))).reshape(6, 4)
y2 = torch.tensor([2, 2, 0, 1, 0, 1])
opt.zero_grad()
crit(model(x1), y1).backward()
opt.step()
y_val = np.array([0, 1, 2, 2, 1, 0])
best_f1 = f1_score(y_val, model(x1).argmax(1).numpy(), average="macro")  # numpy.float64
assert isinstance(best_f1, np.float64)
ckpt = {"epoch": 3, "model_state_dict": model.state_dict(),
        "optimizer_state_dict": opt.state_dict(), "best_f1": best_f1,
        "scalars": {"f4": np.float32(0.25), "f2": np.float16(-1.5), "i8": np.int64(-7),
                    "i4": np.int32(123456), "u1": np.uint8(200), "b": np.bool_(True),
                    "big": np.float64(1e300)}}
ckpt_b64 = pth(ckpt)
opt.zero_grad()
loss2 = crit(model(x2), y2)
loss2.backward()
opt.step()

# ---- metrics on fixed predictions
probs = torch.softmax(torch.randn(12, 3), dim=1)
probs = probs / probs.sum(1, keepdim=True)
y_true = [0, 1, 2, 2, 1, 0, 2, 2, 0, 1, 2, 0]
y_pred = probs.argmax(1).tolist()
metrics = {
    "y": y_true, "pred": y_pred, "probs": [f32(r) for r in probs],
    "auc_ovr": roc_auc_score(y_true, np.array([f32(r) for r in probs], dtype=np.float64),
                             multi_class="ovr"),
    "report": classification_report(y_true, y_pred, target_names=["benign", "malignant", "normal"],
                                    digits=4, zero_division=0),
}

fixture = {
    "ckpt": {"pth": ckpt_b64, "init": init, "best_f1": float(best_f1), "epoch": 3,
             "x2": f32(x2), "y2": y2.tolist(), "loss2": float("%.9g" % loss2.item()),
             "weight_after": f32(model.weight), "bias_after": f32(model.bias),
             "class_weights": f32(weights)},
    "numpy_array": pth({"a": np.arange(3.0)}),
    "metrics": metrics,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
