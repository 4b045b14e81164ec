#!/usr/bin/env python3
"""Train, export and check cimgpu's shipped binary/ternary Fashion-MNIST models.

    python3 data/train.py --model tnn_cnn --seed 1 --out data/models/tnn_cnn.h5
    python3 data/train.py --all                    # regenerate every shipped model
    python3 data/train.py --check data/models/tnn_cnn.h5   # validate + integer test accuracy

Training uses numpy only (float32, im2col convolutions, hand-written backward passes):
weights are binarized (sign) or ternarized (threshold 0.7*mean|w| per layer) in the forward
pass, activations are sign or ternary (+-0.5 after batch-norm), and gradients pass through
both with the straight-through estimator (clipped to |.| <= 1). Optimizer: Adam, cosine
learning-rate decay, latent weights clipped to [-1, 1].

Export folds each batch-norm into integer thresholds (data/model_format.md, layer
`batchnorm_threshold`), writes the cimgpu-model HDF5 file, reads it back, validates it with
the rules of data/model_format.md and measures the test accuracy with a pure-integer
inference that implements that document (`IntModel`). That accuracy is stored in the file
(`digital_test_accuracy`, `digital_test_correct`) and printed.

Determinism: every random draw comes from one numpy Generator seeded with --seed, BLAS runs
on one thread, and the HDF5 file carries no timestamps, so the same seed, the same numpy/BLAS
build and the same CPU type give byte-identical files. (Float rounding inside BLAS may differ
between BLAS libraries or CPU types; the shipped files were made with Debian 12's
python3-numpy 1.24.2 on the reference BLAS, libblas3 3.11.0.)
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: deterministic BLAS, and kind to shared machines

import argparse
import json
import math
import sys
import time

import numpy as np

from cimgpu_model import (DEFAULT_DATA_DIR, FORMAT_NAME, FORMAT_VERSION, THRESHOLD_LIMIT,
                          IntModel, load_split, write_model)
from cimgpu_model import main as check_main

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "models")

TERNARY_ACT_DELTA = 0.5        # training: ternary activation dead zone is [-0.5, 0.5] after BN
TERNARY_WEIGHT_RATIO = 0.7     # training: |w| > 0.7 * mean|w| becomes +-1, the rest 0
BN_EPS = 1e-5

# --------------------------------------------------------------------------------------
# Shipped models. Layer specs in training order (which is also the exported order).
#   ("flatten",) ("dense", out) ("conv", out_c, k, pad) ("pool",) ("bn",) ("act",)
# --------------------------------------------------------------------------------------
MODELS = {
    "bnn_mlp": dict(kind="bnn", epochs=20, lr=2e-3, batch=100,
                    layers=[("flatten",), ("dense", 512), ("bn",), ("act",),
                            ("dense", 512), ("bn",), ("act",), ("dense", 10)]),
    "tnn_mlp": dict(kind="tnn", epochs=20, lr=2e-3, batch=100,
                    layers=[("flatten",), ("dense", 512), ("bn",), ("act",),
                            ("dense", 512), ("bn",), ("act",), ("dense", 10)]),
    "bnn_cnn": dict(kind="bnn", epochs=8, lr=2e-3, batch=100,
                    layers=[("conv", 32, 3, 1), ("pool",), ("bn",), ("act",),
                            ("conv", 64, 3, 0), ("pool",), ("bn",), ("act",),
                            ("flatten",), ("dense", 10)]),
    "tnn_cnn": dict(kind="tnn", epochs=8, lr=2e-3, batch=100,
                    layers=[("conv", 32, 3, 1), ("pool",), ("bn",), ("act",),
                            ("conv", 64, 3, 0), ("pool",), ("bn",), ("act",),
                            ("flatten",), ("dense", 10)]),
}
DEFAULT_SEED = 1


# --------------------------------------------------------------------------------------
# Training layers (float32, NHWC inside training; export converts to the file's layouts)
# --------------------------------------------------------------------------------------
def quantize_weights(w, kind):
    if kind == "bnn":
        return np.where(w >= 0, np.float32(1), np.float32(-1))
    delta = np.float32(TERNARY_WEIGHT_RATIO) * np.mean(np.abs(w), dtype=np.float32)
    return (np.sign(w) * (np.abs(w) > delta)).astype(np.float32)


def activate(y, kind):
    if kind == "bnn":
        return np.where(y >= 0, np.float32(1), np.float32(-1))
    d = np.float32(TERNARY_ACT_DELTA)
    return (y > d).astype(np.float32) - (y < -d).astype(np.float32)


class Param:
    def __init__(self, value, quantized=False):
        self.value = value.astype(np.float32)
        self.grad = np.zeros_like(self.value)
        self.m = np.zeros_like(self.value)
        self.v = np.zeros_like(self.value)
        self.quantized = quantized   # latent weight: clip to [-1, 1] after each step


class Flatten:
    params = ()

    def forward(self, x, train):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, g):
        return g.reshape(self.shape)


class Dense:
    def __init__(self, rng, d_in, d_out, kind, last):
        lim = math.sqrt(6.0 / (d_in + d_out))
        self.w = Param(rng.uniform(-lim, lim, (d_in, d_out)), quantized=True)
        self.kind, self.last = kind, last
        self.params = (self.w,)
        if last:   # positive logit scale exp(t): does not change the argmax of integer scores
            self.log_scale = Param(np.array([-0.5 * math.log(d_in)]))
            self.params = (self.w, self.log_scale)
        self.need_input_grad = True

    def forward(self, x, train):
        self.x = x
        self.wq = quantize_weights(self.w.value, self.kind)
        z = x @ self.wq
        if self.last:
            self.z = z
            z = z * np.exp(self.log_scale.value[0])
        return z

    def backward(self, g):
        if self.last:
            s = np.exp(self.log_scale.value[0])
            self.log_scale.grad[0] += np.float32(np.sum(g * self.z) * s)
            g = g * s
        self.w.grad += (self.x.T @ g) * (np.abs(self.w.value) <= 1)
        return g @ self.wq.T if self.need_input_grad else None


class Conv2D:
    """Stride-1 convolution, NHWC, im2col in (u, v, c) order."""

    def __init__(self, rng, c_in, c_out, k, pad, kind):
        fan_in, fan_out = c_in * k * k, c_out * k * k
        lim = math.sqrt(6.0 / (fan_in + fan_out))
        self.w = Param(rng.uniform(-lim, lim, (k, k, c_in, c_out)), quantized=True)
        self.k, self.pad, self.kind = k, pad, kind
        self.c_in, self.c_out = c_in, c_out
        self.params = (self.w,)
        self.need_input_grad = True

    def forward(self, x, train):
        n, h, w, c = x.shape
        k, p = self.k, self.pad
        if p:
            x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))   # pad value 0 (raw pixels)
        ho, wo = h + 2 * p - k + 1, w + 2 * p - k + 1
        cols = np.stack([x[:, u:u + ho, v:v + wo, :] for u in range(k) for v in range(k)],
                        axis=3)
        self.cols = cols.reshape(n * ho * wo, k * k * c)
        self.geom = (n, h, w, c, ho, wo)
        self.wq = quantize_weights(self.w.value, self.kind).reshape(k * k * c, self.c_out)
        return (self.cols @ self.wq).reshape(n, ho, wo, self.c_out)

    def backward(self, g):
        n, h, w, c, ho, wo = self.geom
        k, p = self.k, self.pad
        g2 = g.reshape(n * ho * wo, self.c_out)
        gw = (self.cols.T @ g2).reshape(self.w.value.shape)
        self.w.grad += gw * (np.abs(self.w.value) <= 1)
        self.cols = None
        if not self.need_input_grad:
            return None
        gcols = (g2 @ self.wq.T).reshape(n, ho, wo, k * k, c)
        gx = np.zeros((n, h + 2 * p, w + 2 * p, c), dtype=np.float32)
        for u in range(k):
            for v in range(k):
                gx[:, u:u + ho, v:v + wo, :] += gcols[:, :, :, u * k + v, :]
        return gx[:, p:p + h, p:p + w, :] if p else gx


class MaxPool2:
    params = ()

    def forward(self, x, train):
        n, h, w, c = x.shape
        xr = x.reshape(n, h // 2, 2, w // 2, 2, c)
        m = xr.max(axis=(2, 4))
        if train:
            mask = (xr == m[:, :, None, :, None, :]).astype(np.float32)
            self.mask = mask / mask.sum(axis=(2, 4), keepdims=True)
            self.shape = x.shape
        return m

    def backward(self, g):
        gx = self.mask * g[:, :, None, :, None, :]
        self.mask = None
        return gx.reshape(self.shape)


class BatchNorm:
    def __init__(self, c):
        self.gamma = Param(np.ones(c))
        self.beta = Param(np.zeros(c))
        self.params = (self.gamma, self.beta)
        self.mean = np.zeros(c, dtype=np.float64)
        self.var = np.ones(c, dtype=np.float64)

    def forward(self, x, train):
        axes = tuple(range(x.ndim - 1))
        if train:
            mu = x.mean(axis=axes)
            var = x.var(axis=axes)
            self.mean = 0.9 * self.mean + 0.1 * mu
            self.var = 0.9 * self.var + 0.1 * var
            self.invstd = (1.0 / np.sqrt(var + np.float32(BN_EPS))).astype(np.float32)
            self.xhat = (x - mu) * self.invstd
            self.m = x.size // x.shape[-1]
            return self.gamma.value * self.xhat + self.beta.value
        invstd = (1.0 / np.sqrt(self.var + BN_EPS)).astype(np.float32)
        return (x - self.mean.astype(np.float32)) * invstd * self.gamma.value + self.beta.value

    def backward(self, g):
        axes = tuple(range(g.ndim - 1))
        xhat = self.xhat
        self.gamma.grad += np.sum(g * xhat, axis=axes)
        self.beta.grad += np.sum(g, axis=axes)
        dxhat = g * self.gamma.value
        s1 = np.sum(dxhat, axis=axes) / self.m
        s2 = np.sum(dxhat * xhat, axis=axes) / self.m
        self.xhat = None
        return (dxhat - s1 - xhat * s2) * self.invstd


class Activation:
    params = ()

    def __init__(self, kind):
        self.kind = kind

    def forward(self, y, train):
        if train:
            self.pass_mask = (np.abs(y) <= 1).astype(np.float32)
        return activate(y, self.kind)

    def backward(self, g):
        return g * self.pass_mask


def build_net(spec, rng, input_shape=(28, 28, 1)):
    kind = spec["kind"]
    shape = input_shape                 # NHWC without N (or (features,))
    layers = []
    n_last = max(i for i, l in enumerate(spec["layers"]) if l[0] == "dense")
    for i, l in enumerate(spec["layers"]):
        if l[0] == "flatten":
            layers.append(Flatten())
            shape = (int(np.prod(shape)),)
        elif l[0] == "dense":
            layers.append(Dense(rng, shape[0], l[1], kind, last=(i == n_last)))
            shape = (l[1],)
        elif l[0] == "conv":
            _, c_out, k, pad = l
            layers.append(Conv2D(rng, shape[2], c_out, k, pad, kind))
            shape = (shape[0] + 2 * pad - k + 1, shape[1] + 2 * pad - k + 1, c_out)
        elif l[0] == "pool":
            layers.append(MaxPool2())
            shape = (shape[0] // 2, shape[1] // 2, shape[2])
        elif l[0] == "bn":
            layers.append(BatchNorm(shape[-1]))
        elif l[0] == "act":
            layers.append(Activation(kind))
        else:
            raise ValueError(l)
    # the first layer with weights sees raw pixels: it needs no input gradient
    for layer in layers:
        if isinstance(layer, (Dense, Conv2D)):
            layer.need_input_grad = False
            break
    return layers


def forward(layers, x, train, upto=None):
    for layer in layers[:upto]:
        x = layer.forward(x, train)
    return x


def softmax_xent(logits, labels):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.mean(np.log(p[np.arange(n), labels] + np.float32(1e-12)))
    g = p
    g[np.arange(n), labels] -= 1
    return float(loss), (g / np.float32(n)).astype(np.float32)


def adam_step(params, lr, t, b1=0.9, b2=0.999, eps=1e-8):
    c1 = 1 - b1 ** t
    c2 = 1 - b2 ** t
    for p in params:
        p.m *= np.float32(b1)
        p.m += np.float32(1 - b1) * p.grad
        p.v *= np.float32(b2)
        p.v += np.float32(1 - b2) * p.grad * p.grad
        p.value -= np.float32(lr / c1) * p.m / (np.sqrt(p.v / np.float32(c2)) + np.float32(eps))
        if p.quantized:
            np.clip(p.value, -1, 1, out=p.value)
        p.grad[...] = 0


def to_nhwc(images):
    return images.astype(np.float32)[:, :, :, None]   # raw pixels 0..255, C = 1


def recalibrate_bn(layers, images, chunk=1000):
    """Set every batch-norm's statistics to the exact population statistics of `images`
    under the final weights (earlier batch-norms already recalibrated)."""
    for i, layer in enumerate(layers):
        if not isinstance(layer, BatchNorm):
            continue
        s1 = s2 = 0.0
        count = 0
        for a in range(0, len(images), chunk):
            z = forward(layers, to_nhwc(images[a:a + chunk]), False, upto=i).astype(np.float64)
            z = z.reshape(-1, z.shape[-1])
            s1 = s1 + z.sum(axis=0)
            s2 = s2 + (z * z).sum(axis=0)
            count += z.shape[0]
        layer.mean = s1 / count
        layer.var = np.maximum(s2 / count - layer.mean ** 2, 0.0)


def float_accuracy(layers, images, labels, chunk=1000):
    correct = 0
    for a in range(0, len(images), chunk):
        out = forward(layers, to_nhwc(images[a:a + chunk]), False)
        correct += int(np.sum(np.argmax(out, axis=1) == labels[a:a + chunk]))
    return correct / len(images)


def train(name, spec, seed, train_x, train_y, epochs, limit=None, log=print):
    rng = np.random.default_rng(seed)
    layers = build_net(spec, rng)
    params = [p for layer in layers for p in layer.params]
    n = len(train_x) if limit is None else min(limit, len(train_x))
    batch = spec["batch"]
    steps_per_epoch = n // batch
    total = steps_per_epoch * epochs
    t = 0
    for epoch in range(epochs):
        t0 = time.process_time()
        order = rng.permutation(len(train_x))[:n]
        loss_sum, correct = 0.0, 0
        for s in range(steps_per_epoch):
            idx = order[s * batch:(s + 1) * batch]
            x = to_nhwc(train_x[idx])
            y = train_y[idx]
            out = forward(layers, x, True)
            loss, g = softmax_xent(out, y)
            loss_sum += loss
            correct += int(np.sum(np.argmax(out, axis=1) == y))
            for layer in reversed(layers):
                g = layer.backward(g)
                if g is None:
                    break
            t += 1
            lr = spec["lr"] * 0.5 * (1 + math.cos(math.pi * (t - 1) / total))
            adam_step(params, lr, t)
        log(f"  {name} epoch {epoch + 1}/{epochs}: loss {loss_sum / steps_per_epoch:.4f} "
            f"train acc {correct / (steps_per_epoch * batch):.4f} "
            f"({time.process_time() - t0:.0f} s CPU)")
    return layers


# --------------------------------------------------------------------------------------
# Export: training network -> cimgpu-model HDF5 (model_format.md)
# --------------------------------------------------------------------------------------
def fold_batchnorm(bn, kind):
    """Integer thresholds of `batchnorm_threshold` for a BN followed by sign/ternary.
    Pre-activation z is an exact integer; the training forward computes
    y = gamma*(z-mean)/sqrt(var+eps) + beta and then sign(y) (y >= 0 -> +1) or
    ternary(y) (+1 if y > 0.5, -1 if y < -0.5, else 0)."""
    gamma = bn.gamma.value.astype(np.float64)
    beta = bn.beta.value.astype(np.float64)
    sigma = np.sqrt(bn.var + BN_EPS)
    mu = bn.mean
    c = gamma.size
    lo = np.zeros(c, dtype=np.int64)
    hi = np.zeros(c, dtype=np.int64)
    flip = np.ones(c, dtype=np.int64)
    big = THRESHOLD_LIMIT
    for i in range(c):
        g, b, s, m = gamma[i], beta[i], sigma[i], mu[i]
        if kind == "bnn":
            if g == 0:   # constant output sign(beta)
                t = -big if b >= 0 else big
                lo[i] = hi[i] = t
                continue
            tau = m - b * s / g          # y >= 0  <=>  z >= tau (g > 0) / z <= tau (g < 0)
            if g > 0:
                lo[i] = hi[i] = math.ceil(tau)   # +1 iff z >= lo
            else:
                flip[i] = -1
                lo[i] = hi[i] = math.floor(tau)  # +1 iff z <= hi
        else:
            d = TERNARY_ACT_DELTA
            if g == 0:
                if b > d:       # always +1
                    lo[i], hi[i] = -big + 1, -big
                elif b < -d:    # always -1
                    lo[i], hi[i] = big, big - 1
                else:           # always 0
                    lo[i], hi[i] = -big, big
                continue
            a_up = m + s * (d - b) / g     # y = +d
            a_dn = m + s * (-d - b) / g    # y = -d
            if g > 0:   # +1 iff z > a_up, -1 iff z < a_dn
                hi[i] = math.floor(a_up)
                lo[i] = math.ceil(a_dn)
            else:       # +1 iff z < a_up, -1 iff z > a_dn
                flip[i] = -1
                lo[i] = math.ceil(a_up)
                hi[i] = math.floor(a_dn)
    lo = np.clip(lo, -big, big)
    hi = np.clip(hi, -big, big)
    lo = np.minimum(lo, hi + 1)
    return lo.astype(np.int32), hi.astype(np.int32), flip.astype(np.int8)


def export_layers(layers, kind, input_shape_chw):
    """List of (type, attrs, datasets) in file order and semantics."""
    out = []
    shape = tuple(input_shape_chw)      # the file's tensor shape: (C, H, W) or (features,)
    flattened_from = None               # (C, H, W) of the flatten just before a dense layer
    act_type = "sign" if kind == "bnn" else "ternary"
    for layer in layers:
        if isinstance(layer, Flatten):
            out.append(("flatten", {}, {}))
            flattened_from = shape
            shape = (int(np.prod(shape)),)
            continue
        if isinstance(layer, Dense):
            wq = quantize_weights(layer.w.value, kind)          # [in, out]
            d_in, d_out = wq.shape
            if flattened_from is not None:
                cc, hh, ww = flattened_from
                # training flattened NHWC, i.e. (h, w, c); the file flattens (c, h, w)
                wf = wq.reshape(hh, ww, cc, d_out).transpose(3, 2, 0, 1).reshape(d_out, d_in)
            else:
                wf = wq.T
            out.append(("dense", {"in_features": d_in, "out_features": d_out},
                        {"weight": np.ascontiguousarray(wf).astype(np.int8)}))
            shape = (d_out,)
        elif isinstance(layer, Conv2D):
            wq = quantize_weights(layer.w.value, kind)          # [kh, kw, c_in, c_out]
            k, p = layer.k, layer.pad
            out.append(("conv2d",
                        {"in_channels": layer.c_in, "out_channels": layer.c_out,
                         "kernel": [k, k], "stride": [1, 1], "padding": [p, p],
                         "pad_value": 0},
                        {"weight": np.ascontiguousarray(wq.transpose(3, 2, 0, 1))
                         .astype(np.int8)}))
            shape = (layer.c_out, shape[1] + 2 * p - k + 1, shape[2] + 2 * p - k + 1)
        elif isinstance(layer, MaxPool2):
            out.append(("maxpool2d", {"kernel": [2, 2], "stride": [2, 2]}, {}))
            shape = (shape[0], shape[1] // 2, shape[2] // 2)
        elif isinstance(layer, BatchNorm):
            lo, hi, flip = fold_batchnorm(layer, kind)
            out.append(("batchnorm_threshold", {"channels": int(lo.size)},
                        {"threshold_lo": lo, "threshold_hi": hi, "flip": flip}))
        elif isinstance(layer, Activation):
            out.append((act_type, {}, {}))
        else:
            raise TypeError(layer)
        flattened_from = None
    return out


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------

def write_measured(out_path, root, layer_list, test_x, test_y):
    """Writes the model file with its digital test accuracy measured on the file itself: written
    once without it, measured by IntModel, written again. Returns (the final file's IntModel,
    its test predictions, the number correct)."""
    root_tmp = dict(root, digital_test_accuracy=0.0, digital_test_correct=0,
                    digital_test_images=len(test_y))
    write_model(out_path, root_tmp, layer_list)
    pred = IntModel(out_path).predict(test_x)
    correct = int(np.sum(pred == test_y))
    root_final = dict(root, digital_test_accuracy=float(correct) / len(test_y),
                      digital_test_correct=correct, digital_test_images=len(test_y))
    write_model(out_path, root_final, layer_list)
    return IntModel(out_path), pred, correct

def run_one(name, seed, out_path, data_dir, epochs=None, limit=None):
    spec = MODELS[name]
    epochs = spec["epochs"] if epochs is None else epochs
    train_x, train_y = load_split(data_dir, "train")
    test_x, test_y = load_split(data_dir, "test")
    print(f"{name}: training {spec['kind']} {len(spec['layers'])} layers, seed {seed}, "
          f"{epochs} epochs", flush=True)
    t0 = time.process_time()
    layers = train(name, spec, seed, train_x, train_y, epochs, limit,
                   log=lambda s: print(s, flush=True))
    recalibrate_bn(layers, train_x[:10000])
    train_cpu = time.process_time() - t0
    facc = float_accuracy(layers, test_x, test_y)
    print(f"{name}: float (training-graph) test accuracy {facc:.4f}", flush=True)
    layer_list = export_layers(layers, spec["kind"], (1, 28, 28))
    config = {"model": name, "epochs": epochs, "batch": spec["batch"], "lr": spec["lr"],
              "optimizer": "adam, cosine decay", "train_images": len(train_x) if limit is None
              else min(limit, len(train_x)), "bn_calibration_images": 10000,
              "ternary_weight_ratio": TERNARY_WEIGHT_RATIO,
              "ternary_activation_delta": TERNARY_ACT_DELTA, "numpy": np.__version__}
    root = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "name": name,
            "kind": spec["kind"],
            "description": f"{spec['kind'].upper()} {'CNN' if 'cnn' in name else 'MLP'} "
                           f"for Fashion-MNIST, trained by data/train.py",
            "dataset": "fashion-mnist", "input_shape": [1, 28, 28],
            "input_preprocessing": "raw_uint8", "num_classes": 10,
            "num_layers": len(layer_list), "train_seed": seed,
            "training_tool": "data/train.py", "training_config": json.dumps(config, sort_keys=True)}
    model, _, correct = write_measured(out_path, root, layer_list, test_x, test_y)
    acc = correct / len(test_y)
    print(f"{name}: exported {out_path}: {len(layer_list)} layers, {model.params} weights, "
          f"{model.macs} MACs/image; digital (exact integer) test accuracy "
          f"{acc:.4f} ({correct}/{len(test_y)}); training {train_cpu:.0f} s CPU", flush=True)
    return acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=sorted(MODELS), help="model to train")
    ap.add_argument("--all", action="store_true", help="regenerate every shipped model "
                    "into data/models/ with the default seed")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", help="output .h5 (default data/models/<model>.h5)")
    ap.add_argument("--data", default=DEFAULT_DATA_DIR, help="directory with the IDX files")
    ap.add_argument("--epochs", type=int, help="override the model's epoch count")
    ap.add_argument("--limit", type=int, help="train on the first N shuffled images per epoch "
                    "(smoke tests)")
    ap.add_argument("--check", metavar="FILE", nargs="+",
                    help="validate model files and re-measure their integer test accuracy "
                    "(same as data/cimgpu_model.py FILE...)")
    args = ap.parse_args(argv)
    if args.check:
        return check_main(args.check + ["--data", args.data])
    if args.all:
        for name in ("bnn_mlp", "tnn_mlp", "bnn_cnn", "tnn_cnn"):
            run_one(name, args.seed, os.path.join(MODELS_DIR, f"{name}.h5"), args.data)
        return 0
    if not args.model:
        ap.error("give --model, --all or --check")
    out = args.out or os.path.join(MODELS_DIR, f"{args.model}.h5")
    run_one(args.model, args.seed, out, args.data, args.epochs, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
