"""Writes tests/fixtures/vit.json (tests/vit_test.ts) from torchvision 0.14's
VisionTransformer.

  structure
      For vit_b_16, vit_b_32, vit_l_16, vit_l_32 and vit_h_14: the table row
      (patch, layers, heads, hidden, mlp), the parameter count of the full
      model at its default image size 224, and the state dict (names in
      order, shapes, dtypes) of the same architecture with 1 encoder layer,
      whose parameter count is kept too (the test builds that small one and
      extends the count by the blocks; the full ViT-H alone is 2.5 GB).
      vit_b_16's full state dict is kept whole.
  numerics
      Tiny VisionTransformers built by torchvision's class (image 32, patch
      8, 2 layers, hidden 16, 2 heads, MLP 32, 1 channel, 3 classes; and image
      8, patch 4, 1 layer, hidden 8, 2 heads, MLP 16, 3 channels, 4 classes
      with representation_size 6), every parameter drawn at random (torchvision
      zeroes the head, which would make every output 0) on a grid of 1/32
      (exact in float32, short in JSON) and stored; in
      evaluation mode the logits of a random input, and for a random upstream
      gradient G the gradients of sum(logits * G) for the input and a few
      parameters.

Float32 values are written with 9 significant digits (exact round trip).
Deterministic (torch.manual_seed). Run:
/usr/bin/python3 scripts/make_vit_fixtures.py
"""
import json
import os
import sys

import torch
import torchvision
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import grads, randn, ser  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20260701)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "vit.json")

ROWS = {
    "vit_b_16": (16, 12, 12, 768, 3072),
    "vit_b_32": (32, 12, 12, 768, 3072),
    "vit_l_16": (16, 24, 16, 1024, 4096),
    "vit_l_32": (32, 24, 16, 1024, 4096),
    "vit_h_14": (14, 32, 16, 1280, 5120),
}


def state(m):
    return [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()]


def count(m):
    return sum(p.numel() for p in m.parameters())


def structure():
    out = []
    for name, (patch, layers, heads, hidden, mlp) in ROWS.items():
        # The row as torchvision's builder passes it (read back from the model's attributes).
        small = VisionTransformer(224, patch, 1, heads, hidden, mlp)
        full_count = count(getattr(torchvision.models, name)()) if name != "vit_h_14" else None
        if full_count is None:
            # 2.5 GB: counted from the block and the rest (the same sum torch would make).
            block = count(small.encoder.layers[0])
            full_count = count(small) + (layers - 1) * block
        case = {
            "model": name,
            "row": {"patchSize": patch, "numLayers": layers, "numHeads": heads, "hiddenDim": hidden, "mlpDim": mlp},
            "numParams": full_count,
            "oneLayer": {"numParams": count(small), "state": state(small)},
        }
        if name == "vit_b_16":
            case["state"] = state(torchvision.models.vit_b_16())
        out.append(case)
    return out


def grid(t):
    """Rounded to multiples of 1/32: exact in float32 and short in JSON."""
    return torch.round(t * 32) / 32


def randomize(m):
    """Every parameter at random: weights N(0, 0.3^2), LayerNorm weights near 1 (on the grid)."""
    with torch.no_grad():
        for k, p in m.named_parameters():
            if (".ln" in k or k.startswith("encoder.ln")) and k.endswith("weight"):
                p.copy_(grid(1 + 0.1 * randn(*p.shape)))
            else:
                p.copy_(grid(0.3 * randn(*p.shape)))


def numerics():
    cases = []
    specs = [
        ("tiny", dict(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32),
         dict(num_classes=3), 1, 1,
         ["class_token", "encoder.pos_embedding",
          "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
          "encoder.layers.encoder_layer_1.mlp.0.weight", "encoder.ln.weight", "heads.head.weight"]),
        ("tiny_representation", dict(image_size=8, patch_size=4, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16),
         dict(num_classes=4, representation_size=6), 3, 2,
         ["conv_proj.bias", "encoder.layers.encoder_layer_0.self_attention.out_proj.weight",
          "encoder.layers.encoder_layer_0.ln_2.bias", "heads.pre_logits.weight", "heads.head.bias"]),
    ]
    for name, config, options, channels, batch, few in specs:
        m = VisionTransformer(**config, **options)
        if channels != 3:
            # torchvision has no input-channel option: conv_proj is replaced, as for CT.
            p = config["patch_size"]
            m.conv_proj = torch.nn.Conv2d(channels, config["hidden_dim"], kernel_size=p, stride=p)
        randomize(m)
        m.eval()
        x = grid(randn(batch, channels, config["image_size"], config["image_size"])).requires_grad_(True)
        params = dict(m.named_parameters())
        out = m(x)
        g, gs = grads(out, [x] + [params[k] for k in few])
        cases.append({
            "name": name,
            "config": {
                "patchSize": config["patch_size"], "numLayers": config["num_layers"],
                "numHeads": config["num_heads"], "hiddenDim": config["hidden_dim"], "mlpDim": config["mlp_dim"],
            },
            "options": {
                "imageSize": config["image_size"], "inChannels": channels, "numClasses": options["num_classes"],
                **({"representationSize": options["representation_size"]} if "representation_size" in options else {}),
            },
            "weights": {k: ser(v) for k, v in m.state_dict().items()},
            "input": ser(x),
            "logits": ser(out),
            "upstream": g,
            "inputGrad": gs[0],
            "grads": dict(zip(few, gs[1:])),
        })
    return cases


def main():
    data = {"structure": structure(), "numerics": numerics()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
