"""Writes tests/fixtures/habits_attrs.json: PyTorch's numbers for module
attributes that PyTorch users assign after construction (`bn.momentum = 0.01`,
`m.p = 0.0`, `act.negative_slope = 0.2`, `pool.ceil_mode = True`,
`conv.padding_mode = "reflect"`, `up.scale_factor = 4`, ...).

Each case builds a layer, gives its parameters and buffers seeded values
(stored as `state`, loaded into ours with loadStateDict), assigns the
attributes, runs `steps` forwards in training or evaluation mode on `x`, and
stores the last output, the running statistics or counter it reads back, and,
where `grad` is set, the gradient of L = sum(out * G) for x, with a fixed
upstream gradient G. `before` is the output without the assignment: every case
checks that it differs (torch honours the assignment), so a layer that ignored
it could not pass (bn_track_false_eval excepted: torch's evaluation still uses
the running statistics it no longer updates). Tensors are float32, written with 9 significant digits.

The same names key the TypeScript side of tests/habits_attrs_test.ts, which
makes each layer and assignment in our spelling.

Run with /usr/bin/python3 scripts/make_habits_attrs_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn
import torchvision

from fixture_json import ser

torch.set_num_threads(1)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_attrs.json")


def seed_of(name):
    return sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 100003


def P(*shape):
    """A new random Parameter of `shape` (an assignment's value), seeded per case."""
    return ("param", shape)


# name: (make, x shape, assignments, mode, steps, reads, grad)
# reads: buffers read back after the steps. Assignments are applied in order.
CASES = {
    # batch and other norms
    "bn_momentum": (lambda: nn.BatchNorm2d(3), [4, 3, 2, 2], {"momentum": 0.5}, "train", 1,
                    ["running_mean", "running_var"], False),
    "bn_momentum_none": (lambda: nn.BatchNorm2d(3), [4, 3, 2, 2], {"momentum": None}, "train", 3,
                         ["running_mean", "running_var"], False),
    "bn_eps_train": (lambda: nn.BatchNorm2d(3), [4, 3, 2, 2], {"eps": 0.5}, "train", 1, [], True),
    "bn_eps_eval": (lambda: nn.BatchNorm2d(3), [2, 3, 2, 2], {"eps": 0.5}, "eval", 1, [], True),
    "bn_track_false_train": (lambda: nn.BatchNorm2d(3), [4, 3, 2, 2],
                             {"track_running_stats": False}, "train", 2,
                             ["running_mean", "running_var", "num_batches_tracked"], False),
    "bn_track_false_eval": (lambda: nn.BatchNorm2d(3), [2, 3, 2, 2],
                            {"track_running_stats": False}, "eval", 1, [], False),
    "bn_stats_none_eval": (lambda: nn.BatchNorm2d(3), [4, 3, 2, 2],
                           {"track_running_stats": False, "running_mean": None,
                            "running_var": None}, "eval", 1, [], True),
    "bn1d_momentum": (lambda: nn.BatchNorm1d(3), [6, 3], {"momentum": 0.9}, "train", 1,
                      ["running_mean", "running_var"], False),
    "in_eps": (lambda: nn.InstanceNorm2d(3), [2, 3, 2, 2], {"eps": 0.5}, "train", 1, [], False),
    "ln_eps": (lambda: nn.LayerNorm(4), [2, 4], {"eps": 0.5}, "train", 1, [], True),
    "gn_eps": (lambda: nn.GroupNorm(2, 4), [2, 4, 2], {"eps": 0.5}, "train", 1, [], False),
    # dropout (p 0 and 1: no random numbers to match)
    "dropout_p0": (lambda: nn.Dropout(0.5), [2, 6], {"p": 0.0}, "train", 1, [], False),
    "dropout_p1": (lambda: nn.Dropout(0.5), [2, 6], {"p": 1.0}, "train", 1, [], False),
    "dropout1d_p0": (lambda: nn.Dropout1d(0.5), [2, 3, 2], {"p": 0.0}, "train", 1, [], False),
    "dropout2d_p0": (lambda: nn.Dropout2d(0.5), [2, 3, 2, 2], {"p": 0.0}, "train", 1, [], False),
    "dropout3d_p1": (lambda: nn.Dropout3d(0.5), [1, 3, 2, 2, 1], {"p": 1.0}, "train", 1, [], False),
    "alpha_dropout_p0": (lambda: nn.AlphaDropout(0.5), [2, 6], {"p": 0.0}, "train", 1, [], False),
    "stochastic_depth_p0": (lambda: torchvision.ops.StochasticDepth(0.5, "row"), [3, 4],
                            {"p": 0.0}, "train", 1, [], False),
    # activations
    "leaky_relu_slope": (lambda: nn.LeakyReLU(), [2, 6], {"negative_slope": 0.2}, "train", 1, [],
                         True),
    "elu_alpha": (lambda: nn.ELU(), [2, 6], {"alpha": 2.0}, "train", 1, [], True),
    "celu_alpha": (lambda: nn.CELU(), [2, 6], {"alpha": 2.0}, "train", 1, [], True),
    "gelu_tanh": (lambda: nn.GELU(), [2, 6], {"approximate": "tanh"}, "train", 1, [], True),
    "softplus": (lambda: nn.Softplus(), [2, 6], {"beta": 2.0, "threshold": 1.0}, "train", 1, [],
                 True),
    "hardtanh": (lambda: nn.Hardtanh(), [2, 6], {"min_val": -0.5, "max_val": 0.5}, "train", 1, [],
                 True),
    "hardshrink": (lambda: nn.Hardshrink(), [2, 6], {"lambd": 1.0}, "train", 1, [], False),
    "softshrink": (lambda: nn.Softshrink(), [2, 6], {"lambd": 1.0}, "train", 1, [], False),
    "threshold": (lambda: nn.Threshold(0.1, 20.0), [2, 6], {"threshold": 0.5, "value": -1.0},
                  "train", 1, [], False),
    "rrelu_eval": (lambda: nn.RReLU(), [2, 6], {"lower": 0.5, "upper": 0.7}, "eval", 1, [], False),
    "softmax_dim": (lambda: nn.Softmax(1), [3, 4], {"dim": 0}, "train", 1, [], True),
    "log_softmax_dim": (lambda: nn.LogSoftmax(1), [3, 4], {"dim": 0}, "train", 1, [], False),
    "glu_dim": (lambda: nn.GLU(), [4, 2], {"dim": 0}, "train", 1, [], False),
    "flatten_start": (lambda: nn.Flatten(), [2, 3, 2], {"start_dim": 0}, "train", 1, [], False),
    "flatten_end": (lambda: nn.Flatten(), [2, 3, 2, 2], {"end_dim": 2}, "train", 1, [], False),
    # pooling
    "max_pool_ceil": (lambda: nn.MaxPool2d(2), [1, 1, 5, 5], {"ceil_mode": True}, "train", 1, [],
                      True),
    # torch fixed the stride (the kernel size, 2) when the layer was made.
    "max_pool_kernel": (lambda: nn.MaxPool2d(2), [1, 1, 7, 7], {"kernel_size": 3}, "train", 1, [],
                        False),
    "max_pool_stride": (lambda: nn.MaxPool2d(3), [1, 1, 6, 6], {"stride": 1}, "train", 1, [],
                        False),
    "max_pool_padding": (lambda: nn.MaxPool2d(3, 2), [1, 1, 6, 6], {"padding": 1}, "train", 1, [],
                         False),
    "max_pool_dilation": (lambda: nn.MaxPool2d(2, 1), [1, 1, 5, 5], {"dilation": 2}, "train", 1,
                          [], False),
    "avg_pool_ceil": (lambda: nn.AvgPool2d(2), [1, 1, 5, 5], {"ceil_mode": True}, "train", 1, [],
                      True),
    "avg_pool_count_include_pad": (lambda: nn.AvgPool2d(3, 2, 1), [1, 1, 5, 5],
                                   {"count_include_pad": False}, "train", 1, [], True),
    "avg_pool_divisor": (lambda: nn.AvgPool2d(2), [1, 1, 4, 4], {"divisor_override": 3}, "train",
                         1, [], False),
    "avg_pool_kernel": (lambda: nn.AvgPool2d(2), [1, 1, 7, 7], {"kernel_size": 3}, "train", 1, [],
                        False),
    "adaptive_avg_pool_size": (lambda: nn.AdaptiveAvgPool2d(1), [1, 2, 4, 4], {"output_size": 2},
                               "train", 1, [], False),
    "max_pool1d_ceil": (lambda: nn.MaxPool1d(2), [1, 2, 5], {"ceil_mode": True}, "train", 1, [],
                        False),
    "max_pool1d_kernel": (lambda: nn.MaxPool1d(2), [1, 2, 7], {"kernel_size": 3}, "train", 1, [],
                          False),
    "avg_pool1d_ceil": (lambda: nn.AvgPool1d(2), [1, 2, 5], {"ceil_mode": True}, "train", 1, [],
                        False),
    "max_pool3d_ceil": (lambda: nn.MaxPool3d(2), [1, 1, 3, 3, 3], {"ceil_mode": True}, "train", 1,
                        [], False),
    "avg_pool3d_kernel": (lambda: nn.AvgPool3d(2), [1, 1, 4, 4, 4], {"kernel_size": 3}, "train",
                          1, [], False),
    # convolutions and linear
    "conv_padding_mode": (lambda: nn.Conv2d(2, 2, 3, padding=1), [1, 2, 4, 4],
                          {"padding_mode": "reflect"}, "train", 1, [], True),
    "conv_stride": (lambda: nn.Conv2d(2, 2, 3), [1, 2, 5, 5], {"stride": (2, 2)}, "eval", 1, [],
                    True),
    "conv_weight_one_channel": (lambda: nn.Conv2d(3, 2, 3), [1, 1, 4, 4],
                                {"weight": P(2, 1, 3, 3)}, "eval", 1, [], True),
    "conv1d_stride": (lambda: nn.Conv1d(2, 2, 3), [1, 2, 7], {"stride": (2,)}, "train", 1, [],
                      False),
    "conv1d_padding_mode": (lambda: nn.Conv1d(2, 2, 3, padding=1), [1, 2, 5],
                            {"padding_mode": "circular"}, "train", 1, [], False),
    "conv3d_dilation": (lambda: nn.Conv3d(1, 1, 2), [1, 1, 3, 3, 3], {"dilation": (2, 2, 2)},
                        "train", 1, [], False),
    "conv_transpose_stride": (lambda: nn.ConvTranspose2d(2, 1, 3), [1, 2, 2, 2],
                              {"stride": (2, 2)}, "train", 1, [], True),
    "conv_transpose1d_padding": (lambda: nn.ConvTranspose1d(2, 1, 3), [1, 2, 4], {"padding": (1,)},
                                 "train", 1, [], False),
    "linear_bias_none": (lambda: nn.Linear(3, 2), [2, 3], {"bias": None}, "train", 1, [], True),
    # resizing
    "upsample_scale": (lambda: nn.Upsample(scale_factor=2), [1, 1, 2, 2], {"scale_factor": 3.0},
                       "train", 1, [], False),
    "upsample_mode": (lambda: nn.Upsample(scale_factor=2), [1, 1, 2, 2], {"mode": "bilinear"},
                      "train", 1, [], True),
    "upsample_align": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), [1, 1, 2, 2],
                       {"align_corners": True}, "train", 1, [], False),
    "upsample_size": (lambda: nn.Upsample(size=3), [1, 1, 2, 2], {"size": (4, 5)}, "train", 1, [],
                      False),
}


