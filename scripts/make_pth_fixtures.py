"""Writes tests/fixtures/pth/: checkpoint files written by PyTorch 1.13's
torch.save, in the zip format and in the legacy one
(_use_new_zipfile_serialization=False), and expected.json with what
io.loadPth must give for them (tests/pth_test.ts, tests/pth_legacy_test.ts).

Then it checks the files OUR writer made (tests/fixtures/pth/ours_*.pth,
written by `LITS_UPDATE_PTH_FIXTURES=1 deno test -A tests/pth_write_test.ts`)
with torch.load and asserts every value, type and dtype. torch 1.13's
weights_only reader has no float opcode, so files holding a float are
loaded with weights_only=False (they are our own files); the others with
weights_only=True.

Run with /usr/bin/python3 scripts/make_pth_fixtures.py (PyTorch 1.13); run it
again after the deno step above to check our files.
"""
import collections
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(20260801)
torch.set_num_threads(1)

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "pth")
os.makedirs(DIR, exist_ok=True)
EXPECTED = {}


def save(obj, name, legacy=False):
    torch.save(obj, os.path.join(DIR, name), _use_new_zipfile_serialization=not legacy)


def values(t):
    """A tensor's elements, row-major, as JSON numbers (inf/nan as strings)."""
    out = []
    for v in t.detach().reshape(-1).tolist():
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, float) and not math.isfinite(v):
            v = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        out.append(v)
    return out


def record(t):
    """What loadPth gives: float32 values (as float32 rounds them) or int32 ones."""
    t = t.detach()
    if t.is_floating_point():
        return {"dtype": "float32", "shape": list(t.shape), "data": values(t.to(torch.float32))}
    return {"dtype": "int32", "shape": list(t.shape), "data": values(t.to(torch.int64))}


# ---------------------------------------------------------------- a small model's state dict


def small_model():
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )


model = small_model()
x = torch.randn(2, 3, 5, 5)
model.train()
for _ in range(2):  # running statistics and num_batches_tracked = 2
    model(torch.randn(2, 3, 5, 5))
model.eval()
sd = model.state_dict()
save(sd, "state_zip.pth")
save(sd, "state_legacy.pth", legacy=True)
EXPECTED["state"] = {
    "names": list(sd.keys()),
    "tensors": {k: record(v) for k, v in sd.items()},
    "input": record(x),
    "output": record(model(x)),
}

# ---------------------------------------------------------------- every dtype

dtypes = collections.OrderedDict(
    f64=torch.tensor([1.5, -2.25, 1e-40, 3e38, -0.0, float("inf"), float("nan")], dtype=torch.float64),
    f32=torch.tensor([0.1, -3.5, 1e-30], dtype=torch.float32),
    f16=torch.tensor([0.5, -1.0, 65504.0, 6e-8, float("-inf")], dtype=torch.float16),
    bf16=torch.tensor([1.0, -2.5, 3.0e38, 0.1], dtype=torch.bfloat16),
    i64=torch.tensor([0, -1, 2**31 - 1, -(2**31), 12345], dtype=torch.int64),
    i32=torch.tensor([7, -8, 2**31 - 1], dtype=torch.int32),
    i16=torch.tensor([-32768, 32767, 5], dtype=torch.int16),
    i8=torch.tensor([-128, 127, 0], dtype=torch.int8),
    u8=torch.tensor([0, 200, 255], dtype=torch.uint8),
    bool=torch.tensor([True, False, True]),
    scalar=torch.tensor(2.5),
    empty=torch.zeros(0, 3),
)
save(dtypes, "dtypes_zip.pth")
save(dtypes, "dtypes_legacy.pth", legacy=True)
EXPECTED["dtypes"] = {k: record(v) for k, v in dtypes.items()}

# ---------------------------------------------------------------- views and shared storages

base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = {
    "base": base,
    "transposed": base.t(),  # non-contiguous
    "block": base[1:3, 2:5],  # offset + strides, same storage as base
    "row": base[2],  # storage offset
    "column": base[:, 4],  # stride 6
    "expanded": torch.tensor([1.0, 2.0]).expand(3, 2),  # stride 0
    "step": torch.arange(10, dtype=torch.int64)[1::3],  # offset and stride 3
}
views["same"] = views["base"]  # one tensor twice
save(views, "views_zip.pth")
save(views, "views_legacy.pth", legacy=True)
EXPECTED["views"] = {k: record(v) for k, v in views.items()}

# ---------------------------------------------------------------- a training checkpoint

net = small_model()
opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
for _ in range(2):
    opt.zero_grad()
    net(torch.randn(2, 3, 5, 5)).pow(2).sum().backward()
    opt.step()
ckpt = {
    "model": net.state_dict(),
    "optimizer": opt.state_dict(),
    "epoch": 3,
    "loss": 0.25,
    "name": "run-1 é",
    "none": None,
    "flag": True,
    "pair": (1, 2.5),
    "nested": [[1, 2], [3, [4, "x"]]],
    "big": 2**40,
    "negative": -70000,
    "param": nn.Parameter(torch.tensor([1.0, 2.0])),
    "by_number": {1: "one", 2.5: "two and a half"},
    "digits": {"10": 1, "2": 2},
}
save(ckpt, "checkpoint_zip.pth")
save(ckpt, "checkpoint_legacy.pth", legacy=True)
ostate = opt.state_dict()
EXPECTED["checkpoint"] = {
    "model": list(net.state_dict().keys()),
    "optimizer": {
        "state": {str(i): {k: record(v) if torch.is_tensor(v) else v for k, v in s.items()}
                  for i, s in ostate["state"].items()},
        "param_groups": ostate["param_groups"],
    },
    "param": record(ckpt["param"]),
}

