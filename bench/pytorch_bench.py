"""PyTorch's side of `make bench`: the same measurements as Benchmarks/terrain-bench, printed as
one JSON object per line. Runs on the CPU with as many threads as Terrain uses."""
import argparse
import gzip
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


def seconds_over_grid(point, side):
    """Seconds of point(a, b) at every point of the side x side grid over [-1, 1]^2 (a row of b
    at a time), after the centre point(0, 0) as the warm-up: the surface benchmarks' loop, the
    same as Terrain's (LandscapeTiming.swift)."""
    axis = torch.linspace(-1, 1, side).tolist()
    point(0.0, 0.0)
    start = time.perf_counter()
    for b in axis:
        for a in axis:
            point(a, b)
    return time.perf_counter() - start


def mean_loss_hvp(net, x, y, batch, loss_of):
    """The function computing H.v of the mean loss over all samples, for a random unit v over the
    trainable parameters (drawn now), by double backward (torch.autograd.grad with
    create_graph=True) as PyHessian computes it; each batch's mean loss loss_of(net, xb, yb) is
    weighted by its share so that the product is that of the mean over all samples."""
    samples = x.size(0)
    params = [p for p in net.parameters() if p.requires_grad]
    v = [torch.randn_like(p) for p in params]
    norm = torch.sqrt(sum((t * t).sum() for t in v))
    v = [t / norm for t in v]

    def hvp():
        total = [torch.zeros_like(p) for p in params]
        for i in range(0, samples, batch):
            xb, yb = x[i:i + batch], y[i:i + batch]
            loss = loss_of(net, xb, yb) * (xb.size(0) / samples)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            dot = sum((g * t).sum() for g, t in zip(grads, v))
            for acc, h in zip(total, torch.autograd.grad(dot, params)):
                acc += h
        return total

    return hvp


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

    def __init__(self, depth=20, classes=10, channels=3):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(channels, 16, 3, 1, 1, bias=False)
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


class VGG9(nn.Module):
    """Terrain's `vgg9`: 3x3 conv-BN-ReLU 64, 64, pool, 128, 128, pool, 256 x3, pool, then
    Linear-BN-ReLU 512 and Linear to the classes."""

    def __init__(self, classes=10):
        super().__init__()
        layers, channels = [], 3
        for item in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0]:
            if item == 0:
                layers.append(nn.MaxPool2d(2))
            else:
                layers += [nn.Conv2d(channels, item, 3, 1, 1, bias=False), nn.BatchNorm2d(item), nn.ReLU()]
                channels = item
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(channels * 4 * 4, 512), nn.BatchNorm1d(512), nn.ReLU(),
                                        nn.Linear(512, classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def mlp(hidden=(512, 512), inputs=784, classes=10):
    """Terrain's `mlp --hidden 512,512`: Flatten, Linear-ReLU per hidden size, Linear."""
    layers, size = [nn.Flatten()], inputs
    for h in hidden:
        layers += [nn.Linear(size, h), nn.ReLU()]
        size = h
    return nn.Sequential(*layers, nn.Linear(size, classes))


def read_idx(path):
    """An IDX file (gzipped): images as float32 in [0, 1] with a channel axis, or labels."""
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    values = torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)
    return values.long() if dims == 1 else values.float().div(255).unsqueeze(1)


