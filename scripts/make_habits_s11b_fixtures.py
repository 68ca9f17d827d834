"""Writes tests/fixtures/habits_s11b.json: what torchvision 0.14 does with
Inception v3's and GoogLeNet's auxiliary classifiers when a model is built
without them, for tests/habits_s11b_test.ts.

- "dropped": the state-dict keys that torchvision's builders
  (inception_v3(weights=..., aux_logits=False), googlenet(weights=...))
  drop. The builder's own steps are replayed on a model built without
  weights (no download): build with aux_logits=True, load_state_dict of a
  full state dict (ImageNet's keys), then aux_logits = False and the heads
  set to None; the keys of the full state dict the model then lacks, in
  state-dict order, and how many it keeps.
- "strictUnexpected": whether Inception3(aux_logits=False).load_state_dict
  of a full state dict (strict) raises, and the keys torch names unexpected
  (GoogLeNet's too).
- "evalSides": Inception3 with its auxiliary head, in eval mode, on one
  1-channel image of each side: the output shape (the head does not run in
  eval, so sides below 299 work); and whether training mode at 128 raises
  (the head needs 299).

Values do not matter (the keys and shapes are structural); the seed is
fixed anyway.

Run with /usr/bin/python3 scripts/make_habits_s11b_fixtures.py (PyTorch
1.13, torchvision 0.14).
"""
import json
import os
import re

import torch
from torch import nn
from torchvision.models import GoogLeNet, Inception3

torch.set_num_threads(1)
torch.manual_seed(20260702)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_s11b.json")

HEADS = {"inception_v3": ["AuxLogits"], "googlenet": ["aux1", "aux2"]}


def build(name, aux):
    if name == "inception_v3":
        return Inception3(aux_logits=aux, init_weights=False)
    return GoogLeNet(aux_logits=aux, init_weights=False)


def builder_drop(name):
    """torchvision's builder with weights, replayed: load into the aux model, then drop."""
    full = build(name, True).state_dict()
    model = build(name, True)
    model.load_state_dict(full)
    model.aux_logits = False
    for head in HEADS[name]:
        setattr(model, head, None)
    kept = model.state_dict()
    return {"keys": [k for k in full if k not in kept], "kept": len(kept)}


def strict_unexpected(name):
    full = build(name, True).state_dict()
    try:
        build(name, False).load_state_dict(full)
    except RuntimeError as e:
        return {"raises": True,
                "unexpected": re.findall(r'"([^"]+)"', str(e).split("Unexpected key(s)")[1])}
    return {"raises": False, "unexpected": []}


def eval_sides():
    m = Inception3(num_classes=3, aux_logits=True, init_weights=False)
    # A one-channel stem, as models.inceptionV3({ inChannels: 1 }).
    m.Conv2d_1a_3x3.conv = nn.Conv2d(1, 32, 3, stride=2, bias=False)
    m.eval()
    shapes = {}
    with torch.no_grad():
        for side in [75, 128, 298]:
            shapes[str(side)] = list(m(torch.randn(1, 1, side, side)).shape)
    m.train()
    try:
        m(torch.randn(2, 1, 128, 128))
        train_raises = False
    except RuntimeError:
        train_raises = True
    return {"shapes": shapes, "trainAt128Raises": train_raises}


def main():
    data = {
        "dropped": {n: builder_drop(n) for n in HEADS},
        "strictUnexpected": {n: strict_unexpected(n) for n in HEADS},
        "evalSides": eval_sides(),
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: " + ", ".join(
        f"{n} drops {len(d['keys'])} keys" for n, d in data["dropped"].items()))


if __name__ == "__main__":
    main()
