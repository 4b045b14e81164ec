#!/usr/bin/env python3
"""Train, export and check cimgpu's VGG-style binary/ternary Fashion-MNIST models (PyTorch).

    nice -n 19 python3 data/train_vgg.py --all          # bnn_vgg and tnn_vgg into data/models/
    python3 data/train_vgg.py --model tnn_vgg --seed 1 --out data/models/tnn_vgg.h5
    python3 data/train_vgg.py --check data/models/tnn_vgg.h5   # validate + integer test accuracy

The network (both kinds; `sign` for bnn, `ternary` for tnn):

    conv 1->64 3x3 pad 1 (raw pixels: cimgpu runs it on the host) -> maxpool 2 -> BN -> act
    conv 64->128 3x3 pad 1 -> maxpool 2 -> BN -> act        fan-in  576, 128 outputs
    conv 128->256 3x3 pad 1 -> maxpool 2 -> BN -> act       fan-in 1152, 256 outputs
    conv 256->512 3x3 pad 1 -> maxpool 3 -> BN -> act       fan-in 2304, 512 outputs
    flatten (512) -> dense 512->10

It is data/train.py's recipe in PyTorch: weights binarized by sign (0 -> +1) or ternarized
per layer with |w| > 0.7*mean|w|, activations sign or ternary with dead zone [-0.5, 0.5]
after batch-norm, straight-through estimators (gradients clipped to |.| <= 1), latent
weights clipped to [-1, 1], Adam with cosine learning-rate decay, raw pixels 0..255 as input,
batch-norm statistics recomputed on 10 000 training images before folding. A padded binary
input is padded with +1 (bnn, pad_value 1) or 0 (tnn, pad_value 0) in training too, so the
file computes what the network computed. Export reuses data/train.py's weight quantizer and
batch-norm folding and data/cimgpu_model.py's writer; the file is read back and its test
accuracy re-measured with the exact integer inference (`IntModel`) on all 10 000 test
images and stored in digital_test_accuracy/_correct/_images. The script also prints how
often the float PyTorch network (with the exported quantized weights) predicts the same
class as the integer inference.

Determinism: torch.manual_seed(--seed) for the initial weights, a numpy Generator seeded with
--seed for the data order, torch.use_deterministic_algorithms(True), a fixed intra-op thread
count (--threads, default 2) and an HDF5 file without timestamps: the same seed, the same
torch build, the same thread count and the same CPU type give byte-identical files. (Float
reductions may be ordered differently with another thread count, torch/oneDNN build or CPU
type; the shipped files were made with Debian 12's python3-torch 1.13.1, 2 threads, AMD EPYC.)
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

import train as T   # data/train.py: quantizer, batch-norm folding, export (sets BLAS to 1 thread)
from cimgpu_model import DEFAULT_DATA_DIR, FORMAT_NAME, FORMAT_VERSION, load_split
from cimgpu_model import main as check_main

import torch                 # noqa: E402  (after train.py has set the thread variables)
import torch.nn.functional as F   # noqa: E402

MODELS_DIR = T.MODELS_DIR

# ("conv", out_c, pool) : conv 3x3 pad 1 -> maxpool pool x pool -> BN -> act;  ("dense", out)
VGG_LAYERS = [("conv", 64, 2), ("conv", 128, 2), ("conv", 256, 2), ("conv", 512, 3),
              ("dense", 10)]
MODELS = {
    "bnn_vgg": dict(kind="bnn", epochs=2, lr=2e-3, batch=100, layers=VGG_LAYERS),
    "tnn_vgg": dict(kind="tnn", epochs=2, lr=2e-3, batch=100, layers=VGG_LAYERS),
}
DEFAULT_SEED = 1
DEFAULT_THREADS = 2


# --------------------------------------------------------------------------------------
# Straight-through quantizers (forward: exactly data/train.py's quantize_weights/activate)
# --------------------------------------------------------------------------------------
def quantize_weights_t(w, kind):
    if kind == "bnn":
        return torch.where(w >= 0, 1.0, -1.0).to(w.dtype)
    delta = np.float32(T.TERNARY_WEIGHT_RATIO) * w.abs().mean()
    return torch.sign(w) * (w.abs() > delta).to(w.dtype)


def activate_t(y, kind):
    if kind == "bnn":
        return torch.where(y >= 0, 1.0, -1.0).to(y.dtype)
    d = T.TERNARY_ACT_DELTA
    return (y > d).to(y.dtype) - (y < -d).to(y.dtype)


class _STE(torch.autograd.Function):
    """forward: quantize(x); backward: the gradient where |x| <= 1, else 0."""

    @staticmethod
    def forward(ctx, x, fn, kind):
        ctx.save_for_backward(x)
        return fn(x, kind)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x.abs() <= 1).to(g.dtype), None, None


class VGG(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.kind = spec["kind"]
        self.convs = torch.nn.ParameterList()
        self.bns = torch.nn.ModuleList()
        self.pools = []
        c_in = 1
        for layer in spec["layers"]:
            if layer[0] == "conv":
                _, c_out, pool = layer
                w = torch.empty(c_out, c_in, 3, 3)
                lim = math.sqrt(6.0 / (9 * c_in + 9 * c_out))   # Glorot uniform, as train.py
                torch.nn.init.uniform_(w, -lim, lim)
                self.convs.append(torch.nn.Parameter(w))
                self.bns.append(torch.nn.BatchNorm2d(c_out, eps=T.BN_EPS, momentum=0.1))
                self.pools.append(pool)
                c_in = c_out
            else:
                _, d_out = layer
                lim = math.sqrt(6.0 / (c_in + d_out))
                w = torch.empty(d_out, c_in)
                torch.nn.init.uniform_(w, -lim, lim)
                self.dense = torch.nn.Parameter(w)
                # positive logit scale exp(t): does not change the argmax of integer scores
                self.log_scale = torch.nn.Parameter(torch.tensor(-0.5 * math.log(c_in)))
        self.frozen = None   # exported (numpy-quantized) weights used instead of the STE ones

    def latent(self):
        return list(self.convs) + [self.dense]

    def weights(self):
        if self.frozen is not None:
            return self.frozen
        return [_STE.apply(w, quantize_weights_t, self.kind) for w in self.latent()]

    def pad_value(self, i):
        """Padding of conv i's input: 0 for the raw pixels and for ternary inputs, +1 for
        binary inputs (0 is not in the alphabet {-1, +1})."""
        return 1.0 if i > 0 and self.kind == "bnn" else 0.0

    def forward(self, x, upto_bn=None):
        """x: raw pixels [N, 1, 28, 28] float32. upto_bn=i returns the pre-activation that
        batch-norm i sees (for the recalibration)."""
        ws = self.weights()
        for i, (bn, pool) in enumerate(zip(self.bns, self.pools)):
            x = F.pad(x, (1, 1, 1, 1), value=self.pad_value(i))
            x = F.conv2d(x, ws[i])
            x = F.max_pool2d(x, pool)
            if upto_bn == i:
                return x
            x = bn(x)
            x = _STE.apply(x, activate_t, self.kind) if self.training else \
                activate_t(x, self.kind)
        x = torch.flatten(x, 1)
        return (x @ ws[-1].t()) * torch.exp(self.log_scale)


def clip_latent(model):
    with torch.no_grad():
        for w in model.latent():
            w.clamp_(-1, 1)


def to_tensor(images):
    return torch.from_numpy(images.astype(np.float32)[:, None, :, :])   # raw 0..255, C = 1


def train(name, spec, seed, train_x, train_y, epochs, limit=None, log=print):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = VGG(spec)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    n = len(train_x) if limit is None else min(limit, len(train_x))
    batch = spec["batch"]
    steps_per_epoch = n // batch
    total = steps_per_epoch * epochs
    t = 0
    for epoch in range(epochs):
        model.train()
        w0, c0 = time.time(), time.process_time()
        order = rng.permutation(len(train_x))[:n]
        loss_sum, correct = 0.0, 0
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            x = to_tensor(train_x[idx])
            y = torch.from_numpy(train_y[idx])
            lr = spec["lr"] * 0.5 * (1 + math.cos(math.pi * t / total))
            for group in opt.param_groups:
                group["lr"] = lr
            out = model(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            clip_latent(model)
            t += 1
            loss_sum += float(loss)
            correct += int((out.argmax(1) == y).sum())
        log(f"  {name} epoch {epoch + 1}/{epochs}: loss {loss_sum / steps_per_epoch:.4f} "
            f"train acc {correct / (steps_per_epoch * batch):.4f} "
            f"({time.time() - w0:.0f} s wall, {time.process_time() - c0:.0f} s CPU)")
    return model


# --------------------------------------------------------------------------------------
# Export: freeze the quantized weights, recalibrate batch-norm, fold, write
# --------------------------------------------------------------------------------------
def freeze(model):
    """Quantize the latent weights with data/train.py's quantize_weights (the numbers that go
    into the file) and make the float network use exactly them. Returns the int8 arrays and
    the number of weights where torch's quantizer of the last training step disagrees."""
    wq, differ = [], 0
    with torch.no_grad():
        for w in model.latent():
            q = T.quantize_weights(w.numpy(), model.kind)
            differ += int(np.sum(q != quantize_weights_t(w, model.kind).numpy()))
            wq.append(q.astype(np.int8))
    model.frozen = [torch.from_numpy(q.astype(np.float32)) for q in wq]
    model.eval()
    return wq, differ


