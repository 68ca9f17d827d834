"""Writes tests/fixtures/volume_intensity_more.json: the reference numbers of
MONAI 1.3's further intensity transforms on volumes
(src/data/transforms/volume/intensity_more.ts and smooth.ts,
tests/volume_intensity_more_test.ts).

MONAI cannot be installed here, so its formulas are written below in torch
1.13, step by step as MONAI 1.3's code runs them on a float32 tensor:

- ScaleIntensity: monai.transforms.utils.rescale_array (min-max, a constant
  volume times minv), or x * (1 + factor); per channel with channel_wise.
- ScaleIntensityRangePercentiles: MONAI's percentile() (torch.quantile with
  q / 100 as a float32 tensor; np.percentile above 1e6 voxels), then
  ScaleIntensityRange (a_min == a_max: x - a_min + b_min).
- ThresholdIntensity, ShiftIntensity: torch.where / x + offset.
- AdjustContrast: ((x - min) / float(range + 1e-7)) ** gamma * range + min,
  with invert_image and retain_stats (torch's unbiased std).
- GaussianSmooth, GaussianSharpen: monai.networks.layers.GaussianFilter:
  gaussian_1d ("erf", "sampled", "scalespace" with MONAI's modified Bessel
  polynomials; tail int(max(sigma * 4, 0.5) + 0.5); not normalised), and
  separable_filtering: F.conv3d per spatial axis with zero padding.
- The random ones draw from a port of the library's data.Rng (xoshiro128**,
  below; the test checks the port against data.Rng), in the order MONAI's
  randomize() draws, so each case stores its seed and MONAI's output at
  those draws: RandAdjustContrast, RandGaussianSmooth, RandGaussianSharpen,
  RandHistogramShift (its torch interp) and RandBiasField (numpy's
  leggrid3d, x * exp(field) in float64).

Inputs are stored once under "inputs" and named by the cases. Options are
written under this library's names (camelCase).

Run with /usr/bin/python3 scripts/make_volume_intensity_more_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)
np.random.seed(20261207)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_intensity_more.json")

INPUTS = {}
CASES = []


def add_input(name, x):
    INPUTS[name] = ser(x)
    return x


def case(name, op, opts, x_name, out, seed=None):
    c = {"name": name, "op": op, "opts": opts, "x": x_name, "out": ser(out)}
    if seed is not None:
        c["seed"] = seed
    CASES.append(c)


# ---- the library's data.Rng (src/data/rng.ts), ported ----
M32 = 0xFFFFFFFF


def mix32(x):
    x = (x + 0x9E3779B9) & M32
    x = ((x ^ (x >> 16)) * 0x21F0AAAD) & M32
    x = ((x ^ (x >> 15)) * 0x735A2D97) & M32
    return x ^ (x >> 15)


def absorb(h, v):
    return mix32(mix32(h ^ (v & M32)) ^ ((v // 2**32) & M32))


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M32


class Rng:
    def __init__(self, seed):
        h = absorb(0x6C697473, seed)
        self.s0 = h = mix32(h)
        self.s1 = h = mix32(h)
        self.s2 = h = mix32(h)
        self.s3 = mix32(h) | 1

    def next_u32(self):
        s0, s1, s2, s3 = self.s0, self.s1, self.s2, self.s3
        r = (rotl((s1 * 5) & M32, 7) * 9) & M32
        n2, n3 = s2 ^ s0, s3 ^ s1
        self.s1, self.s0 = s1 ^ n2, s0 ^ n3
        self.s2, self.s3 = n2 ^ ((s1 << 9) & M32), rotl(n3, 11)
        return r

    def uniform(self, lo=0.0, hi=1.0):
        return lo + (hi - lo) * (self.next_u32() / 4294967296)

    def int(self, lo, hi):
        return min(hi - 1, lo + math.floor(self.uniform() * (hi - lo)))

    def bernoulli(self, p):
        return p >= 1 or (p > 0 and self.uniform() < p)


RNG_CHECK = {"seed": 11}
_r = Rng(11)
RNG_CHECK["uniform"] = [_r.uniform() for _ in range(4)]
RNG_CHECK["int"] = [_r.int(3, 11) for _ in range(4)]


# ---- MONAI 1.3's formulas in torch ----
def rescale_array(arr, minv=0.0, maxv=1.0):
    mina, maxa = arr.min(), arr.max()
    if mina == maxa:
        return arr * minv if minv is not None else arr
    norm = (arr - mina) / (maxa - mina)
    if minv is None or maxv is None:
        return norm
    return (norm * (maxv - minv)) + minv


def scale_intensity(img, minv=0.0, maxv=1.0, factor=None, channel_wise=False):
    if minv is not None or maxv is not None:
        if channel_wise:
            return torch.stack([rescale_array(d, minv, maxv) for d in img])
        return rescale_array(img, minv, maxv)
    return img * (1 + factor) if factor is not None else img


def percentile(x, q):
    q_np = np.asarray(q)
    if x.numel() > 1_000_000:
        return torch.as_tensor(np.percentile(x.numpy(), q_np), dtype=x.dtype)
    return torch.quantile(x, torch.as_tensor(q_np / 100.0, dtype=x.dtype))


def scale_intensity_range(img, a_min, a_max, b_min, b_max, clip):
    if a_max - a_min == 0.0:
        return img - a_min + b_min
    img = (img - a_min) / (a_max - a_min)
    img = img * (b_max - b_min) + b_min
    if clip:
        img = torch.clamp(img, b_min, b_max)
    return img


def percentiles(img, lower, upper, b_min, b_max, clip=False, relative=False, channel_wise=False):
    def one(x):
        a_min, a_max = percentile(x, lower), percentile(x, upper)
        lo, hi = b_min, b_max
        if relative:
            lo = ((b_max - b_min) * (lower / 100.0)) + b_min
            hi = ((b_max - b_min) * (upper / 100.0)) + b_min
        return scale_intensity_range(x, a_min, a_max, lo, hi, clip)

    return torch.stack([one(d) for d in img]) if channel_wise else one(img)


def threshold(img, thr, above=True, cval=0.0):
    mask = img > thr if above else img < thr
    return torch.where(mask, img, torch.tensor(cval, dtype=img.dtype))


def adjust_contrast(img, gamma, invert_image=False, retain_stats=False):
    if invert_image:
        img = -img
    if retain_stats:
        mn, sd = img.mean(), img.std()
    epsilon = 1e-7
    img_min = img.min()
    img_range = img.max() - img_min
    ret = ((img - img_min) / float(img_range + epsilon)) ** gamma * img_range + img_min
    if retain_stats:
        ret = ret - ret.mean()
        ret = ret / (ret.std() + 1e-8)
        ret = sd * ret + mn
    if invert_image:
        ret = -ret
    return ret


def polyval(coef, x):
    coef = torch.as_tensor(coef, dtype=torch.float)
    ans = coef[0]
    for c in coef[1:]:
        ans = ans * x + c
    return ans


def bessel_0(x):
    if torch.abs(x) < 3.75:
        y = x * x / 14.0625
        return polyval([0.45813e-2, 0.360768e-1, 0.2659732, 1.2067492, 3.0899424, 3.5156229, 1.0], y)
    ax = torch.abs(x)
    y = 3.75 / ax
    c = [0.392377e-2, -0.1647633e-1, 0.2635537e-1, -0.2057706e-1, 0.916281e-2, -0.157565e-2,
         0.225319e-2, 0.1328592e-1, 0.39894228]
    return polyval(c, y) * torch.exp(ax) / torch.sqrt(ax)


def bessel_1(x):
    if torch.abs(x) < 3.75:
        y = x * x / 14.0625
        c = [0.32411e-3, 0.301532e-2, 0.2658733e-1, 0.15084934, 0.51498869, 0.87890594, 0.5]
        return torch.abs(x) * polyval(c, y)
    ax = torch.abs(x)
    y = 3.75 / ax
    c = [-0.420059e-2, 0.1787654e-1, -0.2895312e-1, 0.2282967e-1, -0.1031555e-1, 0.163801e-2,
         -0.362018e-2, -0.3988024e-1, 0.39894228]
    ans = polyval(c, y) * torch.exp(ax) / torch.sqrt(ax)
    return -ans if x < 0.0 else ans


def bessel_i(n, x):
    if x == 0.0:
        return x
    tox = 2.0 / torch.abs(x)
    ans, bip, bi = torch.tensor(0.0), torch.tensor(0.0), torch.tensor(1.0)
    m = int(2 * (n + np.floor(np.sqrt(40.0 * n))))
    for j in range(m, 0, -1):
        bim = bip + float(j) * tox * bi
        bip = bi
        bi = bim
        if abs(bi) > 1.0e10:
            ans = ans * 1.0e-10
            bi = bi * 1.0e-10
            bip = bip * 1.0e-10
        if j == n:
            ans = bip
    ans = ans * bessel_0(x) / bi
    return -ans if x < 0.0 and (n % 2) == 1 else ans


def gaussian_1d(sigma, truncated=4.0, approx="erf"):
    sigma = torch.as_tensor(sigma, dtype=torch.float)
    tail = int(max(float(sigma) * truncated, 0.5) + 0.5)
    if approx == "erf":
        x = torch.arange(-tail, tail + 1, dtype=torch.float)
        t = 0.70710678 / torch.abs(sigma)
        out = 0.5 * ((t * (x + 0.5)).erf() - (t * (x - 0.5)).erf())
        return out.clamp(min=0)
    if approx == "sampled":
        x = torch.arange(-tail, tail + 1, dtype=torch.float)
        out = torch.exp(-0.5 / (sigma * sigma) * x**2)
        return out / (2.5066282 * sigma)
    sigma2 = sigma * sigma
    out_pos = [None] * (tail + 1)
    out_pos[0] = bessel_0(sigma2)
    out_pos[1] = bessel_1(sigma2)
    for k in range(2, len(out_pos)):
        out_pos[k] = bessel_i(k, sigma2)
    out = out_pos[:0:-1]
    out.extend(out_pos)
    return torch.stack(out) * torch.exp(-sigma2)


def separable_filtering(x, kernels):
    """MONAI's _separable_filtering_conv on [1, C, D, H, W], zero padding."""
    n_chs, sd = x.shape[1], 3
    pads = [(k.shape[0] - 1) // 2 for k in kernels]

    def conv(inp, d):
        if d < 0:
            return inp
        s = [1] * 5
        s[d + 2] = -1
        k = kernels[d].reshape(s)
        if k.numel() == 1 and k.reshape(-1)[0] == 1:
            return conv(inp, d - 1)
        k = k.repeat([n_chs, 1] + [1] * sd)
        p = [0] * sd
        p[d] = pads[d]
        padded = F.pad(inp, sum([[q, q] for q in reversed(p)], []), mode="constant")
        return F.conv3d(conv(padded, d - 1), k, groups=n_chs)

    return conv(x, sd - 1)


def gaussian_filter(x, sigma, approx):
    sig = sigma if isinstance(sigma, (list, tuple)) else [sigma] * 3
    kernels = [gaussian_1d(torch.as_tensor(s, dtype=torch.float), 4.0, approx) for s in sig]
    return separable_filtering(x, kernels)


def gaussian_smooth(img, sigma=1.0, approx="erf"):
    return gaussian_filter(img.unsqueeze(0), sigma, approx).squeeze(0)


def gaussian_sharpen(img, sigma1=3.0, sigma2=1.0, alpha=30.0, approx="erf"):
    blurred = gaussian_filter(img.unsqueeze(0), sigma1, approx)
    filter_blurred = gaussian_filter(blurred, sigma2, approx)
    return (blurred + alpha * (blurred - filter_blurred)).squeeze(0)


def interp(x, xp, fp):
    m = (fp[1:] - fp[:-1]) / (xp[1:] - xp[:-1])
    b = fp[:-1] - (m * xp[:-1])
    indices = torch.searchsorted(xp.reshape(-1), x.reshape(-1)) - 1
    indices = torch.clip(indices, 0, len(m) - 1)
    f = (m[indices] * x.reshape(-1) + b[indices]).reshape(x.shape)
    f[x < xp[0]] = fp[0]
    f[x > xp[-1]] = fp[-1]
    return f


def histogram_shift(img, ref, flo):
    img_min, img_max = img.min(), img.max()
    if img_min == img_max:
        return img
    xp = torch.as_tensor(ref, dtype=img.dtype)
    yp = torch.as_tensor(flo, dtype=img.dtype)
    return interp(img, xp * (img_max - img_min) + img_min, yp * (img_max - img_min) + img_min)


def bias_field(img, degree, coeff):
    spatial_shape = img.shape[1:]
    coeff_mat = np.zeros((degree + 1,) * 3)
    coords = [np.linspace(-1.0, 1.0, dim, dtype=np.float32) for dim in spatial_shape]
    pts = [[0, 0, 0]]
    for i in range(degree + 1):
        for j in range(degree + 1 - i):
            for k in range(degree + 1 - i - j):
                pts.append([i, j, k])
    pts = np.stack(pts[1:])
    coeff_mat[pts[:, 0], pts[:, 1], pts[:, 2]] = coeff
    field = np.polynomial.legendre.leggrid3d(coords[0], coords[1], coords[2], coeff_mat)
    fields = np.stack([field for _ in range(img.shape[0])], axis=0)
    out = img.numpy() * np.exp(fields)
    return torch.as_tensor(out.astype(np.float32))


# ---- inputs ----
def randf(*shape, scale=1.0, shift=0.0):
    return (torch.randn(shape, dtype=torch.float32) * scale + shift).to(torch.float32)


xa = add_input("a", randf(2, 3, 4, 5, scale=3.0, shift=1.0))
xb = add_input("b", randf(1, 5, 6, 7, scale=100.0, shift=40.0))
xc = add_input("const", torch.full((1, 2, 2, 3), 5.0))
xh = xa.clone()
xh[1] = 2.5  # channel 1 constant
xh = add_input("halfconst", xh)
# Ties and exact f32(0.1) for the threshold and the percentiles.
xt = torch.tensor([0.1, 0.1, -0.5, 0.3, 2.0, 0.1, -1.0, 0.0, 0.0, 7.5, 0.25, 0.1],
                  dtype=torch.float32).reshape(1, 2, 2, 3)
xt = add_input("ties", xt)
xp = add_input("pos", torch.rand(1, 4, 5, 6, dtype=torch.float32) * 10 + 1)
xs = add_input("smooth", randf(2, 6, 7, 8))
xn = add_input("narrow", randf(1, 2, 9, 3))
xq = xa.clone()
xq[0, 1, 2, 3] = float("nan")  # torch's min, max and quantile give NaN
xq = add_input("nan", xq)

# ---- ScaleIntensity ----
for opts, kw, (nm, x) in (
    ({}, {}, ("a", xa)),
    ({"minv": -1, "maxv": 2}, {"minv": -1.0, "maxv": 2.0}, ("a", xa)),
    ({"channelWise": True}, {"channel_wise": True}, ("a", xa)),
    ({"minv": 0.2, "maxv": 0.7, "channelWise": True}, {"minv": 0.2, "maxv": 0.7, "channel_wise": True},
     ("halfconst", xh)),
    ({"minv": None, "maxv": None, "factor": 0.5}, {"minv": None, "maxv": None, "factor": 0.5}, ("b", xb)),
    ({"minv": None, "maxv": 3}, {"minv": None, "maxv": 3.0}, ("b", xb)),
    ({"maxv": None}, {"maxv": None}, ("a", xa)),
    ({}, {}, ("const", xc)),
    ({"minv": 2, "maxv": 4}, {"minv": 2.0, "maxv": 4.0}, ("const", xc)),
    ({"minv": 3, "maxv": -1}, {"minv": 3.0, "maxv": -1.0}, ("b", xb)),
    ({}, {}, ("nan", xq)),
    ({"channelWise": True}, {"channel_wise": True}, ("nan", xq)),
):
    case(f"scale intensity {opts} {nm}", "ScaleIntensity", opts, nm, scale_intensity(x, **kw))

# ---- ScaleIntensityRangePercentiles ----
for opts, (nm, x) in (
    ({"lower": 5, "upper": 95, "bMin": 0, "bMax": 1}, ("a", xa)),
    ({"lower": 10, "upper": 90, "bMin": -1, "bMax": 1, "clip": True}, ("b", xb)),
    ({"lower": 2.5, "upper": 99.5, "bMin": 0, "bMax": 200, "relative": True}, ("a", xa)),
    ({"lower": 25, "upper": 75, "bMin": 0, "bMax": 1, "clip": True, "relative": True}, ("b", xb)),
    ({"lower": 1, "upper": 99, "bMin": 0, "bMax": 1, "channelWise": True}, ("a", xa)),
    ({"lower": 0, "upper": 100, "bMin": 0.5, "bMax": 1.5, "channelWise": True, "clip": True},
     ("halfconst", xh)),
    ({"lower": 30, "upper": 60, "bMin": 0, "bMax": 1}, ("ties", xt)),
    ({"lower": 20, "upper": 80, "bMin": 0.3, "bMax": 0.9}, ("const", xc)),
    ({"lower": 40, "upper": 40, "bMin": 0, "bMax": 1}, ("a", xa)),
    ({"lower": 90, "upper": 10, "bMin": 0, "bMax": 1, "clip": True}, ("b", xb)),
    ({"lower": 5, "upper": 95, "bMin": 0, "bMax": 1, "channelWise": True}, ("nan", xq)),
):
    kw = {"lower": opts["lower"], "upper": opts["upper"], "b_min": float(opts["bMin"]),
          "b_max": float(opts["bMax"]), "clip": opts.get("clip", False),
          "relative": opts.get("relative", False), "channel_wise": opts.get("channelWise", False)}
    case(f"percentiles {opts} {nm}", "ScaleIntensityRangePercentiles", opts, nm, percentiles(x, **kw))

# ---- ThresholdIntensity, ShiftIntensity ----
for opts, (nm, x) in (
    ({"threshold": 0.1}, ("ties", xt)),
    ({"threshold": 0.1, "above": False, "cval": -1}, ("ties", xt)),
    ({"threshold": 0.25, "above": False}, ("ties", xt)),
    ({"threshold": 40, "cval": -1000}, ("b", xb)),
    ({"threshold": 0, "above": False, "cval": 9}, ("nan", xq)),
):
    case(f"threshold {opts} {nm}", "ThresholdIntensity", opts, nm,
         threshold(x, opts["threshold"], opts.get("above", True), float(opts.get("cval", 0))))
for off, (nm, x) in ((0.1, ("a", xa)), (-3, ("b", xb)), (1e-3, ("b", xb))):
    case(f"shift {off} {nm}", "ShiftIntensity", {"offset": off}, nm, x + off)

# ---- AdjustContrast ----
for opts, (nm, x) in (
    ({"gamma": 0.5}, ("a", xa)),
    ({"gamma": 1.7}, ("a", xa)),
    ({"gamma": 2}, ("b", xb)),
    ({"gamma": 3.3}, ("pos", xp)),
    ({"gamma": 4.5}, ("a", xa)),
    ({"gamma": 1.5, "invertImage": True}, ("b", xb)),
    ({"gamma": 0.8, "retainStats": True}, ("a", xa)),
    ({"gamma": 2.2, "invertImage": True, "retainStats": True}, ("pos", xp)),
    ({"gamma": 2.5}, ("const", xc)),
    ({"gamma": 1.5}, ("nan", xq)),
):
    out = adjust_contrast(x, opts["gamma"], opts.get("invertImage", False),
                          opts.get("retainStats", False))
    case(f"contrast {opts} {nm}", "AdjustContrast", opts, nm, out)

# ---- GaussianSmooth, GaussianSharpen ----
for opts, (nm, x) in (
    ({}, ("smooth", xs)),
    ({"sigma": [0.5, 1.2, 2]}, ("smooth", xs)),
    ({"sigma": 0.2}, ("smooth", xs)),
    ({"sigma": 0.8, "approx": "sampled"}, ("smooth", xs)),
    ({"sigma": [1.3, 0.6, 2.1], "approx": "sampled"}, ("smooth", xs)),
    ({"sigma": [0.7, 1, 1.6], "approx": "scalespace"}, ("smooth", xs)),
    ({"sigma": 2.4, "approx": "scalespace"}, ("narrow", xn)),
    ({"sigma": 3}, ("narrow", xn)),
    ({"sigma": 1.1}, ("const", xc)),
):
    out = gaussian_smooth(x, opts.get("sigma", 1.0), opts.get("approx", "erf"))
    case(f"smooth {opts} {nm}", "GaussianSmooth", opts, nm, out)
for opts, (nm, x) in (
    ({}, ("smooth", xs)),
    ({"sigma1": [1.5, 1, 2], "sigma2": 0.5, "alpha": 10}, ("smooth", xs)),
    ({"sigma1": 1.2, "sigma2": [0.4, 0.6, 0.9], "alpha": 5, "approx": "sampled"}, ("b", xb)),
    ({"sigma1": 0.9, "sigma2": 0.6, "alpha": 2, "approx": "scalespace"}, ("narrow", xn)),
):
    out = gaussian_sharpen(x, opts.get("sigma1", 3.0), opts.get("sigma2", 1.0),
                           float(opts.get("alpha", 30.0)), opts.get("approx", "erf"))
    case(f"sharpen {opts} {nm}", "GaussianSharpen", opts, nm, out)


# ---- the random ones, drawing from the Rng port in MONAI's order ----
def pair(v, default):
    return tuple(v) if v is not None else default


for opts, seed, (nm, x) in (
    ({"p": 1}, 3, ("a", xa)),
    ({"p": 0.5, "gamma": [0.7, 1.9]}, 4, ("b", xb)),
    ({"p": 0.5, "gamma": [0.7, 1.9]}, 5, ("b", xb)),
    ({"p": 1, "gamma": 2.5, "retainStats": True, "invertImage": True}, 6, ("pos", xp)),
):
    r = Rng(seed)
    out = x
    if r.bernoulli(opts["p"]):
        g = opts.get("gamma", [0.5, 4.5])
        g = (0.5, g) if not isinstance(g, list) else (min(g), max(g))
        out = adjust_contrast(x, r.uniform(*g), opts.get("invertImage", False),
                              opts.get("retainStats", False))
    case(f"rand contrast {opts} seed {seed}", "RandAdjustContrast", opts, nm, out, seed)

for opts, seed in (
    ({"p": 1}, 7),
    ({"p": 1, "sigmaX": [0.4, 0.6], "sigmaY": [1, 2], "sigmaZ": [0.25, 0.3], "approx": "sampled"}, 8),
    ({"p": 0.5, "sigmaX": [0.5, 2]}, 9),
    ({"p": 0.5, "sigmaX": [0.5, 2]}, 10),
):
    r = Rng(seed)
    out = xs
    if r.bernoulli(opts["p"]):
        sig = [r.uniform(*pair(opts.get(k), (0.25, 1.5))) for k in ("sigmaX", "sigmaY", "sigmaZ")]
        out = gaussian_smooth(xs, sig, opts.get("approx", "erf"))
    case(f"rand smooth {opts} seed {seed}", "RandGaussianSmooth", opts, "smooth", out, seed)

for opts, seed in (
    ({"p": 1}, 12),
    ({"p": 1, "sigma1X": [1, 2], "sigma2Y": [0.3, 0.4], "alpha": [1, 3], "approx": "scalespace"}, 13),
):
    r = Rng(seed)
    r.bernoulli(opts["p"])
    s1 = [r.uniform(*pair(opts.get(k), (0.5, 1.0))) for k in ("sigma1X", "sigma1Y", "sigma1Z")]
    s2 = []
    for k, hi in zip(("sigma2X", "sigma2Y", "sigma2Z"), s1):
        v = opts.get(k, 0.5)
        lo_hi = (v, hi) if not isinstance(v, list) else tuple(v)
        s2.append(r.uniform(*lo_hi))
    a = r.uniform(*pair(opts.get("alpha"), (10.0, 30.0)))
    out = gaussian_sharpen(xs, s1, s2, a, opts.get("approx", "erf"))
    case(f"rand sharpen {opts} seed {seed}", "RandGaussianSharpen", opts, "smooth", out, seed)

for opts, seed, (nm, x) in (
    ({"p": 1}, 14, ("a", xa)),
    ({"p": 1, "numControlPoints": [4, 8]}, 15, ("b", xb)),
    ({"p": 1, "numControlPoints": 3}, 16, ("pos", xp)),
    ({"p": 1}, 17, ("const", xc)),
    ({"p": 1}, 22, ("nan", xq)),
):
    r = Rng(seed)
    r.bernoulli(opts["p"])
    ncp = opts.get("numControlPoints", 10)
    lo, hi = (ncp, ncp) if not isinstance(ncp, list) else (min(ncp), max(ncp))
    n = r.int(lo, hi + 1)
    ref = np.linspace(0, 1, n)
    flo = np.copy(ref)
    for i in range(1, n - 1):
        flo[i] = r.uniform(flo[i - 1], flo[i + 1])
    case(f"rand histogram {opts} seed {seed}", "RandHistogramShift", opts, nm,
         histogram_shift(x, ref, flo), seed)

for opts, seed, (nm, x) in (
    ({"p": 1}, 18, ("a", xa)),
    ({"p": 1, "degree": 2, "coeffRange": [-0.3, 0.3]}, 19, ("pos", xp)),
    ({"p": 1, "degree": 5, "coeffRange": [0.05, 0.2]}, 20, ("narrow", xn)),
    ({"p": 1, "degree": 1}, 21, ("b", xb)),
):
    r = Rng(seed)
    r.bernoulli(opts["p"])
    degree = opts.get("degree", 3)
    lo, hi = opts.get("coeffRange", [0.0, 0.1])
    n_coeff = int(np.prod([(degree + k) / k for k in range(1, 4)]))
    coeff = [r.uniform(lo, hi) for _ in range(n_coeff)]
    case(f"rand bias field {opts} seed {seed}", "RandBiasField", opts, nm,
         bias_field(x, degree, coeff), seed)

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "rng": RNG_CHECK, "inputs": INPUTS, "cases": CASES}, f,
              separators=(",", ":"))
print(f"{len(CASES)} cases -> {OUT} ({os.path.getsize(OUT)} bytes)")