# torch's evaluation keeps using running statistics that are no longer tracked: the output
# is the one before the assignment, which the test checks as any other.
SAME = {"bn_track_false_eval"}


def randomize(m, gen):
    """Seeded values for every float parameter and buffer (variances positive)."""
    with torch.no_grad():
        for k, t in m.state_dict().items():
            if t.dtype.is_floating_point:
                if k.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
                else:
                    t.copy_(torch.randn(t.shape, generator=gen))


def run(name, make, shape, assign, mode, steps, reads, grad, with_assignment):
    gen = torch.Generator().manual_seed(seed_of(name))
    x = torch.randn(shape, generator=gen).requires_grad_(grad)
    m = make()
    randomize(m, gen)
    state = {k: ser(t) for k, t in m.state_dict().items()}
    params = {}
    if with_assignment:
        for k, v in assign.items():
            if isinstance(v, tuple) and v and v[0] == "param":
                p = nn.Parameter(torch.randn(v[1], generator=gen))
                params[k] = ser(p)
                v = p
            setattr(m, k, v)
    m.train(mode == "train")
    for _ in range(steps):
        y = m(x)
    return x, y, m, state, params


def main():
    out = []
    for name, (make, shape, assign, mode, steps, reads, grad) in CASES.items():
        x, y, m, state, params = run(name, make, shape, assign, mode, steps, reads, grad, True)
        try:
            _, before, _, _, _ = run(name, make, shape, assign, mode, steps, reads, False, False)
            differs = before.shape != y.shape or not torch.equal(before, y) or bool(reads)
        except RuntimeError:  # a one-channel input to the three-channel layer as built
            differs = True
        assert differs != (name in SAME), name
        case = {"name": name, "x": ser(x), "mode": mode, "steps": steps,
                "assign": {k: (list(v) if isinstance(v, tuple) and v[0] != "param" else v)
                           for k, v in assign.items() if k not in params},
                "out": ser(y)}
        if state:
            case["state"] = state
        if params:
            case["params"] = params
        if reads:
            case["reads"] = {r: ser(getattr(m, r)) for r in reads}
        if grad:
            g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed_of(name) + 1))
            (gx,) = torch.autograd.grad(y, [x], g)
            case["g"] = ser(g)
            case["grad"] = ser(gx)
        out.append(case)
    with open(OUT, "w") as f:
        json.dump({"cases": out}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(out)} cases to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


main()
