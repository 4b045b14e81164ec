"""test_convert.py -- data/convert_larq.py and data/convert_torch.py: a converted model's exact
integer predictions against an independent float computation of the source framework's
semantics, cimgpu's digital accuracy on a converted model, and every refusal.

Larq: TensorFlow is not installable from Debian, so the tests write Keras files themselves
with h5py, as Keras 2's model.save writes them (root attribute model_config, group
model_weights with layer_names/weight_names) and as Keras 3 writes a .keras archive
(config.json, model.weights.h5), with random latent weights and batch-norm statistics taken
from a batch of training images. The reference is a numpy float64 evaluation of the Keras
graph (NHWC, Larq's quantizers) written here, independently of the converter.

PyTorch: the same for a state_dict with the converter's JSON description: a numpy float64
evaluation of the description here (NCHW) on an .npz state_dict always, and, when torch can
be imported, torch modules of the same networks (Conv2d, BatchNorm2d, sign/ternary, residual
add, concat, Linear), saved with torch.save and run by torch itself.

Predictions may differ from the float ones only where a float batch-norm output ties with a
threshold: the tests ask for at least 99 % equal. The binary is $CIMGPU_BIN (ctest sets it),
else build/cimgpu; the cimgpu run checks skip without one or without an OpenCL device.
"""
import io
import json
import os
import pickle
import subprocess
import sys
import unittest
import zipfile

import h5py
import numpy as np

import fixtures

DATA = os.path.join(fixtures.ROOT, "data")
sys.path.insert(0, DATA)
import cimgpu_model  # noqa: E402

LARQ = os.path.join(DATA, "convert_larq.py")
TORCH = os.path.join(DATA, "convert_torch.py")
N_IMAGES = 300
try:
    import torch
except ImportError:
    torch = None


def dataset():
    try:
        x, y = cimgpu_model.load_split(cimgpu_model.DEFAULT_DATA_DIR, "test")
        xt, _ = cimgpu_model.load_split(cimgpu_model.DEFAULT_DATA_DIR, "train")
    except (OSError, ValueError) as e:
        raise unittest.SkipTest(f"no Fashion-MNIST files ({e})")
    return x[:N_IMAGES], y[:N_IMAGES], xt[:500]


def run_tool(*args):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))


def cimgpu_binary():
    path = os.environ.get("CIMGPU_BIN") or os.path.join(fixtures.ROOT, "build", "cimgpu")
    if not os.access(path, os.X_OK):
        if os.environ.get("CIMGPU_BIN"):
            raise AssertionError(f"CIMGPU_BIN={path}: not an executable")
        raise unittest.SkipTest(f"no cimgpu binary ({path})")
    r = subprocess.run([path, "info"], capture_output=True, text=True, timeout=300)
    for line in r.stdout.splitlines():
        if line.startswith("Default device") and "no OpenCL device found" in line:
            raise unittest.SkipTest(f"no OpenCL device ({line.strip()})")
    return path


# --------------------------------------------------------------------------------------
# Shared float64 pieces of the references
# --------------------------------------------------------------------------------------
def sign(v):
    return np.where(v >= 0, 1.0, -1.0)          # sign(0) = +1


def larq_tern(v, t):
    """Larq's ste_tern: sign(sign(x + t) + sign(x - t))."""
    return np.sign(np.sign(v + t) + np.sign(v - t))


def strict_tern(v, t):
    return (v > t).astype(np.float64) - (v < -t).astype(np.float64)


def windows(x, kh, kw, sh, sw):
    """x [N, H, W, C] -> the (u, v) window slices [N, Ho, Wo, C] of a kh x kw window."""
    n, h, w, c = x.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    for u in range(kh):
        for v in range(kw):
            yield u, v, x[:, u:u + sh * (ho - 1) + 1:sh, v:v + sw * (wo - 1) + 1:sw, :]


def conv_nhwc(x, k, stride, pads, pad_value):
    """x [N, H, W, C], k [kh, kw, C, O]; pads ((top, bottom), (left, right))."""
    if any(p for pp in pads for p in pp):
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=pad_value)
    kh, kw = k.shape[:2]
    out = 0.0
    for u, v, patch in windows(x, kh, kw, *stride):
        out = out + patch @ k[u, v]
    return out


def pool_nhwc(x, size, stride, op):
    out = None
    for _, _, patch in windows(x, size[0], size[1], stride[0], stride[1]):
        out = patch.copy() if out is None else op(out, patch)
    return out


# --------------------------------------------------------------------------------------
# Keras files, as Keras writes them, and the numpy reference of their float semantics
# --------------------------------------------------------------------------------------
def q_spec(name, **cfg):
    return {"class_name": name, "config": cfg}


STE_SIGN = q_spec("SteSign", clip_value=1.0)


def k_layer(cls, name, inputs=(), **config):
    config = dict({"name": name, "trainable": True, "dtype": "float32"}, **config)
    nodes = [[[src, 0, 0, {}] for src in inputs]] if inputs else []
    return {"class_name": cls, "config": config, "name": name, "inbound_nodes": nodes}


def k_conv(name, src, filters, k, padding="valid", strides=1, iq=None, kq=STE_SIGN,
           use_bias=False, pad_values=0.0, cls="QuantConv2D"):
    cfg = dict(filters=filters, kernel_size=[k, k], strides=[strides, strides],
               padding=padding, data_format="channels_last", dilation_rate=[1, 1], groups=1,
               activation="linear", use_bias=use_bias)
    if cls == "QuantConv2D":
        cfg.update(input_quantizer=iq, kernel_quantizer=kq, pad_values=pad_values,
                   kernel_constraint="weight_clip")
    return k_layer(cls, name, [src], **cfg)


def k_dense(name, src, units, iq=None, kq=STE_SIGN, use_bias=False, activation="linear",
            cls="QuantDense"):
    cfg = dict(units=units, activation=activation, use_bias=use_bias)
    if cls == "QuantDense":
        cfg.update(input_quantizer=iq, kernel_quantizer=kq)
    return k_layer(cls, name, [src], **cfg)


