"""Writes tests/fixtures/vit2.json (tests/vit2_test.ts): a ViT at another image
size, and Grad-CAM on a ViT, from torchvision 0.14.

  interpolate
      torchvision's `interpolate_embeddings(image_size, patch_size,
      model_state, interpolation_mode, reset_heads)` on the state dict of a
      tiny VisionTransformer (patch 4, 1 layer, 2 heads, hidden 4, MLP 8,
      1 channel, 3 classes), every parameter at random on a grid of 1/32:
      built for image 32 (an 8 x 8 grid of patches) and resized to image 48
      (12 x 12), and one built for 48 resized to 32, bicubic and bilinear;
      reset_heads on one; the same size (nothing to do). Kept: the sources'
      `encoder.pos_embedding` (once each), the results' and their keys.
  pretrained
      The image-32 ViT's whole state dict, resized to 48 by
      interpolate_embeddings (bicubic) and loaded into a VisionTransformer
      built for 48: its evaluation logits on a random 48 x 48 input (1/8 grid).
  gradcam
      A tiny ViT (image 16, patch 2, 2 layers, 2 heads, hidden 8, MLP 16,
      1 channel, 3 classes, random weights on the 1/32 grid; two random
      inputs on the 1/8 grid) explained as
      pytorch-grad-cam explains a ViT (its tutorial's target layer
      `model.encoder.layers[-1].ln_1` and `reshape_transform`, which drops
      the class token and makes [N, 1 + h*w, C] tokens [N, C, h, w]),
      written out with its own mechanism: a forward hook keeps the layer's
      output, a tensor hook its gradient, both through reshape_transform;
      score = sum_i logits[i, target_i]; GradCAM's weights (the gradient's
      spatial mean) or GradCAMPlusPlus's; cam = ReLU(sum_c w_c A_c);
      scale_cam_image ((x - min) / (1e-7 + max)), resize to the input size
      (cv2.resize's bilinear, F.interpolate(align_corners=False) when
      upsampling), ReLU and scale again. Maps stored as round(value * 1e5).

Float32 values are written with 9 significant digits (exact round trip).
Deterministic (torch.manual_seed). Run:
/usr/bin/python3 scripts/make_vit2_fixtures.py
"""
import json
import os
import sys
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torchvision.models.vision_transformer import VisionTransformer, interpolate_embeddings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import randn, ser  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20260702)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "vit2.json")

SMALL = dict(patch_size=4, num_layers=1, num_heads=2, hidden_dim=4, mlp_dim=8)
GRADCAM = dict(patch_size=2, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16)


def grid(t, step=32):
    """Rounded to multiples of 1 / step: exact in float32 and short in JSON."""
    return torch.round(t * step) / step


def tiny(image_size, config, classes=3):
    """A one-channel VisionTransformer (conv_proj replaced, as for CT) with random weights."""
    m = VisionTransformer(image_size=image_size, num_classes=classes, **config)
    p = config["patch_size"]
    m.conv_proj = torch.nn.Conv2d(1, config["hidden_dim"], kernel_size=p, stride=p)
    with torch.no_grad():
        for k, t in m.named_parameters():
            if (".ln" in k or k.startswith("encoder.ln")) and k.endswith("weight"):
                t.copy_(grid(1 + 0.1 * randn(*t.shape)))
            else:
                t.copy_(grid(0.3 * randn(*t.shape)))
    return m.eval()


def interpolate_cases(small32, small48):
    """The sources' pos_embedding is stored once (sources); a same-size result is the source."""
    cases = []
    for src, size in ((small32, 48), (small48, 32), (small32, 32)):
        for mode in ("bicubic", "bilinear"):
            if size == 32 and src is small32 and mode == "bilinear":
                continue
            for reset in ((False, True) if size == 48 and mode == "bicubic" else (False,)):
                state = OrderedDict((k, v.clone()) for k, v in src.state_dict().items())
                out = interpolate_embeddings(size, 4, state, interpolation_mode=mode, reset_heads=reset)
                cases.append({
                    "from": 32 if src is small32 else 48,
                    "imageSize": size,
                    "patchSize": 4,
                    "mode": mode,
                    "resetHeads": reset,
                    "result": ser(out["encoder.pos_embedding"]) if size != (32 if src is small32 else 48) else None,
                    "keys": list(out.keys()),
                })
    return cases


