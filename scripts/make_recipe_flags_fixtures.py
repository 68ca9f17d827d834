"""Writes tests/fixtures/recipe_flags.json: torch 1.13's and torchvision 0.14's
reference-recipe numbers for the training CLI's --lr-warmup-*, --model-ema,
--clip-grad-norm, --norm-weight-decay / --bias-weight-decay and --momentum
(tests/train_recipe_flags_test.ts).

- "schedules": the lr of each epoch under torchvision's train.py warm-up,
  LinearLR(start_factor=decay) or ConstantLR(factor=decay) over W epochs then
  SequentialLR(milestones=[W]) into the main schedule laid over E - W epochs
  (CosineAnnealingLR(T_max=E - W); this CLI's step, MultiStepLR at 1/3 and
  2/3 of E - W; none: the warm-up alone).
- "ema": train_one_epoch of torchvision's train.py (v0.14) on a tiny
  Linear + BatchNorm1d model and fixed batches: SGD with momentum,
  clip_grad_norm_ after backward, and utils.ExponentialMovingAverage (copied
  below: the class is in the reference scripts, not the package) with
  torchvision's decay adjustment, updated at i % model_ema_steps == 0 and
  its n_averaged reset during the warm-up epochs. The model's and the EMA's
  state dicts after each epoch, and each step's total gradient norm.
- "weightDecay": utils.set_weight_decay (copied below) on resnet18 and on
  a small Sequential of every norm class: each group's weight decay and
  parameter names.

Run with /usr/bin/python3 scripts/make_recipe_flags_fixtures.py (PyTorch 1.13).
"""
import json
import warnings
import os

import torch
import torchvision
from torch import nn

from fixture_json import enc, ser

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "recipe_flags.json")


# --- torchvision 0.14, references/classification/utils.py ---------------------------------

class ExponentialMovingAverage(torch.optim.swa_utils.AveragedModel):
    def __init__(self, model, decay, device="cpu"):
        def ema_avg(avg_model_param, model_param, num_averaged):
            return decay * avg_model_param + (1 - decay) * model_param

        super().__init__(model, device, ema_avg, use_buffers=True)


def set_weight_decay(model, weight_decay, norm_weight_decay=None, norm_classes=None,
                     custom_keys_weight_decay=None):
    if not norm_classes:
        norm_classes = [
            torch.nn.modules.batchnorm._BatchNorm,
            torch.nn.LayerNorm,
            torch.nn.GroupNorm,
            torch.nn.modules.instancenorm._InstanceNorm,
            torch.nn.LocalResponseNorm,
        ]
    norm_classes = tuple(norm_classes)

    params = {"other": [], "norm": []}
    params_weight_decay = {"other": weight_decay, "norm": norm_weight_decay}
    custom_keys = []
    if custom_keys_weight_decay is not None:
        for key, weight_decay in custom_keys_weight_decay:
            params[key] = []
            params_weight_decay[key] = weight_decay
            custom_keys.append(key)

    def _add_params(module, prefix=""):
        for name, p in module.named_parameters(recurse=False):
            if not p.requires_grad:
                continue
            is_custom_key = False
            for key in custom_keys:
                target_name = f"{prefix}.{name}" if prefix != "" and "." in key else name
                if key == target_name:
                    params[key].append(p)
                    is_custom_key = True
                    break
            if not is_custom_key:
                if norm_weight_decay is not None and isinstance(module, norm_classes):
                    params["norm"].append(p)
                else:
                    params["other"].append(p)

        for child_name, child_module in module.named_children():
            child_prefix = f"{prefix}.{child_name}" if prefix != "" else child_name
            _add_params(child_module, prefix=child_prefix)

    _add_params(model)

    param_groups = []
    for key in params:
        if len(params[key]) > 0:
            param_groups.append({"params": params[key], "weight_decay": params_weight_decay[key]})
    return param_groups


# --- schedules --------------------------------------------------------------------------

def lr_sequence(lr, epochs, warmup, method, decay, main):
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr)
    rest = epochs - warmup
    if method == "linear":
        first = torch.optim.lr_scheduler.LinearLR(opt, start_factor=decay, total_iters=warmup)
    else:
        first = torch.optim.lr_scheduler.ConstantLR(opt, factor=decay, total_iters=warmup)
    if main == "cosine":
        second = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=rest)
    elif main == "step":
        milestones = [max(1, round(rest / 3)), max(2, round(2 * rest / 3))]
        second = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones)
    else:
        second = None
    sched = first if second is None else torch.optim.lr_scheduler.SequentialLR(
        opt, schedulers=[first, second], milestones=[warmup])
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])  # the rate this epoch trains at
        opt.step()
        sched.step()
    return out