def recalibrate_bn(model, images, chunk=500):
    """Every batch-norm's statistics := the exact population statistics (float64) of its
    integer pre-activations on `images`, under the frozen weights (earlier batch-norms
    already recalibrated)."""
    with torch.no_grad():
        for i, bn in enumerate(model.bns):
            s1 = s2 = 0.0
            count = 0
            for a in range(0, len(images), chunk):
                z = model(to_tensor(images[a:a + chunk]), upto_bn=i).double()
                s1 = s1 + z.sum(dim=(0, 2, 3))
                s2 = s2 + (z * z).sum(dim=(0, 2, 3))
                count += z.shape[0] * z.shape[2] * z.shape[3]
            mean = s1 / count
            var = torch.clamp(s2 / count - mean * mean, min=0.0)
            bn.mean64, bn.var64 = mean.numpy(), var.numpy()
            bn.running_mean.copy_(mean.float())
            bn.running_var.copy_(var.float())


def float_predict(model, images, chunk=500):
    preds = []
    with torch.no_grad():
        for a in range(0, len(images), chunk):
            preds.append(model(to_tensor(images[a:a + chunk])).argmax(1).numpy())
    return np.concatenate(preds)


class _BN:
    """The attributes of data/train.py's BatchNorm that its fold_batchnorm reads."""

    class _P:
        def __init__(self, value):
            self.value = value

    def __init__(self, bn):
        self.gamma = self._P(bn.weight.detach().numpy().astype(np.float32))
        self.beta = self._P(bn.bias.detach().numpy().astype(np.float32))
        self.mean = bn.mean64
        self.var = bn.var64