def pretrained_case(small32):
    state = OrderedDict((k, v.clone()) for k, v in small32.state_dict().items())
    big = VisionTransformer(image_size=48, num_classes=3, **SMALL)
    big.conv_proj = torch.nn.Conv2d(1, SMALL["hidden_dim"], kernel_size=4, stride=4)
    big.load_state_dict(interpolate_embeddings(48, 4, state))
    big.eval()
    x = grid(randn(1, 1, 48, 48), 8)
    with torch.no_grad():
        logits = big(x)
    return {
        "weights": {k: ser(v) for k, v in small32.state_dict().items()},
        "input": ser(x),
        "logits": ser(logits),
    }


def reshape_transform(tensor, height=8, width=8):
    """pytorch-grad-cam's ViT tutorial transform: class token off, [N, C, h, w]."""
    result = tensor[:, 1:, :].reshape(tensor.size(0), height, width, tensor.size(2))
    return result.transpose(2, 3).transpose(1, 2)


def scale(cam):
    cam = cam - cam.amin(dim=(1, 2), keepdim=True)
    return cam / (1e-7 + cam.amax(dim=(1, 2), keepdim=True))


def grad_cam(model, layer, x, target, method):
    store = {}

    def hook(_m, _i, out):
        store["a"] = reshape_transform(out).detach()
        out.register_hook(lambda g: store.__setitem__("g", reshape_transform(g)))

    handle = dict(model.named_modules())[layer].register_forward_hook(hook)
    logits = model(x)
    handle.remove()
    targets = logits.argmax(1).tolist() if target is None else list(target)
    score = sum(logits[i, t] for i, t in enumerate(targets))
    model.zero_grad()
    score.backward()
    a, g = store["a"].double(), store["g"].double()
    if method == "gradcam":
        w = g.mean(dim=(2, 3), keepdim=True)
    else:
        # pytorch-grad-cam's GradCAMPlusPlus.get_cam_weights.
        g2 = g ** 2
        g3 = g2 * g
        sum_a = a.sum(dim=(2, 3), keepdim=True)
        aij = g2 / (2 * g2 + sum_a * g3 + 1e-6)
        aij = torch.where(g != 0, aij, torch.zeros_like(aij))
        w = (torch.clamp(g, min=0) * aij).sum(dim=(2, 3), keepdim=True)
    cam = scale(torch.relu((w * a).sum(1)))
    cam = F.interpolate(cam.unsqueeze(1), size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    cam = scale(torch.relu(cam))
    return logits.detach(), targets, cam


def gradcam_cases():
    model = tiny(16, GRADCAM)
    x = grid(randn(2, 1, 16, 16), 8)
    cases = []
    for layer, target, method in (
        ("encoder.layers.encoder_layer_1.ln_1", None, "gradcam"),
        ("encoder.layers.encoder_layer_1.ln_1", [2, 0], "gradcam++"),
        ("encoder.layers.encoder_layer_0", [1, 1], "gradcam"),
    ):
        logits, targets, cam = grad_cam(model, layer, x, target, method)
        cases.append({
            "layer": layer,
            "target": target,
            "method": method,
            "targets": targets,
            "logits": ser(logits),
            "maps": [int(round(v * 1e5)) for v in cam.flatten().tolist()],
        })
    return {
        "config": {"patchSize": 2, "numLayers": 2, "numHeads": 2, "hiddenDim": 8, "mlpDim": 16},
        "options": {"imageSize": 16, "inChannels": 1, "numClasses": 3},
        "weights": {k: ser(v) for k, v in model.state_dict().items()},
        "input": ser(x),
        "cases": cases,
    }


def main():
    small32 = tiny(32, SMALL)
    small48 = tiny(48, SMALL)
    data = {
        "sources": {str(s): ser(m.state_dict()["encoder.pos_embedding"]) for s, m in ((32, small32), (48, small48))},
        "interpolate": interpolate_cases(small32, small48),
        "pretrained": pretrained_case(small32),
        "gradcam": gradcam_cases(),
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
