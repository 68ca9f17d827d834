"""Writes tests/fixtures/inception.json (tests/inception_test.ts, tests/googlenet_test.ts) from
torchvision 0.14's inception_v3 and googlenet.

  structure
      For each model: the parameter count with the defaults (3 channels, 1000 classes), without
      the auxiliary heads (aux_logits=False) and for 1 channel (the stem replaced as torchvision
      users do: Conv2d_1a_3x3 = BasicConv2d(1, 32, kernel_size=3, stride=2), conv1 =
      BasicConv2d(1, 64, kernel_size=7, stride=2, padding=3)) and 3 classes; at the defaults, the
      SHA-256 of their "name|shape|dtype" lines (one per
      entry, joined by newlines; the tests hash their own the same way), their number and the
      number under each top-level child, in order.
  numerics
      Full-size models, 1 channel and 3 classes, every parameter and buffer filled by the
      formula of make_resnet3d_fixtures.py (`fill`; tests/model_fixture.ts computes the same),
      inputs by that formula. In float64 (with torch's float32 difference as `noise`), tensors
      whole or sampled (make_vgg_squeezenet_fixtures.py `stored`):
      - eval: the logits, and for an upstream gradient G (the formula again) the gradients of
        sum(logits * G) for the input and a few parameters;
      - train: training mode with the dropouts off (in eval mode). With batch statistics: the
        logits and each auxiliary head's logits, taken by forward hooks on the heads
        (`AuxLogits` of Inception; `aux1`, `aux2` of GoogLeNet, whose 0.14 namedtuple fills
        aux_logits2 with aux1's output and aux_logits1 with aux2's, pytorch/vision#8736,
        recorded as `torchTupleOrder`), and a few running statistics after that forward. With
        the batch norms on running statistics (eval mode; through the batch statistics of two
        images torch's own float32 gradients are as far from float64 as they are large): the
        loss cross_entropy(logits) + w * the heads' (w 0.4 for Inception, the fine-tuning
        tutorial's; 0.3 each for GoogLeNet, the paper's) for labels [0, 2], and its gradients
        for the input (GoogLeNet's; see inception() for Inception's) and a few parameters,
        through both heads.
      Inception v3 trains at [2, 1, 299, 299] (AuxLogits needs Mixed_6e's 17 x 17 map) and is
      evaluated at [2, 1, 96, 96]; with transform_input (3 channels) at [1, 3, 75, 75].
      GoogLeNet runs at [2, 1, 80, 80] (aux heads pool 5 x 5 maps to 4 x 4: uneven bins).

Deterministic. Run: /usr/bin/python3 scripts/make_inception_fixtures.py
"""
import hashlib
import importlib
import json
import os
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_resnet3d_fixtures import fill, formula  # noqa: E402
from make_vgg_squeezenet_fixtures import stored  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)  # init_weights=None's notice
torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "inception.json")
inception_mod = importlib.import_module("torchvision.models.inception")
googlenet_mod = importlib.import_module("torchvision.models.googlenet")
LABELS = torch.tensor([0, 2])


def lines(m):
    return [f"{k}|{','.join(map(str, v.shape))}|{str(v.dtype).replace('torch.', '')}"
            for k, v in m.state_dict().items()]


def children(entries):
    """[name, entries] of each top-level child in order, so a difference can be read."""
    out = []
    for e in entries:
        top = e.split(".")[0]
        if out and out[-1][0] == top:
            out[-1][1] += 1
        else:
            out.append([top, 1])
    return out


def count(m):
    return sum(p.numel() for p in m.parameters())


def build(name, channels=1, classes=3, **kw):
    if name == "inception_v3":
        m = torchvision.models.inception_v3(num_classes=classes, init_weights=False, **kw)
        if channels != 3:
            m.Conv2d_1a_3x3 = inception_mod.BasicConv2d(channels, 32, kernel_size=3, stride=2)
    else:
        m = torchvision.models.googlenet(num_classes=classes, init_weights=False, **kw)
        if channels != 3:
            m.conv1 = googlenet_mod.BasicConv2d(channels, 64, kernel_size=7, stride=2, padding=3)
    return m


def structure(name):
    m = build(name, 3, 1000)
    entries = lines(m)
    return {
        "model": name,
        "numParams": count(m),
        "numParamsNoAux": count(build(name, 3, 1000, aux_logits=False)),
        "numParamsOneChannel": count(build(name, 1, 3)),
        "entries": len(entries),
        "children": children(entries),
        "sha256": hashlib.sha256("\n".join(entries).encode()).hexdigest(),
    }


def dropouts_off(m):
    for d in m.modules():
        if isinstance(d, nn.Dropout):
            d.eval()


def eval_case(name, shape, grads, channels=1, **kw):
    m = build(name, channels, **kw)
    fill(m)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    x = formula(1000, shape, -1, 1)
    out = {}
    for dtype in (torch.float32, torch.float64):
        m = build(name, channels, **kw)
        m.load_state_dict(state)
        m = m.to(dtype).eval()
        xg = x.to(dtype).clone().requires_grad_(True)
        logits = m(xg)
        g = formula(1001, list(logits.shape), -1, 1).to(dtype)
        params = dict(m.named_parameters())
        got = torch.autograd.grad(logits, [xg] + [params[k] for k in grads], g)
        out[dtype] = (logits, got)
    (l32, g32), (l64, g64) = out[torch.float32], out[torch.float64]
    return {
        "input": shape,
        "logits": stored(l64, 64, l32),
        "inputGrad": stored(g64[0], 256, g32[0]),
        "grads": {k: stored(g64[i + 1], full, g32[i + 1]) for i, (k, full) in enumerate(grads.items())},
    }


