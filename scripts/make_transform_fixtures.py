"""Writes tests/fixtures/transforms.json: PyTorch's numbers for the image transforms.

  resize    F.interpolate(mode="bilinear", align_corners=False, antialias=False)
  affine    torchvision's F.affine / F.rotate, rebuilt from torch alone (torchvision
            is not installed here): _get_inverse_affine_matrix, _gen_affine_grid and
            grid_sample(bilinear, zeros, align_corners=False), as torchvision 0.14 does
  blur      torchvision's F.gaussian_blur: normalised 1-D kernel, reflect padding, conv2d
  contrast  MONAI's AdjustContrast: ((x - min) / (range + 1e-7)) ** gamma * range + min

Inputs are rounded to 6 significant digits before use, so the stored decimals are
the float32 values PyTorch computed with. Deterministic; run with
/usr/bin/python3 scripts/make_transform_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(2017)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "transforms.json")


def r6(t):
    return torch.tensor([float("%.6g" % v) for v in t.reshape(-1).tolist()]).reshape(t.shape)


def image(h, w):
    return r6(torch.rand(h, w))


def flat(t):
    return [float("%.8g" % v) for v in t.reshape(-1).tolist()]


def rec(img):
    return {"width": img.shape[1], "height": img.shape[0], "data": flat(img)}


def inverse_affine_matrix(center, angle, translate, scale, shear):
    # torchvision.transforms.functional._get_inverse_affine_matrix (inverted=True)
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d, -b, 0.0, -c, a, 0.0]
    m = [x / scale for x in m]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def tv_affine(img, angle, translate, scale, shear):
    # torchvision.transforms.functional_tensor.affine with center=None, fill=None
    h, w = img.shape
    theta = torch.tensor(inverse_affine_matrix([0.0, 0.0], angle, translate, scale, shear)).reshape(1, 2, 3)
    d = 0.5
    base = torch.empty(1, h, w, 3)
    base[..., 0].copy_(torch.linspace(-w * 0.5 + d, w * 0.5 + d - 1, steps=w))
    base[..., 1].copy_(torch.linspace(-h * 0.5 + d, h * 0.5 + d - 1, steps=h).unsqueeze_(-1))
    base[..., 2].fill_(1)
    rescaled = theta.transpose(1, 2) / torch.tensor([0.5 * w, 0.5 * h])
    grid = base.view(1, h * w, 3).bmm(rescaled).view(1, h, w, 2)
    out = F.grid_sample(img[None, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out[0, 0]


def tv_blur(img, ks, sigma):
    half = (ks - 1) * 0.5
    x = torch.linspace(-half, half, steps=ks)
    k = torch.exp(-0.5 * (x / sigma).pow(2))
    k = k / k.sum()
    k2 = k[:, None] * k[None, :]
    p = ks // 2
    padded = F.pad(img[None, None], [p, p, p, p], mode="reflect")
    return F.conv2d(padded, k2[None, None])[0, 0]


def main():
    resize = []
    for (h, w), (oh, ow) in [((5, 7), (3, 4)), ((5, 7), (10, 9)), ((6, 6), (13, 4)), ((8, 3), (8, 3)), ((4, 4), (1, 1))]:
        img = image(h, w)
        out = F.interpolate(img[None, None], size=(oh, ow), mode="bilinear", align_corners=False)[0, 0]
        resize.append({"input": rec(img), "size": [oh, ow], "out": flat(out)})

    affine = []
    for op, params in [
        ("rotate", {"angle": 30}),
        ("rotate", {"angle": -90}),
        ("affine", {"angle": 15, "translate": [2, -1], "scale": 1.2, "shear": [10, 5]}),
        ("affine", {"angle": -7.5, "translate": [0.5, 1.25], "scale": 0.8, "shear": [0, 0]}),
        ("affine", {"angle": 0, "translate": [0, 0], "scale": 1.0, "shear": [-12, 0]}),
    ]:
        img = image(9, 11)
        if op == "rotate":
            out = tv_affine(img, -params["angle"], [0.0, 0.0], 1.0, [0.0, 0.0])
        else:
            out = tv_affine(img, params["angle"], params["translate"], params["scale"], params["shear"])
        affine.append({"op": op, "params": params, "input": rec(img), "out": flat(out)})

    blur = []
    for (h, w), ks, sigma in [((9, 11), 5, 1.0), ((7, 6), 3, 0.5), ((12, 10), 7, 2.0)]:
        img = image(h, w)
        blur.append({"input": rec(img), "kernelSize": ks, "sigma": sigma, "out": flat(tv_blur(img, ks, sigma))})

    contrast = []
    for gamma in [0.5, 0.87, 1.15, 2.5]:
        img = image(6, 5) * 3 - 1
        img = r6(img)
        lo, rng = img.min(), img.max() - img.min()
        out = ((img - lo) / (rng + 1e-7)) ** gamma * rng + lo
        contrast.append({"input": rec(img), "gamma": gamma, "out": flat(out)})

    with open(OUT, "w") as f:
        json.dump({"resize": resize, "affine": affine, "blur": blur, "contrast": contrast}, f)
        f.write("\n")
    print("wrote", os.path.relpath(OUT))


if __name__ == "__main__":
    main()
