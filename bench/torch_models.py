"""The PyTorch models the benchmarks compare with (bench/step/torch_worker.py on
the CPU, bench/gpu/torch_step.py on a GPU): the same as this library's."""
import torch.nn as nn


def simple_cnn(size):
    """The course model: 4 x [conv3x3 pad 1, ReLU, maxpool 2], 16..128 channels, 256 hidden."""
    layers, c = [], 1
    for k in (16, 32, 64, 128):
        layers += [nn.Conv2d(c, k, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c = k
    s = size // 16
    return nn.Sequential(nn.Sequential(*layers), nn.Flatten(), nn.Linear(128 * s * s, 256),
                         nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 3))


def resnet50():
    import torchvision
    m = torchvision.models.resnet50(num_classes=3)
    m.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)  # one CT channel
    return m


def densenet121():
    import torchvision
    m = torchvision.models.densenet121(num_classes=3)
    m.features.conv0 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
    return m


def mobile(builder):
    """torchvision's mobilenet_v2 or efficientnet_b0 with a one-channel stem conv."""
    import torchvision
    m = getattr(torchvision.models, builder)(num_classes=3)
    c = m.features[0][0]
    m.features[0][0] = nn.Conv2d(1, c.out_channels, 3, stride=2, padding=1, bias=False)
    return m


# The models the benchmarks can compare: a name without a PyTorch twin here
# must fail, not time another model under its name.
MODELS = ("simple", "resnet50", "densenet121", "mobilenetv2", "efficientnetb0")


def build(name, size):
    """The PyTorch twin of the library's model `name` at `size`."""
    if name == "simple":
        return simple_cnn(size)
    if name == "resnet50":
        return resnet50()
    if name == "densenet121":
        return densenet121()
    if name == "mobilenetv2":
        return mobile("mobilenet_v2")
    if name == "efficientnetb0":
        return mobile("efficientnet_b0")
    raise SystemExit(f"no PyTorch twin of model '{name}' (have: {', '.join(MODELS)})")