def train_case(name, shape, grads, stats, heads, weight, input_grad=True):
    m = build(name)
    fill(m)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    x = formula(1000, shape, -1, 1)
    out = {}
    for dtype in (torch.float32, torch.float64):
        m = build(name)
        m.load_state_dict(state)
        m = m.to(dtype).train()
        dropouts_off(m)
        seen = {}
        for h in heads:
            getattr(m, h).register_forward_hook(lambda _m, _i, o, h=h: seen.__setitem__(h, o))
        with torch.no_grad():
            result = m(x.to(dtype))
        logits, aux = result.logits, [seen[h] for h in heads]
        if name == "googlenet":
            # 0.14's namedtuple: position 1 (aux_logits2) is aux1's output, position 2 aux2's.
            order = [h for p in (result[1], result[2]) for h in heads if seen[h] is p]
        buffers = dict(m.named_buffers())
        after = [buffers[k].detach().clone() for k in stats]
        # The gradients with running statistics: through batch statistics of two images the
        # deep stacks amplify rounding (torch's float32 gradients differ from float64 by as
        # much as their size), which would leave nothing to compare.
        m.load_state_dict(state)
        for b in m.modules():
            if isinstance(b, nn.BatchNorm2d):
                b.eval()
        xg = x.to(dtype).clone().requires_grad_(True)
        result = m(xg)
        loss = F.cross_entropy(result.logits, LABELS) + weight * sum(
            F.cross_entropy(seen[h], LABELS) for h in heads)
        params = dict(m.named_parameters())
        got = torch.autograd.grad(loss, [xg] + [params[k] for k in grads])
        out[dtype] = (logits, aux, after, loss, got)
    (l32, a32, b32, s32, g32), (l64, a64, b64, s64, g64) = out[torch.float32], out[torch.float64]
    case = {
        "input": shape,
        "labels": LABELS.tolist(),
        "auxWeight": weight,
        "logits": stored(l64, 64, l32),
        "aux": {h: stored(a64[i], 64, a32[i]) for i, h in enumerate(heads)},
        "stats": {k: stored(b64[i], 64, b32[i]) for i, k in enumerate(stats)},
        "loss": s64.item(),
        "lossNoise": abs(s32.item() - s64.item()),
        "grads": {k: stored(g64[i + 1], full, g32[i + 1]) for i, (k, full) in enumerate(grads.items())},
    }
    if input_grad:
        case["inputGrad"] = stored(g64[0], 256, g32[0])
    if name == "googlenet":
        case["torchTupleOrder"] = order
    return case


def inception():
    ev = eval_case("inception_v3", [2, 1, 96, 96], {
        "Conv2d_1a_3x3.conv.weight": 288, "Mixed_5b.branch5x5_2.conv.weight": 256,
        "Mixed_6e.branch7x7dbl_5.conv.weight": 256, "Mixed_7c.branch3x3dbl_3b.bn.weight": 64,
        "fc.weight": 256, "fc.bias": 8})
    # At 299 the gradients upstream of Mixed_6e are chaotic in float32: a few ReLU and max-pool
    # decisions flip with the rounding of the forward (torch's own float32 input gradient moves
    # 1e-4 to 6e-4 in its sum of squares under 1-ulp changes of the input), so the gradients
    # kept are those where the two heads' meet (Mixed_6e) and after; the eval case checks the
    # input's and the stem's at 96.
    tr = train_case("inception_v3", [2, 1, 299, 299], {
        "Mixed_6e.branch7x7dbl_5.conv.weight": 256, "Mixed_6e.branch1x1.conv.weight": 256,
        "Mixed_6e.branch_pool.bn.weight": 64, "AuxLogits.conv0.conv.weight": 256,
        "AuxLogits.conv1.bn.weight": 64, "AuxLogits.fc.weight": 256, "AuxLogits.fc.bias": 8,
        "Mixed_7c.branch3x3_2b.conv.weight": 256, "fc.weight": 256, "fc.bias": 8},
        ["Conv2d_1a_3x3.bn.running_mean", "Mixed_7c.branch_pool.bn.running_var",
         "AuxLogits.conv1.bn.running_var"], ["AuxLogits"], 0.4, input_grad=False)
    tf = eval_case("inception_v3", [1, 3, 75, 75], {"Conv2d_1a_3x3.conv.weight": 288}, channels=3,
                   transform_input=True)
    return {"eval": ev, "train": tr, "transformInput": tf}


def googlenet():
    ev = eval_case("googlenet", [2, 1, 80, 80], {
        "conv1.conv.weight": 256, "inception3b.branch3.1.conv.weight": 256,
        "inception4c.branch4.1.bn.weight": 64, "fc.weight": 256, "fc.bias": 8})
    tr = train_case("googlenet", [2, 1, 80, 80], {
        "conv1.conv.weight": 256, "inception4a.branch2.1.conv.weight": 256,
        "aux1.conv.conv.weight": 256, "aux1.fc2.weight": 256, "aux2.fc1.weight": 256,
        "aux2.fc2.bias": 8, "inception5b.branch1.bn.bias": 64, "fc.bias": 8},
        ["conv1.bn.running_mean", "inception4e.branch3.0.bn.running_var",
         "aux2.conv.bn.running_var"], ["aux1", "aux2"], 0.3)
    tf = eval_case("googlenet", [1, 3, 32, 32], {"conv1.conv.weight": 288}, channels=3,
                   transform_input=True)
    return {"eval": ev, "train": tr, "transformInput": tf}


def main():
    data = {
        "structure": [structure("inception_v3"), structure("googlenet")],
        "inception_v3": inception(),
        "googlenet": googlenet(),
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