def flops_per_image(net, sample):
    """2 x the multiply-adds of one image through the convolutions and linear layers."""
    total = []

    def count(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.weight[0].numel()
            total.append(output[0].numel() * k)
        elif isinstance(module, nn.Linear):
            total.append(module.in_features * module.out_features)

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net(sample[:1])
    for h in hooks:
        h.remove()
    return 2 * sum(total)


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


def surface_case(name, mnist):
    """The model and data of one surface benchmark, as Terrain's SurfaceCase builds them."""
    torch.manual_seed(0)
    if name == "mlp":
        x = read_idx(os.path.join(mnist, "t10k-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(mnist, "t10k-labels-idx1-ubyte.gz"))
        return mlp(), x, y
    images = 1000
    net = ResNet(20) if name == "resnet20" else VGG9()
    return net, torch.randn(images, 3, 32, 32), torch.arange(images) % 10


def surface_benchmark(name, side, mnist=None):
    """Images/s of a 2D surface (as Terrain's SurfaceBenchmark): per point, set the weights from
    the centre along two directions (net_plotter.set_weights) and evaluate the whole set in
    batches of 500 (plot_surface.py's crunch). Same grid as Terrain's: side x side over
    [-1, 1]^2, centre first as the warm-up."""
    net, x, y = surface_case(name, mnist)
    net.eval()
    images = x.size(0)
    batches = [(x[i:i + 500], y[i:i + 500]) for i in range(0, images, 500)]
    weights = [p.data.clone() for p in net.parameters()]
    dx = filter_normalized_direction(weights)
    dy = filter_normalized_direction(weights)

    def set_weights(alpha, beta):
        changes = [d0 * alpha + d1 * beta for d0, d1 in zip(dx, dy)]
        for p, w, d in zip(net.parameters(), weights, changes):
            p.data = w + d

    def point(alpha, beta):
        set_weights(alpha, beta)
        eval_loss(net, batches, images)

    points_per_s = side * side / seconds_over_grid(point, side)
    report(f"{name}_surface_points_per_s", points_per_s, "points/s")
    report(f"{name}_surface_images_per_s", points_per_s * images, "images/s")
    report(f"{name}_surface_gflops", points_per_s * images * flops_per_image(net, x) / 1e9, "GFLOP/s")


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
    t = median_seconds(mean_loss_hvp(net, x, y, 500, lambda net, xb, yb: F.cross_entropy(net(xb), yb)), repeats)
    report("resnet20_hvp_per_s", 1 / t, "HVPs/s (1,000 images)")


# The sampled-surface benchmark's job (bench/sampled_surface.py runs Terrain's side): a side x side
# surface of ResNet-56 on Fashion-MNIST's training images (the issue's: 51x51 on all 60,000).
FASHION_FOLDER = "/usr/share/datasets/fashion-mnist"


def fashion56_benchmark(images, side, surface_images):
    """Seconds the whole side x side ResNet-56 surface on `surface_images` images would take in
    PyTorch, from images/s measured on `images` of them: the reference's loop (set_weights, then eval_loss in
    batches of 500, fp32) and the loop a careful PyTorch user would write today (inference_mode,
    channels-last tensors, bf16 autocast where the CPU has bf16, the weights of a point written
    in place). Weights are a fresh network's: no kernel's speed depends on their values."""
    torch.manual_seed(0)
    x = read_idx(os.path.join(FASHION_FOLDER, "train-images-idx3-ubyte.gz"))[:images]
    y = read_idx(os.path.join(FASHION_FOLDER, "train-labels-idx1-ubyte.gz"))[:images]
    x = (x - 0.2860) / 0.3530
    net = ResNet(56, channels=1)
    net.eval()
    weights = [p.data.clone() for p in net.parameters()]
    dx, dy = filter_normalized_direction(weights), filter_normalized_direction(weights)
    total = side * side * surface_images

    def reference_point(a, b):
        for p, w, d, e in zip(net.parameters(), weights, dx, dy):
            p.data = w + a * d + b * e
        eval_loss(net, [(x[i:i + 500], y[i:i + 500]) for i in range(0, images, 500)], images)

    def timed(point):
        point(0.0, 0.0)  # warm-up
        start = time.perf_counter()
        point(0.5, -0.5)
        point(-0.5, 0.5)
        return 2 * images / (time.perf_counter() - start)

    rate = timed(reference_point)
    report("fashion56_reference_loop_images_per_s", rate, "images/s")
    report("fashion56_reference_loop_exact_surface_s", total / rate, "s (extrapolated)")

    bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    fast = net.to(memory_format=torch.channels_last)
    xc = x.contiguous(memory_format=torch.channels_last)

    def careful_point(a, b):
        with torch.inference_mode():
            for p, w, d, e in zip(fast.parameters(), weights, dx, dy):
                p.copy_(w + a * d + b * e)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = 0.0
                for i in range(0, images, 500):
                    loss += F.cross_entropy(fast(xc[i:i + 500]).float(), y[i:i + 500], reduction="sum").item()
        return loss / images

    rate = timed(careful_point)
    kind = "bf16 autocast" if bf16 else "fp32, no bf16 on this CPU"
    report("fashion56_careful_loop_images_per_s", rate, f"images/s (inference_mode, channels-last, {kind})")
    report("fashion56_careful_loop_exact_surface_s", total / rate, "s (extrapolated)")


# The GPT of the transformer benchmarks (GPTBenchmark.swift builds the same): the twin of
# Terrain's zoo `gpt` (tests/twins/transformer_twins.py), 4 blocks, 4 heads, E = 128, T = 128,
# V = 256, on 256 sequences of random token ids in batches of 32.
GPT_LAYERS, GPT_HEADS, GPT_EMBED, GPT_CONTEXT, GPT_VOCABULARY, GPT_SEQUENCES, GPT_BATCH = 4, 4, 128, 128, 256, 256, 32


def gpt_case():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "twins"))
    from transformer_twins import GPT
    torch.manual_seed(0)
    net = GPT(GPT_VOCABULARY, GPT_CONTEXT, GPT_EMBED, GPT_HEADS, GPT_LAYERS)
    stream = torch.randint(0, GPT_VOCABULARY, (GPT_SEQUENCES * GPT_CONTEXT + 1,))
    x = stream[:-1].reshape(GPT_SEQUENCES, GPT_CONTEXT)
    y = stream[1:].reshape(GPT_SEQUENCES, GPT_CONTEXT)
    return net, x, y


def gpt_flops_per_token():
    """2 x the multiply-adds of one token's forward pass (GPTCase.flopsPerToken's formula)."""
    e, t = GPT_EMBED, GPT_CONTEXT
    return 2 * (GPT_LAYERS * (12 * e * e + 2 * t * e) + e * GPT_VOCABULARY)


def peak_rss_mib():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gpt_loss(net, x, y):
    logits = net(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def gpt_surface_benchmark(side):
    """Tokens/s of the reference's loop on the GPT: per point, set_weights (theta + a d + b e, two
    filter-normalized directions, vectors left at 0), then eval_loss in batches under no_grad."""
    net, x, y = gpt_case()
    net.eval()
    weights = [p.data.clone() for p in net.parameters()]
    torch.manual_seed(123)
    dx, dy = filter_normalized_direction(weights), filter_normalized_direction(weights)

    def point(a, b):
        for p, w, d, e in zip(net.parameters(), weights, dx, dy):
            p.data = w + a * d + b * e
        total = 0.0
        with torch.no_grad():
            for i in range(0, GPT_SEQUENCES, GPT_BATCH):
                total += gpt_loss(net, x[i:i + GPT_BATCH], y[i:i + GPT_BATCH]).item() * x[i:i + GPT_BATCH].size(0)
        return total / GPT_SEQUENCES

    tokens_per_s = side * side * GPT_SEQUENCES * GPT_CONTEXT / seconds_over_grid(point, side)
    report("gpt_surface_tokens_per_s", tokens_per_s, "tokens/s")
    report("gpt_surface_gflops", tokens_per_s * gpt_flops_per_token() / 1e9, "GFLOP/s")
    report("gpt_surface_peak_rss_mib", peak_rss_mib(), "MiB (peak RSS)")


def gpt_hvp_benchmark(repeats):
    """H.v of the mean loss over the 256 sequences by double backward (PyHessian's way)."""
    net, x, y = gpt_case()
    net.eval()
    hvp = mean_loss_hvp(net, x, y, GPT_BATCH, gpt_loss)
    # CPU flash attention has no double backward: the math kernel (softmax(QK^T/sqrt(D))V) has.
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.MATH):
        t = median_seconds(hvp, repeats)
    tokens = GPT_SEQUENCES * GPT_CONTEXT
    report("gpt_hvp_per_s", 1 / t, "HVPs/s (256 x 128 tokens)")
    report("gpt_hvp_gflops", 8 * tokens * gpt_flops_per_token() / t / 1e9, "GFLOP/s")
    report("gpt_hvp_peak_rss_mib", peak_rss_mib(), "MiB (peak RSS)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", help="gemm,forward,train,surface,hessian (surface: mlp,resnet20,vgg9)")
    ap.add_argument("--fashion-side", type=int, default=51, help="fashion56: the surface's grid side")
    ap.add_argument("--fashion-images", type=int, default=60000, help="fashion56: the surface's training images")
    ap.add_argument("--mnist", default="../shared/datasets/mnist", help="folder of MNIST's gzipped IDX files")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None

    def runs(part):
        return only is None or part in only

    torch.set_num_threads(int(os.environ.get("TERRAIN_THREADS", os.cpu_count())))
    repeats = 3 if args.quick else 7
    if runs("gemm"):
        torch.manual_seed(0)
        n = 2048
        a, b = torch.randn(n, n), torch.randn(n, n)
        t = median_seconds(lambda: torch.mm(a, b), repeats)
        report("sgemm_2048_gflops", 2 * n**3 / t / 1e9, "GFLOP/s")

    model = ResNet(20)
    if runs("forward"):
        x = torch.randn(256, 3, 32, 32)
        model.eval()
        with torch.no_grad():
            t = median_seconds(lambda: model(x), repeats)
        report("resnet20_eval_forward_b256_images_per_s", 256 / t, "images/s")

    if runs("train"):
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

    side = 3 if args.quick else 5
    if runs("surface") or runs("mlp"):
        surface_benchmark("mlp", 5 if args.quick else 11, args.mnist)
    if runs("surface") or runs("resnet20"):
        surface_benchmark("resnet20", side)
    if runs("surface") or runs("vgg9"):
        surface_benchmark("vgg9", 3)
    if runs("hessian"):
        hvp_benchmark(1 if args.quick else 3)
    # Named only (bench/run.py runs each in a process of its own, for its peak RSS).
    if only and "gptsurface" in only:
        gpt_surface_benchmark(3)
    if only and "gpthvp" in only:
        gpt_hvp_benchmark(1)
    if only and "fashion56" in only:
        fashion56_benchmark(1000 if args.quick else 5000, args.fashion_side, args.fashion_images)


if __name__ == "__main__":
    main()
