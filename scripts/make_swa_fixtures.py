"""Writes tests/fixtures/swa.json: PyTorch 1.13's numbers for
torch.optim.swa_utils (AveragedModel, SWALR, update_bn) and torchvision's
reference ExponentialMovingAverage (tests/swa_test.ts).

- "train": a small model (Linear, BatchNorm1d, ReLU, Linear), its initial
  state dict and 5 batches; 5 SGD steps (momentum 0.9) on cross-entropy,
  with update_parameters after each step on four averaged copies: the
  default SWA average, SWA with use_buffers=True, torchvision's EMA
  (decay 0.8) and a custom avg_fn that reads num_averaged. After each step:
  the model's state dict and each averaged model's (module.* and
  n_averaged).
- "swalr": lr traces (lastLr after construction and after each step, and
  last_epoch at the end) of SWALR over an SGD with two groups: cos and
  linear, a swa_lr per group, anneal_epochs 0, after a CosineAnnealingLR,
  with last_epoch given, and with an lr set by hand between steps;
  "sequential": SequentialLR from CosineAnnealingLR to SWALR.
- "bn": update_bn over 3 batches (8 samples, batch size 3) of a model with
  BatchNorm2d and BatchNorm1d (momentum 0.3) whose running statistics were
  set to other values first, in eval mode: the state dict after it, and
  the same through an AveragedModel.

Run with /usr/bin/python3 scripts/make_swa_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn

from fixture_json import ser

warnings.simplefilter("ignore")  # the schedulers' "call optimizer.step() first" warning
torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "swa.json")


class ExponentialMovingAverage(AveragedModel):
    """torchvision 0.14's references/classification/utils.py, as written there."""

    def __init__(self, model, decay, device="cpu"):
        def ema_avg(avg_model_param, model_param, num_averaged):
            return decay * avg_model_param + (1 - decay) * model_param

        super().__init__(model, device, ema_avg, use_buffers=True)


def sd(m):
    return {k: ser(v) for k, v in m.state_dict().items()}


# ---- AveragedModel / EMA over 5 SGD steps ----
net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
initial = sd(net)
batches = [(torch.randn(5, 4), torch.randint(0, 3, (5,))) for _ in range(5)]
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
EMA_DECAY = 0.8
averagers = {
    "swa": AveragedModel(net),
    "swaBuffers": AveragedModel(net, use_buffers=True),
    "ema": ExponentialMovingAverage(net, EMA_DECAY),
    "custom": AveragedModel(net, avg_fn=lambda a, m, n: a + (m - a) * 2.0 / (n + 2)),
}
steps = []
for x, y in batches:
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    opt.step()
    for a in averagers.values():
        a.update_parameters(net)
    steps.append({"model": sd(net), **{k: sd(a) for k, a in averagers.items()}})
train = {
    "initial": initial,
    "batches": [{"x": ser(x), "y": ser(y)} for x, y in batches],
    "lr": 0.1,
    "momentum": 0.9,
    "emaDecay": EMA_DECAY,
    "keys": list(averagers["swa"].state_dict().keys()),
    "steps": steps,
}


# ---- SWALR ----
def swalr_case(name, steps, swa_lr, before=None, by_hand=None, **kw):
    p1, p2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    o = torch.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.05}], lr=0.1)
    if before is not None:
        pre = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=before["tMax"])
        for _ in range(before["steps"]):
            o.step()
            pre.step()
    s = SWALR(o, swa_lr=swa_lr, **kw)
    lrs = [s.get_last_lr()]
    for i in range(steps):
        if by_hand is not None and i == by_hand["at"]:
            o.param_groups[0]["lr"] = by_hand["lr"]
        o.step()
        s.step()
        lrs.append(s.get_last_lr())
    opts = {"swaLr": swa_lr}
    names = {"anneal_epochs": "annealEpochs", "anneal_strategy": "annealStrategy",
             "last_epoch": "lastEpoch"}
    opts.update({names[k]: v for k, v in kw.items()})
    return {"name": name, "options": opts, "before": before, "byHand": by_hand,
            "lrs": lrs, "lastEpoch": s.last_epoch}


swalr = [
    swalr_case("defaults (cos, 10 anneal epochs)", 13, 0.01),
    swalr_case("cos, 4 anneal epochs", 7, 0.02, anneal_epochs=4),
    swalr_case("linear, a swaLr per group", 6, [0.02, 0.005], anneal_epochs=3,
               anneal_strategy="linear"),
    swalr_case("annealEpochs 0", 3, 0.03, anneal_epochs=0),
    swalr_case("after CosineAnnealingLR", 6, 0.01, before={"tMax": 10, "steps": 3},
               anneal_epochs=3),
    swalr_case("lastEpoch 4 after CosineAnnealingLR", 4, 0.01, before={"tMax": 10, "steps": 2},
               anneal_epochs=3, last_epoch=4),
    swalr_case("lr set by hand mid-anneal", 6, 0.01, by_hand={"at": 2, "lr": 0.5},
               anneal_epochs=4, anneal_strategy="linear"),
]




def sequential_case(steps):
    """SequentialLR from CosineAnnealingLR (T_max 6) to SWALR (anneal 2) at step 3."""
    p1, p2 = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    o = torch.optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.05}], lr=0.1)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=6)
    swa = SWALR(o, swa_lr=0.01, anneal_epochs=2)
    s = torch.optim.lr_scheduler.SequentialLR(o, [cos, swa], milestones=[3])
    lrs = [s.get_last_lr()]
    for _ in range(steps):
        o.step()
        s.step()
        lrs.append(s.get_last_lr())
    return lrs


sequential = sequential_case(7)


# ---- update_bn ----
def bn_net():
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.Flatten(),
                      nn.Linear(48, 5), nn.BatchNorm1d(5, momentum=0.3))
    with torch.no_grad():
        for bn in (m[1], m[5]):
            bn.running_mean.copy_(torch.randn(bn.num_features))
            bn.running_var.copy_(torch.rand(bn.num_features) + 0.5)
            bn.num_batches_tracked.fill_(7)
    return m.eval()


bnm = bn_net()
bn_initial = sd(bnm)
images = torch.randn(8, 1, 4, 4)
labels = torch.randint(0, 3, (8,))
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=3)
swa_bn = AveragedModel(bnm)
update_bn(loader, bnm)
assert not bnm.training and bnm[5].momentum == 0.3
update_bn(loader, swa_bn)
bn = {
    "initial": bn_initial,
    "images": ser(images),
    "labels": ser(labels),
    "batchSize": 3,
    "after": sd(bnm),
    "averaged": sd(swa_bn),
}

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "train": train, "swalr": swalr,
               "sequential": sequential, "bn": bn}, f,
              separators=(",", ":"))
print(OUT, os.path.getsize(OUT), "bytes")