# ---------------------------------------------------------------- refused

save(nn.Linear(2, 2), "module.pth")  # a pickled nn.Module
save({"z": torch.tensor([1 + 2j])}, "complex.pth")
save({"x": np.float64(1.5)}, "numpy.pth")
save({"n": 2**60}, "bigint.pth")
save({"w": torch.tensor([1e300], dtype=torch.float64)}, "f64_range.pth")
save({"w": torch.tensor([2**40], dtype=torch.int64)}, "i64_range.pth")
save({"s": {1, 2}}, "set.pth")
torch.jit.save(torch.jit.script(nn.Linear(1, 1)), os.path.join(DIR, "script.pt"))

with open(os.path.join(DIR, "expected.json"), "w") as f:
    json.dump(EXPECTED, f, separators=(",", ":"))
print(f"wrote {DIR}: {sorted(os.listdir(DIR))}")

# ---------------------------------------------------------------- our files, read by torch


def check_ours():
    """Loads the files tests/pth_write_test.ts wrote with io.savePth and asserts every value."""
    paths = {n: os.path.join(DIR, f"ours_{n}.pth") for n in ("state", "checkpoint", "i32")}
    if not all(os.path.exists(p) for p in paths.values()):
        print("ours_*.pth missing: run LITS_UPDATE_PTH_FIXTURES=1 deno test -A tests/pth_write_test.ts, then this again")
        return
    # The state dict: OrderedDict of float32 and int64 tensors, readable with weights_only=True.
    sd = torch.load(paths["state"], weights_only=True)
    assert type(sd) is collections.OrderedDict, type(sd)
    assert list(sd) == ["conv.weight", "bn.running_mean", "bn.num_batches_tracked"], list(sd)
    assert sd["conv.weight"].dtype == torch.float32 and sd["conv.weight"].shape == (2, 1, 2, 2)
    assert torch.equal(sd["conv.weight"].flatten(), torch.tensor([0.5, -1.25, 2.0, 3.0, -0.0, 1e-3, 7.0, -8.5]))
    assert math.copysign(1, sd["conv.weight"].flatten()[4].item()) == -1
    assert sd["bn.running_mean"].tolist() == [0.25, -0.75]
    assert sd["bn.num_batches_tracked"].dtype == torch.int64 and sd["bn.num_batches_tracked"].shape == ()
    assert sd["bn.num_batches_tracked"].item() == 5
    # intType "I32": torch.int32 tensors, no floats: weights_only=True.
    i32 = torch.load(paths["i32"], weights_only=True)
    assert type(i32) is dict and list(i32) == ["labels", "count"], i32
    assert i32["labels"].dtype == torch.int32 and i32["labels"].tolist() == [[0, 1, 2], [-3, 2**31 - 1, -(2**31)]]
    assert i32["count"] == 3 and type(i32["count"]) is int
    # The checkpoint: floats, so weights_only=False (our own file).
    c = torch.load(paths["checkpoint"])
    assert type(c) is dict, type(c)
    assert list(c) == ["model", "epoch", "lr", "nan", "inf", "negzero", "big", "negative", "name",
                       "flag", "none", "nested", "byNumber", "empty", "emptyList", "shared", "again"], list(c)
    assert type(c["model"]) is collections.OrderedDict and list(c["model"]) == ["weight", "bias"]
    assert c["model"]["weight"].tolist() == [[1.0, 2.0], [3.0, 4.0]] and c["model"]["bias"].tolist() == [0.5, -0.5]
    assert c["epoch"] == 7 and type(c["epoch"]) is int
    assert c["lr"] == 0.001 and type(c["lr"]) is float
    assert math.isnan(c["nan"]) and c["inf"] == math.inf
    assert c["negzero"] == 0 and math.copysign(1, c["negzero"]) == -1
    assert c["big"] == 2**40 and type(c["big"]) is int
    assert c["negative"] == -70000
    assert c["name"] == "ünïcode ✓"
    assert c["flag"] is False and c["none"] is None
    assert c["nested"] == [1, [2.5, "x", [True]]], c["nested"]
    assert type(c["byNumber"]) is collections.OrderedDict and list(c["byNumber"].items()) == [(2, "two"), (0.5, "half"), ("k", None)]
    assert c["empty"] == {} and c["emptyList"] == []
    assert c["shared"] is c["again"]["it"], "a tensor saved twice comes back as one"
    assert c["shared"].tolist() == [1.0, 2.0, 3.0]
    # A state dict written by us loads into a PyTorch model with load_state_dict.
    lin = nn.Linear(2, 2)
    lin.load_state_dict(c["model"])
    assert lin.weight.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    print("ours_*.pth: torch.load reads every value")


check_ours()
sys.exit(0)
