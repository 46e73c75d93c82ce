#!/usr/bin/python3
"""torch_worker.py: the PyTorch peer of `./isthmus bench compare`.

Runs the same workloads as Isthmus in PyTorch (the same layers, shapes, batch, optimizer and
thread count) and measures them itself, so that process start-up and the pipe are not timed.
It is a worker, not a benchmark by itself: it reads one command a line on stdin and answers one
JSON line on stdout, so that `isthmus bench compare` can alternate it with Isthmus and the C
peer in one run (A B C A B C ...).

    info                                     versions, BLAS and oneDNN (MKL-DNN) loaded, threads
    define NAME g mb ic ih iw oc kh kw sh sw pt pl pb pr
                                             a convolution (oneDNN conventions: padding per side)
    conv NAME fwd|bwd_d|bwd_w N              {"seconds": total of N calls}
    check NAME PREFIX                        reads PREFIX.{src,weights,bias,diff_dst} (raw float32),
                                             writes PREFIX.torch.{dst,diff_src,diff_weights,diff_bias}
    model KEY lenet|alexnet-paper|alexnet-modern train|infer BATCH
                                             builds a model (random data of the right shape, seed 1)
    train KEY N                              N training steps: {"seconds": total}
    infer KEY N [THREADS]                    N forward passes: {"seconds": total, "samples": [each]};
                                             with THREADS, torch.set_num_threads(THREADS) around them
    drop KEY                                 forgets a model (frees its memory)
    export NAME PREFIX                       lenet|alexnet-paper|alexnet-modern from PREFIX.params
                                             (Isthmus's parameter order), in eval mode: writes the
                                             logits of PREFIX.images as PREFIX.torch.logits and the
                                             model as PREFIX.onnx (torch.onnx.export, opset 13, input
                                             "input", output "logits", dimension 0 named "batch")
    lenet_check PREFIX STEPS                 LeNet-5 from PREFIX.params (Isthmus's parameter order),
                                             PREFIX.images, PREFIX.labels (int32): STEPS SGD steps,
                                             writes PREFIX.torch.losses and PREFIX.torch.logits
    quit

Errors answer {"ok": false, "error": "..."}; a missing PyTorch answers that on the first line and
exits 3. Usage: /usr/bin/python3 torch_worker.py THREADS
"""
import json
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the Java side turns this into "install python3-torch ..."
    print(json.dumps({"ok": False, "error": "cannot import PyTorch: %s" % e, "missing": "torch"}), flush=True)
    sys.exit(3)

LR, MOMENTUM = 0.01, 0.9
ALEXNET_CLASSES = 1000


class ScaledTanh(nn.Module):
    """LeCun's 1.7159 tanh(2x/3), as Isthmus's ScaledTanh."""

    def forward(self, x):
        return torch.tanh(x * (2.0 / 3.0)) * 1.7159


def lenet5():
    """LeNet5.classic(): conv 1->6 5x5, scaled tanh, avgpool 2, conv 6->16, ..., linear 84->10."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), ScaledTanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), ScaledTanh(), nn.AvgPool2d(2),
        nn.Conv2d(16, 120, 5), ScaledTanh(), nn.Flatten(),
        nn.Linear(120, 84), ScaledTanh(),
        nn.Linear(84, 10))


def alexnet_paper(classes):
    """AlexNet.paper(): LRN(5, 5e-4 (PyTorch divides by n too), 0.75, 2), two groups in conv2, 4, 5."""
    def lrn():
        return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, 4, 0), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, 1, 2, groups=2), nn.ReLU(inplace=True), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, 1, 1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, 1, 1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, 1, 1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, classes))


def alexnet_modern(classes):
    """torchvision's alexnet without its adaptive pooling (the identity at 224), as AlexNet.modern()."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, 1, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, 1, 1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, 1, 1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, 3, 1, 1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, classes))


MODELS = {
    "lenet": (lenet5, (1, 32, 32), 10),
    "alexnet-paper": (lambda: alexnet_paper(ALEXNET_CLASSES), (3, 227, 227), ALEXNET_CLASSES),
    "alexnet-modern": (lambda: alexnet_modern(ALEXNET_CLASSES), (3, 224, 224), ALEXNET_CLASSES),
}