def k_bn(name, src, epsilon=1e-3):
    return k_layer("BatchNormalization", name, [src], axis=-1, momentum=0.99,
                   epsilon=epsilon, center=True, scale=True)


def k_pool(cls, name, src, size=2):
    return k_layer(cls, name, [src], pool_size=[size, size], padding="valid",
                   strides=[size, size], data_format="channels_last")


def k_input(name, shape):
    return k_layer("InputLayer", name, batch_input_shape=[None] + list(shape), sparse=False,
                   ragged=False)


def keras_quantize(spec, v, role):
    if spec is None:
        return v
    name = spec["class_name"] if isinstance(spec, dict) else spec
    cfg = spec.get("config", {}) if isinstance(spec, dict) else {}
    if name in ("SteSign", "ste_sign", "ApproxSign", "SwishSign"):
        return sign(v)
    if name == "MagnitudeAwareSign":
        assert role == "kernel"
        return sign(v) * np.mean(np.abs(v), axis=tuple(range(v.ndim - 1)))
    if name == "SteTern":
        t = cfg.get("threshold_value", 0.05)
        if cfg.get("ternary_weight_networks"):
            t = 0.7 * np.mean(np.abs(v))
        return larq_tern(v, t)
    if name == "SteHeaviside":
        return (v > 0).astype(np.float64)
    return v            # quantizers only the refusal tests use


def same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return (total // 2, total - total // 2)


def init_weights(rng, weights, name, kernel_shape, bias_n):
    """Latent float32 weights in [-1, 1] (and a bias) for a layer that has none yet."""
    if name not in weights:
        weights[name] = {"kernel": rng.uniform(-1, 1, kernel_shape).astype(np.float32)}
        if bias_n:
            weights[name]["bias"] = rng.normal(0, 0.5, bias_n).astype(np.float32)
    return weights[name]


def calibrate_bn(rng, w, xi):
    """Batch-norm statistics from this batch (with noise), gamma (20 % negative) and beta
    drawn: the parameters of a trained network, roughly."""
    axes = tuple(range(xi.ndim - 1))
    n = xi.shape[-1]
    w["moving_mean"] = (xi.mean(axis=axes) + rng.normal(0, 0.1, n) *
                        xi.std(axis=axes)).astype(np.float32)
    w["moving_variance"] = (xi.var(axis=axes) * rng.uniform(0.5, 1.5, n) +
                            1e-3).astype(np.float32)
    w["gamma"] = (rng.uniform(0.5, 1.5, n) * rng.choice([-1, 1], n, p=[0.2, 0.8])).astype(
        np.float32)
    w["beta"] = rng.normal(0, 0.3, n).astype(np.float32)


def keras_forward(layers, weights, x, init=None):
    """The float64 output of a Keras layer list (topological order, Keras 2 config dicts) on
    x [N, H, W, C]. init: a numpy Generator: missing weights are drawn and every
    BatchNormalization's statistics are taken from this batch (calibrate_bn)."""
    vals = {}
    for L in layers:
        cls, c, name = L["class_name"], L["config"], L["name"]
        ins = [vals[n[0]] for n in L["inbound_nodes"][0]] if L["inbound_nodes"] else []
        if cls == "InputLayer":
            v = x
        elif cls in ("QuantConv2D", "Conv2D"):
            kh, kw = c["kernel_size"]
            if init is not None:
                init_weights(init, weights, name, (kh, kw, ins[0].shape[-1], c["filters"]),
                             c["filters"] if c["use_bias"] else 0)
            xi = keras_quantize(c.get("input_quantizer"), ins[0], "input")
            k = keras_quantize(c.get("kernel_quantizer"), weights[name]["kernel"].astype(
                np.float64), "kernel")
            s = c["strides"]
            pads = ((0, 0), (0, 0))
            if c["padding"] == "same":
                pads = (same_pads(xi.shape[1], kh, s[0]), same_pads(xi.shape[2], kw, s[1]))
            v = conv_nhwc(xi, k, s, pads, c.get("pad_values", 0.0))
            if c["use_bias"]:
                v = v + weights[name]["bias"]
        elif cls in ("QuantDense", "Dense"):
            if init is not None:
                init_weights(init, weights, name, (ins[0].shape[-1], c["units"]),
                             c["units"] if c["use_bias"] else 0)
            xi = keras_quantize(c.get("input_quantizer"), ins[0], "input")
            k = keras_quantize(c.get("kernel_quantizer"), weights[name]["kernel"].astype(
                np.float64), "kernel")
            v = xi @ k
            if c["use_bias"]:
                v = v + weights[name]["bias"]
        elif cls == "BatchNormalization":
            xi = ins[0]
            if init is not None:
                calibrate_bn(init, weights.setdefault(name, {}), xi)
            w = weights[name]
            g, b = w["gamma"].astype(np.float64), w["beta"].astype(np.float64)
            m, var = w["moving_mean"].astype(np.float64), w["moving_variance"].astype(np.float64)
            v = (xi - m) / np.sqrt(var + c["epsilon"]) * g + b
        elif cls in ("MaxPooling2D", "MaxPool2D"):
            v = pool_nhwc(ins[0], c["pool_size"], c["strides"], np.maximum)
        elif cls in ("AveragePooling2D",):
            k = c["pool_size"]
            v = pool_nhwc(ins[0], k, c["strides"], np.add) / (k[0] * k[1])
        elif cls == "GlobalAveragePooling2D":
            v = ins[0].mean(axis=(1, 2))
        elif cls == "Flatten":
            v = ins[0].reshape(ins[0].shape[0], -1)       # NHWC: (h, w, c) order
        elif cls == "Add":
            v = sum(ins)
        elif cls == "Concatenate":
            v = np.concatenate(ins, axis=-1)
        elif cls == "Rescaling":
            v = ins[0] * c["scale"] + c["offset"]
        elif cls in ("Dropout", "Activation"):
            v = ins[0]
            if c.get("activation") not in (None, "linear", "softmax"):
                v = keras_quantize(c["activation"], v, "activation")
        else:
            v = ins[0]          # layers only the refusal tests use
        vals[name] = v
    return vals[layers[-1]["name"]]


WEIGHT_ORDER = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance")


def functional_config(layers, name="model"):
    inputs = [L["name"] for L in layers if L["class_name"] == "InputLayer"]
    return {"class_name": "Functional",
            "config": {"name": name, "layers": layers, "input_layers": [[inputs[0], 0, 0]],
                       "output_layers": [[layers[-1]["name"], 0, 0]]},
            "keras_version": "2.13.1", "backend": "tensorflow"}


def sequential_config(layers, name="sequential"):
    seq = []
    for L in layers:
        seq.append({"class_name": L["class_name"], "config": L["config"]})
    return {"class_name": "Sequential", "config": {"name": name, "layers": seq},
            "keras_version": "2.13.1", "backend": "tensorflow"}


def write_keras_h5(path, config, layers, weights):
    """A Keras 2 model.save file: root model_config, model_weights/<layer>/<layer>/<w>:0."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = np.array([L["name"].encode("utf8") for L in layers])
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.13.1"
        for L in layers:
            lg = g.create_group(L["name"])
            w = weights.get(L["name"], {})
            names = [n for n in WEIGHT_ORDER if n in w]
            lg.attrs["weight_names"] = [f"{L['name']}/{n}:0".encode("utf8") for n in names]
            for n in names:
                lg.create_dataset(f"{L['name']}/{n}:0", data=w[n])


def keras3_config(layers):
    """Keras 3's config.json of a Functional model (inbound nodes as __keras_tensor__)."""
    out = []
    for L in layers:
        cfg = dict(L["config"])
        if L["class_name"] == "InputLayer":
            cfg["batch_shape"] = cfg.pop("batch_input_shape")
        for key in ("input_quantizer", "kernel_quantizer"):
            q = cfg.get(key)
            if isinstance(q, dict):
                cfg[key] = {"module": "larq.quantizers", "class_name": q["class_name"],
                            "config": q["config"], "registered_name": "larq>" + q["class_name"]}
        nodes = []
        if L["inbound_nodes"]:
            tensors = [{"class_name": "__keras_tensor__",
                        "config": {"shape": None, "dtype": "float32",
                                   "keras_history": [src[0], 0, 0]}}
                       for src in L["inbound_nodes"][0]]
            nodes = [{"args": [tensors] if len(tensors) > 1 else tensors, "kwargs": {}}]
        module = "larq.layers" if L["class_name"].startswith("Quant") else "keras.layers"
        out.append({"module": module, "class_name": L["class_name"], "config": cfg,
                    "registered_name": ("larq>" + L["class_name"]) if module == "larq.layers"
                    else None, "name": L["name"], "inbound_nodes": nodes})
    inputs = [L["name"] for L in layers if L["class_name"] == "InputLayer"]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "model", "trainable": True, "layers": out,
                       "input_layers": [[inputs[0], 0, 0]],
                       "output_layers": [[layers[-1]["name"], 0, 0]]},
            "registered_name": "Functional"}


