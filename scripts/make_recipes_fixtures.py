"""Writes tests/fixtures/recipes.json: PyTorch 1.13's numbers for the PyTorch
Recipes and the FGSM tutorial ported line by line (tests/recipes_test.ts).

- "fgsm": "Adversarial Example Generation" on a small LeNet-like CNN
  (conv 1 -> 4, 5x5; max pool 2; conv 4 -> 8, 5x5; Dropout2d; max pool 2;
  linear 8 -> 16; dropout; linear 16 -> 10; log_softmax) in eval mode, on
  eight synthetic 1 x 16 x 16 images in [0, 1]; targets are the clean
  predictions, every third shifted by one class (so the test skips them as
  the tutorial does). For each epsilon: the accuracy and, per attacked
  image, [index, initial prediction, final prediction]; and the input
  gradient and perturbed image (epsilon 0.1) of image 0.
- "checkpoint": "Saving and loading a general checkpoint": a Linear(3, 2)
  trained two SGD steps (lr 0.01, momentum 0.9) and then two more after
  the checkpoint; the optimizer state_dict()'s param_groups and state keys
  (what torch's load_state_dict needs from a .pt file) and the final
  weights.
- "warmstart": "Warmstarting model using parameters from a different
  model": a state dict of Sequential-free NetA (fc1, fc2) loaded with
  strict=False into NetB (fc1, head, extra), as saved and with fc2 renamed
  head; torch's missing and unexpected keys.

Run with /usr/bin/python3 scripts/make_recipes_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F
from torch import nn

from fixture_json import enc, ser

torch.set_num_threads(1)
torch.manual_seed(20261208)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "recipes.json")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=5)
        self.conv2 = nn.Conv2d(4, 8, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 8)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def fgsm_attack(image, epsilon, data_grad):
    sign_data_grad = data_grad.sign()
    perturbed_image = image + epsilon * sign_data_grad
    return torch.clamp(perturbed_image, 0, 1)


model = Net().eval()
images = torch.rand(8, 1, 16, 16)
with torch.no_grad():
    targets = model(images).argmax(1)
targets[::3] = (targets[::3] + 1) % 10
epsilons = [0, 0.05, 0.1, 0.2, 0.3]
accuracy, attacked = [], []
for epsilon in epsilons:
    correct, rows = 0, []
    for i in range(len(images)):
        data, target = images[i:i + 1].clone(), targets[i:i + 1]
        data.requires_grad = True
        output = model(data)
        init_pred = output.max(1, keepdim=True)[1]
        if init_pred.item() != target.item():
            continue
        loss = F.nll_loss(output, target)
        model.zero_grad()
        loss.backward()
        perturbed = fgsm_attack(data, epsilon, data.grad.data)
        final_pred = model(perturbed).max(1, keepdim=True)[1]
        correct += int(final_pred.item() == target.item())
        rows.append([i, init_pred.item(), final_pred.item()])
    accuracy.append(correct / float(len(images)))
    attacked.append(rows)
x0 = images[0:1].clone().requires_grad_(True)
F.nll_loss(model(x0), targets[0:1]).backward()
fgsm = {
    "state": {k: ser(v) for k, v in model.state_dict().items()},
    "images": ser(images), "targets": ser(targets), "epsilons": epsilons,
    "accuracy": accuracy, "attacked": attacked,
    "grad0": ser(x0.grad), "perturbed0": ser(fgsm_attack(x0, 0.1, x0.grad.data)),
}

# General checkpoint: two steps, save, two more.
lin = nn.Linear(3, 2)
init = {k: ser(v) for k, v in lin.state_dict().items()}
xs, ys = torch.randn(4, 5, 3), torch.randn(4, 5, 2)
opt = torch.optim.SGD(lin.parameters(), lr=0.01, momentum=0.9)
for i in range(4):
    opt.zero_grad()
    F.mse_loss(lin(xs[i]), ys[i]).backward()
    opt.step()
    if i == 1:
        sd = opt.state_dict()
        groups = sd["param_groups"]
        state_keys = {str(k): sorted(v.keys()) for k, v in sd["state"].items()}
checkpoint = {
    "init": init, "x": ser(xs), "y": ser(ys),
    "paramGroups": [{k: v for k, v in g.items() if k not in ("foreach", "differentiable")}
                    for g in groups],
    "stateKeys": state_keys,
    "final": {k: ser(v) for k, v in lin.state_dict().items()},
}


# Warmstarting: NetA's state dict into NetB with strict=False.
class NetA(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.fc2 = nn.Linear(3, 2)


class NetB(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)
        self.extra = nn.Linear(2, 2)


net_a, net_b = NetA(), NetB()
sd_a = net_a.state_dict()
plain = net_b.load_state_dict(sd_a, strict=False)
renamed = net_b.load_state_dict({k.replace("fc2", "head"): v for k, v in sd_a.items()},
                                strict=False)
warmstart = {
    "netA": {k: ser(v) for k, v in sd_a.items()},
    "plain": {"missing": plain.missing_keys, "unexpected": plain.unexpected_keys},
    "renamed": {"missing": renamed.missing_keys, "unexpected": renamed.unexpected_keys},
}

with open(OUT, "w") as f:
    json.dump({"fgsm": fgsm, "checkpoint": checkpoint, "warmstart": warmstart}, f,
              separators=(",", ":"))
    f.write("\n")
print("wrote", OUT, os.path.getsize(OUT), "bytes; fgsm accuracy", accuracy)