def export_layers(model, wq):
    """List of (type, attrs, datasets) in file order (model_format.md §4)."""
    out = []
    act = "sign" if model.kind == "bnn" else "ternary"
    for i, (bn, pool) in enumerate(zip(model.bns, model.pools)):
        w = wq[i]                                   # [out, in, 3, 3]: torch = file layout
        out.append(("conv2d", {"in_channels": w.shape[1], "out_channels": w.shape[0],
                               "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1],
                               "pad_value": int(model.pad_value(i))},
                    {"weight": np.ascontiguousarray(w)}))
        out.append(("maxpool2d", {"kernel": [pool, pool], "stride": [pool, pool]}, {}))
        lo, hi, flip = T.fold_batchnorm(_BN(bn), model.kind)
        out.append(("batchnorm_threshold", {"channels": int(lo.size)},
                    {"threshold_lo": lo, "threshold_hi": hi, "flip": flip}))
        out.append((act, {}, {}))
    w = wq[-1]                                      # [out, in]: torch = file layout
    out.append(("flatten", {}, {}))
    out.append(("dense", {"in_features": w.shape[1], "out_features": w.shape[0]},
                {"weight": np.ascontiguousarray(w)}))
    return out


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------
def run_one(name, seed, out_path, data_dir, threads, epochs=None, limit=None):
    spec = MODELS[name]
    epochs = spec["epochs"] if epochs is None else epochs
    train_x, train_y = load_split(data_dir, "train")
    test_x, test_y = load_split(data_dir, "test")
    print(f"{name}: training {spec['kind']} VGG, seed {seed}, {epochs} epochs, "
          f"{threads} threads, torch {torch.__version__}", flush=True)
    w0, c0 = time.time(), time.process_time()
    model = train(name, spec, seed, train_x, train_y, epochs, limit,
                  log=lambda s: print(s, flush=True))
    wq, differ = freeze(model)
    recalibrate_bn(model, train_x[:10000])
    train_wall, train_cpu = time.time() - w0, time.process_time() - c0
    fpred = float_predict(model, test_x)
    print(f"{name}: float (PyTorch, quantized weights) test accuracy "
          f"{np.mean(fpred == test_y):.4f}; torch vs numpy weight quantizer differ in "
          f"{differ} weights", flush=True)
    layer_list = export_layers(model, wq)
    n_train = len(train_x) if limit is None else min(limit, len(train_x))
    config = {"model": name, "epochs": epochs, "batch": spec["batch"], "lr": spec["lr"],
              "optimizer": "adam, cosine decay", "train_images": n_train,
              "bn_calibration_images": 10000,
              "ternary_weight_ratio": T.TERNARY_WEIGHT_RATIO,
              "ternary_activation_delta": T.TERNARY_ACT_DELTA,
              "torch": torch.__version__, "threads": threads, "numpy": np.__version__}
    root = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "name": name,
            "kind": spec["kind"],
            "description": f"{spec['kind'].upper()} VGG-style CNN (conv 64-128-256-512) for "
                           f"Fashion-MNIST, trained by data/train_vgg.py",
            "dataset": "fashion-mnist", "input_shape": [1, 28, 28],
            "input_preprocessing": "raw_uint8", "num_classes": 10,
            "num_layers": len(layer_list), "train_seed": seed,
            "training_tool": "data/train_vgg.py",
            "training_config": json.dumps(config, sort_keys=True)}
    e0 = time.time()
    model_int, ipred, correct = T.write_measured(out_path, root, layer_list, test_x, test_y)
    acc = correct / len(test_y)
    agree = int(np.sum(ipred == fpred))
    print(f"{name}: exported {out_path}: {len(layer_list)} layers, {model_int.params} weights, "
          f"{model_int.macs} MACs/image; digital (exact integer) test accuracy "
          f"{acc:.4f} ({correct}/{len(test_y)}, IntModel {time.time() - e0:.0f} s); "
          f"float and integer predictions agree on {agree}/{len(test_y)} images; "
          f"training {train_wall:.0f} s wall, {train_cpu:.0f} s CPU", flush=True)
    return acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), help="model to train")
    ap.add_argument("--all", action="store_true", help="train both models into data/models/ "
                    "(with --seed, --threads, --epochs, --train-images)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                    help="torch intra-op threads (part of what makes the bytes reproducible)")
    ap.add_argument("--out", help="output .h5 (default data/models/<model>.h5)")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR, help="directory with the IDX files")
    ap.add_argument("--epochs", type=int, help="override the model's epoch count")
    ap.add_argument("--train-images", type=int, help="train on the first N shuffled images "
                    "per epoch (smoke tests)")
    ap.add_argument("--check", metavar="FILE", nargs="+",
                    help="validate model files and re-measure their integer test accuracy "
                    "(same as data/cimgpu_model.py FILE...)")
    args = ap.parse_args(argv)
    if args.check:
        return check_main(args.check + ["--data", args.data])
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    if args.all:
        if args.out:
            ap.error("--out goes with --model")
        for name in ("bnn_vgg", "tnn_vgg"):
            run_one(name, args.seed, os.path.join(MODELS_DIR, f"{name}.h5"), args.data,
                    args.threads, args.epochs, args.train_images)
        return 0
    if not args.model:
        ap.error("give --model, --all or --check")
    out = args.out or os.path.join(MODELS_DIR, f"{args.model}.h5")
    run_one(args.model, args.seed, out, args.data, args.threads, args.epochs,
            args.train_images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
