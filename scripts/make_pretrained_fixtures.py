"""Writes tests/fixtures/pretrained.json, pretrained_densenet.safetensors and
pretrained_densenet.pth:
PyTorch's numbers for models.adaptInputConv and models.loadPretrained
(tests/pretrained_test.ts).

- "adapt": timm's adapt_input_conv on random first-convolution weights, to
  1, 2, 4, 5 and 3 channels, from a space-to-depth stem (6 channels) to 1,
  and on a 3-D convolution's weight. timm is not installed here, so the rule
  is written below from timm's source (timm/models/_manipulate.py,
  adapt_input_conv): to 1 channel, the sum over the input channels (from
  more than 3, over each run of 3); to another count from 3, the RGB filters
  repeated to the count and scaled by 3 / count. timm takes only 4-D
  weights and refuses the same count outside 1 and 3; the library also
  takes 3-D and 5-D weights and leaves the same count unchanged, and the
  rule here does the same.
- "densenet": a tiny torchvision DenseNet (growth 4, blocks (2, 2), 8 stem
  channels, 3 input channels, 10 classes) with random weights and batch-norm
  statistics, saved with torchvision's legacy DenseNet key names
  (`denselayer1.norm.1.weight`, as the LuaTorch-ported .pth files have them)
  and without num_batches_tracked, in the safetensors file (written by
  scripts/export_pth.py's writer) and, as torch.save writes a training
  checkpoint ({"epoch", "arch", "state_dict"}), in the .pth; then the same
  architecture for 1 channel and 3 classes loaded as timm loads pretrained
  weights (conv0 adapted, the
  classifier left at its initialisation, whose values are stored so the test
  can set them), and its output in evaluation on a fixed input.
- "names": the state-dict names, shapes and integer flags of torchvision
  0.14's resnet18, densenet121 (legacy names, as its .pth), mobilenet_v2 and
  efficientnet_b0 with their ImageNet shapes (3 channels, 1000 classes),
  with the first convolution and classifier of each (timm's pretrained_cfg
  `first_conv` / `classifier` in torchvision's names).

Run with /usr/bin/python3 scripts/make_pretrained_fixtures.py (PyTorch 1.13, torchvision 0.14).
"""
import json
import math
import os
import re
import sys

import torch
import torchvision

from fixture_json import ser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_pth import write_safetensors  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20261206)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")
OUT = os.path.join(FIXTURES, "pretrained.json")
WEIGHTS = os.path.join(FIXTURES, "pretrained_densenet.safetensors")
PTH = os.path.join(FIXTURES, "pretrained_densenet.pth")


def adapt_input_conv(in_chans, w):
    """timm's adapt_input_conv rule (read from its source), for [O, I, *kernel] weights."""
    w = w.float()
    O, I = w.shape[:2]
    kernel = list(w.shape[2:])
    if in_chans == I:
        return w.clone()
    if in_chans == 1:
        if I > 3:
            assert I % 3 == 0
            return w.reshape(O, I // 3, 3, *kernel).sum(dim=2)
        return w.sum(dim=1, keepdim=True)
    if I != 3:
        raise NotImplementedError("Weight format not supported by conversion.")
    repeat = int(math.ceil(in_chans / 3))
    w = w.repeat(1, repeat, *([1] * len(kernel)))[:, :in_chans]
    w *= 3 / float(in_chans)
    return w


# ---- adaptInputConv ----
ADAPT = []
rgb = torch.randn(4, 3, 3, 3) * 0.2
for n in (1, 2, 4, 5, 3):
    ADAPT.append({"name": f"rgb to {n}", "weight": ser(rgb), "inChannels": n,
                  "out": ser(adapt_input_conv(n, rgb))})
s2d = torch.randn(2, 6, 2, 2) * 0.2
ADAPT.append({"name": "space-to-depth 6 to 1", "weight": ser(s2d), "inChannels": 1,
              "out": ser(adapt_input_conv(1, s2d))})
vol = torch.randn(2, 3, 2, 3, 2) * 0.2
for n in (1, 2):
    ADAPT.append({"name": f"3-D rgb to {n}", "weight": ser(vol), "inChannels": n,
                  "out": ser(adapt_input_conv(n, vol))})

# ---- a tiny DenseNet: legacy names, adapted stem, new head ----
LEGACY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def legacy_names(sd):
    """The new names back to torchvision's legacy ones (the inverse of its _load_state_dict)."""
    out = {}
    for k, v in sd.items():
        if k.endswith("num_batches_tracked"):
            continue  # the legacy files predate it
        m = LEGACY.match(k)
        out[f"{m.group(1)}.{m.group(2)}" if m else k] = v
    return out


def randomise(model):
    """Random weights and batch-norm statistics, so every tensor matters in evaluation."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape) + 0.5)
            elif name.endswith("num_batches_tracked"):
                t.fill_(7)
            elif t.is_floating_point():
                t.copy_(torch.randn(t.shape) * 0.3)


CONFIG = {"growthRate": 4, "blockConfig": [2, 2], "numInitFeatures": 8}
src = torchvision.models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8,
                                  num_classes=10)
randomise(src)
state = src.state_dict()
stored = legacy_names(state)
write_safetensors(WEIGHTS, stored, {"format": "pt"})
# The same as torch.save writes a training checkpoint: the state dict under "state_dict".
torch.save({"epoch": 90, "arch": "densenet", "state_dict": stored}, PTH)

dst = torchvision.models.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8,
                                  num_classes=3)
dst.features.conv0 = torch.nn.Conv2d(1, 8, 7, 2, 3, bias=False)
head = {k: v.clone() for k, v in dst.state_dict().items() if k.startswith("classifier.")}
timm_like = {k: v for k, v in state.items() if not k.startswith("classifier.")}
timm_like["features.conv0.weight"] = adapt_input_conv(1, state["features.conv0.weight"])
missing, unexpected = dst.load_state_dict(timm_like, strict=False)
assert sorted(missing) == ["classifier.bias", "classifier.weight"] and not unexpected
dst.eval()
x = torch.randn(2, 1, 32, 32)
with torch.no_grad():
    y = dst(x)
DENSENET = {
    "config": CONFIG,
    "keys": list(stored.keys()),
    "legacyKeys": [k for k in stored if re.search(r"\.(?:norm|conv)\.[12]\.", k)],
    "conv0": ser(timm_like["features.conv0.weight"]),
    "classifier": {k: ser(v) for k, v in head.items()},
    "input": ser(x),
    "output": ser(y),
}

# ---- torchvision's names and shapes ----


def names_of(sd):
    return [[k, list(v.shape), 0 if v.is_floating_point() else 1] for k, v in sd.items()]


tv = torchvision.models
NAMES = {
    "resnet18": {"keys": names_of(tv.resnet18().state_dict()), "firstConv": "conv1",
                 "classifier": "fc"},
    "densenet121": {"keys": names_of(legacy_names(tv.densenet121().state_dict())),
                    "firstConv": "features.conv0", "classifier": "classifier"},
    "mobilenetv2": {"keys": names_of(tv.mobilenet_v2().state_dict()),
                    "firstConv": "features.0.0", "classifier": "classifier.1"},
    "efficientnetb0": {"keys": names_of(tv.efficientnet_b0().state_dict()),
                       "firstConv": "features.0.0", "classifier": "classifier.1"},
}

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
               "adapt": ADAPT, "densenet": DENSENET, "names": NAMES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {os.path.relpath(OUT)}, {os.path.relpath(WEIGHTS)} and {os.path.relpath(PTH)}")