# --- model EMA, clipping, momentum ---------------------------------------------------------

def ema_case(clip, warmup_epochs):
    epochs, batch_size, ema_steps, ema_decay = 2, 2, 2, 0.9
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    init = {k: ser(v) for k, v in model.state_dict().items()}
    batches = [(torch.randn(batch_size, 4) * 2, torch.randint(0, 3, (batch_size,)))
               for _ in range(3)]
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=0.01)
    adjust = 1 * batch_size * ema_steps / epochs
    alpha = min(1.0, (1.0 - ema_decay) * adjust)
    model_ema = ExponentialMovingAverage(model, device="cpu", decay=1.0 - alpha)
    norms, states = [], []
    for epoch in range(epochs):
        model.train()
        for i, (image, target) in enumerate(batches):
            output = model(image)
            optimizer.zero_grad()
            loss = criterion(output, target)
            loss.backward()
            if clip is not None:
                norms.append(enc(nn.utils.clip_grad_norm_(model.parameters(), clip).item()))
            optimizer.step()
            if model_ema and i % ema_steps == 0:
                model_ema.update_parameters(model)
                if epoch < warmup_epochs:
                    model_ema.n_averaged.fill_(0)
        states.append({
            "model": {k: ser(v) for k, v in model.state_dict().items()},
            "ema": {k: ser(v) for k, v in model_ema.state_dict().items()},
        })
    return {
        "clip": clip, "warmupEpochs": warmup_epochs, "emaSteps": ema_steps, "emaDecay": ema_decay,
        "epochs": epochs, "batchSize": batch_size, "adjustedDecay": enc(1.0 - alpha),
        "init": init, "batches": [{"images": ser(x), "labels": ser(y)} for x, y in batches],
        "norms": norms, "epochStates": states,
    }


# --- set_weight_decay -----------------------------------------------------------------------

def groups_of(model, wd, norm, bias):
    names = {id(p): n for n, p in model.named_parameters()}
    custom = [("bias", bias)] if bias is not None else None
    return [{"weightDecay": g["weight_decay"], "names": [names[id(p)] for p in g["params"]]}
            for g in set_weight_decay(model, wd, norm_weight_decay=norm,
                                      custom_keys_weight_decay=custom)]


def main():
    """Writes OUT (the generator runs as __main__ only: make_set_weight_decay_more_fixtures.py
    imports set_weight_decay from here)."""
    warnings.simplefilter("ignore")  # SequentialLR steps its schedules with an epoch
    torch.set_num_threads(1)
    torch.manual_seed(20260801)

    SCHEDULES = []
    for lr, epochs, warmup, method, decay, after in [
        (0.1, 6, 2, "linear", 0.01, "cosine"),
        (0.1, 6, 2, "constant", 0.1, "cosine"),
        (0.1, 7, 3, "linear", 0.25, "step"),
        (0.1, 5, 2, "constant", 0.5, "step"),
        (0.1, 5, 3, "linear", 0.1, "none"),
        (0.1, 5, 2, "constant", 0.3, "none"),
        (0.05, 3, 1, "linear", 0.01, "cosine"),  # the CLI run of the test
    ]:
        SCHEDULES.append({
            "lr": lr, "epochs": epochs, "warmupEpochs": warmup, "method": method, "decay": decay,
            "scheduler": after,
            "lrs": [enc(v) for v in lr_sequence(lr, epochs, warmup, method, decay, after)],
        })

    EMA = [ema_case(0.3, 1), ema_case(None, 0)]

    norms_model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True),
        nn.LocalResponseNorm(2), nn.BatchNorm2d(4), nn.Linear(8, 8), nn.LayerNorm(8),
        nn.Linear(8, 3, bias=False))
    WEIGHT_DECAY = []
    for name, model in [("resnet18", torchvision.models.resnet18(num_classes=3)),
                        ("norms", norms_model)]:
        for wd, norm, bias in [(1e-4, None, None), (1e-4, 0.0, None), (1e-4, None, 0.0),
                               (5e-5, 0.0, 0.5)]:
            WEIGHT_DECAY.append({"model": name, "weightDecay": wd, "normWeightDecay": norm,
                                 "biasWeightDecay": bias,
                                 "groups": groups_of(model, wd, norm, bias)})

    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
                   "schedules": SCHEDULES, "ema": EMA, "weightDecay": WEIGHT_DECAY}, f,
                  separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(SCHEDULES)} schedules, {len(EMA)} EMA runs, {len(WEIGHT_DECAY)} "
          f"weight decay groupings to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
