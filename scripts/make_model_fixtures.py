"""Writes the model-zoo fixtures from torchvision, and checks the other
direction (torchvision loading a state dict saved by @lits/vision).

  tests/fixtures/models/keys.json
      For each model configuration: torchvision's state-dict names in order,
      shapes, dtypes and the parameter count.
  tests/fixtures/models/blocks.json
      torchvision's own BasicBlock (with a stride-2 downsample) and
      Bottleneck (likewise): weights, random running statistics, one
      training-mode forward/backward (output, input and parameter gradients
      of L = sum(out * G), running statistics after) and an eval forward.
  tests/fixtures/models/simple_cnn.safetensors + simple_cnn.json
      The course's CNN (batch norm, 16 x 16 inputs) with random weights and
      running statistics, saved as safetensors by PyTorch (via
      scripts/export_pth.py's writer); eval logits, and one training step
      with dropout 0 (logits, loss, input gradient, parameter gradients:
      whole for small tensors, 64 samples plus the sum of |g| for large ones).

Values are stored with 9 significant digits (exactly the float32 values). Deterministic
(torch.manual_seed). Run: /usr/bin/python3 scripts/make_model_fixtures.py

    /usr/bin/python3 scripts/make_model_fixtures.py --roundtrip DIR

is the other direction, run by tests/models_test.ts when torchvision is
installed: it loads DIR/ours.safetensors (a ResNet-18 state dict written by
@lits/vision) into torchvision with strict=True and compares the eval logits
with DIR/ours_io.safetensors; then it saves a torchvision ResNet-18 with
torch.save, converts it with export_pth.py to DIR/theirs.safetensors and
writes its eval logits to DIR/theirs_io.safetensors for the test to compare.
It prints one JSON line and exits non-zero on a mismatch.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_pth import main as export_main  # noqa: E402
from export_pth import read_safetensors, write_safetensors  # noqa: E402

torch.set_num_threads(1)
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "models")


class SimpleCNN(nn.Module):
    """The course's CNN, written as src/models/simple_cnn.ts (VGG's layout)."""

    def __init__(self, in_channels=1, num_classes=3, image_size=256, dropout=0.5, batch_norm=False):
        super().__init__()
        layers, c, s = [], in_channels, image_size
        for out in (16, 32, 64, 128):
            layers.append(nn.Conv2d(c, out, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c, s = out, s // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(c * s * s, 256), nn.ReLU(inplace=True), nn.Dropout(dropout), nn.Linear(256, num_classes)
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def build(name, options):
    """torchvision's model for a configuration of ours (options use our names)."""
    c = options.get("inChannels", 3)
    k = options.get("numClasses", 1000)
    if name == "simple":
        return SimpleCNN(
            options.get("inChannels", 1), options.get("numClasses", 3), options.get("imageSize", 256),
            batch_norm=options.get("batchNorm", False),
        )
    if name == "alexnet":
        m = torchvision.models.alexnet(num_classes=k)
        if c != 3:  # torchvision has no input-channel option: replace the first convolution
            m.features[0] = nn.Conv2d(c, 64, kernel_size=11, stride=4, padding=2)
        return m
    m = getattr(torchvision.models, name)(num_classes=k)
    if c != 3:
        m.conv1 = nn.Conv2d(c, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return m


CONFIGS = [
    ("simple", {}),
    ("simple", {"batchNorm": True}),
    ("alexnet", {}),
    ("alexnet", {"inChannels": 1, "numClasses": 3}),
    ("resnet18", {}),
    ("resnet18", {"inChannels": 1, "numClasses": 3}),
    ("resnet34", {}),
    ("resnet50", {}),
    ("resnet50", {"inChannels": 1, "numClasses": 3}),
]


def f32(values):
    """9 significant digits: enough to give back the same float32, and short."""
    return [v if isinstance(v, int) else float("%.9g" % v) for v in values]


def ser(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": f32(t.reshape(-1).tolist())}


def randomize_bn(model, batches=3):
    """Non-trivial batch-norm parameters and running statistics."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(batches)


def state_list(model):
    return [[k, ser(v)] for k, v in model.state_dict().items()]


def buffers_list(model):
    return [[k, ser(v)] for k, v in model.named_buffers()]


def keys_fixture():
    out = []
    for name, options in CONFIGS:
        m = build(name, options)
        out.append({
            "model": name,
            "options": options,
            "numParams": sum(p.numel() for p in m.parameters()),
            "state": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()],
        })
    return out


def block_case(block, x_shape):
    randomize_bn(block)
    state = state_list(block)
    x = torch.randn(*x_shape, requires_grad=True)
    block.train()
    out = block(x)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    case = {
        "state": state,
        "input": ser(x),
        "out": ser(out),
        "G": ser(g),
        "inputGrad": ser(x.grad),
        "grads": {k: ser(p.grad) for k, p in block.named_parameters()},
        "buffersAfter": buffers_list(block),
    }
    block.eval()
    x2 = torch.randn(*x_shape)
    with torch.no_grad():
        case["evalInput"] = ser(x2)
        case["evalOut"] = ser(block(x2))
    return case


def blocks_fixture():
    basic = BasicBlock(4, 8, stride=2, downsample=nn.Sequential(nn.Conv2d(4, 8, 1, 2, bias=False), nn.BatchNorm2d(8)))
    bottleneck = Bottleneck(
        8, 4, stride=2, downsample=nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))
    )
    return {
        "basic": {"args": [4, 8, 2], "downsample": [4, 8, 2], **block_case(basic, (2, 4, 7, 7))},
        "bottleneck": {"args": [8, 4, 2], "downsample": [8, 16, 2], **block_case(bottleneck, (2, 8, 7, 7))},
    }


def grad_record(g):
    """A gradient whole when small, else 64 evenly spaced samples and sum |g|."""
    flat = g.reshape(-1)
    if flat.numel() <= 4096:
        return {"shape": list(g.shape), "data": f32(flat.tolist())}
    step = flat.numel() // 64
    idx = list(range(0, step * 64, step))
    return {"shape": list(g.shape), "indices": idx, "samples": f32(flat[idx].tolist()), "absSum": flat.abs().sum().item()}


def simple_cnn_fixture():
    options = {"inChannels": 1, "numClasses": 3, "imageSize": 16, "batchNorm": True, "dropout": 0}
    m = SimpleCNN(1, 3, 16, dropout=0.0, batch_norm=True)
    randomize_bn(m, batches=7)
    write_safetensors(
        os.path.join(OUT_DIR, "simple_cnn.safetensors"), m.state_dict(),
        {"format": "pt", "source": "scripts/make_model_fixtures.py"},
    )
    x = torch.randn(2, 1, 16, 16)
    y = torch.tensor([2, 0])
    m.eval()
    with torch.no_grad():
        eval_logits = m(x)
    m.train()
    xg = x.clone().requires_grad_(True)
    logits = m(xg)
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    fixture = {
        "options": options,
        "input": ser(x),
        "target": y.tolist(),
        "evalLogits": ser(eval_logits),
        "trainLogits": ser(logits),
        "loss": loss.item(),
        "inputGrad": ser(xg.grad),
        "grads": {k: grad_record(p.grad) for k, p in m.named_parameters()},
        "buffersAfter": buffers_list(m),
    }
    with open(os.path.join(OUT_DIR, "simple_cnn.json"), "w") as f:
        json.dump(fixture, f)


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def roundtrip(folder):
    """Both directions with ResNet-18 (1 channel, 3 classes); see the module doc."""
    model = build("resnet18", {"inChannels": 1, "numClasses": 3})
    expected_keys = list(model.state_dict().keys())
    ours, meta = read_safetensors(os.path.join(folder, "ours.safetensors"))
    io, _ = read_safetensors(os.path.join(folder, "ours_io.safetensors"))
    result = {"oursKeyOrderMatches": list(ours.keys()) == expected_keys, "oursMetadata": meta}
    model.load_state_dict(ours, strict=True)
    model.eval()
    with torch.no_grad():
        result["oursRelErr"] = rel_err(io["logits"], model(io["input"]))
    # The other direction: a torchvision checkpoint through the exporter.
    torch.manual_seed(7)
    theirs = build("resnet18", {"inChannels": 1, "numClasses": 3})
    randomize_bn(theirs, batches=5)
    theirs.eval()
    pth = os.path.join(folder, "theirs.pth")
    torch.save({"epoch": 3, "state_dict": theirs.state_dict()}, pth)
    code = export_main([pth, os.path.join(folder, "theirs.safetensors")])
    x = torch.randn(2, 1, 40, 40)
    with torch.no_grad():
        write_safetensors(os.path.join(folder, "theirs_io.safetensors"), {"input": x, "logits": theirs(x)})
    result["exportExitCode"] = code
    print(json.dumps(result))
    ok = result["oursKeyOrderMatches"] and result["oursRelErr"] < 1e-4 and code == 0
    return 0 if ok else 1


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--roundtrip":
        return roundtrip(sys.argv[2])
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(20240611)
    with open(os.path.join(OUT_DIR, "keys.json"), "w") as f:
        json.dump(keys_fixture(), f)
    with open(os.path.join(OUT_DIR, "blocks.json"), "w") as f:
        json.dump(blocks_fixture(), f)
    simple_cnn_fixture()
    for name in sorted(os.listdir(OUT_DIR)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT_DIR, name)):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
