"""Why bf16 autocast keeps float32 Winograd (native/cpu/conv_bf16_winograd.c).

A 3x3 convolution of random post-ReLU activations, as autocast computes it
(operands rounded to bf16, exact sums), against Winograd F(2x2, 3x3) and
F(4x4, 3x3) whose transformed operands are rounded to bf16 (what a Winograd
on vdpbf16ps or AMX products would do). Prints each one's largest error as
a fraction of the output's root mean square, next to autocast's own
distance from float32. Run: /usr/bin/python3 bench/winograd_bf16_error.py
[channels] (numpy only; 64 by default).
"""

import sys

import numpy as np


def bf16(a):
    """a rounded to bfloat16 (round to nearest even), as float64."""
    u = np.asarray(a, np.float32).view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return r.view(np.float32).astype(np.float64)


# Lavin and Gray's matrices (interpolation points 0, 1, -1, 2, -2 and infinity).
F4 = (
    4,
    np.array(
        [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
         [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]], float),
    np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]]),
    np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
              [0, 1, -1, 8, -8, 1]], float),
)
F2 = (
    2,
    np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float),
    np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]),
    np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float),
)


def direct(x, w):
    """3x3 convolution, padding 1, in float64."""
    c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    y = np.zeros((w.shape[0], h, wd))
    for r in range(3):
        for s in range(3):
            y += np.einsum("kc,chw->khw", w[:, :, r, s], xp[:, r:r + h, s:s + wd])
    return y


def winograd(x, w, tile, round_operands):
    """The same convolution through Winograd, its transformed operands rounded to bf16 or not."""
    m, bt, g, at = tile
    a = m + 2
    c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (1, 1 + a), (1, 1 + a)))
    u = np.einsum("ij,kcjl,ml->kcim", g, w, g)
    if round_operands:
        u = bf16(u)
    y = np.zeros((w.shape[0], h + m, wd + m))
    for ty in range(0, h, m):
        for tx in range(0, wd, m):
            v = np.einsum("ij,cjl,ml->cim", bt, xp[:, ty:ty + a, tx:tx + a], bt)
            if round_operands:
                v = bf16(v)
            mm = np.einsum("kcij,cij->kij", u, v)
            y[:, ty:ty + m, tx:tx + m] = np.einsum("ij,kjl,ml->kim", at, mm, at)
    return y[:, :h, :wd]


def main():
    channels = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((channels, 16, 16)), 0)
    w = rng.standard_normal((channels, channels, 3, 3)) * np.sqrt(2 / (9 * channels))
    exact = direct(x, w)
    autocast = direct(bf16(x), bf16(w))
    rms = np.sqrt((exact**2).mean())
    err = lambda a, b: np.abs(a - b).max() / rms
    print(f"{channels} -> {channels} channels at 16 x 16; largest error / rms of the output")
    print(f"autocast (bf16 operands, exact sums) against float32: {err(autocast, exact):.2e}")
    for name, tile in (("F(2x2, 3x3)", F2), ("F(4x4, 3x3)", F4)):
        assert err(winograd(x, w, tile, False), exact) < 1e-12, name  # the matrices are right
        got = winograd(bf16(x), bf16(w), tile, True)
        print(f"{name}, transforms rounded to bf16, against autocast: {err(got, autocast):.2e}")


if __name__ == "__main__":
    main()
