"""Writes tests/fixtures/swin_gradcam.json (tests/swin_gradcam_test.ts):
Grad-CAM on channels-last layers of torchvision 0.14's Swin Transformer and
ConvNeXt, as pytorch-grad-cam computes it.

  swin
      A reduced SwinTransformer (patch 4, embed_dim 4, depths (2, 2), heads
      (2, 4), window 4 x 4, mlp_ratio 2, 3 classes), stem replaced by
      Conv2d(1, 4, 4, stride 4) as for CT; random weights (LayerNorm weights
      1 + 0.1 randn, the rest 0.3 randn, on a grid of 1/8). On a
      [2, 1, 28, 20] input (1/8 grid) stage 1 is 7 x 5 (padded to 8 x 8,
      shifted windows), stage 2 is 4 x 3 (one padded window). Layers: the
      last block's norm1 (pytorch-grad-cam's Swin target layer,
      `model.layers[-1].blocks[-1].norm1`, here `features[-1][-1].norm1`),
      the PatchMerging's norm, stage 1's output, a GELU inside an MLP, all
      [N, H, W, C]; and the model's `permute` ([N, C, H, W], no transform).
  convnext
      A reduced ConvNeXt([CNBlockConfig(4, 8, 1), CNBlockConfig(8, None,
      2)], 3 classes), stem Conv2d(1, 4, 4, stride 4), weights as above and
      layer_scale in [0.5, 1.5]; the same input (7 x 5, then 3 x 2).
      Layers: `features[-1]` (the last stage, channels-first), the CNBlock
      internals after its Permute to channels-last (block.2 LayerNorm,
      block.3 Linear, block.4 GELU) and `block` itself (channels-first).

Grad-CAM is pytorch-grad-cam's GradCAM (and GradCAMPlusPlus's weights for
the gradcam++ cases), written out with its own mechanism: a forward hook
keeps the layer's output and a tensor hook its gradient, both through the
`reshape_transform` of its Swin tutorial where the layer is channels-last
(the tutorial reshapes timm's tokens to [N, H, W, C], the identity on
torchvision's maps, then transpose(2, 3).transpose(1, 2)); score =
sum_i logits[i, target_i]; weights = the gradient's spatial mean; cam =
ReLU(sum_c w_c A_c); scale_cam_image ((x - min) / (1e-7 + max)), resize to
the input size (cv2.resize's bilinear, F.interpolate(align_corners=False)
when upsampling), ReLU and scale again. Maps stored as round(value * 1e4).

Float32 values are written with 9 significant digits (exact round trip).
Deterministic (torch.manual_seed). Run:
/usr/bin/python3 scripts/make_swin_gradcam_fixtures.py
"""
import json
import os
import sys

import torch
import torch.nn.functional as F
from torchvision.models.convnext import CNBlockConfig, ConvNeXt
from torchvision.models.swin_transformer import SwinTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import randn, ser  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20260815)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "swin_gradcam.json")

SWIN = dict(patch_size=[4, 4], embed_dim=4, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
            mlp_ratio=2.0, stochastic_depth_prob=0.1, num_classes=3)
SETTING = [(4, 8, 1), (8, None, 2)]
# (layer, channels last, target, method)
SWIN_CASES = [
    ("features.3.1.norm1", True, None, "gradcam"),
    ("features.3.1.norm1", True, [2, 0], "gradcam++"),
    ("features.2.norm", True, [1, 1], "gradcam"),
    ("features.1", True, None, "gradcam"),
    ("features.1.1.mlp.1", True, [0, 2], "gradcam"),
    ("permute", False, None, "gradcam"),
]
CONVNEXT_CASES = [
    ("features.3", False, None, "gradcam"),
    ("features.1.0.block.2", True, None, "gradcam"),
    ("features.3.1.block.3", True, [2, 0], "gradcam++"),
    ("features.3.0.block.4", True, [1, 1], "gradcam"),
    ("features.1.0.block", False, None, "gradcam"),
]


def grid(t, step=8):
    """Rounded to multiples of 1 / step: exact in float32 and short in JSON."""
    return torch.round(t * step) / step


def randomise(m):
    with torch.no_grad():
        for k, t in m.named_parameters():
            if "norm" in k and k.endswith("weight") or (k.endswith("weight") and t.ndim == 1):
                t.copy_(grid(1 + 0.1 * randn(*t.shape)))
            elif k.endswith("layer_scale"):
                t.copy_(grid(0.5 + torch.rand(t.shape)))
            else:
                t.copy_(grid(0.3 * randn(*t.shape)))
    return m.eval()


def swin():
    m = SwinTransformer(**SWIN)
    m.features[0][0] = torch.nn.Conv2d(1, 4, kernel_size=4, stride=4)
    return randomise(m)


def convnext():
    m = ConvNeXt([CNBlockConfig(*s) for s in SETTING], num_classes=3)
    m.features[0][0] = torch.nn.Conv2d(1, 4, kernel_size=4, stride=4)
    return randomise(m)


def reshape_transform(tensor):
    """pytorch-grad-cam's Swin tutorial transform on torchvision's [N, H, W, C]."""
    result = tensor.reshape(tensor.size(0), tensor.size(1), tensor.size(2), tensor.size(3))
    return result.transpose(2, 3).transpose(1, 2)


def scale(cam):
    cam = cam - cam.amin(dim=(1, 2), keepdim=True)
    return cam / (1e-7 + cam.amax(dim=(1, 2), keepdim=True))


def grad_cam(model, layer, last, x, target, method):
    store = {}
    tf = reshape_transform if last else (lambda t: t)

    def hook(_m, _i, out):
        store["a"] = tf(out).detach()
        out.register_hook(lambda g: store.__setitem__("g", tf(g)))

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
    return logits.detach(), targets, list(store["a"].shape), cam


def model_cases(model, cases, x):
    out = []
    for layer, last, target, method in cases:
        logits, targets, shape, cam = grad_cam(model, layer, last, x, target, method)
        out.append({
            "layer": layer,
            "channelsLast": last,
            "target": target,
            "method": method,
            "targets": targets,
            "mapShape": shape,
            "logits": ser(logits),
            "maps": [int(round(v * 1e4)) for v in cam.flatten().tolist()],
        })
    return out


def main():
    x = grid(randn(2, 1, 28, 20), 8)
    s, c = swin(), convnext()
    sd = s.state_dict()
    data = {
        "input": ser(x),
        "swin": {
            "config": {"name": "Swin cam", "patchSize": [4, 4], "embedDim": 4, "depths": [2, 2],
                       "numHeads": [2, 4], "windowSize": [4, 4], "stochasticDepthProb": 0.1},
            "options": {"inChannels": 1, "numClasses": 3, "mlpRatio": 2},
            # relative_position_index is a function of the window: stored once.
            "index": ser(sd["features.1.0.attn.relative_position_index"]),
            "weights": {k: ser(v) for k, v in sd.items() if not k.endswith("relative_position_index")},
            "cases": model_cases(s, SWIN_CASES, x),
        },
        "convnext": {
            "setting": [list(t) for t in SETTING],
            "options": {"inChannels": 1, "numClasses": 3},
            "weights": {k: ser(v) for k, v in c.state_dict().items()},
            "cases": model_cases(c, CONVNEXT_CASES, x),
        },
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
    for name, d in (("swin", data["swin"]), ("convnext", data["convnext"])):
        for case in d["cases"]:
            print(name, case["layer"], case["mapShape"], case["targets"], case["method"])


if __name__ == "__main__":
    main()
