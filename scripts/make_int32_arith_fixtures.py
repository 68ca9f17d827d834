"""Writes tests/fixtures/int32_arith.json: PyTorch's integer arithmetic on
integer tensors (add, sub with alpha, mul, div, neg, abs, maximum, minimum,
clamp, clamp_min, clamp_max, square, pow) and its promotion to float32
(tests/int32_arith_test.ts).

Each case stores its arguments under this library's op names (tensors as
records, integer tensors marked int32; numbers as numbers), its options
(alpha), and torch's result: its dtype ("int32" for torch's int64, which
int32 stands in for here; "float32") and values, and for a float32 tensor
argument that requires a gradient, the gradient of L = sum(out * G) for a
fixed G. Where torch's int64 result does not fit int32 the case stores
`overflow` (the exact int64 values, which this library refuses with an
Error) instead of `out`. Every integer case is also run on torch int32
tensors, and the script checks that int32 gives the same values where they
fit (torch wraps int32 silently beyond them).

Values hold the edges: -2^31, 2^31 - 1, products just below and above 2^31,
(-2)^31, 0^0, and int-to-float32 rounding above 2^24.

Run with /usr/bin/python3 scripts/make_int32_arith_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch

from fixture_json import ser

torch.manual_seed(20260801)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "int32_arith.json")
MAX, MIN = 2**31 - 1, -(2**31)

CASES = []


def ints(values, shape=None):
    t = torch.tensor(values, dtype=torch.int64)
    return t.reshape(shape) if shape else t


def floats(values, shape=None):
    t = torch.tensor(values, dtype=torch.float32)
    t = t.reshape(shape) if shape else t
    return t.requires_grad_(True)


TORCH = {
    "add": lambda a, b, alpha=1: torch.add(a, b, alpha=alpha),
    "sub": lambda a, b, alpha=1: torch.sub(a, b, alpha=alpha),
    "mul": torch.mul,
    "div": torch.div,
    "neg": torch.neg,
    "abs": torch.abs,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "clamp": lambda x, lo=None, hi=None: torch.clamp(x, lo, hi),
    "clampMin": torch.clamp_min,
    "clampMax": torch.clamp_max,
    "square": torch.square,
    "pow": torch.pow,
}


def arg(v):
    return ser(v) if isinstance(v, torch.Tensor) else v


def to32(v):
    return v.to(torch.int32) if isinstance(v, torch.Tensor) and not v.is_floating_point() else v


def case(name, op, args, opts=None):
    opts = opts or {}
    for a in args:
        if isinstance(a, torch.Tensor):
            a.grad = None
    out = TORCH[op](*args, **opts)
    c = {"name": name, "op": op, "args": [arg(a) for a in args], "opts": opts,
         "dtype": "float32" if out.is_floating_point() else "int32"}
    if c["dtype"] == "int32" and (out.min() < MIN or out.max() > MAX):
        c["overflow"] = {"shape": list(out.shape), "data": out.reshape(-1).tolist()}
    else:
        c["out"] = ser(out)
        # torch's int32 gives the same where int32 holds the result.
        out32 = TORCH[op](*[to32(a) for a in args], **opts)
        a32, a64 = out32.detach().to(out.dtype), out.detach()
        assert torch.allclose(a32, a64, rtol=0, atol=0, equal_nan=True), name
    grads = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    if grads:
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        c["G"] = ser(g)
        c["grads"] = [ser(a.grad) if isinstance(a, torch.Tensor) and a.requires_grad else None
                      for a in args]
    CASES.append(c)


y = ints([[3, -7, 0], [MAX, MIN, 12]])
z = ints([[-3, 2, 5], [-1, 7, -12]])
row = ints([5, -5, 46341])
big = ints([46340, -46340, 65536, 16777217, -16777219, MAX - 1])

# int32 with int32 (or an integer number): int32, exact.
case("add tensors", "add", [ints([1, -2, MAX - 5, MIN + 5]), ints([4, -3, 5, -5])])
case("add broadcast", "add", [ints([[1], [MIN + 10]]), ints([-10, 0, 10])])
case("add number", "add", [ints([0, 1, 2, MIN]), 1])
case("add alpha", "add", [y, z], {"alpha": 2})
case("add alpha negative", "add", [row, ints([1, 2, 3])], {"alpha": -3})
case("sub number", "sub", [ints([0, 1, 2, MIN + 1]), 1])
case("sub tensors", "sub", [y, ints([[-3, 2, 5], [1, -7, -12]])])
case("sub alpha", "sub", [row, 4], {"alpha": 5})
case("mul tensors", "mul", [big, ints([46340, 46340, -32768, 1, -1, 1])])
case("mul number", "mul", [ints([3, -4, 1073741823, -1073741824]), 2])
case("mul broadcast", "mul", [ints([[1], [-2]]), ints([3, 0, -7])])
case("square", "square", [ints([-46340, 46340, 0, -3, 7])])
case("pow 2", "pow", [ints([-46340, 46341 - 1, -5, 0]), 2])
case("pow 31", "pow", [ints([-2, 1, -1, 0]), 31])
case("pow 0", "pow", [ints([0, -5, MAX, MIN]), 0])
case("pow 3", "pow", [ints([1290, -1290, 10, -7]), 3])
case("neg", "neg", [ints([0, 5, -5, MAX, MIN + 1])])
case("abs", "abs", [ints([0, 5, -5, MAX, MIN + 1])])
case("maximum", "maximum", [y, z])
case("minimum broadcast", "minimum", [y, ints([0, MIN, MAX])])
case("clamp", "clamp", [ints([-3, -1, 0, 1, 2, 3, MIN, MAX]), 0, 2])
case("clamp min > max", "clamp", [ints([-3, 0, 5]), 4, 1])
case("clamp min only", "clamp", [ints([-3, 0, 5, MIN]), -1])
case("clamp max only", "clamp", [ints([-3, 0, 5, MAX]), None, 1])
case("clampMin", "clampMin", [ints([-3, 0, 5]), 0])
case("clampMax", "clampMax", [ints([-3, 0, 5]), 0])

# A float32 operand, a fractional number or true division: float32.
case("add fractional number", "add", [ints([1, -2, 16777217]), 0.5])
case("add float tensor", "add", [ints([[1, -2, 16777217], [3, 4, 5]]),
                                  floats([0.25, 1.5, -2.0])])
case("float plus int", "add", [floats([[0.25], [-1.5]]), ints([1, -2, 16777217])])
case("float plus int alpha", "add", [floats([0.25, 1.5, -2.0]), ints([1, -2, 3])], {"alpha": 0.5})
case("int plus float alpha", "add", [ints([1, -2, 3]), floats([0.25, 1.5, -2.0])], {"alpha": 0.5})
case("sub float tensor", "sub", [ints([1, -2, 3]), floats([0.25, 1.5, -2.0])])
case("mul fractional number", "mul", [ints([1, -2, 3, MAX]), 0.5])
case("mul float tensor", "mul", [ints([1, -2, 3]), floats([0.25, 1.5, -2.0])])
case("div number", "div", [ints([1, -2, 3, 7, MAX, MIN]), 2])
case("div by 3", "div", [ints([1, -2, 10, 16777217, MAX]), 3])
case("div tensors", "div", [ints([1, -7, 10, 0, 5, MAX]), ints([3, 2, -4, 7, 0, 7])])
case("div float tensor", "div", [ints([1, -7, 10]), floats([3.0, 0.5, -4.0])])
case("float div int", "div", [floats([1.0, -7.0, 10.0]), ints([3, 2, -4])])
case("maximum float", "maximum", [ints([1, -2, 3]), floats([0.5, 1.5, 3.0])])
case("minimum float", "minimum", [floats([0.5, 1.5, 3.0]), ints([1, -2, 3])])
case("clamp fractional", "clamp", [ints([-3, 0, 1, 5]), 0.5, 2])
case("clamp fractional max", "clamp", [ints([-3, 0, 1, 5]), None, 1.5])
case("clampMin fractional", "clampMin", [ints([-3, 0, 5]), 0.5])
case("pow fractional", "pow", [ints([1, 4, 9, -1]), 0.5])

# Beyond int32: torch's int64 holds them; here each is an Error.
case("add overflow", "add", [ints([1, MAX]), 1])
case("add tensors overflow", "add", [ints([MIN, 0]), ints([-1, 0])])
case("sub overflow", "sub", [ints([0, MIN]), 1])
case("sub tensors overflow", "sub", [y, z])
case("alpha overflow", "add", [ints([0, 0]), ints([1, 1073741824])], {"alpha": 2})
case("mul overflow", "mul", [ints([46341]), ints([46341])])
case("mul number overflow", "mul", [ints([1, -1073741825]), 2])
case("square overflow", "square", [ints([3, 46341])])
case("pow overflow", "pow", [ints([2, 3]), 31])
case("neg overflow", "neg", [ints([1, MIN])])
case("abs overflow", "abs", [ints([1, MIN])])

with open(OUT, "w") as fh:
    json.dump({"torch": torch.__version__, "cases": CASES}, fh, separators=(",", ":"))
print(f"wrote {len(CASES)} cases to {OUT}")