def snake(cls):
    import re
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def write_keras3(path, layers, weights):
    """A Keras 3 .keras zip: config.json, metadata.json, model.weights.h5 with
    layers/<snake_case class>[_k]/vars/<i>."""
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        counts = {}
        for L in layers:
            s = snake(L["class_name"])
            k = counts.get(s)
            counts[s] = 0 if k is None else k + 1
            key = s if k is None else f"{s}_{k + 1}"
            g = f.create_group(f"layers/{key}/vars")
            w = weights.get(L["name"], {})
            for i, n in enumerate(n for n in WEIGHT_ORDER if n in w):
                g.create_dataset(str(i), data=w[n])
        f.create_group("optimizer/vars")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.3.3"}))
        zf.writestr("config.json", json.dumps(keras3_config(layers)))
        zf.writestr("model.weights.h5", buf.getvalue())


def larq_graph_model():
    """A Functional BNN: first conv on pixels/255, a residual add of two binary convs, a
    concat of two batch-norm outputs, magnitude-aware kernel scales, flatten + dense."""
    ste = STE_SIGN
    return [
        k_input("input_1", (28, 28, 1)),
        k_conv("conv1", "input_1", 16, 3, padding="same"),
        k_pool("MaxPooling2D", "pool1", "conv1"),
        k_bn("bn1", "pool1"),
        k_conv("conv2a", "bn1", 16, 3, padding="same", iq=ste, pad_values=1.0),
        k_conv("conv2b", "bn1", 16, 1, iq=ste),
        k_layer("Add", "add", ["conv2a", "conv2b"]),
        k_bn("bn2", "add"),
        k_layer("Concatenate", "cat", ["bn1", "bn2"], axis=-1),
        k_conv("conv3", "cat", 32, 3, iq=ste, kq=q_spec("MagnitudeAwareSign", clip_value=1.0)),
        k_pool("MaxPooling2D", "pool3", "conv3"),
        k_bn("bn3", "pool3"),
        k_layer("Activation", "act3", ["bn3"], activation=ste),
        k_layer("Flatten", "flatten", ["act3"], data_format="channels_last"),
        k_layer("Dropout", "dropout", ["flatten"], rate=0.2),
        k_dense("dense", "dropout", 10, iq=ste),
    ]


def larq_chain_model():
    """A Sequential BNN that is a version-1 chain (the shape of the shipped bnn_cnn)."""
    ste = STE_SIGN
    return [
        k_input("input_1", (28, 28, 1)),
        k_conv("conv1", "input_1", 16, 3, padding="same"),
        k_pool("MaxPool2D", "pool1", "conv1"),
        k_bn("bn1", "pool1"),
        k_conv("conv2", "bn1", 32, 3, iq="ste_sign", kq="ste_sign"),
        k_pool("MaxPool2D", "pool2", "conv2"),
        k_bn("bn2", "pool2"),
        k_layer("Flatten", "flatten", ["bn2"]),
        k_dense("dense", "flatten", 10, iq=ste),
        k_layer("Activation", "softmax", ["dense"], activation="softmax"),
    ]


