"""Exports a `deno task bench:step` model from PyTorch to ONNX for the
onnxruntime variant (bench/step/ort_worker.ts): the same architecture as
bench/step/torch_worker.py builds (bench/torch_models.py), in eval mode, at
the bench's fixed batch and size.

Usage: python3 bench/step/onnx_export.py MODEL BATCH SIZE OUT.onnx
"""
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from torch_models import build  # noqa: E402


def main():
    model, batch, size, out = sys.argv[1:5]
    batch, size = int(batch), int(size)
    torch.manual_seed(0)
    net = build(model, size)
    net.eval()
    x = torch.randn(batch, 1, size, size)
    with torch.no_grad():
        torch.onnx.export(net, x, out, input_names=["image"], output_names=["logits"],
                          opset_version=13, do_constant_folding=True)


if __name__ == "__main__":
    main()
