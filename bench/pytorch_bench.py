"""PyTorch's side of `make bench`: the same measurements as Benchmarks/terrain-bench, printed as
one JSON object per line. Runs on the CPU with as many threads as Terrain uses."""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

def median_seconds(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(name, value, unit):
    print(json.dumps({"name": name, "value": value, "unit": unit}), flush=True)


class BasicBlock(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out)
        self.conv2 = nn.Conv2d(out, out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out)
        self.shortcut = nn.Sequential()
        if stride != 1 or inp != out:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    """The CIFAR ResNet Terrain builds for `resnet20`: same layers, same names."""

    def __init__(self, depth=20, classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        inp, stages = 16, []
        for i, out in enumerate([16, 32, 64]):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(inp, out, 2 if (i > 0 and b == 0) else 1))
                inp = out
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.linear(F.adaptive_avg_pool2d(x, 1).flatten(1))


def filter_normalized_direction(weights):
    """A random direction for `weights` (the trainable parameters), filter-normalized with biases
    and BN ignored, as the reference's net_plotter.create_random_direction(dir_type='weights',
    ignore='biasbn', norm='filter') makes it."""
    direction = [torch.randn(w.size()) for w in weights]
    for d, w in zip(direction, weights):
        if d.dim() <= 1:
            d.fill_(0)
        else:
            for di, wi in zip(d, w):
                di.mul_(wi.norm() / (di.norm() + 1e-10))
    return direction


def eval_loss(net, batches, total):
    """The reference's evaluation.eval_loss: cross-entropy averaged per sample, accuracy in %."""
    net.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for inputs, targets in batches:
            outputs = net(inputs)
            loss_sum += F.cross_entropy(outputs, targets).item() * inputs.size(0)
            correct += outputs.argmax(1).eq(targets).sum().item()
    return loss_sum / total, 100.0 * correct / total


def surface_benchmark(side):
    """Grid points/s of a 2D surface of a fresh ResNet-20 on 1,000 CIFAR-shaped images: per point,
    set the weights from the centre along two directions (net_plotter.set_weights) and evaluate
    the whole set in batches of 500 (plot_surface.py's crunch). Same grid as Terrain's:
    side x side over [-1, 1]^2, centre first as the warm-up."""
    torch.manual_seed(0)
    images = 1000
    net = ResNet(20)
    net.eval()
    x = torch.randn(images, 3, 32, 32)
    y = torch.arange(images) % 10
    batches = [(x[i:i + 500], y[i:i + 500]) for i in range(0, images, 500)]
    weights = [p.data.clone() for p in net.parameters()]
    dx = filter_normalized_direction(weights)
    dy = filter_normalized_direction(weights)

    def set_weights(alpha, beta):
        changes = [d0 * alpha + d1 * beta for d0, d1 in zip(dx, dy)]
        for p, w, d in zip(net.parameters(), weights, changes):
            p.data = w + d

    coords = torch.linspace(-1, 1, side).tolist()
    set_weights(0.0, 0.0)
    eval_loss(net, batches, images)
    start = time.perf_counter()
    for beta in coords:
        for alpha in coords:
            set_weights(alpha, beta)
            eval_loss(net, batches, images)
    points_per_s = side * side / (time.perf_counter() - start)
    report("resnet20_surface_points_per_s", points_per_s, "points/s")
    report("resnet20_surface_images_per_s", points_per_s * images, "images/s")


def hvp_benchmark(repeats):
    """Hessian-vector products per second of the mean loss of a fresh ResNet-20 (eval mode) on
    1,000 CIFAR-shaped images in batches of 500, over all parameters, by double backward
    (torch.autograd.grad with create_graph=True), as PyHessian computes them; each batch's mean
    loss is weighted by its share so that the product is that of the mean over all images."""
    torch.manual_seed(0)
    images = 1000
    net = ResNet(20)
    net.eval()
    x = torch.randn(images, 3, 32, 32)
    y = torch.arange(images) % 10
    params = [p for p in net.parameters() if p.requires_grad]
    v = [torch.randn_like(p) for p in params]
    norm = torch.sqrt(sum((t * t).sum() for t in v))
    v = [t / norm for t in v]

    def hvp():
        total = [torch.zeros_like(p) for p in params]
        for i in range(0, images, 500):
            xb, yb = x[i:i + 500], y[i:i + 500]
            loss = F.cross_entropy(net(xb), yb) * (xb.size(0) / images)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            dot = sum((g * t).sum() for g, t in zip(grads, v))
            for acc, h in zip(total, torch.autograd.grad(dot, params)):
                acc += h
        return total

    t = median_seconds(hvp, repeats)
    report("resnet20_hvp_per_s", 1 / t, "HVPs/s (1,000 images)")


def main():
    torch.set_num_threads(int(os.environ.get("TERRAIN_THREADS", os.cpu_count())))
    repeats = 3 if "--quick" in sys.argv else 7
    torch.manual_seed(0)
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = median_seconds(lambda: torch.mm(a, b), repeats)
    report("sgemm_2048_gflops", 2 * n**3 / t / 1e9, "GFLOP/s")

    model = ResNet(20)
    x = torch.randn(256, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        t = median_seconds(lambda: model(x), repeats)
    report("resnet20_eval_forward_b256_images_per_s", 256 / t, "images/s")

    model.train()
    x = torch.randn(128, 3, 32, 32)
    labels = torch.arange(128) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def train_step():
        opt.zero_grad()
        F.cross_entropy(model(x), labels).backward()
        opt.step()

    t = median_seconds(train_step, repeats)
    report("resnet20_train_step_b128_images_per_s", 128 / t, "images/s")

    surface_benchmark(3 if "--quick" in sys.argv else 5)
    hvp_benchmark(1 if "--quick" in sys.argv else 3)


if __name__ == "__main__":
    main()