def larq_tnn_model():
    """A ternary network: Rescaling(1/255), a biased first conv, Larq's SteTern with fixed
    and TWN thresholds, zero 'same' padding of a ternary input, average pooling, an
    ste_heaviside input ({0, 1}), global average pooling, a ternary dense input."""
    tern = q_spec("SteTern", threshold_value=0.4, ternary_weight_networks=False,
                  clip_value=1.0)
    return [
        k_input("input_1", (28, 28, 1)),
        k_layer("Rescaling", "rescale", ["input_1"], scale=1 / 255, offset=0.0),
        k_conv("conv1", "rescale", 8, 3, kq=q_spec("SteTern", threshold_value=0.3),
               use_bias=True),
        k_bn("bn1", "conv1"),
        k_conv("conv2", "bn1", 16, 3, padding="same", iq=tern,
               kq=q_spec("SteTern", ternary_weight_networks=True)),
        k_pool("AveragePooling2D", "avg", "conv2"),
        k_bn("bn2", "avg"),
        k_conv("conv3", "bn2", 16, 3, iq=q_spec("SteHeaviside", clip_value=1.0),
               kq=q_spec("SteTern", threshold_value=0.2)),
        k_layer("GlobalAveragePooling2D", "gap", ["conv3"], data_format="channels_last"),
        k_bn("bn3", "gap"),
        k_dense("dense", "bn3", 10, iq=tern),
    ]


