"""Writes tests/fixtures/grad_mode.json: what PyTorch 1.13 records under its
grad-mode switches (tests/grad_mode_test.ts).

`modes`: for each scenario, the list of observations in the order the test
makes them: whether an op result requires grad (and so has a grad_fn), and
is_grad_enabled(), inside and after torch.no_grad / enable_grad /
set_grad_enabled blocks, nested, with plain set_grad_enabled calls inside
them, and after an exception. `tutorial`: the transfer-learning tutorial's
loop (train and val phases under set_grad_enabled(phase == "train")) on a
small Linear model: the initial weights, the batches, each phase's loss sum
and the final weights and the last train phase's gradients.

Run with /usr/bin/python3 scripts/make_grad_mode_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn

from fixture_json import enc, ser

torch.set_num_threads(1)
torch.manual_seed(20260715)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "grad_mode.json")

w = torch.tensor([1.0, 2.0], requires_grad=True)
seen = []


def rec():
    """Records whether an op on w is recorded (requires_grad and grad_fn agree)."""
    y = w * 3
    assert y.requires_grad == (y.grad_fn is not None)
    seen.append(y.requires_grad)


def mode():
    seen.append(torch.is_grad_enabled())


def enable_in_no_grad():
    with torch.no_grad():
        with torch.enable_grad():
            rec(); mode()
        rec()
    rec()


def nested():
    with torch.no_grad():
        rec()
        with torch.enable_grad():
            rec()
            with torch.no_grad():
                rec()
            rec()
        rec()
    rec()


def set_grad_enabled_blocks():
    for phase in ["train", "val", "train"]:
        with torch.set_grad_enabled(phase == "train"):
            rec()
    with torch.no_grad():
        with torch.set_grad_enabled(True):
            rec()
        rec()


def plain_call_in_blocks():
    with torch.no_grad():
        torch.set_grad_enabled(True)
        rec()
    mode()
    with torch.enable_grad():
        torch.set_grad_enabled(False)
        rec()
    mode(); rec()


def global_off():
    torch.set_grad_enabled(False)
    rec(); mode()
    with torch.enable_grad():
        rec()
    rec()
    with torch.no_grad():
        rec()
    mode()
    with torch.set_grad_enabled(True):
        rec()
    mode()
    torch.set_grad_enabled(True)
    rec(); mode()


def exceptions():
    with torch.no_grad():
        try:
            with torch.enable_grad():
                raise ValueError("x")
        except ValueError:
            pass
        rec()
    try:
        with torch.no_grad():
            raise ValueError("x")
    except ValueError:
        pass
    rec()
    torch.set_grad_enabled(False)
    try:
        with torch.enable_grad():
            raise ValueError("x")
    except ValueError:
        pass
    mode()
    torch.set_grad_enabled(True)


def no_leaf():
    x = torch.tensor([1.0, 2.0])
    with torch.no_grad():
        with torch.enable_grad():
            seen.append((x * 2).requires_grad)
            seen.append((x * w).requires_grad)


MODES = {}
for f in [enable_in_no_grad, nested, set_grad_enabled_blocks, plain_call_in_blocks, global_off,
          exceptions, no_leaf]:
    seen = []
    f()
    assert torch.is_grad_enabled()
    MODES[f.__name__] = seen


def tutorial():
    model = nn.Linear(4, 3)
    init = {k: ser(v) for k, v in model.state_dict().items()}
    batches = {
        phase: [(torch.randn(5, 4), torch.randint(0, 3, (5,))) for _ in range(2)]
        for phase in ["train", "val"]
    }
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for epoch in range(2):
        for phase in ["train", "val"]:
            model.train() if phase == "train" else model.eval()
            running = 0.0
            for inputs, labels in batches[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                    else:
                        assert not outputs.requires_grad and loss.grad_fn is None
                running += loss.item() * inputs.size(0)
            losses.append(enc(running))
            if phase == "train":
                grads = {k: ser(p.grad) for k, p in model.named_parameters()}
    return {
        "init": init,
        "batches": {p: [{"x": ser(x), "y": ser(y)} for x, y in b] for p, b in batches.items()},
        "losses": losses,
        "final": {k: ser(v) for k, v in model.state_dict().items()},
        # At the end of the last train phase (the val phase's zero_grad() clears them).
        "grads": grads,
    }


fixture = {"torch": torch.__version__, "modes": MODES, "tutorial": tutorial()}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
