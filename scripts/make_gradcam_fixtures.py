"""Writes tests/fixtures/gradcam.json: Grad-CAM heat maps computed by PyTorch.

Cases: the simple CNN and ResNet-18 at default and named layers and targets;
AlexNet (63 x 63), ResNet-34 and ResNet-50 (64 x 64) at their default layer
(evaluation.gradCamLayer) and predicted targets. Batch 2 throughout.
Volumes: MONAI's 3-D ResNet-10 without max pool (the architecture of
scripts/make_resnet3d_fixtures.py) on [2, 1, 16, 16, 16], the same
computation over D x H x W with trilinear resizing; input
x[n, 0, d, r, c] = sin(0.3 r + 0.2 c + 0.25 d + n) * cos(0.15 r - 0.25 c (n + 1) + 0.1 d).

The computation is pytorch-grad-cam's GradCAM (and, for the gradcam++ cases,
GradCAMPlusPlus's channel weights), written out with its own
mechanism (a forward hook on the target layer and a tensor hook on its output
for the gradient): score = sum_i logits[i, target_i]; weights = spatial mean
of the gradient; cam = ReLU(sum_c weights_c * A_c); scale_cam_image (x - min,
/ (1e-7 + max)), resize to the input size (cv2.resize's bilinear, which is
F.interpolate(mode="bilinear", align_corners=False) when upsampling), then
scale_cam_image again (aggregate_multi_layers for one layer).

Weights are not stored: every tensor of the state dict is a formula of its
name and shape (tests/gradcam_test.ts computes the same), so a ResNet-18
needs no 45 MB file (nor AlexNet a 230 MB one):
    h = (sum of ord(ch) * (i + 1) over the name's characters i) % 997 / 97
    b[j] = sin(0.731 j + h + (j * j mod 1013)), j the flat index
    running_var: 1 + 0.25 (1 + b); weights of 2+ dims: b / sqrt(fan_in);
    other *.weight (batch norm): 1 + 0.2 b; biases, running_mean: 0.1 b
The (j * j mod 1013) phase keeps each weight matrix from being of rank 2
(sin(0.731 j + h) alone is sin(a o + b k + h) over output o and input k);
without it AlexNet, which has no batch norm or shortcut, loses the input:
its logits agree to 7 digits across images and its maps are float noise.
Inputs: x[n, 0, r, c] = sin(0.3 r + 0.2 c + n) * cos(0.15 r - 0.25 c (n + 1)).
Maps are stored as round(value * 1e5).

Run: /usr/bin/python3 scripts/make_gradcam_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "gradcam.json")


class SimpleCNN(nn.Module):
    """src/models/simple_cnn.ts (VGG's layout), without batch norm."""

    def __init__(self, image_size):
        super().__init__()
        layers, c, s = [], 1, image_size
        for out in (16, 32, 64, 128):
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c, s = out, s // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(c * s * s, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 3))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def formula(name, shape):
    h = sum(ord(ch) * (i + 1) for i, ch in enumerate(name)) % 997 / 97.0
    n = int(np.prod(shape)) if len(shape) else 1
    j = np.arange(n, dtype=np.int64)
    b = np.sin(0.731 * j.astype(np.float64) + h + (j * j % 1013).astype(np.float64))
    if name.endswith("running_var"):
        v = 1 + 0.25 * (1 + b)
    elif len(shape) >= 2:
        v = b / math.sqrt(int(np.prod(shape[1:])))
    elif name.endswith("weight"):
        v = 1 + 0.2 * b
    else:
        v = 0.1 * b
    return torch.tensor(v.astype(np.float32)).reshape(shape)


def set_weights(model):
    sd = model.state_dict()
    for k, t in sd.items():
        if k.endswith("num_batches_tracked"):
            continue
        sd[k] = formula(k, list(t.shape))
    model.load_state_dict(sd)


def make_input(n, size):
    r = torch.arange(size, dtype=torch.float64).reshape(size, 1)
    c = torch.arange(size, dtype=torch.float64).reshape(1, size)
    x = [torch.sin(0.3 * r + 0.2 * c + i) * torch.cos(0.15 * r - 0.25 * c * (i + 1)) for i in range(n)]
    return torch.stack(x).unsqueeze(1).float()


def make_volume(n, size):
    d = torch.arange(size, dtype=torch.float64).reshape(size, 1, 1)
    r = torch.arange(size, dtype=torch.float64).reshape(1, size, 1)
    c = torch.arange(size, dtype=torch.float64).reshape(1, 1, size)
    x = [torch.sin(0.3 * r + 0.2 * c + 0.25 * d + i) * torch.cos(0.15 * r - 0.25 * c * (i + 1) + 0.1 * d)
         for i in range(n)]
    return torch.stack(x).unsqueeze(1).float()


def scale(cam):
    dims = tuple(range(1, cam.dim()))
    cam = cam - cam.amin(dim=dims, keepdim=True)
    return cam / (1e-7 + cam.amax(dim=dims, keepdim=True))


def grad_cam(model, layer, x, target, method="gradcam"):
    store = {}

    def hook(_m, _i, out):
        store["a"] = out
        out.register_hook(lambda g: store.__setitem__("g", g))

    handle = dict(model.named_modules())[layer].register_forward_hook(hook)
    logits = model(x)
    handle.remove()
    targets = logits.argmax(1).tolist() if target is None else (
        [target] * x.shape[0] if isinstance(target, int) else list(target))
    score = sum(logits[i, t] for i, t in enumerate(targets))
    model.zero_grad()
    score.backward()
    a, g = store["a"].detach().double(), store["g"].double()
    spatial = tuple(range(2, a.dim()))
    if method == "gradcam":
        w = g.mean(dim=spatial, keepdim=True)
    else:
        # pytorch-grad-cam's GradCAMPlusPlus.get_cam_weights.
        g2 = g ** 2
        g3 = g2 * g
        sum_a = a.sum(dim=spatial, keepdim=True)
        aij = g2 / (2 * g2 + sum_a * g3 + 1e-6)
        aij = torch.where(g != 0, aij, torch.zeros_like(aij))
        w = (torch.clamp(g, min=0) * aij).sum(dim=spatial, keepdim=True)
    cam = torch.relu((w * a).sum(1))
    cam = scale(cam)
    mode = "bilinear" if x.dim() == 4 else "trilinear"
    cam = F.interpolate(cam.unsqueeze(1), size=x.shape[2:], mode=mode, align_corners=False)[:, 0]
    cam = scale(torch.relu(cam))
    return logits.detach(), targets, cam


def case(model_name, image_size, n, layer, target, method="gradcam"):
    if model_name == "resnet3d10":
        return volume_case(model_name, image_size, n, layer, target, method)
    if model_name == "simple":
        model = SimpleCNN(image_size)
    elif model_name == "alexnet":
        model = torchvision.models.alexnet(num_classes=3)
        model.features[0] = nn.Conv2d(1, 64, 11, 4, 2)
    else:
        model = getattr(torchvision.models, model_name)(num_classes=3)
        model.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    set_weights(model)
    model.eval()
    x = make_input(n, image_size)
    logits, targets, cam = grad_cam(model, layer, x, target, method)
    return {
        "model": model_name,
        "options": {"inChannels": 1, "numClasses": 3, "imageSize": image_size},
        "n": n,
        "layer": layer,
        "target": target,
        "method": method,
        "targets": targets,
        "logits": [float("%.7g" % v) for v in logits.flatten().tolist()],
        "maps": [int(round(v * 1e5)) for v in cam.flatten().tolist()],
    }


def volume_case(model_name, size, n, layer, target, method):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_resnet3d_fixtures import monai

    # No max pool: layer4's map is then 2 x 2 x 2 at 16^3 (1 x 1 x 1 would be constant).
    options = {"inChannels": 1, "numClasses": 3, "noMaxPool": True}
    model = monai(10, options)
    set_weights(model)
    model.eval()
    x = make_volume(n, size)
    logits, targets, cam = grad_cam(model, layer, x, target, method)
    return {
        "model": model_name,
        "options": options,
        "volume": size,
        "n": n,
        "layer": layer,
        "target": target,
        "method": method,
        "targets": targets,
        "logits": [float("%.7g" % v) for v in logits.flatten().tolist()],
        "maps": [int(round(v * 1e5)) for v in cam.flatten().tolist()],
    }


def main():
    cases = [
        case("simple", 32, 2, "features.10", None),
        case("simple", 32, 2, "features.6", 0),
        case("resnet18", 64, 2, "layer4.1", None),
        case("resnet18", 64, 2, "layer3", [2, 1]),
        # The other zoo models at their default layer (evaluation.gradCamLayer) and predicted targets.
        case("alexnet", 63, 2, "features.11", None),
        case("resnet34", 64, 2, "layer4.2", None),
        case("resnet50", 64, 2, "layer4.2", None),
        # Grad-CAM++ (pytorch-grad-cam's GradCAMPlusPlus weights).
        case("simple", 32, 2, "features.10", None, "gradcam++"),
        case("resnet18", 64, 2, "layer3", [2, 1], "gradcam++"),
        # Volumes: MONAI's 3-D ResNet-10 at its default layer and at layer3.
        case("resnet3d10", 16, 2, "layer4.0", None),
        case("resnet3d10", 16, 2, "layer3", [1, 2], "gradcam++"),
    ]
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/make_gradcam_fixtures.py", "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")
    print(OUT, [(c["model"], c["layer"], c["targets"]) for c in cases])


if __name__ == "__main__":
    main()
