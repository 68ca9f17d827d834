"""Writes tests/fixtures/autograd_function.json: PyTorch's numbers for custom
torch.autograd.Function ops (tests/autograd_function_test.ts), each defined
here as the test defines it with autograd.Function:

- legendre: the LegendrePolynomial3 of torch's tutorial (one saved input).
- mul_add_const: (x @ w) * k + b with a number k between the tensors; its
  backward returns b's gradient unreduced ([m, n] for b [n]), which torch
  sums to b's shape; needs_input_grad recorded, once with w not requiring
  grad.
- two_outputs: [exp(x), x * x], the loss reading only the first (the second
  output's gradient reaches backward as zeros), then both.

Each case stores its inputs, a fixed random upstream gradient G per output
used by the loss (L = sum(out_i * G_i)), the outputs and the gradients of
the inputs that require one.

Run with /usr/bin/python3 scripts/make_autograd_function_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "autograd_function.json")


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


NEEDS = []


class MulAddConst(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, k, b):
        ctx.save_for_backward(x, w)
        ctx.k = k
        NEEDS.append(list(ctx.needs_input_grad))
        return (x @ w) * k + b

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        gx = g @ w.t() * ctx.k if ctx.needs_input_grad[0] else None
        gw = x.t() @ g * ctx.k if ctx.needs_input_grad[1] else None
        gb = g if ctx.needs_input_grad[3] else None  # unreduced: torch sums it to b's shape
        return gx, gw, None, gb


class TwoOutputs(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        e = x.exp()
        ctx.save_for_backward(x, e)
        return e, x * x

    @staticmethod
    def backward(ctx, ga, gb):
        x, e = ctx.saved_tensors
        return ga * e + gb * 2 * x


def leaf(*shape, grad=True):
    return torch.randn(shape).requires_grad_(grad)


CASES = []


def case(name, fn, inputs, used, extra=None):
    """fn(*inputs) -> outputs (a tuple); L = sum over `used` outputs of sum(out * G)."""
    outs = fn(*inputs)
    if not isinstance(outs, tuple):
        outs = (outs,)
    gs = [torch.randn(o.shape) if i in used else None for i, o in enumerate(outs)]
    loss = sum((o * g).sum() for o, g in zip(outs, gs) if g is not None)
    loss.backward()
    c = {"name": name, "inputs": [ser(t) | {"grad": t.requires_grad} for t in inputs],
         "outs": [ser(o) for o in outs], "G": [ser(g) if g is not None else None for g in gs],
         "grads": [ser(t.grad) if t.grad is not None else None for t in inputs]}
    c.update(extra or {})
    CASES.append(c)


case("legendre", LegendrePolynomial3.apply, [leaf(2, 3)], [0])
x, w, b = leaf(4, 3), leaf(3, 5), leaf(5)
case("mul_add_const", lambda x, w, b: MulAddConst.apply(x, w, 0.75, b), [x, w, b], [0],
     {"k": 0.75})
CASES[-1]["needs"] = NEEDS[-1]
x, w, b = leaf(4, 3), leaf(3, 5, grad=False), leaf(5)
case("mul_add_const_frozen_w", lambda x, w, b: MulAddConst.apply(x, w, -2.0, b), [x, w, b], [0],
     {"k": -2.0})
CASES[-1]["needs"] = NEEDS[-1]
case("two_outputs_first_used", TwoOutputs.apply, [leaf(3, 2)], [0])
case("two_outputs_both_used", TwoOutputs.apply, [leaf(3, 2)], [0, 1])

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(CASES)} cases, {os.path.getsize(OUT)} bytes")