class Model:
    def __init__(self, name, mode, batch):
        build, shape, classes = MODELS[name]
        torch.manual_seed(1)
        self.net = build()
        self.x = torch.rand((batch,) + shape) * 2 - 1
        self.y = torch.randint(0, classes, (batch,))
        if mode == "train":
            self.net.train()
            self.loss = nn.CrossEntropyLoss()
            self.opt = torch.optim.SGD(self.net.parameters(), lr=LR, momentum=MOMENTUM)
        else:
            self.net.eval()

    def train(self, n):
        net, loss, opt, x, y = self.net, self.loss, self.opt, self.x, self.y
        t0 = time.perf_counter()
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            loss(net(x), y).backward()
            opt.step()
        return {"seconds": time.perf_counter() - t0}

    def infer(self, n, threads=None):
        if threads is None:
            return self.timed(n)
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            return self.timed(n)
        finally:
            torch.set_num_threads(before)

    def timed(self, n):
        net, x = self.net, self.x
        samples = [0.0] * n
        clock = time.perf_counter
        with torch.inference_mode():
            t0 = clock()
            for i in range(n):
                s = clock()
                net(x)
                samples[i] = clock() - s
            total = clock() - t0
        return {"seconds": total, "samples": samples}


class Conv:
    def __init__(self, v):
        g, mb, ic, ih, iw, oc, kh, kw, sh, sw, pt, pl, pb, pr = v
        self.oh, self.ow = (ih + pt + pb - kh) // sh + 1, (iw + pl + pr - kw) // sw + 1
        # PyTorch pads symmetrically: fine when the symmetric padding gives the same output size
        # (then the extra row or column oneDNN leaves out is never read).
        if (ih + 2 * pt - kh) // sh + 1 != self.oh or (iw + 2 * pl - kw) // sw + 1 != self.ow:
            raise ValueError("asymmetric padding %s that symmetric padding cannot express" % ((pt, pl, pb, pr),))
        self.g, self.oc = g, oc
        self.stride, self.padding = [sh, sw], [pt, pl]
        gen = torch.Generator().manual_seed(12345)
        self.src = torch.rand((mb, ic, ih, iw), generator=gen) * 2 - 1
        self.weights = torch.rand((oc, ic // g, kh, kw), generator=gen) * 2 - 1
        self.bias = torch.rand((oc,), generator=gen) * 2 - 1
        self.diff_dst = torch.rand((mb, oc, self.oh, self.ow), generator=gen) * 2 - 1

    def fwd(self):
        return F.conv2d(self.src, self.weights, self.bias, self.stride, self.padding, 1, self.g)

    def backward(self, mask):
        # What autograd runs for a Conv2d: aten::convolution_backward (oneDNN's backward when
        # PyTorch picks its mkldnn path, as it does for these shapes).
        return torch.ops.aten.convolution_backward(
            self.diff_dst, self.src, self.weights, [self.oc], self.stride, self.padding, [1, 1],
            False, [0, 0], self.g, mask)

    def run(self, which, n):
        if which == "fwd":
            f = self.fwd
        elif which == "bwd_d":
            f = lambda: self.backward([True, False, False])
        elif which == "bwd_w":
            f = lambda: self.backward([False, True, True])
        else:
            raise ValueError("unknown pass %r; expected fwd, bwd_d or bwd_w" % which)
        with torch.no_grad():
            t0 = time.perf_counter()
            for _ in range(n):
                f()
            return {"seconds": time.perf_counter() - t0}

    def check(self, prefix):
        def read(suffix, like):
            a = np.fromfile(prefix + "." + suffix, dtype="<f4")
            if a.size != like.numel():
                raise ValueError("%s.%s holds %d floats, expected %d" % (prefix, suffix, a.size, like.numel()))
            return torch.from_numpy(a.reshape(tuple(like.shape)).copy())
        self.src, self.weights = read("src", self.src), read("weights", self.weights)
        self.bias, self.diff_dst = read("bias", self.bias), read("diff_dst", self.diff_dst)
        with torch.no_grad():
            outs = {"dst": self.fwd()}
            outs["diff_src"], outs["diff_weights"], outs["diff_bias"] = self.backward([True, True, True])
        for k, t in outs.items():
            t.contiguous().numpy().astype("<f4").tofile(prefix + ".torch." + k)
        return {}


def load_params(net, path, what):
    """Copies the raw float32 file PATH, in Isthmus's parameter order (PyTorch's parameters()), into NET."""
    flat = np.fromfile(path, dtype="<f4")
    params = list(net.parameters())
    if flat.size != sum(p.numel() for p in params):
        raise ValueError("%s holds %d floats, %s has %d" % (path, flat.size, what, sum(p.numel() for p in params)))
    at = 0
    with torch.no_grad():
        for p in params:
            p.copy_(torch.from_numpy(flat[at:at + p.numel()].reshape(tuple(p.shape))))
            at += p.numel()


def export(name, prefix):
    """Isthmus's weights in PyTorch: the logits of PREFIX.images, and the model as ONNX for ONNX Runtime."""
    build, shape, _ = MODELS[name]
    net = build()
    load_params(net, prefix + ".params", name)
    net.eval()
    images = torch.from_numpy(np.fromfile(prefix + ".images", dtype="<f4").reshape((-1,) + shape).copy())
    with torch.inference_mode():
        net(images).numpy().astype("<f4").tofile(prefix + ".torch.logits")
    # opset 13 exports without the onnx Python package in Debian's PyTorch 1.13 (no checker run).
    torch.onnx.export(net, images, prefix + ".onnx", opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return {}


def lenet_check(prefix, steps):
    """Isthmus's initial parameters, one batch: the losses of STEPS SGD steps and the first logits."""
    net = lenet5()
    load_params(net, prefix + ".params", "LeNet-5")
    images = torch.from_numpy(np.fromfile(prefix + ".images", dtype="<f4").reshape(-1, 1, 32, 32).copy())
    labels = torch.from_numpy(np.fromfile(prefix + ".labels", dtype="<i4").astype(np.int64))
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for i in range(steps):
        opt.zero_grad(set_to_none=True)
        logits = net(images)
        if i == 0:
            logits.detach().numpy().astype("<f4").tofile(prefix + ".torch.logits")
        loss = loss_fn(logits, labels)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    np.array(losses, dtype="<f4").tofile(prefix + ".torch.losses")
    return {}


def loaded_libraries():
    """Shared objects of interest mapped into this process: which BLAS, which oneDNN, which OpenMP."""
    found = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = path.rsplit("/", 1)[-1]
            if any(k in name for k in ("blas", "lapack", "dnnl", "mkl", "omp", "gomp")):
                found.add(path)
    return sorted(found)


def info():
    config = torch.__config__.show()
    mkldnn = next((l.strip(" -") for l in config.splitlines() if "MKL-DNN" in l or "oneDNN" in l), "unknown")
    libs = loaded_libraries()
    blas = [l for l in libs if "blas" in l.rsplit("/", 1)[-1]]
    return {"torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
            "mkldnn_available": torch.backends.mkldnn.is_available(),
            "mkldnn_enabled": torch.backends.mkldnn.enabled, "mkldnn": mkldnn,
            "mkl_available": torch.backends.mkl.is_available(),
            "cpu_capability": next((l.strip(" -") for l in config.splitlines() if "CPU capability" in l), "unknown"),
            "blas": blas, "libraries": libs, "python": sys.version.split()[0]}


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    convs, models = {}, {}
    print(json.dumps({"ok": True, "ready": "torch", "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        cmd = words[0]
        try:
            if cmd == "quit":
                break
            elif cmd == "info":
                out = info()
            elif cmd == "define":
                if words[1] in convs:
                    raise ValueError("problem %s defined twice" % words[1])
                convs[words[1]] = Conv([int(w) for w in words[2:16]])
                out = {}
            elif cmd == "conv":
                out = convs[words[1]].run(words[2], int(words[3]))
            elif cmd == "check":
                out = convs[words[1]].check(words[2])
            elif cmd == "model":
                models[words[1]] = Model(words[2], words[3], int(words[4]))
                out = {}
            elif cmd == "train":
                out = models[words[1]].train(int(words[2]))
            elif cmd == "infer":
                out = models[words[1]].infer(int(words[2]), int(words[3]) if len(words) > 3 else None)
            elif cmd == "drop":
                del models[words[1]]
                out = {}
            elif cmd == "export":
                out = export(words[1], words[2])
            elif cmd == "lenet_check":
                out = lenet_check(words[1], int(words[2]))
            else:
                raise ValueError("unknown command %r" % cmd)
            out["ok"] = True
        except Exception as e:  # answered, not fatal: the Java side reports it with the command
            out = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
