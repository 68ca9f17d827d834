"""Derives the polynomial of native/cpu/exp16.h: e^r ~ 1 + r + c2 r^2 + ... + c6 r^6
on the reduced interval |r| <= ln2/2 (slightly widened), minimax in relative error.

Method: with c0 = c1 = 1 fixed, e^r - 1 - r = r^2 q(r), so the relative error is
(r^2 q(r) - (e^r - 1 - r)) / e^r = w(r) (q(r) - f(r)) with f = (e^r - 1 - r) / r^2 and
w = r^2 / e^r. The Remez exchange algorithm (mpmath, 40 digits) finds the degree-4 q
that equioscillates in that weighted error at 6 points; its coefficients are then
rounded to the nearest float32, and the relative error of the rounded polynomial is
measured on a dense grid. Run: /usr/bin/python3 scripts/fit_exp_poly.py
"""

import re

import mpmath as mp
import numpy as np

mp.mp.dps = 40
DEG = 4  # q's degree: p has degree DEG + 2
# ln2/2 plus the slack of k = round(x * log2e) when x * log2e is rounded (|x| <= 104).
A = mp.log(2) / 2 + mp.mpf("2e-5")


def f(r):
    return (mp.exp(r) - 1 - r) / r**2 if r != 0 else mp.mpf(1) / 2


def w(r):
    return r**2 / mp.exp(r)


def err(c, r):
    return w(r) * (mp.polyval(c[::-1], r) - f(r))


def remez(iters=30):
    n = DEG + 2  # alternation points
    # Chebyshev extrema as the first reference (r = 0 is a zero of w: avoid it exactly).
    pts = [A * mp.cos(mp.pi * (n - 1 - i) / (n - 1)) for i in range(n)]
    pts = [p if p != 0 else mp.mpf("1e-30") for p in pts]
    c = None
    for _ in range(iters):
        # Solve w(x_i) (q(x_i) - f(x_i)) = (-1)^i E for the coefficients and E.
        m = mp.matrix(n, n)
        b = mp.matrix(n, 1)
        for i, x in enumerate(pts):
            for j in range(DEG + 1):
                m[i, j] = w(x) * x**j
            m[i, DEG + 1] = -((-1) ** i)
            b[i] = w(x) * f(x)
        sol = mp.lu_solve(m, b)
        c = [sol[j] for j in range(DEG + 1)]
        # New reference: the extrema of the error on a grid, one per sign run.
        grid = [-A + 2 * A * k / 4000 for k in range(4001)]
        es = [err(c, x) if x != 0 else mp.mpf(0) for x in grid]
        runs = []
        for x, e in zip(grid, es):
            if e == 0:
                continue
            if runs and mp.sign(runs[-1][1]) == mp.sign(e):
                if abs(e) > abs(runs[-1][1]):
                    runs[-1] = (x, e)
            else:
                runs.append((x, e))
        if len(runs) < n:
            break
        # Keep n consecutive extrema with the largest smallest magnitude.
        best = max(range(len(runs) - n + 1), key=lambda s: min(abs(e) for _, e in runs[s:s + n]))
        pts = [x for x, _ in runs[best:best + n]]
    return c


def main():
    c = remez()
    c32 = [float(np.float32(float(v))) for v in c]
    grid = np.linspace(-float(A), float(A), 200001)
    rel = max(abs(float(err(c32, mp.mpf(x)))) for x in grid[::10] if x != 0)
    print("minimax relative error (exact coefficients): %.3e" % max(
        abs(float(err(c, mp.mpf(x)))) for x in grid[::50] if x != 0))
    print("relative error with float32 coefficients: %.3e (%.4f ulp of 2^-23)" % (rel, rel * 2**23))
    for i, v in enumerate(c32):
        h = re.sub(r"0+p", "p", float.hex(v))  # C's hex float literal, trailing zeros dropped
        print("c%d = %sf  /* %s */" % (i + 2, h, repr(np.float32(v))))


if __name__ == "__main__":
    main()