class ConvertCase(fixtures.Scratch):
    @classmethod
    def setUpClass(cls):
        cls.x, cls.y, cls.xt = dataset()

    def convert(self, tool, *args, expect=0):
        r = run_tool(tool, *args)
        if r.returncode != expect:
            self.fail(f"{os.path.basename(tool)} {' '.join(args)}: exit {r.returncode}, "
                      f"expected {expect}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def refused(self, tool, out, *args, match=None):
        """Exit status 2, exactly one line on stderr (no traceback), no output file."""
        r = run_tool(tool, *args, "-o", out, "--images", "20")
        self.assertEqual(r.returncode, 2, f"stdout {r.stdout!r} stderr {r.stderr!r}")
        lines = r.stderr.strip().split("\n")
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        if match:
            self.assertIn(match, lines[0])
        folder = os.path.dirname(out)
        left = [p for p in os.listdir(folder) if p.startswith(os.path.basename(out))]
        self.assertEqual(left, [], "refusal left files behind")
        return lines[0]

    def check_against(self, out, ref_pred, min_equal=0.99, version=None):
        """The converted model's integer predictions vs the float reference's; the converter's
        stored count vs IntModel's."""
        model = cimgpu_model.IntModel(out)
        pred = model.predict(self.x)
        same = int(np.sum(pred == ref_pred))
        self.assertGreaterEqual(same, min_equal * len(pred),
                                f"{same}/{len(pred)} predictions equal")
        self.assertGreater(len(set(pred.tolist())), 1, "a constant network tests nothing")
        self.assertEqual(model.root["digital_test_correct"], int(np.sum(pred == self.y)))
        self.assertEqual(model.root["digital_test_images"], len(self.y))
        if version is not None:
            with h5py.File(out, "r") as f:
                self.assertEqual(int(f.attrs["format_version"]), version)
        return model, same

    def cimgpu_run(self, out):
        """cimgpu run on the converted model: its digital accuracy is IntModel's."""
        binary = cimgpu_binary()
        res = self.path(os.path.basename(out)[:-3] + "_run.h5")
        r = subprocess.run([binary, "run", "--model", out, "--trials", "4", "--images", "20",
                            "--out", res], capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        model = cimgpu_model.IntModel(out)
        correct = int(np.sum(model.predict(self.x[:20]) == self.y[:20]))
        with h5py.File(res, "r") as f:
            self.assertEqual(int(f["summary/digital_correct"][()]), correct)
            self.assertAlmostEqual(float(f["summary/digital_accuracy"][()]), correct / 20)


class LarqConvert(ConvertCase):
    def reference(self, layers, weights, scale):
        x = self.x.reshape(-1, 28, 28, 1).astype(np.float64) / scale
        return np.argmax(keras_forward(layers, weights, x), axis=1)

    def model(self, layers, seed, scale):
        """Random weights, batch-norm statistics from training images."""
        weights = {}
        keras_forward(layers, weights, self.xt.reshape(-1, 28, 28, 1).astype(np.float64) / scale,
                      init=np.random.default_rng(seed))
        return weights

    def test_functional_graph_h5_and_cimgpu_run(self):
        layers = larq_graph_model()
        weights = self.model(layers, 1, 255.0)
        src, out = self.path("m.h5"), self.path("out.h5")
        write_keras_h5(src, functional_config(layers), layers, weights)
        r = self.convert(LARQ, src, "-o", out, "--input-scale", "255", "--images",
                         str(N_IMAGES))
        self.assertIn("bnn model, format_version 2", r.stdout)
        self.assertIn("agreement with Keras/Larq: not checked", r.stdout)
        model, same = self.check_against(out, self.reference(layers, weights, 255.0),
                                         version=2)
        types = [L["type"] for L in model.layers]
        self.assertIn("add", types)
        self.assertIn("concat", types)
        self.assertEqual(model.kind, "bnn")
        self.cimgpu_run(out)

    def test_sequential_chain_h5_and_cimgpu_run(self):
        layers = larq_chain_model()
        weights = self.model(layers, 2, 255.0)
        src, out = self.path("seq.h5"), self.path("seq_out.h5")
        write_keras_h5(src, sequential_config(layers), layers, weights)
        self.convert(LARQ, src, "-o", out, "--input-scale", "255", "--images", str(N_IMAGES))
        model, _ = self.check_against(out, self.reference(layers, weights, 255.0), version=1)
        self.assertEqual([L["type"] for L in model.layers],
                         ["conv2d", "maxpool2d", "batchnorm_threshold", "sign", "conv2d",
                          "maxpool2d", "batchnorm_threshold", "sign", "flatten", "dense"])
        self.cimgpu_run(out)

    def test_ternary_keras3_archive(self):
        layers = larq_tnn_model()
        weights = self.model(layers, 3, 1.0)
        src, out = self.path("t.keras"), self.path("t_out.h5")
        write_keras3(src, layers, weights)
        r = self.convert(LARQ, src, "-o", out, "--images", str(N_IMAGES))
        self.assertIn("tnn model, format_version 2", r.stdout)
        model, _ = self.check_against(out, self.reference(layers, weights, 1.0), version=2)
        types = [L["type"] for L in model.layers]
        self.assertIn("sumpool2d", types)
        self.assertIn("global_sumpool", types)
        # the same network as a Keras 2 .h5 gives the same file content
        src2, out2 = self.path("t.h5"), self.path("t_out2.h5")
        write_keras_h5(src2, functional_config(layers), layers, weights)
        self.convert(LARQ, src2, "-o", out2, "--images", str(N_IMAGES), "--name", "t_out")
        m2 = cimgpu_model.IntModel(out2)
        np.testing.assert_array_equal(m2.predict(self.x), model.predict(self.x))

    def refuse(self, layers, match, weights=None, scale=255.0, **kw):
        weights = weights if weights is not None else self.model(layers, 4, scale)
        src, out = self.path("bad.h5"), self.path("bad_out.h5")
        write_keras_h5(src, functional_config(layers), layers, weights)
        return self.refused(LARQ, out, src, "--input-scale", str(scale), match=match, **kw)

    def test_refusals(self):
        base = larq_chain_model()[:-1]
        # float weights without a kernel quantizer
        layers = base[:-1] + [k_dense("dense_3", "flatten", 10, cls="Dense")]
        line = self.refuse(layers, 'layer "dense_3" (Dense): float weights without a kernel '
                                   'quantizer cannot be made exact')
        self.assertTrue(line.startswith("error: "), line)
        # a layer type the converter does not map
        layers = base[:3] + [k_layer("LayerNormalization", "ln", ["pool1"], axis=-1)] + \
            [dict(base[3], inbound_nodes=[[["ln", 0, 0, {}]]])] + base[4:]
        self.refuse(layers, 'layer "ln" (LayerNormalization): layer type not supported',
                    weights=self.model(base, 4, 255.0))
        # zero padding of a binary input in a bnn
        layers = [dict(L) for L in base]
        layers[4] = k_conv("conv2", "bn1", 32, 3, padding="same", iq=STE_SIGN)
        self.refuse(layers, "zero padding of a binary input is not representable in a bnn")
        # ... and exact as a tnn model (sign activations as ternary with an empty dead zone)
        weights = self.model(layers, 4, 255.0)
        src, out = self.path("zero.h5"), self.path("zero_tnn.h5")
        write_keras_h5(src, functional_config(layers), layers, weights)
        r = self.convert(LARQ, src, "-o", out, "--input-scale", "255", "--kind", "tnn",
                         "--images", str(N_IMAGES))
        self.assertIn("tnn model, format_version 1", r.stdout)
        self.check_against(out, self.reference(layers, weights, 255.0), version=1)
        # an even kernel with padding='same' pads asymmetrically
        layers[4] = k_conv("conv2", "bn1", 32, 2, padding="same", iq=STE_SIGN,
                           pad_values=1.0)
        self.refuse(layers, "pads 0 before and 1 after")
        # a batch-norm on the class scores
        layers = base + [k_bn("bn_out", "dense")]
        self.refuse(layers, "different or negative float scales")
        # a multi-level quantizer
        layers = [dict(L) for L in base]
        layers[4] = k_conv("conv2", "bn1", 32, 3, iq=q_spec("DoReFa", k_bit=2))
        self.refuse(layers, "multi-level quantizer")

    def test_unreadable_files(self):
        layers = larq_chain_model()
        weights = self.model(layers, 5, 255.0)
        src, out = self.path("ok.h5"), self.path("x_out.h5")
        write_keras_h5(src, sequential_config(layers), layers, weights)
        with open(src, "rb") as fh:
            blob = fh.read()
        cut = self.path("cut.h5")
        with open(cut, "wb") as fh:
            fh.write(blob[:len(blob) // 2])
        self.refused(LARQ, out, cut, match="cut.h5")
        bad = self.path("badjson.h5")
        with h5py.File(bad, "w") as f:
            f.attrs["model_config"] = b"{not json"
            f.create_group("model_weights")
        self.refused(LARQ, out, bad, match="not valid JSON")
        missing = self.path("missing.h5")
        write_keras_h5(missing, sequential_config(layers), layers,
                       {k: v for k, v in weights.items() if k != "conv2"})
        self.refused(LARQ, out, missing, match="no stored weight 'kernel'")
        shape = self.path("shape.h5")
        w2 = dict(weights, conv2={"kernel": weights["conv2"]["kernel"][:, :, :8, :]})
        write_keras_h5(shape, sequential_config(layers), layers, w2)
        self.refused(LARQ, out, shape, match="has shape [3, 3, 8, 32], [3, 3, 16, 32] "
                                             "expected")


# --------------------------------------------------------------------------------------
# PyTorch: descriptions, a numpy float64 reference of them (NCHW), torch modules
# --------------------------------------------------------------------------------------
TERN = {"ternary": 0.5}
TWN = {"ternary": "twn"}
BNN_DESC = {"input_shape": [1, 28, 28], "input_scale": 255, "num_classes": 10, "layers": [
    {"type": "conv2d", "weight": "conv0.weight", "padding": 1, "quantize": "sign"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "batchnorm", "prefix": "bn0", "activation": "sign", "name": "a0"},
    {"type": "conv2d", "weight": "conv1a.weight", "padding": 1, "pad_value": 1,
     "quantize": "sign", "name": "c1a"},
    {"type": "conv2d", "weight": "conv1b.weight", "padding": 1, "pad_value": 1,
     "quantize": "sign", "inputs": ["a0"]},
    {"type": "add", "inputs": ["c1a", 4]},
    {"type": "batchnorm", "prefix": "bn1", "activation": "sign"},
    {"type": "concat", "inputs": ["a0", 6]},
    {"type": "conv2d", "weight": "conv2.weight", "quantize": "sign", "scale": "mean_abs"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "batchnorm", "prefix": "bn2", "activation": "sign"},
    {"type": "flatten"},
    {"type": "linear", "weight": "fc.weight", "quantize": "sign"}]}
TNN_DESC = {"input_shape": [1, 28, 28], "input_scale": 255, "kind": "tnn", "layers": [
    {"type": "conv2d", "weight": "conv0.weight", "bias": "conv0.bias", "quantize": TWN},
    {"type": "batchnorm", "prefix": "bn0", "activation": TERN, "name": "a0"},
    {"type": "conv2d", "weight": "conv1.weight", "padding": 1, "quantize": TWN},
    {"type": "batchnorm", "prefix": "bn1", "activation": TERN},
    {"type": "add", "inputs": ["a0", 3], "scale": [2, 1]},
    {"type": "avgpool2d", "kernel": 2},
    {"type": "batchnorm", "prefix": "bn2", "activation": TERN},
    {"type": "conv2d", "weight": "conv2.weight", "quantize": TWN},
    {"type": "batchnorm", "prefix": "bn3", "activation": TERN},
    {"type": "adaptive_avgpool2d"},
    {"type": "flatten"},
    {"type": "linear", "weight": "fc.weight", "quantize": TWN}]}
CHAIN_DESC = {"input_shape": [1, 28, 28], "input_scale": 255, "layers": [
    {"type": "conv2d", "weight": "conv0.weight", "padding": 1, "quantize": TWN},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "batchnorm", "prefix": "bn0", "activation": TERN},
    {"type": "conv2d", "weight": "conv1.weight", "quantize": TWN, "scale": "twn"},
    {"type": "maxpool2d", "kernel": 2},
    {"type": "batchnorm", "prefix": "bn1", "activation": TERN},
    {"type": "flatten"},
    {"type": "dropout", "p": 0.1},
    {"type": "linear", "weight": "fc.weight", "quantize": TWN, "scale": 0.25}]}
SHAPES = {
    "bnn": {"conv0.weight": (16, 1, 3, 3), "conv1a.weight": (16, 16, 3, 3),
            "conv1b.weight": (16, 16, 3, 3), "conv2.weight": (32, 32, 3, 3),
            "fc.weight": (10, 1152), "bn0": 16, "bn1": 16, "bn2": 32},
    "tnn": {"conv0.weight": (8, 1, 3, 3), "conv0.bias": (8,), "conv1.weight": (8, 8, 3, 3),
            "conv2.weight": (16, 8, 3, 3), "fc.weight": (10, 16), "bn0": 8, "bn1": 8,
            "bn2": 8, "bn3": 16},
    "chain": {"conv0.weight": (16, 1, 3, 3), "conv1.weight": (32, 16, 3, 3),
              "fc.weight": (10, 1152), "bn0": 16, "bn1": 32},
}
DESCS = {"bnn": BNN_DESC, "tnn": TNN_DESC, "chain": CHAIN_DESC}


def np_conv(x, w, stride, pad, pad_value):
    """NCHW cross-correlation of x [N, C, H, W] with w [O, C, kh, kw]."""
    out = conv_nhwc(x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), stride,
                    ((pad[0], pad[0]), (pad[1], pad[1])), pad_value)
    return out.transpose(0, 3, 1, 2)


def np_pool(x, k, s, op):
    return pool_nhwc(x.transpose(0, 2, 3, 1), k, s, op).transpose(0, 3, 1, 2)


def np_weight(spec, w):
    if spec == "sign":
        return sign(w)
    d = spec["ternary"]
    d = 0.7 * np.mean(np.abs(w)) if d == "twn" else d
    return strict_tern(w, d)


def pair(v):
    return [v, v] if isinstance(v, int) else list(v)


def describe_forward(desc, sd, x, init=None):
    """The float64 output of a description on x [N, C, H, W]; init: a numpy Generator that
    sets each batch-norm's statistics from this batch (calibrate_bn)."""
    outs = {-1: x}
    names = {L["name"]: i for i, L in enumerate(desc["layers"]) if "name" in L}
    for i, L in enumerate(desc["layers"]):
        ins = [names.get(r, r) for r in L.get("inputs", [i - 1])]
        xs = [outs[j] for j in ins]
        v, t = xs[0], L["type"]
        if t in ("conv2d", "linear"):
            w = sd[L["weight"]].astype(np.float64)
            wq = np_weight(L["quantize"], w)
            if L.get("scale") == "mean_abs":
                wq = wq * np.mean(np.abs(w).reshape(len(w), -1), axis=1).reshape(
                    (-1,) + (1,) * (w.ndim - 1))
            elif L.get("scale") == "twn":
                d = 0.7 * np.mean(np.abs(w))
                wq = wq * np.mean(np.abs(w)[np.abs(w) > d])
            elif L.get("scale") is not None:
                wq = wq * L["scale"]
            if t == "linear":
                v = v @ wq.T
            else:
                v = np_conv(v, wq, pair(L.get("stride", 1)), pair(L.get("padding", 0)),
                            L.get("pad_value", 0))
            if L.get("bias"):
                v = v + sd[L["bias"]].reshape((1, -1) + (1,) * (v.ndim - 2))
        elif t == "batchnorm":
            p = L["prefix"]
            shp = (1, -1) + (1,) * (v.ndim - 2)
            if init is not None:
                w = {}
                calibrate_bn(init, w, v.transpose((0,) + tuple(range(2, v.ndim)) + (1,)))
                sd.update({f"{p}.running_mean": w["moving_mean"],
                           f"{p}.running_var": w["moving_variance"],
                           f"{p}.weight": w["gamma"], f"{p}.bias": w["beta"],
                           f"{p}.num_batches_tracked": np.array(100, np.int64)})
            g = sd[f"{p}.weight"].astype(np.float64).reshape(shp)
            b = sd[f"{p}.bias"].astype(np.float64).reshape(shp)
            m = sd[f"{p}.running_mean"].astype(np.float64).reshape(shp)
            var = sd[f"{p}.running_var"].astype(np.float64).reshape(shp)
            v = (v - m) / np.sqrt(var + L.get("eps", 1e-5)) * g + b
            act = L.get("activation")
            if act == "sign":
                v = sign(v)
            elif act:
                v = strict_tern(v, act["ternary"])
        elif t == "maxpool2d":
            v = np_pool(v, pair(L["kernel"]), pair(L.get("stride", L["kernel"])), np.maximum)
        elif t == "avgpool2d":
            k = pair(L["kernel"])
            v = np_pool(v, k, pair(L.get("stride", L["kernel"])), np.add) / (k[0] * k[1])
        elif t == "adaptive_avgpool2d":
            v = v.mean(axis=(2, 3), keepdims=True)
        elif t == "flatten":
            v = v.reshape(len(v), -1)
        elif t == "add":
            v = sum(k * x for k, x in zip(L.get("scale", [1] * len(xs)), xs))
        elif t == "concat":
            v = np.concatenate(xs, axis=1)
        outs[i] = v
    return outs[len(desc["layers"]) - 1]


def numpy_state_dict(which, xt, seed):
    """Random float32 weights of SHAPES[which], batch-norm statistics from xt."""
    rng = np.random.default_rng(seed)
    sd = {}
    for k, shape in SHAPES[which].items():
        if isinstance(shape, tuple):
            sd[k] = (rng.normal(0, 0.5, shape) if k.endswith("bias") else
                     rng.uniform(-1, 1, shape)).astype(np.float32)
    x = xt.reshape(-1, 1, 28, 28).astype(np.float64) / DESCS[which]["input_scale"]
    describe_forward(DESCS[which], sd, x, init=rng)
    return sd


MODEL_SRC = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


def sign(x):
    return torch.where(x >= 0, 1.0, -1.0)


def ternary(x, d=0.5):
    return (x > d).float() - (x < -d).float()


def twn(w):
    return ternary(w, 0.7 * w.abs().mean())


class BNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(16)
        self.conv1a = nn.Conv2d(16, 16, 3, bias=False)
        self.conv1b = nn.Conv2d(16, 16, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(32, 32, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(1152, 10, bias=False)

    def forward(self, x):
        z0 = F.conv2d(x, sign(self.conv0.weight), padding=1)
        a0 = sign(self.bn0(F.max_pool2d(z0, 2)))
        p = F.pad(a0, (1, 1, 1, 1), value=1.0)       # binary inputs padded with +1
        y = F.conv2d(p, sign(self.conv1a.weight)) + F.conv2d(p, sign(self.conv1b.weight))
        a1 = sign(self.bn1(y))
        w = self.conv2.weight
        alpha = w.abs().mean(dim=(1, 2, 3)).reshape(1, -1, 1, 1)    # XNOR-Net scales
        z2 = F.conv2d(torch.cat([a0, a1], 1), sign(w)) * alpha
        a2 = sign(self.bn2(F.max_pool2d(z2, 2)))
        return F.linear(torch.flatten(a2, 1), sign(self.fc.weight))


class TNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(1, 8, 3)
        self.bn0 = nn.BatchNorm2d(8)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, bias=False)
        self.bn3 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 10, bias=False)

    def forward(self, x):
        a0 = ternary(self.bn0(F.conv2d(x, twn(self.conv0.weight), self.conv0.bias)))
        a1 = ternary(self.bn1(F.conv2d(a0, twn(self.conv1.weight), padding=1)))
        a2 = ternary(self.bn2(F.avg_pool2d(2 * a0 + a1, 2)))      # a residual add
        a3 = ternary(self.bn3(F.conv2d(a2, twn(self.conv2.weight))))
        g = torch.flatten(F.adaptive_avg_pool2d(a3, 1), 1)
        return F.linear(g, twn(self.fc.weight))
'''


def torch_model(which, xt, seed):
    """The torch module `which` of MODEL_SRC with random weights, its batch-norm statistics
    from xt, gamma (20 % negative) and beta drawn."""
    ns = {}
    exec(compile(MODEL_SRC, "model_src", "exec"), ns)
    torch.manual_seed(seed)
    net = ns[which.upper()]()
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None           # the cumulative average of the batch
            n = m.num_features
            with torch.no_grad():
                m.weight.copy_((torch.rand(n, generator=gen) + 0.5) *
                               torch.where(torch.rand(n, generator=gen) < 0.2, -1.0, 1.0))
                m.bias.copy_(torch.randn(n, generator=gen) * 0.3)
    x = torch.from_numpy(xt.reshape(-1, 1, 28, 28).astype(np.float32)) / 255.0
    net.train()
    with torch.no_grad():
        net(x)
    net.eval()
    return net


class TorchConvert(ConvertCase):
    def write_desc(self, desc, name="net.json"):
        path = self.path(name)
        with open(path, "w") as fh:
            json.dump(desc, fh)
        return path

    def npz(self, sd, name="m.npz"):
        path = self.path(name)
        np.savez(path, **sd)
        return path

    def numpy_case(self, which, seed):
        sd = numpy_state_dict(which, self.xt, seed)
        src, desc = self.npz(sd), self.write_desc(DESCS[which])
        out = self.path(f"{which}.h5")
        r = self.convert(TORCH, src, desc, "-o", out, "--images", str(N_IMAGES))
        x = self.x.reshape(-1, 1, 28, 28).astype(np.float64) / 255.0
        ref = np.argmax(describe_forward(DESCS[which], sd, x).reshape(len(x), -1), axis=1)
        return r, out, ref

    def test_npz_bnn_graph(self):
        r, out, ref = self.numpy_case("bnn", 11)
        self.assertIn("bnn model, format_version 2", r.stdout)
        model, _ = self.check_against(out, ref, version=2)
        self.assertEqual(model.kind, "bnn")

    def test_npz_tnn_graph_and_cimgpu_run(self):
        r, out, ref = self.numpy_case("tnn", 12)
        self.assertIn("tnn model, format_version 2", r.stdout)
        self.check_against(out, ref, version=2)
        self.cimgpu_run(out)

    def test_npz_chain_and_cimgpu_run(self):
        r, out, ref = self.numpy_case("chain", 13)
        self.assertIn("tnn model, format_version 1", r.stdout)
        self.check_against(out, ref, version=1)
        self.cimgpu_run(out)

    @unittest.skipIf(torch is None, "torch cannot be imported")
    def test_torch_modules(self):
        src_py = self.path("nets.py")
        with open(src_py, "w") as fh:
            fh.write(MODEL_SRC)
        for which, seed in (("bnn", 21), ("tnn", 22)):
            net = torch_model(which, self.xt, seed)
            pt, desc = self.path(f"{which}.pt"), self.write_desc(DESCS[which])
            torch.save(net.state_dict(), pt)
            out = self.path(f"{which}_torch.h5")
            r = self.convert(TORCH, pt, desc, "-o", out, "--images", str(N_IMAGES),
                             "--module", src_py, "--class", which.upper())
            self.assertRegex(r.stdout, rf"agreement with PyTorch \({which.upper()} of "
                                       rf"nets.py\): \d+/{N_IMAGES} predictions equal")
            with torch.no_grad():
                x = torch.from_numpy(self.x.reshape(-1, 1, 28, 28).astype(np.float32)) / 255.0
                theirs = net(x).argmax(dim=1).numpy()
            self.check_against(out, theirs, version=2)
            self.cimgpu_run(out)
            # the description run in torch gives its own agreement line
            r = self.convert(TORCH, pt, desc, "-o", self.path("again.h5"), "--images", "100")
            self.assertRegex(r.stdout, r"agreement with PyTorch \(the description in "
                                       r"float32\): \d+/100 predictions equal")

    def test_refusals(self):
        sd = numpy_state_dict("chain", self.xt, 14)
        src = self.npz(sd)
        out = self.path("bad_out.h5")

        def desc_with(**change):
            d = json.loads(json.dumps(CHAIN_DESC))
            for i, layer in change.items():
                d["layers"][int(i[1:])] = layer
            return self.write_desc(d, "bad.json")

        self.refused(TORCH, out, src, desc_with(l4={"type": "relu"}),
                     match="type 'relu' is not supported")
        self.refused(TORCH, out, src, desc_with(l3={"type": "conv2d", "weight": "conv1.weight"}),
                     match='layer 3 (conv2d): float weights without a quantizer')
        self.refused(TORCH, out, src, desc_with(l3={"type": "conv2d", "weight": "nope.weight",
                                                    "quantize": "sign"}),
                     match="the state_dict has no key 'nope.weight'")
        self.refused(TORCH, out, src, desc_with(l8={"type": "linear", "weight": "conv1.weight",
                                                    "quantize": "sign"}),
                     match="'conv1.weight' has shape [32, 16, 3, 3], 2 dimensions expected")
        self.refused(TORCH, out, src, desc_with(l3={"type": "conv2d", "weight": "conv0.weight",
                                                    "quantize": "sign"}),
                     match="the input has 16 channels")
        self.refused(TORCH, out, src, desc_with(l3={"type": "conv2d", "weight": "conv1.weight",
                                                    "quantize": "sign", "strides": 2}),
                     match="unknown key 'strides'")
        bad = self.path("broken.json")
        with open(bad, "w") as fh:
            fh.write('{"input_shape": [1, 28, 28],\n "layers": [}')
        self.refused(TORCH, out, src, bad, match="not valid JSON: line 2 column")
        # zero padding of binary activations in a bnn
        d = json.loads(json.dumps(BNN_DESC))
        d["layers"][3]["pad_value"] = 0
        self.refused(TORCH, out, self.npz(numpy_state_dict("bnn", self.xt, 15), "b.npz"),
                     self.write_desc(d, "zero.json"),
                     match="zero padding of a binary input is not representable")

    def test_unreadable_state_dicts(self):
        desc = self.write_desc(CHAIN_DESC)
        out = self.path("x_out.h5")
        # a pickle that would run a command: refused at the global, nothing runs
        flag = self.path("ran")

        class Evil:
            def __reduce__(self):
                return (os.system, (f"touch {flag}",))
        evil = self.path("evil.pt")
        with zipfile.ZipFile(evil, "w") as zf:
            zf.writestr("archive/data.pkl", pickle.dumps({"w": Evil()}, protocol=2))
            zf.writestr("archive/version", "3\n")
        line = self.refused(TORCH, out, evil, desc, match="system, which a state_dict does "
                                                          "not need: refused")
        self.assertFalse(os.path.exists(flag), line)
        # truncated
        sd = numpy_state_dict("chain", self.xt, 16)
        good = self.path("good.npz")
        np.savez(good, **sd)
        with open(good, "rb") as fh:
            blob = fh.read()
        cut = self.path("cut.pt")
        with open(cut, "wb") as fh:
            fh.write(blob[:len(blob) // 3])
        self.refused(TORCH, out, cut, desc, match="cut.pt: not a torch.save zip file")
        legacy = self.path("legacy.pt")
        with open(legacy, "wb") as fh:
            fh.write(pickle.dumps({"a": 1}, protocol=2))
        self.refused(TORCH, out, legacy, desc, match="legacy")
        self.refused(TORCH, out, self.path("absent.pt"), desc, match="no such file")

    @unittest.skipIf(torch is None, "torch cannot be imported")
    def test_torch_save_formats(self):
        """The reader against torch.load: dtypes, views of one storage, non-contiguous
        tensors, a checkpoint dict."""
        import convert_torch
        t = torch.arange(24, dtype=torch.float32).reshape(4, 6)
        obj = {"state_dict": {"a": t, "view": t[1:3, ::2], "tr": t.t(),
                              "h": t.half(), "bf": t.bfloat16(), "i": t.long(),
                              "b": t > 5, "s": torch.tensor(3.5)}, "epoch": 7}
        path = self.path("formats.pt")
        torch.save(obj, path)
        sd = convert_torch.read_state_dict(path)
        for k, v in obj["state_dict"].items():
            np.testing.assert_array_equal(sd[k].astype(np.float64),
                                          v.float().numpy().astype(np.float64), k)
